#include <catch2/catch.hpp>

#include "fixture.hpp"

using namespace cbes::config;
using namespace cbes::config::test;
using Catch::Matchers::Contains;
using namespace std::chrono_literals;

TEST_CASE("config: a minimal file gets the Java connector's code defaults for every table") {
  config_env env;
  auto r = env.parse(minimal_config);
  REQUIRE(r);
  const auto& c = *r;
  CHECK(c.warnings.empty());
  CHECK(c.origin == "test.toml");
  CHECK(c.group.name == "g");
  CHECK(c.group.membership.member_number == 1);
  CHECK(c.group.membership.total_members == 1);
  CHECK_FALSE(c.logging.log_document_lifecycle);
  CHECK(c.logging.redaction == redaction_level::none);
  CHECK(c.metrics.http_port == -1);
  CHECK(c.metrics.log_interval == 1min);

  const auto& cb = c.couchbase;
  CHECK(cb.hosts == std::vector<std::string>{"127.0.0.1"});
  CHECK(cb.network == "auto");
  CHECK(cb.bucket == "default");
  CHECK(cb.metadata_bucket.empty());
  CHECK(cb.metadata_collection == "_default._default");
  CHECK(cb.scope.empty());
  CHECK(cb.collections.empty());
  CHECK(cb.checkpoint_default == default_checkpoint::zero);
  CHECK(cb.username.empty());
  CHECK(cb.password.reveal() == "cb-secret");
  CHECK_FALSE(cb.secure_connection);
  CHECK(cb.ca_certificate.empty());
  CHECK(cb.hostname_verification);
  CHECK_FALSE(cb.client_certificate.use);
  CHECK(cb.dcp.compression);
  CHECK(cb.dcp.flow_control_buffer == 16u * 1024 * 1024);
  CHECK(cb.dcp.persistence_polling_interval == 100ms);
  CHECK(cb.dcp.connect_timeout == 10s);
  CHECK_FALSE(cb.env.kv_timeout);
  CHECK_FALSE(cb.env.connect_timeout);
  CHECK_FALSE(cb.env.config_poll_interval);

  const auto& es = c.elasticsearch;
  CHECK(es.hosts == std::vector<std::string>{"127.0.0.1"});
  CHECK(es.username.empty());
  CHECK(es.password.reveal() == "es-secret");
  CHECK_FALSE(es.secure_connection);
  CHECK_FALSE(es.elastic_cloud);
  CHECK(es.aws_region.empty());
  const auto& s = es.sink;
  CHECK(s.limits.actions == 1000);
  CHECK(s.limits.bytes == 10u * 1024 * 1024);
  CHECK(s.limits.timeout == 1min);
  CHECK(s.limits.concurrent_requests == 2);
  CHECK(s.doc_structure.metadata_field_name.empty());
  CHECK_FALSE(s.doc_structure.document_content_at_top_level);
  CHECK_FALSE(s.doc_structure.wrap_counters);
  CHECK(s.defaults.index.empty());
  CHECK(s.defaults.pipeline.empty());
  CHECK_FALSE(s.defaults.ignore);
  CHECK_FALSE(s.defaults.ignore_deletes);
  CHECK_FALSE(s.defaults.match_on_qualified_key);
  REQUIRE(s.types.size() == 1);
  CHECK(s.types[0].prefix == std::optional<std::string>(""));
  CHECK(s.types[0].index == std::optional<std::string>("etc"));
  CHECK_FALSE(s.types[0].regex);
  CHECK_FALSE(s.types[0].ignore);
  CHECK(s.rejection_log.index.empty());
}

