#pragma once
// Building blocks of an area's error type (couchbase, sink, mcbp), so that each area only says
// its codes and messages.
//
// named_error_category: a boost::system error category made of a name and a function that
// describes a value.
//
//   std::string describe(int ev);  // the area's switch over its errc
//   const boost::system::error_category& error_category() noexcept {
//     static const cbes::util::named_error_category category{"cbes.area", describe};
//     return category;
//   }
#include <exception>
#include <stdexcept>
#include <string>

#include <boost/assert/source_location.hpp>
#include <boost/system/error_category.hpp>
#include <boost/throw_exception.hpp>

namespace cbes::util {

// boost::system::error_category has a protected non-virtual destructor by design.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
class named_error_category final : public boost::system::error_category {
 public:
  using describe_fn = std::string (*)(int ev);

  // `name` must outlive the category (a string literal in practice).
  constexpr named_error_category(const char* name, describe_fn describe) noexcept
      : name_(name), describe_(describe) {}

  const char* name() const noexcept override { return name_; }
  std::string message(int ev) const override { return describe_(ev); }

 private:
  const char* name_;
  describe_fn describe_;
};
#pragma GCC diagnostic pop

// The codes every network-facing area starts its errc with, in this order and with these values,
// so that their messages are written once. An area's enum repeats them:
//
//   enum class errc { ok = 0, invalid_argument = 1, connection_failed, connection_closed, timeout,
//                     ...the area's own codes... };
//   // util::transport_area_category<errc, describe>(...) checks the values and describes them.
enum class transport_errc {
  ok = 0,
  invalid_argument,
  connection_failed,
  connection_closed,
  timeout
};

template <class Errc>
constexpr bool same_transport_codes() {
  return static_cast<int>(Errc::ok) == static_cast<int>(transport_errc::ok) &&
         static_cast<int>(Errc::invalid_argument) ==
             static_cast<int>(transport_errc::invalid_argument) &&
         static_cast<int>(Errc::connection_failed) ==
             static_cast<int>(transport_errc::connection_failed) &&
         static_cast<int>(Errc::connection_closed) ==
             static_cast<int>(transport_errc::connection_closed) &&
         static_cast<int>(Errc::timeout) == static_cast<int>(transport_errc::timeout);
}

// The message of one of the transport_errc values ("connection closed", ...).
std::string transport_message(int ev);

// What result<T, Error>::value() throws for an area's error: std::runtime_error with e.what().
// An area brings it into its own namespace (`using util::throw_exception_from_error;`) so that
// boost::system::result finds it by argument-dependent lookup.
template <class Error>
requires requires(const Error& e) {
  std::string(e.what());
}
[[noreturn]] void throw_exception_from_error(const Error& e, const boost::source_location& loc) {
  boost::throw_exception(std::runtime_error(e.what()), loc);
}

// The message of an exception caught as a std::exception_ptr (a coroutine's completion handler
// gets one): what() of a std::exception, else "unknown exception".
//
//   co_spawn(ex, loop(), [](std::exception_ptr e) { if (e) log(util::exception_message(e)); });
std::string exception_message(const std::exception_ptr& e);

}  // namespace cbes::util
