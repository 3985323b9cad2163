#include "cbes/testkit/tcp_recorder.hpp"

#include <boost/asio.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <future>
#include <mutex>
#include <optional>
#include <set>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

namespace cbes::testkit {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

// Segments stay below 65535 - 54 header bytes so every pcap record fits a 16-bit IP length.
constexpr std::size_t max_segment = 65000;
constexpr std::uint32_t pcap_snaplen = 65535;
constexpr std::uint32_t linktype_ethernet = 1;

namespace tcp_flag {
constexpr std::uint8_t fin = 0x01;
constexpr std::uint8_t syn = 0x02;
constexpr std::uint8_t psh = 0x08;
constexpr std::uint8_t ack = 0x10;
}  // namespace tcp_flag

void put16(std::string& out, std::uint16_t v) {
  out += static_cast<char>(v >> 8);
  out += static_cast<char>(v & 0xff);
}

void put32(std::string& out, std::uint32_t v) {
  put16(out, static_cast<std::uint16_t>(v >> 16));
  put16(out, static_cast<std::uint16_t>(v & 0xffff));
}

// RFC 1071 one's-complement sum, folded.
std::uint32_t sum16(std::string_view data, std::uint32_t sum = 0) {
  for (std::size_t i = 0; i + 1 < data.size(); i += 2)
    sum += static_cast<std::uint32_t>(static_cast<unsigned char>(data[i]) << 8 |
                                      static_cast<unsigned char>(data[i + 1]));
  if (data.size() % 2 == 1)
    sum += static_cast<std::uint32_t>(static_cast<unsigned char>(data.back()) << 8);
  return sum;
}

std::uint16_t fold(std::uint32_t sum) {
  while (sum >> 16)
    sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum & 0xffff);
}

void set16(std::string& s, std::size_t at, std::uint16_t v) {
  s[at] = static_cast<char>(v >> 8);
  s[at + 1] = static_cast<char>(v & 0xff);
}

constexpr std::uint32_t loopback = 0x7f000001;

}  // namespace

struct tcp_recorder::impl : std::enable_shared_from_this<impl> {
  struct conversation {
    conversation(const asio::any_io_executor& ex, tcp::socket c)
        : client(std::move(c)), upstream(ex) {}
    tcp::socket client;
    tcp::socket upstream;
    std::uint16_t client_port = 0;
    std::array<std::uint32_t, 2> next_seq{};  // [0] client→server, [1] server→client
    std::array<bool, 2> fin{};
    bool recording = false;  // handshake written, FINs not both written
    int pumps_done = 0;
  };

  impl(std::unique_ptr<asio::io_context> io, asio::any_io_executor e, std::string host,
       std::uint16_t port, std::string path)
      : own_io(std::move(io)),
        ex(std::move(e)),
        target_host(std::move(host)),
        target(port),
        pcap(std::move(path)),
        acceptor(ex) {}

  // The own-thread variant's io_context: declared first so it outlives every socket below.
  std::unique_ptr<asio::io_context> own_io;
  asio::any_io_executor ex;
  std::string target_host;
  std::uint16_t target;
  std::string pcap;
  tcp::acceptor acceptor;
  std::uint16_t listen_port = 0;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::thread thread;

  mutable std::mutex mutex;  // guards everything below
  std::FILE* file = nullptr;
  bool stopped = false;
  std::set<std::shared_ptr<conversation>> conversations;
  std::uint16_t ip_id = 1;
  std::uint64_t last_us = 0;
  std::uint32_t next_isn = 0x10000000;
  std::atomic<std::size_t> accepted{0};
  std::atomic<std::uint64_t> payload_bytes{0};

  void open() {
    file = std::fopen(pcap.c_str(), "wb");
    if (!file)
      throw std::system_error(errno, std::generic_category(), "tcp_recorder: open " + pcap);
    // pcap global header in host byte order (readers detect it from the magic).
    const std::uint32_t magic = 0xa1b2c3d4, zone = 0, sigfigs = 0;
    const std::uint16_t major = 2, minor = 4;
    std::fwrite(&magic, 4, 1, file);
    std::fwrite(&major, 2, 1, file);
    std::fwrite(&minor, 2, 1, file);
    std::fwrite(&zone, 4, 1, file);
    std::fwrite(&sigfigs, 4, 1, file);
    std::fwrite(&pcap_snaplen, 4, 1, file);
    std::fwrite(&linktype_ethernet, 4, 1, file);
    try {
      tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
      acceptor.open(ep.protocol());
      acceptor.set_option(tcp::acceptor::reuse_address(true));
      acceptor.bind(ep);
      acceptor.listen();
    } catch (const boost::system::system_error& e) {
      std::fclose(file);
      file = nullptr;
      throw std::system_error(std::error_code(e.code()), "tcp_recorder: listen");
    }
    listen_port = acceptor.local_endpoint().port();
    asio::co_spawn(ex, accept_loop(shared_from_this()), asio::detached);
  }

  // ---- pcap records (mutex held) ----

