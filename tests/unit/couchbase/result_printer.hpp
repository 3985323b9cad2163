#pragma once
// Lets Catch print cbes::couchbase::result<T> in failed assertions ("ok" or the error line).
#include <string>

// GCC 12 flags result<T>::operator-> after REQUIRE(r) as a "potential null pointer dereference"
// (it cannot see that REQUIRE returned); a false positive in every test using results.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wnull-dereference"
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

#include <catch2/catch.hpp>

#include "cbes/couchbase/error.hpp"

namespace Catch {
template <class T>
struct StringMaker<boost::system::result<T, cbes::couchbase::error>> {
  static std::string convert(const boost::system::result<T, cbes::couchbase::error>& r) {
    return r ? std::string("ok") : "error: " + r.error().what();
  }
};
template <class T>
struct StringMaker<boost::system::result<T, boost::system::error_code>> {
  static std::string convert(const boost::system::result<T, boost::system::error_code>& r) {
    return r ? std::string("ok") : "error: " + r.error().message();
  }
};
}  // namespace Catch
