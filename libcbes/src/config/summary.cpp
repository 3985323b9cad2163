#include <sstream>

#include "cbes/config/connector_config.hpp"

namespace cbes::config {
namespace {

// The largest unit that divides the value evenly, the way the config writes durations.
std::string duration_text(std::chrono::milliseconds d) {
  const auto ms = d.count();
  if (ms == 0)
    return "0";
  if (ms % 3'600'000 == 0)
    return std::to_string(ms / 3'600'000) + "h";
  if (ms % 60'000 == 0)
    return std::to_string(ms / 60'000) + "m";
  if (ms % 1000 == 0)
    return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

std::string size_text(std::uint64_t bytes) {
  static constexpr const char* units[] = {"b", "kb", "mb", "gb", "tb", "pb"};
  std::size_t u = 0;
  while (u + 1 < std::size(units) && bytes != 0 && bytes % 1024 == 0) {
    bytes /= 1024;
    ++u;
  }
  return std::to_string(bytes) + units[u];
}

std::string list_text(const std::vector<std::string>& items) {
  std::string out = "[";
  for (const auto& i : items)
    out += (out.size() > 1 ? ", '" : "'") + i + "'";
  return out + "]";
}

std::string bool_text(bool b) {
  return b ? "true" : "false";
}

// " clientCertificate=<keystore> keystorePassword=<redacted>" when the certificate is used.
void client_certificate_text(std::ostream& out, const client_certificate_config& c) {
  if (c.use)
    out << " clientCertificate=" << c.path.string() << " keystorePassword=" << redacted(c.password);
}

template <class T>
std::string optional_text(const std::optional<T>& v) {
  if (!v)
    return "(default)";
  if constexpr (std::is_same_v<T, bool>)
    return bool_text(*v);
  else
    return "'" + *v + "'";
}

}  // namespace

std::string redacted_summary(const connector_config& config) {
  std::ostringstream out;
  const auto& g = config.group;
  out << "config: " << config.origin << '\n';
  out << "group: name='" << g.name << "' member " << g.membership.member_number << " of "
      << g.membership.total_members << '\n';
  out << "logging: logDocumentLifecycle=" << bool_text(config.logging.log_document_lifecycle)
      << " redactionLevel=" << to_string(config.logging.redaction) << '\n';
  out << "metrics: httpPort=" << config.metrics.http_port
      << " logInterval=" << duration_text(config.metrics.log_interval) << '\n';

  const auto& c = config.couchbase;
  out << "couchbase: hosts=" << list_text(c.hosts) << " network=" << c.network << " bucket='"
      << c.bucket << "' metadataBucket='"
      << (c.metadata_bucket.empty() ? c.bucket : c.metadata_bucket)
      << "' metadataCollection=" << c.metadata_collection;
  if (!c.scope.empty())
    out << " scope='" << c.scope << "'";
  if (!c.collections.empty())
    out << " collections=" << list_text(c.collections);
  out << " defaultCheckpoint=" << to_string(c.checkpoint_default) << " username='" << c.username
      << "' password=" << redacted(c.password)
      << " secureConnection=" << bool_text(c.secure_connection);
  if (c.secure_connection)
    out << " caCertificate=" << (c.ca_certificate.empty() ? "(system)" : c.ca_certificate.string())
        << " hostnameVerification=" << bool_text(c.hostname_verification);
  client_certificate_text(out, c.client_certificate);
  out << '\n';
  out << "couchbase.dcp: compression=" << bool_text(c.dcp.compression)
      << " flowControlBuffer=" << size_text(c.dcp.flow_control_buffer)
      << " connectTimeout=" << duration_text(c.dcp.connect_timeout) << '\n';
  if (c.env.kv_timeout || c.env.connect_timeout || c.env.config_poll_interval) {
    out << "couchbase.env:";
    if (c.env.kv_timeout)
      out << " timeout.kvTimeout=" << duration_text(*c.env.kv_timeout);
    if (c.env.connect_timeout)
      out << " timeout.connectTimeout=" << duration_text(*c.env.connect_timeout);
    if (c.env.config_poll_interval)
      out << " io.configPollInterval=" << duration_text(*c.env.config_poll_interval);
    out << '\n';
  }

  const auto& e = config.elasticsearch;
  out << "elasticsearch: hosts=" << list_text(e.hosts) << " username='" << e.username
      << "' password=" << redacted(e.password)
      << " secureConnection=" << bool_text(e.secure_connection);
  if (e.secure_connection)
    out << " caCertificate=" << (e.ca_certificate.empty() ? "(system)" : e.ca_certificate.string());
  client_certificate_text(out, e.client_certificate);
  if (e.elastic_cloud)
    out << " elasticCloud=true";
  out << '\n';
  const auto& s = e.sink;
  out << "elasticsearch.bulkRequestLimits: actions=" << s.limits.actions
      << " bytes=" << size_text(s.limits.bytes) << " timeout=" << duration_text(s.limits.timeout)
      << " concurrentRequests=" << s.limits.concurrent_requests << '\n';
  out << "elasticsearch.docStructure: metadataFieldName='" << s.doc_structure.metadata_field_name
      << "' documentContentAtTopLevel=" << bool_text(s.doc_structure.document_content_at_top_level)
      << " wrapCounters=" << bool_text(s.doc_structure.wrap_counters) << '\n';
  out << "elasticsearch.typeDefaults: index='" << s.defaults.index << "' pipeline='"
      << s.defaults.pipeline << "' ignore=" << bool_text(s.defaults.ignore)
      << " ignoreDeletes=" << bool_text(s.defaults.ignore_deletes)
      << " matchOnQualifiedKey=" << bool_text(s.defaults.match_on_qualified_key) << '\n';
  for (std::size_t i = 0; i < s.types.size(); ++i) {
    const auto& t = s.types[i];
    out << "elasticsearch.type #" << i + 1 << ':';
    if (t.prefix)
      out << " prefix='" << *t.prefix << "'";
    if (t.regex)
      out << " regex='" << *t.regex << "'";
    if (t.index)
      out << " index='" << *t.index << "'";
    if (t.pipeline)
      out << " pipeline='" << *t.pipeline << "'";
    if (t.routing)
      out << " routing='" << *t.routing << "'";
    if (t.ignore)
      out << " ignore=" << optional_text(t.ignore);
    if (t.ignore_deletes)
      out << " ignoreDeletes=" << optional_text(t.ignore_deletes);
    if (t.match_on_qualified_key)
      out << " matchOnQualifiedKey=" << optional_text(t.match_on_qualified_key);
    out << '\n';
  }
  out << "elasticsearch.rejectionLog: "
      << (s.rejection_log.index.empty() ? std::string("disabled")
                                        : "index='" + s.rejection_log.index + "'");
  return out.str();
}

}  // namespace cbes::config
