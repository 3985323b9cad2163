// The REST front of the Elasticsearch fake: routing, security, content negotiation, gzip,
// fault injection and the thread-safe facade (Elasticsearch's REST API docs).
#include <zlib.h>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>

#include "bulk_parser.hpp"
#include "cbes/testkit/elasticsearch.hpp"
#include "cbes/testkit/http_server.hpp"
#include "cbes/util/base64.hpp"
#include "cluster.hpp"

namespace cbes::testkit {

namespace asio = boost::asio;
namespace json = boost::json;
using es::outcome;

std::optional<elasticsearch_flavor> parse_elasticsearch_flavor(std::string_view name) {
  if (name == "elasticsearch-7")
    return elasticsearch_flavor::elasticsearch_7;
  if (name == "elasticsearch-8")
    return elasticsearch_flavor::elasticsearch_8;
  if (name == "opensearch-2")
    return elasticsearch_flavor::opensearch_2;
  return std::nullopt;
}

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Inflates a gzip or zlib (or raw deflate) body; nullopt when corrupt, `too_big` when the
// decoded size passes `limit` (http.max_content_length applies to the decoded body).
std::optional<std::string> inflate_body(const std::string& in, std::size_t limit, bool& too_big) {
  too_big = false;
  for (int window : {15 + 32, -15}) {
    z_stream zs{};
    if (inflateInit2(&zs, window) != Z_OK)
      return std::nullopt;
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    zs.avail_in = static_cast<uInt>(in.size());
    std::string out;
    char chunk[16384];
    int rc = Z_OK;
    while (rc == Z_OK) {
      zs.next_out = reinterpret_cast<Bytef*>(chunk);
      zs.avail_out = sizeof chunk;
      rc = inflate(&zs, Z_NO_FLUSH);
      out.append(chunk, sizeof chunk - zs.avail_out);
      if (out.size() > limit) {
        too_big = true;
        inflateEnd(&zs);
        return std::nullopt;
      }
      // gzip members may be concatenated
      if (rc == Z_STREAM_END && zs.avail_in > 0 && window > 0) {
        inflateReset(&zs);
        rc = Z_OK;
      }
      if (rc == Z_BUF_ERROR && zs.avail_in == 0)
        break;
    }
    inflateEnd(&zs);
    if (rc == Z_STREAM_END)
      return out;
  }
  return std::nullopt;
}

// filter_path: keeps only the values whose path matches one of the patterns; `*`
// matches any key, arrays are transparent, emptied objects disappear.
std::optional<json::value> filter_value(const json::value& v,
                                        const std::vector<std::vector<std::string>>& patterns,
                                        std::size_t depth_offset,
                                        const std::vector<std::size_t>& active) {
  if (v.is_array()) {
    json::array out;
    for (const auto& e : v.get_array()) {
      if (auto f = filter_value(e, patterns, depth_offset, active))
        out.push_back(std::move(*f));
    }
    return json::value(std::move(out));
  }
  for (std::size_t p : active) {
    if (patterns[p].size() == depth_offset)
      return v;  // a full match keeps the whole subtree
  }
  if (!v.is_object())
    return std::nullopt;
  json::object out;
  for (const auto& kv : v.get_object()) {
    std::vector<std::size_t> next;
    for (std::size_t p : active) {
      const auto& seg = patterns[p][depth_offset];
      if (seg == "*" || seg == kv.key() || seg == "**")
        next.push_back(p);
    }
    if (next.empty())
      continue;
    if (auto f = filter_value(kv.value(), patterns, depth_offset + 1, next))
      out[kv.key()] = std::move(*f);
  }
  if (out.empty())
    return std::nullopt;
  return json::value(std::move(out));
}

json::value apply_filter_path(const json::value& v, std::string_view spec) {
  std::vector<std::vector<std::string>> patterns;
  std::size_t start = 0;
  while (start <= spec.size()) {
    auto comma = spec.find(',', start);
    std::string_view one = spec.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    if (!one.empty()) {
      std::vector<std::string> segs;
      std::size_t s = 0;
      while (s <= one.size()) {
        auto dot = one.find('.', s);
        segs.emplace_back(
            one.substr(s, dot == std::string_view::npos ? std::string_view::npos : dot - s));
        if (dot == std::string_view::npos)
          break;
        s = dot + 1;
      }
      patterns.push_back(std::move(segs));
    }
    if (comma == std::string_view::npos)
      break;
    start = comma + 1;
  }
  std::vector<std::size_t> all(patterns.size());
  for (std::size_t i = 0; i < all.size(); ++i)
    all[i] = i;
  auto f = filter_value(v, patterns, 0, all);
  return f ? std::move(*f) : json::value(json::object{});
}

struct parsed_target {
  std::vector<std::string> segments;
  std::map<std::string, std::string> params;
  std::string path;
  bool bad = false;
};

parsed_target parse_target(const std::string& target) {
  parsed_target out;
  auto q = target.find('?');
  out.path = target.substr(0, q);
  std::string_view path = out.path;
  std::size_t start = 0;
  while (start < path.size()) {
    if (path[start] == '/') {
      ++start;
      continue;
    }
    auto slash = path.find('/', start);
    auto seg =
        percent_decode(path.substr(start, slash == std::string_view::npos ? std::string_view::npos
                                                                          : slash - start),
                       false);
    if (!seg) {
      out.bad = true;
      return out;
    }
    out.segments.push_back(std::move(*seg));
    if (slash == std::string_view::npos)
      break;
    start = slash + 1;
  }
  if (q != std::string::npos) {
    std::string_view query = std::string_view(target).substr(q + 1);
    std::size_t s = 0;
    while (s <= query.size()) {
      auto amp = query.find('&', s);
      std::string_view kv =
          query.substr(s, amp == std::string_view::npos ? std::string_view::npos : amp - s);
      if (!kv.empty()) {
        auto eq = kv.find('=');
        auto k = percent_decode(kv.substr(0, eq), true);
        auto v = eq == std::string_view::npos ? std::optional<std::string>("")
                                              : percent_decode(kv.substr(eq + 1), true);
        if (k && v)
          out.params[*k] = *v;
      }
      if (amp == std::string_view::npos)
        break;
      s = amp + 1;
    }
  }
  return out;
}

}  // namespace

