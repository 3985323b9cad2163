#pragma once
// From the connector config to the option structs of the layers it configures, so the connector
// only passes them on. Kept apart from connector_config.hpp, which does not need Asio.
//
//   auto cfg = cbes::config::load_connector_config(path, {});
//   auto cluster = co_await couchbase::cluster::connect(ex, cbes::config::cluster_options(*cfg));
//   auto dcp = co_await dcp::consumer::create(*cluster, cbes::config::consumer_options(*cfg));
//   auto conn = cbes::config::sink_connection_settings(*cfg);
//   auto sink = co_await sink::sink::connect(ex, cfg->elasticsearch.sink, conn, callbacks);
#include <string>
#include <vector>

#include "cbes/config/connector_config.hpp"
#include "cbes/couchbase/cluster.hpp"
#include "cbes/dcp/consumer.hpp"
#include "cbes/sink/http_pool.hpp"

namespace cbes::config {

// Options for the bucket that is streamed (DCP): seeds, TLS, credentials (or the client
// certificate's keystore instead), network, timeouts.
//
//   auto cluster = co_await couchbase::cluster::connect(ex, cluster_options(cfg));
couchbase::cluster_options cluster_options(const connector_config& config);

// Options for the bucket that holds the checkpoints (`metadataBucket`, else `bucket`).
//
//   auto meta = co_await couchbase::cluster::connect(ex, metadata_cluster_options(cfg));
couchbase::cluster_options metadata_cluster_options(const connector_config& config);

// The checkpoints' collection (`metadataCollection`).
//
//   co_await meta->lookup_xattr(metadata_collection(cfg), key, "cbes");
couchbase::collection metadata_collection(const connector_config& config);

// DCP consumer options: flow-control buffer, compression, scope / collections filter, and a
// connection name "cbes/<group>/<member>" so workers of one group do not kick each other out.
//
//   auto opts = consumer_options(cfg);  // AO mode: opts.name may be replaced per assignment
//   auto c = co_await dcp::consumer::create(cluster, opts);
dcp::consumer_options consumer_options(const connector_config& config);

// Connection settings of the Elasticsearch sink: hosts (port 443 by default in Elastic Cloud
// mode), basic auth, the Elastic Cloud API key or a client certificate, TLS, and the request
// deadline max(60 s, bulk timeout + 3 s).
//
//   auto pool = sink::http_pool::create(ex, sink_connection_settings(cfg));
sink::connection_settings sink_connection_settings(const connector_config& config);

// The couchbase `hosts` as a seed list for couchbase::parse_seeds(): a `host:port` without
// `=kind` becomes `host:port=manager`, as the Java connector reads it.
//
//   seed_list({"cb1", "cb2:8091", "cb3:11210=kv"});  // "cb1,cb2:8091=manager,cb3:11210=kv"
std::string seed_list(const std::vector<std::string>& hosts);

}  // namespace cbes::config
