#pragma once
// The subset of the query DSL the Elasticsearch fake evaluates (match_all, match_none, term,
// match, terms, ids, exists, bool), one document at a time.
#include <boost/json/value.hpp>

#include <map>
#include <string>

namespace cbes::testkit::es {

struct query_error {
  std::string type;
  std::string reason;
};

// True when the document `id` with `source` matches `query`; `fields` is the index mapping
// (dotted path -> type). Throws query_error for what the fake does not know.
bool query_matches(const std::map<std::string, std::string>& fields, const std::string& id,
                   const boost::json::value& source, const boost::json::value& query);

}  // namespace cbes::testkit::es
