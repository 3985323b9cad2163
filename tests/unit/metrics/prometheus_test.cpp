// Prometheus text format 0.0.4 output, read back by a strict parser of the exposition format
// (Prometheus' "Exposition formats" docs): metric and label name rules, one HELP/TYPE per family
// before its samples, samples of a family together, summary suffixes, escapes, float values.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <map>
#include <set>
#include <sstream>

#include "cbes/metrics/connector_metrics.hpp"
#include "cbes/metrics/prometheus.hpp"

using namespace cbes::metrics;
using namespace std::chrono_literals;

namespace {

struct sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct family {
  std::string type;
  std::string help;
  bool has_help = false;
  std::vector<sample> samples;
};

bool metric_name_ok(std::string_view n) {
  if (n.empty() || (n[0] >= '0' && n[0] <= '9'))
    return false;
  for (char c : n)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != ':')
      return false;
  return true;
}

bool label_name_ok(std::string_view n) {
  return metric_name_ok(n) && n.find(':') == std::string_view::npos && !n.starts_with("__");
}

// The family a sample belongs to, given the TYPE lines seen so far.
std::string family_of(const std::string& sample_name, const std::map<std::string, family>& fams) {
  for (std::string_view suffix : {"_count", "_sum", "_bucket"}) {
    if (sample_name.ends_with(suffix)) {
      auto base = sample_name.substr(0, sample_name.size() - suffix.size());
      auto it = fams.find(base);
      if (it != fams.end() && (it->second.type == "summary" || it->second.type == "histogram"))
        return base;
    }
  }
  return sample_name;
}

// Parses the whole text or fails the test at the first violation, naming the line.
std::map<std::string, family> parse_strict(const std::string& text) {
  REQUIRE((text.empty() || text.back() == '\n'));
  std::map<std::string, family> fams;
  std::set<std::string> closed;  // families whose samples ended: none may follow
  std::string current;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    INFO("line: " << line);
    REQUIRE(!line.empty());
    if (line.starts_with("# HELP ") || line.starts_with("# TYPE ")) {
      const bool help = line[2] == 'H';
      auto rest = line.substr(7);
      auto sp = rest.find(' ');
      auto name = rest.substr(0, sp);
      REQUIRE(metric_name_ok(name));
      auto& f = fams[name];
      REQUIRE(f.samples.empty());  // metadata comes before the samples
      if (help) {
        REQUIRE_FALSE(f.has_help);
        f.has_help = true;
        std::string doc = sp == std::string::npos ? "" : rest.substr(sp + 1);
        std::string unescaped;
        for (std::size_t i = 0; i < doc.size(); ++i) {
          if (doc[i] == '\\') {
            REQUIRE(i + 1 < doc.size());
            const char e = doc[++i];
            REQUIRE((e == '\\' || e == 'n'));
            unescaped += e == 'n' ? '\n' : '\\';
          } else {
            unescaped += doc[i];
          }
        }
        f.help = unescaped;
      } else {
        REQUIRE(f.type.empty());
        REQUIRE(sp != std::string::npos);
        f.type = rest.substr(sp + 1);
        REQUIRE((f.type == "counter" || f.type == "gauge" || f.type == "summary" ||
                 f.type == "histogram" || f.type == "untyped"));
      }
      continue;
    }
    REQUIRE(line[0] != '#');
    sample s;
    std::size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ')
      ++i;
    s.name = line.substr(0, i);
    REQUIRE(metric_name_ok(s.name));
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (true) {
        REQUIRE(i < line.size());
        if (line[i] == '}') {
          ++i;
          break;
        }
        auto eq = line.find('=', i);
        REQUIRE(eq != std::string::npos);
        auto lname = line.substr(i, eq - i);
        REQUIRE(label_name_ok(lname));
        REQUIRE(line.at(eq + 1) == '"');
        std::string value;
        i = eq + 2;
        while (true) {
          REQUIRE(i < line.size());
          const char c = line[i++];
          if (c == '"')
            break;
          if (c == '\\') {
            REQUIRE(i < line.size());
            const char e = line[i++];
            REQUIRE((e == '\\' || e == '"' || e == 'n'));
            value += e == 'n' ? '\n' : e;
          } else {
            REQUIRE(c != '\n');
            value += c;
          }
        }
        REQUIRE(s.labels.emplace(lname, value).second);  // no repeated label
        REQUIRE(i < line.size());
        if (line[i] == ',')
          ++i;
      }
    }
    REQUIRE(i < line.size());
    REQUIRE(line[i] == ' ');
    auto value_text = line.substr(i + 1);
    REQUIRE(value_text.find(' ') == std::string::npos);  // no timestamps here
    if (value_text == "+Inf" || value_text == "-Inf" || value_text == "NaN") {
      s.value = value_text == "NaN" ? std::nan("") : (value_text[0] == '+' ? 1 : -1) * HUGE_VAL;
    } else {
      char* end = nullptr;
      s.value = std::strtod(value_text.c_str(), &end);
      REQUIRE(end == value_text.c_str() + value_text.size());
      REQUIRE(!value_text.empty());
    }
    const auto fam = family_of(s.name, fams);
    if (fam != current) {
      REQUIRE(closed.count(fam) == 0);  // a family's samples stay together
      if (!current.empty())
        closed.insert(current);
      current = fam;
    }
    auto it = fams.find(fam);
    REQUIRE(it != fams.end());
    REQUIRE(!it->second.type.empty());
    if (it->second.type == "counter")
      REQUIRE(s.name.ends_with("_total"));
    it->second.samples.push_back(std::move(s));
  }
  return fams;
}

