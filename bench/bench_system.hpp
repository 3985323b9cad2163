#pragma once
// What the whole-system benchmarks share: reading another process's CPU time and peak memory
// from /proc, a plain HTTP GET to the sandbox's control API, and the connector config they run.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>

namespace cbes::bench {

// user + system CPU seconds of process `pid` so far (/proc/<pid>/stat fields 14 and 15).
inline double process_cpu_seconds(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
  auto close = s.rfind(')');
  if (close == std::string::npos)
    return 0;
  std::istringstream rest(s.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14)
      utime = std::stoull(field);
    if (i == 15)
      stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// A "VmHWM:" (peak resident set) or "VmRSS:" line of /proc/<pid>/status, in MiB.
inline double process_memory_mib(int pid, const std::string& field = "VmHWM:") {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(field, 0) == 0)
      return std::stod(line.substr(field.size())) / 1024.0;  // kB
  return 0;
}

// The port of a "http://127.0.0.1:<port>" or "couchbase://127.0.0.1:<port>" URL.
inline int url_port(const std::string& url) {
  std::smatch m;
  if (!std::regex_search(url, m, std::regex(":([0-9]+)/?$")))
    throw std::runtime_error("no port in '" + url + "'");
  return std::stoi(m[1]);
}

// GET http://127.0.0.1:<port><path>; the body (the control API answers with Content-Length and
// closes with `Connection: close`). Throws on a connection failure or a non-200 answer.
inline std::string http_get(int port, const std::string& path) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    throw std::runtime_error("cannot connect to 127.0.0.1:" + std::to_string(port));
  }
  const std::string req =
      "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  ::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  std::string out;
  char buf[8192];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;)
    out.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  if (out.rfind("HTTP/1.1 200", 0) != 0)
    throw std::runtime_error("GET " + path + ": " + out.substr(0, out.find('\r')));
  auto body = out.find("\r\n\r\n");
  return body == std::string::npos ? "" : out.substr(body + 4);
}

// The connector's config for the benchmarks: the defaults (bulk limits, doc structure, DCP
// buffer), one type rule sending everything to index `bench`, no metrics port, no summary log.
//   write_connector_config(dir, "127.0.0.1:11210", "http://127.0.0.1:9200", "[group.static]...");
inline std::filesystem::path write_connector_config(const std::filesystem::path& dir,
                                                    const std::string& kv_host,
                                                    const std::string& es_url,
                                                    const std::string& extra = "") {
  std::filesystem::create_directories(dir / "secrets");
  std::ofstream(dir / "secrets" / "couchbase-password.toml") << "password = 'password'\n";
  std::ofstream(dir / "secrets" / "elasticsearch-password.toml") << "password = ''\n";
  const auto path = dir / "connector.toml";
  std::ofstream f(path);
  f << "[group]\nname = 'bench'\n[group.static]\nmemberNumber = 1\ntotalMembers = 1\n"
    << "[metrics]\nhttpPort = -1\nlogInterval = '0'\n"
    << "[couchbase]\nhosts = ['" << kv_host << "=kv']\nbucket = 'default'\n"
    << "username = 'Administrator'\npathToPassword = '" << (dir / "secrets").string()
    << "/couchbase-password.toml'\n"
    << "[elasticsearch]\nhosts = ['" << es_url << "']\npathToPassword = '"
    << (dir / "secrets").string() << "/elasticsearch-password.toml'\n"
    << "[[elasticsearch.type]]\nprefix = ''\nindex = 'bench'\n"
    << extra;
  return path;
}

}  // namespace cbes::bench
