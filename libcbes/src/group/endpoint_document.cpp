#include "cbes/group/endpoint_document.hpp"

#include <algorithm>

#include <boost/json.hpp>

namespace cbes::group {
namespace json = boost::json;

namespace {

// The parsed document with its two arrays made present.
struct document {
  json::object root;

  json::array& requests() { return root["requests"].as_array(); }
  json::array& responses() { return root["responses"].as_array(); }
};

result<document> parse(std::string_view text) {
  document doc;
  if (text.empty())
    text = empty_endpoint_document;
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object())
    return make_error(errc::invalid_document, "the RPC endpoint document is not a JSON object");
  doc.root = std::move(v.as_object());
  for (const char* field : {"requests", "responses"}) {
    auto* member = doc.root.if_contains(field);
    if (member == nullptr)
      doc.root[field] = json::array();
    else if (!member->is_array())
      return make_error(errc::invalid_document, std::string("the RPC endpoint document's \"") +
                                                    field + "\" is not an array");
  }
  return doc;
}

result<json::value> parse_entry(std::string_view text, const char* what) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object())
    return make_error(errc::invalid_argument, std::string(what) + " is not a JSON object");
  return v;
}

bool has_id(const json::value& entry, std::string_view id) {
  const auto* object = entry.if_object();
  if (object == nullptr)
    return false;
  const auto* value = object->if_contains("id");
  return value != nullptr && value->is_string() && value->as_string() == id;
}

template <class Pred>
void remove_where(json::array& entries, Pred pred) {
  entries.erase(std::remove_if(entries.begin(), entries.end(), pred), entries.end());
}

}  // namespace

result<std::string> append_request(std::string_view doc, std::string_view request) {
  auto d = parse(doc);
  if (!d)
    return d.error();
  auto entry = parse_entry(request, "the request");
  if (!entry)
    return entry.error();
  d->requests().push_back(std::move(*entry));
  return json::serialize(d->root);
}

result<bool> has_request(std::string_view doc, std::string_view id) {
  auto d = parse(doc);
  if (!d)
    return d.error();
  for (const auto& r : d->requests())
    if (has_id(r, id))
      return true;
  return false;
}

result<std::optional<std::string>> find_response(std::string_view doc, std::string_view id) {
  auto d = parse(doc);
  if (!d)
    return d.error();
  for (const auto& r : d->responses())
    if (has_id(r, id))
      return std::optional<std::string>(json::serialize(r));
  return std::optional<std::string>();
}

result<std::string> remove_response(std::string_view doc, std::string_view id) {
  auto d = parse(doc);
  if (!d)
    return d.error();
  remove_where(d->responses(), [id](const json::value& r) { return has_id(r, id); });
  return json::serialize(d->root);
}

result<std::optional<std::string>> first_request(std::string_view doc) {
  auto d = parse(doc);
  if (!d)
    return d.error();
  const auto& requests = d->requests();
  if (requests.empty())
    return std::optional<std::string>();
  const auto& first = requests.front();
  if (first.is_string())
    return std::optional<std::string>(std::string(first.as_string()));
  return std::optional<std::string>(json::serialize(first));
}

result<std::string> apply_response(std::string_view doc, std::string_view response,
                                   std::chrono::nanoseconds now, std::chrono::nanoseconds max_age) {
  auto d = parse(doc);
  if (!d)
    return d.error();
  auto entry = parse_entry(response, "the response");
  if (!entry)
    return entry.error();
  auto& responses = d->responses();
  remove_where(responses, [&](const json::value& r) {
    const auto* object = r.if_object();
    const auto* stamp = object == nullptr ? nullptr : object->if_contains("timestamp");
    if (stamp == nullptr)
      return false;
    boost::system::error_code bad_number;
    const auto written = stamp->to_number<std::int64_t>(bad_number);
    return !bad_number && now - std::chrono::nanoseconds(written) > max_age;
  });
  auto& answer = entry->as_object();
  answer["timestamp"] = static_cast<std::int64_t>(now.count());
  const json::value id = answer.contains("id") ? answer.at("id") : json::value();
  responses.push_back(std::move(*entry));

  auto& requests = d->requests();
  if (!requests.empty())
    requests.erase(requests.begin());
  if (!id.is_null())
    remove_where(requests, [&id](const json::value& r) {
      const auto* object = r.if_object();
      const auto* rid = object == nullptr ? nullptr : object->if_contains("id");
      return rid != nullptr && *rid == id;
    });
  return json::serialize(d->root);
}

}  // namespace cbes::group
