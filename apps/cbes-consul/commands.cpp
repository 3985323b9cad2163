#include "commands.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <system_error>

#include <unistd.h>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <boost/program_options.hpp>

#include "cbes/checkpoint/backup.hpp"
#include "cbes/checkpoint/couchbase_store.hpp"
#include "cbes/checkpoint/operations.hpp"
#include "cbes/config/connector_config.hpp"
#include "cbes/config/conversions.hpp"
#include "cbes/couchbase/cluster.hpp"
#include "cbes/group/layout.hpp"
#include "cbes/group/plan.hpp"
#include "cbes/group/rpc.hpp"
#include "cbes/util/go_duration.hpp"
#include "consul/client.hpp"
#include "dashboard.hpp"
#include "tool_options.hpp"

namespace asio = boost::asio;
namespace po = boost::program_options;
namespace fs = std::filesystem;
namespace json = boost::json;

namespace cbes::consul_cli {

namespace {

constexpr const char* tool = "cbes-consul";

struct subcommand_spec {
  std::string name;
  std::string summary;
  bool group = false;
  const char* input = nullptr;   // help of -i/--input, when the command takes one
  const char* output = nullptr;  // help of -o/--output
  bool pause = false;            // takes the hidden pause timing options
  bool json = false;
  bool run = false;    // `run`: --service-id, the rebalance timings
  bool serve = false;  // `status`: --serve
};

const std::vector<subcommand_spec>& specs() {
  static const std::vector<subcommand_spec> s{
      {"run",
       "Run a worker of the group: it joins, campaigns for the leadership and streams the "
       "vbuckets it is granted.",
       true, nullptr, nullptr, false, false, true},
      {"configure", "Validate a connector config file and store it as the group's config.", false,
       "the connector config file (TOML); its [group] name names the group"},
      {"get-config", "Write the group's config, as stored in Consul, to a file.", true, nullptr,
       "the file to write (atomically)"},
      {"groups", "List the configured groups, one per line."},
      {"pause", "Pause the group and wait until none of its workers streams.", true, nullptr,
       nullptr, true},
      {"resume", "Resume a paused group.", true},
      {"status",
       "Show the group's leader, whether it is paused, and what each worker streams (--serve: "
       "as a live web page).",
       true, nullptr, nullptr, false, true, false, true},
      {"checkpoint-clear",
       "Delete the group's checkpoints (pausing it meanwhile); the next start begins at "
       "defaultCheckpoint.",
       true, nullptr, nullptr, true},
      {"checkpoint-catch-up",
       "Set the group's checkpoints to the bucket's current state (pausing it meanwhile).", true,
       nullptr, nullptr, true},
      {"checkpoint-backup", "Write the group's checkpoints to a JSON file (without pausing).", true,
       nullptr, "the JSON file to write (atomically)"},
      {"checkpoint-restore",
       "Replace the group's checkpoints with those of a backup file (pausing it meanwhile).", true,
       "a file written by checkpoint-backup", nullptr, true},
  };
  return s;
}

void top_usage(std::ostream& os) {
  os << "Usage: " << tool << " [-hV] <subcommand> [options]\n"
     << "Administers groups of Couchbase Elasticsearch connector workers coordinated through "
        "Consul.\n\nSubcommands:\n";
  for (const auto& s : specs()) {
    os << "  " << s.name << std::string(s.name.size() < 22 ? 22 - s.name.size() : 1, ' ')
       << s.summary << '\n';
  }
  os << "\nOptions:\n  -h, --help       print this help and exit\n"
     << "  -V, --version    print the version and exit\n\n"
     << "Run '" << tool << " <subcommand> --help' for a subcommand's options.\n";
}

po::options_description visible_options(const subcommand_spec& s) {
  po::options_description d("Options of " + s.name, 100, 50);
  if (s.group)
    d.add_options()("group,g", po::value<std::string>()->required()->value_name("<group>"),
                    "the connector group");
  if (s.input)
    d.add_options()("input,i", po::value<std::string>()->required()->value_name("<file>"), s.input);
  if (s.output)
    d.add_options()("output,o", po::value<std::string>()->required()->value_name("<file>"),
                    s.output);
  if (s.json)
    d.add_options()("json", po::bool_switch(), "print one JSON object instead of text");
  if (s.serve)
    d.add_options()("serve", po::value<std::string>()->value_name("<[host:]port>"),
                    "serve the group dashboard, a live web page, at http://host:port/ until "
                    "SIGINT/SIGTERM (host 127.0.0.1 when absent; port 0 = any free port)");
  if (s.run)
    d.add_options()("service-id,i", po::value<std::string>()->value_name("<id>"),
                    "this worker's Consul service id (default: the group name); needed to run "
                    "more than one worker of a group on one Consul agent")(
        "debounce", po::value<std::string>()->default_value("5s")->value_name("<duration>"),
        "quiet time after a membership change before the leader rebalances")(
        "grace-period", po::value<std::string>()->default_value("0s")->value_name("<duration>"),
        "extra wait before a departed member's vbuckets move to the others");
  d.add_options()(
      "consul-agent,a",
      po::value<std::string>()->default_value("localhost:8500")->value_name("<host[:port]>"),
      "the Consul agent (port 8500 when absent); https://host[:port] for TLS (port 8501)")(
      "consul-config,c", po::value<std::string>()->value_name("<consul.toml>"),
      "Consul settings (aclToken, pathToCaCertificate)")("help,h", "print this help and exit");
  return d;
}

enum class zero { refused, allowed };

std::optional<std::chrono::milliseconds> duration_value(const po::variables_map& vm,
                                                        const char* name, std::ostream& err,
                                                        const std::string& command,
                                                        zero z = zero::refused) {
  const auto text = vm[name].as<std::string>();
  auto d = util::parse_go_duration(text);
  if (!d || d->count() < 0 || (d->count() == 0 && z == zero::refused)) {
    err << tool << ' ' << command << ": the option '--" << name
        << (z == zero::refused ? "' needs a positive duration such as 30s, not '"
                               : "' needs a duration such as 30s or 0s, not '")
        << text << "'\n";
    return std::nullopt;
  }
  return std::chrono::duration_cast<std::chrono::milliseconds>(*d);
}

}  // namespace

const std::vector<std::string>& subcommands() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const auto& s : specs())
      n.push_back(s.name);
    return n;
  }();
  return names;
}

