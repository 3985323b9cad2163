#include "dashboard.hpp"

#include <csignal>
#include <memory>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include "cbes/metrics/http_server.hpp"

namespace cbes::consul_cli {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// "127.0.0.1:8080", "[::1]:8080": the host as a URL writes it.
std::string url_authority(const std::string& host, std::uint16_t port) {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

asio::awaitable<metrics::route_reply> status_route(std::shared_ptr<status_cache> cache) {
  auto answer = co_await cache->get();
  metrics::route_reply reply;
  reply.status = answer.http_status;
  reply.content_type = "application/json";
  reply.body = std::move(answer.body);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(answer.read_at.time_since_epoch());
  reply.headers.emplace_back("X-Read-At", std::to_string(ms.count()));
  co_return reply;
}

}  // namespace

status_answer answer_for(const status_reading& reading) {
  if (reading.status)
    return {200, status_json(*reading.status)};
  // 502: the dashboard works, the Consul agent behind it did not answer as it should.
  json::object o;
  o["error"] = reading.error;
  return {502, json::serialize(o)};
}

status_cache::status_cache(asio::any_io_executor ex, reader read, std::chrono::milliseconds max_age)
    : read_(std::move(read)),
      max_age_(max_age),
      reading_done_(std::move(ex), asio::steady_timer::time_point::max()) {}

asio::awaitable<status_answer> status_cache::get() {
  // A request that waited for a reading takes it, however short max_age is.
  bool waited = false;
  for (;;) {
    if (last_ && (waited || std::chrono::steady_clock::now() - read_at_ < max_age_))
      co_return *last_;
    if (!reading_)
      break;
    auto [ec] = co_await reading_done_.async_wait(use_tuple);
    (void)ec;  // cancelled: the reading in flight ended
    waited = true;
  }
  reading_ = true;
  // Whatever happens to this reading, the requests waiting for it must not wait forever.
  struct finish {
    status_cache& c;
    ~finish() {
      c.reading_ = false;
      c.reading_done_.cancel();
    }
  } on_exit{*this};
  const auto started = std::chrono::system_clock::now();
  auto reading = co_await read_();
  auto answer = answer_for(reading);
  // The workers answered between the start and the end: the middle is the best guess.
  answer.read_at = started + (std::chrono::system_clock::now() - started) / 2;
  last_ = answer;
  read_at_ = std::chrono::steady_clock::now();
  co_return answer;
}

asio::awaitable<int> serve_dashboard(consul::client& consul, const command_line& command,
                                     std::ostream& out, std::ostream& err) {
  auto ex = co_await asio::this_coro::executor;
  const serve_address at = command.serve.value_or(serve_address{});
  metrics::server_settings settings;
  settings.address = at.host;
  settings.port = at.port;
  settings.builtin_routes = false;  // the page and its data, not the metrics routes
  auto server = metrics::http_server::start(ex, settings, metrics::server_sources{});
  if (!server) {
    err << "ERROR: Cannot serve the dashboard on " << url_authority(at.host, at.port) << " ; "
        << server.error().code.message()
        << " (choose another --serve port, or 0 for any free one)\n";
    co_return 1;
  }
  // Shared with the route, which a request in flight may still hold after this returns.
  auto cache = std::make_shared<status_cache>(
      ex, [&consul, &command] { return read_group_status(consul, command); },
      command.serve_max_age);
  (*server)->add_route("/", [](const metrics::route_request&) {
    metrics::route_reply page;
    page.content_type = "text/html; charset=utf-8";
    page.body = std::string(dashboard_page());
    return page;
  });
  (*server)->add_async_route("/status.json",
                             [cache](metrics::route_request) { return status_route(cache); });

  // Caught before the ready line, so that a signal sent as soon as it shows ends this cleanly.
  asio::signal_set signals(ex, SIGINT, SIGTERM);
  out << "ready: dashboard http://" << url_authority(at.host, (*server)->port()) << "/"
      << std::endl;
  auto [ec, signal] = co_await signals.async_wait(use_tuple);
  (void)ec;
  (void)signal;
  (*server)->stop();
  co_return 0;
}

}  // namespace cbes::consul_cli
