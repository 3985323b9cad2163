#include "cbes/sink/server_info.hpp"

#include <algorithm>
#include <charconv>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "cbes/sink/http_pool.hpp"

namespace cbes::sink {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;

std::string text_of(const server_version& v) {
  return std::to_string(v.major) + "." + std::to_string(v.minor) + "." + std::to_string(v.patch);
}

const json::string* string_at(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v ? v->if_string() : nullptr;
}

std::string excerpt(std::string_view body) {
  std::string out;
  for (char c : body.substr(0, 200))
    out += (c >= 0x20 && c < 0x7F) ? c : '?';
  if (body.size() > 200)
    out += "...";
  return out;
}

std::string credential_hint(const http_pool& pool) {
  return pool.settings().api_key.empty()
             ? "check elasticsearch.username and elasticsearch.pathToPassword"
             : "check the API key (elasticsearch.elasticCloud, elasticsearch.pathToPassword)";
}

}  // namespace

std::string server_info::describe() const {
  std::string out = flavour == distribution::opensearch ? "OpenSearch " : "Elasticsearch ";
  out += version_text.empty() ? text_of(version) : version_text;
  if (compatibility_mode)
    out += " (compatibility mode)";
  return out;
}

result<server_info> parse_server_info(std::string_view body) {
  auto bad = [&](std::string why) {
    return make_error(errc::bad_response, "GET / did not return an Elasticsearch root document (" +
                                              why + "): " + excerpt(body));
  };
  boost::system::error_code ec;
  json::parse_options opt;
  opt.max_depth = 16;
  json::value v = json::parse(json::string_view(body.data(), body.size()), ec, {}, opt);
  if (ec)
    return bad(ec.message());
  const auto* top = v.if_object();
  const auto* version = top ? top->if_contains("version") : nullptr;
  const auto* vobj = version ? version->if_object() : nullptr;
  const auto* number = vobj ? string_at(*vobj, "number") : nullptr;
  if (!number)
    return bad("no version.number");
  server_info info;
  info.version_text = std::string(*number);
  // "major.minor.patch" with optional suffix ("-SNAPSHOT", "-rc1").
  int parts[3] = {0, 0, 0};
  const char* p = number->data();
  const char* end = p + number->size();
  for (int i = 0; i < 3; ++i) {
    auto [next, err] = std::from_chars(p, end, parts[i]);
    if (err != std::errc() || parts[i] < 0)
      return bad("version.number '" + info.version_text + "' is not major.minor.patch");
    p = next;
    if (i < 2) {
      if (p == end || *p != '.')
        return bad("version.number '" + info.version_text + "' is not major.minor.patch");
      ++p;
    }
  }
  info.version = {parts[0], parts[1], parts[2]};
  const auto* dist = string_at(*vobj, "distribution");
  const auto* tagline = string_at(*top, "tagline");
  if (dist && *dist == "opensearch") {
    info.flavour = distribution::opensearch;
  } else if (tagline && tagline->subview().starts_with("The OpenSearch Project")) {
    info.flavour = distribution::opensearch;
    info.compatibility_mode = true;
  }
  return info;
}

std::optional<std::string> check_supported(const server_info& info) {
  // In compatibility mode the real version is hidden; it is OpenSearch >= 1.0 (the setting
  // appeared then), which the sink can write to.
  if (info.compatibility_mode)
    return std::nullopt;
  const auto& minimum =
      info.flavour == distribution::opensearch ? minimum_opensearch : minimum_elasticsearch;
  if (info.version < minimum)
    return info.describe() + " is not supported: the minimum is " + text_of(minimum) +
           " (the Java connector's behaviour); upgrade the cluster";
  return std::nullopt;
}

asio::awaitable<result<server_info>> sniff(http_pool& pool, sniff_settings settings) {
  const auto start = std::chrono::steady_clock::now();
  const auto deadline = start + settings.deadline;
  auto delay = settings.first_delay;
  std::string last_error = "no host tried";
  bool closed_on_plain = false;
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    for (std::size_t h = 0; h < pool.hosts().size(); ++h) {
      auto r = co_await pool.request_host(h, http_method::get, "/");
      const std::string url = pool.hosts()[h].url();
      if (!r) {
        if (r.error().code == errc::closed || r.error().code == errc::invalid_argument)
          co_return r.error();  // stopped, or settings no retry fixes (a rejected certificate)
        if (r.error().code == errc::connection_closed && !pool.hosts()[h].tls)
          closed_on_plain = true;
        last_error = r.error().message;
        continue;
      }
      if (r->status == 401 || r->status == 403)
        co_return make_error(errc::authentication_failed, url + " refused the credentials (HTTP " +
                                                              std::to_string(r->status) + "); " +
                                                              credential_hint(pool));
      if (r->status != 200) {
        last_error = url + " answered GET / with HTTP " + std::to_string(r->status);
        continue;
      }
      auto info = parse_server_info(r->body);
      if (!info) {
        last_error = url + ": " + info.error().message;
        continue;
      }
      if (auto refusal = check_supported(*info))
        co_return make_error(errc::unsupported_server, url + ": " + *refusal);
      co_return *info;
    }
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline)
      break;
    const auto wait = std::min<std::chrono::steady_clock::duration>(delay, deadline - now);
    timer.expires_after(wait);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    delay = std::min(delay * 2, settings.max_delay);
  }
  std::string msg = "failed to connect to Elasticsearch within " +
                    std::to_string(settings.deadline.count()) + " ms; last error: " + last_error;
  if (closed_on_plain)
    msg += " (if the server uses TLS, set elasticsearch.secureConnection = true)";
  co_return make_error(errc::timeout, msg);
}

}  // namespace cbes::sink