TEST_CASE("config: every key of every table is read into its field") {
  config_env env;
  env.dir.write("ca.pem", "not checked here");
  auto r = env.parse(R"([group]
name = 'grp'
[group.static]
memberNumber = 2
totalMembers = 3
[logging]
logDocumentLifecycle = true
redactionLevel = 'partial'
[metrics]
httpPort = 31415
logInterval = '30s'
[couchbase]
hosts = ['cb1', 'cb2:8091', 'cb3:11210=kv']
network = 'external'
bucket = 'travel-sample'
metadataBucket = 'meta'
metadataCollection = 'cbes.checkpoints'
collections = ['inventory.airline', 'inventory.route']
defaultCheckpoint = 'NOW'
username = 'Administrator'
pathToPassword = 'cb.toml'
secureConnection = true
pathToCaCertificate = 'ca.pem'
hostnameVerification = false
[couchbase.dcp]
compression = false
flowControlBuffer = '32mb'
connectTimeout = '3s'
[elasticsearch]
hosts = ['https://es1:9201', 'es2']
username = 'elastic'
pathToPassword = 'es.toml'
secureConnection = true
pathToCaCertificate = 'ca.pem'
[elasticsearch.bulkRequestLimits]
actions = 50
bytes = '1mb'
timeout = '10s'
concurrentRequests = 4
[elasticsearch.docStructure]
metadataFieldName = 'meta'
documentContentAtTopLevel = true
wrapCounters = true
[elasticsearch.typeDefaults]
index = 'dflt'
pipeline = 'p'
ignore = false
ignoreDeletes = true
matchOnQualifiedKey = true
[[elasticsearch.type]]
prefix = 'route_'
routing = '/airlineid'
pipeline = ''
[[elasticsearch.type]]
regex = '(?<index>.+?)::.*'
ignore = false
[elasticsearch.rejectionLog]
index = 'rejects'
)");
  REQUIRE(r);
  const auto& c = *r;
  CHECK(c.group.name == "grp");
  CHECK(c.group.membership.member_number == 2);
  CHECK(c.group.membership.total_members == 3);
  CHECK(c.logging.log_document_lifecycle);
  CHECK(c.logging.redaction == redaction_level::partial);
  CHECK(c.metrics.http_port == 31415);
  CHECK(c.metrics.log_interval == 30s);
  CHECK(c.couchbase.hosts.size() == 3);
  CHECK(c.couchbase.network == "external");
  CHECK(c.couchbase.bucket == "travel-sample");
  CHECK(c.couchbase.metadata_bucket == "meta");
  CHECK(c.couchbase.metadata_collection == "cbes.checkpoints");
  CHECK(c.couchbase.collections ==
        std::vector<std::string>{"inventory.airline", "inventory.route"});
  CHECK(c.couchbase.checkpoint_default == default_checkpoint::now);
  CHECK(c.couchbase.username == "Administrator");
  CHECK(c.couchbase.secure_connection);
  CHECK(c.couchbase.ca_certificate == env.dir.path() / "ca.pem");
  CHECK_FALSE(c.couchbase.hostname_verification);
  CHECK_FALSE(c.couchbase.dcp.compression);
  CHECK(c.couchbase.dcp.flow_control_buffer == 32u * 1024 * 1024);
  CHECK(c.couchbase.dcp.connect_timeout == 3s);
  CHECK(c.elasticsearch.hosts == std::vector<std::string>{"https://es1:9201", "es2"});
  CHECK(c.elasticsearch.username == "elastic");
  CHECK(c.elasticsearch.secure_connection);
  const auto& s = c.elasticsearch.sink;
  CHECK(s.limits.actions == 50);
  CHECK(s.limits.bytes == 1024u * 1024);
  CHECK(s.limits.timeout == 10s);
  CHECK(s.limits.concurrent_requests == 4);
  CHECK(s.doc_structure.metadata_field_name == "meta");
  CHECK(s.doc_structure.document_content_at_top_level);
  CHECK(s.doc_structure.wrap_counters);
  CHECK(s.defaults.index == "dflt");
  CHECK(s.defaults.pipeline == "p");
  CHECK(s.defaults.ignore_deletes);
  CHECK(s.defaults.match_on_qualified_key);
  REQUIRE(s.types.size() == 2);
  CHECK(s.types[0].prefix == std::optional<std::string>("route_"));
  CHECK(s.types[0].routing == std::optional<std::string>("/airlineid"));
  CHECK(s.types[0].pipeline == std::optional<std::string>(""));  // explicit empty, not absent
  CHECK_FALSE(s.types[0].index);                                 // absent: inherits 'dflt'
  CHECK(s.types[1].regex == std::optional<std::string>("(?<index>.+?)::.*"));
  CHECK(s.types[1].ignore == std::optional<bool>(false));
  CHECK(s.rejection_log.index == "rejects");
}

TEST_CASE("config: booleans are TOML booleans or the strings \"true\"/\"false\"") {
  config_env env;
  auto r =
      env.parse(with("[logging]\nlogDocumentLifecycle = 'true'\n[couchbase.dcp]\n"
                     "compression = \"false\"\n"));
  REQUIRE(r);
  CHECK(r->logging.log_document_lifecycle);
  CHECK_FALSE(r->couchbase.dcp.compression);

  auto bad = env.parse(with("[logging]\nlogDocumentLifecycle = 'yes'\n"));
  REQUIRE_FALSE(bad);
  CHECK_THAT(problems(bad), Contains("logging.logDocumentLifecycle at test.toml:16:1: expected "
                                     "true or false, got a string 'yes'"));
  auto number = env.parse(with("[logging]\nlogDocumentLifecycle = 1\n"));
  CHECK_THAT(problems(number), Contains("expected true or false, got an integer"));
}

TEST_CASE("config: integers are TOML integers or numeric strings") {
  config_env env;
  auto r =
      env.parse(with("[metrics]\nhttpPort = '8080'\n[elasticsearch.bulkRequestLimits]\n"
                     "actions = ' 20 '\n"));
  REQUIRE(r);
  CHECK(r->metrics.http_port == 8080);
  CHECK(r->elasticsearch.sink.limits.actions == 20);

  CHECK_THAT(
      problems(env.parse(with("[metrics]\nhttpPort = '80x'\n"))),
      Contains("metrics.httpPort at test.toml:16:1: expected an integer, got a string '80x'"));
  CHECK_THAT(problems(env.parse(with("[metrics]\nhttpPort = 80.5\n"))),
             Contains("expected an integer, got a float"));
  CHECK_THAT(problems(env.parse(with("[elasticsearch.bulkRequestLimits]\nactions = 0\n"))),
             Contains("elasticsearch.bulkRequestLimits.actions at test.toml:16:1: must be between "
                      "1 and"));
}

