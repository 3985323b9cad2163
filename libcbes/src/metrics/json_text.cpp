#include "json_text.hpp"

#include <array>
#include <charconv>
#include <cmath>

#include <boost/json.hpp>

namespace cbes::metrics {
namespace {

namespace json = boost::json;

void write_double(std::string& out, double d) {
  if (!std::isfinite(d)) {
    out += "null";
    return;
  }
  std::array<char, 32> buf{};
  auto r = std::to_chars(buf.data(), buf.data() + buf.size(), d);
  const std::string_view text(buf.data(), static_cast<std::size_t>(r.ptr - buf.data()));
  out += text;
  if (text.find_first_of(".e") == std::string_view::npos)
    out += ".0";
}

struct writer {
  std::string out;
  bool pretty;

  void newline(int depth) {
    if (!pretty)
      return;
    out += '\n';
    out.append(static_cast<std::size_t>(depth) * 2, ' ');
  }
  void write(const json::value& v, int depth);
};

void writer::write(const json::value& v, int depth) {
  if (v.is_object()) {
    const auto& o = v.get_object();
    if (o.empty()) {
      out += "{}";
      return;
    }
    out += '{';
    std::size_t i = 0;
    for (const auto& [key, member] : o) {
      newline(depth + 1);
      out += json::serialize(json::string_view(key));
      out += pretty ? " : " : ":";
      write(member, depth + 1);
      if (++i < o.size())
        out += ',';
    }
    newline(depth);
    out += '}';
    return;
  }
  if (v.is_array()) {
    const auto& a = v.get_array();
    if (a.empty()) {
      out += "[]";
      return;
    }
    out += '[';
    for (std::size_t i = 0; i < a.size(); ++i) {
      newline(depth + 1);
      write(a[i], depth + 1);
      if (i + 1 < a.size())
        out += ',';
    }
    newline(depth);
    out += ']';
    return;
  }
  if (v.is_double())
    write_double(out, v.get_double());
  else
    out += json::serialize(v);
}

}  // namespace

std::string json_text(const json::value& v, bool pretty) {
  writer w{.out = {}, .pretty = pretty};
  w.write(v, 0);
  if (pretty)
    w.out += '\n';
  return std::move(w.out);
}

}  // namespace cbes::metrics
