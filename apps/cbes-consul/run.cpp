#include "run.hpp"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <string>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "app_log.hpp"
#include "cbes/group/connector_streamer.hpp"
#include "cbes/group/leader.hpp"
#include "cbes/group/worker_node.hpp"
#include "consul/client.hpp"

namespace cbes::consul_cli {

namespace asio = boost::asio;
using app::level;

namespace {

constexpr std::string_view channel = "cbes.consul";

void log_line(std::string_view lv, std::string_view line) {
  app::log(app::parse_level(lv), channel, line);
}

asio::awaitable<int> run_async(consul::client& consul, const command_line& cl,
                               const run_settings& settings) {
  auto ex = co_await asio::this_coro::executor;
  // Signals are caught from the start: a stop while joining still leaves the group cleanly.
  asio::signal_set signals(ex, SIGINT, SIGTERM);
  bool interrupted = false;
  std::shared_ptr<group::worker_node> node;
  std::shared_ptr<group::leader> leader;

  auto streamer = std::make_shared<group::connector_streamer>(ex, log_line);
  group::worker_node_options o;
  o.member.group = cl.group;
  o.member.service_id = cl.service_id;
  o.member.heartbeat = cl.heartbeat;
  // The Java connector's 20 s against a 15 s heartbeat (TTL 30 s).
  o.member.kill_switch = cl.heartbeat * 4 / 3;
  // A failed heartbeat is retried soon enough for several attempts to fit before the kill
  // switch (1 s against the default 15 s heartbeat).
  o.member.retry =
      std::max<std::chrono::milliseconds>(cl.heartbeat / 15, std::chrono::milliseconds(100));
  o.member.lock_delay = cl.lock_delay;
  o.member.deregister_on_graceful_shutdown = settings.deregister_on_graceful_shutdown;
  o.member.deregister_critical_service_after = settings.deregister_critical_service_after;
  o.member.log = log_line;

  // Set when the graceful stop has finished: this frame (which the stop uses) must outlive it.
  asio::steady_timer stopped(ex, asio::steady_timer::time_point::max());
  asio::steady_timer give_up(ex);
  asio::steady_timer join_retry(ex);  // the wait between attempts to join; a signal ends it
  bool stop_done = false;
  auto stop_all = [&]() -> asio::awaitable<void> {
    // Step down first, so that no grant of this leader reaches this worker while it leaves;
    // then stop streaming (checkpoints saved), unbind and leave.
    if (leader)
      co_await leader->stop();
    if (node)
      co_await node->shutdown();
    stop_done = true;
    stopped.cancel();
    give_up.cancel();
  };
  // The graceful stop is bounded (the Java connector gives its clean-up 30 s): with Consul gone
  // its calls could otherwise retry for long. A second signal ends the process at once.
  std::function<void(const boost::system::error_code&, int)> on_signal =
      [&](const boost::system::error_code& ec, int sig) {
        if (ec)
          return;
        const std::string name = sig == SIGINT ? "SIGINT" : "SIGTERM";
        if (interrupted) {
          log_line("error", "received " + name + " again: exiting without leaving the group");
          std::_Exit(1);
        }
        interrupted = true;
        log_line("info", "received " + name + ": leaving the group (saving checkpoints)");
        signals.async_wait(on_signal);
        give_up.expires_after(std::chrono::seconds(30));
        give_up.async_wait([&](const boost::system::error_code& e) {
          if (e || stop_done)
            return;
          log_line("error", "leaving the group did not finish within 30 s: exiting");
          std::_Exit(1);
        });
        if (node)
          asio::co_spawn(ex, stop_all(), asio::detached);
        else
          join_retry.cancel();
      };
  signals.async_wait(on_signal);

  log_line("info", "joining group '" + cl.group + "' as service '" +
                       (cl.service_id.empty() ? cl.group : cl.service_id) + "'");
  // A Consul that is not ready (no cluster leader yet, a 5xx, not answering) is waited for, as
  // a joined worker waits out a Consul outage; anything else (a refused token, an endpoint
  // another process holds) ends the run. The Java connector exits on any of them.
  auto pause = std::chrono::milliseconds(500);
  const auto longest_pause =
      std::max<std::chrono::milliseconds>(cl.heartbeat, std::chrono::seconds(1));
  for (;;) {
    auto started = co_await group::worker_node::start(consul, o, streamer);
    if (started) {
      node = *started;
      break;
    }
    if (!started.error().transient) {
      log_line("error", started.error().what());
      std::cerr << "cbes-consul run: " << started.error().what() << '\n';
      signals.cancel();
      co_return 1;
    }
    if (!interrupted) {
      pause = std::min(pause * 2, longest_pause);
      log_line("warning", "cannot join yet (" + started.error().what() + "); trying again in " +
                              std::to_string(pause.count()) + " ms");
      join_retry.expires_after(pause);
      boost::system::error_code ec;
      co_await join_retry.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    if (interrupted) {
      log_line("info", "stopped before joining the group");
      signals.cancel();
      co_return 0;
    }
  }
  std::cout << "ready: worker " << node->endpoint_id() << " in group " << cl.group << std::endl;

  group::leader_options lo;
  lo.group = cl.group;
  lo.endpoint_id = node->endpoint_id();
  lo.service_id = cl.service_id.empty() ? cl.group : cl.service_id;
  lo.debounce = cl.debounce;
  lo.grace = cl.grace;
  lo.dead_margin = o.member.kill_switch;
  lo.lock_delay = cl.lock_delay;
  lo.session_ttl = std::max<std::chrono::milliseconds>(cl.heartbeat, std::chrono::seconds(10));
  lo.resync = 2 * cl.heartbeat;
  lo.log = log_line;
  leader = std::make_shared<group::leader>(consul, lo);
  if (interrupted) {
    co_await stop_all();
    co_return 0;
  }
  asio::co_spawn(ex, leader->run(), asio::detached);

  auto served = co_await node->run();
  signals.cancel();
  if (!served) {
    log_line("error", served.error().what());
    std::cerr << "cbes-consul run: " << served.error().what() << '\n';
    co_await leader->stop();
    co_await node->shutdown();
    co_return 1;
  }
  while (interrupted && !stop_done) {
    boost::system::error_code ec;
    co_await stopped.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  co_await leader->stop();
  log_line("info", "left group '" + cl.group + "'");
  co_return 0;
}

}  // namespace

int run_worker(const command_line& command, const consul::client_options& consul_options,
               const run_settings& settings) {
  app::init_logging({});
  asio::io_context io(1);
  consul::client consul(io.get_executor(), consul_options);
  int code = 1;
  asio::co_spawn(io, run_async(consul, command, settings), [&](std::exception_ptr e, int c) {
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& x) {
        std::cerr << "cbes-consul run: internal error: " << x.what() << '\n';
      }
      c = 1;
    }
    code = c;
    consul.close();
    io.stop();
  });
  io.run();
  return code;
}

}  // namespace cbes::consul_cli