parse_outcome parse_command_line(int argc, const char* const* argv, std::ostream& out,
                                 std::ostream& err) {
  if (argc < 2) {
    err << tool << ": missing subcommand\n";
    top_usage(err);
    return {std::nullopt, 2};
  }
  const std::string first = argv[1];
  if (first == "-h" || first == "--help") {
    top_usage(out);
    return {std::nullopt, 0};
  }
  if (first == "-V" || first == "--version") {
    out << app::version_line(tool) << '\n';
    return {std::nullopt, 0};
  }
  const auto spec = std::find_if(specs().begin(), specs().end(),
                                 [&](const subcommand_spec& s) { return s.name == first; });
  if (spec == specs().end()) {
    if (first.starts_with("-"))
      err << tool << ": unknown option '" << first << "' (see " << tool << " --help)\n";
    else
      err << tool << ": unknown subcommand '" << first << "' (see " << tool << " --help)\n";
    return {std::nullopt, 2};
  }
  const std::string where = std::string(tool) + " " + spec->name;
  auto visible = visible_options(*spec);
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      out << "Usage: " << where << " [options]\n" << spec->summary << "\n\n" << visible << '\n';
      return {std::nullopt, 0};
    }
  }
  po::options_description all;
  all.add(visible);
  if (spec->pause) {
    po::options_description hidden;
    hidden.add_options()("pause-timeout", po::value<std::string>()->default_value("30s"))(
        "pause-interval", po::value<std::string>()->default_value("2s"));
    all.add(hidden);
  }
  if (spec->serve) {
    po::options_description hidden;
    hidden.add_options()("serve-max-age", po::value<std::string>()->default_value("1s"));
    all.add(hidden);
  }
  if (spec->run) {
    // The Java connector's fixed timings, changeable for tests (a 15 s heartbeat makes every
    // failover test last a minute).
    po::options_description hidden;
    hidden.add_options()("heartbeat-interval", po::value<std::string>()->default_value("15s"))(
        "lock-delay", po::value<std::string>()->default_value("15s"));
    all.add(hidden);
  }
  po::variables_map vm;
  try {
    std::vector<std::string> args(argv + 2, argv + argc);
    const int style =
        po::command_line_style::default_style & ~po::command_line_style::allow_guessing;
    auto parsed = po::command_line_parser(args).options(all).style(style).run();
    for (const auto& o : parsed.options)
      if (o.position_key >= 0) {
        err << where << ": unexpected argument '" << o.original_tokens.front() << "' (see " << where
            << " --help)\n";
        return {std::nullopt, 2};
      }
    po::store(parsed, vm);
    po::notify(vm);
  } catch (const po::error& e) {
    err << where << ": " << e.what() << " (see " << where << " --help)\n";
    return {std::nullopt, 2};
  }
  command_line cl;
  cl.command = spec->name;
  {
    const auto text = vm["consul-agent"].as<std::string>();
    const auto agent = parse_agent_address(text);
    if (!agent && !text.empty()) {  // empty: reported with the other empty values below
      err << where << ": the option '--consul-agent' needs host[:port] or http(s)://host[:port], "
          << "got '" << text << "' (see " << where << " --help)\n";
      return {std::nullopt, 2};
    }
    if (agent) {
      cl.agent = agent->host_port;
      cl.agent_https = agent->https;
    }
  }
  if (vm.count("consul-config"))
    cl.consul_config = vm["consul-config"].as<std::string>();
  for (const char* name : {"group", "input", "output", "consul-agent", "service-id"}) {
    if (vm.count(name) && vm[name].as<std::string>().empty()) {
      err << where << ": the option '--" << name << "' needs a non-empty value (see " << where
          << " --help)\n";
      return {std::nullopt, 2};
    }
  }
  if (vm.count("group"))
    cl.group = vm["group"].as<std::string>();
  if (vm.count("input"))
    cl.input = vm["input"].as<std::string>();
  if (vm.count("output"))
    cl.output = vm["output"].as<std::string>();
  if (vm.count("json"))
    cl.json = vm["json"].as<bool>();
  if (vm.count("serve")) {
    const auto text = vm["serve"].as<std::string>();
    cl.serve = parse_serve_address(text);
    if (!cl.serve) {
      err << where
          << ": the option '--serve' needs [HOST:]PORT such as 8080 or 127.0.0.1:8080 (HOST an "
             "IP address, PORT 0-65535), not '"
          << text << "'\n";
      return {std::nullopt, 2};
    }
    if (cl.json) {
      err << where
          << ": the options '--serve' and '--json' cannot be used together (the dashboard "
             "serves the JSON at /status.json)\n";
      return {std::nullopt, 2};
    }
  }
  if (spec->serve) {
    auto age = duration_value(vm, "serve-max-age", err, spec->name, zero::allowed);
    if (!age)
      return {std::nullopt, 2};
    cl.serve_max_age = *age;
  }
  if (spec->pause) {
    auto t = duration_value(vm, "pause-timeout", err, spec->name);
    auto i = duration_value(vm, "pause-interval", err, spec->name);
    if (!t || !i)
      return {std::nullopt, 2};
    cl.pause_timeout = *t;
    cl.pause_interval = *i;
  }
  if (spec->run) {
    if (vm.count("service-id"))
      cl.service_id = vm["service-id"].as<std::string>();
    auto h = duration_value(vm, "heartbeat-interval", err, spec->name);
    auto l = duration_value(vm, "lock-delay", err, spec->name);
    auto d = duration_value(vm, "debounce", err, spec->name);
    if (!h || !l || !d)
      return {std::nullopt, 2};
    auto g = duration_value(vm, "grace-period", err, spec->name, zero::allowed);
    if (!g)
      return {std::nullopt, 2};
    cl.heartbeat = *h;
    cl.lock_delay = *l;
    cl.debounce = *d;
    cl.grace = *g;
  }
  return {std::move(cl), 0};
}

