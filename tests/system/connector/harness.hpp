#pragma once
// What the connector's system tests share: `cbes-sandbox` (Couchbase + Elasticsearch) as a
// child process on ephemeral ports, a connector config written for it into a fresh folder,
// `cbes` and the checkpoint tools run as child processes, and reads of both sides (Elasticsearch
// over HTTP, Couchbase through libcbes) to compare them.
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "cbes/couchbase/cluster.hpp"
#include "cbes/testkit/http_client.hpp"
#include "support/eventually.hpp"
#include "support/process.hpp"
#include "support/run_coroutine.hpp"
#include "unit/couchbase/result_printer.hpp"

namespace connector_st {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

inline std::string bin(const std::string& name) {
  return std::string(CBES_BINARY_DIR) + "/bin/" + name;
}

// A fresh folder under the build tree for one test's config and files.
inline fs::path fresh_dir(const std::string& name) {
  static int counter = 0;
  auto dir = fs::path(CBES_BINARY_DIR) / "tmp" / "system" /
             (name + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  fs::remove_all(dir);
  fs::create_directories(dir / "secrets");
  return dir;
}

struct sandbox {
  cbes::test::process proc;
  std::string kv;       // 127.0.0.1:<kv port>
  std::string manager;  // 127.0.0.1:<manager port>
  std::string es;       // http://127.0.0.1:<port>
  std::string control;  // http://127.0.0.1:<port> with "--control-port=0" in `extra`, else empty
  std::string kv_tls;   // 127.0.0.1:<kv tls port> with --kv-tls-cert, else empty

  explicit sandbox(int sample, std::vector<std::string> extra = {})
      : proc([&] {
          std::vector<std::string> a{
              bin("cbes-sandbox"), "--services=couchbase,elasticsearch",
              "--kv-port=0",       "--mgmt-port=0",
              "--es-port=0",       "--load-sample=" + std::to_string(sample)};
          a.insert(a.end(), extra.begin(), extra.end());
          return a;
        }()) {
    auto cb =
        proc.wait_for(std::regex("ready: couchbase couchbase://([0-9.]+:[0-9]+) "
                                 "http://([0-9.]+:[0-9]+)"));
    REQUIRE(cb);
    kv = (*cb)[1];
    manager = (*cb)[2];
    std::smatch tls;
    if (std::string rest = cb->suffix();
        std::regex_search(rest, tls, std::regex("couchbases://([0-9.]+:[0-9]+)")))
      kv_tls = tls[1];
    auto e = proc.wait_for(std::regex("ready: elasticsearch (https?://[0-9.]+:[0-9]+)"));
    REQUIRE(e);
    es = (*e)[1];
    for (const auto& a : extra)
      if (a.rfind("--control-port", 0) == 0) {
        auto c = proc.wait_for(std::regex("ready: control (http://[0-9.]+:[0-9]+)"));
        REQUIRE(c);
        control = (*c)[1];
      }
  }

  // POSTs a fault to the control API (needs "--control-port=0"); its JSON answer.
  std::string inject(const std::string& action) const {
    auto r = cbes::testkit::http_request(control, "POST", action);
    REQUIRE(r);
    INFO(action << " → " << r->status << " " << r->body);
    REQUIRE(r->status == 200);
    return r->body;
  }

  // Live documents in an index after a refresh (0 when it does not exist).
  std::size_t count(const std::string& index) const {
    cbes::testkit::http_request(es, "POST", "/" + index + "/_refresh");
    auto r = cbes::testkit::http_request(es, "GET", "/" + index + "/_count");
    if (!r || r->status != 200)
      return 0;
    std::smatch m;
    if (std::regex_search(r->body, m, std::regex("\"count\":([0-9]+)")))
      return std::stoul(m[1]);
    return 0;
  }

  // The _source of a document, nullopt when absent.
  std::optional<std::string> document(const std::string& index, const std::string& id) const {
    auto r = cbes::testkit::http_request(es, "GET", "/" + index + "/_doc/" + id);
    if (!r || r->status != 200)
      return std::nullopt;
    return r->body;
  }
};

struct config_options {
  std::string group = "st-group";
  int member = 1;
  int total = 1;
  std::string couchbase_password = "password";
  std::string bucket = "default";
  std::string es_host;         // empty: the sandbox's
  std::string couchbase_host;  // host:port of a KV service; empty: the sandbox's
  // TLS to both: the sandbox's TLS KV port and `ca_file` as pathToCaCertificate of both.
  std::string ca_file;
  std::string es_ca_file;  // Elasticsearch's, when it differs from ca_file
  std::string extra;       // appended TOML
};

// Writes config/default-connector.toml and its secrets for `sb` into `dir`; returns the path.
inline fs::path write_config(const fs::path& dir, const sandbox& sb, const config_options& o) {
  std::ofstream(dir / "secrets" / "couchbase-password.toml")
      << "password = '" << o.couchbase_password << "'\n";
  std::ofstream(dir / "secrets" / "elasticsearch-password.toml") << "password = ''\n";
  const auto path = dir / ("connector-" + std::to_string(o.member) + ".toml");
  std::ofstream f(path);
  f << "[group]\nname = '" << o.group << "'\n"
    << "[group.static]\nmemberNumber = " << o.member << "\ntotalMembers = " << o.total << "\n"
    << "[metrics]\nhttpPort = 0\nlogInterval = '0'\n"
    << "[couchbase]\nhosts = ['"
    << (!o.couchbase_host.empty() ? o.couchbase_host
        : o.ca_file.empty()       ? sb.kv
                                  : sb.kv_tls)
    << "=kv']\n"
    << "bucket = '" << o.bucket << "'\n"
    << (o.ca_file.empty() ? ""
                          : "secureConnection = true\npathToCaCertificate = '" + o.ca_file + "'\n")
    << "username = 'Administrator'\npathToPassword = 'secrets/couchbase-password.toml'\n"
    << "[elasticsearch]\nhosts = ['" << (o.es_host.empty() ? sb.es : o.es_host) << "']\n"
    << "pathToPassword = 'secrets/elasticsearch-password.toml'\n"
    << (o.ca_file.empty() ? ""
                          : "secureConnection = true\npathToCaCertificate = '" +
                                (o.es_ca_file.empty() ? o.ca_file : o.es_ca_file) + "'\n")
    << "[elasticsearch.bulkRequestLimits]\nactions = 500\n"
    << "[elasticsearch.docStructure]\nmetadataFieldName = 'meta'\n"
    << "[[elasticsearch.type]]\nprefix = 'airline_'\nindex = 'airlines'\n"
    << "[[elasticsearch.type]]\nprefix = ''\nindex = 'etc'\n"
    << "[elasticsearch.rejectionLog]\nindex = 'cbes-rejects'\n"
    << o.extra;
  return path;
}

// `cbes --config <path>` as a child process.
inline std::unique_ptr<cbes::test::process> start_cbes(const fs::path& config) {
  return std::make_unique<cbes::test::process>(
      std::vector<std::string>{bin("cbes"), "--config", config.string()});
}

// A tool run to its end: exit code (nullopt when `limit` passed), stdout and stderr.
using cbes::test::outcome;

inline outcome run_tool(std::vector<std::string> args, std::chrono::milliseconds limit = 90s) {
  return cbes::test::run_to_end(std::move(args), limit);
}

using cbes::test::eventually;

// A libcbes client of the sandbox's bucket, for writes and checkpoint reads.
struct couchbase_client {
  boost::asio::io_context io;
  std::shared_ptr<cbes::couchbase::cluster> cluster;

  explicit couchbase_client(const sandbox& sb, std::string bucket = "default") {
    cbes::couchbase::cluster_options o;
    o.seeds = sb.kv + "=kv";
    o.username = "Administrator";
    o.password = "password";
    o.bucket = std::move(bucket);
    auto c = cbes::test::run(io, cbes::couchbase::cluster::connect(io.get_executor(), o));
    REQUIRE(c.has_value());
    cluster = *c;
  }
  ~couchbase_client() {
    if (cluster)
      cluster->close();
  }
  template <class Awaitable>
  auto run(Awaitable a) {
    return cbes::test::run(io, std::move(a));
  }
};

}  // namespace connector_st
