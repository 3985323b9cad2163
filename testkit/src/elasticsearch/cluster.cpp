#include "cluster.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <functional>
#include <random>

#include "dynamic_mapping.hpp"
#include "json_tokens.hpp"
#include "query.hpp"

namespace cbes::testkit::es {

namespace json = boost::json;

namespace {
// The whole-response 404 of an API addressed to an index that does not exist.
outcome missing_index(std::string_view index) {
  outcome out;
  out.status = 404;
  out.body = error_body(index_not_found(index), 404);
  return out;
}
}  // namespace

std::string invalid_index_name_reason(std::string_view name) {
  std::string prefix = "Invalid index name [" + std::string(name) + "], ";
  if (name.empty())
    return prefix + "must not be empty";
  for (char c : name) {
    if (std::isupper(static_cast<unsigned char>(c)))
      return prefix + "must be lowercase";
  }
  if (name == "." || name == "..")
    return prefix + "must not be '.' or '..'";
  if (name.front() == '_' || name.front() == '-' || name.front() == '+')
    return prefix + "must not start with '_', '-', or '+'";
  for (char c : name) {
    if (c == '\\' || c == '/' || c == '*' || c == '?' || c == '"' || c == '<' || c == '>' ||
        c == '|' || c == ' ' || c == ',')
      return prefix + "must not contain the following characters [ , \", *, \\, <, |, ,, >, /, ?]";
  }
  if (name.find('#') != std::string_view::npos)
    return prefix + "must not contain '#'";
  if (name.find(':') != std::string_view::npos)
    return prefix + "must not contain ':'";
  if (name.size() > 255)
    return prefix + "index name is too long, (" + std::to_string(name.size()) + " > 255)";
  return {};
}

namespace {

std::string random_token(std::size_t n) {
  static constexpr char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string out(n, 'A');
  for (auto& c : out)
    c = alphabet[rng() % 64];
  return out;
}

// Merges `patch` into `target` as a partial-document update does (objects merge
// recursively, everything else replaces).
void deep_merge(json::object& target, const json::object& patch) {
  for (const auto& kv : patch) {
    auto it = target.find(kv.key());
    if (it != target.end() && it->value().is_object() && kv.value().is_object())
      deep_merge(it->value().get_object(), kv.value().get_object());
    else
      target[kv.key()] = kv.value();
  }
}

}  // namespace

cluster::cluster(flavor_traits traits, const elasticsearch_options& options)
    : traits_(std::move(traits)),
      auto_create_(options.auto_create_index),
      refresh_interval_(options.refresh_interval),
      cluster_name_(options.cluster_name) {}

bool cluster::exists(std::string_view index) const {
  return indices_.find(std::string(index)) != indices_.end();
}

cluster::index_state& cluster::make_index(const std::string& name) {
  auto& idx = indices_[name];
  idx.name = name;
  idx.uuid = random_token(22);
  idx.last_refresh = std::chrono::steady_clock::now();
  idx.creation_date = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  return idx;
}

void cluster::refresh_index(index_state& idx) {
  for (const auto& id : idx.dirty) {
    auto it = idx.docs.find(id);
    if (it == idx.docs.end())
      continue;
    if (it->second.live) {
      it->second.searchable = it->second.source;
      it->second.searchable_seq_no = it->second.seq_no;
    } else {
      it->second.searchable.reset();
    }
  }
  idx.dirty.clear();
  idx.last_refresh = std::chrono::steady_clock::now();
}

void cluster::maybe_refresh(index_state& idx) {
  if (refresh_interval_.count() < 0)
    return;
  if (refresh_interval_.count() == 0 ||
      std::chrono::steady_clock::now() - idx.last_refresh >= refresh_interval_)
    refresh_index(idx);
}

json::object cluster::shards_json(const index_state& idx) const {
  json::object s;
  s["total"] = 1 + idx.replicas;
  s["successful"] = 1;
  s["failed"] = 0;
  return s;
}

json::object cluster::item_head(const bulk_item& item, const std::string& id) const {
  json::object o;
  o["_index"] = item.index;
  if (traits_.type_in_responses)
    o["_type"] = "_doc";
  o["_id"] = id;
  return o;
}

outcome cluster::item_error(const bulk_item& item, const std::optional<std::string>& id, int status,
                            json::object error) const {
  outcome out;
  out.status = status;
  out.failed = true;
  out.body["_index"] = item.index;
  if (traits_.type_in_responses)
    out.body["_type"] = "_doc";
  if (id)
    out.body["_id"] = *id;
  else
    out.body["_id"] = nullptr;
  out.body["status"] = status;
  out.body["error"] = std::move(error);
  return out;
}

std::optional<json::object> cluster::apply_mapping(index_state& idx, std::string_view raw,
                                                   const json::value& source,
                                                   const std::string& id) {
  auto walk = map_document(idx.fields, idx.dynamic, traits_, raw, source.get_object(), id);
  if (!walk.fits)
    return walk.error;
  if (!walk.new_fields.empty()) {
    // index.mapping.total_fields.limit; a text field counts twice (its keyword).
    std::size_t total = 0;
    auto count = [&total](const std::map<std::string, std::string>& m) {
      for (const auto& [k, t] : m)
        total += t == "text" ? 2 : 1;
    };
    count(idx.fields);
    count(walk.new_fields);
    if (total > 1000)
      return error_cause("illegal_argument_exception",
                         traits_.major >= 8 ? "Limit of total fields [1000] has been exceeded "
                                              "while adding new fields [" +
                                                  std::to_string(walk.new_fields.size()) + "]"
                                            : "Limit of total fields [1000] has been exceeded");
    for (auto& [k, t] : walk.new_fields)
      idx.fields.emplace(k, t);
  }
  return std::nullopt;
}

outcome cluster::acknowledge(const bulk_item& item) {
  outcome out;
  std::string id = item.id ? *item.id : random_token(20);
  out.body = item_head(item, id);
  out.body["_version"] = 1;
  out.body["result"] = item.op == op_kind::delete_ ? "deleted" : "created";
  json::object shards;
  shards["total"] = 2;
  shards["successful"] = 1;
  shards["failed"] = 0;
  out.body["_shards"] = std::move(shards);
  out.body["_seq_no"] = static_cast<std::int64_t>(id_counter_++);
  out.body["_primary_term"] = 1;
  out.status = item.op == op_kind::delete_ ? 200 : 201;
  out.body["status"] = out.status;
  return out;
}

outcome cluster::execute(const bulk_item& item, bool forced_refresh) {
  if (auto why = invalid_index_name_reason(item.index); !why.empty()) {
    auto e = error_cause("invalid_index_name_exception", why);
    e["index_uuid"] = "_na_";
    e["index"] = item.index;
    return item_error(item, item.id, 400, std::move(e));
  }
  // Ingest runs before the index is auto-created, so an unknown pipeline creates nothing.
  if (item.pipeline && *item.pipeline != "_none" && !pipelines_.count(*item.pipeline))
    return item_error(item, item.id, 400,
                      error_cause("illegal_argument_exception",
                                  "pipeline with id [" + *item.pipeline + "] does not exist"));
  auto it = indices_.find(item.index);
  if (it == indices_.end()) {
    if (item.op == op_kind::delete_ && item.version_type == "internal")
      return item_error(item, item.id, 404, index_not_found(item.index));
    if (item.require_alias)
      return item_error(item, item.id, 404,
                        index_not_found(item.index, "no such index [" + item.index +
                                                        "] and [require_alias] request flag is "
                                                        "[true] and [" +
                                                        item.index + "] is not an alias"));
    if (!auto_create_)
      return item_error(item, item.id, 404,
                        index_not_found(item.index, "no such index [" + item.index +
                                                        "] and [action.auto_create_index] is "
                                                        "[false]"));
    it = indices_.find(make_index(item.index).name);
  }
  index_state& idx = it->second;
  std::string id = item.id ? *item.id : random_token(20);
  auto doc_it = idx.docs.find(id);
  document* existing = doc_it == idx.docs.end() ? nullptr : &doc_it->second;
  bool live = existing && existing->live;

  auto conflict = [&](const std::string& reason) {
    auto e = error_cause("version_conflict_engine_exception",
                         "[" + id + "]: version conflict, " + reason);
    e["index_uuid"] = idx.uuid;
    e["shard"] = "0";
    e["index"] = idx.name;
    return item_error(item, id, 409, std::move(e));
  };
  // if_seq_no / if_primary_term compare-and-set.
  if (item.if_seq_no || item.if_primary_term) {
    std::int64_t want_seq = item.if_seq_no.value_or(-2);
    std::int64_t want_term = item.if_primary_term.value_or(0);
    if (!live)
      return conflict("required seqNo [" + std::to_string(want_seq) + "], primary term [" +
                      std::to_string(want_term) + "]. but no document was found");
    if (existing->seq_no != want_seq || want_term != 1)
      return conflict("required seqNo [" + std::to_string(want_seq) + "], primary term [" +
                      std::to_string(want_term) + "]. current document has seqNo [" +
                      std::to_string(existing->seq_no) + "] and primary term [1]");
  }
  std::int64_t new_version = existing ? existing->version + 1 : 1;
  if (item.version_type != "internal" && item.version) {
    std::int64_t provided = *item.version;
    if (existing) {
      if (item.version_type == "external_gte" && existing->version > provided)
        return conflict("current version [" + std::to_string(existing->version) +
                        "] is higher than the one provided [" + std::to_string(provided) + "]");
      if (item.version_type == "external" && existing->version >= provided)
        return conflict("current version [" + std::to_string(existing->version) +
                        "] is higher or equal to the one provided [" + std::to_string(provided) +
                        "]");
    }
    new_version = provided;
  }

  auto finish = [&](document& d, const char* result, int status) {
    outcome out;
    out.status = status;
    out.body = item_head(item, id);
    out.body["_version"] = d.version;
    out.body["result"] = result;
    if (forced_refresh) {
      refresh_index(idx);
      out.body["forced_refresh"] = true;
    }
    out.body["_shards"] = shards_json(idx);
    out.body["_seq_no"] = d.seq_no;
    out.body["_primary_term"] = 1;
    out.body["status"] = status;
    return out;
  };

  if (item.op == op_kind::delete_) {
    if (!live) {
      // A delete of a missing document still takes a sequence number (example).
      auto& d = idx.docs[id];
      d.version = existing ? new_version
                           : (item.version_type != "internal" && item.version ? *item.version : 1);
      d.seq_no = idx.next_seq_no++;
      d.live = false;
      return finish(d, "not_found", 404);
    }
    existing->version = new_version;
    existing->seq_no = idx.next_seq_no++;
    existing->live = false;
    existing->source.clear();
    existing->routing.reset();
    --idx.live;
    idx.dirty.insert(id);
    return finish(*existing, "deleted", 200);
  }

  // Sources are parsed "on the shard": a broken one fails only its own item.
  auto parse_source = [&](std::string_view raw, json::value& out) -> std::optional<json::object> {
    boost::system::error_code ec;
    out = json::parse(raw, ec);
    if (!ec && out.is_object())
      return std::nullopt;
    json_tokens p(raw);
    while (p.next() != token::none) {
    }
    std::string where = "[" + std::to_string(p.line()) + ":" + std::to_string(p.column()) + "] ";
    std::string detail = p.failed()    ? p.error()
                         : raw.empty() ? std::string("source is missing")
                         : ec ? std::string("Malformed content, found extra data after parsing")
                              : std::string("Malformed content, must start with an object");
    if (traits_.document_parsing_8) {
      auto e = error_cause("document_parsing_exception", where + "failed to parse: " + detail);
      e["caused_by"] = error_cause("x_content_parse_exception", where + detail);
      return e;
    }
    auto e = error_cause("mapper_parsing_exception", "failed to parse");
    e["caused_by"] = error_cause(traits_.json_parse_type, detail);
    return e;
  };

  if (item.op == op_kind::update) {
    json::value body;
    if (auto err = parse_source(item.source, body))
      return item_error(item, id, 400, std::move(*err));
    const auto& b = body.get_object();
    if (b.contains("script"))
      return item_error(item, id, 400,
                        error_cause("illegal_argument_exception",
                                    "script updates are not supported by the cbes testkit fake"));
    const json::value* partial = b.if_contains("doc");
    bool doc_as_upsert = b.contains("doc_as_upsert") && b.at("doc_as_upsert").is_bool() &&
                         b.at("doc_as_upsert").get_bool();
    json::value merged;
    const char* result = "updated";
    int status = 200;
    if (!live) {
      const json::value* upsert = b.if_contains("upsert");
      if (doc_as_upsert && partial)
        upsert = partial;
      if (!upsert || !upsert->is_object()) {
        auto e = error_cause("document_missing_exception",
                             traits_.major == 7 ? "[_doc][" + id + "]: document missing"
                                                : "[" + id + "]: document missing");
        e["index_uuid"] = idx.uuid;
        e["shard"] = "0";
        e["index"] = idx.name;
        return item_error(item, id, 404, std::move(e));
      }
      merged = *upsert;
      result = "created";
      status = 201;
    } else {
      if (!partial || !partial->is_object())
        return item_error(item, id, 400,
                          error_cause("action_request_validation_exception",
                                      "Validation Failed: 1: script or doc is missing;"));
      boost::system::error_code ec;
      merged = json::parse(existing->source, ec);
      if (ec || !merged.is_object())
        merged = json::object{};
      json::value before = merged;
      deep_merge(merged.get_object(), partial->get_object());
      if (merged == before) {
        outcome out;
        out.status = 200;
        out.body = item_head(item, id);
        out.body["_version"] = existing->version;
        out.body["result"] = "noop";
        json::object shards;
        shards["total"] = 0;
        shards["successful"] = 0;
        shards["failed"] = 0;
        out.body["_shards"] = std::move(shards);
        out.body["_seq_no"] = existing->seq_no;
        out.body["_primary_term"] = 1;
        out.body["status"] = 200;
        return out;
      }
    }
    std::string serialized = json::serialize(merged);
    if (auto err = apply_mapping(idx, serialized, merged, id))
      return item_error(item, id, 400, std::move(*err));
    auto& d = idx.docs[id];
    d.version = live ? new_version : (existing ? new_version : 1);
    d.seq_no = idx.next_seq_no++;
    d.source = std::move(serialized);
    if (item.routing)
      d.routing = item.routing;
    if (!d.live)
      ++idx.live;
    d.live = true;
    idx.dirty.insert(id);
    return finish(d, result, status);
  }

  // index / create
  if (item.op == op_kind::create && live)
    return conflict("document already exists (current version [" +
                    std::to_string(existing->version) + "])");
  json::value parsed;
  if (auto err = parse_source(item.source, parsed))
    return item_error(item, id, 400, std::move(*err));
  if (auto err = apply_mapping(idx, item.source, parsed, id))
    return item_error(item, id, 400, std::move(*err));
  auto& d = idx.docs[id];
  const bool unchanged = live && d.source == item.source;
  d.version = new_version;
  d.seq_no = idx.next_seq_no++;
  d.source.assign(item.source);
  d.routing = item.routing;
  if (!d.live)
    ++idx.live;
  d.live = true;
  idx.dirty.insert(id);
  auto out = finish(d, live ? "updated" : "created", live ? 200 : 201);
  out.unchanged = unchanged;
  return out;
}

outcome cluster::create_index(const std::string& name, const json::value* body) {
  outcome out;
  if (auto why = invalid_index_name_reason(name); !why.empty()) {
    auto e = error_cause("invalid_index_name_exception", why);
    e["index_uuid"] = "_na_";
    e["index"] = name;
    out.status = 400;
    out.body = error_body(std::move(e), 400);
    return out;
  }
  if (auto it = indices_.find(name); it != indices_.end()) {
    auto e = error_cause("resource_already_exists_exception",
                         "index [" + name + "/" + it->second.uuid + "] already exists");
    e["index_uuid"] = it->second.uuid;
    e["index"] = name;
    out.status = 400;
    out.body = error_body(std::move(e), 400);
    return out;
  }
  int shards = 1, replicas = 1;
  std::string dynamic = "true";
  std::map<std::string, std::string> fields;
  if (body && body->is_object()) {
    const auto& b = body->get_object();
    auto as_int = [](const json::value& v, int fallback) {
      if (v.is_int64())
        return static_cast<int>(v.get_int64());
      if (v.is_string()) {
        int n = fallback;
        std::string_view s = v.get_string();
        std::from_chars(s.data(), s.data() + s.size(), n);
        return n;
      }
      return fallback;
    };
    if (const auto* s = b.if_contains("settings"); s && s->is_object()) {
      const json::object* settings = &s->get_object();
      if (const auto* inner = settings->if_contains("index"); inner && inner->is_object())
        settings = &inner->get_object();
      for (const auto& kv : *settings) {
        std::string_view k = kv.key();
        if (k.starts_with("index."))
          k.remove_prefix(6);
        if (k == "number_of_shards")
          shards = as_int(kv.value(), shards);
        else if (k == "number_of_replicas")
          replicas = as_int(kv.value(), replicas);
      }
      if (const auto* outer = s->get_object().if_contains("number_of_replicas"))
        replicas = as_int(*outer, replicas);
    }
    if (const auto* m = b.if_contains("mappings"); m && m->is_object()) {
      const json::object* mappings = &m->get_object();
      if (const auto* d = mappings->if_contains("dynamic"))
        dynamic = d->is_string() ? std::string(d->get_string()) : json::serialize(*d);
      std::function<void(const json::object&, const std::string&)> walk =
          [&](const json::object& props, const std::string& prefix) {
            for (const auto& kv : props) {
              if (!kv.value().is_object())
                continue;
              std::string path =
                  prefix.empty() ? std::string(kv.key()) : prefix + "." + std::string(kv.key());
              const auto& def = kv.value().get_object();
              if (const auto* sub = def.if_contains("properties"); sub && sub->is_object()) {
                fields[path] = def.contains("type") && def.at("type").is_string()
                                   ? std::string(def.at("type").get_string())
                                   : "object";
                walk(sub->get_object(), path);
              } else if (const auto* t = def.if_contains("type"); t && t->is_string()) {
                fields[path] = std::string(t->get_string());
              }
            }
          };
      if (const auto* p = mappings->if_contains("properties"); p && p->is_object())
        walk(p->get_object(), "");
    }
  }
  auto& idx = make_index(name);
  idx.shards = std::max(1, shards);
  idx.replicas = std::max(0, replicas);
  idx.dynamic = dynamic;
  idx.fields = std::move(fields);
  out.body["acknowledged"] = true;
  out.body["shards_acknowledged"] = true;
  out.body["index"] = name;
  return out;
}

outcome cluster::delete_index(const std::string& name) {
  outcome out;
  auto it = indices_.find(name);
  if (it == indices_.end()) {
    return missing_index(name);
  }
  indices_.erase(it);
  out.body["acknowledged"] = true;
  return out;
}

json::object cluster::mappings_json(const index_state& idx) const {
  json::object root;
  if (idx.dynamic != "true")
    root["dynamic"] = idx.dynamic;
  if (idx.fields.empty())
    return root;
  json::object props;
  for (const auto& [path, type] : idx.fields) {
    // Walk/create the parents' "properties" objects.
    json::object* cur = &props;
    std::size_t start = 0;
    for (;;) {
      auto dot = path.find('.', start);
      std::string part =
          path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
      json::object& node = (*cur)[part].emplace_object();
      if (dot == std::string::npos) {
        if (type == "text") {
          node["type"] = "text";
          json::object kw;
          kw["type"] = "keyword";
          kw["ignore_above"] = 256;
          json::object sub;
          sub["keyword"] = std::move(kw);
          node["fields"] = std::move(sub);
        } else if (type != "object") {
          node["type"] = type;
        }
        break;
      }
      if (type == "nested")
        node["type"] = "nested";
      cur = &node["properties"].emplace_object();
      start = dot + 1;
    }
  }
  root["properties"] = std::move(props);
  return root;
}

outcome cluster::get_mapping(const std::string& name) const {
  outcome out;
  auto it = indices_.find(name);
  if (it == indices_.end()) {
    return missing_index(name);
  }
  json::object m;
  m["mappings"] = mappings_json(it->second);
  out.body[name] = std::move(m);
  return out;
}

outcome cluster::get_index(const std::string& name) const {
  outcome out;
  auto it = indices_.find(name);
  if (it == indices_.end()) {
    return missing_index(name);
  }
  const auto& idx = it->second;
  json::object index_settings;
  index_settings["creation_date"] = std::to_string(idx.creation_date);
  index_settings["number_of_shards"] = std::to_string(idx.shards);
  index_settings["number_of_replicas"] = std::to_string(idx.replicas);
  index_settings["uuid"] = idx.uuid;
  index_settings["provided_name"] = idx.name;
  json::object settings;
  settings["index"] = std::move(index_settings);
  json::object entry;
  entry["aliases"] = json::object{};
  entry["mappings"] = mappings_json(idx);
  entry["settings"] = std::move(settings);
  out.body[name] = std::move(entry);
  return out;
}

outcome cluster::refresh(const std::string& index) {
  outcome out;
  std::string missing;
  auto targets = resolve(index, missing);
  if (!missing.empty()) {
    return missing_index(missing);
  }
  int total = 0;
  for (auto* idx : targets) {
    refresh_index(*idx);
    total += idx->shards * (1 + idx->replicas);
  }
  int successful = 0;
  for (auto* idx : targets)
    successful += idx->shards;
  json::object shards;
  shards["total"] = total;
  shards["successful"] = successful;
  shards["failed"] = 0;
  out.body["_shards"] = std::move(shards);
  return out;
}

outcome cluster::health(const std::string& wait_for_status) const {
  int primaries = 0, unassigned = 0;
  for (const auto& [name, idx] : indices_) {
    primaries += idx.shards;
    unassigned += idx.shards * idx.replicas;
  }
  // A single node never assigns replicas: any replica makes the cluster yellow.
  std::string status = unassigned > 0 ? "yellow" : "green";
  auto rank = [](const std::string& s) { return s == "green" ? 0 : s == "yellow" ? 1 : 2; };
  bool timed_out = !wait_for_status.empty() && rank(status) > rank(wait_for_status);
  outcome out;
  out.status = timed_out ? 408 : 200;
  auto& b = out.body;
  b["cluster_name"] = cluster_name_;
  b["status"] = status;
  b["timed_out"] = timed_out;
  b["number_of_nodes"] = 1;
  b["number_of_data_nodes"] = 1;
  if (traits_.opensearch) {
    b["discovered_master"] = true;
    b["discovered_cluster_manager"] = true;
  }
  b["active_primary_shards"] = primaries;
  b["active_shards"] = primaries;
  b["relocating_shards"] = 0;
  b["initializing_shards"] = 0;
  b["unassigned_shards"] = unassigned;
  b["delayed_unassigned_shards"] = 0;
  b["number_of_pending_tasks"] = 0;
  b["number_of_in_flight_fetch"] = 0;
  b["task_max_waiting_in_queue_millis"] = 0;
  b["active_shards_percent_as_number"] =
      primaries + unassigned == 0 ? 100.0 : 100.0 * primaries / (primaries + unassigned);
  return out;
}

outcome cluster::get_document(const std::string& index, const std::string& id, bool head) const {
  (void)head;
  outcome out;
  auto it = indices_.find(index);
  if (it == indices_.end()) {
    return missing_index(index);
  }
  out.body["_index"] = index;
  if (traits_.type_in_responses)
    out.body["_type"] = "_doc";
  out.body["_id"] = id;
  auto d = it->second.docs.find(id);
  if (d == it->second.docs.end() || !d->second.live) {
    out.status = 404;
    out.body["found"] = false;
    return out;
  }
  out.body["_version"] = d->second.version;
  out.body["_seq_no"] = d->second.seq_no;
  out.body["_primary_term"] = 1;
  if (d->second.routing)
    out.body["_routing"] = *d->second.routing;
  out.body["found"] = true;
  boost::system::error_code ec;
  out.body["_source"] = json::parse(d->second.source, ec);
  return out;
}

std::vector<cluster::index_state*> cluster::resolve(const std::string& indices,
                                                    std::string& missing) {
  std::vector<index_state*> out;
  if (indices.empty() || indices == "_all" || indices == "*") {
    for (auto& [name, idx] : indices_)
      out.push_back(&idx);
    return out;
  }
  std::size_t start = 0;
  while (start <= indices.size()) {
    auto comma = indices.find(',', start);
    std::string name =
        indices.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!name.empty()) {
      if (name.back() == '*') {
        std::string prefix = name.substr(0, name.size() - 1);
        for (auto& [n, idx] : indices_) {
          if (n.starts_with(prefix) && std::find(out.begin(), out.end(), &idx) == out.end())
            out.push_back(&idx);
        }
      } else if (auto it = indices_.find(name); it != indices_.end()) {
        if (std::find(out.begin(), out.end(), &it->second) == out.end())
          out.push_back(&it->second);
      } else if (missing.empty()) {
        missing = name;
      }
    }
    if (comma == std::string::npos)
      break;
    start = comma + 1;
  }
  return out;
}

