#pragma once
// The worker options a connector config file asks for: the layers' option structs from
// config/conversions.hpp plus the group, membership, checkpoint settings and metadata location.
//
//   auto cfg = cbes::config::load_connector_config(path, {});
//   auto opts = cbes::connector::worker_options_from(*cfg);
//   auto w = co_await cbes::connector::worker::start(ex, opts);
#include "cbes/config/connector_config.hpp"
#include "cbes/connector/worker.hpp"

namespace cbes::connector {

worker_options worker_options_from(const config::connector_config& config);

}  // namespace cbes::connector
