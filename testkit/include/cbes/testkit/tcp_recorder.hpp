#pragma once
// A loopback TCP proxy that records every byte it forwards into a pcap file, so tests can hand
// real protocol bytes to Wireshark's dissectors (tshark) without capture privileges.
//
// It listens on `127.0.0.1:0`; each accepted connection is forwarded to target_host:target_port
// and written to the file as one synthetic TCP conversation between 127.0.0.1:<client port> and
// 127.0.0.1:<target_port>: Ethernet/IPv4/TCP headers with valid checksums, a SYN / SYN-ACK / ACK
// handshake, data segments of at most 65000 bytes with consistent seq/ack numbers, a pure ACK
// from the receiver after each segment, and FINs when either side closes. Segments are written
// in the order the proxy saw them, before they are forwarded, so causality holds in the file.
//
//   cbes::testkit::tcp_recorder rec("127.0.0.1", cluster.kv_port(), dir + "/kv.pcap");
//   o.address = {"127.0.0.1", rec.port()};      // connect the client through the recorder
//   ...                                         // run the exchange, close the client
//   rec.stop();                                 // flushes and closes the file
//   // tshark -r kv.pcap -d tcp.port==<cluster.kv_port()>,couchbase
//
// Or on a caller's executor (no thread of its own):
//   cbes::testkit::tcp_recorder rec(io.get_executor(), "127.0.0.1", port, path);
//
// Thread-safe; any number of concurrent connections. The file is complete (all packets
// flushed) after stop() or destruction; stop() closes the listener and every connection.
#include <boost/asio/any_io_executor.hpp>

#include <cstdint>
#include <memory>
#include <string>

namespace cbes::testkit {

class tcp_recorder {
 public:
  // Own I/O thread. Throws std::system_error when the listener cannot be bound or the file
  // cannot be created.
  tcp_recorder(std::string target_host, std::uint16_t target_port, std::string pcap_path);
  // Runs on `executor` (e.g. the test's io_context); the caller keeps it running.
  tcp_recorder(boost::asio::any_io_executor executor, std::string target_host,
               std::uint16_t target_port, std::string pcap_path);
  ~tcp_recorder();  // stop()
  tcp_recorder(const tcp_recorder&) = delete;
  tcp_recorder& operator=(const tcp_recorder&) = delete;

  // The loopback port clients connect to.
  std::uint16_t port() const noexcept;
  // The server port the pcap shows (what `-d tcp.port==...` must name).
  std::uint16_t target_port() const noexcept;
  const std::string& pcap_path() const noexcept;

  // Connections accepted so far, and payload bytes recorded in both directions.
  std::size_t connections() const noexcept;
  std::uint64_t bytes_recorded() const noexcept;

  // Closes the listener and every connection (FINs are recorded) and flushes the file.
  // Idempotent. With an external executor, call it while that executor still runs, or from
  // its thread (then it closes synchronously).
  void stop();

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace cbes::testkit