  // One Ethernet/IPv4/TCP frame from `dir` (0 = client→server) carrying `payload`.
  void write_segment(conversation& c, int dir, std::uint8_t flags, std::string_view payload) {
    if (!file)
      return;
    const std::uint16_t src_port = dir == 0 ? c.client_port : target;
    const std::uint16_t dst_port = dir == 0 ? target : c.client_port;
    const std::uint32_t seq = c.next_seq[static_cast<std::size_t>(dir)];
    const std::uint32_t ack =
        (flags & tcp_flag::ack) ? c.next_seq[static_cast<std::size_t>(1 - dir)] : 0;

    std::string tcph;
    put16(tcph, src_port);
    put16(tcph, dst_port);
    put32(tcph, seq);
    put32(tcph, ack);
    tcph += static_cast<char>(5 << 4);  // data offset: 20 bytes, no options
    tcph += static_cast<char>(flags);
    put16(tcph, 65535);  // window
    put16(tcph, 0);      // checksum, below
    put16(tcph, 0);      // urgent pointer
    const auto tcp_len = static_cast<std::uint16_t>(tcph.size() + payload.size());
    std::string pseudo;
    put32(pseudo, loopback);
    put32(pseudo, loopback);
    put16(pseudo, 6);
    put16(pseudo, tcp_len);
    set16(tcph, 16, fold(sum16(payload, sum16(tcph, sum16(pseudo)))));

    std::string iph;
    iph += static_cast<char>(0x45);
    iph += '\0';
    put16(iph, static_cast<std::uint16_t>(20 + tcp_len));
    put16(iph, ip_id++);
    put16(iph, 0x4000);  // don't fragment
    iph += static_cast<char>(64);
    iph += static_cast<char>(6);  // TCP
    put16(iph, 0);
    put32(iph, loopback);
    put32(iph, loopback);
    set16(iph, 10, fold(sum16(iph)));

    std::string eth;
    const char client_mac[] = {0x02, 0, 0, 0, 0, 0x01};
    const char server_mac[] = {0x02, 0, 0, 0, 0, 0x02};
    eth.append(dir == 0 ? server_mac : client_mac, 6);
    eth.append(dir == 0 ? client_mac : server_mac, 6);
    put16(eth, 0x0800);

    const auto length =
        static_cast<std::uint32_t>(eth.size() + iph.size() + tcph.size() + payload.size());
    // Strictly increasing timestamps keep tshark's analysis ordered.
    const auto now =
        static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                       std::chrono::system_clock::now().time_since_epoch())
                                       .count());
    last_us = std::max(now, last_us + 1);
    const auto ts_sec = static_cast<std::uint32_t>(last_us / 1'000'000);
    const auto ts_usec = static_cast<std::uint32_t>(last_us % 1'000'000);
    std::fwrite(&ts_sec, 4, 1, file);
    std::fwrite(&ts_usec, 4, 1, file);
    std::fwrite(&length, 4, 1, file);
    std::fwrite(&length, 4, 1, file);
    std::fwrite(eth.data(), 1, eth.size(), file);
    std::fwrite(iph.data(), 1, iph.size(), file);
    std::fwrite(tcph.data(), 1, tcph.size(), file);
    if (!payload.empty())  // an empty span's data() may be null, which fwrite must not get
      std::fwrite(payload.data(), 1, payload.size(), file);

    auto& next = c.next_seq[static_cast<std::size_t>(dir)];
    next += static_cast<std::uint32_t>(payload.size());
    if (flags & (tcp_flag::syn | tcp_flag::fin))
      ++next;
  }

  void record_handshake(conversation& c) {
    c.next_seq = {next_isn, next_isn + 0x01000000};
    next_isn += 0x02000000;
    write_segment(c, 0, tcp_flag::syn, {});
    write_segment(c, 1, tcp_flag::syn | tcp_flag::ack, {});
    write_segment(c, 0, tcp_flag::ack, {});
    c.recording = true;
  }

  void record_data(conversation& c, int dir, std::string_view data) {
    if (!c.recording || c.fin[static_cast<std::size_t>(dir)])
      return;
    payload_bytes += data.size();
    while (!data.empty()) {
      const auto n = std::min(data.size(), max_segment);
      write_segment(c, dir, tcp_flag::psh | tcp_flag::ack, data.substr(0, n));
      write_segment(c, 1 - dir, tcp_flag::ack, {});
      data.remove_prefix(n);
    }
  }

  void record_fin(conversation& c, int dir) {
    if (!c.recording || c.fin[static_cast<std::size_t>(dir)])
      return;
    write_segment(c, dir, tcp_flag::fin | tcp_flag::ack, {});
    write_segment(c, 1 - dir, tcp_flag::ack, {});
    c.fin[static_cast<std::size_t>(dir)] = true;
  }

  // ---- proxying ----

  static asio::awaitable<void> accept_loop(std::shared_ptr<impl> self) {
    for (;;) {
      auto [ec, socket] = co_await self->acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec) {
        if (!self->acceptor.is_open())
          co_return;
        continue;
      }
      ++self->accepted;
      auto c = std::make_shared<conversation>(self->ex, std::move(socket));
      {
        std::lock_guard lock(self->mutex);
        if (self->stopped) {
          boost::system::error_code ignored;
          c->client.close(ignored);
          continue;
        }
        self->conversations.insert(c);
      }
      asio::co_spawn(self->ex, connect_and_pump(self, c), asio::detached);
    }
  }

  static asio::awaitable<void> connect_and_pump(std::shared_ptr<impl> self,
                                                std::shared_ptr<conversation> c) {
    boost::system::error_code ec;
    c->client_port = c->client.remote_endpoint(ec).port();
    tcp::resolver resolver(self->ex);
    auto [rec, results] = co_await resolver.async_resolve(
        self->target_host, std::to_string(self->target), asio::as_tuple(asio::use_awaitable));
    if (!rec) {
      auto [cec, ep] =
          co_await asio::async_connect(c->upstream, results, asio::as_tuple(asio::use_awaitable));
      (void)ep;
      rec = cec;
    }
    {
      std::lock_guard lock(self->mutex);
      if (rec || self->stopped) {
        self->conversations.erase(c);
        c->client.close(ec);
        c->upstream.close(ec);
        co_return;
      }
      c->upstream.set_option(tcp::no_delay(true), ec);
      c->client.set_option(tcp::no_delay(true), ec);
      self->record_handshake(*c);
    }
    asio::co_spawn(self->ex, pump(self, c, 0), asio::detached);
    asio::co_spawn(self->ex, pump(self, c, 1), asio::detached);
  }

  static asio::awaitable<void> pump(std::shared_ptr<impl> self, std::shared_ptr<conversation> c,
                                    int dir) {
    tcp::socket& from = dir == 0 ? c->client : c->upstream;
    tcp::socket& to = dir == 0 ? c->upstream : c->client;
    std::vector<char> buf(64 * 1024);
    boost::system::error_code ec;
    for (;;) {
      auto [rec, n] =
          co_await from.async_read_some(asio::buffer(buf), asio::as_tuple(asio::use_awaitable));
      if (n > 0) {
        {
          std::lock_guard lock(self->mutex);
          self->record_data(*c, dir, std::string_view(buf.data(), n));
        }
        auto [wec, wn] = co_await asio::async_write(to, asio::buffer(buf.data(), n),
                                                    asio::as_tuple(asio::use_awaitable));
        (void)wn;
        if (wec) {
          // The receiver is gone: end both directions.
          from.close(ec);
          to.close(ec);
          break;
        }
      }
      if (rec)
        break;
    }
    std::lock_guard lock(self->mutex);
    self->record_fin(*c, dir);
    to.shutdown(tcp::socket::shutdown_send, ec);
    if (++c->pumps_done == 2) {
      c->client.close(ec);
      c->upstream.close(ec);
      self->conversations.erase(c);
    }
  }

  // Closes everything and completes the file; on the executor's thread.
  void close_all() {
    std::lock_guard lock(mutex);
    if (stopped)
      return;
    stopped = true;
    boost::system::error_code ec;
    acceptor.close(ec);
    for (const auto& c : conversations) {
      record_fin(*c, 0);
      record_fin(*c, 1);
      c->client.close(ec);
      c->upstream.close(ec);
    }
    conversations.clear();
    if (file) {
      std::fclose(file);
      file = nullptr;
    }
  }
};

