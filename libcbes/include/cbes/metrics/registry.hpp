#pragma once
// The connector's meters: counters, gauges and timers with Micrometer-style dotted names and
// tags (the Java connector's behaviour: `cbes.latency`, tags `bucket` and `clusterUuid`), and one
// registry that owns them and takes consistent-enough snapshots for the exporters
// (metrics/prometheus.hpp, metrics/dropwizard.hpp).
//
// Recording is lock-free and allocation-free (relaxed atomics) so it can run per document from
// any thread; registering takes a mutex and is meant for start-up. A meter lives as long as its
// registry, so the references it hands out can be kept.
//
//   cbes::metrics::registry reg(cbes::metrics::tags{{"bucket", "travel-sample"}});
//   auto& bytes = reg.counter("cbes.throughput.bytes", {}, "estimated bytes written");
//   bytes.increment(512);
//   auto& latency = reg.timer("cbes.latency");
//   latency.record(std::chrono::milliseconds(3));
//   reg.gauge("cbes.write.queue").set(17);
//   auto snap = reg.snapshot();  // what the exporters render
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace cbes::metrics {

// Tag key/value pairs. The registry sorts them by key and adds its common tags.
using tags = std::vector<std::pair<std::string, std::string>>;

// A monotonically increasing count (events, bytes).
class counter {
 public:
  void increment(std::uint64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

// Durations: count, total and maximum, kept in nanoseconds. The maximum covers a recent window
// (between one and two `registry::max_window`s), like Micrometer's decaying max, so that one slow
// document at start-up does not show for the rest of the run.
//
//   t.record(std::chrono::steady_clock::now() - received);
//   t.record_ns(ingest_took_ns);
class timer {
 public:
  void record_ns(std::int64_t ns) noexcept;
  template <class Rep, class Period>
  void record(std::chrono::duration<Rep, Period> d) noexcept {
    record_ns(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count());
  }
  // `count` samples at once, known by their sum and their largest (a batch measured by its
  // producer); nothing when count is 0.
  void record_many(std::uint64_t count, std::chrono::nanoseconds total,
                   std::chrono::nanoseconds largest) noexcept;
  std::uint64_t count() const noexcept { return count_.load(std::memory_order_relaxed); }
  std::uint64_t total_ns() const noexcept { return total_ns_.load(std::memory_order_relaxed); }
  // Largest sample of the current and the previous window.
  std::uint64_t max_ns() const noexcept;

 private:
  friend class registry;
  // Starts a new window: the previous one is forgotten (called by the registry's snapshots).
  void rotate_max() noexcept;

  std::atomic<std::uint64_t> count_{0};
  std::atomic<std::uint64_t> total_ns_{0};
  std::atomic<std::uint64_t> max_current_{0};
  std::atomic<std::uint64_t> max_previous_{0};
};

// A value read at scrape time: either the last value `set`, or what a callback returns (bound
// at registration). A callback runs on the thread that takes the snapshot (the HTTP server's,
// the log timer's), so it must be safe to call from there.
class gauge {
 public:
  explicit gauge(std::function<double()> read = {}) : read_(std::move(read)) {}
  void set(double v) noexcept { value_.store(v, std::memory_order_relaxed); }
  double value() const;

 private:
  std::atomic<double> value_{0.0};
  std::function<double()> read_;
};

// Age of the oldest pending thing in seconds (0 when nothing is pending), computed when read, so
// that a stall shows while it lasts: `cbes.es.wait.seconds`, the age of the oldest in-flight bulk.
//
//   g.start(bulk_started);  // the oldest in-flight bulk began then
//   g.clear();              // nothing in flight
class age_gauge {
 public:
  using clock = std::chrono::steady_clock;
  void start(clock::time_point since) noexcept;
  void clear() noexcept { since_.store(0, std::memory_order_relaxed); }
  double seconds(clock::time_point now = clock::now()) const noexcept;

 private:
  // steady_clock ticks since its epoch, + 1 so that 0 can mean "nothing pending".
  std::atomic<std::int64_t> since_{0};
};

enum class meter_kind { counter, gauge, timer };

// Dropwizard-style rates (events per second), computed by the registry from counts.
struct rates {
  double mean = 0;  // since the meter was registered
  double m1 = 0;    // exponentially weighted, 1 / 5 / 15 minutes (Dropwizard's Meter)
  double m5 = 0;
  double m15 = 0;
};

// One meter as the exporters see it.
struct meter_snapshot {
  std::string name;      // dotted, as registered: "cbes.latency"
  metrics::tags tags{};  // common tags and the meter's own, sorted by key
  std::string help{};
  meter_kind kind = meter_kind::counter;
  bool prometheus = true;      // false: only in the Dropwizard JSON (`cbes.es.wait.ms`)
  std::uint64_t count = 0;     // counter value, timer count
  std::uint64_t total_ns = 0;  // timer
  std::uint64_t max_ns = 0;    // timer
  double value = 0;            // gauge
  rates rate{};                // counter and timer
};

// How a meter is registered beyond its name and tags.
struct meter_options {
  std::string help{};
  bool prometheus = true;
};

class registry {
 public:
  using clock = std::chrono::steady_clock;
  // Timer maxima forget samples older than one to two windows (Micrometer keeps ~2 minutes).
  static constexpr std::chrono::seconds max_window{60};

  explicit registry(metrics::tags common = {});
  ~registry();
  registry(const registry&) = delete;
  registry& operator=(const registry&) = delete;

  // Tags added to every meter (`bucket`, `clusterUuid`); may be set once they are known.
  void set_common_tags(metrics::tags common);

  // Registers a meter, or returns the one already registered with this name and these tags.
  // Reusing a name for another kind is a programmer error (std::logic_error, like Micrometer).
  metrics::counter& counter(std::string name, metrics::tags t = {}, meter_options o = {});
  metrics::timer& timer(std::string name, metrics::tags t = {}, meter_options o = {});
  metrics::gauge& gauge(std::string name, metrics::tags t = {}, meter_options o = {});
  // A gauge whose value is `read()` at snapshot time (first registration wins).
  metrics::gauge& gauge(std::string name, std::function<double()> read, metrics::tags t = {},
                        meter_options o = {});
  // An age gauge, exported as a gauge in seconds.
  metrics::age_gauge& age_gauge(std::string name, metrics::tags t = {}, meter_options o = {});

  // Every meter in registration order, values read now. Also advances the timers' max windows
  // and the rates, so it takes the registry's mutex (never held while recording; gauge callbacks
  // run under it and must not register meters).
  std::vector<meter_snapshot> snapshot(clock::time_point now = clock::now()) const;

 private:
  struct entry;
  entry& find_or_add(std::string name, metrics::tags t, meter_options o, meter_kind kind, bool age,
                     std::function<double()> read);

  mutable std::mutex mutex_;
  metrics::tags common_;
  mutable clock::time_point last_rotation_;
  std::deque<std::unique_ptr<entry>> entries_;
};

}  // namespace cbes::metrics
