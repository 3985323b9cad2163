// libFuzzer target: raw HTTP responses as Consul agents and Elasticsearch nodes could send them,
// through Beast's response parser with the limits our clients set (8 KiB of headers, a body
// limit) in input-chosen pieces, then through what our clients read from a parsed response:
// Consul's X-Consul-* headers and KV body, Elasticsearch's root document and version check.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <boost/beast/core/buffers_prefix.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "cbes/sink/server_info.hpp"
#include "consul/codec.hpp"

namespace http = boost::beast::http;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1)
    return 0;
  // The first byte picks the size of the pieces the bytes arrive in (1..256).
  const std::size_t piece = std::size_t{data[0]} + 1;
  const std::string_view raw(reinterpret_cast<const char*>(data) + 1, size - 1);
  http::response_parser<http::string_body> p;
  p.header_limit(8 * 1024);
  p.body_limit(1024 * 1024);
  p.eager(true);
  std::string pending;
  std::size_t at = 0;
  boost::system::error_code ec;
  while (!p.is_done()) {
    if (at < raw.size()) {
      pending.append(raw.substr(at, piece));
      at += piece;
    } else if (pending.empty()) {
      p.put_eof(ec);
      break;
    }
    const auto used = p.put(boost::asio::buffer(pending), ec);
    pending.erase(0, used);
    if (ec == http::error::need_more) {
      ec = {};
      if (at >= raw.size() && used == 0) {
        p.put_eof(ec);
        break;
      }
      continue;
    }
    if (ec)
      return 0;  // refused: a client closes the connection here
  }
  if (ec || !p.is_done())
    return 0;
  const auto& res = p.get();
  auto header = [&](std::string_view name) {
    auto it = res.find(name);
    return it == res.end() ? std::string_view{} : std::string_view(it->value());
  };
  static_cast<void>(consul::parse_query_meta(
      header("X-Consul-Index"), header("X-Consul-KnownLeader"), header("X-Consul-LastContact")));
  static_cast<void>(consul::parse_kv_pairs(res.body()));
  if (auto info = cbes::sink::parse_server_info(res.body()))
    static_cast<void>(cbes::sink::check_supported(*info));
  return 0;
}
