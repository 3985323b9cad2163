#pragma once
// Internal: how a type rule's regex is compiled, shared by validation and matching.
#include <string_view>

#include <boost/regex.hpp>

namespace cbes::sink::detail {

// Java's `Pattern` semantics as far as Boost.Regex's Perl syntax allows: '.' does not match a
// line break (the Java connector's behaviour). Throws boost::regex_error on a bad pattern.
inline boost::regex compile_type_regex(std::string_view pattern) {
  return boost::regex(pattern.begin(), pattern.end(), boost::regex::perl | boost::regex::no_mod_s);
}

// a rule takes its index from the key when its regex contains this group.
inline bool has_index_group(std::string_view pattern) {
  return pattern.find("(?<index>") != std::string_view::npos;
}

}  // namespace cbes::sink::detail
