// cbes: one connector worker of a static group — replicates a Couchbase bucket (the vbuckets of
// `[group.static]` member n of m) into Elasticsearch, resuming from the group's checkpoints.
//
//   cbes --config config/default-connector.toml
//
// Exit codes: 0 after SIGINT/SIGTERM (streams closed, writes in flight finished or bounded,
// checkpoints saved); 1 on a failure (config, credentials, unreachable servers, a fatal DCP or
// Elasticsearch error — one line on stderr); 2 on a usage error.
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/program_options.hpp>

#include "app_log.hpp"
#include "cbes/config/connector_config.hpp"
#include "cbes/connector/from_config.hpp"
#include "cbes/connector/worker.hpp"
#include "cbes/metrics/connector_metrics.hpp"
#include "cbes/metrics/http_server.hpp"
#include "cbes/metrics/log_summary.hpp"
#include "cbes/metrics/registry.hpp"
#include "cbes/version.hpp"
#include "tool_options.hpp"

namespace asio = boost::asio;
namespace fs = std::filesystem;
using cbes::app::level;
using cbes::app::log;

namespace {

// The one-line summary every `[metrics] logInterval` (logger cbes.metrics, like Java's).
asio::awaitable<void> periodic_summary(const cbes::metrics::connector_metrics* meters,
                                       std::chrono::milliseconds every,
                                       std::shared_ptr<bool> stop) {
  cbes::metrics::log_summary summary(*meters);
  asio::steady_timer t(co_await asio::this_coro::executor);
  while (!*stop) {
    t.expires_after(every);
    boost::system::error_code ec;
    co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (*stop)
      break;
    log(level::info, "cbes.metrics", summary.line());
  }
}

struct run_result {
  int exit_code = 0;
};

asio::awaitable<void> run(asio::io_context& io, cbes::config::connector_config cfg,
                          run_result& out) {
  auto ex = co_await asio::this_coro::executor;
  cbes::metrics::registry registry;
  cbes::metrics::connector_metrics meters(registry);

  auto options = cbes::connector::worker_options_from(cfg);
  options.log = [](std::string_view lv, std::string_view line) {
    log(cbes::app::parse_level(lv), "cbes", line);
  };
  options.metrics = &meters;

  std::shared_ptr<cbes::connector::worker> worker;
  std::unique_ptr<cbes::metrics::http_server> server;
  const std::string membership = std::to_string(cfg.group.membership.member_number) + "/" +
                                 std::to_string(cfg.group.membership.total_members);
  if (cfg.metrics.http_port >= 0) {
    cbes::metrics::server_sources src;
    src.meters = &registry;
    src.membership = [membership] { return membership; };
    src.ready = [&worker]() -> std::optional<std::string> {
      if (!worker || !worker->ready())
        return std::string("not connected to Couchbase and Elasticsearch yet");
      return std::nullopt;
    };
    cbes::metrics::server_settings ss;
    ss.port = static_cast<std::uint16_t>(cfg.metrics.http_port);
    auto s = cbes::metrics::http_server::start(ex, ss, src);
    if (!s) {
      log(level::error, "cbes",
          "cannot serve metrics on port " + std::to_string(cfg.metrics.http_port) + ": " +
              s.error().what() + " — choose another [metrics] httpPort (-1 turns it off)");
      out.exit_code = 1;
      co_return;
    }
    server = std::move(*s);
    // A line tools and tests can wait for, on stdout.
    std::cout << "metrics: http://127.0.0.1:" << server->port() << "/metrics" << std::endl;
  }

  // SIGINT / SIGTERM: a graceful stop, even while still connecting.
  asio::signal_set signals(ex, SIGINT, SIGTERM);
  bool interrupted = false;
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec)
      return;
    interrupted = true;
    log(level::info, "cbes",
        std::string("received ") + (sig == SIGINT ? "SIGINT" : "SIGTERM") +
            ": stopping (saving checkpoints)");
    if (worker)
      worker->stop();
    else
      io.stop();  // nothing to save yet
  });

  auto started = co_await cbes::connector::worker::start(ex, options);
  if (!started) {
    log(level::error, "cbes", started.error().what());
    std::cerr << "cbes: " << started.error().what() << '\n';
    out.exit_code = 1;
    signals.cancel();
    co_return;
  }
  worker = *started;
  // The Java connector's common tags, known only now.
  cbes::metrics::tags common{{"bucket", cfg.couchbase.bucket}};
  if (!worker->cluster_uuid().empty())
    common.emplace_back("clusterUuid", worker->cluster_uuid());
  registry.set_common_tags(std::move(common));
  if (interrupted)
    worker->stop();
  log(level::info, "cbes", "Elasticsearch connector startup complete.");
  std::cout << "ready: streaming " << worker->vbuckets().size() << " of "
            << worker->bucket_vbuckets() << " vbuckets as member " << membership << std::endl;

  // The periodic summary line (`[metrics] logInterval`).
  std::shared_ptr<bool> done = std::make_shared<bool>(false);
  if (cfg.metrics.log_interval.count() > 0) {
    asio::co_spawn(ex, periodic_summary(&meters, cfg.metrics.log_interval, done), asio::detached);
  }

  auto end = co_await worker->wait();
  *done = true;
  signals.cancel();
  if (server)
    server->stop();
  if (!end) {
    std::cerr << "cbes: " << end.error().what() << '\n';
    out.exit_code = 1;
  } else {
    log(level::info, "cbes", "stopped");
  }
  io.stop();
}

}  // namespace

int main(int argc, char** argv) {
  cbes::app::tool_options tool{"cbes",
                               "Replicates a Couchbase bucket into Elasticsearch: one worker of a "
                               "static group ([group.static] in the config)."};
  auto parsed = tool.parse(argc, argv);
  if (parsed.exit_code)
    return *parsed.exit_code;
  auto cfg = tool.load_config();
  if (!cfg)
    return 1;
  cbes::app::log_settings ls;
  ls.redact = cfg->logging.redaction == cbes::config::redaction_level::none
                  ? cbes::app::redaction::none
                  : (cfg->logging.redaction == cbes::config::redaction_level::partial
                         ? cbes::app::redaction::partial
                         : cbes::app::redaction::full);
  cbes::app::init_logging(ls);
  for (const auto& w : cfg->warnings)
    log(level::warn, "cbes.config", w);
  // One record per line, so that every line on stderr is a log record or the final error.
  log(level::info, "cbes", cbes::app::version_line("cbes") + "; effective configuration:");
  std::istringstream summary(cbes::config::redacted_summary(*cfg));
  for (std::string line; std::getline(summary, line);)
    log(level::info, "cbes", "  " + line);

  asio::io_context io(1);
  run_result result;
  asio::co_spawn(io, run(io, std::move(*cfg), result), [&](std::exception_ptr e) {
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& x) {
        std::cerr << "cbes: internal error: " << x.what() << '\n';
      }
      result.exit_code = 1;
      io.stop();
    }
  });
  io.run();
  return result.exit_code;
}
