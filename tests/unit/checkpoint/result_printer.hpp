#pragma once
// Lets Catch print cbes::checkpoint::result<T> in failed assertions ("ok" or the error line).
#include <string>

#include <catch2/catch.hpp>

#include "cbes/checkpoint/error.hpp"

namespace Catch {
template <class T>
struct StringMaker<boost::system::result<T, cbes::checkpoint::error>> {
  static std::string convert(const boost::system::result<T, cbes::checkpoint::error>& r) {
    return r ? std::string("ok") : "error: " + r.error().what();
  }
};
}  // namespace Catch
