#include "cbes/config/connector_config.hpp"

#include <algorithm>
#include <cctype>
#include <limits>

#include "cbes/config/conversions.hpp"
#include "cbes/couchbase/seed.hpp"
#include "cbes/util/units.hpp"
#include "secret_file.hpp"
#include "source.hpp"
#include "toml_reader.hpp"

namespace cbes::config {
namespace {

using detail::diagnostics;
using detail::path_base;
using detail::table;
using detail::toml_value;

constexpr std::int64_t int_max = std::numeric_limits<int>::max();

// The Java connector's placeholder for "no truststore" in its example config.
constexpr std::string_view truststore_placeholder = "path/to/truststore";

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

bool blank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isspace(c); });
}

// "scope.collection" with both parts present.
bool is_qualified_collection(std::string_view s) {
  const auto dot = s.find('.');
  return dot != std::string_view::npos && dot > 0 && dot + 1 < s.size() &&
         s.find('.', dot + 1) == std::string_view::npos;
}

struct reader {
  diagnostics& d;
  path_base base;
  env_lookup env;

  // An existing file named by `key`, as an absolute path; empty when the key is absent.
  std::filesystem::path existing_file(table& t, std::string_view key) {
    auto value = t.string(key);
    if (!value || value->empty())
      return {};
    auto path = base.resolve(*value);
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec))
      t.fail(key, "file '" + path.string() + "' does not exist; " + base.rule);
    return path;
  }

  // `pathToPassword`: a required key naming a TOML file with `password = '...'`.
  secret password(table& t, std::string_view key) {
    const auto* v = t.get(key);
    if (v == nullptr) {
      const std::string section = t.path().substr(0, t.path().find('.'));
      t.fail(key,
             "required key is missing; name a TOML file holding password = '...', e.g. "
             "'secrets/" +
                 section + "-password.toml'");
      return {};
    }
    auto value = t.string(key);
    if (!value)
      return {};
    auto s = detail::read_secret_file(base, *value, env);
    if (!s) {
      t.fail(key, s.error());
      return {};
    }
    return std::move(*s);
  }

  // `[<section>.clientCertificate]`: with use = true the keystore must exist and its password
  // file is read; the section must use TLS (a certificate is presented in the TLS handshake).
  client_certificate_config client_certificate(table& parent, bool secure) {
    client_certificate_config out;
    auto t = parent.sub("clientCertificate");
    out.use = t.boolean("use").value_or(false);
    if (t.present()) {
      if (!t.get("use"))
        t.fail("use", "required key is missing (true or false)");
      const bool has_path = t.get("path") != nullptr;
      const bool has_password = t.get("pathToPassword") != nullptr;
      if (!has_path)
        t.fail("path", "required key is missing (the PKCS12 keystore holding the certificate)");
      if (!has_password)
        t.fail("pathToPassword", "required key is missing (the keystore's password file)");
      if (out.use) {
        out.path = existing_file(t, "path");
        if (has_password)
          out.password = password(t, "pathToPassword");
        if (!secure)
          t.fail("use", "a client certificate is presented in the TLS handshake: set " +
                            parent.path() + ".secureConnection = true (or use = false)");
      } else {
        // Not used: the example's placeholder paths need not exist.
        if (auto path = t.string("path"); path && !path->empty())
          out.path = base.resolve(*path);
        (void)t.string("pathToPassword");
      }
    }
    t.finish();
    return out;
  }

  group_config group(table& root) {
    group_config g;
    auto t = root.sub("group");
    if (!t.present()) {
      d.error("group at " + d.file_start() +
              ": required table [group] is missing; add [group] with name = '...' and "
              "[group.static] with memberNumber and totalMembers");
      return g;
    }
    g.name = t.required_string("name", "the connector group's name, e.g. name = 'example-group'");
    if (t.get("name") && t.get("name")->is_string() && g.name.empty())
      t.fail("name", "must not be empty");
    auto s = t.sub("static");
    if (!s.present()) {
      t.fail("static",
             "required table [group.static] is missing; add memberNumber = 1 and "
             "totalMembers = 1 for a single worker");
    } else {
      const auto* mv = s.get("memberNumber");
      const auto* tv = s.get("totalMembers");
      // 0 = absent or invalid (already reported); valid values start at 1.
      const std::int64_t member = s.integer("memberNumber", 1, int_max).value_or(0);
      std::int64_t total = 0;
      if (tv != nullptr) {
        total = s.integer("totalMembers", 1, std::numeric_limits<std::int64_t>::max()).value_or(0);
        if (total > max_total_members) {
          s.fail("totalMembers", "must be between 1 and " + std::to_string(max_total_members) +
                                     ", got " + std::to_string(total) +
                                     " (did you forget to set the CBES_TOTAL_MEMBERS "
                                     "environment variable?)");
          total = 0;
        }
      }
      if (mv == nullptr)
        s.fail("memberNumber", "required key is missing (1..totalMembers)");
      if (tv == nullptr)
        s.fail("totalMembers", "required key is missing (1..1024)");
      if (member > 0 && total > 0 && member > total)
        s.fail("memberNumber", "must be between 1 and totalMembers (" + std::to_string(total) +
                                   "), got " + std::to_string(member));
      if (member > 0)
        g.membership.member_number = static_cast<int>(member);
      if (total > 0)
        g.membership.total_members = static_cast<int>(total);
    }
    s.finish();
    t.finish();
    return g;
  }

  logging_config logging(table& root) {
    logging_config l;
    auto t = root.sub("logging");
    l.log_document_lifecycle = t.boolean_or("logDocumentLifecycle", false);
    if (auto r = t.string("redactionLevel")) {
      const auto u = upper(*r);
      if (u == "NONE")
        l.redaction = redaction_level::none;
      else if (u == "PARTIAL")
        l.redaction = redaction_level::partial;
      else if (u == "FULL")
        l.redaction = redaction_level::full;
      else
        t.fail("redactionLevel", "expected NONE, PARTIAL or FULL, got '" + *r + "'");
    }
    t.finish();
    return l;
  }

  metrics_config metrics(table& root) {
    metrics_config m;
    auto t = root.sub("metrics");
    if (auto p = t.integer("httpPort", -1, 65535))
      m.http_port = static_cast<int>(*p);
    if (auto i = t.duration("logInterval"))
      m.log_interval = *i;
    t.finish();
    return m;
  }

  // Every entry of `hosts`, checked one by one so each error points at its own element.
  template <class Check>
  std::vector<std::string> hosts(table& t, Check check) {
    const auto* raw = t.get("hosts");
    auto list = t.strings("hosts");
    if (raw == nullptr) {
      t.fail("hosts", "required key is missing; list the hosts, e.g. hosts = ['127.0.0.1']");
      return {};
    }
    if (!list)
      return {};
    if (list->empty())
      t.fail("hosts", "must name at least one host");
    const auto& a = raw->as_array();
    for (std::size_t i = 0; i < list->size(); ++i) {
      if (auto why = check((*list)[i]))
        d.error(t.key_path("hosts") + "[" + std::to_string(i) + "] at " + d.where(a[i]) + ": " +
                *why);
    }
    return *list;
  }

  void collection_name(table& t, std::string_view key, const std::string& value) {
    if (!is_qualified_collection(value))
      t.fail(key, "expected 'scope.collection' (e.g. 'inventory.airline'), got '" + value + "'");
  }

  couchbase_dcp_config dcp_section(table& parent) {
    couchbase_dcp_config c;
    auto t = parent.sub("dcp");
    c.compression = t.boolean_or("compression", c.compression);
    if (auto b = t.size("flowControlBuffer")) {
      if (*b > std::numeric_limits<std::uint32_t>::max())
        t.fail("flowControlBuffer", "must be less than 4gb (DCP's buffer size is 32 bits)");
      else
        c.flow_control_buffer = *b;
    }
    if (auto p = t.duration("persistencePollingInterval")) {
      c.persistence_polling_interval = *p;
      t.warn("persistencePollingInterval",
             "accepted for compatibility; cbes's DCP consumer does not poll persistence, so it "
             "has no effect");
    }
    if (auto ct = t.duration("connectTimeout")) {
      if (ct->count() <= 0)
        t.fail("connectTimeout", "must be greater than 0");
      else
        c.connect_timeout = *ct;
    }
    t.finish();
    return c;
  }

  couchbase_env_config sdk_env(table& parent) {
    couchbase_env_config e;
    auto t = parent.sub("env");
    t.accept_all();
    std::vector<std::pair<std::string, const toml_value*>> entries;
    t.flatten(entries);
    for (const auto& [key, value] : entries) {
      const std::string name = t.key_path(key);
      const std::string last = key.substr(key.rfind('.') + 1);
      std::optional<std::chrono::milliseconds>* target = nullptr;
      if (key == "timeout.kvTimeout")
        target = &e.kv_timeout;
      else if (key == "timeout.connectTimeout")
        target = &e.connect_timeout;
      else if (key == "io.configPollInterval")
        target = &e.config_poll_interval;
      if (target == nullptr) {
        d.warn(name + " at " + d.where(*value, last) +
               ": a Java SDK setting cbes has no equivalent for; ignored (cbes maps only "
               "timeout.kvTimeout, timeout.connectTimeout and io.configPollInterval)");
        continue;
      }
      if (!value->is_string()) {
        d.error(name + " at " + d.where(*value, last) +
                ": expected a duration such as '2.5s', got " +
                std::string(detail::describe_type(*value)));
        continue;
      }
      auto parsed = util::parse_duration(value->as_string().str);
      if (!parsed || parsed->count() <= 0) {
        d.error(name + " at " + d.where(*value, last) + ": " +
                (parsed ? std::string("must be greater than 0") : parsed.error().message));
        continue;
      }
      *target = std::chrono::duration_cast<std::chrono::milliseconds>(*parsed);
    }
    return e;
  }

  couchbase_config couchbase_section(table& root) {
    couchbase_config c;
    auto t = root.sub("couchbase");
    if (!t.present()) {
      d.error("couchbase at " + d.file_start() +
              ": required table [couchbase] is missing; it needs at least hosts and "
              "pathToPassword");
      return c;
    }
    // Read in the Java connector's documented order, so "expected items" lists read naturally.
    const bool secure = t.boolean("secureConnection").value_or(false);
    c.hosts = hosts(t, [&](const std::string& h) -> std::optional<std::string> {
      auto s = couchbase::parse_seeds(seed_list({h}), secure);
      if (!s)
        return s.error().what();
      return std::nullopt;
    });
    c.network = t.string_or("network", c.network);
    c.bucket = t.string_or("bucket", c.bucket);
    if (c.bucket.empty())
      t.fail("bucket", "must not be empty");
    c.metadata_bucket = t.string_or("metadataBucket", "");
    c.metadata_collection = t.string_or("metadataCollection", c.metadata_collection);
    collection_name(t, "metadataCollection", c.metadata_collection);
    c.scope = t.string_or("scope", "");
    if (auto list = t.strings("collections")) {
      c.collections = std::move(*list);
      for (const auto& coll : c.collections)
        collection_name(t, "collections", coll);
    }
    if (t.get("scope") && !c.collections.empty())
      t.fail("collections",
             "'scope' and 'collections' are mutually exclusive; set 'scope' to stream a whole "
             "scope, or list 'scope.collection' names in 'collections'");
    if (t.get("scope") && c.scope.empty())
      t.fail("scope", "must not be empty (remove the key to stream every scope)");
    if (auto cp = t.string("defaultCheckpoint")) {
      const auto u = upper(*cp);
      if (u == "ZERO")
        c.checkpoint_default = default_checkpoint::zero;
      else if (u == "NOW")
        c.checkpoint_default = default_checkpoint::now;
      else
        t.fail("defaultCheckpoint", "expected ZERO or NOW, got '" + *cp + "'");
    }
    c.username = t.string_or("username", "");
    c.password = password(t, "pathToPassword");
    c.secure_connection = secure;
    c.ca_certificate = existing_file(t, "pathToCaCertificate");
    c.hostname_verification = t.boolean_or("hostnameVerification", true);
    c.client_certificate = client_certificate(t, secure);
    c.dcp = dcp_section(t);
    c.env = sdk_env(t);
    t.finish();
    return c;
  }

  // The sink's type rules, each validated alone so that every broken rule is reported at its own
  // `[[elasticsearch.type]]` header.
  void type_rule_errors(const sink::sink_settings& s, const std::vector<std::string>& positions) {
    for (std::size_t i = 0; i < s.types.size(); ++i) {
      sink::sink_settings one;
      one.defaults = s.defaults;
      one.types = {s.types[i]};
      auto err = sink::validate(one);
      if (!err)
        continue;
      std::string_view message = *err;
      const auto colon = message.find(": ");
      if (message.starts_with("elasticsearch.type #") && colon != std::string_view::npos)
        message.remove_prefix(colon + 2);
      d.error("elasticsearch.type #" + std::to_string(i + 1) + " at " + positions[i] + ": " +
              std::string(message));
    }
  }

  void deprecated_type_name(table& t) {
    if (t.get("typeName") == nullptr)
      return;
    (void)t.string("typeName");
    t.warn("typeName", "deprecated and ignored: Elasticsearch 7+ indices have no mapping types");
  }

  elasticsearch_config elasticsearch_section(table& root) {
    elasticsearch_config e;
    auto t = root.sub("elasticsearch");
    if (!t.present()) {
      d.error("elasticsearch at " + d.file_start() +
              ": required table [elasticsearch] is missing; it needs at least hosts, "
              "pathToPassword and one [[elasticsearch.type]]");
      return e;
    }
    const bool secure = t.boolean("secureConnection").value_or(false);
    e.hosts = hosts(t, [&](const std::string& h) -> std::optional<std::string> {
      auto a = sink::parse_host(h, secure);
      if (!a) {
        const std::string message = a.error().message;
        std::string_view m = message;
        // parse_host's message starts "elasticsearch.hosts: '<host>': "; the position says it.
        const auto cut = m.find("': ");
        if (m.starts_with("elasticsearch.hosts: ") && cut != std::string_view::npos)
          m.remove_prefix(cut + 3);
        return "'" + h + "': " + std::string(m);
      }
      return std::nullopt;
    });
    e.username = t.string_or("username", "");
    e.password = password(t, "pathToPassword");
    e.secure_connection = secure;
    e.ca_certificate = existing_file(t, "pathToCaCertificate");
    e.client_certificate = client_certificate(t, secure);

    auto cloud = t.sub("elasticCloud");
    e.elastic_cloud = cloud.boolean_or("enabled", false);
    if (e.elastic_cloud && !secure)
      cloud.fail("enabled", "Elastic Cloud needs elasticsearch.secureConnection = true");
    cloud.finish();

    auto aws = t.sub("aws");
    e.aws_region = aws.string_or("region", "");
    if (!e.aws_region.empty()) {
      // Amazon OpenSearch Service: SigV4-signed requests to one domain endpoint over TLS.
      if (!secure)
        aws.fail("region", "Amazon OpenSearch Service needs elasticsearch.secureConnection = true");
      if (e.hosts.size() > 1)
        aws.fail("region",
                 "Amazon OpenSearch Service takes exactly one elasticsearch.hosts entry (the "
                 "domain endpoint), got " +
                     std::to_string(e.hosts.size()));
      if (e.elastic_cloud)
        aws.fail("region",
                 "[elasticsearch.aws] and [elasticsearch.elasticCloud] exclude each other");
    }
    aws.finish();

    auto& s = e.sink;
    auto limits = t.sub("bulkRequestLimits");
    if (auto a = limits.integer("actions", 1, int_max))
      s.limits.actions = static_cast<std::size_t>(*a);
    if (auto b = limits.size("bytes")) {
      if (*b < 1)
        limits.fail("bytes", "must be at least 1b");
      else
        s.limits.bytes = *b;
    }
    if (auto to = limits.duration("timeout"))
      s.limits.timeout = *to;
    if (auto c = limits.integer("concurrentRequests", 1, 16))
      s.limits.concurrent_requests = static_cast<int>(*c);
    limits.finish();

    auto doc = t.sub("docStructure");
    s.doc_structure.metadata_field_name = doc.string_or("metadataFieldName", "");
    s.doc_structure.document_content_at_top_level =
        doc.boolean_or("documentContentAtTopLevel", false);
    s.doc_structure.wrap_counters = doc.boolean_or("wrapCounters", false);
    doc.finish();

    auto defaults = t.sub("typeDefaults");
    s.defaults.index = defaults.string_or("index", "");
    s.defaults.pipeline = defaults.string_or("pipeline", "");
    s.defaults.ignore = defaults.boolean_or("ignore", false);
    s.defaults.ignore_deletes = defaults.boolean_or("ignoreDeletes", false);
    s.defaults.match_on_qualified_key = defaults.boolean_or("matchOnQualifiedKey", false);
    deprecated_type_name(defaults);
    defaults.finish();

    std::vector<std::string> positions;
    for (auto& rule : t.array_of_tables("type")) {
      sink::type_rule_settings r;
      r.prefix = rule.string("prefix");
      r.regex = rule.string("regex");
      r.index = rule.string("index");
      r.pipeline = rule.string("pipeline");
      r.routing = rule.string("routing");
      r.ignore = rule.boolean("ignore");
      r.ignore_deletes = rule.boolean("ignoreDeletes");
      r.match_on_qualified_key = rule.boolean("matchOnQualifiedKey");
      deprecated_type_name(rule);
      rule.finish();
      s.types.push_back(std::move(r));
      positions.push_back(rule.position());
    }
    if (t.get("type") == nullptr)
      d.error("elasticsearch.type at " + t.position() +
              ": at least one [[elasticsearch.type]] rule is required, e.g. "
              "[[elasticsearch.type]] prefix = '' index = 'etc'");
    type_rule_errors(s, positions);

    auto rejects = t.sub("rejectionLog");
    s.rejection_log.index = rejects.string_or("index", "");
    deprecated_type_name(rejects);
    rejects.finish();
    t.finish();

    // Whatever the per-key checks above cannot see (the sink's own rules); reported at the table.
    if (!d.failed()) {
      if (auto err = sink::validate(s))
        d.error("elasticsearch at " + t.position() + ": " + *err);
    }
    return e;
  }

  void truststore(table& root) {
    auto t = root.sub("truststore");
    auto path = t.string_or("path", "");
    (void)t.string("pathToPassword");
    if (t.present() && !blank(path) && path != truststore_placeholder)
      t.warn("path",
             "[truststore] is deprecated and not used by cbes (it reads no Java keystores); give "
             "the CA certificate as PEM in couchbase.pathToCaCertificate and "
             "elasticsearch.pathToCaCertificate");
    t.finish();
  }
};

}  // namespace

