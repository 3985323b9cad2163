#include "flavor.hpp"

#include <charconv>

namespace cbes::testkit::es {

flavor_traits flavor_traits::make(elasticsearch_flavor f, std::string version) {
  flavor_traits t;
  t.flavor = f;
  switch (f) {
    case elasticsearch_flavor::elasticsearch_7:
      t.version = version.empty() ? "7.17.18" : version;
      t.major = 7;
      t.type_in_responses = true;
      t.document_parsing_8 = false;
      t.json_parse_type = "json_parse_exception";
      break;
    case elasticsearch_flavor::elasticsearch_8:
      t.version = version.empty() ? "8.13.4" : version;
      t.major = 8;
      break;
    case elasticsearch_flavor::opensearch_2:
      t.version = version.empty() ? "2.11.1" : version;
      t.opensearch = true;
      t.major = 2;
      t.document_parsing_8 = false;
      t.rejected_type = "rejected_execution_exception";
      t.json_parse_type = "json_parse_exception";
      break;
  }
  if (f == elasticsearch_flavor::elasticsearch_8) {
    // document_parsing_exception replaced mapper_parsing_exception for documents in 8.8.
    int minor = 0;
    auto dot = t.version.find('.');
    if (dot != std::string::npos)
      std::from_chars(t.version.data() + dot + 1, t.version.data() + t.version.size(), minor);
    t.document_parsing_8 = minor >= 8;
  }
  return t;
}

}  // namespace cbes::testkit::es
