#include "cbes/metrics/dropwizard.hpp"

#include <cctype>

#include <boost/json.hpp>

#include "json_text.hpp"

namespace cbes::metrics {
namespace {

namespace json = boost::json;

constexpr double ns_per_ms = 1e6;

// Count first, then the rates, as Dropwizard's JSON module writes a meter.
json::object counted(const meter_snapshot& m) {
  return json::object{{"count", m.count},
                      {"m15_rate", m.rate.m15},
                      {"m1_rate", m.rate.m1},
                      {"m5_rate", m.rate.m5},
                      {"mean_rate", m.rate.mean}};
}

}  // namespace

std::string dropwizard_name(const meter_snapshot& m) {
  std::string out;
  bool first_segment = true;
  bool upper_next = false;
  for (char c : m.name) {
    if (c == '.') {
      if (first_segment)
        out += '.';
      else
        upper_next = true;
      first_segment = false;
      continue;
    }
    out += upper_next ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
    upper_next = false;
  }
  if (!m.tags.empty()) {
    out += '{';
    for (std::size_t i = 0; i < m.tags.size(); ++i) {
      if (i > 0)
        out += ',';
      out += m.tags[i].first + '=' + m.tags[i].second;
    }
    out += '}';
  }
  return out;
}

std::string dropwizard_json(const std::vector<meter_snapshot>& meters, bool pretty) {
  json::object gauges, meters_out, timers;
  for (const auto& m : meters) {
    const auto name = dropwizard_name(m);
    switch (m.kind) {
      case meter_kind::gauge:
        gauges[name] = json::object{{"value", m.value}};
        break;
      case meter_kind::counter: {
        auto o = counted(m);
        o["units"] = "events/second";
        meters_out[name] = std::move(o);
        break;
      }
      case meter_kind::timer: {
        auto o = counted(m);
        o["max"] = static_cast<double>(m.max_ns) / ns_per_ms;
        o["mean"] = m.count == 0 ? 0.0
                                 : static_cast<double>(m.total_ns) / ns_per_ms /
                                       static_cast<double>(m.count);
        o["duration_units"] = "milliseconds";
        o["rate_units"] = "calls/second";
        timers[name] = std::move(o);
        break;
      }
    }
  }
  json::object root{{"version", "4.0.0"},
                    {"gauges", std::move(gauges)},
                    {"counters", json::object{}},
                    {"histograms", json::object{}},
                    {"meters", std::move(meters_out)},
                    {"timers", std::move(timers)}};
  return json_text(root, pretty);
}

std::string dropwizard_json(const registry& r, bool pretty) {
  return dropwizard_json(r.snapshot(), pretty);
}

}  // namespace cbes::metrics