// ---- status (pure) ----

worker_status parse_worker_status(std::string endpoint, const std::string& result_json) {
  worker_status w;
  w.endpoint = std::move(endpoint);
  boost::system::error_code ec;
  auto v = json::parse(result_json, ec);
  if (ec || !v.is_object()) {
    w.error = "worker.status answered something that is not a JSON object: " + result_json;
    return w;
  }
  const auto& o = v.as_object();
  if (const auto* m = o.if_contains("membership"); m && m->is_object()) {
    const auto& mo = m->as_object();
    const auto* n = mo.if_contains("memberNumber");
    const auto* s = mo.if_contains("clusterSize");
    if (n && s && n->is_int64() && s->is_int64()) {
      w.member = true;
      w.member_number = n->as_int64();
      w.cluster_size = s->as_int64();
    }
  }
  // A generation past INT64_MAX (a uint64 counter) is clamped rather than dropped.
  if (const auto* g = o.if_contains("generation"); g && g->is_int64())
    w.generation = g->as_int64();
  else if (g && g->is_uint64())
    w.generation = std::numeric_limits<std::int64_t>::max();
  // Kept sorted and once each, whatever order the worker listed them in; an entry that is
  // not a vbucket number (0-65535) is not one the worker can stream, so it is left out.
  if (const auto* vb = o.if_contains("vbuckets"); vb && vb->is_array()) {
    std::vector<std::uint16_t> list;
    for (const auto& e : vb->as_array())
      if (e.is_int64() && e.as_int64() >= 0 && e.as_int64() <= 0xffff)
        list.push_back(static_cast<std::uint16_t>(e.as_int64()));
    std::sort(list.begin(), list.end());
    list.erase(std::unique(list.begin(), list.end()), list.end());
    w.vbuckets = std::move(list);
  }
  if (const auto* p = o.if_contains("paused"); p && p->is_bool())
    w.paused = p->as_bool();
  if (const auto* b = o.if_contains("backlog"); b && b->is_int64())
    w.backlog = b->as_int64();
  if (const auto* n = o.if_contains("written"); n && n->is_int64())
    w.written = n->as_int64();
  return w;
}

