#pragma once
// Lets Catch print a config loader's result: the problems when it failed, so a failing
// REQUIRE(r) shows why.
#include <string>

#include <catch2/catch.hpp>

#include "cbes/config/error.hpp"

namespace Catch {
template <class T>
struct StringMaker<boost::system::result<T, cbes::config::error>> {
  static std::string convert(const boost::system::result<T, cbes::config::error>& r) {
    return r ? std::string("a loaded configuration") : "errors:\n" + r.error().what();
  }
};
}  // namespace Catch
