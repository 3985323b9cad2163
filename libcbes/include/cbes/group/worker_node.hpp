#pragma once
// cbes::group::worker_node — the worker half of `cbes-consul run`: the member's presence in
// Consul (member.hpp), its RPC endpoint (rpc.hpp) answering the worker methods
// (worker_service.hpp), and the kill switch armed whenever the streamer runs.
//
//   auto s = std::make_shared<cbes::group::connector_streamer>(ex, log);
//   cbes::group::worker_node_options o;
//   o.member.group = "example-group";
//   auto node = co_await cbes::group::worker_node::start(consul, o, s);
//   if (!node) co_return fail(node.error().what());
//   co_await (*node)->run();            // until stop(): heartbeats and RPC
//   // on SIGTERM: co_await (*node)->shutdown();   // stop streaming, unbind, deregister
//
// When Consul drops the member's session (the node's serfHealth failed, or its check's TTL
// passed while the process was stopped), the endpoint key went with it: the node binds its
// endpoint again with the member's new session, and the leader sees it as a new member.
#include <memory>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "cbes/group/error.hpp"
#include "cbes/group/member.hpp"
#include "cbes/group/worker_service.hpp"

namespace consul {
class client;
}

namespace cbes::group {

struct worker_node_options {
  member_options member{};
  // Long poll of the RPC endpoint (Consul's default 5 m; tests use less).
  std::chrono::milliseconds rpc_wait{300000};
  std::chrono::milliseconds rpc_retry{1000};
};

class worker_node {
 public:
  // Joins the group (member::join) and binds the RPC endpoint. errc::endpoint_in_use when
  // another process holds this endpoint (same node and service id): its message says to wait
  // for the 15 s lock delay after an unclean exit, or to pass another --service-id.
  static boost::asio::awaitable<result<std::shared_ptr<worker_node>>> start(
      consul::client& consul, worker_node_options options, std::shared_ptr<streamer> s);

  ~worker_node();
  worker_node(const worker_node&) = delete;
  worker_node& operator=(const worker_node&) = delete;

  // Heartbeats and serves RPC until shutdown(); an error when the endpoint could not be
  // served any more (taken by another session).
  boost::asio::awaitable<result<void>> run();
  // Graceful end: stops streaming (checkpoints saved), unbinds the endpoint, leaves the group
  // (deregisters, per consul.toml). run() returns.
  boost::asio::awaitable<void> shutdown();

  const std::string& endpoint_id() const noexcept;
  const member& presence() const noexcept;
  worker_service& service() noexcept;

  struct impl;

 private:
  explicit worker_node(std::shared_ptr<impl> p);
  std::shared_ptr<impl> impl_;
};

}  // namespace cbes::group
