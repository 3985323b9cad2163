#include "agent_impl.hpp"

namespace cbes::testkit {

asio::awaitable<reply> consul_agent::impl::txn(call& c) {
  if (c.content_length && *c.content_length > kv_max_value_size)
    co_return text(413, "Request body(" + std::to_string(*c.content_length) +
                            " bytes) too large, max size: 524288 bytes. See "
                            "https://developer.hashicorp.com/docs/agent/config/"
                            "config-files#txn_max_req_len.");
  boost::system::error_code ec;
  auto doc = json::parse(c.body, ec);
  if (ec || !doc.is_array())
    co_return text(400,
                   "Failed to parse body: " + (ec ? ec.message()
                                                  : "json: cannot unmarshal into Go value of type "
                                                    "api.TxnOps"));
  auto& arr = doc.as_array();
  if (arr.size() > txn_max_ops)
    co_return text(
        413, "Transaction contains too many operations (" + std::to_string(arr.size()) + " > 128)");
  std::vector<txn_op> ops;
  std::vector<std::pair<std::size_t, std::string>> unsupported;
  bool read_only = true;
  for (std::size_t i = 0; i < arr.size(); ++i) {
    if (!arr[i].is_object())
      co_return text(400, "Failed to parse body: json: cannot unmarshal " + go_type_name(arr[i]) +
                              " into Go value of type api.TxnOp");
    const auto& o = arr[i].as_object();
    const auto* kvv = field(o, "KV");
    if (!kvv || !kvv->is_object()) {
      // Reported as a failed operation; the transaction then never runs.
      unsupported.emplace_back(i, "only KV operations are supported by this Consul fake");
      continue;
    }
    const auto& k = kvv->as_object();
    txn_op op;
    try {
      op.verb = get_string(k, "Verb");
      op.key = get_string(k, "Key");
      op.session = get_string(k, "Session");
      if (const auto* f = field(k, "Flags"); f && f->is_uint64())
        op.flags = f->as_uint64();
      else
        op.flags = static_cast<std::uint64_t>(get_int(k, "Flags"));
      if (const auto* f = field(k, "Index"); f && f->is_uint64())
        op.index = f->as_uint64();
      else
        op.index = static_cast<std::uint64_t>(get_int(k, "Index"));
      if (const auto* v = field(k, "Value"); v && !v->is_null()) {
        if (!v->is_string())
          co_return text(400, "Failed to parse body: illegal base64 data");
        auto bytes = util::base64_decode(v->as_string());
        if (!bytes)
          co_return text(400, "Failed to parse body: illegal base64 data at input byte 0");
        op.value = std::move(*bytes);
      }
    } catch (const decode_error& e) {
      co_return text(400, "Failed to parse body: " + e.message);
    }
    if (op.value && op.value->size() > kv_max_value_size)
      co_return text(413, "Value for key \"" + op.key + "\" is too large (" +
                              std::to_string(op.value->size()) + " > 524288 bytes)");
    static const std::set<std::string> reads = {"get",         "get-tree",      "get-or-empty",
                                                "check-index", "check-session", "check-not-exists"};
    read_only = read_only && reads.count(op.verb);
    ops.push_back(std::move(op));
  }
  std::lock_guard lock(mu);
  if (read_only) {
    if (auto err = read_guard(c))
      co_return *err;
  } else if (auto err = write_guard()) {
    co_return *err;
  }
  st.run_due(now());
  auto out = unsupported.empty() ? st.txn(ops, now()) : txn_outcome{};
  for (auto& u : unsupported)
    out.errors.push_back(std::move(u));
  std::sort(out.errors.begin(), out.errors.end());
  reply r;
  if (!out.errors.empty()) {
    json::array errors;
    for (const auto& [i, what] : out.errors)
      errors.push_back(json::object{{"OpIndex", i}, {"What", what}});
    r = json_reply(json::object{{"Results", nullptr}, {"Errors", std::move(errors)}});
    r.status = 409;
  } else {
    json::array results;
    for (std::size_t i = 0; i < out.results.size(); ++i)
      results.push_back(json::object{{"KV", kv_json(out.results[i], out.result_has_value[i])}});
    r = json_reply(json::object{{"Results", std::move(results)}, {"Errors", nullptr}});
  }
  if (read_only) {
    r.meta = true;
    r.meta_index = false;
  }
  co_return r;
}

}  // namespace cbes::testkit