tcp_recorder::tcp_recorder(std::string target_host, std::uint16_t target_port,
                           std::string pcap_path) {
  auto io = std::make_unique<asio::io_context>(1);
  asio::any_io_executor ex = io->get_executor();
  impl_ = std::make_shared<impl>(std::move(io), std::move(ex), std::move(target_host), target_port,
                                 std::move(pcap_path));
  impl_->open();
  impl_->work.emplace(impl_->own_io->get_executor());
  impl_->thread = std::thread([p = impl_.get()] { p->own_io->run(); });
}

tcp_recorder::tcp_recorder(boost::asio::any_io_executor executor, std::string target_host,
                           std::uint16_t target_port, std::string pcap_path)
    : impl_(std::make_shared<impl>(nullptr, std::move(executor), std::move(target_host),
                                   target_port, std::move(pcap_path))) {
  impl_->open();
}

tcp_recorder::~tcp_recorder() {
  stop();
}

std::uint16_t tcp_recorder::port() const noexcept {
  return impl_->listen_port;
}

std::uint16_t tcp_recorder::target_port() const noexcept {
  return impl_->target;
}

const std::string& tcp_recorder::pcap_path() const noexcept {
  return impl_->pcap;
}

std::size_t tcp_recorder::connections() const noexcept {
  return impl_->accepted;
}

std::uint64_t tcp_recorder::bytes_recorded() const noexcept {
  return impl_->payload_bytes;
}

void tcp_recorder::stop() {
  if (!impl_->own_io) {
    impl_->close_all();
    return;
  }
  if (!impl_->thread.joinable())
    return;
  std::promise<void> done;
  asio::post(impl_->ex, [&] {
    impl_->close_all();
    done.set_value();
  });
  done.get_future().wait();
  impl_->work.reset();
  impl_->thread.join();
}

}  // namespace cbes::testkit
