#pragma once
// What the errors of every area (couchbase, sink, checkpoint) have in common, written once:
// the category object, the text of what(), the transport codes that pass on their own, and the
// error value itself for areas whose failures are a code and a line for humans.
//
//   // sink/error.hpp
//   constexpr const char* area_label(errc) noexcept { return "elasticsearch"; }
//   bool area_transient(const boost::system::error_code& code, errc) noexcept;
//   using error = util::area_error<errc>;
//   // sink/error.cpp
//   const boost::system::error_category& error_category() noexcept {
//     return util::area_category<describe>("cbes.sink");
//   }
#include <string>
#include <string_view>
#include <utility>

#include <boost/system/error_code.hpp>

#include "cbes/util/error.hpp"

namespace cbes::util {

// The category named `name` whose messages come from `Describe`; one object per area.
template <std::string (*Describe)(int)>
const boost::system::error_category& area_category(const char* name) noexcept {
  static const named_error_category category{name, Describe};
  return category;
}

// The category of an area whose errc starts with util::transport_errc's codes (see
// same_transport_codes): those are described by transport_message, the area's own by `Describe`,
// which therefore needs no case for them.
//
//   std::string describe(int ev) {
//     switch (static_cast<errc>(ev)) {
//       case errc::bad_response: return "bad response";
//       ...
//       default: return "unknown sink error";  // the transport codes never reach it
//     }
//   }
//   return util::transport_area_category<errc, describe>("cbes.sink");
template <class Errc, std::string (*Describe)(int)>
const boost::system::error_category& transport_area_category(const char* name) noexcept {
  static_assert(same_transport_codes<Errc>(), "the area's errc must start with transport_errc");
  static const named_error_category category{
      name, [](int ev) {
        return ev >= 0 && ev <= static_cast<int>(transport_errc::timeout) ? transport_message(ev)
                                                                          : Describe(ev);
      }};
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

// The error of an area: what happened (a code of the area's `Errc`) and one line that names the
// problem and the fix. The area names itself with `area_label(Errc)` and, when some of its
// failures pass on their own, says which with `area_transient(code, Errc)`; both are found by
// argument-dependent lookup in the area's namespace.
//
//   auto r = co_await pool.request(...);            // sink::result<response>
//   if (!r && r.error().transient()) retry();
//   if (!r) std::cerr << r.error().what() << '\n';  // "elasticsearch: ..."
template <class Errc>
struct area_error {
  boost::system::error_code code;
  std::string message;

  // "<area>: <message>" (the code's own text when the message is empty).
  std::string what() const { return area_what(area_label(Errc{}), message, code); }
  // Failures that may pass on their own; which ones is the area's call.
  bool transient() const noexcept { return area_transient(code, Errc{}); }
};

// An area_error of code `e` (through the area's make_error_code) and `message`.
template <class Errc>
area_error<Errc> make_area_error(Errc e, std::string message) {
  return {make_error_code(e), std::move(message)};
}

}  // namespace cbes::util
