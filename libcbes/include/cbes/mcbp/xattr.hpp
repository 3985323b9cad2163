#pragma once
// The xattr section that starts a value whose datatype has bit 0x04 (kv_engine's protocol docs,
// xattrs): `u32 total` then pairs `u32 len, key, NUL, value, NUL`, then the document body.
// Inflate Snappy first.
//
//   std::string v = cbes::mcbp::encode_xattrs({{"cbes", R"({"seqno":1})"}}, "");
//   auto doc = cbes::mcbp::decode_xattrs(v);   // doc->xattrs[0].key == "cbes", doc->body == ""
#include <string>
#include <string_view>
#include <vector>

#include "cbes/mcbp/error.hpp"

namespace cbes::mcbp {

struct xattr {
  std::string key;
  std::string value;  // usually JSON text
  bool operator==(const xattr&) const = default;
};

struct xattr_view {
  std::string_view key;
  std::string_view value;
};

struct xattr_document {
  std::vector<xattr_view> xattrs;  // in wire order; views into the decoded bytes
  std::string_view body;

  // First xattr with `key`, or nullptr.
  const xattr_view* find(std::string_view key) const noexcept;
};

// Keys starting with `_` are system xattrs.
inline bool is_system_xattr(std::string_view key) noexcept {
  return !key.empty() && key.front() == '_';
}

// The value bytes for datatype XATTR: section followed by `body`. Keys or values containing NUL
// are programmer errors (std::invalid_argument).
std::string encode_xattrs(const std::vector<xattr>& xattrs, std::string_view body);

// errc::bad_xattr when any length runs past its container or a NUL terminator is missing.
result<xattr_document> decode_xattrs(std::string_view value);

}  // namespace cbes::mcbp
