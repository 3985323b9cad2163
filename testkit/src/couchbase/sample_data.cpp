// load_sample(): documents shaped like Couchbase's travel-sample bucket (airline_, airport_,
// route_ with an airlineid, hotel_, landmark_), generated deterministically.
#include <boost/json.hpp>

#include <algorithm>
#include <mutex>

#include "cbes/testkit/couchbase_cluster.hpp"
#include "cbes/util/crc32.hpp"
#include "cluster_state.hpp"

namespace cbes::testkit {

namespace json = boost::json;

namespace {

constexpr const char* countries[] = {"United States", "France", "United Kingdom"};
constexpr const char* cities[] = {"San Francisco", "Paris", "London", "Nice", "Boston"};

json::object sample_doc(std::size_t i, std::string& key) {
  auto n = static_cast<std::int64_t>(i / 5 + 1);
  const char* country = countries[i % 3];
  const char* city = cities[i % 5];
  switch (i % 5) {
    case 0:
      key = "airline_" + std::to_string(n);
      return {{"id", n},
              {"type", "airline"},
              {"name", "Airline " + std::to_string(n)},
              {"iata", "A" + std::to_string(n % 100)},
              {"icao", "AL" + std::to_string(n % 1000)},
              {"callsign", "CALL" + std::to_string(n)},
              {"country", country}};
    case 1:
      key = "airport_" + std::to_string(n);
      return {{"id", n},
              {"type", "airport"},
              {"airportname", std::string(city) + " Intl " + std::to_string(n)},
              {"city", city},
              {"country", country},
              {"faa", "F" + std::to_string(n % 1000)},
              {"tz", "Europe/Paris"},
              {"geo",
               {{"lat", 37.0 + static_cast<double>(n % 10)},
                {"lon", -122.0 + static_cast<double>(n % 7)},
                {"alt", static_cast<std::int64_t>(n % 500)}}}};
    case 2:
      key = "route_" + std::to_string(n);
      return {{"id", n},
              {"type", "route"},
              {"airline", "A" + std::to_string(n % 100)},
              {"airlineid", "airline_" + std::to_string(n)},
              {"sourceairport", "F" + std::to_string(n % 1000)},
              {"destinationairport", "F" + std::to_string((n + 1) % 1000)},
              {"stops", 0},
              {"equipment", "320"},
              {"schedule",
               json::array{json::object{
                   {"day", n % 7}, {"utc", "10:13:00"}, {"flight", "AF" + std::to_string(n)}}}},
              {"distance", 100.5 * static_cast<double>(n % 20 + 1)}};
    case 3:
      key = "hotel_" + std::to_string(n);
      return {{"id", n},
              {"type", "hotel"},
              {"name", "Hotel " + std::to_string(n)},
              {"city", city},
              {"country", country},
              {"free_breakfast", n % 2 == 0},
              {"reviews", json::array{json::object{{"author", "Guest " + std::to_string(n)},
                                                   {"ratings", {{"Overall", n % 5 + 1}}}}}}};
    default:
      key = "landmark_" + std::to_string(n);
      return {{"id", n},
              {"type", "landmark"},
              {"name", "Landmark " + std::to_string(n)},
              {"city", city},
              {"country", country},
              {"activity", "see"},
              {"content", "A place worth a visit."}};
  }
}

}  // namespace

std::size_t couchbase_cluster::load_sample(std::size_t n, std::string_view bucket) {
  for (std::size_t i = 0; i < n; ++i) {
    std::string key;
    auto doc = sample_doc(i, key);
    upsert(bucket, key, json::serialize(doc));
  }
  return n;
}

std::string padded_document(std::size_t bytes) {
  std::string doc = R"({"type":"airline","name":"40-Mile Air","iata":"Q5","icao":"MLA",)"
                    R"("callsign":"MILE-AIR","country":"United States","id":10,"active":true,)"
                    R"("tags":["a","b","c"],"price":12.5,"notes":")";
  bytes = std::max<std::size_t>(bytes, 200);
  while (doc.size() < bytes - 2)
    doc += 'x';
  doc += "\"}";
  return doc;
}

std::size_t couchbase_cluster::load_documents(std::size_t n, std::size_t bytes,
                                              std::string_view bucket) {
  const std::string doc = padded_document(bytes);
  std::string key;
  for (std::size_t i = 0; i < n; ++i) {
    key = "doc_" + std::to_string(i);
    upsert(bucket, key, doc);
  }
  return n;
}

}  // namespace cbes::testkit
