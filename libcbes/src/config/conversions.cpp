// The config's conversions to the option structs of the couchbase, dcp and sink layers.
#include <string_view>

#include "cbes/config/conversions.hpp"

namespace cbes::config {
namespace {

// Whether a Java-style host names a port ("h:1", "[::1]:1"); a bare IPv6 literal does not.
bool has_port(std::string_view host) {
  if (const auto scheme = host.find("://"); scheme != std::string_view::npos)
    host.remove_prefix(scheme + 3);
  host = host.substr(0, host.find('/'));
  if (host.starts_with('['))
    return host.find("]:") != std::string_view::npos;
  const auto colon = host.find(':');
  return colon != std::string_view::npos && host.find(':', colon + 1) == std::string_view::npos;
}

couchbase::cluster_options base_cluster_options(const connector_config& config) {
  const auto& c = config.couchbase;
  couchbase::cluster_options o;
  o.seeds = seed_list(c.hosts);
  o.tls.enabled = c.secure_connection;
  o.tls.ca_file = c.ca_certificate.string();
  o.tls.verify_hostname = c.hostname_verification;
  if (c.client_certificate.use) {
    // The certificate authenticates; the Java connector ignores username and password then.
    o.tls.client_keystore = c.client_certificate.path.string();
    o.tls.client_keystore_password = c.client_certificate.password.reveal();
  } else {
    o.username = c.username;
    o.password = c.password.reveal();
  }
  o.network = c.network;
  if (c.env.kv_timeout)
    o.operation_timeout = *c.env.kv_timeout;
  if (c.env.config_poll_interval)
    o.config_poll_interval = *c.env.config_poll_interval;
  return o;
}

}  // namespace

std::string seed_list(const std::vector<std::string>& hosts) {
  std::string out;
  for (const auto& h : hosts) {
    if (!out.empty())
      out += ',';
    out += h;
    // The Java connector reads an unqualified port as the cluster manager's (8091-style) port.
    if (h.find('=') == std::string::npos && h.find("://") == std::string::npos && has_port(h))
      out += "=manager";
  }
  return out;
}

couchbase::cluster_options cluster_options(const connector_config& config) {
  auto o = base_cluster_options(config);
  o.bucket = config.couchbase.bucket;
  // The DCP connections are opened with this cluster's options: `[couchbase.dcp] connectTimeout`.
  o.connect_timeout = config.couchbase.dcp.connect_timeout;
  return o;
}

couchbase::cluster_options metadata_cluster_options(const connector_config& config) {
  auto o = base_cluster_options(config);
  const auto& c = config.couchbase;
  o.bucket = c.metadata_bucket.empty() ? c.bucket : c.metadata_bucket;
  // The Java connector's metadata bucket goes through the SDK: its `timeout.connectTimeout`.
  o.connect_timeout = c.env.connect_timeout.value_or(c.dcp.connect_timeout);
  return o;
}

couchbase::collection metadata_collection(const connector_config& config) {
  const std::string& name = config.couchbase.metadata_collection;
  const auto dot = name.find('.');
  if (dot == std::string::npos)  // validated at load; a hand-built config may skip that
    return {};
  return {name.substr(0, dot), name.substr(dot + 1)};
}

dcp::consumer_options consumer_options(const connector_config& config) {
  dcp::consumer_options o;
  const auto& c = config.couchbase;
  o.name =
      "cbes/" + config.group.name + "/" + std::to_string(config.group.membership.member_number);
  o.buffer_size = static_cast<std::uint32_t>(c.dcp.flow_control_buffer);
  o.compression = c.dcp.compression;
  o.scope = c.scope;
  o.collections = c.collections;
  return o;
}

sink::connection_settings sink_connection_settings(const connector_config& config) {
  const auto& e = config.elasticsearch;
  sink::connection_settings s;
  s.hosts.clear();
  for (const auto& h : e.hosts) {
    // Elastic Cloud listens on 443, not on Elasticsearch's 9200 (the Java connector's default).
    if (e.elastic_cloud && !has_port(h)) {
      s.hosts.push_back(h.substr(0, h.find_last_not_of('/') + 1) + ":443");
    } else if (!e.aws_region.empty()) {
      // An Amazon OpenSearch Service domain listens on 443; another port is ignored, as in Java.
      std::string base = h.substr(0, h.find_last_not_of('/') + 1);
      if (has_port(base))
        base.erase(base.rfind(':'));
      s.hosts.push_back(base + ":443");
    } else
      s.hosts.push_back(h);
  }
  s.secure_connection = e.secure_connection;
  s.ca_file = e.ca_certificate.string();
  if (e.client_certificate.use) {
    // The certificate replaces basic auth (the Java connector's behaviour).
    s.client_keystore = e.client_certificate.path.string();
    s.client_keystore_password = e.client_certificate.password.reveal();
  }
  s.aws_region = e.aws_region;
  if (e.elastic_cloud) {
    s.api_key = e.password.reveal();
  } else if (!e.client_certificate.use && e.aws_region.empty()) {
    s.username = e.username;
    s.password = e.password.reveal();
  }
  s.request_timeout = sink::socket_timeout(e.sink.limits.timeout);
  return s;
}

}  // namespace cbes::config
