#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>

#include <boost/system/result.hpp>

#include "cbes/couchbase/error.hpp"
#include "cbes/mcbp/error.hpp"
#include "cbes/mcbp/status.hpp"
#include "cbes/sink/error.hpp"
#include "cbes/util/error.hpp"

namespace {

std::string describe_test_value(int ev) {
  return "value " + std::to_string(ev) + " of the test category";
}

// An error type of a made-up area that picks up the shared thrower like couchbase and sink do.
namespace area {
struct error {
  std::string text;
  std::string what() const { return "area: " + text; }
};
using cbes::util::throw_exception_from_error;
}  // namespace area

}  // namespace

TEST_CASE("a named error category reports its name and the describe function's text") {
  static const cbes::util::named_error_category category{"cbes.test", describe_test_value};
  const boost::system::error_code ec{3, category};
  CHECK(std::string(ec.category().name()) == "cbes.test");
  CHECK(ec.message() == "value 3 of the test category");
  CHECK(ec != boost::system::error_code{3, boost::system::generic_category()});
}

TEST_CASE("result value() of an area error throws runtime_error with the error's what()") {
  const boost::system::result<int, area::error> r{boost::system::in_place_error, "broken"};
  CHECK_THROWS_MATCHES(r.value(), std::runtime_error, Catch::Message("area: broken"));
}

TEST_CASE("the error categories keep their names and messages") {
  using cbes::couchbase::make_error_code;
  CHECK(std::string(cbes::couchbase::error_category().name()) == "cbes.couchbase");
  CHECK(make_error_code(cbes::couchbase::errc::ambiguous).message() ==
        "request sent without an answer: it may or may not have been applied");
  CHECK(std::string(cbes::sink::error_category().name()) == "cbes.sink");
  CHECK(cbes::sink::make_error_code(cbes::sink::errc::bulk_failed).message() ==
        "bulk request failed");
  CHECK(std::string(cbes::mcbp::error_category().name()) == "cbes.mcbp");
  CHECK(boost::system::error_code(cbes::mcbp::errc::bad_json).message() ==
        "JSON body does not parse");
  CHECK(std::string(cbes::mcbp::status_category().name()) == "cbes.mcbp.status");
  CHECK(boost::system::error_code(0x01, cbes::mcbp::status_category()).message() ==
        "KeyEnoent (0x01)");
}

TEST_CASE("couchbase and sink share the transport codes' messages") {
  CHECK(cbes::couchbase::make_error_code(cbes::couchbase::errc::connection_closed).message() ==
        "connection closed");
  CHECK(cbes::sink::make_error_code(cbes::sink::errc::timeout).message() == "timed out");
  CHECK(cbes::couchbase::make_error_code(cbes::couchbase::errc::ok).message() == "success");
  CHECK(cbes::util::transport_message(99) == "unknown error");
}

TEST_CASE("couchbase and sink results throw runtime_error with their what()") {
  const cbes::couchbase::result<int> cb =
      cbes::couchbase::make_error(cbes::couchbase::errc::timeout, "no answer within 2s");
  CHECK_THROWS_MATCHES(cb.value(), std::runtime_error,
                       Catch::Message("couchbase: no answer within 2s"));
  const cbes::sink::result<int> es = cbes::sink::make_error(cbes::sink::errc::closed, "");
  CHECK_THROWS_MATCHES(es.value(), std::runtime_error,
                       Catch::Message("elasticsearch: sink closed"));
}
