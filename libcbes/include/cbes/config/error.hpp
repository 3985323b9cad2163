#pragma once
// What is wrong with a configuration file: every problem found, one line each, naming the file,
// line and column, the key and what it expects, e.g.
//   "metrics.httpPort at cbes.toml:12:12: must be between -1 and 65535, got 70000".
// A loader returns either a complete, validated configuration or this — never a half-filled one.
//
//   auto cfg = cbes::config::load_connector_config(path, {});
//   if (!cfg) { std::cerr << cfg.error().what() << '\n'; return 1; }
#include <string>
#include <vector>

#include <boost/system/result.hpp>

#include "cbes/util/error.hpp"

namespace cbes::config {

struct error {
  std::vector<std::string> problems;  // at least one; table by table, in the order checked

  // The problems joined by newlines.
  std::string what() const;
};

template <class T>
using result = boost::system::result<T, error>;

using util::throw_exception_from_error;

}  // namespace cbes::config
