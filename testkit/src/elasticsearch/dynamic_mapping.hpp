#pragma once
// Dynamic mapping of one document: the types Elasticsearch infers for new fields and the
// errors it reports when a value does not fit the type a field already has.
#include <boost/json/object.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "flavor.hpp"

namespace cbes::testkit::es {

struct mapping_result {
  bool fits = false;
  std::optional<boost::json::object> error;       // the per-item error when it does not fit
  std::map<std::string, std::string> new_fields;  // dotted path -> type, to add when it fits
};

// Walks `source` (whose raw bytes are `raw`, for error positions) against `fields` under the
// index's `dynamic` setting ("true" | "false" | "strict").
mapping_result map_document(const std::map<std::string, std::string>& fields,
                            const std::string& dynamic, const flavor_traits& traits,
                            std::string_view raw, const boost::json::object& source,
                            const std::string& id);

}  // namespace cbes::testkit::es
