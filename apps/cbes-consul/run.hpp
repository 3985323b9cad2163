#pragma once
// `cbes-consul run`: one worker of an Autonomous Operations group — its presence in Consul and
// RPC endpoint (cbes::group::worker_node), a campaign for the group's leadership
// (cbes::group::leader), and the connector it streams with (cbes::group::connector_streamer).
//
//   cbes-consul run --group=example-group --service-id=second
//
// Prints "ready: worker <endpoint id> in group <group>" on stdout once it has joined. SIGINT or
// SIGTERM: steps down as leader, stops streaming (checkpoints saved), unbinds its endpoint and
// leaves the group, then exits 0. Exit 1 when it cannot join or the endpoint is lost for good.
#include "commands.hpp"

namespace consul {
struct client_options;
}

namespace cbes::consul_cli {

struct run_settings {
  bool deregister_on_graceful_shutdown = true;
  std::chrono::seconds deregister_critical_service_after{std::chrono::hours(168)};
};

// Runs the worker until a signal or a fatal error; returns the exit code.
int run_worker(const command_line& command, const consul::client_options& consul_options,
               const run_settings& settings);

}  // namespace cbes::consul_cli
