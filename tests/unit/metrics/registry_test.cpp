// The registry's meters: exact sums under concurrent recording, identity by name and tags,
// common tags, the timer's windowed max, age and callback gauges, and Dropwizard rates.
#include <catch2/catch.hpp>

#include <thread>
#include <vector>

#include "cbes/metrics/registry.hpp"

using namespace cbes::metrics;
using namespace std::chrono_literals;

namespace {

const meter_snapshot& find(const std::vector<meter_snapshot>& s, std::string_view name) {
  for (const auto& m : s)
    if (m.name == name)
      return m;
  FAIL("no meter " << name);
  throw std::logic_error("unreachable");
}

template <class F>
void on_threads(int n, F f) {
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i)
    threads.emplace_back([&f, i] { f(i); });
  for (auto& t : threads)
    t.join();
}

}  // namespace

TEST_CASE("counter increments from several threads sum exactly") {
  registry reg;
  auto& c = reg.counter("cbes.doc.rejected");
  constexpr int per_thread = 200000;
  on_threads(4, [&](int) {
    for (int i = 0; i < per_thread; ++i)
      c.increment();
  });
  on_threads(2, [&](int) { c.increment(1000); });
  CHECK(c.value() == 4u * per_thread + 2000u);
  CHECK(find(reg.snapshot(), "cbes.doc.rejected").count == 4u * per_thread + 2000u);
}

TEST_CASE("timer samples from several threads give exact count, sum and max") {
  registry reg;
  auto& t = reg.timer("cbes.latency");
  constexpr int per_thread = 100000;
  // Thread i records 1..per_thread ns plus its own marker (i+1) ms once.
  on_threads(4, [&](int i) {
    for (int k = 1; k <= per_thread; ++k)
      t.record_ns(k);
    t.record(std::chrono::milliseconds(i + 1));
  });
  const std::uint64_t series = std::uint64_t{per_thread} * (per_thread + 1) / 2;
  CHECK(t.count() == 4u * (per_thread + 1));
  CHECK(t.total_ns() == 4 * series + (1 + 2 + 3 + 4) * 1000000u);
  CHECK(t.max_ns() == 4000000u);
}

TEST_CASE("a negative duration counts as zero") {
  registry reg;
  auto& t = reg.timer("t");
  t.record(-5ms);
  CHECK(t.count() == 1);
  CHECK(t.total_ns() == 0);
}

TEST_CASE("the same name and tags give the same meter, another kind is refused") {
  registry reg;
  auto& a = reg.counter("x", {{"k", "1"}, {"a", "2"}});
  auto& b = reg.counter("x", {{"a", "2"}, {"k", "1"}});
  auto& c = reg.counter("x", {{"k", "other"}});
  CHECK(&a == &b);
  CHECK(&a != &c);
  CHECK_THROWS_AS(reg.timer("x"), std::logic_error);
  CHECK_THROWS_AS(reg.age_gauge("x"), std::logic_error);
  reg.gauge("g");
  CHECK_THROWS_AS(reg.age_gauge("g"), std::logic_error);
}

TEST_CASE("common tags join each meter's tags, sorted by key, and the meter's own win") {
  registry reg({{"clusterUuid", "u1"}, {"bucket", "b"}});
  reg.counter("c", {{"bucket", "mine"}, {"zone", "z"}});
  reg.gauge("g");
  auto s = reg.snapshot();
  CHECK(find(s, "c").tags == tags{{"bucket", "mine"}, {"clusterUuid", "u1"}, {"zone", "z"}});
  CHECK(find(s, "g").tags == tags{{"bucket", "b"}, {"clusterUuid", "u1"}});
  reg.set_common_tags({{"bucket", "b2"}});
  CHECK(find(reg.snapshot(), "g").tags == tags{{"bucket", "b2"}});
}

