#pragma once
// cbes-consul: the Java connector's `cbes-consul` group administration commands (every one but
// `run`), plus `status` (and its live web page, `status --serve`: dashboard.hpp). The command line
// is parsed into a `command_line`; each subcommand is a coroutine over a consul::client that prints
// what the Java tool prints and returns the exit code (0 done, 1 failure, 2 usage error).
//
//   auto parsed = cbes::consul_cli::parse_command_line(argc, argv, std::cout, std::cerr);
//   if (!parsed.command) return parsed.exit_code;           // --help, --version, usage error
//   consul::client c(io.get_executor(), client_options_for(*parsed.command, token));
//   int code = co_await cbes::consul_cli::run_command(c, *parsed.command, std::cout, std::cerr);
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>

namespace consul {
class client;
}

namespace cbes::consul_cli {

// Where `status --serve` listens: `--serve=PORT` or `--serve=HOST:PORT` (`[v6]:PORT`).
struct serve_address {
  std::string host = "127.0.0.1";  // an IP literal
  std::uint16_t port = 0;          // 0 = an ephemeral port
  bool operator==(const serve_address&) const = default;
};

struct command_line {
  std::string command;                   // "configure", "get-config", "groups", "pause", ...
  std::string agent = "localhost:8500";  // host[:port], scheme removed (see agent_https)
  bool agent_https = false;              // --consul-agent=https://...
  std::optional<std::string> consul_config;
  std::string group;
  std::string input;
  std::string output;
  bool json = false;
  // status --serve: the group dashboard instead of one report (dashboard.hpp). A reading of
  // the group serves every page for serve_max_age (each page polls once a second); the hidden
  // --serve-max-age changes it (0s: a reading per request, for tests).
  std::optional<serve_address> serve;
  std::chrono::milliseconds serve_max_age{1000};
  // The Java connector's pause: asks the workers every 2 s whether they stopped, for 30 s.
  // Hidden options change them (tests).
  std::chrono::milliseconds pause_timeout{30000};
  std::chrono::milliseconds pause_interval{2000};
  // Per-worker answer time of `status` (the Java RPC client's 15 s).
  std::chrono::milliseconds rpc_timeout{15000};
  // run: --service-id (empty = the group name), --debounce, --grace-period, and the hidden
  // --heartbeat-interval and --lock-delay (Java's fixed 15 s each).
  std::string service_id;
  std::chrono::milliseconds debounce{5000};
  std::chrono::milliseconds grace{0};
  std::chrono::milliseconds heartbeat{15000};
  std::chrono::milliseconds lock_delay{15000};
};

struct parse_outcome {
  std::optional<command_line> command;  // empty: exit with exit_code now
  int exit_code = 0;
};

// Prints help and version on `out`, one line per usage error on `err` (exit code 2).
parse_outcome parse_command_line(int argc, const char* const* argv, std::ostream& out,
                                 std::ostream& err);

// The subcommands, in the order the help lists them.
const std::vector<std::string>& subcommands();

// Runs one parsed command; returns the exit code.
boost::asio::awaitable<int> run_command(consul::client& consul, const command_line& command,
                                        std::ostream& out, std::ostream& err);

// ---- status (pure parts) ----

// What one worker answered to worker.status (the Java shape, plus what cbes workers add).
struct worker_status {
  std::string endpoint;
  std::optional<std::string> error;  // the call failed: why
  bool member = false;               // membership was an object (not null)
  std::int64_t member_number = 0;
  std::int64_t cluster_size = 0;
  std::optional<std::int64_t> generation;
  std::optional<std::vector<std::uint16_t>> vbuckets;  // sorted, each once
  std::optional<bool> paused;
  std::optional<std::int64_t> backlog;  // DCP events not yet in Elasticsearch
  std::optional<std::int64_t> written;  // documents Elasticsearch acknowledged (a counter)
};

struct group_status {
  std::string group;
  std::optional<std::string> leader;  // the leader key's value; empty = no leader
  bool paused = false;
  std::vector<worker_status> workers;  // by endpoint id
};

// Reads a worker.status result (JSON text); fields of the wrong type are ignored, a result
// that is not an object is an error.
//   auto w = parse_worker_status("n::a::g", R"({"membership":null})");
worker_status parse_worker_status(std::string endpoint, const std::string& result_json);

// The `--serve` value: "8080", "0", "127.0.0.1:8080", "[::1]:8080", "localhost:8080" (taken as
// 127.0.0.1); nullopt for anything else (a host name, a port past 65535, an empty part).
//   parse_serve_address("0.0.0.0:8080") == serve_address{"0.0.0.0", 8080}
std::optional<serve_address> parse_serve_address(std::string_view text);

// The `--consul-agent` value: "host", "host:port", "[v6]:port", each optionally after
// "http://" or "https://"; nullopt for anything else (a path, an unclosed bracket, a port past
// 65535, spaces).
//   parse_agent_address("https://consul.local:8501") == agent_address{"consul.local:8501", true}
struct agent_address {
  std::string host_port;
  bool https = false;
  bool operator==(const agent_address&) const = default;
};
std::optional<agent_address> parse_agent_address(std::string_view text);

// What `status` reads: the group's status, or why it could not be read (one line, the
// `ERROR:` message without its prefix).
struct status_reading {
  std::optional<group_status> status;
  std::string error;
};

// Reads the leader key and control document and asks every worker worker.status, as `status`
// does; errors are values (the dashboard keeps serving through them).
boost::asio::awaitable<status_reading> read_group_status(consul::client& consul,
                                                         const command_line& command);

// The human-readable report (several lines, each ending in '\n').
std::string status_text(const group_status& status);
// One JSON object on one line (shape in the README's cbes-consul section).
std::string status_json(const group_status& status);

}  // namespace cbes::consul_cli
