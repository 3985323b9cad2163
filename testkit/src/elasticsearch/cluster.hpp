#pragma once
// The fake's data: indices with their dynamic mappings, documents (realtime and searchable
// views), ingest pipeline ids, and the write/read operations behind the REST handlers. Not
// thread-safe: the server serialises access with one mutex.
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "bulk_parser.hpp"
#include "cbes/testkit/elasticsearch.hpp"
#include "errors.hpp"
#include "flavor.hpp"

namespace cbes::testkit::es {

// "" when valid, else the `Invalid index name [..], <why>` reason.
std::string invalid_index_name_reason(std::string_view name);

struct outcome {
  int status = 200;
  boost::json::object body;  // item body (bulk) or whole response (single-document API)
  bool failed = false;       // carries an "error"
  bool unchanged = false;    // an index/create that stored the very source already stored
};

class cluster {
 public:
  cluster(flavor_traits traits, const elasticsearch_options& options);

  const flavor_traits& traits() const { return traits_; }
  void set_auto_create(bool on) { auto_create_ = on; }
  void set_refresh_interval(std::chrono::milliseconds d) { refresh_interval_ = d; }

  // One bulk item (also used by the single-document endpoints). The body has the bulk item
  // shape: _index, [_type], _id, _version, result, _shards, _seq_no, _primary_term, status
  // or _index, _id, status, error.
  outcome execute(const bulk_item& item, bool forced_refresh);
  // An item answered without storing anything (count-only mode).
  outcome acknowledge(const bulk_item& item);

  bool has_pipeline(const std::string& id) const { return pipelines_.count(id) > 0; }
  void add_pipeline(std::string id) { pipelines_.insert(std::move(id)); }

  // ---- admin ----
  bool exists(std::string_view index) const;
  outcome create_index(const std::string& name, const boost::json::value* body);
  outcome delete_index(const std::string& name);
  outcome get_index(const std::string& name) const;
  outcome get_mapping(const std::string& name) const;
  // Refreshes `index` ("" = all); fails for a missing index.
  outcome refresh(const std::string& index);
  outcome health(const std::string& wait_for_status) const;

  // ---- reads ----
  outcome get_document(const std::string& index, const std::string& id, bool head) const;
  // _count and _search over `indices` ("" or "_all" = every index).
  outcome count(const std::string& indices, const boost::json::object* body);
  outcome search(const std::string& indices, const boost::json::object* body, bool total_as_int,
                 const boost::json::value* track_total_hits);

  // ---- inspection for the facade ----
  std::optional<std::string> live_source(std::string_view index, std::string_view id) const;
  std::size_t live_count(std::string_view index) const;
  std::vector<std::string> index_names() const;
  std::size_t index_count() const { return indices_.size(); }

 private:
  struct document {
    std::string source;  // as sent (ES returns the original bytes as _source)
    std::int64_t version = 0;
    std::int64_t seq_no = 0;
    std::optional<std::string> routing;
    bool live = false;  // false = tombstone of a deleted document (keeps its version)
    std::optional<std::string> searchable;  // what search saw at the last refresh
    std::int64_t searchable_seq_no = 0;
  };
  struct index_state {
    std::string name;
    std::string uuid;
    int shards = 1;
    int replicas = 1;
    std::string dynamic = "true";               // "true" | "false" | "strict"
    std::map<std::string, std::string> fields;  // dotted path -> type ("object" for objects)
    std::unordered_map<std::string, document> docs;
    std::set<std::string> dirty;  // ids written since the last refresh
    std::int64_t next_seq_no = 0;
    std::size_t live = 0;
    std::chrono::steady_clock::time_point last_refresh;
    std::int64_t creation_date = 0;
  };

  index_state& make_index(const std::string& name);
  void refresh_index(index_state& idx);
  void maybe_refresh(index_state& idx);
  boost::json::object shards_json(const index_state& idx) const;
  boost::json::object item_head(const bulk_item& item, const std::string& id) const;
  outcome item_error(const bulk_item& item, const std::optional<std::string>& id, int status,
                     boost::json::object error) const;
  // Dynamic mapping: nullopt when the source fits (new fields are added),
  // else the per-item error.
  std::optional<boost::json::object> apply_mapping(index_state& idx, std::string_view raw,
                                                   const boost::json::value& source,
                                                   const std::string& id);
  std::vector<index_state*> resolve(const std::string& indices, std::string& missing);
  boost::json::object mappings_json(const index_state& idx) const;

  flavor_traits traits_;
  bool auto_create_;
  std::chrono::milliseconds refresh_interval_;
  std::string cluster_name_;
  std::map<std::string, index_state> indices_;
  std::set<std::string> pipelines_;
  std::uint64_t id_counter_ = 0;
};

}  // namespace cbes::testkit::es