std::string_view to_string(redaction_level level) noexcept {
  switch (level) {
    case redaction_level::partial:
      return "PARTIAL";
    case redaction_level::full:
      return "FULL";
    case redaction_level::none:
      break;
  }
  return "NONE";
}

std::string_view to_string(default_checkpoint checkpoint) noexcept {
  return checkpoint == default_checkpoint::now ? "NOW" : "ZERO";
}

namespace detail {

result<connector_config> parse_connector_text(std::string_view raw, std::string_view origin,
                                              const env_lookup& env, path_base base) {
  diagnostics d{std::string(origin)};
  const std::string text = substitute_env(raw, env);
  auto root = parse_toml(text, d, true);
  if (!root)
    return d.take_error();
  connector_config cfg;
  cfg.origin = std::string(origin);
  reader r{d, std::move(base), env};
  auto top = root_table(d, *root);
  cfg.group = r.group(top);
  cfg.logging = r.logging(top);
  cfg.metrics = r.metrics(top);
  cfg.couchbase = r.couchbase_section(top);
  cfg.elasticsearch = r.elasticsearch_section(top);
  r.truststore(top);
  top.finish();
  if (d.failed())
    return d.take_error();
  cfg.warnings = d.take_warnings();
  return cfg;
}

}  // namespace detail

result<connector_config> parse_connector_config(std::string_view text, std::string_view origin,
                                                const load_options& options) {
  const auto env = detail::environment_of(options);
  return detail::parse_connector_text(
      text, origin, env,
      detail::path_base_for(env, options.base_directory, "load_options.base_directory"));
}

result<connector_config> load_connector_config(const std::filesystem::path& file,
                                               const load_options& options) {
  const auto abs = detail::absolute_path(file);
  std::string why;
  auto text = detail::read_file(abs, detail::max_config_bytes, why);
  if (!text) {
    if (!std::filesystem::exists(abs))
      return error{{"Config file not found at " + abs.string()}};
    return error{{"Cannot read config file " + abs.string() + ": " + why}};
  }
  const auto env = detail::environment_of(options);
  return detail::parse_connector_text(
      *text, abs.string(), env,
      detail::path_base_for(env, abs.parent_path(), "the config file's folder"));
}

}  // namespace cbes::config
