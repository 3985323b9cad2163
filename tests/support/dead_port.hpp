#pragma once
// A loopback port nothing listens on: bound to an ephemeral port, then closed, so a connection
// to it is refused. For tests of "the server is gone".
//
//   const auto address = "127.0.0.1:" + std::to_string(cbes::test::dead_port());
#include <cstdint>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace cbes::test {

// `host` another loopback address than 127.0.0.1 for a Couchbase seed: a client whose seeds
// fail asks port 8091 of the seed's host for the config, where a sandbox on the usual ports
// (the quickstart's, a developer's) would answer for a bucket of the same name.
inline std::uint16_t dead_port(const char* host = "127.0.0.1") {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address(host), 0});
  return a.local_endpoint().port();
}

}  // namespace cbes::test