struct elasticsearch::impl {
  elasticsearch_options opts;
  es::flavor_traits traits;
  mutable std::mutex mutex;  // guards everything below
  es::cluster data;
  elasticsearch_stats counters;
  std::size_t fail_items = 0;
  int fail_items_status = 429;
  std::size_t fail_requests = 0;
  int fail_requests_status = 429;
  bool fail_requests_bulk_only = true;
  bool writes_blocked = false;
  std::chrono::milliseconds delay{0};
  std::size_t drop_responses = 0;
  bool drop_apply = true;
  bool drop_bulk_only = true;
  std::size_t truncate_responses = 0;
  bool truncate_bulk_only = true;
  std::unique_ptr<http_server> server;

  explicit impl(elasticsearch_options o)
      : opts(std::move(o)),
        traits(es::flavor_traits::make(opts.flavor, opts.version)),
        data(traits, opts) {}

  bool is_es() const { return !traits.opensearch; }

  // ---------------------------------------------------------------- response helpers

  http_server::response json_response(int status, const json::value& body,
                                      const parsed_target& t) const {
    http_server::response r;
    r.status = status;
    auto fp = t.params.find("filter_path");
    if (fp != t.params.end() && !fp->second.empty())
      r.body = json::serialize(apply_filter_path(body, fp->second));
    else
      r.body = json::serialize(body);
    if (t.params.count("pretty"))
      r.body += "\n";
    r.headers.emplace_back("content-type", "application/json; charset=UTF-8");
    return r;
  }

  http_server::response plain_error(int status, const std::string& message) const {
    json::object o;
    o["error"] = message;
    o["status"] = status;
    http_server::response r;
    r.status = status;
    r.body = json::serialize(o);
    r.headers.emplace_back("content-type", "application/json; charset=UTF-8");
    return r;
  }

  http_server::response outcome_response(const outcome& o, const parsed_target& t) const {
    return json_response(o.status, o.body, t);
  }

  http_server::response error_response(int status, json::object cause,
                                       const parsed_target& t) const {
    return json_response(status, es::error_body(std::move(cause), status), t);
  }

  // ---------------------------------------------------------------- security

