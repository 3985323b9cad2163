#include <catch2/catch.hpp>

#include "cbes/util/redaction.hpp"

TEST_CASE("user data is tagged for the redaction tool unless redaction is off") {
  using namespace cbes::util;
  set_redaction(redaction::none);
  CHECK(user_data("airline_10") == "airline_10");
  set_redaction(redaction::partial);
  CHECK(user_data("airline_10") == "<ud>airline_10</ud>");
  set_redaction(redaction::full);
  CHECK(user_data("") == "<ud></ud>");
  set_redaction(redaction::none);
}
