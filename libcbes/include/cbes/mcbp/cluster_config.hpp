#pragma once
// GET_CLUSTER_CONFIG (0xb5) and the server-pushed ClustermapChangeNotification (magic 0x82,
// opcode 0x01) (kv_engine's protocol docs). The config JSON itself is parsed by
// parse_bucket_config().
//
//   auto bytes = get_cluster_config_request{}.encode().opaque(9).build();
//   auto push = clustermap_change_notification::decode(f);   // no response is sent
#include <cstdint>
#include <optional>
#include <string>

#include "cbes/mcbp/frame.hpp"
#include "cbes/mcbp/frame_builder.hpp"

namespace cbes::mcbp {

struct config_version {
  std::int64_t epoch = 0;
  std::int64_t revision = 0;
  bool operator==(const config_version&) const = default;
};

struct get_cluster_config_request {
  // With HELLO GetClusterConfigWithKnownVersion: 16-byte extras; the server answers with an
  // empty value unless it has something newer.
  std::optional<config_version> known;

  frame_builder encode() const;
  static result<get_cluster_config_request> decode(const frame& f);
};

struct get_cluster_config_response {
  std::string config;            // JSON; empty when `known` was current
  std::uint8_t datatype = 0x01;  // JSON, or 0x03 when Snappy-compressed (SnappyEverywhere)

  frame_builder encode(status s = status::success) const;
  // Copies the value as sent; inflate with inflate_value() if datatype has the Snappy bit.
  static result<get_cluster_config_response> decode(const frame& f);
};

struct clustermap_change_notification {
  // Legacy 4-byte extras carry only the revision (epoch 0).
  config_version version;
  bool legacy_extras = false;  // encode with 4-byte extras
  std::string bucket;          // empty = global config
  std::string config;          // JSON; empty for the Brief variant
  std::uint8_t datatype = 0x01;

  frame_builder encode() const;
  static result<clustermap_change_notification> decode(const frame& f);
};

}  // namespace cbes::mcbp
