#include "query.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <string_view>
#include <vector>

namespace cbes::testkit::es {

namespace json = boost::json;

namespace {

// The value(s) at a dotted path of a document (arrays flattened).
void values_at(const json::value& v, std::string_view path, std::vector<const json::value*>& out) {
  if (v.is_array()) {
    for (const auto& e : v.get_array())
      values_at(e, path, out);
    return;
  }
  if (path.empty()) {
    out.push_back(&v);
    return;
  }
  if (!v.is_object())
    return;
  const auto& o = v.get_object();
  // Try the longest key first so that literal dotted keys are found too.
  for (std::size_t cut = path.size();;) {
    std::string_view head = path.substr(0, cut);
    if (auto it = o.find(head); it != o.end())
      values_at(it->value(), cut == path.size() ? std::string_view{} : path.substr(cut + 1), out);
    if (cut == 0)
      break;
    auto dot = path.rfind('.', cut - 1);
    if (dot == std::string_view::npos)
      break;
    cut = dot;
  }
}

std::vector<std::string> analyze(std::string_view text) {
  std::vector<std::string> tokens;
  std::string cur;
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c >= 0x80) {
      cur += static_cast<char>(std::tolower(c));
    } else if (!cur.empty()) {
      tokens.push_back(std::move(cur));
      cur.clear();
    }
  }
  if (!cur.empty())
    tokens.push_back(std::move(cur));
  return tokens;
}

std::string scalar_text(const json::value& v) {
  if (v.is_string())
    return std::string(v.get_string());
  return json::serialize(v);
}

bool scalar_equals(const json::value& doc, const json::value& q) {
  if (doc.is_number() && (q.is_number() || q.is_string())) {
    double a = doc.to_number<double>();
    double b = 0;
    if (q.is_number()) {
      b = q.to_number<double>();
    } else {
      std::string_view s = q.get_string();
      auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), b);
      if (ec != std::errc() || ptr != s.data() + s.size())
        return false;
    }
    return a == b;
  }
  return scalar_text(doc) == scalar_text(q);
}

// Evaluates the supported query DSL subset against one document source.
struct query_eval {
  const std::map<std::string, std::string>& fields;
  const std::string& id;
  const json::value& source;

  std::string field_type(const std::string& f) const {
    auto it = fields.find(f);
    return it == fields.end() ? "" : it->second;
  }

  bool term(const std::string& field, const json::value& q, bool analyzed_query) const {
    std::string f = field;
    std::string type = field_type(f);
    bool keyword_sub = false;
    if (type.empty() && f.size() > 8 && f.ends_with(".keyword") &&
        field_type(f.substr(0, f.size() - 8)) == "text") {
      f = f.substr(0, f.size() - 8);
      keyword_sub = true;
    }
    std::vector<const json::value*> vals;
    values_at(source, f, vals);
    for (const auto* v : vals) {
      if (v->is_null() || v->is_object())
        continue;
      if (type == "text" && !keyword_sub) {
        auto doc_tokens = analyze(scalar_text(*v));
        auto q_tokens =
            analyzed_query ? analyze(scalar_text(q)) : std::vector<std::string>{scalar_text(q)};
        for (const auto& t : q_tokens) {
          if (std::find(doc_tokens.begin(), doc_tokens.end(), t) != doc_tokens.end())
            return true;
        }
      } else if (scalar_equals(*v, q)) {
        return true;
      }
    }
    return false;
  }

  // Throws query_error for what the fake does not know.
  bool matches(const json::value& query) const {
    if (!query.is_object() || query.get_object().size() != 1)
      throw query_error{"parsing_exception",
                        "[_na] query malformed, no start_object after query name"};
    const auto& kv = *query.get_object().begin();
    std::string name(kv.key());
    const json::value& body = kv.value();
    auto single_field = [&](const char* value_key) -> std::pair<std::string, json::value> {
      if (!body.is_object() || body.get_object().empty())
        throw query_error{"parsing_exception",
                          "[" + name + "] query malformed, no start_object after query name"};
      const auto& f = *body.get_object().begin();
      if (f.value().is_object()) {
        auto it = f.value().get_object().find(value_key);
        if (it == f.value().get_object().end())
          throw query_error{"parsing_exception",
                            "[" + name + "] query does not support [" + std::string(f.key()) + "]"};
        return {std::string(f.key()), it->value()};
      }
      return {std::string(f.key()), f.value()};
    };
    if (name == "match_all")
      return true;
    if (name == "match_none")
      return false;
    if (name == "term") {
      auto [f, v] = single_field("value");
      return term(f, v, false);
    }
    if (name == "match") {
      auto [f, v] = single_field("query");
      return term(f, v, true);
    }
    if (name == "terms") {
      if (!body.is_object() || body.get_object().empty())
        throw query_error{"parsing_exception", "[terms] query malformed"};
      const auto& f = *body.get_object().begin();
      if (!f.value().is_array())
        throw query_error{"parsing_exception",
                          "[terms] query does not support [" + std::string(f.key()) + "]"};
      for (const auto& v : f.value().get_array()) {
        if (term(std::string(f.key()), v, false))
          return true;
      }
      return false;
    }
    if (name == "ids") {
      if (!body.is_object() || !body.get_object().contains("values") ||
          !body.get_object().at("values").is_array())
        throw query_error{"parsing_exception", "[ids] query malformed, no values"};
      for (const auto& v : body.get_object().at("values").get_array()) {
        if (v.is_string() && v.get_string() == id)
          return true;
      }
      return false;
    }
    if (name == "exists") {
      if (!body.is_object() || !body.get_object().contains("field"))
        throw query_error{"parsing_exception", "[exists] must be provided with a [field]"};
      std::vector<const json::value*> vals;
      values_at(source, scalar_text(body.get_object().at("field")), vals);
      return std::any_of(vals.begin(), vals.end(),
                         [](const json::value* v) { return !v->is_null(); });
    }
    if (name == "bool") {
      if (!body.is_object())
        throw query_error{"parsing_exception", "[bool] malformed query"};
      const auto& b = body.get_object();
      auto each = [&](const char* key, auto&& fn) {
        auto it = b.find(key);
        if (it == b.end())
          return;
        if (it->value().is_array()) {
          for (const auto& q : it->value().get_array())
            fn(q);
        } else {
          fn(it->value());
        }
      };
      bool ok = true;
      each("must", [&](const json::value& q) { ok = ok && matches(q); });
      each("filter", [&](const json::value& q) { ok = ok && matches(q); });
      each("must_not", [&](const json::value& q) { ok = ok && !matches(q); });
      bool any_should = false, should_hit = false;
      each("should", [&](const json::value& q) {
        any_should = true;
        should_hit = should_hit || matches(q);
      });
      bool has_required = b.contains("must") || b.contains("filter");
      if (any_should && !has_required)
        ok = ok && should_hit;
      return ok;
    }
    throw query_error{"parsing_exception", "unknown query [" + name + "]"};
  }
};

}  // namespace

bool query_matches(const std::map<std::string, std::string>& fields, const std::string& id,
                   const json::value& source, const json::value& query) {
  return query_eval{fields, id, source}.matches(query);
}

}  // namespace cbes::testkit::es
