#pragma once
// A hostile server for client tests: a TCP listener on 127.0.0.1 (ephemeral port) that runs a
// script on each accepted connection, on a thread of its own, with plain POSIX sockets — so
// nothing of our protocol code is on its side. Scripts read what the client sends and answer
// with lies: oversize lengths, truncated frames, wrong opcodes, endless bodies, silence.
//
//   cbes::test::liar l([](cbes::test::liar::conn& c) {
//     c.read_until("\r\n\r\n");
//     c.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
//     while (c.write("1000\r\n" + std::string(4096, 'x') + "\r\n")) {}   // until the client hangs
//     up
//   });
//   ... point a client at l.address() ...
//   CHECK(l.wait_hung_up(10s));   // the client closed the connection: it stopped reading
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

namespace cbes::test {

class liar {
 public:
  class conn {
   public:
    explicit conn(int fd, liar& owner) : fd_(fd), owner_(owner) {}
    // Reads until `marker` has arrived (or the peer closed, or the liar stops); what was read.
    std::string read_until(const std::string& marker) {
      std::string got;
      while (got.find(marker) == std::string::npos) {
        if (!read_some(got))
          break;
      }
      return got;
    }
    // Reads exactly n bytes (fewer when the peer closed).
    std::string read_exactly(std::size_t n) {
      std::string got;
      while (got.size() < n && read_some(got, n - got.size())) {
      }
      return got;
    }
    // Writes everything; false once the peer is gone (or the liar stops).
    bool write(const std::string& bytes) {
      std::size_t done = 0;
      while (done < bytes.size()) {
        if (owner_.stopping_)
          return false;
        pollfd p{fd_, POLLOUT, 0};
        if (::poll(&p, 1, 100) <= 0)
          continue;
        const auto n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
        if (n <= 0) {
          owner_.note_hang_up();
          return false;
        }
        done += static_cast<std::size_t>(n);
        owner_.written_ += static_cast<std::size_t>(n);
      }
      return true;
    }
    // Reads a request's head, then answers 200 with a chunked body that never ends (64 KiB
    // chunks) until the peer hangs up: a client without a body limit would read for ever.
    void endless_chunked_response() {
      read_until("\r\n\r\n");
      write(
          "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
          "Transfer-Encoding: chunked\r\n\r\n");
      const std::string chunk = "10000\r\n" + std::string(65536, ' ') + "\r\n";
      while (write(chunk)) {
      }
    }
    // Reads one mcbp request (24-byte header, then its body): its opcode and opaque; {0, 0}
    // when the peer hung up first.
    std::pair<std::uint8_t, std::uint32_t> read_mcbp_request() {
      const auto h = read_exactly(24);
      if (h.size() < 24)
        return {0, 0};
      const auto be32 = [&](std::size_t at) {
        std::uint32_t v = 0;
        for (std::size_t i = 0; i < 4; ++i)
          v = (v << 8) | static_cast<unsigned char>(h[at + i]);
        return v;
      };
      read_exactly(be32(8));
      return {static_cast<std::uint8_t>(h[1]), be32(12)};
    }
    // Reads one mcbp request, then sends responses with an opaque the client never used (1 KiB
    // bodies, 64 to a write) as fast as it reads them, until it hangs up.
    void flood_unsolicited_mcbp_frames() {
      read_mcbp_request();
      const std::string frame =
          mcbp_response_header(0x00, 1000, 0xdeadbeef) + std::string(1000, 'x');
      std::string burst;
      for (int i = 0; i < 64; ++i)
        burst += frame;
      while (write(burst)) {
      }
    }
    // Reads a request's head, then sends the head of a 200 with a 100-byte body and nothing
    // more: a client without a read deadline would wait for ever.
    void headers_then_silence() {
      read_until("\r\n\r\n");
      write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n");
      stay_silent();
    }
    // Says nothing until the peer hangs up (or the liar stops): a server that never answers.
    void stay_silent() {
      std::string sink;
      while (read_some(sink))
        sink.clear();
    }

   private:
    bool read_some(std::string& into, std::size_t at_most = 4096) {
      for (;;) {
        if (owner_.stopping_)
          return false;
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, 100) <= 0)
          continue;
        char buf[4096];
        const auto n = ::recv(fd_, buf, std::min(sizeof buf, at_most), 0);
        if (n <= 0) {
          owner_.note_hang_up();
          return false;
        }
        into.append(buf, static_cast<std::size_t>(n));
        return true;
      }
    }
    int fd_;
    liar& owner_;
  };

  // A 24-byte mcbp response header, written byte by byte (none of our codec): magic 0x81 (a
  // response), `opcode`, status success, `body_length`, `opaque`.
  static std::string mcbp_response_header(std::uint8_t opcode, std::uint32_t body_length,
                                          std::uint32_t opaque) {
    std::string h(24, '\0');
    h[0] = static_cast<char>(0x81);
    h[1] = static_cast<char>(opcode);
    for (int i = 0; i < 4; ++i) {
      h[8 + i] = static_cast<char>(body_length >> (24 - 8 * i));
      h[12 + i] = static_cast<char>(opaque >> (24 - 8 * i));
    }
    return h;
  }

  // Listens on `host` (a loopback IPv4 address: another than 127.0.0.1 keeps a client's
  // fallbacks to well-known ports on that host away from servers other tests run there).
  explicit liar(std::function<void(conn&)> script, std::string host = "127.0.0.1")
      : script_(std::move(script)), host_(std::move(host)) {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(listener_ >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    REQUIRE(::inet_pton(AF_INET, host_.c_str(), &a.sin_addr) == 1);
    REQUIRE(::bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(listener_, 16) == 0);
    socklen_t len = sizeof a;
    REQUIRE(::getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    port_ = ntohs(a.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~liar() {
    stopping_ = true;
    acceptor_.join();
    for (auto& t : sessions_)
      t.join();
    ::close(listener_);
  }
  liar(const liar&) = delete;
  liar& operator=(const liar&) = delete;

  std::uint16_t port() const { return port_; }
  std::string address() const { return host_ + ":" + std::to_string(port_); }
  std::size_t bytes_written() const { return written_; }
  std::size_t connections() const { return accepted_; }

  // True once a client closed a connection (a read saw EOF, or a write failed) within `limit`.
  bool wait_hung_up(std::chrono::milliseconds limit) {
    std::unique_lock lock(mu_);
    return hung_up_cv_.wait_for(lock, limit, [&] { return hung_up_; });
  }

 private:
  void note_hang_up() {
    std::lock_guard lock(mu_);
    hung_up_ = true;
    hung_up_cv_.notify_all();
  }
  void accept_loop() {
    while (!stopping_) {
      pollfd p{listener_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0)
        continue;
      const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0)
        continue;
      ++accepted_;
      sessions_.emplace_back([this, fd] {
        conn c(fd, *this);
        script_(c);
        // Hold the connection open until the client hangs up: a liar never closes first.
        c.stay_silent();
        ::close(fd);
      });
    }
  }

  std::function<void(conn&)> script_;
  std::string host_;
  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::thread acceptor_;
  std::vector<std::thread> sessions_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::size_t> written_{0};
  std::atomic<std::size_t> accepted_{0};
  std::mutex mu_;
  std::condition_variable hung_up_cv_;
  bool hung_up_ = false;
};

}  // namespace cbes::test
