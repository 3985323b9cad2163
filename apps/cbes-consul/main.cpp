// cbes-consul: administers a group of connector workers coordinated through Consul (the Java
// connector's `cbes-consul`, plus `status`). See commands.hpp, run.hpp and the README.
//
//   cbes-consul configure --input config/example-connector.toml
//   cbes-consul pause --group example-group
//   cbes-consul status -g example-group --json
//
// Exit codes: 0 done, 1 failure, 2 usage error.
#include <iostream>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "cbes/config/consul_config.hpp"
#include "commands.hpp"
#include "consul/client.hpp"
#include "run.hpp"

namespace asio = boost::asio;

int main(int argc, char** argv) {
  auto parsed = cbes::consul_cli::parse_command_line(argc, argv, std::cout, std::cerr);
  if (!parsed.command)
    return parsed.exit_code;
  const auto& cl = *parsed.command;

  consul::client_options options;
  options.address = cl.agent;
  options.scheme = cl.agent_https ? consul::scheme::https : consul::scheme::http;
  // A command line tool: an agent that is down is reported soon, not after minutes of retries.
  options.retry_deadline = std::chrono::seconds(2);
  cbes::consul_cli::run_settings settings;
  if (cl.consul_config) {
    auto cc = cbes::config::load_consul_config(*cl.consul_config, {});
    if (!cc) {
      for (const auto& p : cc.error().problems)
        std::cerr << "ERROR: Invalid Consul config file " << *cl.consul_config << ": " << p << '\n';
      return 1;
    }
    options.token = cc->acl_token.reveal();
    options.ca_file = cc->ca_certificate.string();
    options.verify_hostname = cc->hostname_verification;
    settings.deregister_on_graceful_shutdown = cc->deregister_service_on_graceful_shutdown;
    settings.deregister_critical_service_after = cc->deregister_critical_service_after;
  } else {
    // On stdout as the Java tool prints it, except where stdout must be nothing but JSON.
    (cl.json ? std::cerr : std::cout)
        << "Consul config file not specified; using default Consul settings." << std::endl;
  }

  if (cl.command == "run") {
    // A worker outlives Consul hiccups: its calls retry, its kill switch guards the rest.
    options.retry_deadline = std::chrono::seconds(10);
    // A hung agent must not hold a heartbeat longer than the heartbeat interval.
    options.request_timeout =
        std::max<std::chrono::milliseconds>(cl.heartbeat, std::chrono::seconds(5));
    return cbes::consul_cli::run_worker(cl, options, settings);
  }

  asio::io_context io(1);
  consul::client consul(io.get_executor(), options);
  int code = 1;
  asio::co_spawn(io, cbes::consul_cli::run_command(consul, cl, std::cout, std::cerr),
                 [&](std::exception_ptr e, int c) {
                   if (e) {
                     try {
                       std::rethrow_exception(e);
                     } catch (const std::exception& x) {
                       std::cerr << "cbes-consul: internal error: " << x.what() << '\n';
                     }
                     c = 1;
                   }
                   code = c;
                   consul.close();
                 });
  io.run();
  return code;
}
