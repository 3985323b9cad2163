#include "cbes/couchbase/seed.hpp"

#include <charconv>

namespace cbes::couchbase {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

error bad_seed(std::string_view entry, std::string_view why) {
  return make_error(errc::invalid_argument, "bad seed '" + std::string(entry) +
                                                "' in couchbase.hosts: " + std::string(why));
}

}  // namespace

std::string format_host_port(std::string_view host, std::uint16_t port) {
  const bool v6 = host.find(':') != std::string_view::npos;
  std::string out;
  if (v6)
    out.append("[").append(host).append("]");
  else
    out.append(host);
  return out + ":" + std::to_string(port);
}

result<std::vector<seed>> parse_seeds(std::string_view list, bool tls) {
  list = trim(list);
  if (list.starts_with("couchbases://")) {
    tls = true;
    list.remove_prefix(13);
  } else if (list.starts_with("couchbase://")) {
    list.remove_prefix(12);
  }
  // A connection string may carry `?options`; they are not seeds.
  if (auto q = list.find('?'); q != std::string_view::npos)
    list = list.substr(0, q);
  std::vector<seed> seeds;
  while (true) {
    const auto comma = list.find_first_of(",;");
    const std::string_view entry = trim(list.substr(0, comma));
    if (!entry.empty()) {
      seed s;
      std::string_view rest = entry;
      std::string_view kind;
      if (auto eq = rest.find('='); eq != std::string_view::npos) {
        kind = rest.substr(eq + 1);
        rest = rest.substr(0, eq);
      }
      std::string_view port_text;
      if (rest.starts_with("[")) {
        const auto close = rest.find(']');
        if (close == std::string_view::npos)
          return bad_seed(entry, "unclosed '['");
        s.host = std::string(rest.substr(1, close - 1));
        auto after = rest.substr(close + 1);
        if (!after.empty()) {
          if (after.front() != ':')
            return bad_seed(entry, "expected ':' after ']'");
          port_text = after.substr(1);
          if (port_text.empty())
            return bad_seed(entry, "empty port");
        }
      } else if (std::count(rest.begin(), rest.end(), ':') > 1) {
        s.host = std::string(rest);  // bare IPv6 literal
      } else if (auto colon = rest.find(':'); colon != std::string_view::npos) {
        s.host = std::string(rest.substr(0, colon));
        port_text = rest.substr(colon + 1);
        if (port_text.empty())
          return bad_seed(entry, "empty port");
      } else {
        s.host = std::string(rest);
      }
      if (s.host.empty())
        return bad_seed(entry, "empty host");
      if (!port_text.empty()) {
        unsigned port = 0;
        auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
        if (ec != std::errc{} || p != port_text.data() + port_text.size() || port == 0 ||
            port > 65535)
          return bad_seed(entry, "port must be a number 1-65535");
        s.port = static_cast<std::uint16_t>(port);
      }
      if (kind == "kv" || kind == "mcd") {
        s.kind = seed_kind::kv;
      } else if (kind == "manager" || kind == "http") {
        s.kind = seed_kind::manager;
      } else if (!kind.empty()) {
        return bad_seed(entry, "kind must be 'kv' or 'manager'");
      } else if (s.port == default_manager_port || s.port == default_manager_tls_port) {
        s.kind = seed_kind::manager;
      }
      if (s.port == 0) {
        if (s.kind == seed_kind::kv)
          s.port = tls ? default_kv_tls_port : default_kv_port;
        else
          s.port = tls ? default_manager_tls_port : default_manager_port;
      }
      seeds.push_back(std::move(s));
    }
    if (comma == std::string_view::npos)
      break;
    list.remove_prefix(comma + 1);
  }
  if (seeds.empty())
    return make_error(errc::invalid_argument, "couchbase.hosts names no seed node");
  return seeds;
}

}  // namespace cbes::couchbase
