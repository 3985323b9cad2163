#pragma once
// What the error.cpp of every area (couchbase, sink, checkpoint) has in common, written once:
// its category object and the text of its error's what().
//
//   const boost::system::error_category& error_category() noexcept {
//     return util::area_category<describe>("cbes.sink");
//   }
//   std::string error::what() const { return util::area_what("elasticsearch", message, code); }
#include <string>
#include <string_view>

#include <boost/system/error_code.hpp>

#include "cbes/util/error.hpp"

namespace cbes::util {

// The category named `name` whose messages come from `Describe`; one object per area.
template <std::string (*Describe)(int)>
const boost::system::error_category& area_category(const char* name) noexcept {
  static const named_error_category category{name, Describe};
  return category;
}

// "<area>: <message>", or "<area>: <the code's own text>" when the message is empty.
inline std::string area_what(std::string_view area, const std::string& message,
                             const boost::system::error_code& code) {
  std::string out(area);
  out += ": ";
  out += message.empty() ? code.message() : message;
  return out;
}

// The transport failures every area may see pass on their own: connection refused or lost, a
// deadline passed. An area's transient() adds its own codes.
//
//   return util::transport_transient<errc>(code) || code == errc::temporary_failure;
template <class Errc>
bool transport_transient(const boost::system::error_code& code) noexcept {
  return code == Errc::connection_failed || code == Errc::connection_closed ||
         code == Errc::timeout;
}

}  // namespace cbes::util
