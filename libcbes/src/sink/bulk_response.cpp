#include "cbes/sink/bulk_response.hpp"

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace cbes::sink {
namespace {

namespace json = boost::json;

std::string_view action_name(action_type t) {
  return t == action_type::index ? "index" : "delete";
}

// Printable excerpt of an untrusted body for an error message.
std::string excerpt(std::string_view body) {
  constexpr std::size_t max = 300;
  std::string out;
  for (char c : body.substr(0, max))
    out += (c >= 0x20 && c < 0x7F) ? c : '?';
  if (body.size() > max)
    out += "...";
  return out;
}

// Elasticsearch's reason from a whole-request error body (Elasticsearch's REST API docs):
// {"error":{"type":T,"reason":R,...},"status":S} or {"error":"text","status":S}.
std::string error_reason(std::string_view body) {
  if (body.empty())
    return "(empty body)";
  boost::system::error_code ec;
  json::value v = json::parse(json::string_view(body.data(), body.size()), ec);
  if (!ec && v.is_object()) {
    const auto& obj = v.get_object();
    if (auto it = obj.find("error"); it != obj.end()) {
      if (it->value().is_string())
        return std::string(it->value().get_string());
      if (const auto* err = it->value().if_object()) {
        std::string out;
        if (auto t = err->find("type"); t != err->end() && t->value().is_string())
          out += t->value().get_string();
        if (auto r = err->find("reason"); r != err->end() && r->value().is_string()) {
          if (!out.empty())
            out += ": ";
          out += r->value().get_string();
        }
        if (!out.empty())
          return out;
      }
    }
    // Amazon OpenSearch Service's gateway answers {"Message": "..."}.
    if (auto it = obj.find("Message"); it != obj.end() && it->value().is_string())
      return std::string(it->value().get_string());
  }
  return excerpt(body);
}

bulk_classification whole(bulk_verdict verdict, std::string message) {
  bulk_classification c;
  c.verdict = verdict;
  c.message = std::move(message);
  return c;
}

void reject(bulk_classification& c, std::size_t i, const bulk_action& a, std::string error_text,
            std::string_view rejection_log_index) {
  if (a.rejection_log_entry) {
    // a rejection-log write that fails permanently is counted and dropped.
    c.items[i].outcome = item_outcome::dropped;
    ++c.dropped_count;
    return;
  }
  c.items[i].outcome = item_outcome::rejected;
  ++c.rejected_count;
  if (!rejection_log_index.empty())
    c.rejections.push_back(rejection_document(a, error_text, rejection_log_index));
}

// SAX handler that confirms the common answer, every item a success, without building a DOM
// (the DOM's allocations were most of the classification's cost). It stops at the first thing
// that is not that answer: an item with an error or another status, anything unexpected or
// malformed; the full classification then decides, with its messages.
class success_scan {
 public:
  static constexpr std::size_t max_array_size = std::size_t(-1);
  static constexpr std::size_t max_object_size = std::size_t(-1);
  static constexpr std::size_t max_string_size = std::size_t(-1);
  static constexpr std::size_t max_key_size = std::size_t(-1);

  std::span<const bulk_action> sent;
  bulk_classification* out = nullptr;
  bool items_seen = false;
  bool took_seen = false;
  std::size_t count = 0;  // items seen

  bool on_document_begin(json::error_code&) { return true; }
  bool on_document_end(json::error_code& ec) {
    return keep_going(items_seen && count == sent.size(), ec);
  }
  bool on_object_begin(json::error_code& ec) {
    ++depth_;
    if (depth_ == 1)
      return true;
    if (depth_ == 3 && in_items_) {  // an item's wrapper: {"index": {...}}
      if (count >= sent.size())
        return keep_going(false, ec);
      wrapper_keys_ = 0;
      return true;
    }
    if (depth_ == 4 && in_items_) {  // the item's result
      if (wrapper_keys_ != 1 || !action_ok_)
        return keep_going(false, ec);
      status_ = -1;
      return true;
    }
    return keep_going(expect_ == expect::nothing, ec);
  }
  bool on_object_end(std::size_t, json::error_code& ec) {
    if (depth_ == 4 && in_items_) {
      const bool remove = sent[count].type == action_type::remove;
      if (!(status_ >= 200 && status_ <= 299) && !(status_ == 404 && remove))
        return keep_going(false, ec);
      item_result& r = out->items[count];
      r.status = static_cast<int>(status_);
      r.outcome = item_outcome::done;
      result_done_ = true;
    } else if (depth_ == 3 && in_items_) {
      if (wrapper_keys_ != 1 || !result_done_)
        return keep_going(false, ec);
      result_done_ = false;
      ++count;
    }
    --depth_;
    return true;
  }
  bool on_array_begin(json::error_code& ec) {
    ++depth_;
    if (depth_ == 2 && expect_ == expect::items) {
      in_items_ = true;
      expect_ = expect::nothing;
      return true;
    }
    // Not the root, not where `ingest_took` or a status belongs, not an item or its result.
    return keep_going(
        expect_ == expect::nothing && depth_ != 1 && !(in_items_ && (depth_ == 3 || depth_ == 4)),
        ec);
  }
  bool on_array_end(std::size_t, json::error_code&) {
    if (depth_ == 2 && in_items_)
      in_items_ = false;
    --depth_;
    return true;
  }
  bool on_key_part(json::string_view s, std::size_t, json::error_code&) {
    key_.append(s.data(), s.size());
    return true;
  }
  bool on_key(json::string_view s, std::size_t, json::error_code& ec) {
    key_.append(s.data(), s.size());
    const bool ok = key(key_);
    key_.clear();
    return keep_going(ok, ec);
  }
  bool on_string_part(json::string_view, std::size_t, json::error_code& ec) {
    return keep_going(scalar(), ec);
  }
  bool on_string(json::string_view, std::size_t, json::error_code& ec) {
    return keep_going(scalar(), ec);
  }
  bool on_number_part(json::string_view, json::error_code&) { return true; }
  bool on_int64(std::int64_t v, json::string_view, json::error_code& ec) {
    return keep_going(integer(v), ec);
  }
  bool on_uint64(std::uint64_t v, json::string_view, json::error_code& ec) {
    return keep_going(v <= 599 ? integer(static_cast<std::int64_t>(v)) : scalar(), ec);
  }
  bool on_double(double, json::string_view, json::error_code& ec) {
    return keep_going(scalar(), ec);
  }
  bool on_bool(bool, json::error_code& ec) { return keep_going(scalar(), ec); }
  bool on_null(json::error_code& ec) { return keep_going(scalar(), ec); }
  bool on_comment_part(json::string_view, json::error_code& ec) { return keep_going(false, ec); }
  bool on_comment(json::string_view, json::error_code& ec) { return keep_going(false, ec); }

 private:
  // Boost.JSON needs an error code with a handler's false; any will do, the caller only falls
  // back to the full classification.
  static bool keep_going(bool go_on, json::error_code& ec) {
    if (!go_on)
      ec = json::error::syntax;
    return go_on;
  }

  enum class expect { nothing, items, ingest_took, status };

  bool key(std::string_view k) {
    if (depth_ == 1) {
      if (k == "items") {
        if (items_seen)
          return false;  // duplicate keys: leave them to the full classification
        items_seen = true;
        expect_ = expect::items;
      } else if (k == "ingest_took") {
        if (took_seen)
          return false;
        took_seen = true;
        expect_ = expect::ingest_took;
      }
      return true;
    }
    if (depth_ == 3 && in_items_) {
      action_ok_ = ++wrapper_keys_ == 1 && k == action_name(sent[count].type);
      return action_ok_;
    }
    if (depth_ == 4 && in_items_) {
      if (k == "error")
        return false;
      if (k == "status") {
        if (status_ != -1)
          return false;
        expect_ = expect::status;
      }
    }
    return true;
  }
  // A string, double, bool or null: never what `items`, `ingest_took` or `status` must be.
  bool scalar() {
    if (expect_ != expect::nothing)
      return false;
    return !(in_items_ && (depth_ == 2 || depth_ == 3));
  }
  bool integer(std::int64_t v) {
    switch (expect_) {
      case expect::ingest_took:
        expect_ = expect::nothing;
        if (v < 0)
          return false;
        out->ingest_took = std::chrono::milliseconds(v);
        return true;
      case expect::status:
        expect_ = expect::nothing;
        status_ = v;
        return v >= 100 && v <= 599;
      case expect::items:
        return false;
      case expect::nothing:
        return !(in_items_ && (depth_ == 2 || depth_ == 3));
    }
    return false;
  }

  std::size_t depth_ = 0;
  expect expect_ = expect::nothing;
  bool in_items_ = false;
  bool action_ok_ = false;
  bool result_done_ = false;
  std::size_t wrapper_keys_ = 0;
  std::int64_t status_ = -1;
  std::string key_;
};

std::optional<bulk_classification> all_succeeded(std::string_view body,
                                                 std::span<const bulk_action> sent) {
  bulk_classification c;
  c.items.resize(sent.size());
  json::parse_options opt;
  opt.max_depth = 64;  // as the full classification's parse
  json::basic_parser<success_scan> parser(opt);
  parser.handler().sent = sent;
  parser.handler().out = &c;
  json::error_code ec;
  const std::size_t n = parser.write_some(false, body.data(), body.size(), ec);
  if (ec || n != body.size())
    return std::nullopt;
  return c;
}

}  // namespace

bulk_action rejection_document(const bulk_action& failed, std::string_view error_text,
                               std::string_view rejection_log_index) {
  std::string source;
  source.reserve(48 + failed.index.size() + error_text.size() * 2);
  source += R"({"index":)";
  append_json_string(source, failed.index);
  source += R"(,"action":)";
  source += failed.type == action_type::index ? R"("INDEX")" : R"("DELETE")";
  source += R"(,"error":)";
  append_json_string(source, error_text);
  source += '}';
  bulk_action a =
      bulk_action::index_doc(failed.id, std::string(rejection_log_index), std::move(source));
  a.tag = failed.tag;
  a.rejection_log_entry = true;
  return a;
}

namespace {

// The answer to a whole request that is not 2xx; nullopt for 2xx, where the items decide.
std::optional<bulk_classification> by_http_status(unsigned http_status, std::string_view body,
                                                  std::span<const bulk_action> sent,
                                                  std::string_view rejection_log_index) {
  const std::string status_text = "HTTP " + std::to_string(http_status);
  if (http_status == 413) {
    // Elasticsearch's REST API docs: halve the batch; a single action that is still too large can
    // never succeed, so it is rejected like any other permanent failure.
    if (sent.size() > 1)
      return whole(bulk_verdict::split, status_text +
                                            ": request body larger than Elasticsearch accepts "
                                            "(http.max_content_length); resend in smaller batches");
    bulk_classification c;
    c.items.resize(sent.size());
    for (std::size_t i = 0; i < sent.size(); ++i) {
      c.items[i].status = 413;
      c.items[i].error =
          R"({"type":"request_entity_too_large","reason":"document larger than the server's request size limit"})";
      reject(c, i, sent[i], c.items[i].error, rejection_log_index);
    }
    return c;
  }
  if (http_status == 429 || (http_status >= 500 && http_status <= 599))
    return whole(bulk_verdict::retry_all, status_text + ": " + error_reason(body));
  if (http_status == 401)
    return whole(bulk_verdict::fatal,
                 "Elasticsearch rejected the credentials (" + status_text + ": " +
                     error_reason(body) +
                     "); check elasticsearch.username and elasticsearch.pathToPassword, or the "
                     "API key when elasticsearch.elasticCloud is enabled");
  if (http_status == 403)
    return whole(bulk_verdict::fatal,
                 "Elasticsearch refused the bulk request (" + status_text + ": " +
                     error_reason(body) +
                     "); give the user of elasticsearch.username / elasticsearch.pathToPassword "
                     "(or the API key) write access to the target indices");
  if (http_status >= 400 && http_status <= 499)
    return whole(bulk_verdict::fatal, "Elasticsearch rejected the bulk request (" + status_text +
                                          "): " + error_reason(body));
  if (http_status < 200 || http_status > 299)
    return whole(bulk_verdict::fatal,
                 "unexpected " + status_text + " answering _bulk: " + error_reason(body));

  return std::nullopt;
}

// The full classification of a 2xx answer, item by item, from a DOM.
bulk_classification per_item(std::string_view body, std::span<const bulk_action> sent,
                             std::string_view rejection_log_index) {
  unsigned char scratch[16 * 1024];
  json::monotonic_resource mr(scratch, sizeof scratch);
  json::parse_options opt;
  opt.max_depth = 64;
  boost::system::error_code ec;
  json::value doc = json::parse(json::string_view(body.data(), body.size()), ec, &mr, opt);
  if (ec)
    return whole(bulk_verdict::malformed,
                 "malformed _bulk response (" + ec.message() + "): " + excerpt(body));
  const auto* top = doc.if_object();
  const json::value* items_value = top ? top->if_contains("items") : nullptr;
  const json::array* items = items_value ? items_value->if_array() : nullptr;
  if (!items)
    return whole(bulk_verdict::malformed,
                 "malformed _bulk response: no 'items' array: " + excerpt(body));
  if (items->size() != sent.size())
    return whole(bulk_verdict::malformed,
                 "malformed _bulk response: " + std::to_string(items->size()) + " items for " +
                     std::to_string(sent.size()) + " actions");

  bulk_classification c;
  c.items.resize(sent.size());
  if (const auto* took = top->if_contains("ingest_took");
      took && took->is_int64() && took->get_int64() >= 0)
    c.ingest_took = std::chrono::milliseconds(took->get_int64());
  for (std::size_t i = 0; i < sent.size(); ++i) {
    const bulk_action& a = sent[i];
    // Built only for an error: a per-item string would cost an allocation per document.
    auto where = [i] { return "malformed _bulk response: item " + std::to_string(i); };
    const auto* wrapper = (*items)[i].if_object();
    if (!wrapper || wrapper->size() != 1)
      return whole(bulk_verdict::malformed, where() + " is not an object with one action key");
    const auto& [name, result_value] = *wrapper->begin();
    if (name != action_name(a.type))
      return whole(bulk_verdict::malformed, where() + " answers '" + std::string(name) +
                                                "' but the request sent '" +
                                                std::string(action_name(a.type)) + "'");
    const auto* result = result_value.if_object();
    const json::value* status_value = result ? result->if_contains("status") : nullptr;
    if (!status_value || !status_value->is_number())
      return whole(bulk_verdict::malformed, where() + " has no numeric 'status'");
    boost::system::error_code num_ec;
    const auto status = status_value->to_number<std::int64_t>(num_ec);
    if (num_ec || status < 100 || status > 599)
      return whole(bulk_verdict::malformed, where() + " has an invalid 'status'");

    item_result& r = c.items[i];
    r.status = static_cast<int>(status);
    const json::value* error = result->if_contains("error");
    if (error)
      r.error = json::serialize(*error);
    if (!error && status >= 200 && status <= 299) {
      r.outcome = item_outcome::done;
    } else if (!error && status == 404 && a.type == action_type::remove) {
      r.outcome = item_outcome::done;  // delete of a missing document: result "not_found"
    } else if (status == 400 || (status == 404 && error)) {
      if (!error)
        r.error = R"({"status":400})";
      reject(c, i, a, r.error, rejection_log_index);
    } else {
      r.outcome = item_outcome::retry;
      c.retry.push_back(i);
    }
  }
  return c;
}

}  // namespace

bulk_classification classify_bulk_response(unsigned http_status, std::string_view body,
                                           std::span<const bulk_action> sent,
                                           std::string_view rejection_log_index) {
  if (auto c = by_http_status(http_status, body, sent, rejection_log_index))
    return std::move(*c);
  if (auto fast = all_succeeded(body, sent))
    return std::move(*fast);
  return per_item(body, sent, rejection_log_index);
}

bulk_classification classify_bulk_response_reference(unsigned http_status, std::string_view body,
                                                     std::span<const bulk_action> sent,
                                                     std::string_view rejection_log_index) {
  if (auto c = by_http_status(http_status, body, sent, rejection_log_index))
    return std::move(*c);
  return per_item(body, sent, rejection_log_index);
}

}  // namespace cbes::sink
