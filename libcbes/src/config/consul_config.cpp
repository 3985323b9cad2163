#include "cbes/config/consul_config.hpp"

#include "source.hpp"
#include "toml_reader.hpp"

namespace cbes::config {

result<consul_config> parse_consul_config(std::string_view raw, std::string_view origin,
                                          const load_options& options) {
  detail::diagnostics d{std::string(origin)};
  const std::string text = substitute_env(raw, detail::environment_of(options));
  auto root = detail::parse_toml(text, d, true);
  if (!root)
    return d.take_error();
  consul_config out;
  auto top = detail::root_table(d, *root);
  auto t = top.sub("consul");
  if (const auto* token = t.get("aclToken")) {
    // Never quote the value: it is a credential.
    if (token->is_string())
      out.acl_token = secret(token->as_string().str);
    else
      t.fail("aclToken", "expected a string, got " + std::string(detail::describe_type(*token)));
  }
  out.deregister_service_on_graceful_shutdown =
      t.boolean_or("deregisterServiceOnGracefulShutdown", true);
  if (auto after = t.duration("deregisterCriticalServiceAfter")) {
    if (*after < minimum_deregister_critical_service_after)
      t.fail("deregisterCriticalServiceAfter", "must be at least 1m (Consul's minimum), got " +
                                                   std::to_string(after->count()) + "ms");
    else
      out.deregister_critical_service_after =
          std::chrono::duration_cast<std::chrono::seconds>(*after);
  }
  if (auto ca = t.string("pathToCaCertificate"); ca && !ca->empty()) {
    std::error_code ec;
    out.ca_certificate = std::filesystem::absolute(*ca, ec);
    if (!std::filesystem::is_regular_file(out.ca_certificate, ec))
      t.fail("pathToCaCertificate", "file '" + out.ca_certificate.string() +
                                        "' does not exist; give the PEM file of "
                                        "the CA that signed the Consul agent's certificate");
  }
  out.hostname_verification = t.boolean_or("hostnameVerification", true);
  t.finish();
  top.finish();
  if (d.failed())
    return d.take_error();
  out.warnings = d.take_warnings();
  return out;
}

result<consul_config> load_consul_config(const std::filesystem::path& file,
                                         const load_options& options) {
  const auto abs = detail::absolute_path(file);
  std::string why;
  auto text = detail::read_file(abs, detail::max_config_bytes, why);
  if (!text)
    return error{{"Cannot read Consul config file " + abs.string() + ": " + why}};
  return parse_consul_config(*text, abs.string(), options);
}

}  // namespace cbes::config
