#pragma once
// Lets Catch2 print cbes::group::result<T> in failed assertions: the error's one-line
// description, or "value" (boost's own operator<< does not compile for values without one).
#include <catch2/catch.hpp>

#include "cbes/group/error.hpp"

namespace Catch {
template <class T>
struct StringMaker<boost::system::result<T, cbes::group::error>> {
  static std::string convert(const boost::system::result<T, cbes::group::error>& r) {
    return r.has_value() ? std::string("value") : r.error().what();
  }
};
}  // namespace Catch
