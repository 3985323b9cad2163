#include "cbes/sink/document.hpp"

#include <charconv>

#include "cbes/sink/bulk_request.hpp"
#include "json_scan.hpp"

namespace cbes::sink {
namespace {

bool json_whitespace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

template <class Int>
void append_int(std::string& out, Int v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;
  out.append(buf, end);
}

void append_hex(std::string& out, std::uint64_t v, int digits) {
  static constexpr char hex[] = "0123456789abcdef";
  for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4)
    out += hex[(v >> shift) & 0xF];
}

// Content goes into one NDJSON line; in valid JSON a line break can only sit between tokens,
// where a space means the same.
void append_one_line(std::string& out, std::string_view content, bool has_line_breaks) {
  const std::size_t start = out.size();
  out += content;
  if (has_line_breaks) {
    for (std::size_t i = start; i < out.size(); ++i)
      if (out[i] == '\n' || out[i] == '\r')
        out[i] = ' ';
  }
}

void append_rev(std::string& out, std::uint64_t rev_seqno, std::uint64_t cas, std::uint32_t expiry,
                std::uint32_t flags) {
  append_int(out, rev_seqno);
  out += '-';
  append_hex(out, cas, 16);
  append_hex(out, expiry, 8);
  append_hex(out, flags, 8);
}

// Appends the metadata object (see metadata_json) to `out`: shaping writes it straight into the
// document body, without a string of its own.
void append_metadata_json(std::string& out, const document_event& ev) {
  // Java types (the Java connector's behaviour): flags, expiration, lockTime and vbucket are
  // ints; vbuuid, seqno, revSeqno and cas are longs, so large unsigned values print negative.
  out += R"({"rev":")";
  append_rev(out, ev.rev_seqno, ev.cas, ev.expiry, ev.flags);
  out += R"(","flags":)";
  append_int(out, static_cast<std::int32_t>(ev.flags));
  out += R"(,"expiration":)";
  append_int(out, static_cast<std::int32_t>(ev.expiry));
  out += R"(,"id":)";
  append_json_string(out, ev.key);
  out += R"(,"vbucket":)";
  append_int(out, static_cast<int>(ev.vbucket));
  out += R"(,"vbuuid":)";
  append_int(out, static_cast<std::int64_t>(ev.vbuuid));
  out += R"(,"seqno":)";
  append_int(out, static_cast<std::int64_t>(ev.seqno));
  out += R"(,"revSeqno":)";
  append_int(out, static_cast<std::int64_t>(ev.rev_seqno));
  out += R"(,"cas":)";
  append_int(out, static_cast<std::int64_t>(ev.cas));
  out += R"(,"lockTime":)";
  append_int(out, static_cast<std::int32_t>(ev.lock_time));
  out += '}';
}

// Upper bound of append_metadata_json's output but for the key.
constexpr std::size_t metadata_bytes = 300;

// Appends `"name":{metadata}}`: the metadata as the last member of an object, and its brace.
void close_with_metadata(std::string& out, std::string_view name, const document_event& ev) {
  append_json_string(out, name);
  out += ':';
  append_metadata_json(out, ev);
  out += '}';
}

}  // namespace

std::string format_rev(std::uint64_t rev_seqno, std::uint64_t cas, std::uint32_t expiry,
                       std::uint32_t flags) {
  std::string out;
  out.reserve(20 + 1 + 32);
  append_rev(out, rev_seqno, cas, expiry, flags);
  return out;
}

std::string metadata_json(const document_event& ev) {
  std::string out;
  out.reserve(metadata_bytes + ev.key.size());
  append_metadata_json(out, ev);
  return out;
}

std::optional<std::int64_t> counter_value(std::string_view content) {
  std::size_t b = 0, e = content.size();
  while (b < e && json_whitespace(content[b]))
    ++b;
  while (e > b && json_whitespace(content[e - 1]))
    --e;
  const std::string_view digits = content.substr(b, e - b);
  if (digits.empty() || (digits.size() > 1 && digits[0] == '0'))
    return std::nullopt;
  std::uint64_t value = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc() || ptr != digits.data() + digits.size())
    return std::nullopt;
  // Java keeps counters in a long: 2^63..2^64-1 wrap to negative values.
  return static_cast<std::int64_t>(value);
}

shaped_document shape_document(const document_event& ev, const doc_structure_settings& ds,
                               std::string buffer) {
  shaped_document out;
  out.body = std::move(buffer);
  out.body.clear();
  const bool with_meta = !ds.metadata_field_name.empty();
  std::string_view content = ev.content;
  std::string counter_json;
  bool has_line_breaks = false;
  bool collides = false;

  std::optional<std::int64_t> counter;
  if (ds.wrap_counters && (counter = counter_value(content))) {
    counter_json = R"({"value":)";
    append_int(counter_json, *counter);
    counter_json += '}';
    content = counter_json;
    collides = ds.document_content_at_top_level && ds.metadata_field_name == "value";
  } else {
    const auto scan = detail::scan_json_object(
        content, with_meta && ds.document_content_at_top_level ? ds.metadata_field_name : "");
    switch (scan.kind) {
      case detail::scan_kind::not_object:
        out.kind = shape_kind::skipped;
        out.reason = "content is not a JSON object";
        return out;
      case detail::scan_kind::invalid:
      case detail::scan_kind::big_integer:
        out.kind = shape_kind::rejected;
        out.reason = scan.message;
        return out;
      case detail::scan_kind::object:
        break;
    }
    has_line_breaks = scan.has_line_breaks;
    collides = scan.has_watched_key;
  }

  out.kind = shape_kind::ok;
  // JSON escaping at most sextuples a key byte (\u00XX).
  const std::size_t meta_bytes =
      with_meta ? metadata_bytes + 6 * ev.key.size() + 6 * ds.metadata_field_name.size() + 8 : 0;
  std::string& body = out.body;
  if (!ds.document_content_at_top_level) {
    body.reserve(content.size() + meta_bytes + 16);
    body += R"({"doc":)";
    append_one_line(body, content, has_line_breaks);
    if (with_meta) {
      body += ',';
      close_with_metadata(body, ds.metadata_field_name, ev);
    } else {
      body += '}';
    }
    return out;
  }
  if (!with_meta || collides) {
    // on a name collision the document's own field wins.
    if (collides)
      out.warning = "document has a top-level field named '" + ds.metadata_field_name +
                    "'; metadata not added";
    append_one_line(body, content, has_line_breaks);
    return out;
  }
  // Splice the metadata member in before the object's closing brace.
  std::size_t close = content.size();
  while (close > 0 && json_whitespace(content[close - 1]))
    --close;
  --close;  // the '}' (scan guarantees a complete object)
  std::size_t last = close;
  while (last > 0 && json_whitespace(content[last - 1]))
    --last;
  const bool empty_object = last > 0 && content[last - 1] == '{';
  body.reserve(close + meta_bytes);
  append_one_line(body, content.substr(0, close), has_line_breaks);
  if (!empty_object)
    body += ',';
  close_with_metadata(body, ds.metadata_field_name, ev);
  return out;
}

std::string qualified_key(const document_event& event) {
  std::string out;
  out.reserve(event.scope.size() + event.collection.size() + event.key.size() + 2);
  out += event.scope;
  out += '.';
  out += event.collection;
  out += '.';
  out += event.key;
  return out;
}

}  // namespace cbes::sink