TEST_CASE("config: durations use Go syntax and sizes need a unit") {
  config_env env;
  auto r =
      env.parse(with("[metrics]\nlogInterval = '1h30m'\n[couchbase.dcp]\n"
                     "flowControlBuffer = '512 KB'\nconnectTimeout = '1500ms'\n"));
  REQUIRE(r);
  CHECK(r->metrics.log_interval == 90min);
  CHECK(r->couchbase.dcp.flow_control_buffer == 512u * 1024);
  CHECK(r->couchbase.dcp.connect_timeout == 1500ms);

  auto zero = env.parse(with("[metrics]\nlogInterval = '0'\n"));
  REQUIRE(zero);
  CHECK(zero->metrics.log_interval == 0ms);

  auto no_unit = env.parse(with("[metrics]\nlogInterval = '15'\n"));
  CHECK_THAT(problems(no_unit), Contains("metrics.logInterval at test.toml:16:1:"));
  CHECK_THAT(problems(no_unit), Contains("15"));
  CHECK_THAT(problems(env.parse(with("[couchbase.dcp]\nflowControlBuffer = '100'\n"))),
             Contains("couchbase.dcp.flowControlBuffer at test.toml:16:1:"));
  CHECK_THAT(problems(env.parse(with("[couchbase.dcp]\nflowControlBuffer = 100\n"))),
             Contains("expected a size with a unit such as '16mb' or '512kb', got an integer"));
  CHECK_THAT(problems(env.parse(with("[couchbase.dcp]\nflowControlBuffer = '8gb'\n"))),
             Contains("must be less than 4gb"));
}

TEST_CASE("config: ${VAR} and ${VAR:default} are replaced before parsing") {
  config_env env;
  env.variables = {{"BUCKET", "travel-sample"}, {"PORT", "9090"}};
  auto r = env.parse(in_couchbase("bucket = '${BUCKET}'\nnetwork = '${NETWORK:default}'\n") +
                     "[metrics]\nhttpPort = ${PORT}\nlogInterval = '${INTERVAL:5s}'\n");
  REQUIRE(r);
  CHECK(r->couchbase.bucket == "travel-sample");
  CHECK(r->couchbase.network == "default");
  CHECK(r->metrics.http_port == 9090);
  CHECK(r->metrics.log_interval == 5s);
}

TEST_CASE("config: an unset ${VAR} without default stays verbatim and the error names it") {
  config_env env;
  auto r = env.parse(replacing("totalMembers = 1", "totalMembers = '${CBES_TOTAL_MEMBERS}'"));
  REQUIRE_FALSE(r);
  CHECK_THAT(problems(r), Contains("group.static.totalMembers at test.toml:5:1: expected an "
                                   "integer, got a string '${CBES_TOTAL_MEMBERS}'; "
                                   "'${CBES_TOTAL_MEMBERS}' was not replaced: is that "
                                   "environment variable set?"));
  auto kept = env.parse(in_couchbase("bucket = '${NOT_SET}'\n"));
  REQUIRE(kept);
  CHECK(kept->couchbase.bucket == "${NOT_SET}");
}

TEST_CASE("config: unknown keys are errors naming file, line, column and the expected items") {
  config_env env;
  auto r = env.parse(in_couchbase("  buckit = 'x'\n"));
  REQUIRE_FALSE(r);
  CHECK(r.error().problems.size() == 1);
  CHECK_THAT(problems(r), Contains("Unrecognized item 'couchbase.buckit' at test.toml:9:3; "
                                   "expected items in this context are: [secureConnection, "
                                   "hosts, network, bucket, metadataBucket"));

  auto top = env.parse(with("[elastic]\nhosts = []\n"));
  CHECK_THAT(problems(top), Contains("Unrecognized item 'elastic' at test.toml:15:1; expected "
                                     "items in this context are: [group, logging, metrics, "
                                     "couchbase, elasticsearch, truststore]"));
  // The Java connector does not check [couchbase.dcp]; cbes does, so a typo is not silently lost.
  auto dcp = env.parse(with("[couchbase.dcp]\nflowControlBufer = '1mb'\n"));
  CHECK_THAT(problems(dcp), Contains("Unrecognized item 'couchbase.dcp.flowControlBufer' at "
                                     "test.toml:16:1"));
  auto rule = env.parse(with("[[elasticsearch.type]]\nprefix = 'a'\nindx = 'b'\n"));
  CHECK_THAT(problems(rule), Contains("Unrecognized item 'elasticsearch.type #2.indx' at "
                                      "test.toml:17:1"));
}