const sample& only(const family& f, std::string_view name) {
  const sample* found = nullptr;
  for (const auto& s : f.samples)
    if (s.name == name) {
      REQUIRE(found == nullptr);
      found = &s;
    }
  REQUIRE(found != nullptr);
  return *found;
}

}  // namespace

TEST_CASE("prometheus names are snake case with invalid characters replaced") {
  CHECK(prometheus_name("cbes.throughput.bytes") == "cbes_throughput_bytes");
  CHECK(prometheus_name("jvm.gc-pause") == "jvm_gc_pause");
  CHECK(prometheus_name("9lives") == "_9lives");
}

TEST_CASE("each kind of meter renders as its Prometheus family and parses strictly") {
  registry reg({{"bucket", "travel-sample"}, {"clusterUuid", "abc"}});
  connector_metrics m(reg);
  m.throughput_bytes.increment(1234);
  m.doc_rejected.increment(2);
  m.latency.record(1500ms);
  m.latency.record(500ms);
  m.write_queue.set(7);
  m.backlog.set(0.5);
  m.es_wait.start(registry::clock::now() - 3s);

  const auto text = prometheus_text(reg);
  INFO(text);
  const auto fams = parse_strict(text);

  const auto& bytes = fams.at("cbes_throughput_bytes_total");
  CHECK(bytes.type == "counter");
  CHECK(bytes.help == "Estimated bytes written to Elasticsearch");
  const auto& b = only(bytes, "cbes_throughput_bytes_total");
  CHECK(b.value == 1234);
  CHECK(b.labels ==
        std::map<std::string, std::string>{{"bucket", "travel-sample"}, {"clusterUuid", "abc"}});
  CHECK(only(fams.at("cbes_doc_rejected_total"), "cbes_doc_rejected_total").value == 2);

  const auto& latency = fams.at("cbes_latency_seconds");
  CHECK(latency.type == "summary");
  CHECK(only(latency, "cbes_latency_seconds_count").value == 2);
  CHECK(only(latency, "cbes_latency_seconds_sum").value == Approx(2.0));
  const auto& latency_max = fams.at("cbes_latency_seconds_max");
  CHECK(latency_max.type == "gauge");
  CHECK(only(latency_max, "cbes_latency_seconds_max").value == Approx(1.5));

  CHECK(fams.at("cbes_write_queue").type == "gauge");
  CHECK(only(fams.at("cbes_write_queue"), "cbes_write_queue").value == 7);
  CHECK(only(fams.at("cbes_backlog"), "cbes_backlog").value == 0.5);
  CHECK(only(fams.at("cbes_es_wait_seconds"), "cbes_es_wait_seconds").value >= 3.0);
  // Java keeps the millisecond twin out of Prometheus.
  CHECK(fams.count("cbes_es_wait_ms") == 0);
  CHECK(text.find("cbes_es_wait_ms") == std::string::npos);
  // Unused timers still show, with zero samples.
  CHECK(only(fams.at("cbes_retry_delay_seconds"), "cbes_retry_delay_seconds_count").value == 0);
}

TEST_CASE("label values and help text are escaped and read back unchanged") {
  const std::string hostile = "a\\b\"c\nd}e,f=g";
  registry reg(tags{{"bucket", hostile}});
  reg.counter("odd.total", {{"weird-key", "x"}}, {.help = "line1\nback\\slash"}).increment();
  const auto text = prometheus_text(reg);
  INFO(text);
  const auto fams = parse_strict(text);
  const auto& f = fams.at("odd_total");  // already ends in _total: not doubled
  CHECK(f.help == "line1\nback\\slash");
  const auto& s = only(f, "odd_total");
  CHECK(s.labels.at("bucket") == hostile);
  CHECK(s.labels.at("weird_key") == "x");
}

TEST_CASE("meters of one name with different tags share one family") {
  registry reg;
  reg.counter("cbes.doc.write.retry", {{"host", "a"}}).increment(1);
  reg.gauge("other").set(1);
  reg.counter("cbes.doc.write.retry", {{"host", "b"}}).increment(2);
  const auto text = prometheus_text(reg);
  INFO(text);
  const auto fams = parse_strict(text);
  const auto& f = fams.at("cbes_doc_write_retry_total");
  REQUIRE(f.samples.size() == 2);
  CHECK(f.samples[0].labels.at("host") == "a");
  CHECK(f.samples[1].value == 2);
}

TEST_CASE("gauge values that are not finite use the format's spellings") {
  registry reg;
  reg.gauge("inf").set(HUGE_VAL);
  reg.gauge("nan", [] { return std::nan(""); });
  const auto text = prometheus_text(reg);
  CHECK(text.find("inf +Inf\n") != std::string::npos);
  CHECK(text.find("nan NaN\n") != std::string::npos);
  parse_strict(text);
}
