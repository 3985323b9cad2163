#pragma once
// The result of parsing text a person wrote (a config value, a command-line flag): the value, or
// a one-line message that quotes the text and says what is wrong with it.
//
//   cbes::util::parse_result<std::chrono::nanoseconds> d = cbes::util::parse_go_duration("5x");
//   if (!d) std::cerr << d.error().message << '\n';  // invalid duration "5x": unknown unit "x" ...
#include <iosfwd>
#include <string>

#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>

namespace cbes::util {

struct parse_error {
  std::string message;
  bool operator==(const parse_error&) const = default;
};

// Writes the message (parse_result's own operator<< prints through this).
std::ostream& operator<<(std::ostream& os, const parse_error& e);

template <class T>
using parse_result = boost::system::result<T, parse_error>;

// What parse_result::value() throws on an error: std::invalid_argument with the message.
[[noreturn]] void throw_exception_from_error(const parse_error& e,
                                             const boost::source_location& where);

}  // namespace cbes::util