outcome cluster::count(const std::string& indices, const json::object* body) {
  outcome out;
  const json::value* query = nullptr;
  if (body) {
    for (const auto& kv : *body) {
      if (kv.key() != "query") {
        out.status = 400;
        out.body = error_body(error_cause("parsing_exception", "request does not support [" +
                                                                   std::string(kv.key()) + "]"),
                              400);
        return out;
      }
      query = &kv.value();
    }
  }
  std::string missing;
  auto targets = resolve(indices, missing);
  if (!missing.empty()) {
    return missing_index(missing);
  }
  std::int64_t n = 0;
  int shards = 0;
  try {
    for (auto* idx : targets) {
      maybe_refresh(*idx);
      shards += idx->shards;
      for (const auto& [id, d] : idx->docs) {
        if (!d.searchable)
          continue;
        if (!query) {
          ++n;
          continue;
        }
        boost::system::error_code ec;
        json::value src = json::parse(*d.searchable, ec);
        n += query_matches(idx->fields, id, src, *query) ? 1 : 0;
      }
    }
  } catch (const query_error& e) {
    out.status = 400;
    out.body = error_body(error_cause(e.type, e.reason), 400);
    return out;
  }
  out.body["count"] = n;
  json::object s;
  s["total"] = shards;
  s["successful"] = shards;
  s["skipped"] = 0;
  s["failed"] = 0;
  out.body["_shards"] = std::move(s);
  return out;
}