  std::optional<http_server::response> authenticate(const http_server::request& req) const {
    if (opts.username.empty() && opts.api_keys.empty())
      return std::nullopt;
    // The PKI realm: the TLS handshake verified the client's certificate.
    if (!req.client_cn.empty())
      return std::nullopt;
    auto auth = find_header(req.headers, "authorization");
    std::string reason;
    if (auth) {
      std::string_view a = *auth;
      auto space = a.find(' ');
      std::string scheme = lower(a.substr(0, space));
      std::string_view cred =
          space == std::string_view::npos ? std::string_view{} : a.substr(space + 1);
      if (scheme == "basic" && !opts.username.empty()) {
        auto decoded = util::base64_decode(cred);
        if (decoded && *decoded == opts.username + ":" + opts.password)
          return std::nullopt;
        std::string user = decoded ? decoded->substr(0, decoded->find(':')) : std::string();
        reason = "unable to authenticate user [" + user + "] for REST request [" + req.target + "]";
      } else if (scheme == "apikey") {
        auto decoded = util::base64_decode(cred);
        for (const auto& k : opts.api_keys) {
          if (k == cred || (decoded && k == *decoded))
            return std::nullopt;
        }
        reason =
            "unable to authenticate with provided credentials and anonymous access is not "
            "allowed for this request";
      } else {
        reason =
            "unable to authenticate with provided credentials and anonymous access is not "
            "allowed for this request";
      }
    } else {
      reason = "missing authentication credentials for REST request [" + req.target + "]";
    }
    http_server::response r;
    r.status = 401;
    if (traits.opensearch) {
      r.body = "Unauthorized";
      r.headers.emplace_back("content-type", "text/plain; charset=UTF-8");
      r.headers.emplace_back("WWW-Authenticate", "Basic realm=\"OpenSearch Security\"");
      return r;
    }
    std::string basic = traits.major >= 8 ? "Basic realm=\"security\", charset=\"UTF-8\""
                                          : "Basic realm=\"security\" charset=\"UTF-8\"";
    json::array challenges{json::string(basic), json::string("Bearer realm=\"security\""),
                           json::string("ApiKey")};
    auto cause = es::error_cause("security_exception", reason);
    json::object hdr;
    hdr["WWW-Authenticate"] = challenges;
    cause["header"] = std::move(hdr);
    r.body = json::serialize(es::error_body(std::move(cause), 401));
    r.headers.emplace_back("content-type", "application/json; charset=UTF-8");
    r.headers.emplace_back("WWW-Authenticate", basic);
    r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"security\"");
    r.headers.emplace_back("WWW-Authenticate", "ApiKey");
    return r;
  }

  // ---------------------------------------------------------------- media types

  // Checks one media-type header; returns an error response or nullopt. `vendor_version`
  // receives N of a compatible-with=N vendor type.
  std::optional<http_server::response> check_media_type(std::string_view header_name,
                                                        std::string_view raw, bool streaming,
                                                        int& vendor_version) const {
    // Accept may be a list; each entry is checked.
    std::size_t start = 0;
    while (start <= raw.size()) {
      auto comma = header_name == "Accept" ? raw.find(',', start) : std::string_view::npos;
      std::string one = lower(raw.substr(
          start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
      auto semi = one.find(';');
      std::string type = one.substr(0, semi);
      while (!type.empty() && type.back() == ' ')
        type.pop_back();
      while (!type.empty() && type.front() == ' ')
        type.erase(0, 1);
      bool vendor = type == "application/vnd.elasticsearch+json" ||
                    type == "application/vnd.elasticsearch+x-ndjson";
      if (vendor) {
        int n = -1;
        auto cw = one.find("compatible-with");
        if (cw != std::string::npos) {
          auto eq = one.find('=', cw);
          if (eq != std::string::npos) {
            std::size_t i = eq + 1;
            while (i < one.size() && one[i] == ' ')
              ++i;
            if (i < one.size() && std::isdigit(static_cast<unsigned char>(one[i])))
              n = one[i] - '0';
          }
        }
        if (traits.opensearch) {
          if (header_name == "Content-Type")
            return plain_error(406,
                               "Content-Type header [" + std::string(raw) + "] is not supported");
          // OpenSearch ignores unknown Accept types.
        } else {
          bool ok = opts.lenient_compatible_with
                        ? (n >= 7 && n <= 9)
                        : (traits.major == 8 ? (n == 7 || n == 8) : n == 7);
          if (!ok) {
            std::string allowed =
                traits.major == 8 ? "either version 8 or 7" : "either version 7 or 6";
            auto cause =
                es::error_cause("media_type_header_exception",
                                "Invalid media-type value on headers [Content-Type, Accept]");
            cause["caused_by"] = es::error_cause(
                "status_exception", std::string(header_name) + " version must be " + allowed +
                                        ", but found " + std::to_string(n) + ". " +
                                        std::string(header_name) + "=" + std::string(raw));
            http_server::response r;
            r.status = 400;
            r.body = json::serialize(es::error_body(std::move(cause), 400));
            r.headers.emplace_back("content-type", "application/json; charset=UTF-8");
            return r;
          }
          vendor_version = n;
        }
      } else if (header_name == "Content-Type") {
        bool json_like = type == "application/json" || type == "application/x-ndjson";
        bool other_xcontent =
            type == "application/smile" || type == "application/cbor" || type == "application/yaml";
        if (streaming && (type == "application/cbor" || type == "application/yaml"))
          return plain_error(406,
                             "Content-Type [" + type +
                                 "] does not support stream parsing. Use JSON or SMILE instead");
        if (!json_like && !other_xcontent)
          return plain_error(406,
                             "Content-Type header [" + std::string(raw) + "] is not supported");
      }
      if (comma == std::string_view::npos)
        break;
      start = comma + 1;
    }
    return std::nullopt;
  }

  // ---------------------------------------------------------------- handlers

  http_server::response root(bool head, const parsed_target& t) const {
    json::object version;
    if (traits.opensearch)
      version["distribution"] = "opensearch";
    version["number"] = traits.version;
    if (!traits.opensearch)
      version["build_flavor"] = "default";
    version["build_type"] = traits.opensearch ? "tar" : "docker";
    version["build_hash"] = "c4d1f3b5a6e7d8c9b0a1f2e3d4c5b6a7f8e9d0c1";
    version["build_date"] = "2024-04-29T22:05:16.051731935Z";
    version["build_snapshot"] = false;
    version["lucene_version"] = traits.opensearch   ? "9.7.0"
                                : traits.major == 8 ? "9.10.0"
                                                    : "8.11.3";
    version["minimum_wire_compatibility_version"] = traits.opensearch   ? "7.10.0"
                                                    : traits.major == 8 ? "7.17.0"
                                                                        : "6.8.0";
    version["minimum_index_compatibility_version"] = traits.opensearch   ? "7.0.0"
                                                     : traits.major == 8 ? "7.0.0"
                                                                         : "6.0.0-beta1";
    json::object body;
    body["name"] = opts.node_name;
    body["cluster_name"] = opts.cluster_name;
    body["cluster_uuid"] = "cbEsSandboxCluster0001";
    body["version"] = std::move(version);
    body["tagline"] = traits.opensearch ? "The OpenSearch Project: https://opensearch.org/"
                                        : "You Know, for Search";
    auto r = json_response(200, body, t);
    if (head)
      r.body.clear();
    return r;
  }

  static bool param_true(const parsed_target& t, const char* name) {
    auto it = t.params.find(name);
    return it != t.params.end() && (it->second.empty() || it->second == "true");
  }

  std::optional<std::string> param(const parsed_target& t, const char* name) const {
    auto it = t.params.find(name);
    if (it == t.params.end())
      return std::nullopt;
    return it->second;
  }

  // Runs the items of one parsed bulk body (the mutex is held).
  http_server::response run_bulk(const std::string& body, const std::string& path_index,
                                 const parsed_target& t) {
    auto start = std::chrono::steady_clock::now();
    if (body.empty())
      return error_response(400, es::error_cause("parse_exception", "request body is required"), t);
    es::bulk_defaults defaults;
    defaults.index = path_index;
    defaults.routing = param(t, "routing");
    defaults.pipeline = param(t, "pipeline");
    defaults.require_alias = param_true(t, "require_alias");
    es::bulk_parse_rules rules;
    rules.accept_type = traits.major == 7 && !traits.opensearch;
    rules.parse_exception_type = traits.json_parse_type;
    auto parsed = es::parse_bulk(body, defaults, rules);
    ++counters.bulk_requests;
    if (parsed.error)
      return error_response(400, es::error_cause(parsed.error->type, parsed.error->reason), t);
    std::string refresh = param(t, "refresh").value_or("false");
    bool forced = refresh.empty() || refresh == "true";
    bool pipelines = false;
    bool errors = false;
    json::array items;
    items.reserve(parsed.items.size());
    std::set<std::string> touched;
    for (const auto& item : parsed.items) {
      outcome o;
      if (fail_items > 0) {
        --fail_items;
        o = injected_item_failure(item);
      } else if (writes_blocked && item.op != es::op_kind::delete_) {
        auto e = es::error_cause(
            "cluster_block_exception",
            "index [" + item.index +
                "] blocked by: [TOO_MANY_REQUESTS/12/disk usage exceeded flood-stage watermark, "
                "index has read-only-allow-delete block];");
        o.status = 429;
        o.failed = true;
        o.body["_index"] = item.index;
        if (traits.type_in_responses)
          o.body["_type"] = "_doc";
        o.body["_id"] = item.id ? json::value(*item.id) : json::value(nullptr);
        o.body["status"] = 429;
        o.body["error"] = std::move(e);
      } else if (opts.count_only) {
        o = data.acknowledge(item);
      } else {
        o = data.execute(item, forced);
        touched.insert(item.index);
      }
      pipelines = pipelines || (item.pipeline && *item.pipeline != "_none");
      ++counters.bulk_items;
      counters.unchanged_items += o.unchanged ? 1 : 0;
      if (o.failed) {
        ++counters.failed_items;
        errors = true;
      } else if (opts.on_item_acknowledged && item.op != es::op_kind::delete_) {
        opts.on_item_acknowledged(item.index, item.id ? std::string_view(*item.id) : "");
      }
      json::object wrapped;
      wrapped[item.response_key()] = std::move(o.body);
      items.push_back(std::move(wrapped));
    }
    if (refresh == "wait_for") {
      for (const auto& name : touched) {
        if (data.exists(name))
          data.refresh(name);
      }
    }
    json::object out;
    out["took"] = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - start)
                      .count();
    if (pipelines)
      out["ingest_took"] = 0;
    out["errors"] = errors;
    out["items"] = std::move(items);
    return json_response(200, out, t);
  }

  outcome injected_item_failure(const es::bulk_item& item) const {
    outcome o;
    o.status = fail_items_status;
    o.failed = true;
    o.body["_index"] = item.index;
    if (traits.type_in_responses)
      o.body["_type"] = "_doc";
    o.body["_id"] = item.id ? json::value(*item.id) : json::value(nullptr);
    o.body["status"] = fail_items_status;
    json::object e;
    if (fail_items_status == 429) {
      // A full write thread pool queue.
      e = es::error_cause(
          traits.rejected_type,
          "rejected execution of primary operation [coordinating_and_primary_bytes=0, "
          "replica_bytes=0, all_bytes=0, primary_operation_bytes=1024, "
          "max_coordinating_and_primary_bytes=53687091]");
    } else if (fail_items_status == 503) {
      e = es::error_cause("unavailable_shards_exception",
                          "[" + item.index +
                              "][0] primary shard is not active Timeout: [1m], request: "
                              "[BulkShardRequest [[" +
                              item.index + "][0]] containing [1] requests]");
      e["index_uuid"] = "_na_";
      e["shard"] = "0";
      e["index"] = item.index;
    } else {
      e = es::error_cause("exception",
                          "injected failure (status " + std::to_string(fail_items_status) + ")");
    }
    o.body["error"] = std::move(e);
    return o;
  }

  http_server::response injected_request_failure(int status, const parsed_target& t) const {
    if (status == 429)
      return error_response(
          429,
          es::error_cause(traits.rejected_type,
                          "rejected execution of coordinating operation "
                          "[coordinating_and_primary_bytes=0, replica_bytes=0, all_bytes=0, "
                          "coordinating_operation_bytes=54215758, "
                          "max_coordinating_and_primary_bytes=53687091]"),
          t);
    if (status == 503)
      return error_response(503,
                            es::error_cause("cluster_block_exception",
                                            "blocked by: [SERVICE_UNAVAILABLE/2/no master];"),
                            t);
    if (status == 502 || status == 504) {
      http_server::response r;
      r.status = status;
      r.body = status == 502 ? "Bad Gateway" : "Gateway Timeout";
      r.headers.emplace_back("content-type", "text/plain");
      return r;
    }
    return error_response(status, es::error_cause("exception", "injected failure"), t);
  }

  // The single-document write endpoints share the bulk item engine.
  http_server::response write_document(es::op_kind op, const std::string& index,
                                       std::optional<std::string> id, const std::string& body,
                                       const parsed_target& t) {
    if (body.empty())
      return error_response(400, es::error_cause("parse_exception", "request body is required"), t);
    es::bulk_item item;
    item.op = op;
    item.index = index;
    item.id = std::move(id);
    item.routing = param(t, "routing");
    if (op != es::op_kind::update)
      item.pipeline = param(t, "pipeline");
    if (auto ot = param(t, "op_type"); ot && op == es::op_kind::index) {
      if (*ot == "create")
        item.op = es::op_kind::create;
    }
    try {
      if (auto v = param(t, "version"))
        item.version = std::stoll(*v);
      if (auto v = param(t, "if_seq_no"))
        item.if_seq_no = std::stoll(*v);
      if (auto v = param(t, "if_primary_term"))
        item.if_primary_term = std::stoll(*v);
    } catch (const std::exception&) {
      return error_response(
          400, es::error_cause("illegal_argument_exception", "Failed to parse version parameters"),
          t);
    }
    if (auto v = param(t, "version_type"))
      item.version_type = *v == "external_gt" ? "external" : *v;
    item.source = body;
    std::vector<std::string> errors;
    es::validate_item(item, errors);
    if (!errors.empty())
      return error_response(
          400,
          es::error_cause("action_request_validation_exception", es::validation_message(errors)),
          t);
    if (op == es::op_kind::update) {
      // An update body must parse as an update request.
      boost::system::error_code ec;
      auto v = json::parse(body, ec);
      if (ec || !v.is_object())
        return error_response(
            400, es::error_cause(traits.json_parse_type, "failed to parse update request"), t);
    }
    std::string refresh = param(t, "refresh").value_or("false");
    outcome o = opts.count_only ? data.acknowledge(item)
                                : data.execute(item, refresh.empty() || refresh == "true");
    if (refresh == "wait_for" && data.exists(index))
      data.refresh(index);
    ++counters.bulk_items;
    counters.unchanged_items += o.unchanged ? 1 : 0;
    if (o.failed) {
      ++counters.failed_items;
      auto err = o.body.at("error").as_object();
      return error_response(o.status, std::move(err), t);
    }
    o.body.erase("status");
    return json_response(o.status, o.body, t);
  }

  http_server::response method_not_allowed(const http_server::request& req,
                                           [[maybe_unused]] const parsed_target& t,
                                           const char* allowed) const {
    return plain_error(405, "Incorrect HTTP method for uri [" + req.target + "] and method [" +
                                req.method + "], allowed: [" + allowed + "]");
  }

  // Routes one request (the mutex is held). `body` is already decoded.
  http_server::response route(const http_server::request& req, const parsed_target& t,
                              const std::string& body) {
    const auto& s = t.segments;
    const std::string& m = req.method;
    auto parse_json_body = [&](json::value& out) -> std::optional<http_server::response> {
      if (body.empty())
        return std::nullopt;
      boost::system::error_code ec;
      out = json::parse(body, ec);
      if (ec || !out.is_object())
        return error_response(
            400, es::error_cause("parse_exception", "request body or source parameter is required"),
            t);
      return std::nullopt;
    };

    if (s.empty()) {
      if (m == "GET" || m == "HEAD")
        return root(m == "HEAD", t);
      return method_not_allowed(req, t, "GET, HEAD");
    }
    if (s.size() == 1 && s[0] == "_bulk") {
      if (m == "POST" || m == "PUT")
        return run_bulk(body, "", t);
      return method_not_allowed(req, t, "POST, PUT");
    }
    if (s[0] == "_cluster" && s.size() >= 2 && s[1] == "health" && s.size() <= 3) {
      if (s.size() == 3) {
        std::string missing;
        if (!data.exists(s[2]))
          return error_response(404, es::index_not_found(s[2]), t);
      }
      auto o = data.health(param(t, "wait_for_status").value_or(""));
      return outcome_response(o, t);
    }
    if (s[0] == "_ingest" && s.size() == 3 && s[1] == "pipeline") {
      if (m == "PUT") {
        data.add_pipeline(s[2]);
        json::object ack;
        ack["acknowledged"] = true;
        return json_response(200, ack, t);
      }
      if (m == "GET") {
        if (!data.has_pipeline(s[2]))
          return json_response(404, json::object{}, t);
        json::object o;
        o[s[2]] = json::object{{"processors", json::array{}}};
        return json_response(200, o, t);
      }
    }
    // Index-less forms: /_refresh, /_count, /_search.
    std::string index;
    std::size_t at = 0;
    if (!s[0].starts_with("_")) {
      index = s[0];
      at = 1;
    }
    if (at == s.size()) {
      // /{index}
      if (m == "PUT") {
        json::value b;
        if (auto err = parse_json_body(b))
          return *err;
        return outcome_response(data.create_index(index, body.empty() ? nullptr : &b), t);
      }
      if (m == "DELETE")
        return outcome_response(data.delete_index(index), t);
      if (m == "HEAD") {
        http_server::response r = json_response(data.exists(index) ? 200 : 404, json::object{}, t);
        r.body.clear();
        return r;
      }
      if (m == "GET")
        return outcome_response(data.get_index(index), t);
      return method_not_allowed(req, t, "HEAD, DELETE, GET, PUT");
    }
    const std::string& op = s[at];
    std::size_t rest = s.size() - at - 1;
    if (op == "_bulk" && rest == 0) {
      if (m == "POST" || m == "PUT")
        return run_bulk(body, index, t);
      return method_not_allowed(req, t, "POST, PUT");
    }
    if (op == "_refresh" && rest == 0 && (m == "POST" || m == "GET"))
      return outcome_response(data.refresh(index), t);
    if ((op == "_count" || op == "_search") && rest == 0 && (m == "POST" || m == "GET")) {
      json::value b;
      if (auto err = parse_json_body(b))
        return *err;
      json::object q;
      if (auto qs = param(t, "q"); qs && !qs->empty() && *qs != "*") {
        auto colon = qs->find(':');
        if (colon == std::string::npos)
          return error_response(
              400,
              es::error_cause("query_shard_exception", "the fake only supports q=<field>:<value>"),
              t);
        json::object field;
        field[qs->substr(0, colon)] = qs->substr(colon + 1);
        q["query"] = json::object{{"match", std::move(field)}};
      }
      const json::object* body_obj = body.empty() ? (q.empty() ? nullptr : &q) : &b.get_object();
      if (op == "_count")
        return outcome_response(data.count(index, body_obj), t);
      json::object merged = body_obj ? *body_obj : json::object{};
      if (auto size = param(t, "size"))
        merged["size"] = std::atoll(size->c_str());
      if (auto from = param(t, "from"))
        merged["from"] = std::atoll(from->c_str());
      json::value track;
      if (auto tth = param(t, "track_total_hits")) {
        if (*tth == "true" || *tth == "false")
          track = *tth == "true";
        else
          track = std::atoll(tth->c_str());
      }
      return outcome_response(data.search(index, &merged, param_true(t, "rest_total_hits_as_int"),
                                          track.is_null() ? nullptr : &track),
                              t);
    }
    if (op == "_mapping" && rest == 0 && m == "GET")
      return outcome_response(data.get_mapping(index), t);
    if (op == "_doc" && !index.empty()) {
      if (rest == 0) {
        if (m == "POST")
          return write_document(es::op_kind::index, index, std::nullopt, body, t);
        return method_not_allowed(req, t, "POST");
      }
      if (rest == 1) {
        const std::string& id = s[at + 1];
        if (m == "GET" || m == "HEAD") {
          auto o = data.get_document(index, id, m == "HEAD");
          auto r = outcome_response(o, t);
          if (m == "HEAD")
            r.body.clear();
          return r;
        }
        if (m == "PUT" || m == "POST")
          return write_document(es::op_kind::index, index, id, body, t);
        if (m == "DELETE") {
          if (!data.exists(index))
            return error_response(404, es::index_not_found(index), t);
          es::bulk_item item;
          item.op = es::op_kind::delete_;
          item.index = index;
          item.id = id;
          item.routing = param(t, "routing");
          std::string refresh = param(t, "refresh").value_or("false");
          auto o = data.execute(item, refresh.empty() || refresh == "true");
          if (o.failed)
            return error_response(o.status, o.body.at("error").as_object(), t);
          o.body.erase("status");
          return json_response(o.status, o.body, t);
        }
        return method_not_allowed(req, t, "DELETE, POST, GET, PUT, HEAD");
      }
    }
    if (op == "_create" && rest == 1 && !index.empty() && (m == "PUT" || m == "POST"))
      return write_document(es::op_kind::create, index, s[at + 1], body, t);
    if (op == "_update" && rest == 1 && !index.empty() && m == "POST")
      return write_document(es::op_kind::update, index, s[at + 1], body, t);
    return plain_error(400, "no handler found for uri [" + req.target + "] and method [" + m + "]");
  }

  asio::awaitable<http_server::response> handle(http_server::request req) {
    http_server::response res;
    bool drop = false;
    std::chrono::milliseconds wait{0};
    {
      std::lock_guard lock(mutex);
      res = process(req, drop);
      wait = delay;
      if (!drop && truncate_responses > 0) {
        const auto t = parse_target(req.target);
        const bool is_bulk = !t.bad && !t.segments.empty() && t.segments.back() == "_bulk";
        if (is_bulk || !truncate_bulk_only) {
          --truncate_responses;
          res.truncate_body_at = res.body.size() / 2;
        }
      }
    }
    if (wait.count() > 0) {
      asio::steady_timer timer(co_await asio::this_coro::executor, wait);
      co_await timer.async_wait(asio::use_awaitable);
    }
    if (drop) {
      http_server::response d;
      d.drop = true;
      co_return d;
    }
    co_return res;
  }

  http_server::response process(const http_server::request& req, bool& drop) {
    ++counters.requests;
    counters.bytes_received += req.body.size();
    parsed_target t = parse_target(req.target);
    auto finish = [this](http_server::response r) {
      if (is_es())
        r.headers.emplace_back("X-elastic-product", "Elasticsearch");
      return r;
    };
    if (t.bad)
      return finish(plain_error(
          400, "no handler found for uri [" + req.target + "] and method [" + req.method + "]"));
    if (auto denied = authenticate(req))
      return finish(std::move(*denied));
    bool is_bulk = !t.segments.empty() && t.segments.back() == "_bulk";
    if (fail_requests > 0 && (is_bulk || !fail_requests_bulk_only)) {
      --fail_requests;
      if (is_bulk)
        ++counters.bulk_requests;
      return finish(injected_request_failure(fail_requests_status, t));
    }
    bool drop_this = drop_responses > 0 && (is_bulk || !drop_bulk_only);
    if (drop_this) {
      --drop_responses;
      drop = true;
      if (!drop_apply)
        return {};
    }
    // Body: size limit, then gzip, then the size limit again on the decoded bytes.
    std::string body = req.body;
    if (body.size() > opts.max_content_length) {
      http_server::response r;
      r.status = 413;  // Netty's aggregator answers with an empty body
      r.headers.emplace_back("connection", "close");
      return finish(r);
    }
    if (auto enc = find_header(req.headers, "content-encoding"); enc && !body.empty()) {
      std::string e = lower(*enc);
      if (e == "gzip" || e == "deflate" || e == "x-gzip") {
        bool too_big = false;
        auto inflated = inflate_body(body, opts.max_content_length, too_big);
        if (too_big) {
          http_server::response r;
          r.status = 413;
          r.headers.emplace_back("connection", "close");
          return finish(r);
        }
        if (!inflated)
          return finish(error_response(
              400,
              es::error_cause(
                  "illegal_argument_exception",
                  "request body could not be decoded with Content-Encoding [" + e + "]"),
              t));
        body = std::move(*inflated);
      }
    }
    int vendor = 0;
    if (auto accept = find_header(req.headers, "accept")) {
      if (auto err = check_media_type("Accept", *accept, false, vendor))
        return finish(std::move(*err));
    }
    int accept_vendor = vendor;
    if (!body.empty()) {
      auto ct = find_header(req.headers, "content-type");
      if (!ct)
        return finish(plain_error(406, "Content-Type header is missing"));
      int ct_vendor = 0;
      if (auto err = check_media_type("Content-Type", *ct, is_bulk, ct_vendor))
        return finish(std::move(*err));
    }
    auto r = route(req, t, body);
    // ES 8 answers in the vendor type it was asked for.
    if (accept_vendor > 0 && traits.major >= 8 && !traits.opensearch) {
      for (auto& [k, v] : r.headers) {
        if (k == "content-type" && v.starts_with("application/json"))
          v = "application/vnd.elasticsearch+json;compatible-with=" + std::to_string(accept_vendor);
      }
    }
    return finish(std::move(r));
  }
};

