#include "app_log.hpp"

#include <atomic>
#include <mutex>

#include <boost/core/null_deleter.hpp>
#include <boost/log/attributes/value_extraction.hpp>
#include <boost/log/core.hpp>
#include <boost/log/expressions.hpp>
#include <boost/log/sinks/sync_frontend.hpp>
#include <boost/log/sinks/text_ostream_backend.hpp>
#include <boost/log/sources/record_ostream.hpp>
#include <boost/log/sources/severity_channel_logger.hpp>

#include <chrono>
#include <ctime>
#include <iostream>

namespace cbes::app {
namespace {

namespace bl = boost::log;

std::atomic<int> threshold{static_cast<int>(level::info)};
std::once_flag once;

const char* name_of(level lv) {
  switch (lv) {
    case level::debug:
      return "DEBUG";
    case level::info:
      return "INFO ";
    case level::warn:
      return "WARN ";
    case level::error:
      return "ERROR";
  }
  return "?    ";
}

// ISO 8601 with milliseconds and the UTC offset, like the Java connector's log4j pattern.
std::string timestamp() {
  const auto now = std::chrono::system_clock::now();
  const auto t = std::chrono::system_clock::to_time_t(now);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[64];
  const auto n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[80];
  std::snprintf(out, sizeof out, "%.*s.%03d+00:00", static_cast<int>(n), buf,
                static_cast<int>(ms.count()));
  return out;
}

using logger_type = bl::sources::severity_channel_logger_mt<level, std::string>;

logger_type& logger() {
  static logger_type lg;
  return lg;
}

void setup_sink() {
  using backend = bl::sinks::text_ostream_backend;
  auto be = boost::make_shared<backend>();
  be->add_stream(boost::shared_ptr<std::ostream>(&std::clog, boost::null_deleter()));
  be->auto_flush(true);
  auto sink = boost::make_shared<bl::sinks::synchronous_sink<backend>>(be);
  sink->set_formatter([](const bl::record_view& rec, bl::formatting_ostream& out) {
    const auto lv = bl::extract<level>("Severity", rec);
    const auto ch = bl::extract<std::string>("Channel", rec);
    out << timestamp() << ' ' << name_of(lv ? *lv : level::info) << ' ' << (ch ? *ch : "cbes")
        << " - " << rec[bl::expressions::smessage];
  });
  bl::core::get()->add_sink(sink);
}

}  // namespace

void init_logging(const log_settings& settings) {
  threshold = static_cast<int>(settings.threshold);
  util::set_redaction(settings.redact);
  std::call_once(once, setup_sink);
}

void log(level lv, std::string_view channel, std::string_view message) {
  if (static_cast<int>(lv) < threshold.load())
    return;
  std::call_once(once, setup_sink);
  BOOST_LOG_CHANNEL_SEV(logger(), std::string(channel), lv) << message;
}

level parse_level(std::string_view name) {
  if (name == "debug")
    return level::debug;
  if (name == "warn" || name == "warning")
    return level::warn;
  if (name == "error")
    return level::error;
  return level::info;
}

}  // namespace cbes::app