outcome cluster::search(const std::string& indices, const json::object* body, bool total_as_int,
                        const json::value* track_total_hits) {
  outcome out;
  const json::value* query = nullptr;
  std::int64_t size = 10, from = 0;
  if (body) {
    if (const auto* q = body->if_contains("query"))
      query = q;
    if (const auto* s = body->if_contains("size"); s && s->is_number())
      size = s->to_number<std::int64_t>();
    if (const auto* f = body->if_contains("from"); f && f->is_number())
      from = f->to_number<std::int64_t>();
    if (const auto* t = body->if_contains("track_total_hits"))
      track_total_hits = t;
  }
  std::string missing;
  auto targets = resolve(indices, missing);
  if (!missing.empty()) {
    return missing_index(missing);
  }
  struct hit {
    const index_state* idx;
    std::string id;
    const document* doc;
  };
  std::vector<hit> hits;
  int shards = 0;
  try {
    for (auto* idx : targets) {
      maybe_refresh(*idx);
      shards += idx->shards;
      for (const auto& [id, d] : idx->docs) {
        if (!d.searchable)
          continue;
        if (query) {
          boost::system::error_code ec;
          json::value src = json::parse(*d.searchable, ec);
          if (!query_matches(idx->fields, id, src, *query))
            continue;
        }
        hits.push_back({idx, id, &d});
      }
    }
  } catch (const query_error& e) {
    out.status = 400;
    out.body = error_body(error_cause(e.type, e.reason), 400);
    return out;
  }
  // Lucene returns equal-score hits in index order; a rewritten document moves to the end.
  std::sort(hits.begin(), hits.end(), [](const hit& a, const hit& b) {
    if (a.idx != b.idx)
      return a.idx->name < b.idx->name;
    return a.doc->searchable_seq_no < b.doc->searchable_seq_no;
  });
  out.body["took"] = 1;
  out.body["timed_out"] = false;
  json::object s;
  s["total"] = shards;
  s["successful"] = shards;
  s["skipped"] = 0;
  s["failed"] = 0;
  out.body["_shards"] = std::move(s);
  json::object h;
  auto n = static_cast<std::int64_t>(hits.size());
  std::int64_t track = 10000;
  bool track_off = false;
  if (track_total_hits) {
    if (track_total_hits->is_bool()) {
      track_off = !track_total_hits->get_bool();
      track = track_total_hits->get_bool() ? INT64_MAX : 0;
    } else if (track_total_hits->is_number()) {
      track = track_total_hits->to_number<std::int64_t>();
    }
  }
  if (total_as_int) {
    h["total"] = n;
  } else if (!track_off) {
    json::object total;
    total["value"] = std::min(n, track);
    total["relation"] = n > track ? "gte" : "eq";
    h["total"] = std::move(total);
  }
  json::array arr;
  for (std::int64_t i = std::max<std::int64_t>(0, from);
       i < n && static_cast<std::int64_t>(arr.size()) < size; ++i) {
    json::object e;
    e["_index"] = hits[static_cast<std::size_t>(i)].idx->name;
    if (traits_.type_in_responses)
      e["_type"] = "_doc";
    e["_id"] = hits[static_cast<std::size_t>(i)].id;
    e["_score"] = 1.0;
    if (hits[static_cast<std::size_t>(i)].doc->routing)
      e["_routing"] = *hits[static_cast<std::size_t>(i)].doc->routing;
    boost::system::error_code ec;
    e["_source"] = json::parse(*hits[static_cast<std::size_t>(i)].doc->searchable, ec);
    arr.push_back(std::move(e));
  }
  if (arr.empty())
    h["max_score"] = nullptr;
  else
    h["max_score"] = 1.0;
  h["hits"] = std::move(arr);
  out.body["hits"] = std::move(h);
  return out;
}

std::optional<std::string> cluster::live_source(std::string_view index, std::string_view id) const {
  auto it = indices_.find(std::string(index));
  if (it == indices_.end())
    return std::nullopt;
  auto d = it->second.docs.find(std::string(id));
  if (d == it->second.docs.end() || !d->second.live)
    return std::nullopt;
  return d->second.source;
}

std::size_t cluster::live_count(std::string_view index) const {
  auto it = indices_.find(std::string(index));
  return it == indices_.end() ? 0 : it->second.live;
}

std::vector<std::string> cluster::index_names() const {
  std::vector<std::string> out;
  for (const auto& [name, idx] : indices_)
    out.push_back(name);
  return out;
}

}  // namespace cbes::testkit::es
