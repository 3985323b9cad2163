#include "cbes/metrics/registry.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace cbes::metrics {
namespace {

using clock = registry::clock;

// Dropwizard's Meter: the moving averages tick every 5 s; alpha = 1 - exp(-5 s / window).
constexpr std::chrono::seconds tick_interval{5};
constexpr double tick_seconds = 5.0;
// After this many idle ticks even the 15-minute average is below 1e-10 of its value: stop
// iterating and call it zero, so a registry read after a long pause does not spin.
constexpr std::int64_t max_ticks = 4000;

double alpha(double minutes) {
  return 1.0 - std::exp(-tick_seconds / 60.0 / minutes);
}

void max_into(std::atomic<std::uint64_t>& slot, std::uint64_t v) noexcept {
  auto seen = slot.load(std::memory_order_relaxed);
  while (v > seen && !slot.compare_exchange_weak(seen, v, std::memory_order_relaxed)) {
  }
}

const char* kind_name(meter_kind k) {
  switch (k) {
    case meter_kind::counter:
      return "counter";
    case meter_kind::gauge:
      return "gauge";
    case meter_kind::timer:
      return "timer";
  }
  return "meter";
}

tags sorted(tags t) {
  std::stable_sort(t.begin(), t.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  return t;
}

// Common tags first, then the meter's own (which win on the same key), sorted by key.
tags merged(const tags& common, const tags& own) {
  tags out = own;
  for (const auto& c : common) {
    const bool overridden =
        std::any_of(own.begin(), own.end(), [&](const auto& o) { return o.first == c.first; });
    if (!overridden)
      out.push_back(c);
  }
  return sorted(std::move(out));
}

struct moving_averages {
  clock::time_point last_tick;
  std::uint64_t last_count = 0;
  bool initialized = false;
  double m1 = 0, m5 = 0, m15 = 0;

  // Dropwizard's EWMA: the first tick takes every event since the last one, later ticks none.
  void advance(std::uint64_t count, clock::time_point now) {
    static const double a1 = alpha(1), a5 = alpha(5), a15 = alpha(15);
    const auto ticks = (now - last_tick) / tick_interval;
    if (ticks <= 0)
      return;
    last_tick += ticks * tick_interval;
    double instant = static_cast<double>(count - last_count) / tick_seconds;
    last_count = count;
    if (ticks > max_ticks) {
      m1 = m5 = m15 = 0;
      initialized = true;
      return;
    }
    for (std::int64_t i = 0; i < ticks; ++i, instant = 0) {
      if (!initialized) {
        m1 = m5 = m15 = instant;
        initialized = true;
        continue;
      }
      m1 += a1 * (instant - m1);
      m5 += a5 * (instant - m5);
      m15 += a15 * (instant - m15);
    }
  }
};

}  // namespace

void timer::record_ns(std::int64_t ns) noexcept {
  const auto v = static_cast<std::uint64_t>(std::max<std::int64_t>(ns, 0));
  count_.fetch_add(1, std::memory_order_relaxed);
  total_ns_.fetch_add(v, std::memory_order_relaxed);
  max_into(max_current_, v);
}

void timer::record_many(std::uint64_t count, std::chrono::nanoseconds total,
                        std::chrono::nanoseconds largest) noexcept {
  if (count == 0)
    return;
  count_.fetch_add(count, std::memory_order_relaxed);
  total_ns_.fetch_add(static_cast<std::uint64_t>(std::max<std::int64_t>(total.count(), 0)),
                      std::memory_order_relaxed);
  max_into(max_current_, static_cast<std::uint64_t>(std::max<std::int64_t>(largest.count(), 0)));
}

std::uint64_t timer::max_ns() const noexcept {
  return std::max(max_current_.load(std::memory_order_relaxed),
                  max_previous_.load(std::memory_order_relaxed));
}

void timer::rotate_max() noexcept {
  max_previous_.store(max_current_.exchange(0, std::memory_order_relaxed),
                      std::memory_order_relaxed);
}

double gauge::value() const {
  return read_ ? read_() : value_.load(std::memory_order_relaxed);
}

void age_gauge::start(clock::time_point since) noexcept {
  since_.store(since.time_since_epoch().count() + 1, std::memory_order_relaxed);
}

double age_gauge::seconds(clock::time_point now) const noexcept {
  const auto since = since_.load(std::memory_order_relaxed);
  if (since == 0)
    return 0;
  const auto age = now - clock::time_point(clock::duration(since - 1));
  return std::max(0.0, std::chrono::duration<double>(age).count());
}

struct registry::entry {
  std::string name;
  metrics::tags own;
  meter_options options;
  meter_kind kind;
  bool age = false;
  clock::time_point created;
  std::unique_ptr<metrics::counter> c;
  std::unique_ptr<metrics::timer> t;
  std::unique_ptr<metrics::gauge> g;
  std::unique_ptr<metrics::age_gauge> a;
  moving_averages averages;
};

registry::registry(metrics::tags common)
    : common_(sorted(std::move(common))), last_rotation_(clock::now()) {}
registry::~registry() = default;

void registry::set_common_tags(metrics::tags common) {
  std::lock_guard lock(mutex_);
  common_ = sorted(std::move(common));
}

registry::entry& registry::find_or_add(std::string name, metrics::tags t, meter_options o,
                                       meter_kind kind, bool age, std::function<double()> read) {
  t = sorted(std::move(t));
  std::lock_guard lock(mutex_);
  for (auto& e : entries_) {
    if (e->name != name)
      continue;
    if (e->kind != kind || e->age != age)
      throw std::logic_error("metric '" + name + "' is already registered as a " +
                             (e->age ? std::string("age gauge") : kind_name(e->kind)));
    if (e->own == t)
      return *e;
  }
  auto e = std::make_unique<entry>();
  e->name = std::move(name);
  e->own = std::move(t);
  e->options = std::move(o);
  e->kind = kind;
  e->age = age;
  e->created = clock::now();
  e->averages.last_tick = e->created;
  switch (kind) {
    case meter_kind::counter:
      e->c = std::make_unique<metrics::counter>();
      break;
    case meter_kind::timer:
      e->t = std::make_unique<metrics::timer>();
      break;
    case meter_kind::gauge:
      if (age)
        e->a = std::make_unique<metrics::age_gauge>();
      else
        e->g = std::make_unique<metrics::gauge>(std::move(read));
      break;
  }
  entries_.push_back(std::move(e));
  return *entries_.back();
}

counter& registry::counter(std::string name, metrics::tags t, meter_options o) {
  return *find_or_add(std::move(name), std::move(t), std::move(o), meter_kind::counter, false, {})
              .c;
}

timer& registry::timer(std::string name, metrics::tags t, meter_options o) {
  return *find_or_add(std::move(name), std::move(t), std::move(o), meter_kind::timer, false, {}).t;
}

gauge& registry::gauge(std::string name, metrics::tags t, meter_options o) {
  return *find_or_add(std::move(name), std::move(t), std::move(o), meter_kind::gauge, false, {}).g;
}

gauge& registry::gauge(std::string name, std::function<double()> read, metrics::tags t,
                       meter_options o) {
  return *find_or_add(std::move(name), std::move(t), std::move(o), meter_kind::gauge, false,
                      std::move(read))
              .g;
}

age_gauge& registry::age_gauge(std::string name, metrics::tags t, meter_options o) {
  return *find_or_add(std::move(name), std::move(t), std::move(o), meter_kind::gauge, true, {}).a;
}

std::vector<meter_snapshot> registry::snapshot(clock::time_point now) const {
  std::lock_guard lock(mutex_);
  const bool rotate = now - last_rotation_ >= max_window;
  if (rotate)
    last_rotation_ = now;
  std::vector<meter_snapshot> out;
  out.reserve(entries_.size());
  for (const auto& e : entries_) {
    meter_snapshot s;
    s.name = e->name;
    s.tags = merged(common_, e->own);
    s.help = e->options.help;
    s.kind = e->kind;
    s.prometheus = e->options.prometheus;
    if (e->c)
      s.count = e->c->value();
    if (e->t) {
      if (rotate)
        e->t->rotate_max();
      s.count = e->t->count();
      s.total_ns = e->t->total_ns();
      s.max_ns = e->t->max_ns();
    }
    if (e->g)
      s.value = e->g->value();
    if (e->a)
      s.value = e->a->seconds(now);
    if (e->c || e->t) {
      e->averages.advance(s.count, now);
      const double age = std::chrono::duration<double>(now - e->created).count();
      s.rate = {.mean = age > 0 ? static_cast<double>(s.count) / age : 0,
                .m1 = e->averages.m1,
                .m5 = e->averages.m5,
                .m15 = e->averages.m15};
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace cbes::metrics