TEST_CASE("config: wrong value types name the key, what it expects and what it got") {
  config_env env;
  CHECK_THAT(problems(env.parse(replacing("hosts = ['127.0.0.1']\npathToPassword = 'cb.toml'",
                                          "hosts = '127.0.0.1'\npathToPassword = 'cb.toml'"))),
             Contains("couchbase.hosts at test.toml:7:1: expected an array of strings, got a "
                      "string '127.0.0.1'"));
  CHECK_THAT(problems(env.parse(replacing("hosts = ['127.0.0.1']\npathToPassword = 'cb.toml'",
                                          "hosts = ['a', 2]\npathToPassword = 'cb.toml'"))),
             Contains("couchbase.hosts[1] at test.toml:7:15: expected a string, got an integer"));
  CHECK_THAT(problems(env.parse("metrics = 3\n" + std::string(minimal_config))),
             Contains("metrics at test.toml:1:1: expected a table, got an integer"));
  CHECK_THAT(problems(env.parse(in_couchbase("bucket = 7\n"))),
             Contains("couchbase.bucket at test.toml:9:1: expected a string, got an integer"));
  CHECK_THAT(problems(env.parse(with("[logging]\nredactionLevel = 'SOME'\n"))),
             Contains("expected NONE, PARTIAL or FULL, got 'SOME'"));
  CHECK_THAT(problems(env.parse(in_couchbase("defaultCheckpoint = 'LATER'\n"))),
             Contains("couchbase.defaultCheckpoint at test.toml:9:1: expected ZERO or NOW"));
}

TEST_CASE("config: numeric ranges of ports, group size and concurrency are enforced") {
  config_env env;
  CHECK(env.parse(with("[metrics]\nhttpPort = -1\n")));
  CHECK(env.parse(with("[metrics]\nhttpPort = 0\n")));
  CHECK(env.parse(with("[metrics]\nhttpPort = 65535\n")));
  CHECK_THAT(problems(env.parse(with("[metrics]\nhttpPort = 65536\n"))),
             Contains("metrics.httpPort at test.toml:16:1: must be between -1 and 65535, got "
                      "65536"));
  CHECK_THAT(problems(env.parse(with("[metrics]\nhttpPort = -2\n"))),
             Contains("must be between -1 and 65535, got -2"));

  CHECK(env.parse(with("[elasticsearch.bulkRequestLimits]\nconcurrentRequests = 16\n")));
  CHECK_THAT(
      problems(env.parse(with("[elasticsearch.bulkRequestLimits]\nconcurrentRequests = 17\n"))),
      Contains("elasticsearch.bulkRequestLimits.concurrentRequests at test.toml:16:1: must "
               "be between 1 and 16, got 17"));
  CHECK_THAT(
      problems(env.parse(with("[elasticsearch.bulkRequestLimits]\nconcurrentRequests = 0\n"))),
      Contains("must be between 1 and 16, got 0"));

  CHECK(env.parse(replacing("totalMembers = 1", "totalMembers = 1024")));
  CHECK_THAT(problems(env.parse(replacing("totalMembers = 1", "totalMembers = 1025"))),
             Contains("group.static.totalMembers at test.toml:5:1: must be between 1 and 1024, got "
                      "1025 (did you forget to set the CBES_TOTAL_MEMBERS environment variable?)"));
  CHECK_THAT(problems(env.parse(replacing("totalMembers = 1", "totalMembers = 0"))),
             Contains("must be between 1 and"));
  CHECK_THAT(problems(env.parse(replacing("memberNumber = 1", "memberNumber = 2"))),
             Contains("group.static.memberNumber at test.toml:4:1: must be between 1 and "
                      "totalMembers (1), got 2"));
  CHECK_THAT(problems(env.parse(replacing("memberNumber = 1", "memberNumber = 0"))),
             Contains("group.static.memberNumber at test.toml:4:1: must be between 1 and"));
}

TEST_CASE("config: required tables and keys are reported at the table that lacks them") {
  config_env env;
  auto no_password = env.parse(replacing("pathToPassword = 'cb.toml'\n", ""));
  CHECK_THAT(problems(no_password),
             Contains("couchbase.pathToPassword at test.toml:6:1: required key is missing"));
  auto no_hosts = env.parse(
      replacing("hosts = ['127.0.0.1']\npathToPassword = 'es.toml'", "pathToPassword = 'es.toml'"));
  CHECK_THAT(problems(no_hosts), Contains("elasticsearch.hosts at test.toml:9:1: required key"));
  auto no_types = env.parse(replacing("[[elasticsearch.type]]\nprefix = ''\nindex = 'etc'\n", ""));
  CHECK_THAT(problems(no_types),
             Contains("elasticsearch.type at test.toml:9:1: at least one [[elasticsearch.type]] "
                      "rule is required"));
  auto no_static = env.parse(replacing("[group.static]\nmemberNumber = 1\ntotalMembers = 1\n", ""));
  CHECK_THAT(problems(no_static),
             Contains("group.static at test.toml:1:1: required table [group.static] is missing"));
  auto empty = env.parse("");
  REQUIRE_FALSE(empty);
  CHECK_THAT(problems(empty), Contains("group at test.toml:1:1: required table [group]"));
  CHECK_THAT(problems(empty), Contains("couchbase at test.toml:1:1: required table [couchbase]"));
  CHECK_THAT(problems(empty),
             Contains("elasticsearch at test.toml:1:1: required table [elasticsearch]"));
}

