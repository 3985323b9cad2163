#pragma once
// What differs between the products the Elasticsearch fake emulates.
#include <string>

#include "cbes/testkit/elasticsearch.hpp"

namespace cbes::testkit::es {

// What differs between the emulated products (Elasticsearch's REST API docs).
struct flavor_traits {
  elasticsearch_flavor flavor = elasticsearch_flavor::elasticsearch_8;
  std::string version;
  bool opensearch = false;
  int major = 8;
  bool type_in_responses = false;  // "_type":"_doc" (ES 7, OpenSearch 1)
  bool document_parsing_8 = true;  // ES >= 8.8: document_parsing_exception + "[l:c] "
  const char* rejected_type = "es_rejected_execution_exception";
  const char* json_parse_type = "x_content_parse_exception";

  static flavor_traits make(elasticsearch_flavor f, std::string version);
};

}  // namespace cbes::testkit::es
