#include "cbes/sink/bulk_request.hpp"

#include <algorithm>
#include <charconv>
#include <functional>
#include <utility>

#include "cbes/util/utf8.hpp"

namespace cbes::sink {
namespace {

constexpr std::string_view replacement_character = "\xEF\xBF\xBD";  // U+FFFD

bool plain(unsigned char c) {
  return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

void append_escaped_control(std::string& out, unsigned char c) {
  static constexpr char hex[] = "0123456789abcdef";
  switch (c) {
    case '"':
      out += "\\\"";
      return;
    case '\\':
      out += "\\\\";
      return;
    case '\b':
      out += "\\b";
      return;
    case '\f':
      out += "\\f";
      return;
    case '\n':
      out += "\\n";
      return;
    case '\r':
      out += "\\r";
      return;
    case '\t':
      out += "\\t";
      return;
    default:
      out += "\\u00";
      out += hex[c >> 4];
      out += hex[c & 0xF];
  }
}

std::size_t dedup_hash(const bulk_action& a) {
  const std::size_t h = std::hash<std::string_view>{}(a.id);
  return h ^ (std::hash<std::string_view>{}(a.index) + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2));
}

// Upper bound of a JSON string's encoded size, so body() allocates once.
std::size_t json_string_bound(std::string_view s) {
  return 2 + 6 * s.size();
}

}  // namespace

void append_json_string(std::string& out, std::string_view text) {
  out += '"';
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t run = i;
    while (run < text.size() && plain(static_cast<unsigned char>(text[run])))
      ++run;
    out.append(text.data() + i, run - i);
    i = run;
    if (i == text.size())
      break;
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      append_escaped_control(out, c);
      ++i;
      continue;
    }
    std::size_t bad = 0;
    const std::size_t n = util::utf8_sequence(text.substr(i), bad);
    if (n > 0) {
      out.append(text.data() + i, n);
      i += n;
    } else {
      out += replacement_character;
      i += bad;
    }
  }
  out += '"';
}

std::size_t utf8_length_after_repair(std::string_view text) {
  std::size_t len = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t bad = 0;
    const std::size_t n = util::utf8_sequence(text.substr(i), bad);
    if (n > 0) {
      len += n;
      i += n;
    } else {
      len += replacement_character.size();
      i += bad;
    }
  }
  return len;
}

bulk_action bulk_action::index_doc(std::string id, std::string index, std::string source,
                                   std::optional<std::string> routing,
                                   std::optional<std::string> pipeline,
                                   std::optional<std::size_t> content_length) {
  bulk_action a;
  a.type = action_type::index;
  a.estimated_bytes = action_overhead_bytes + content_length.value_or(source.size());
  a.id = std::move(id);
  a.index = std::move(index);
  a.source = std::move(source);
  a.routing = std::move(routing);
  a.pipeline = std::move(pipeline);
  return a;
}

bulk_action bulk_action::delete_doc(std::string id, std::string index) {
  bulk_action a;
  a.type = action_type::remove;
  a.id = std::move(id);
  a.index = std::move(index);
  a.estimated_bytes = action_overhead_bytes;
  return a;
}

bulk_request_builder::bulk_request_builder(bulk_limits limits) : limits_(limits) {
  actions_.reserve(limits_.actions);
}

// Open addressing over positions in actions_ (slot = position + 1, 0 = empty): no allocation
// per action, unlike a node-based map keyed by a copy of the ID — both showed in profiles. The
// table holds positions, not pointers, so the builder moves and copies freely.
std::optional<std::size_t> bulk_request_builder::find_or_insert(const bulk_action& action) {
  if ((actions_.size() + 1) * 2 > slots_.size())
    rehash(std::max<std::size_t>(64, slots_.size() * 2));
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = dedup_hash(action) & mask;; i = (i + 1) & mask) {
    const std::uint32_t slot = slots_[i];
    if (slot == 0) {
      slots_[i] = static_cast<std::uint32_t>(actions_.size() + 1);
      return std::nullopt;
    }
    const bulk_action& other = actions_[slot - 1];
    if (other.id == action.id && other.index == action.index)
      return slot - 1;
  }
}