TEST_CASE("config: every problem of the file is reported, not only the first") {
  config_env env;
  auto r =
      env.parse(with("[metrics]\nhttpPort = 70000\nlogInterval = 'soon'\n"
                     "[logging]\nredactionLevel = 'X'\n"));
  REQUIRE_FALSE(r);
  REQUIRE(r.error().problems.size() == 3);
  CHECK_THAT(r.error().problems[0], Contains("logging.redactionLevel at test.toml:19:1"));
  CHECK_THAT(r.error().problems[1], Contains("metrics.httpPort at test.toml:16:1"));
  CHECK_THAT(r.error().problems[2], Contains("metrics.logInterval at test.toml:17:1"));
}

TEST_CASE("config: a TOML syntax error names its line and column") {
  config_env env;
  auto r = env.parse("[group]\nname = 'g'\nbroken line\n");
  REQUIRE_FALSE(r);
  CHECK_THAT(problems(r), Contains("test.toml:3:"));
  CHECK_THAT(problems(r), Contains("TOML syntax error"));
}

TEST_CASE("config: text that is not UTF-8 is refused with its line and column") {
  config_env env;
  // An invalid byte inside a literal string made toml11 read past its buffer (fuzz/config.cpp).
  auto r = env.parse("[group]\nname = 'g'\n[couchbase]\nhosts = ['127.0.0.\xff\xff']\n");
  REQUIRE_FALSE(r);
  CHECK_THAT(problems(r), Contains("test.toml:4:19: not UTF-8 (TOML files must be UTF-8 text)"));
  // Well-formed UTF-8 passes the check (whatever else the config lacks).
  auto utf8 = env.parse(
      "[group]\nname = 'gr\xc3\xbc"
      "\xc3\x9f"
      "e'\n");
  if (!utf8)
    CHECK(problems(utf8).find("not UTF-8") == std::string::npos);
}

TEST_CASE("config: http:// with secureConnection, or https:// without, is refused per host") {
  config_env env;
  auto plain = env.parse(replacing("hosts = ['127.0.0.1']\npathToPassword = 'es.toml'",
                                   "hosts = ['es0', 'http://es1:9200']\npathToPassword = "
                                   "'es.toml'\nsecureConnection = true"));
  REQUIRE_FALSE(plain);
  CHECK_THAT(problems(plain), Contains("elasticsearch.hosts[1] at test.toml:10:17: "
                                       "'http://es1:9200': http:// conflicts with "
                                       "elasticsearch.secureConnection = true"));
  auto tls = env.parse(replacing("hosts = ['127.0.0.1']\npathToPassword = 'es.toml'",
                                 "hosts = ['https://es1']\npathToPassword = 'es.toml'"));
  CHECK_THAT(problems(tls), Contains("https:// needs elasticsearch.secureConnection = true"));
  auto ok = env.parse(replacing("hosts = ['127.0.0.1']\npathToPassword = 'es.toml'",
                                "hosts = ['https://es1']\npathToPassword = 'es.toml'\n"
                                "secureConnection = 'true'"));
  CHECK(ok);
}

TEST_CASE("config: scope and collections are mutually exclusive and collections are qualified") {
  config_env env;
  auto both = env.parse(in_couchbase("scope = 'inventory'\ncollections = ['inventory.airline']\n"));
  REQUIRE_FALSE(both);
  CHECK_THAT(problems(both), Contains("couchbase.collections at test.toml:10:1: 'scope' and "
                                      "'collections' are mutually exclusive"));
  auto scope = env.parse(in_couchbase("scope = 'inventory'\n"));
  REQUIRE(scope);
  CHECK(scope->couchbase.scope == "inventory");
  CHECK_THAT(problems(env.parse(in_couchbase("collections = ['airline']\n"))),
             Contains("expected 'scope.collection' (e.g. 'inventory.airline'), got 'airline'"));
  CHECK_THAT(
      problems(env.parse(in_couchbase("metadataCollection = 'a.b.c'\n"))),
      Contains("couchbase.metadataCollection at test.toml:9:1: expected 'scope.collection'"));
}

TEST_CASE("config: type rule errors are reported at their own [[elasticsearch.type]] header") {
  config_env env;
  auto r =
      env.parse(with("[[elasticsearch.type]]\nprefix = 'a'\nregex = 'b'\n"
                     "[[elasticsearch.type]]\nprefix = 'route_'\nindex = 'r'\n"
                     "routing = '/airlineid'\n"
                     "[[elasticsearch.type]]\nregex = '(unclosed'\nindex = 'x'\n"
                     "[[elasticsearch.type]]\nprefix = 'noindex'\n"));
  REQUIRE_FALSE(r);
  REQUIRE(r.error().problems.size() == 4);
  CHECK_THAT(r.error().problems[0],
             Contains("elasticsearch.type #2 at test.toml:15:1: set exactly one of 'prefix' or "
                      "'regex', not both"));
  CHECK_THAT(r.error().problems[1],
             Contains("elasticsearch.type #3 at test.toml:18:1: 'routing' requires "
                      "'ignoreDeletes = true'"));
  CHECK_THAT(r.error().problems[2],
             Contains("elasticsearch.type #4 at test.toml:22:1: invalid regex '(unclosed'"));
  CHECK_THAT(r.error().problems[3],
             Contains("elasticsearch.type #5 at test.toml:25:1: needs 'index'"));
  // typeDefaults fill in what a rule leaves out before the rule is checked.
  CHECK(
      env.parse(with("[elasticsearch.typeDefaults]\nindex = 'd'\n"
                     "[[elasticsearch.type]]\nprefix = 'noindex'\n")));
}