elasticsearch::elasticsearch(elasticsearch_options options)
    : impl_(std::make_unique<impl>(std::move(options))) {}

elasticsearch::~elasticsearch() {
  stop();
}

void elasticsearch::start() {
  if (impl_->server)
    return;
  http_server::options o;
  o.bind_address = impl_->opts.bind_address;
  o.port = impl_->opts.port;
  o.tls_cert_file = impl_->opts.tls_cert_file;
  o.tls_key_file = impl_->opts.tls_key_file;
  o.tls_client_ca_file = impl_->opts.tls_client_ca_file;
  // The 413 of http.max_content_length is answered by the handler (empty body); the
  // server's own limit only guards memory.
  o.body_limit = std::max<std::size_t>(impl_->opts.max_content_length + 1, 512u * 1024 * 1024);
  auto* self = impl_.get();
  impl_->server = std::make_unique<http_server>(
      o, [self](http_server::request req) { return self->handle(std::move(req)); });
  try {
    impl_->server->start();
  } catch (...) {
    impl_->server.reset();
    throw;
  }
}

void elasticsearch::stop() {
  if (impl_->server) {
    impl_->server->stop();
    impl_->server.reset();
  }
}

std::uint16_t elasticsearch::port() const {
  return impl_->server ? impl_->server->port() : 0;
}

