#include "agent_impl.hpp"

namespace cbes::testkit {

namespace {

// Go's url.QueryEscape, used to re-encode the query in "Conflicting flags" errors.
std::string query_escape(std::string_view in) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : in) {
    auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += ch;
    } else if (c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += digits[c >> 4];
      out += digits[c & 15];
    }
  }
  return out;
}

}  // namespace

json::value consul_agent::impl::kv_json(const kv_entry& e, bool with_value) {
  json::object o;
  o["LockIndex"] = e.lock_index;
  o["Key"] = e.key;
  o["Flags"] = e.flags;
  if (with_value && !e.value.empty())
    o["Value"] = util::base64_encode(e.value);
  else
    o["Value"] = nullptr;
  if (!e.session.empty())
    o["Session"] = e.session;
  o["CreateIndex"] = e.create_index;
  o["ModifyIndex"] = e.modify_index;
  return o;
}

asio::awaitable<reply> consul_agent::impl::kv(call& c) {
  const std::string key = c.rest;
  if (c.method == "GET") {
    bool recurse = c.has("recurse"), keys = c.has("keys"), raw = c.has("raw");
    if (key.empty() && !recurse && !keys)
      co_return text(400, "Missing key name");
    if (keys) {
      std::string sep = c.get("separator").value_or(c.get("seperator").value_or(""));
      co_return co_await blocking(c, [&] {
        std::vector<std::string> out;
        for (const auto* e : st.kv_list(key)) {
          std::string k = e->key;
          if (!sep.empty()) {
            auto pos = k.find(sep, key.size());
            if (pos != std::string::npos)
              k = k.substr(0, pos + sep.size());
          }
          if (out.empty() || out.back() != k)
            out.push_back(k);
        }
        reply r = out.empty() && !key.empty() ? text(404, "") : json_reply(string_array(out));
        r.index = st.kv_prefix_index(key);
        return r;
      });
    }
    if (recurse) {
      co_return co_await blocking(c, [&] {
        json::array a;
        for (const auto* e : st.kv_list(key))
          a.push_back(kv_json(*e));
        reply r = a.empty() ? text(404, "") : json_reply(a);
        r.index = st.kv_prefix_index(key);
        return r;
      });
    }
    co_return co_await blocking(c, [&] {
      const auto* e = st.kv_get(key);
      reply r;
      if (!e) {
        r = text(404, "");
        r.absent = true;
        r.index = st.kv_table_index();
      } else if (raw) {
        r.body = e->value;
        r.content_type = "text/plain";
        r.headers.emplace_back("X-Content-Type-Options", "nosniff");
        r.headers.emplace_back("Content-Security-Policy", "sandbox");
        r.index = e->modify_index;
      } else {
        r = json_reply(json::array{kv_json(*e)});
        r.index = e->modify_index;
      }
      return r;
    });
  }
  std::lock_guard lock(mu);
  if (auto err = write_guard())
    co_return *err;
  st.run_due(now());
  if (c.method == "PUT") {
    if (key.empty())
      co_return text(400, "Missing key name");
    std::uint64_t flags = 0, cas = 0;
    if (auto f = c.get("flags")) {
      auto v = parse_u64(*f);
      if (auto* msg = std::get_if<std::string>(&v))
        co_return text(500, *msg);
      flags = std::get<std::uint64_t>(v);
    }
    if (auto f = c.get("cas")) {
      auto v = parse_u64(*f);
      if (auto* msg = std::get_if<std::string>(&v))
        co_return text(500, *msg);
      cas = std::get<std::uint64_t>(v);
    }
    int n = c.has("cas") + c.has("acquire") + c.has("release");
    if (n > 1)
      co_return conflicting_flags(c);
    // the limit is checked against the request's Content-Length.
    if (c.content_length && *c.content_length > kv_max_value_size)
      co_return text(413, "Request body(" + std::to_string(*c.content_length) +
                              " bytes) too large, max size: 524288 bytes. See "
                              "https://developer.hashicorp.com/docs/agent/config/"
                              "config-files#kv_max_value_size.");
    auto mode = c.has("cas")       ? store::put_mode::cas
                : c.has("acquire") ? store::put_mode::acquire
                : c.has("release") ? store::put_mode::release
                                   : store::put_mode::set;
    std::string session = c.get("acquire").value_or(c.get("release").value_or(""));
    auto res = st.kv_put(key, c.body, flags, mode, cas, session, now());
    if (auto* err = std::get_if<op_error>(&res))
      co_return text(err->status, err->message);
    co_return json_reply(std::get<bool>(res));
  }
  // DELETE
  bool recurse = c.has("recurse");
  if (key.empty() && !recurse)
    co_return text(400, "Missing key name");
  if (recurse && c.has("cas"))
    co_return conflicting_flags(c);
  std::optional<std::uint64_t> cas;
  if (auto f = c.get("cas")) {
    auto v = parse_u64(*f);
    if (auto* msg = std::get_if<std::string>(&v))
      co_return text(500, *msg);
    cas = std::get<std::uint64_t>(v);
  }
  co_return json_reply(st.kv_delete(key, recurse, cas));
}

reply consul_agent::impl::conflicting_flags(const call& c) {
  auto q = c.query;
  std::stable_sort(q.begin(), q.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string enc;
  for (const auto& [k, v] : q) {
    if (!enc.empty())
      enc += '&';
    enc += query_escape(k) + "=" + query_escape(v);
  }
  return text(400, "Conflicting flags: " + enc);
}

}  // namespace cbes::testkit