std::optional<agent_address> parse_agent_address(std::string_view text) {
  agent_address a;
  if (text.starts_with("https://")) {
    a.https = true;
    text.remove_prefix(8);
  } else if (text.starts_with("http://")) {
    text.remove_prefix(7);
  }
  if (text.ends_with('/'))
    text.remove_suffix(1);
  std::string_view host = text;
  std::string_view port;
  if (text.starts_with('[')) {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close == 1)
      return std::nullopt;
    host = text.substr(1, close - 1);
    if (close + 1 < text.size()) {
      if (text[close + 1] != ':')
        return std::nullopt;
      port = text.substr(close + 2);
      if (port.empty())
        return std::nullopt;
    }
    if (!std::all_of(host.begin(), host.end(), [](char c) {
          return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.';
        }))
      return std::nullopt;
  } else {
    if (const auto colon = text.rfind(':'); colon != std::string_view::npos) {
      host = text.substr(0, colon);
      port = text.substr(colon + 1);
      if (port.empty())
        return std::nullopt;
    }
    if (host.empty() || !std::all_of(host.begin(), host.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
        }))
      return std::nullopt;
  }
  if (!port.empty()) {
    if (port.size() > 5 ||
        !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return std::nullopt;
    const auto number = std::stoul(std::string(port));
    if (number == 0 || number > 65535)
      return std::nullopt;
  }
  a.host_port = std::string(text);
  return a;
}

std::optional<serve_address> parse_serve_address(std::string_view text) {
  std::string_view host;
  std::string_view port = text;
  bool bracketed = false;
  if (text.starts_with('[')) {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return std::nullopt;
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
    bracketed = true;
  } else if (const auto colon = text.rfind(':'); colon != std::string_view::npos) {
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.empty() || host.find(':') != std::string_view::npos)
      return std::nullopt;  // an IPv6 address goes in brackets, as in a URL
  }
  if (port.empty() || port.size() > 5 ||
      !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  const auto number = std::stoul(std::string(port));
  if (number > 65535)
    return std::nullopt;
  serve_address a;
  a.port = static_cast<std::uint16_t>(number);
  if (host.empty() && !bracketed)
    return a;
  if (host == "localhost" && !bracketed) {
    a.host = "127.0.0.1";
    return a;
  }
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(std::string(host), ec);
  if (ec || address.is_v6() != bracketed)
    return std::nullopt;
  a.host = address.to_string();
  return a;
}

std::string status_text(const group_status& s) {
  std::ostringstream os;
  os << "Group:   " << s.group << '\n'
     << "Leader:  " << (s.leader && !s.leader->empty() ? *s.leader : "none") << '\n'
     << "Paused:  " << (s.paused ? "true" : "false") << '\n'
     << "Workers: " << s.workers.size() << '\n';
  for (const auto& w : s.workers) {
    os << "  " << w.endpoint;
    if (w.error) {
      os << "  error: " << *w.error << '\n';
      continue;
    }
    if (w.member)
      os << "  member " << w.member_number << " of " << w.cluster_size;
    else
      os << "  idle";
    if (w.generation)
      os << "  generation " << *w.generation;
    if (w.paused)
      os << "  paused " << (*w.paused ? "true" : "false");
    if (w.vbuckets)
      os << "  vbuckets " << cbes::group::vbucket_ranges(*w.vbuckets) << " (" << w.vbuckets->size()
         << ")";
    if (w.backlog)
      os << "  backlog " << *w.backlog;
    if (w.written)
      os << "  written " << *w.written;
    os << '\n';
  }
  return os.str();
}

