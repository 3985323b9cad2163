#pragma once
// HELLO (0x1f; kv_engine's protocol docs): key = agent name, value = u16 feature codes; the
// response lists the features the server agreed to, in request order.
//
//   auto bytes = hello_request{"cbes/0.1", {feature::xerror,
//   feature::json}}.encode().opaque(1).build(); auto agreed = hello_response::decode(f);   //
//   agreed->has(feature::json)
#include <string>
#include <vector>

#include "cbes/mcbp/feature.hpp"
#include "cbes/mcbp/frame.hpp"
#include "cbes/mcbp/frame_builder.hpp"

namespace cbes::mcbp {

struct hello_request {
  std::string agent;
  std::vector<feature> features;  // unknown codes from a peer are kept as their numeric value

  frame_builder encode() const;
  // errc::bad_value for an odd-length value.
  static result<hello_request> decode(const frame& f);
  bool has(feature x) const noexcept;
};

struct hello_response {
  std::vector<feature> features;

  frame_builder encode(status s = status::success) const;
  static result<hello_response> decode(const frame& f);
  bool has(feature x) const noexcept;
};

}  // namespace cbes::mcbp
