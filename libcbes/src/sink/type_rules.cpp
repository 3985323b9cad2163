#include "cbes/sink/type_rules.hpp"

#include <charconv>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "json_scan.hpp"
#include "type_regex.hpp"

namespace cbes::sink {
namespace {

// Checkpoint documents of the Java connector and of cbes.
constexpr std::string_view connector_key_prefix = "_connector:cbes:";

std::optional<std::string> none_if_empty(const std::string& s) {
  return s.empty() ? std::nullopt : std::optional<std::string>(s);
}

// RFC 6901 token unescaping: ~1 is '/', ~0 is '~' (syntax checked at configuration time).
std::string unescape_token(std::string_view token) {
  std::string out;
  out.reserve(token.size());
  for (std::size_t i = 0; i < token.size(); ++i) {
    if (token[i] == '~' && i + 1 < token.size()) {
      out += token[i + 1] == '1' ? '/' : '~';
      ++i;
    } else {
      out += token[i];
    }
  }
  return out;
}

std::optional<std::size_t> array_position(std::string_view token) {
  if (token.empty() || (token.size() > 1 && token[0] == '0'))
    return std::nullopt;
  std::size_t n = 0;
  auto [p, ec] = std::from_chars(token.data(), token.data() + token.size(), n);
  if (ec != std::errc() || p != token.data() + token.size())
    return std::nullopt;
  return n;
}

template <class Num>
std::string number_text(Num v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;
  return std::string(buf, end);
}

}  // namespace

struct type_rules::rule {
  std::optional<std::string> prefix;
  std::optional<boost::regex> regex;
  bool index_from_key = false;
  std::string index;
  std::optional<std::string> pipeline;
  std::optional<std::string> routing;
  bool ignore = false;
  bool ignore_deletes = false;
  bool qualified = false;
};

std::string sanitize_index_name(std::string_view name) {
  std::string out(name);
  if (!out.empty() && (out[0] == '_' || out[0] == '-'))
    out[0] = '@';
  for (char& c : out)
    if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
  return out;
}

routing_value resolve_routing(std::string_view content, std::string_view pointer) {
  const auto problem = [](std::string text) {
    return routing_value{std::nullopt, std::move(text)};
  };
  const auto value = [](std::string text) { return routing_value{std::move(text), {}}; };
  boost::json::parse_options opt;
  opt.max_depth = detail::max_json_depth;
  boost::system::error_code ec;
  boost::json::value doc =
      boost::json::parse(boost::json::string_view(content.data(), content.size()), ec, {}, opt);
  if (ec)
    return problem("document content is not JSON");
  const boost::json::value* at = &doc;
  std::size_t pos = 0;
  while (pos < pointer.size()) {
    // pointer[pos] == '/': validated by check_json_pointer.
    const std::size_t next = std::min(pointer.find('/', pos + 1), pointer.size());
    const std::string token = unescape_token(pointer.substr(pos + 1, next - pos - 1));
    pos = next;
    if (const auto* obj = at->if_object()) {
      auto it = obj->find(token);
      at = it == obj->end() ? nullptr : &it->value();
    } else if (const auto* arr = at->if_array()) {
      auto i = array_position(token);
      at = i && *i < arr->size() ? &(*arr)[*i] : nullptr;
    } else {
      at = nullptr;
    }
    if (!at)
      return problem("routing field '" + std::string(pointer) + "' is missing");
  }
  switch (at->kind()) {
    case boost::json::kind::string:
      return value(std::string(at->get_string()));
    case boost::json::kind::int64:
      return value(number_text(at->get_int64()));
    case boost::json::kind::uint64:
      return value(number_text(at->get_uint64()));
    case boost::json::kind::double_:
      return value(number_text(at->get_double()));
    case boost::json::kind::bool_:
      return value(at->get_bool() ? "true" : "false");
    case boost::json::kind::null:
      return problem("routing field '" + std::string(pointer) + "' is null");
    case boost::json::kind::object:
      return problem("routing field '" + std::string(pointer) + "' is an object, not a scalar");
    case boost::json::kind::array:
      return problem("routing field '" + std::string(pointer) + "' is an array, not a scalar");
  }
  return problem("unknown JSON kind");
}

type_rules::type_rules() = default;
type_rules::type_rules(type_rules&&) noexcept = default;
type_rules& type_rules::operator=(type_rules&&) noexcept = default;
type_rules::~type_rules() = default;

boost::system::result<type_rules, std::string> type_rules::compile(const sink_settings& s) {
  if (auto err = validate(s))
    return *err;
  type_rules out;
  out.rules_.reserve(s.types.size());
  for (const auto& t : s.types) {
    rule r;
    r.prefix = t.prefix;
    if (t.regex) {
      r.regex = detail::compile_type_regex(*t.regex);  // validated above: does not throw
      r.index_from_key = detail::has_index_group(*t.regex);
    }
    r.index = t.index.value_or(s.defaults.index);
    r.pipeline = none_if_empty(t.pipeline.value_or(s.defaults.pipeline));
    r.routing = t.routing;
    r.ignore = t.ignore.value_or(s.defaults.ignore);
    r.ignore_deletes = t.ignore_deletes.value_or(s.defaults.ignore_deletes);
    r.qualified = t.match_on_qualified_key.value_or(s.defaults.match_on_qualified_key);
    out.rules_.push_back(std::move(r));
  }
  return out;
}

std::size_t type_rules::size() const {
  return rules_.size();
}

type_match type_rules::match(const document_event& ev) const {
  type_match m;
  if (std::string_view(ev.key).starts_with(connector_key_prefix)) {
    m.kind = match_kind::skip_connector_key;
    return m;
  }
  std::string qualified;
  for (std::size_t i = 0; i < rules_.size(); ++i) {
    const rule& r = rules_[i];
    if (r.qualified && qualified.empty())
      qualified = qualified_key(ev);
    const std::string& key = r.qualified ? qualified : ev.key;
    std::string index;
    if (r.prefix) {
      if (!key.starts_with(*r.prefix))
        continue;
      index = r.index;
    } else {
      boost::smatch found;
      if (!boost::regex_match(key, found, *r.regex))
        continue;
      if (r.index_from_key) {
        const auto& group = found["index"];
        // An optional group that took no part cannot name an index: the rule does not apply.
        if (!group.matched || group.length() == 0)
          continue;
        index = sanitize_index_name(group.str());
      } else {
        index = r.index;
      }
    }
    m.rule = i;
    if (r.ignore) {
      m.kind = match_kind::skip_ignored;
      return m;
    }
    if (ev.is_deletion) {
      if (r.ignore_deletes) {
        m.kind = match_kind::skip_ignored_delete;
        return m;
      }
      m.kind = match_kind::remove;  // never routed
      m.index = std::move(index);
      return m;
    }
    m.kind = match_kind::index;
    m.index = std::move(index);
    m.pipeline = r.pipeline;
    if (r.routing) {
      auto routing = resolve_routing(ev.content, *r.routing);
      m.routing = std::move(routing.value);
      m.warning = std::move(routing.problem);
    }
    return m;
  }
  m.kind = match_kind::skip_no_rule;
  return m;
}

}  // namespace cbes::sink
