// The `/metrics` JSON: Dropwizard's metrics-json layout with Micrometer's names and tags.
#include <catch2/catch.hpp>

#include <cmath>

#include <boost/json.hpp>

#include "cbes/metrics/connector_metrics.hpp"
#include "cbes/metrics/dropwizard.hpp"

using namespace cbes::metrics;
using namespace std::chrono_literals;
namespace json = boost::json;

TEST_CASE("dropwizard names camel-case after the first segment and put tags in braces") {
  meter_snapshot m{.name = "cbes.throughput.bytes",
                   .tags = {{"bucket", "travel-sample"}, {"clusterUuid", "u"}}};
  CHECK(dropwizard_name(m) == "cbes.throughputBytes{bucket=travel-sample,clusterUuid=u}");
  m = meter_snapshot{.name = "cbes.latency"};
  CHECK(dropwizard_name(m) == "cbes.latency");
  m = meter_snapshot{.name = "cbes.es.wait.seconds"};
  CHECK(dropwizard_name(m) == "cbes.esWaitSeconds");
}

TEST_CASE("the JSON has Dropwizard's sections, counters are meters, timers in milliseconds") {
  registry reg(tags{{"bucket", "b"}});
  connector_metrics m(reg);
  m.throughput_bytes.increment(100);
  m.latency.record(10ms);
  m.latency.record(30ms);
  m.write_queue.set(4);
  m.es_wait.start(registry::clock::now() - 2s);

  for (bool pretty : {false, true}) {
    const auto text = dropwizard_json(reg, pretty);
    INFO(text);
    CHECK((text.find('\n') != std::string::npos) == pretty);
    const auto root = json::parse(text).as_object();
    CHECK(root.at("version") == "4.0.0");
    for (const char* section : {"gauges", "counters", "histograms", "meters", "timers"})
      CHECK(root.at(section).is_object());

    const auto& bytes = root.at("meters").at("cbes.throughputBytes{bucket=b}").as_object();
    CHECK(bytes.at("count").to_number<double>() == 100);
    CHECK(bytes.at("units") == "events/second");
    for (const char* rate : {"m1_rate", "m5_rate", "m15_rate", "mean_rate"})
      CHECK(bytes.at(rate).is_number());

    const auto& latency = root.at("timers").at("cbes.latency{bucket=b}").as_object();
    CHECK(latency.at("count").to_number<double>() == 2);
    CHECK(latency.at("max").to_number<double>() == Approx(30.0));
    CHECK(latency.at("mean").to_number<double>() == Approx(20.0));
    CHECK(latency.at("duration_units") == "milliseconds");
    CHECK(latency.at("rate_units") == "calls/second");

    const auto& gauges = root.at("gauges").as_object();
    CHECK(gauges.at("cbes.writeQueue{bucket=b}").at("value").to_number<double>() == 4);
    CHECK(gauges.at("cbes.esWaitSeconds{bucket=b}").at("value").to_number<double>() >= 2.0);
    // The millisecond twin, hidden from Prometheus, is here.
    CHECK(gauges.at("cbes.esWaitMs{bucket=b}").at("value").to_number<double>() >= 2000.0);
    CHECK(root.at("counters").as_object().empty());
  }
}

TEST_CASE("an empty registry gives the empty layout") {
  registry reg;
  CHECK(json::parse(dropwizard_json(reg)) ==
        json::parse(R"({"version":"4.0.0","gauges":{},"counters":{},"histograms":{},)"
                    R"("meters":{},"timers":{}})"));
}

TEST_CASE("doubles are written as Jackson writes them, and non-finite values as null") {
  registry reg;
  reg.gauge("zero").set(0);
  reg.gauge("half").set(0.5);
  reg.gauge("nan", [] { return std::nan(""); });
  const auto text = dropwizard_json(reg);
  CHECK(text.find(R"("zero":{"value":0.0})") != std::string::npos);
  CHECK(text.find(R"("half":{"value":0.5})") != std::string::npos);
  CHECK(text.find(R"("nan":{"value":null})") != std::string::npos);
  CHECK(json::parse(text).is_object());
}