std::string status_json(const group_status& s) {
  json::object o;
  o["group"] = s.group;
  if (s.leader && !s.leader->empty())
    o["leader"] = *s.leader;
  else
    o["leader"] = nullptr;
  o["paused"] = s.paused;
  json::array workers;
  for (const auto& w : s.workers) {
    json::object e;
    e["endpoint"] = w.endpoint;
    if (w.error) {
      e["error"] = *w.error;
      workers.push_back(std::move(e));
      continue;
    }
    if (w.member) {
      json::object m;
      m["memberNumber"] = w.member_number;
      m["clusterSize"] = w.cluster_size;
      e["membership"] = std::move(m);
    } else {
      e["membership"] = nullptr;
    }
    if (w.generation)
      e["generation"] = *w.generation;
    if (w.vbuckets) {
      json::array ranges;
      const auto text =
          w.vbuckets->empty() ? std::string() : cbes::group::vbucket_ranges(*w.vbuckets);
      std::size_t start = 0;
      while (start < text.size()) {
        auto comma = text.find(',', start);
        if (comma == std::string::npos)
          comma = text.size();
        ranges.emplace_back(text.substr(start, comma - start));
        start = comma + 1;
      }
      e["vbuckets"] = std::move(ranges);
      e["vbucketCount"] = w.vbuckets->size();
    }
    if (w.paused)
      e["paused"] = *w.paused;
    if (w.backlog)
      e["backlog"] = *w.backlog;
    if (w.written)
      e["written"] = *w.written;
    workers.push_back(std::move(e));
  }
  o["workers"] = std::move(workers);
  return json::serialize(o);
}

// ---- the commands ----

namespace {

// A failure already reported to the user.
struct reported {};

template <class T>
using outcome = std::optional<T>;

class session {
 public:
  session(consul::client& c, const command_line& cl, std::ostream& out, std::ostream& err)
      : consul_(c), cl_(cl), out_(out), err_(err) {}

  asio::awaitable<int> run() {
    const auto& cmd = cl_.command;
    if (cmd == "configure")
      co_return co_await configure();
    if (cmd == "groups")
      co_return co_await groups();
    auto names = co_await group_names();
    if (!names)
      co_return 1;
    if (!validate_group(*names))
      co_return 1;
    if (cmd == "get-config")
      co_return co_await get_config();
    if (cmd == "pause")
      co_return co_await pause();
    if (cmd == "resume")
      co_return co_await resume();
    if (cmd == "status")
      co_return co_await status();
    co_return co_await checkpoint_command();
  }

 private:
  // Consul failures: unreachable agents get the Java tool's message.
  void consul_failure(const consul::error& e) {
    if (e.code == consul::errc::connection_failed || e.code == consul::errc::timeout ||
        e.code == consul::errc::tls_failed)
      err_ << "ERROR: Failed to connect to Consul at " << cl_.agent << " ; " << e.what() << '\n';
    else
      err_ << "ERROR: Consul request failed: " << e.what() << '\n';
  }

  asio::awaitable<outcome<std::vector<std::string>>> group_names() {
    auto keys = co_await consul_.kv().keys(std::string(group::key_root));
    if (!keys) {
      consul_failure(keys.error());
      co_return std::nullopt;
    }
    co_return group::group_names(keys->value);
  }

  // The Java tool's validateGroup.
  bool validate_group(const std::vector<std::string>& names) {
    if (std::find(names.begin(), names.end(), cl_.group) != names.end())
      return true;
    // One line (the Java tool lists the groups on lines of their own).
    err_ << "ERROR: There is no configured group called '" << cl_.group << "'. Create it with '"
         << tool << " configure --input <connector.toml>'";
    if (names.empty()) {
      err_ << " (there are no groups yet)\n";
      return false;
    }
    err_ << ", or use one of the existing groups: ";
    for (std::size_t i = 0; i < names.size(); ++i)
      err_ << (i ? ", " : "") << names[i];
    err_ << '\n';
    return false;
  }

  asio::awaitable<outcome<std::optional<consul::kv_pair>>> read_key(std::string key) {
    consul::query_options q;
    auto r = co_await consul_.kv().get(std::move(key), q);
    if (!r) {
      consul_failure(r.error());
      co_return std::nullopt;
    }
    co_return std::move(r->value);
  }

  asio::awaitable<bool> write_key(std::string key, std::string value) {
    auto r = co_await consul_.kv().put(key, std::move(value));
    if (!r) {
      consul_failure(r.error());
      co_return false;
    }
    if (!*r) {
      err_ << "ERROR: Consul refused to write " << key << '\n';
      co_return false;
    }
    co_return true;
  }

