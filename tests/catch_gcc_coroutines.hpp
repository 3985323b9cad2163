// Force-included into every test source (tests/CMakeLists.txt).
//
// Catch2 v2 wraps each assertion's expression in `(void)__builtin_constant_p(expr)` on GCC to
// surface warnings. GCC 12 evaluates a `co_await` inside that builtin, so
// `REQUIRE(co_await op())` ran `op()` twice — a watch consumed two changes, a lock was
// acquired twice. Expanding the hook to nothing keeps each expression evaluated exactly once.
#pragma once
#include <catch2/catch.hpp>
#undef CATCH_INTERNAL_IGNORE_BUT_WARN
#define CATCH_INTERNAL_IGNORE_BUT_WARN(...)
