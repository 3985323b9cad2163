#include "cbes/connector/from_config.hpp"

#include "cbes/config/conversions.hpp"

namespace cbes::connector {

worker_options worker_options_from(const config::connector_config& config) {
  worker_options o;
  o.group = config.group.name;
  o.couchbase = config::cluster_options(config);
  o.dcp = config::consumer_options(config);
  o.sink = config.elasticsearch.sink;
  o.elasticsearch = config::sink_connection_settings(config);
  // The Java connector waits up to 2 minutes for Elasticsearch at start; 30 s tells an
  // operator about a wrong host or a stopped cluster sooner (a supervisor restarts cbes).
  o.sniffing.deadline = std::chrono::seconds(30);
  o.log_document_lifecycle = config.logging.log_document_lifecycle;
  o.member_number = config.group.membership.member_number;
  o.total_members = config.group.membership.total_members;
  o.start_from = config.couchbase.checkpoint_default == config::default_checkpoint::now
                     ? default_checkpoint::now
                     : default_checkpoint::zero;
  const auto meta = config::metadata_cluster_options(config);
  if (meta.bucket != o.couchbase.bucket)
    o.metadata_bucket = meta.bucket;
  const auto coll = config::metadata_collection(config);
  o.metadata_scope = coll.scope;
  o.metadata_collection = coll.name;
  return o;
}

}  // namespace cbes::connector