  asio::awaitable<int> configure() {
    const fs::path file = cl_.input;
    if (std::error_code ec; fs::is_directory(file, ec)) {
      err_ << "ERROR: Failed to read connector configuration file " << file.string()
           << " ; it is a folder: give the .toml file\n";
      co_return 1;
    }
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      err_ << "ERROR: Failed to read connector configuration file " << file.string() << " ; "
           << std::error_code(errno, std::generic_category()).message() << '\n';
      co_return 1;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string text = ss.str();
    // Validates exactly the text that is uploaded, with relative paths resolved as a file load
    // would (its folder, or $CBES_HOME).
    config::load_options lo;
    lo.base_directory = fs::absolute(file).parent_path();
    auto cfg = config::parse_connector_config(text, file.string(), lo);
    if (!cfg) {
      // One line per problem, each naming the file (and where in it).
      for (const auto& p : cfg.error().problems)
        err_ << "ERROR: Connector configuration file " << file.string() << " is invalid: " << p
             << '\n';
      co_return 1;
    }
    const std::string& g = cfg->group.name;
    out_ << "Updating config for connector group '" << g << "'..." << std::endl;
    const bool written = co_await write_key(group::config_key(g), text);
    if (!written)
      co_return 1;
    out_ << "Configuration updated for connector group '" << g << "'." << std::endl;
    co_return 0;
  }

  asio::awaitable<int> groups() {
    auto names = co_await group_names();
    if (!names)
      co_return 1;
    for (const auto& n : *names)
      out_ << n << '\n';
    out_.flush();
    co_return 0;
  }

  // The group's config text as stored; nullopt (reported) when absent or empty.
  asio::awaitable<outcome<std::string>> config_text() {
    auto kv = co_await read_key(group::config_key(cl_.group));
    if (!kv) {
      err_ << "ERROR: Failed to read connector configuration document.\n";
      co_return std::nullopt;
    }
    if (!*kv || (*kv)->value.empty()) {
      err_ << "ERROR: Connector configuration document does not exist, or is empty.\n";
      co_return std::nullopt;
    }
    co_return std::move((*kv)->value);
  }

  asio::awaitable<int> get_config() {
    auto text = co_await config_text();
    if (!text)
      co_return 1;
    const auto path = fs::absolute(cl_.output).lexically_normal();
    if (auto problem = write_atomically(path, *text)) {
      err_ << "ERROR: Failed to write " << path.string() << " ; " << *problem << '\n';
      co_return 1;
    }
    out_ << "Configuration for connector group '" << cl_.group << "' written to file "
         << path.string() << std::endl;
    co_return 0;
  }

  // Writes a temporary file beside `path`, then renames it over `path`.
  static std::optional<std::string> write_atomically(const fs::path& path,
                                                     const std::string& text) {
    std::error_code ec;
    if (path.has_parent_path())
      fs::create_directories(path.parent_path(), ec);
    const auto tmp = fs::path(path.string() + ".tmp-" + std::to_string(::getpid()));
    {
      std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
      f << text;
      f.flush();
      if (!f) {
        fs::remove(tmp, ec);
        return "cannot write " + tmp.string();
      }
    }
    fs::rename(tmp, path, ec);
    if (ec) {
      fs::remove(tmp, ec);
      return ec.message();
    }
    return std::nullopt;
  }

  asio::awaitable<outcome<group::control_doc>> read_control() {
    auto kv = co_await read_key(group::control_key(cl_.group));
    if (!kv)
      co_return std::nullopt;
    auto doc = group::parse_control(*kv ? (*kv)->value : std::string());
    if (!doc) {
      err_ << "ERROR: The group's control document is not a JSON object: " << doc.error().what()
           << '\n';
      co_return std::nullopt;
    }
    co_return std::move(*doc);
  }

  // Sets paused and waits until every worker says it stopped. The value: whether the group was
  // paused before; nullopt (reported) on failure or timeout.
  asio::awaitable<outcome<bool>> pause_group() {
    auto control = co_await read_control();
    if (!control)
      co_return std::nullopt;
    const bool was_paused = control->paused;
    if (!was_paused) {
      const bool written =
          co_await write_key(group::control_key(cl_.group), group::with_paused(*control, true));
      if (!written)
        co_return std::nullopt;
    }
    const bool quiet = co_await wait_for_quiescence();
    if (!quiet) {
      err_ << "ERROR: Pause failed; timed out waiting for cluster to quiesce.\n";
      co_return std::nullopt;
    }
    co_return was_paused;
  }

  // Every pause_interval, asks every worker worker.stopped; done when all say true (no workers
  // counts as done; a failed call counts as not stopped).
  asio::awaitable<bool> wait_for_quiescence() {
    using clock = std::chrono::steady_clock;
    const auto deadline = clock::now() + cl_.pause_timeout;
    group::rpc_client rpc(consul_, cl_.group);
    asio::steady_timer timer(co_await asio::this_coro::executor);
    for (;;) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
      const auto call_timeout = std::max(std::chrono::milliseconds(1),
                                         std::min(left, group::rpc_client::default_timeout));
      auto answers = co_await rpc.broadcast("worker.stopped", "[]", call_timeout);
      bool stopped = answers.has_value();
      if (answers)
        for (const auto& [id, r] : *answers)
          if (!r || *r != "true")
            stopped = false;
      if (stopped)
        co_return true;
      if (clock::now() + cl_.pause_interval >= deadline)
        co_return false;
      timer.expires_after(cl_.pause_interval);
      co_await timer.async_wait(asio::use_awaitable);
    }
  }