std::string elasticsearch::url() const {
  const bool tls = impl_->server && impl_->server->tls();
  return (tls ? "https://" : "http://") + impl_->opts.bind_address + ":" + std::to_string(port());
}

void elasticsearch::add_pipeline(std::string id) {
  std::lock_guard lock(impl_->mutex);
  impl_->data.add_pipeline(std::move(id));
}

void elasticsearch::set_count_only(bool on) {
  std::lock_guard lock(impl_->mutex);
  impl_->opts.count_only = on;
}

void elasticsearch::set_max_content_length(std::size_t bytes) {
  std::lock_guard lock(impl_->mutex);
  impl_->opts.max_content_length = bytes;
}

void elasticsearch::set_auto_create_index(bool on) {
  std::lock_guard lock(impl_->mutex);
  impl_->opts.auto_create_index = on;
  impl_->data.set_auto_create(on);
}

void elasticsearch::fail_next_items(std::size_t n, int status) {
  std::lock_guard lock(impl_->mutex);
  impl_->fail_items = n;
  impl_->fail_items_status = status;
}

void elasticsearch::fail_next_requests(std::size_t n, int status, bool bulk_only) {
  std::lock_guard lock(impl_->mutex);
  impl_->fail_requests = n;
  impl_->fail_requests_status = status;
  impl_->fail_requests_bulk_only = bulk_only;
}