TEST_CASE("config: password files resolve against the config's folder, $CBES_HOME or absolute") {
  config_env env;
  env.dir.write("secrets/cb.toml", "password = 'relative'\n");
  auto relative = env.parse(replacing("'cb.toml'", "'secrets/cb.toml'"));
  REQUIRE(relative);
  CHECK(relative->couchbase.password.reveal() == "relative");

  scratch_dir home;
  home.write("secrets/cb.toml", "password = 'from-home'\n");
  home.write("es.toml", "password = 'x'\n");
  env.variables["CBES_HOME"] = home.path().string();
  auto from_home = env.parse(replacing("'cb.toml'", "'secrets/cb.toml'"));
  REQUIRE(from_home);
  CHECK(from_home->couchbase.password.reveal() == "from-home");
  env.variables.erase("CBES_HOME");

  const auto abs = env.dir.write("abs/pw.toml", "password = 'absolute'\n");
  auto absolute = env.parse(replacing("'cb.toml'", "'" + abs.string() + "'"));
  REQUIRE(absolute);
  CHECK(absolute->couchbase.password.reveal() == "absolute");

  // A config file's folder is the base when $CBES_HOME is unset.
  const auto file = env.dir.write("conf/cbes.toml", replacing("'cb.toml'", "'secrets/pw.toml'"));
  env.dir.write("conf/secrets/pw.toml", "password = 'beside-the-config'\n");
  env.dir.write("conf/es.toml", "password = 'es'\n");
  auto loaded = load_connector_config(file, env.options());
  REQUIRE(loaded);
  CHECK(loaded->couchbase.password.reveal() == "beside-the-config");
  CHECK(loaded->origin == file.string());
}

TEST_CASE("config: password files get ${VAR} substitution too") {
  config_env env;
  env.variables = {{"CB_PW", "from-env"}};
  env.dir.write("cb.toml", "password = '${CB_PW}'\n");
  env.dir.write("es.toml", "password = '${ES_PW:fallback}'\n");
  auto r = env.parse(minimal_config);
  REQUIRE(r);
  CHECK(r->couchbase.password.reveal() == "from-env");
  CHECK(r->elasticsearch.password.reveal() == "fallback");
}

TEST_CASE("config: a missing or malformed password file is an error that never shows its content") {
  config_env env;
  auto missing = env.parse(replacing("'cb.toml'", "'nope.toml'"));
  REQUIRE_FALSE(missing);
  CHECK_THAT(problems(missing), Contains("couchbase.pathToPassword at test.toml:8:1: cannot read "
                                         "password file '" +
                                         (env.dir.path() / "nope.toml").string() +
                                         "': the file does not exist; relative paths are resolved "
                                         "against"));

  env.dir.write("cb.toml", "password = 'hunter2-unterminated\n");
  auto syntax = env.parse(minimal_config);
  REQUIRE_FALSE(syntax);
  CHECK_THAT(problems(syntax),
             Contains("couchbase.pathToPassword at test.toml:8:1: password file"));
  CHECK_THAT(problems(syntax), Contains("content is not shown"));
  CHECK_THAT(problems(syntax), !Contains("hunter2"));

  env.dir.write("cb.toml", "pasword = 'hunter2'\n");
  auto wrong_key = env.parse(minimal_config);
  REQUIRE_FALSE(wrong_key);
  CHECK_THAT(problems(wrong_key), Contains("must hold exactly one string key, password = '...'"));
  CHECK_THAT(problems(wrong_key), !Contains("hunter2"));

  env.dir.write("cb.toml", "password = 'hunter2'\nuser = 'hunter3'\n");
  CHECK_THAT(problems(env.parse(minimal_config)), !Contains("hunter"));
  env.dir.write("cb.toml", "password = 42\n");
  CHECK_THAT(problems(env.parse(minimal_config)), Contains("must hold exactly one string key"));
}

TEST_CASE("config: a certificate path must name an existing file") {
  config_env env;
  auto r =
      env.parse(in_couchbase("secureConnection = true\npathToCaCertificate = 'missing.pem'\n"));
  REQUIRE_FALSE(r);
  CHECK_THAT(problems(r), Contains("couchbase.pathToCaCertificate at test.toml:10:1: file '" +
                                   (env.dir.path() / "missing.pem").string() + "' does not exist"));
}

