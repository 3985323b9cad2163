#include "cbes/mcbp/cluster_config.hpp"

#include "body.hpp"
#include "bytes.hpp"

namespace cbes::mcbp {

frame_builder get_cluster_config_request::encode() const {
  auto b = frame_builder::request(opcode::get_cluster_config);
  if (known) {
    std::string extras;
    detail::put_u64(extras, static_cast<std::uint64_t>(known->epoch));
    detail::put_u64(extras, static_cast<std::uint64_t>(known->revision));
    b.extras(extras);
  }
  return b;
}

result<get_cluster_config_request> get_cluster_config_request::decode(const frame& f) {
  if (auto ec = detail::expect(f, opcode::get_cluster_config, detail::direction::request))
    return ec;
  if (!f.key.empty())
    return errc::bad_key;
  if (!f.value.empty())
    return errc::bad_value;
  get_cluster_config_request out;
  if (f.extras.size() == 16)
    out.known = config_version{static_cast<std::int64_t>(detail::load_u64(f.extras, 0)),
                               static_cast<std::int64_t>(detail::load_u64(f.extras, 8))};
  else if (!f.extras.empty())
    return errc::bad_extras;
  return out;
}

frame_builder get_cluster_config_response::encode(status s) const {
  return frame_builder::response(opcode::get_cluster_config, s).datatype(datatype).value(config);
}

result<get_cluster_config_response> get_cluster_config_response::decode(const frame& f) {
  if (auto ec = detail::expect_bare(f, opcode::get_cluster_config, detail::direction::response))
    return ec;
  return get_cluster_config_response{std::string(f.value), f.datatype()};
}

frame_builder clustermap_change_notification::encode() const {
  std::string extras;
  if (legacy_extras) {
    detail::put_u32(extras, static_cast<std::uint32_t>(version.revision));
  } else {
    detail::put_u64(extras, static_cast<std::uint64_t>(version.epoch));
    detail::put_u64(extras, static_cast<std::uint64_t>(version.revision));
  }
  return frame_builder::server_request(server_opcode::clustermap_change_notification)
      .extras(extras)
      .key(bucket)
      .datatype(config.empty() ? std::uint8_t{0} : datatype)
      .value(config);
}

result<clustermap_change_notification> clustermap_change_notification::decode(const frame& f) {
  if (f.magic() != magic::server_request)
    return errc::unexpected_magic;
  if (f.server_opcode() != server_opcode::clustermap_change_notification)
    return errc::unexpected_opcode;
  clustermap_change_notification out;
  if (f.extras.size() == 4) {
    out.legacy_extras = true;
    out.version.revision = detail::load_u32(f.extras, 0);
  } else if (f.extras.size() == 16) {
    out.version.epoch = static_cast<std::int64_t>(detail::load_u64(f.extras, 0));
    out.version.revision = static_cast<std::int64_t>(detail::load_u64(f.extras, 8));
  } else {
    return errc::bad_extras;
  }
  out.bucket = f.key;
  out.config = f.value;
  out.datatype = f.datatype();
  return out;
}

}  // namespace cbes::mcbp
