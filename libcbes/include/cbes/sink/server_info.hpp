#pragma once
// What `GET /` says about the server, and whether the sink may write to it
// (the Java connector's behaviour, Elasticsearch's REST API docs). The version sniff asks every
// host, retries with back-off until a deadline, and refuses servers that are too old.
//
//   auto info = co_await cbes::sink::sniff(pool, {.deadline = std::chrono::minutes(2)});
//   if (!info) return fail(info.error().what());  // e.g. "... Elasticsearch 7.10.2 is too old"
//   log(info->describe());                          // "Elasticsearch 8.1.0"
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>

#include "cbes/sink/error.hpp"

namespace cbes::sink {

class http_pool;

enum class distribution { elasticsearch, opensearch };

struct server_version {
  int major = 0, minor = 0, patch = 0;
  auto operator<=>(const server_version&) const = default;
};

struct server_info {
  distribution flavour = distribution::elasticsearch;
  server_version version{};
  std::string version_text;  // `version.number` as sent, e.g. "8.1.0-SNAPSHOT"
  // OpenSearch recognised by its tagline only: compatibility mode, which reports a fake
  // "7.10.2" and no `distribution` (Elasticsearch's REST API docs).
  bool compatibility_mode = false;

  // "Elasticsearch 8.1.0" / "OpenSearch 2.11.0".
  std::string describe() const;
};

// Minimum versions (the Java connector's behaviour): older servers lack what the sink needs.
inline constexpr server_version minimum_elasticsearch{7, 14, 0};
inline constexpr server_version minimum_opensearch{1, 3, 3};

// Parses a `GET /` body. Sniff order of Elasticsearch's REST API docs: `version.distribution ==
// "opensearch"`, else a tagline starting "The OpenSearch Project", else Elasticsearch.
//
//   parse_server_info(R"({"version":{"number":"7.17.5"},"tagline":"You Know, for Search"})");
result<server_info> parse_server_info(std::string_view body);

// nullopt when the sink supports this server; otherwise the one-line refusal.
//
//   check_supported(info);  // "Elasticsearch 7.10.2 is not supported: the minimum is 7.14.0"
std::optional<std::string> check_supported(const server_info& info);

struct sniff_settings {
  std::chrono::milliseconds deadline = std::chrono::minutes(2);  // "within PT2M"
  std::chrono::milliseconds first_delay = std::chrono::seconds(2);
  std::chrono::milliseconds max_delay = std::chrono::minutes(1);
};

// `GET /` on every host in turn until one answers 200 with a root document; retries with
// back-off (first_delay doubling up to max_delay) until `deadline`. Credentials refused (401/403)
// and unsupported versions fail at once; the error message names the setting to fix.
boost::asio::awaitable<result<server_info>> sniff(http_pool& pool, sniff_settings settings = {});

}  // namespace cbes::sink