TEST_CASE(
    "config: clientCertificate use = true with secureConnection reads keystore and password") {
  config_env env;
  env.dir.write("ks.p12", "x");
  env.dir.write("secrets/ks-password.toml", "password = 'keystore-secret'\n");
  const std::string cert =
      "use = true\npath = 'ks.p12'\npathToPassword = 'secrets/ks-password.toml'\n";
  std::string text(minimal_config);
  for (const std::string file : {"cb.toml", "es.toml"}) {
    const std::string line = "pathToPassword = '" + file + "'\n";
    text.replace(text.find(line), line.size(), line + "secureConnection = true\n");
  }
  auto r = env.parse(text + "[couchbase.clientCertificate]\n" + cert +
                     "[elasticsearch.clientCertificate]\n" + cert);
  REQUIRE(r);
  for (const auto* c : {&r->couchbase.client_certificate, &r->elasticsearch.client_certificate}) {
    CHECK(c->use);
    CHECK(c->path == env.dir.path() / "ks.p12");
    CHECK(c->password.reveal() == "keystore-secret");
  }
}

TEST_CASE("config: clientCertificate use = true without secureConnection is refused at use") {
  config_env env;
  env.dir.write("ks.p12", "x");
  const std::string cert = "use = true\npath = 'ks.p12'\npathToPassword = 'cb.toml'\n";
  CHECK_THAT(problems(env.parse(with("[couchbase.clientCertificate]\n" + cert))),
             Contains("couchbase.clientCertificate.use at test.toml:16:1: a client certificate is "
                      "presented in the TLS handshake: set couchbase.secureConnection = true"));
  CHECK_THAT(problems(env.parse(with("[elasticsearch.clientCertificate]\n" + cert))),
             Contains("elasticsearch.clientCertificate.use at test.toml:16:1: a client "
                      "certificate is presented in the TLS handshake: set "
                      "elasticsearch.secureConnection = true"));
}

TEST_CASE("config: clientCertificate use = true names a missing keystore or password file") {
  config_env env;
  const auto secure = replacing("pathToPassword = 'es.toml'\n",
                                "pathToPassword = 'es.toml'\nsecureConnection = true\n");
  auto r = env.parse(secure +
                     "[elasticsearch.clientCertificate]\nuse = true\npath = 'missing.p12'\n"
                     "pathToPassword = 'missing-password.toml'\n");
  REQUIRE_FALSE(r);
  CHECK_THAT(problems(r),
             Contains("elasticsearch.clientCertificate.path at test.toml:18:1: file '" +
                      (env.dir.path() / "missing.p12").string() + "' does not exist"));
  CHECK_THAT(problems(r), Contains("elasticsearch.clientCertificate.pathToPassword at "
                                   "test.toml:19:1: cannot read password file '" +
                                   (env.dir.path() / "missing-password.toml").string() + "'"));
  // use = false: the Java example's placeholder paths need not exist.
  CHECK(
      env.parse(with("[couchbase.clientCertificate]\nuse = false\npath = 'missing.p12'\n"
                     "pathToPassword = 'missing-password.toml'\n")));
}

TEST_CASE("config: settings that cannot work together are refused rather than ignored") {
  config_env env;
  env.dir.write("ks.p12", "x");
  CHECK(
      env.parse(with("[couchbase.clientCertificate]\nuse = false\npath = 'ks.p12'\n"
                     "pathToPassword = 'cb.toml'\n")));
  CHECK_THAT(problems(env.parse(with("[elasticsearch.clientCertificate]\nuse = false\n"))),
             Contains("elasticsearch.clientCertificate.path at test.toml:15:1: required key"));
  CHECK_THAT(problems(env.parse(with("[elasticsearch.aws]\nregion = 'us-east-1'\n"))),
             Contains("elasticsearch.aws.region at test.toml:16:1: Amazon OpenSearch Service "
                      "needs elasticsearch.secureConnection = true"));
  CHECK_THAT(problems(env.parse(with("[elasticsearch.elasticCloud]\nenabled = true\n"))),
             Contains("Elastic Cloud needs elasticsearch.secureConnection = true"));
}

TEST_CASE("config: [couchbase.env] maps the SDK settings cbes has and warns about the rest") {
  config_env env;
  auto r =
      env.parse(with("[couchbase.env]\ntimeout.kvTimeout = '2.5s'\n"
                     "timeout.connectTimeout = '7s'\n[couchbase.env.io]\n"
                     "configPollInterval = '1s'\nnumKvConnections = 4\n"));
  REQUIRE(r);
  CHECK(r->couchbase.env.kv_timeout == std::optional(2500ms));
  CHECK(r->couchbase.env.connect_timeout == std::optional<std::chrono::milliseconds>(7s));
  CHECK(r->couchbase.env.config_poll_interval == std::optional<std::chrono::milliseconds>(1s));
  REQUIRE(r->warnings.size() == 1);
  CHECK_THAT(r->warnings[0], Contains("couchbase.env.io.numKvConnections at test.toml:20:1: a "
                                      "Java SDK setting cbes has no equivalent for; ignored"));
  CHECK_THAT(problems(env.parse(with("[couchbase.env]\ntimeout.kvTimeout = 'fast'\n"))),
             Contains("couchbase.env.timeout.kvTimeout at test.toml:16:"));
}