void bulk_request_builder::rehash(std::size_t size) {
  slots_.assign(size, 0);
  const std::size_t mask = size - 1;
  for (std::size_t pos = 0; pos < actions_.size(); ++pos) {
    std::size_t i = dedup_hash(actions_[pos]) & mask;
    while (slots_[i] != 0)
      i = (i + 1) & mask;
    slots_[i] = static_cast<std::uint32_t>(pos + 1);
  }
}

add_result bulk_request_builder::add(bulk_action action) {
  const std::size_t id_bytes = utf8_length_after_repair(action.id);
  if (id_bytes == 0 || id_bytes > max_document_id_bytes)
    return {add_status::invalid_id, std::nullopt};
  const auto existing = find_or_insert(action);
  if (!existing) {
    estimated_bytes_ += action.estimated_bytes;
    actions_.push_back(std::move(action));
    return {add_status::added, std::nullopt};
  }
  // the newer event replaces the older one at the older one's position.
  bulk_action& slot = actions_[*existing];
  const std::uint64_t replaced = slot.tag;
  estimated_bytes_ = estimated_bytes_ - slot.estimated_bytes + action.estimated_bytes;
  slot = std::move(action);
  return {add_status::replaced, replaced};
}

bool bulk_request_builder::full() const {
  return actions_.size() >= limits_.actions || estimated_bytes_ >= limits_.bytes;
}

std::string bulk_request_builder::body() const {
  return bulk_body(actions_);
}

std::string bulk_body(std::span<const bulk_action> actions) {
  static constexpr std::string_view index_open = R"({"index":{"_index":)";
  static constexpr std::string_view delete_open = R"({"delete":{"_index":)";
  static constexpr std::string_view id_key = R"(,"_id":)";
  static constexpr std::string_view routing_key = R"(,"routing":)";
  static constexpr std::string_view pipeline_key = R"(,"pipeline":)";
  static constexpr std::string_view close = "}}\n";

  std::size_t bound = 0;
  for (const auto& a : actions) {
    bound += delete_open.size() + json_string_bound(a.index) + id_key.size() +
             json_string_bound(a.id) + close.size();
    if (a.type == action_type::index) {
      if (a.routing)
        bound += routing_key.size() + json_string_bound(*a.routing);
      if (a.pipeline)
        bound += pipeline_key.size() + json_string_bound(*a.pipeline);
      bound += a.source.size() + 1;
    }
  }
  std::string out;
  out.reserve(bound);
  for (const auto& a : actions) {
    out += a.type == action_type::index ? index_open : delete_open;
    append_json_string(out, a.index);
    out += id_key;
    append_json_string(out, a.id);
    if (a.type == action_type::index) {
      if (a.routing) {
        out += routing_key;
        append_json_string(out, *a.routing);
      }
      if (a.pipeline) {
        out += pipeline_key;
        append_json_string(out, *a.pipeline);
      }
    }
    out += close;
    if (a.type == action_type::index) {
      out += a.source;
      out += '\n';
    }
  }
  return out;
}

std::string bulk_request_builder::target() const {
  // items.*.status,items.*.error,ingest_took,error,status
  static constexpr std::string_view filter =
      "&filter_path=items.%2A.status%2Citems.%2A.error%2Cingest_took%2Cerror%2Cstatus";
  return "/_bulk?timeout=" + bulk_timeout_parameter(limits_.timeout) + std::string(filter);
}

std::vector<bulk_action> bulk_request_builder::take() {
  std::vector<bulk_action> out = std::move(actions_);
  clear();
  return out;
}

void bulk_request_builder::clear() {
  actions_.clear();
  actions_.reserve(limits_.actions);
  std::fill(slots_.begin(), slots_.end(), 0);
  estimated_bytes_ = 0;
}

std::string bulk_timeout_parameter(std::chrono::milliseconds timeout) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, timeout.count());
  (void)ec;
  std::string out(buf, end);
  out += "ms";
  return out;
}

}  // namespace cbes::sink