void elasticsearch::block_writes(bool on) {
  std::lock_guard lock(impl_->mutex);
  impl_->writes_blocked = on;
}

void elasticsearch::delay_responses(std::chrono::milliseconds d) {
  std::lock_guard lock(impl_->mutex);
  impl_->delay = d;
}

void elasticsearch::drop_next_responses(std::size_t n, bool apply, bool bulk_only) {
  std::lock_guard lock(impl_->mutex);
  impl_->drop_responses = n;
  impl_->drop_apply = apply;
  impl_->drop_bulk_only = bulk_only;
}

void elasticsearch::truncate_next_responses(std::size_t n, bool bulk_only) {
  std::lock_guard lock(impl_->mutex);
  impl_->truncate_responses = n;
  impl_->truncate_bulk_only = bulk_only;
}

elasticsearch_stats elasticsearch::stats() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->counters;
}

void elasticsearch::reset_stats() {
  std::lock_guard lock(impl_->mutex);
  impl_->counters = {};
}

std::optional<std::string> elasticsearch::document(std::string_view index,
                                                   std::string_view id) const {
  std::lock_guard lock(impl_->mutex);
  return impl_->data.live_source(index, id);
}

std::size_t elasticsearch::document_count(std::string_view index) const {
  std::lock_guard lock(impl_->mutex);
  return impl_->data.live_count(index);
}

std::vector<std::string> elasticsearch::indices() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->data.index_names();
}

}  // namespace cbes::testkit