TEST_CASE("config: deprecated and unused keys are accepted with a warning") {
  config_env env;
  auto r =
      env.parse(with("[elasticsearch.typeDefaults]\ntypeName = 'doc'\n"
                     "[elasticsearch.rejectionLog]\nindex = 'rej'\ntypeName = 'doc'\n"
                     "[couchbase.dcp]\npersistencePollingInterval = '50ms'\n"
                     "[truststore]\npath = 'ts.jks'\npathToPassword = 'x.toml'\n"));
  REQUIRE(r);
  REQUIRE(r->warnings.size() == 4);
  // Table by table in the order the loader reads them: couchbase, elasticsearch, truststore.
  CHECK_THAT(r->warnings[0],
             Contains("couchbase.dcp.persistencePollingInterval at test.toml:21:1"));
  CHECK_THAT(r->warnings[1], Contains("elasticsearch.typeDefaults.typeName at test.toml:16:1: "
                                      "deprecated"));
  CHECK_THAT(r->warnings[2], Contains("elasticsearch.rejectionLog.typeName at test.toml:19:1"));
  CHECK_THAT(r->warnings[3], Contains("truststore.path at test.toml:23:1: [truststore] is "
                                      "deprecated"));
  CHECK(r->couchbase.dcp.persistence_polling_interval == 50ms);
  // The Java example's placeholder path means "no truststore": nothing to warn about.
  auto placeholder = env.parse(with("[truststore]\npath = 'path/to/truststore'\n"));
  REQUIRE(placeholder);
  CHECK(placeholder->warnings.empty());
}

TEST_CASE("config: a missing config file is reported with its absolute path") {
  config_env env;
  auto r = load_connector_config(env.dir.path() / "none.toml", env.options());
  REQUIRE_FALSE(r);
  CHECK(problems(r) == "Config file not found at " + (env.dir.path() / "none.toml").string());
}

TEST_CASE("config: the example connector config and its password files load") {
  load_options o;
  o.environment = map_environment({});
  auto r = load_connector_config(CBES_SOURCE_DIR "/examples/connector/default-connector.toml", o);
  REQUIRE(r);
  CHECK(r->warnings.empty());
  CHECK(r->group.name == "example-group");
  CHECK(r->metrics.http_port == 31415);
  CHECK(r->couchbase.bucket == "default");
  CHECK(r->couchbase.username == "Administrator");
  CHECK(r->couchbase.password.reveal() == "password");
  CHECK(r->elasticsearch.hosts == std::vector<std::string>{"127.0.0.1"});
  CHECK(r->elasticsearch.sink.types.size() == 8);
  CHECK(r->elasticsearch.sink.doc_structure.metadata_field_name == "meta");
  CHECK(r->elasticsearch.sink.rejection_log.index == "cbes-rejects");
  CHECK(cbes::sink::validate(r->elasticsearch.sink) == std::nullopt);
}

TEST_CASE("config: a malformed host is reported at its element of `hosts`") {
  config_env env;
  auto es = env.parse(replacing("hosts = ['127.0.0.1']\npathToPassword = 'es.toml'",
                                "hosts = ['es1', 'es2:99999']\npathToPassword = 'es.toml'"));
  REQUIRE_FALSE(es);
  CHECK_THAT(problems(es), Contains("elasticsearch.hosts[1] at test.toml:10:17: 'es2:99999': "));
  auto cb = env.parse(replacing("hosts = ['127.0.0.1']\npathToPassword = 'cb.toml'",
                                "hosts = ['cb1:notaport']\npathToPassword = 'cb.toml'"));
  REQUIRE_FALSE(cb);
  CHECK_THAT(problems(cb), Contains("couchbase.hosts[0] at test.toml:7:10: "));
  CHECK_THAT(problems(cb), Contains("cb1:notaport"));
  auto empty = env.parse(replacing("hosts = ['127.0.0.1']\npathToPassword = 'cb.toml'",
                                   "hosts = []\npathToPassword = 'cb.toml'"));
  CHECK_THAT(problems(empty),
             Contains("couchbase.hosts at test.toml:7:1: must name at least one host"));
}

TEST_CASE("config: [elasticsearch.aws] region is Amazon OpenSearch Service: TLS and one host") {
  config_env env;
  const auto secure = replacing("pathToPassword = 'es.toml'\n",
                                "pathToPassword = 'es.toml'\nsecureConnection = true\n");
  auto ok = env.parse(secure + "[elasticsearch.aws]\nregion = 'eu-west-1'\n");
  REQUIRE(ok);
  CHECK(ok->elasticsearch.aws_region == "eu-west-1");
  auto two = env.parse(replacing("hosts = ['127.0.0.1']\npathToPassword = 'es.toml'\n",
                                 "hosts = ['a.es.amazonaws.com', 'b.es.amazonaws.com']\n"
                                 "pathToPassword = 'es.toml'\nsecureConnection = true\n") +
                       "[elasticsearch.aws]\nregion = 'eu-west-1'\n");
  CHECK_THAT(problems(two), Contains("takes exactly one elasticsearch.hosts entry (the domain "
                                     "endpoint), got 2"));
}
