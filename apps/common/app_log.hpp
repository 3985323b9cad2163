#pragma once
// Logging of the cbes command-line tools (Boost.Log): one line per record on stderr,
//   2026-12-06T06:40:00.123+00:00 INFO  cbes - Elasticsearch connector startup complete.
// with a level filter, and the Java connector's redaction of user data in log lines.
// libcbes itself does not log: it reports lines through callbacks, and the tools route them here.
//
//   cbes::app::init_logging({.level = cbes::app::level::info});
//   cbes::app::log(cbes::app::level::warn, "checkpoint", "could not save ...");
//   cbes::app::log(level::info, "cbes", "rejected " + cbes::app::user_data(key));
#include <string>
#include <string_view>

#include "cbes/util/redaction.hpp"

namespace cbes::app {

enum class level { debug, info, warn, error };

// `[logging] redactionLevel`: NONE logs user data as is; PARTIAL and FULL wrap it in
// <ud>...</ud>, the tags Couchbase's log redaction tool (cblogredaction) removes. Sets
// libcbes's process-wide level too (cbes/util/redaction.hpp), which marks the document IDs in
// the lines it reports.
using redaction = util::redaction;

struct log_settings {
  level threshold = level::info;
  redaction redact = redaction::none;
};

// Sets up the stderr sink once; later calls change the threshold and redaction.
void init_logging(const log_settings& settings);

void log(level lv, std::string_view channel, std::string_view message);

// `text` marked as user data (a document ID, a value) for the redaction level in force.
using util::user_data;

// "debug" | "info" | "warn" | "error" from a libcbes log callback's level name.
level parse_level(std::string_view name);

}  // namespace cbes::app