  // Clears paused; false (reported) on failure.
  asio::awaitable<bool> resume_group() {
    auto control = co_await read_control();
    if (!control)
      co_return false;
    if (!control->paused)
      co_return true;
    const bool written =
        co_await write_key(group::control_key(cl_.group), group::with_paused(*control, false));
    co_return written;
  }

  asio::awaitable<int> pause() {
    out_ << "Attempting to pause connector group: " << cl_.group << std::endl;
    auto paused = co_await pause_group();
    if (!paused)
      co_return 1;
    out_ << "Connector group '" << cl_.group << "' is now paused." << std::endl;
    co_return 0;
  }

  asio::awaitable<int> resume() {
    out_ << "Attempting to resume connector group: " << cl_.group << std::endl;
    const bool ok = co_await resume_group();
    if (!ok)
      co_return 1;
    out_ << "Connector group '" << cl_.group << "' is now resumed." << std::endl;
    co_return 0;
  }

 public:
  // The leader key, the control document and every worker's worker.status; nullopt when Consul
  // failed (reported).
  asio::awaitable<outcome<group_status>> read_status() {
    group_status s;
    s.group = cl_.group;
    auto leader = co_await read_key(group::leader_key(cl_.group));
    if (!leader)
      co_return std::nullopt;
    if (*leader)
      s.leader = (*leader)->value;
    auto control = co_await read_control();
    if (!control)
      co_return std::nullopt;
    s.paused = control->paused;
    group::rpc_client rpc(consul_, cl_.group);
    auto answers = co_await rpc.broadcast("worker.status", "[]", cl_.rpc_timeout);
    if (!answers) {
      err_ << "ERROR: Cannot list the group's workers: " << answers.error().what() << '\n';
      co_return std::nullopt;
    }
    for (auto& [id, r] : *answers) {
      if (r) {
        s.workers.push_back(parse_worker_status(id, *r));
      } else {
        worker_status w;
        w.endpoint = id;
        w.error = r.error().what();
        s.workers.push_back(std::move(w));
      }
    }
    co_return s;
  }

 private:
  asio::awaitable<int> status() {
    if (cl_.serve) {
      const int code = co_await serve_dashboard(consul_, cl_, out_, err_);
      co_return code;
    }
    auto s = co_await read_status();
    if (!s)
      co_return 1;
    if (cl_.json)
      out_ << status_json(*s) << std::endl;
    else
      out_ << status_text(*s) << std::flush;
    co_return 0;
  }

  // checkpoint-clear | checkpoint-catch-up | checkpoint-backup | checkpoint-restore.
  asio::awaitable<int> checkpoint_command() {
    auto text = co_await config_text();
    if (!text)
      co_return 1;
    auto cfg = config::parse_connector_config(*text, group::config_key(cl_.group), {});
    if (!cfg) {
      err_ << "ERROR: Connector configuration document is malformed.\n";
      for (const auto& p : cfg.error().problems)
        err_ << "  " << p << '\n';
      co_return 1;
    }
    const auto& cmd = cl_.command;
    std::optional<checkpoint::backup> restoring;
    if (cmd == "checkpoint-restore") {
      // A file that cannot be read or parsed is refused before the group is paused.
      auto b = checkpoint::read_backup_file(cl_.input);
      if (!b) {
        err_ << "ERROR: " << b.error().what() << '\n';
        co_return 1;
      }
      restoring = std::move(*b);
    }
    if (cmd == "checkpoint-backup")
      co_return co_await with_store(*cfg, restoring);

    if (cmd == "checkpoint-clear")
      out_ << "Pausing connector prior to clearing checkpoints..." << std::endl;
    else if (cmd == "checkpoint-catch-up")
      out_ << "Pausing connector prior to modifying checkpoint..." << std::endl;
    else
      out_ << "Pausing connector prior to restoring checkpoints..." << std::endl;
    auto was_paused = co_await pause_group();
    if (!was_paused)
      co_return 1;
    const int code = co_await with_store(*cfg, restoring);
    if (*was_paused) {
      out_ << "Connector group was already paused; leaving it paused." << std::endl;
    } else {
      out_ << "Resuming connector..." << std::endl;
      const bool resumed = co_await resume_group();
      if (!resumed)
        co_return 1;
    }
    if (code == 0) {
      if (cmd == "checkpoint-clear")
        out_ << "Checkpoint cleared." << std::endl;
      else if (cmd == "checkpoint-catch-up")
        out_ << "Connector caught up." << std::endl;
      else
        out_ << "Checkpoint restored." << std::endl;
    }
    co_return code;
  }

