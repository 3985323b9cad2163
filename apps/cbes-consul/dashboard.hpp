#pragma once
// `cbes-consul status --group=<g> --serve=[HOST:]PORT`: the group dashboard, a web page that
// shows the group at a glance and updates itself every second.
//
//   GET /             the page (HTML, CSS and JavaScript in one document, no external assets)
//   GET /status.json  what `status --json` prints, read afresh (at most once a second, however
//                     many pages poll); 502 {"error":"…"} while Consul cannot be read. Header
//                     X-Read-At: when that reading was taken (Unix ms), so that the page
//                     computes rates over the readings' real interval and skips a repeated one
//   other paths 404, other methods than GET/HEAD 405
//
// It prints "ready: dashboard http://<host>:<port>/" once it listens and serves until SIGINT or
// SIGTERM (exit 0); a port that cannot be taken is one `ERROR:` line and exit 1.
//
//   co_return co_await serve_dashboard(consul, command, std::cout, std::cerr);
#include <chrono>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "commands.hpp"

namespace consul {
class client;
}

namespace cbes::consul_cli {

// The page the dashboard serves at `/` (dashboard_page.cpp).
std::string_view dashboard_page();

// What /status.json answers for one reading.
struct status_answer {
  unsigned http_status = 200;                       // 200, or 502 when Consul could not be read
  std::string body;                                 // status_json(), or {"error":"<why>"}
  std::chrono::system_clock::time_point read_at{};  // set by status_cache
  bool operator==(const status_answer&) const = default;
};
status_answer answer_for(const status_reading& reading);

// One reading shared by every request within `max_age` of it: each open page polls every second,
// and each reading costs Consul reads and a worker.status broadcast to every worker. A request
// that arrives while a reading is in flight waits for that one rather than starting another.
// Use from one thread (the executor's).
//
//   status_cache cache(ex, [&] { return read_group_status(consul, command); });
//   auto a = co_await cache.get();   // a.http_status, a.body
class status_cache {
 public:
  using reader = std::function<boost::asio::awaitable<status_reading>()>;
  status_cache(boost::asio::any_io_executor ex, reader read, std::chrono::milliseconds max_age);

  boost::asio::awaitable<status_answer> get();

 private:
  reader read_;
  std::chrono::milliseconds max_age_;
  std::optional<status_answer> last_;
  std::chrono::steady_clock::time_point read_at_;
  bool reading_ = false;
  // Never expires; cancelled when a reading ends, which wakes the requests waiting for it.
  boost::asio::steady_timer reading_done_;
};

// Serves the dashboard for command.group at *command.serve until SIGINT/SIGTERM; returns the
// exit code. The ready line goes to `out`, failures to `err`.
boost::asio::awaitable<int> serve_dashboard(consul::client& consul, const command_line& command,
                                            std::ostream& out, std::ostream& err);

}  // namespace cbes::consul_cli
