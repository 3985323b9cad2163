#pragma once
// The connector's TOML configuration (the Java connector's schema, keys and code defaults), read
// into typed structs, and the conversions to the option structs of the layers that use it.
//
//   cbes::config::load_options lo;  // process environment, paths relative to $CBES_HOME or the
//   file auto cfg = cbes::config::load_connector_config("config/default-connector.toml", lo); if
//   (!cfg) { std::cerr << cfg.error().what() << '\n'; return 1; } for (const auto& w :
//   cfg->warnings) log_warn(w); log_info(cbes::config::redacted_summary(*cfg)); auto cluster =
//   co_await couchbase::cluster::connect(ex, cbes::config::cluster_options(*cfg)); auto dcp =
//   co_await dcp::consumer::create(*cluster, cbes::config::consumer_options(*cfg)); auto sink =
//   co_await sink::sink::connect(ex, cfg->elasticsearch.sink,
//                                            cbes::config::sink_connection_settings(*cfg), cb);
//
// Reading rules (the Java connector's behaviour, and where cbes is stricter):
// - `${VAR}` / `${VAR:default}` are substituted in the raw text first (env.hpp).
// - Booleans: TOML booleans or the strings "true"/"false". Integers: TOML integers or numeric
//   strings. Durations: Go syntax ("100ms", "1h30m", "0"). Sizes: integer + unit ("16mb").
// - Unknown keys are errors everywhere, `[couchbase.dcp]` included (the Java connector does not
//   check that table, so a typo there went unnoticed). `[couchbase.env]` is free-form: the few
//   Java SDK settings with a cbes equivalent are used, every other one is a warning.
// - Deprecated or unused keys (`typeName`, `[truststore]`, `persistencePollingInterval`) are
//   accepted with a warning.
// - Every problem is reported, each with file:line:column; nothing is returned half-filled.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cbes/config/error.hpp"
#include "cbes/config/load_options.hpp"
#include "cbes/config/secret.hpp"
#include "cbes/sink/settings.hpp"

namespace cbes::config {

// The largest group the Java connector accepts (a larger one is usually an unset
// ${CBES_TOTAL_MEMBERS}).
inline constexpr int max_total_members = 1024;

enum class redaction_level { none, partial, full };
enum class default_checkpoint { zero, now };

// "NONE" / "PARTIAL" / "FULL" and "ZERO" / "NOW", as the config writes them.
std::string_view to_string(redaction_level level) noexcept;
std::string_view to_string(default_checkpoint checkpoint) noexcept;

// `[group.static]`: this worker's place in a static group (overridden in AO mode).
struct static_membership {
  int member_number = 1;  // 1..total_members
  int total_members = 1;  // 1..1024
};

// `[group]`.
struct group_config {
  std::string name{};  // required
  static_membership membership{};
};

// `[logging]`.
struct logging_config {
  bool log_document_lifecycle = false;
  redaction_level redaction = redaction_level::none;
};

// `[metrics]`.
struct metrics_config {
  int http_port = -1;                                                // -1 disabled, 0 ephemeral
  std::chrono::milliseconds log_interval = std::chrono::minutes(1);  // 0 disables
};

// `[couchbase.clientCertificate]` / `[elasticsearch.clientCertificate]`: mutual TLS with a PKCS12
// keystore. `use = true` needs the section's `secureConnection = true`; the certificate then
// authenticates instead of username and password (Couchbase: no SASL; Elasticsearch: no basic
// auth). The keystore itself is opened when connecting.
struct client_certificate_config {
  bool use = false;
  std::filesystem::path path{};  // absolute after loading; an existing file when `use`
  secret password{};             // the keystore's password, read only when `use`
};

// `[couchbase.dcp]`.
struct couchbase_dcp_config {
  bool compression = true;
  std::uint64_t flow_control_buffer = 16 * 1024 * 1024;  // "16mb"
  // Accepted for compatibility; cbes's consumer does not poll persistence (warned when set).
  std::chrono::milliseconds persistence_polling_interval{100};
  std::chrono::milliseconds connect_timeout = std::chrono::seconds(10);
};

// The `[couchbase.env]` Java SDK settings cbes has an equivalent for (flattened key names).
struct couchbase_env_config {
  std::optional<std::chrono::milliseconds> kv_timeout{};            // timeout.kvTimeout
  std::optional<std::chrono::milliseconds> connect_timeout{};       // timeout.connectTimeout
  std::optional<std::chrono::milliseconds> config_poll_interval{};  // io.configPollInterval
};

// `[couchbase]`.
struct couchbase_config {
  // Java host syntax: `host`, `host:port` (a manager port, as the Java connector reads it),
  // `host:port=kv|manager`.
  std::vector<std::string> hosts{};
  std::string network = "auto";
  std::string bucket = "default";
  std::string metadata_bucket{};  // empty: the same as `bucket`
  std::string metadata_collection = "_default._default";
  std::string scope{};                     // empty: not filtered by scope
  std::vector<std::string> collections{};  // "scope.collection"; exclusive with scope
  default_checkpoint checkpoint_default = default_checkpoint::zero;
  std::string username{};
  secret password{};
  bool secure_connection = false;
  std::filesystem::path ca_certificate{};  // PEM, absolute after loading; empty: system CAs
  bool hostname_verification = true;
  client_certificate_config client_certificate{};
  couchbase_dcp_config dcp{};
  couchbase_env_config env{};
};

// `[elasticsearch]`; the sink's own settings (`docStructure`, `typeDefaults`, `type`,
// `bulkRequestLimits`, `rejectionLog`) are kept in the sink's type, already validated.
struct elasticsearch_config {
  std::vector<std::string> hosts{};
  std::string username{};
  secret password{};  // the API key in Elastic Cloud mode
  bool secure_connection = false;
  std::filesystem::path ca_certificate{};
  client_certificate_config client_certificate{};
  bool elastic_cloud = false;
  // Amazon OpenSearch Service: requests signed with AWS SigV4 (credentials from the environment
  // or ~/.aws/credentials), one host, port 443, secureConnection required.
  std::string aws_region{};
  sink::sink_settings sink{};
};

struct connector_config {
  std::string origin{};  // the file (or other source) it was read from
  group_config group{};
  logging_config logging{};
  metrics_config metrics{};
  couchbase_config couchbase{};
  elasticsearch_config elasticsearch{};
  // Accepted but ignored or deprecated settings, one line each with its position.
  std::vector<std::string> warnings{};
};

// Reads, substitutes and validates a connector config file. A missing file gives
// "Config file not found at <absolute path>".
//
//   auto cfg = load_connector_config("config/default-connector.toml", {});
result<connector_config> load_connector_config(const std::filesystem::path& file,
                                               const load_options& options);

// The same for text already in memory (e.g. from Consul KV); `origin` names it in messages.
//
//   auto cfg = parse_connector_config(text, "consul:couchbase/cbes/g1/config", opts);
result<connector_config> parse_connector_config(std::string_view text, std::string_view origin,
                                                const load_options& options);

// The effective configuration for the startup log, one setting group per line; passwords and
// tokens appear as "<redacted>".
//
//   log_info("effective configuration:\n" + redacted_summary(cfg));
std::string redacted_summary(const connector_config& config);

}  // namespace cbes::config