  // Connects to the metadata bucket and runs the checkpoint operation of the command.
  asio::awaitable<int> with_store(const config::connector_config& cfg,
                                  std::optional<checkpoint::backup>& restoring) {
    auto ex = co_await asio::this_coro::executor;
    auto meta = co_await couchbase::cluster::connect(ex, config::metadata_cluster_options(cfg));
    if (!meta) {
      err_ << "ERROR: Cannot connect to the metadata bucket: " << meta.error().what() << '\n';
      co_return 1;
    }
    checkpoint::couchbase_store_options so;
    so.collection = config::metadata_collection(cfg);
    so.group = cfg.group.name;
    auto store = checkpoint::couchbase_store::open(*meta, so);
    if (!store) {
      err_ << "ERROR: " << store.error().what() << '\n';
      (*meta)->close();
      co_return 1;
    }
    const int code = co_await run_checkpoint_operation(cfg, **meta, **store, restoring);
    (*meta)->close();
    co_return code;
  }

  asio::awaitable<int> run_checkpoint_operation(const config::connector_config& cfg,
                                                couchbase::cluster& meta,
                                                checkpoint::couchbase_store& store,
                                                std::optional<checkpoint::backup>& restoring) {
    const auto bucket = checkpoint::describe_bucket(meta);
    const auto& cmd = cl_.command;
    if (cmd == "checkpoint-backup") {
      const auto path = fs::absolute(cl_.output).lexically_normal();
      auto b = co_await checkpoint::take_backup(store, bucket);
      if (!b) {
        err_ << "ERROR: " << b.error().what() << '\n';
        co_return 1;
      }
      auto w = checkpoint::write_backup_file(path, *b);
      if (!w) {
        err_ << "ERROR: " << w.error().what() << '\n';
        co_return 1;
      }
      out_ << "Wrote checkpoint for connector '" << cl_.group << "' to file " << path.string()
           << std::endl;
      co_return 0;
    }
    if (cmd == "checkpoint-restore") {
      out_ << "Restoring checkpoints..." << std::endl;
      auto r = co_await checkpoint::restore_backup(store, std::move(*restoring), bucket);
      if (!r) {
        err_ << "ERROR: " << r.error().what() << '\n';
        co_return 1;
      }
      co_return 0;
    }
    if (cmd == "checkpoint-clear") {
      out_ << "Clearing checkpoints..." << std::endl;
      auto r = co_await store.clear(store.num_vbuckets());
      if (!r) {
        err_ << "ERROR: " << r.error().what() << '\n';
        co_return 1;
      }
      co_return 0;
    }
    out_ << "Catching up checkpoint..." << std::endl;
    // The positions come from the source bucket, even when checkpoints live elsewhere.
    auto ex = co_await asio::this_coro::executor;
    auto source = co_await couchbase::cluster::connect(ex, config::cluster_options(cfg));
    if (!source) {
      err_ << "ERROR: Cannot connect to bucket '" << cfg.couchbase.bucket
           << "': " << source.error().what() << '\n';
      co_return 1;
    }
    auto r = co_await checkpoint::catch_up(store, **source);
    (*source)->close();
    if (!r) {
      err_ << "ERROR: " << r.error().what() << '\n';
      co_return 1;
    }
    co_return 0;
  }

  consul::client& consul_;
  const command_line& cl_;
  std::ostream& out_;
  std::ostream& err_;
};

}  // namespace

asio::awaitable<int> run_command(consul::client& consul, const command_line& command,
                                 std::ostream& out, std::ostream& err) {
  session s(consul, command, out, err);
  const int code = co_await s.run();
  co_return code;
}

asio::awaitable<status_reading> read_group_status(consul::client& consul,
                                                  const command_line& command) {
  std::ostringstream out;
  std::ostringstream err;
  session s(consul, command, out, err);
  auto status = co_await s.read_status();
  status_reading r;
  if (status) {
    r.status = std::move(*status);
    co_return r;
  }
  // The report `status` prints, as one line: "ERROR: " dropped, detail lines joined.
  std::string text = err.str();
  if (text.starts_with("ERROR: "))
    text.erase(0, 7);
  while (!text.empty() && text.back() == '\n')
    text.pop_back();
  for (auto nl = text.find('\n'); nl != std::string::npos; nl = text.find('\n', nl))
    text.replace(nl, 1, "; ");
  r.error = text.empty() ? "the group's status could not be read" : text;
  co_return r;
}

}  // namespace cbes::consul_cli
