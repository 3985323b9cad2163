#pragma once
// Lets Catch print cbes::couchbase::result<T> in failed assertions ("ok" or the error line).
#include <string>

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
