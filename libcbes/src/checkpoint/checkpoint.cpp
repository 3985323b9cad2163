#include "cbes/checkpoint/checkpoint.hpp"

#include <limits>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

#include "json_shape.hpp"

namespace cbes::checkpoint {
namespace json = boost::json;

namespace detail {
namespace {

// Java longs: a uint64 above 2^63-1 is written as its two's-complement negative value.
void append_long(std::string& out, std::uint64_t v) {
  out += std::to_string(static_cast<std::int64_t>(v));
}

std::string quoted(std::string_view key) {
  return json::serialize(json::string(key));
}

result<std::uint64_t> long_member(const json::object& o, std::string_view key,
                                  std::string_view where, errc code) {
  const std::string name = std::string(where) + "." + std::string(key);
  const auto* v = o.if_contains(key);
  if (!v)
    return make_error(code, "missing key " + name);
  if (v->is_int64())
    return static_cast<std::uint64_t>(v->get_int64());
  if (v->is_uint64())
    return v->get_uint64();
  return make_error(code, "key " + name + " must be a 64-bit integer, not " + json::serialize(*v));
}

}  // namespace

result<json::object> parse_object(std::string_view text, std::string_view what, errc code) {
  boost::system::error_code ec;
  auto root = json::parse(text, ec);
  if (ec)
    return make_error(code, std::string(what) + " is not valid JSON (" + ec.message() + ")");
  auto* o = root.if_object();
  if (!o)
    return make_error(code, std::string(what) + " must be a JSON object");
  return std::move(*o);
}

void append_checkpoint_json(std::string& out, const checkpoint& cp) {
  out += R"({"vbuuid":)";
  append_long(out, cp.vbuuid);
  out += R"(,"seqno":)";
  append_long(out, cp.seqno);
  out += R"(,"snapshot":{"startSeqno":)";
  append_long(out, cp.snapshot.start);
  out += R"(,"endSeqno":)";
  append_long(out, cp.snapshot.end);
  out += "}}";
}

result<checkpoint> checkpoint_from_json(const json::value& v, std::string_view where, errc code) {
  const auto* o = v.if_object();
  if (!o)
    return make_error(
        code, "key " + std::string(where) + " must be an object, not " + json::serialize(v));
  checkpoint cp;
  auto vbuuid = long_member(*o, "vbuuid", where, code);
  if (!vbuuid)
    return vbuuid.error();
  auto seqno = long_member(*o, "seqno", where, code);
  if (!seqno)
    return seqno.error();
  const std::string snapshot_name = std::string(where) + ".snapshot";
  const auto* snapshot = o->if_contains("snapshot");
  if (!snapshot)
    return make_error(code, "missing key " + snapshot_name);
  const auto* so = snapshot->if_object();
  if (!so)
    return make_error(
        code, "key " + snapshot_name + " must be an object, not " + json::serialize(*snapshot));
  auto start = long_member(*so, "startSeqno", snapshot_name, code);
  if (!start)
    return start.error();
  auto end = long_member(*so, "endSeqno", snapshot_name, code);
  if (!end)
    return end.error();
  cp.vbuuid = *vbuuid;
  cp.seqno = *seqno;
  cp.snapshot = {*start, *end};
  return cp;
}

}  // namespace detail

std::string checkpoint::to_string() const {
  return std::to_string(vbuuid) + "@" + std::to_string(seqno) + "[" +
         std::to_string(snapshot.start) + "-" + std::to_string(snapshot.end) + "]";
}

std::string encode_xattr(const checkpoint& cp, std::string_view bucket_uuid) {
  std::string out = R"({"checkpoint":)";
  detail::append_checkpoint_json(out, cp);
  out += R"(,"bucketUuid":)";
  out += detail::quoted(bucket_uuid);
  out += "}";
  return out;
}

result<checkpoint> decode_xattr(std::string_view text) {
  auto o = detail::parse_object(text, "checkpoint xattr", errc::invalid_document);
  if (!o)
    return o.error();
  const auto* cp = o->if_contains("checkpoint");
  if (!cp)
    return make_error(errc::invalid_document, "checkpoint xattr lacks the key checkpoint");
  return detail::checkpoint_from_json(*cp, "checkpoint", errc::invalid_document);
}

dcp::stream_state to_stream_state(const checkpoint& cp) {
  dcp::stream_state s;
  s.vbucket_uuid = cp.vbuuid;
  s.seqno = cp.seqno;
  s.snapshot_start = cp.snapshot.start;
  s.snapshot_end = cp.snapshot.end;
  s.failover_log = {{cp.vbuuid, std::numeric_limits<std::uint64_t>::max()}};
  return s;
}

checkpoint from_stream_state(const dcp::stream_state& state) {
  return {state.vbucket_uuid, state.seqno, {state.snapshot_start, state.snapshot_end}};
}

}  // namespace cbes::checkpoint
