#include "cbes/mcbp/xattr.hpp"

#include <stdexcept>

#include "bytes.hpp"

namespace cbes::mcbp {

const xattr_view* xattr_document::find(std::string_view key) const noexcept {
  for (const auto& x : xattrs)
    if (x.key == key)
      return &x;
  return nullptr;
}

std::string encode_xattrs(const std::vector<xattr>& xattrs, std::string_view body) {
  std::string section;
  for (const auto& x : xattrs) {
    if (x.key.find('\0') != std::string::npos || x.value.find('\0') != std::string::npos)
      throw std::invalid_argument("xattr key or value contains NUL");
    detail::put_u32(section, static_cast<std::uint32_t>(x.key.size() + 1 + x.value.size() + 1));
    section += x.key;
    section.push_back('\0');
    section += x.value;
    section.push_back('\0');
  }
  std::string out;
  out.reserve(4 + section.size() + body.size());
  detail::put_u32(out, static_cast<std::uint32_t>(section.size()));
  out += section;
  out.append(body);
  return out;
}

result<xattr_document> decode_xattrs(std::string_view value) {
  detail::reader r{value};
  const auto total = r.u32();
  if (!total)
    return errc::bad_xattr;
  const auto section = r.take(*total);
  if (!section)
    return errc::bad_xattr;
  xattr_document doc;
  detail::reader pairs{*section};
  while (!pairs.empty()) {
    const auto len = pairs.u32();
    if (!len)
      return errc::bad_xattr;
    const auto pair = pairs.take(*len);
    if (!pair)
      return errc::bad_xattr;
    // pair = key NUL value NUL; the key is non-empty and neither part contains NUL.
    const auto key_end = pair->find('\0');
    if (key_end == std::string_view::npos || key_end == 0 || pair->back() != '\0')
      return errc::bad_xattr;
    const std::string_view v = pair->substr(key_end + 1);
    if (v.empty() || v.find('\0') != v.size() - 1)
      return errc::bad_xattr;
    doc.xattrs.push_back({pair->substr(0, key_end), v.substr(0, v.size() - 1)});
  }
  doc.body = value.substr(4 + *total);
  return doc;
}

}  // namespace cbes::mcbp