TEST_CASE("a timer's max forgets samples older than two windows") {
  registry reg;
  auto& t = reg.timer("t");
  const auto t0 = registry::clock::now();
  t.record(50ms);
  CHECK(find(reg.snapshot(t0), "t").max_ns == 50000000u);
  // First rotation: the 50 ms sample moves to the previous window and still shows.
  CHECK(find(reg.snapshot(t0 + registry::max_window + 1s), "t").max_ns == 50000000u);
  t.record(2ms);
  // Second rotation: only the 2 ms sample of the last window remains.
  CHECK(find(reg.snapshot(t0 + 2 * registry::max_window + 2s), "t").max_ns == 2000000u);
  // Third rotation without new samples: nothing recent, nothing to show.
  CHECK(find(reg.snapshot(t0 + 3 * registry::max_window + 3s), "t").max_ns == 0u);
  CHECK(t.count() == 2);  // count and sum never reset
}

TEST_CASE("an age gauge reports the seconds since start, and zero once cleared") {
  registry reg;
  auto& g = reg.age_gauge("cbes.es.wait.seconds");
  const auto now = registry::clock::now();
  CHECK(g.seconds(now) == 0.0);
  g.start(now - 2500ms);
  CHECK(g.seconds(now) == Approx(2.5));
  CHECK(find(reg.snapshot(now), "cbes.es.wait.seconds").value == Approx(2.5));
  CHECK(find(reg.snapshot(now), "cbes.es.wait.seconds").kind == meter_kind::gauge);
  g.clear();
  CHECK(g.seconds(now) == 0.0);
}

TEST_CASE("a gauge is its last set value, or its callback read at snapshot time") {
  registry reg;
  reg.gauge("cbes.write.queue").set(17);
  double source = 1;
  reg.gauge("cbes.backlog", [&source] { return source; });
  CHECK(find(reg.snapshot(), "cbes.write.queue").value == 17);
  CHECK(find(reg.snapshot(), "cbes.backlog").value == 1);
  source = 42;
  CHECK(find(reg.snapshot(), "cbes.backlog").value == 42);
}

TEST_CASE("rates follow Dropwizard: mean since start, moving averages per 5 s tick") {
  registry reg;
  auto& c = reg.counter("c");
  const auto t0 = registry::clock::now();
  c.increment(50);
  // Before the first tick, the moving averages have not seen anything.
  auto s = find(reg.snapshot(t0 + 1s), "c");
  CHECK(s.rate.m1 == 0.0);
  // The first tick takes all 50 events over 5 s: 10 per second, the average's first value.
  s = find(reg.snapshot(t0 + 5s + 1ms), "c");
  CHECK(s.rate.m1 == Approx(10.0));
  CHECK(s.rate.m15 == Approx(10.0));
  CHECK(s.rate.mean == Approx(50.0 / 5.001).epsilon(0.01));
  // An idle tick decays the 1-minute average faster than the 15-minute one.
  s = find(reg.snapshot(t0 + 10s + 1ms), "c");
  CHECK(s.rate.m1 == Approx(10.0 * std::exp(-5.0 / 60.0)));
  CHECK(s.rate.m15 > s.rate.m1);
  // After hours without events everything is zero.
  s = find(reg.snapshot(t0 + 10h), "c");
  CHECK(s.rate.m1 == 0.0);
  CHECK(s.rate.m15 == 0.0);
}

TEST_CASE("record_many adds a batch's samples by their count, sum and largest") {
  cbes::metrics::registry reg;
  auto& t = reg.timer("cbes.new.index.req");
  t.record_many(0, std::chrono::seconds(9), std::chrono::seconds(9));  // no samples: nothing
  CHECK(t.count() == 0);
  t.record_many(4, std::chrono::microseconds(10), std::chrono::microseconds(7));
  t.record(std::chrono::microseconds(2));
  CHECK(t.count() == 5);
  CHECK(t.total_ns() == 12'000);
  CHECK(t.max_ns() == 7'000);
}
