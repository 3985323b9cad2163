#pragma once
// Runs tshark on a pcap file for the Wireshark checks. tshark is the only decoder independent of
// our codec, so a test that needs it starts with require_tshark(): without tshark it fails, or
// is skipped when CBES_ALLOW_SKIP=tshark (scripts/install-deps.sh installs tshark).
#include <unistd.h>
#include <array>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <set>
#include <sstream>
#include <string>

#include "support/require_tool.hpp"

namespace wireshark_it {

inline void require_tshark() {
  cbes::test::require_program("tshark");
}

// Output of `tshark <args> <pipe>`, stderr included (tshark exits 0 even for an invalid display
// filter, so its complaint must show up in what the test checks) except the notice about
// running as root.
inline std::string tshark(const std::string& args, const std::string& pipe = {}) {
  const std::string cmd =
      "tshark " + args + " 2>&1 | grep -v '^Running as user .* This could be dangerous.$'" + pipe;
  std::string out;
  if (std::FILE* p = ::popen(cmd.c_str(), "r")) {
    std::array<char, 4096> buf{};
    std::size_t n = 0;
    while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0)
      out.append(buf.data(), n);
    ::pclose(p);
  }
  return out;
}

inline std::size_t count_lines(const std::string& s) {
  std::size_t n = 0;
  for (char c : s)
    n += c == '\n';
  return n;
}

// A fresh pcap path under the build tree, unique per process and call.
inline std::string pcap_path(const std::string& name) {
  static std::atomic<int> counter{0};
  const auto dir = std::filesystem::path(CBES_BINARY_DIR) / "tmp" / "wireshark";
  std::filesystem::create_directories(dir);
  return (dir /
          (name + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + ".pcap"))
      .string();
}

// tshark display filter for anything it could not dissect or flags as an error; field names as
// in Wireshark 4.0 (`tshark -G fields`): expert severity 8388608 is "Error".
inline constexpr const char* problems_filter = "_ws.malformed || _ws.expert.severity >= 8388608";

// The mcbp opcodes tshark decoded in a capture (`decode`: extra tshark arguments such as
// " -d tcp.port==11210,couchbase").
inline std::set<std::string> decoded_opcodes(const std::string& path, const std::string& decode) {
  std::set<std::string> out;
  std::istringstream lines(
      tshark("-n -r " + path + decode + " -Y couchbase -T fields -e couchbase.opcode"));
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string op;
    while (std::getline(fields, op, ','))  // several PDUs in one segment
      out.insert(op);
  }
  return out;
}

}  // namespace wireshark_it
