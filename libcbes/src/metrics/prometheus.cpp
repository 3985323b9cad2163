#include "cbes/metrics/prometheus.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <map>

namespace cbes::metrics {
namespace {

// The exposition format writes floats as Go's ParseFloat reads them, with +Inf/-Inf/NaN.
void append_number(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
    return;
  }
  if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
    return;
  }
  std::array<char, 32> buf{};
  auto r = std::to_chars(buf.data(), buf.data() + buf.size(), v);
  out.append(buf.data(), r.ptr);
}

void append_number(std::string& out, std::uint64_t v) {
  out += std::to_string(v);
}

// Label names follow [a-zA-Z_][a-zA-Z0-9_]* (no ':' unlike metric names).
std::string label_name(std::string_view key) {
  std::string out;
  for (char c : key) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    out += ok ? c : '_';
  }
  if (out.empty() || (out[0] >= '0' && out[0] <= '9'))
    out.insert(out.begin(), '_');
  return out;
}

void append_label_value(std::string& out, std::string_view v) {
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
}

std::string labels(const tags& t) {
  if (t.empty())
    return {};
  std::string out = "{";
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (i > 0)
      out += ',';
    out += label_name(t[i].first);
    out += "=\"";
    append_label_value(out, t[i].second);
    out += '"';
  }
  out += '}';
  return out;
}

// HELP text escapes only backslash and newline.
void append_header(std::string& out, const std::string& family, std::string_view help,
                   std::string_view type) {
  out += "# HELP " + family + ' ';
  for (char c : help) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  out += "\n# TYPE " + family + ' ';
  out += type;
  out += '\n';
}

template <class Number>
void append_sample(std::string& out, const std::string& name, const std::string& label_text,
                   Number v) {
  out += name;
  out += label_text;
  out += ' ';
  append_number(out, v);
  out += '\n';
}

constexpr double ns_per_second = 1e9;

}  // namespace

std::string prometheus_name(std::string_view dotted) {
  std::string out;
  out.reserve(dotted.size() + 1);
  for (char c : dotted) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == ':';
    out += ok ? c : '_';
  }
  if (out.empty() || (out[0] >= '0' && out[0] <= '9'))
    out.insert(out.begin(), '_');
  return out;
}

std::string prometheus_text(const std::vector<meter_snapshot>& meters) {
  // A family is every meter of one name: its samples must follow one HELP/TYPE pair.
  std::vector<std::string> order;
  std::map<std::string, std::vector<const meter_snapshot*>> families;
  for (const auto& m : meters) {
    if (!m.prometheus)
      continue;
    auto& f = families[m.name];
    if (f.empty())
      order.push_back(m.name);
    f.push_back(&m);
  }
  std::string out;
  for (const auto& name : order) {
    const auto& f = families[name];
    const auto& first = *f.front();
    const auto base = prometheus_name(name);
    switch (first.kind) {
      case meter_kind::counter: {
        const auto family = base.ends_with("_total") ? base : base + "_total";
        append_header(out, family, first.help, "counter");
        for (const auto* m : f)
          append_sample(out, family, labels(m->tags), m->count);
        break;
      }
      case meter_kind::gauge:
        append_header(out, base, first.help, "gauge");
        for (const auto* m : f)
          append_sample(out, base, labels(m->tags), m->value);
        break;
      case meter_kind::timer: {
        const auto family = base + "_seconds";
        append_header(out, family, first.help, "summary");
        for (const auto* m : f) {
          const auto l = labels(m->tags);
          append_sample(out, family + "_count", l, m->count);
          append_sample(out, family + "_sum", l, static_cast<double>(m->total_ns) / ns_per_second);
        }
        // A summary family holds only _count/_sum/quantiles, so the max is a gauge of its own
        // (what Micrometer's Prometheus registry does too).
        append_header(out, family + "_max", first.help, "gauge");
        for (const auto* m : f)
          append_sample(out, family + "_max", labels(m->tags),
                        static_cast<double>(m->max_ns) / ns_per_second);
        break;
      }
    }
  }
  return out;
}

std::string prometheus_text(const registry& r) {
  return prometheus_text(r.snapshot());
}

}  // namespace cbes::metrics
