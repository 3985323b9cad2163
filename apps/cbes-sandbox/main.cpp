// cbes-sandbox: runs the testkit fakes as local servers for the quickstart and for stock
// clients, e.g. `cbes-sandbox --services=consul --consul-port=0`. Prints one line per service
// ("ready: consul http://127.0.0.1:8500") once it accepts connections, then runs until
// SIGINT/SIGTERM. With --control-port it also serves the control API (control.hpp) for fault
// injection from other processes ("ready: control http://127.0.0.1:<port>").
// Exit codes: 0 clean stop, 1 a service could not start, 2 bad arguments.
#include <boost/program_options.hpp>

#include <malloc.h>

#include <csignal>
#include <cstdio>
#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "cbes/testkit/consul_agent.hpp"
#include "cbes/testkit/couchbase_cluster.hpp"
#include "cbes/testkit/elasticsearch.hpp"
#include "control.hpp"
#include "tool_options.hpp"

namespace po = boost::program_options;

namespace {

// One running fake; destroying it stops it.
struct running_service {
  virtual ~running_service() = default;
  virtual std::string url() const = 0;
};

// A service the sandbox can run. Later fakes (couchbase, elasticsearch) add an entry here
// with their own --<name>-* options.
struct service_kind {
  std::string name;
  std::function<void(po::options_description&)> add_options;
  std::function<std::unique_ptr<running_service>(const po::variables_map&)> start;
};

struct running_consul : running_service {
  explicit running_consul(cbes::testkit::consul_agent_options o) : agent(std::move(o)) {
    agent.start();
  }
  std::string url() const override { return agent.url(); }
  cbes::testkit::consul_agent agent;
};

// `ready: couchbase couchbase://127.0.0.1:<kv port> http://127.0.0.1:<mgmt port>`, then
// ` couchbases://127.0.0.1:<kv tls port>` with --kv-tls-cert.
struct running_couchbase : running_service {
  running_couchbase(cbes::testkit::couchbase_cluster_options o, std::size_t sample,
                    std::size_t documents, std::size_t document_size, std::string b)
      : cluster(std::move(o)) {
    cluster.start();
    if (sample > 0)
      cluster.load_sample(sample, b);
    if (documents > 0)
      cluster.load_documents(documents, document_size, b);
  }
  std::string url() const override {
    std::string out = cluster.connection_string() + " " + cluster.mgmt_url();
    if (auto tls = cluster.kv_tls_port(0))
      out += " couchbases://127.0.0.1:" + std::to_string(tls);
    return out;
  }
  cbes::testkit::couchbase_cluster cluster;
};

service_kind couchbase_service() {
  return {
      "couchbase",
      [](po::options_description& d) {
        d.add_options()("kv-port", po::value<int>()->default_value(11210),
                        "Couchbase KV port of node 0 on 127.0.0.1 (0 = ephemeral)")(
            "mgmt-port", po::value<int>()->default_value(8091),
            "Couchbase manager HTTP port of node 0 (0 = ephemeral)")(
            "nodes", po::value<int>()->default_value(1), "Couchbase data nodes")(
            "bucket", po::value<std::string>()->default_value("default"), "bucket name")(
            "vbuckets", po::value<int>()->default_value(1024), "vbuckets (1024 or 64)")(
            "replicas", po::value<int>()->default_value(0), "replicas (0-3)")(
            "username", po::value<std::string>()->default_value("Administrator"), "Couchbase user")(
            "password", po::value<std::string>()->default_value("password"), "Couchbase password")(
            "reader-without-dcp", po::value<std::string>()->default_value(""),
            "also a user NAME:PASSWORD who may read documents but lacks the Data DCP Reader "
            "role (DCP_OPEN answers Eaccess), for trying a connector's error")(
            "load-sample", po::value<int>()->default_value(0),
            "load N travel-sample-like documents")(
            "load-documents", po::value<int>()->default_value(0),
            "load N JSON documents doc_0 … doc_<N-1> of --document-size bytes (benchmarks)")(
            "document-size", po::value<int>()->default_value(1024),
            "size in bytes of each --load-documents document (200 to 1048576)")(
            "kv-tls-cert", po::value<std::string>()->default_value(""),
            "PEM certificate chain: also serve KV over TLS")(
            "kv-tls-key", po::value<std::string>()->default_value(""), "PEM private key")(
            "kv-tls-client-ca", po::value<std::string>()->default_value(""),
            "PEM CA: the TLS KV port also accepts client certificates it signed, as the user "
            "the certificate's CN names (no SASL; an unknown CN is disconnected)");
      },
      [](const po::variables_map& vm) -> std::unique_ptr<running_service> {
        auto in_range = [&vm](const char* name, int lo, int hi) {
          int v = vm[name].as<int>();
          if (v < lo || v > hi)
            throw po::error(std::string("--") + name + " must be between " + std::to_string(lo) +
                            " and " + std::to_string(hi) + ", got " + std::to_string(v));
          return v;
        };
        cbes::testkit::couchbase_cluster_options o;
        o.kv_port = static_cast<std::uint16_t>(in_range("kv-port", 0, 65535));
        o.mgmt_port = static_cast<std::uint16_t>(in_range("mgmt-port", 0, 65535));
        o.nodes = static_cast<std::size_t>(in_range("nodes", 1, 16));
        int vbs = in_range("vbuckets", 1, 1024);
        if (vbs & (vbs - 1))
          throw po::error("--vbuckets must be a power of two (1024 or 64)");
        o.buckets = {{vm["bucket"].as<std::string>(), static_cast<std::uint16_t>(vbs),
                      in_range("replicas", 0, 3)}};
        o.users = {{vm["username"].as<std::string>(), vm["password"].as<std::string>(), {}}};
        if (const auto& r = vm["reader-without-dcp"].as<std::string>(); !r.empty()) {
          const auto colon = r.find(':');
          if (colon == std::string::npos || colon == 0)
            throw po::error("--reader-without-dcp takes NAME:PASSWORD, got '" + r + "'");
          o.users.push_back({r.substr(0, colon), r.substr(colon + 1), {}, false});
        }
        o.tls_cert_file = vm["kv-tls-cert"].as<std::string>();
        o.tls_key_file = vm["kv-tls-key"].as<std::string>();
        o.tls_client_ca_file = vm["kv-tls-client-ca"].as<std::string>();
        if (!o.tls_client_ca_file.empty() && o.tls_cert_file.empty())
          throw po::error("--kv-tls-client-ca needs --kv-tls-cert and --kv-tls-key");
        auto sample = static_cast<std::size_t>(in_range("load-sample", 0, 10000000));
        auto documents = static_cast<std::size_t>(in_range("load-documents", 0, 100000000));
        auto document_size = static_cast<std::size_t>(in_range("document-size", 200, 1 << 20));
        return std::make_unique<running_couchbase>(std::move(o), sample, documents, document_size,
                                                   vm["bucket"].as<std::string>());
      }};
}

// `ready: elasticsearch http://127.0.0.1:<port>`.
struct running_elasticsearch : running_service {
  explicit running_elasticsearch(cbes::testkit::elasticsearch_options o) : es(std::move(o)) {
    es.start();
  }
  std::string url() const override { return es.url(); }
  cbes::testkit::elasticsearch es;
};

service_kind elasticsearch_service() {
  return {"elasticsearch",
          [](po::options_description& d) {
            d.add_options()("es-port", po::value<int>()->default_value(9200),
                            "Elasticsearch HTTP port on 127.0.0.1 (0 = ephemeral)")(
                "es-count-only", po::bool_switch(),
                "acknowledge bulk items without storing them (benchmarks; searches find "
                "nothing)")("es-flavor", po::value<std::string>()->default_value("elasticsearch-8"),
                            "elasticsearch-8, elasticsearch-7 or opensearch-2")(
                "es-username", po::value<std::string>()->default_value(""),
                "require basic auth with this user")("es-password",
                                                     po::value<std::string>()->default_value(""),
                                                     "password for --es-username")(
                "es-tls-cert", po::value<std::string>()->default_value(""),
                "PEM certificate chain: serve HTTPS")(
                "es-tls-key", po::value<std::string>()->default_value(""), "PEM private key")(
                "es-tls-client-ca", po::value<std::string>()->default_value(""),
                "PEM CA: require a client certificate it signed (mutual TLS); such requests "
                "need no basic auth");
          },
          [](const po::variables_map& vm) -> std::unique_ptr<running_service> {
            int port = vm["es-port"].as<int>();
            if (port < 0 || port > 65535)
              throw po::error("--es-port must be between 0 and 65535, got " + std::to_string(port));
            auto flavor =
                cbes::testkit::parse_elasticsearch_flavor(vm["es-flavor"].as<std::string>());
            if (!flavor)
              throw po::error(
                  "--es-flavor must be elasticsearch-8, elasticsearch-7 or "
                  "opensearch-2, got '" +
                  vm["es-flavor"].as<std::string>() + "'");
            cbes::testkit::elasticsearch_options o;
            o.port = static_cast<std::uint16_t>(port);
            o.flavor = *flavor;
            o.count_only = vm["es-count-only"].as<bool>();
            o.username = vm["es-username"].as<std::string>();
            o.password = vm["es-password"].as<std::string>();
            if (o.username.empty() != o.password.empty())
              throw po::error("--es-username and --es-password go together");
            o.tls_cert_file = vm["es-tls-cert"].as<std::string>();
            o.tls_key_file = vm["es-tls-key"].as<std::string>();
            if (o.tls_cert_file.empty() != o.tls_key_file.empty())
              throw po::error("--es-tls-cert and --es-tls-key go together");
            o.tls_client_ca_file = vm["es-tls-client-ca"].as<std::string>();
            if (!o.tls_client_ca_file.empty() && o.tls_cert_file.empty())
              throw po::error("--es-tls-client-ca needs --es-tls-cert and --es-tls-key");
            return std::make_unique<running_elasticsearch>(std::move(o));
          }};
}

std::vector<service_kind> service_kinds() {
  return {
      {"consul",
       [](po::options_description& d) {
         d.add_options()("consul-port", po::value<int>()->default_value(8500),
                         "Consul HTTP port on 127.0.0.1 (0 = ephemeral)")(
             "consul-acl-token", po::value<std::string>()->default_value(""),
             "enforce ACLs with this master token")(
             "consul-node-name", po::value<std::string>()->default_value("cbes-sandbox"),
             "Consul node name")("consul-tls-cert", po::value<std::string>()->default_value(""),
                                 "PEM certificate chain: serve HTTPS")(
             "consul-tls-key", po::value<std::string>()->default_value(""), "PEM private key");
       },
       [](const po::variables_map& vm) -> std::unique_ptr<running_service> {
         int port = vm["consul-port"].as<int>();
         if (port < 0 || port > 65535)
           throw po::error("--consul-port must be between 0 and 65535, got " +
                           std::to_string(port));
         cbes::testkit::consul_agent_options o;
         o.port = static_cast<std::uint16_t>(port);
         o.acl_master_token = vm["consul-acl-token"].as<std::string>();
         o.node_name = vm["consul-node-name"].as<std::string>();
         o.tls_cert_file = vm["consul-tls-cert"].as<std::string>();
         o.tls_key_file = vm["consul-tls-key"].as<std::string>();
         return std::make_unique<running_consul>(std::move(o));
       }},
      couchbase_service(),
      elasticsearch_service(),
  };
}

std::string known_names(const std::vector<service_kind>& kinds) {
  std::string out;
  for (const auto& k : kinds)
    out += (out.empty() ? "" : ", ") + k.name;
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  // The fakes allocate and free megabyte-sized buffers all the time (bulk bodies, Snappy's
  // working memory per compressed value); glibc's default gives the top of the heap back each
  // time and faults it in again, which showed as page clearing in the benchmarks' profiles.
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  auto kinds = service_kinds();
  po::options_description desc("Usage: cbes-sandbox --services=consul[,...] [options]\nOptions");
  desc.add_options()("help,h", "show this help")("version,V", "print the version and exit")(
      "services", po::value<std::string>(),
      ("comma-separated services to run; known: " + known_names(kinds)).c_str())(
      "control-port", po::value<int>()->default_value(-1),
      "serve the fault-injection control API on this port of 127.0.0.1 (0 = ephemeral, "
      "-1 = off); GET / on it lists the actions");
  for (const auto& k : kinds)
    k.add_options(desc);

  po::variables_map vm;
  std::vector<const service_kind*> selected;
  try {
    po::store(po::command_line_parser(argc, argv).options(desc).run(), vm);
    po::notify(vm);
    if (vm.count("help")) {
      std::cout << desc << "\n";
      return 0;
    }
    if (vm.count("version")) {
      std::cout << cbes::app::version_line("cbes-sandbox") << "\n";
      return 0;
    }
    if (!vm.count("services"))
      throw po::error("--services is required");
    std::string list = vm["services"].as<std::string>();
    std::size_t start = 0;
    while (start <= list.size()) {
      auto comma = list.find(',', start);
      auto name =
          list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      if (!name.empty()) {
        const service_kind* found = nullptr;
        for (const auto& k : kinds)
          found = k.name == name ? &k : found;
        if (!found)
          throw po::error("unknown service '" + name +
                          "' in --services (known: " + known_names(kinds) + ")");
        selected.push_back(found);
      }
      if (comma == std::string::npos)
        break;
      start = comma + 1;
    }
    if (selected.empty())
      throw po::error("--services lists no service");
    if (int c = vm["control-port"].as<int>(); c < -1 || c > 65535)
      throw po::error("--control-port must be between -1 and 65535, got " + std::to_string(c));
  } catch (const po::error& e) {
    std::cerr << "cbes-sandbox: " << e.what() << " (try --services=consul, see --help)\n";
    return 2;
  }

  // Block the stop signals before any server thread starts so that only sigwait sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  std::vector<std::unique_ptr<running_service>> running;
  for (const auto* k : selected) {
    try {
      running.push_back(k->start(vm));
    } catch (const po::error& e) {
      std::cerr << "cbes-sandbox: " << e.what() << " (see --help)\n";
      return 2;
    } catch (const std::system_error& e) {
      std::cerr << "cbes-sandbox: cannot start " << k->name << ": " << e.code().message()
                << " (is another server using the port? use --" << k->name
                << "-port=0 for an ephemeral one)\n";
      return 1;
    } catch (const std::exception& e) {
      std::cerr << "cbes-sandbox: cannot start " << k->name << ": " << e.what() << "\n";
      return 1;
    }
    std::cout << "ready: " << k->name << " " << running.back()->url() << std::endl;
  }

  // Stopped before the services it acts on (declared after them, destroyed first).
  std::unique_ptr<cbes::testkit::http_server> control;
  if (int port = vm["control-port"].as<int>(); port >= 0) {
    cbes::sandbox::control_targets targets;
    targets.bucket = vm["bucket"].as<std::string>();
    for (const auto& r : running) {
      if (auto* c = dynamic_cast<running_consul*>(r.get()))
        targets.consul = &c->agent;
      if (auto* c = dynamic_cast<running_couchbase*>(r.get()))
        targets.couchbase = &c->cluster;
      if (auto* e = dynamic_cast<running_elasticsearch*>(r.get()))
        targets.elasticsearch = &e->es;
    }
    control = cbes::sandbox::make_control_server(targets, static_cast<std::uint16_t>(port));
    try {
      control->start();
    } catch (const std::system_error& e) {
      std::cerr << "cbes-sandbox: cannot start the control API: " << e.code().message()
                << " (is another server using the port? use --control-port=0)\n";
      return 1;
    }
    std::cout << "ready: control http://127.0.0.1:" << control->port() << std::endl;
  }

  int sig = 0;
  sigwait(&stop_signals, &sig);
  control.reset();
  running.clear();
  return 0;
}
