// cbes-dcp: streams a bucket's changes over DCP as JSON lines, one per event, then a summary —
// the C++ counterpart of kv_engine's `dcpdrain` (issue 4), built on cbes::dcp::consumer.
//
//   cbes-dcp --host=127.0.0.1 --bucket=travel-sample --username=u --password-file=pw
//            --vbuckets=0-63,100 --from=beginning --collections=inventory.airline --until-caught-up
//
// Exit codes: 0 ok, 1 runtime failure (authentication, a user without the Data DCP Reader role,
// a missing bucket or collection, a server without DCP, a stream stopped with an error — one line
// on stderr), 2 usage error (one line on stderr). Transient failures (a node down, timeouts) are
// retried with back-off and counted in the summary (open_retries, transient_errors).
#include <boost/asio.hpp>
#include <boost/json.hpp>
#include <boost/program_options.hpp>

#include <csignal>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cbes/couchbase/cluster.hpp"
#include "cbes/dcp/consumer.hpp"
#include "cbes/version.hpp"
#include "tool_options.hpp"

namespace po = boost::program_options;
namespace asio = boost::asio;
namespace dcp = cbes::dcp;
namespace cb = cbes::couchbase;

namespace {

struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// "0-63,100" → {0..63, 100}.
std::vector<std::uint16_t> parse_vbuckets(const std::string& text) {
  std::set<std::uint16_t> out;
  std::size_t at = 0;
  while (at <= text.size()) {
    auto comma = text.find(',', at);
    auto part = text.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
    auto number = [&](const std::string& s) -> std::uint16_t {
      if (s.empty() || s.size() > 5 || s.find_first_not_of("0123456789") != std::string::npos)
        throw usage_error("bad --vbuckets entry '" + part + "' (expected e.g. 0-63,100)");
      auto v = std::stoul(s);
      if (v > 1023)
        throw usage_error("vbucket " + s + " is out of range (0-1023)");
      return static_cast<std::uint16_t>(v);
    };
    auto dash = part.find('-');
    if (dash == std::string::npos) {
      out.insert(number(part));
    } else {
      auto lo = number(part.substr(0, dash)), hi = number(part.substr(dash + 1));
      if (lo > hi)
        throw usage_error("bad --vbuckets range '" + part + "'");
      for (auto v = lo; v <= hi; ++v)
        out.insert(v);
    }
    if (comma == std::string::npos)
      break;
    at = comma + 1;
  }
  return {out.begin(), out.end()};
}

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at < text.size()) {
    auto comma = text.find(',', at);
    auto part = text.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
    if (!part.empty())
      out.push_back(part);
    if (comma == std::string::npos)
      break;
    at = comma + 1;
  }
  return out;
}

struct summary {
  std::map<std::string, std::uint64_t> counts;
  std::uint64_t bytes = 0;
  std::vector<std::string> errors;
  std::optional<std::string> fatal;  // the consumer stopped: no retry can fix this
};

std::string event_line(const dcp::event& ev) {
  boost::json::object o;
  o["type"] = dcp::to_string(ev.type);
  o["vbucket"] = ev.vbucket;
  o["seqno"] = ev.seqno;
  switch (ev.type) {
    case dcp::event_type::mutation:
    case dcp::event_type::deletion:
    case dcp::event_type::expiration:
      o["key"] = ev.key;
      o["collection"] = ev.collection_id;
      o["cas"] = ev.cas;
      o["rev"] = ev.rev_seqno;
      o["expiry"] = ev.expiry;
      o["flags"] = ev.flags;
      o["size"] = ev.value.size();
      if (!ev.xattrs.empty())
        o["xattrs"] = ev.xattrs.size();
      break;
    case dcp::event_type::snapshot:
      o["start"] = ev.snapshot_start;
      o["end"] = ev.snapshot_end;
      o["flags"] = ev.snapshot_flags;
      break;
    case dcp::event_type::system_event:
      o["event"] = ev.system_event ? cbes::mcbp::to_string(*ev.system_event) : "unknown";
      o["name"] = ev.key;
      o["collection"] = ev.collection_id;
      o["scope"] = ev.scope_id;
      o["manifest_uid"] = ev.manifest_uid;
      break;
    case dcp::event_type::stream_end:
      o["message"] = ev.value;
      break;
    default:
      break;
  }
  return boost::json::serialize(o);
}

struct settings {
  std::string host, bucket, username, password;
  std::vector<std::uint16_t> vbuckets;
  bool from_now = false;
  bool until_caught_up = false;
  bool quiet = false;
  dcp::consumer_options consumer;
};

void print_summary(const summary& sum, const dcp::consumer_stats& st, std::size_t vbuckets) {
  boost::json::object s;
  for (const auto& [k, v] : sum.counts)
    s[k] = v;
  s["value_bytes"] = sum.bytes;
  s["bytes_received"] = st.bytes_received;
  s["buffer_acks"] = st.buffer_acks_sent;
  s["reconnects"] = st.reconnects;
  s["rollbacks"] = st.rollbacks;
  s["open_retries"] = st.open_retries;
  s["transient_errors"] = st.transient_errors;
  s["vbuckets"] = vbuckets;
  boost::json::object top;
  top["summary"] = std::move(s);
  std::cout << boost::json::serialize(top) << std::endl;
}

// The whole run; returns the exit code.
asio::awaitable<int> run(settings cfg, asio::signal_set& signals) {
  auto ex = co_await asio::this_coro::executor;
  cb::cluster_options co;
  co.seeds = cfg.host;
  co.username = cfg.username;
  co.password = cfg.password;
  co.bucket = cfg.bucket;
  co.agent = "cbes-dcp/" CBES_VERSION;
  auto connected = co_await cb::cluster::connect(ex, co);
  if (!connected) {
    std::cerr << "cbes-dcp: " << connected.error().what() << "\n";
    co_return 1;
  }
  auto cluster = *connected;
  const auto n = cluster->current_topology()->num_vbuckets();
  std::vector<std::uint16_t> vbs = cfg.vbuckets;
  if (vbs.empty())
    for (std::uint16_t v = 0; v < n; ++v)
      vbs.push_back(v);
  for (auto v : vbs) {
    if (v >= n) {
      std::cerr << "cbes-dcp: vbucket " << v << " does not exist (the bucket has " << n << ")\n";
      cluster->close();
      co_return 2;
    }
  }
  auto made = co_await dcp::consumer::create(cluster, cfg.consumer);
  if (!made) {
    std::cerr << "cbes-dcp: " << made.error().what() << "\n";
    cluster->close();
    co_return made.error().code == cb::errc::unknown_collection ? 2 : 1;
  }
  auto c = *made;
  summary sum;
  const bool quiet = cfg.quiet;
  dcp::consumer* raw = c.get();
  c->on_event([&sum, quiet, raw](dcp::event ev) {
    ++sum.counts[std::string(dcp::to_string(ev.type))];
    sum.bytes += ev.value.size();
    if (ev.type == dcp::event_type::stream_end &&
        ev.end_reason != cbes::mcbp::stream_end_reason::ok)
      sum.errors.push_back(ev.value);
    if (!quiet)
      std::cout << event_line(ev) << '\n';
    raw->acknowledge(ev);
  });
  c->on_fatal([&sum](const cb::error& e) { sum.fatal = e.what(); });
  int code = 0;
  std::map<std::uint16_t, std::uint64_t> targets;
  if (cfg.until_caught_up) {
    auto seqnos = co_await cluster->get_all_vb_seqnos();
    if (!seqnos) {
      std::cerr << "cbes-dcp: " << seqnos.error().what() << "\n";
      c->stop();
      cluster->close();
      co_return 1;
    }
    std::set<std::uint16_t> wanted(vbs.begin(), vbs.end());
    for (const auto& e : *seqnos)
      if (wanted.contains(e.vbucket))
        targets[e.vbucket] = e.seqno;
  }
  cb::result<std::map<std::uint16_t, dcp::stream_state>> states =
      cb::make_error(cb::errc::invalid_argument, "unset");
  if (cfg.from_now)
    states = co_await c->states_now(vbs);
  else
    states = co_await c->states_from_beginning(vbs);
  cb::result<void> opened = cb::make_error(cb::errc::invalid_argument, "unset");
  if (states)
    opened = co_await c->open(*states);
  if (!states) {
    std::cerr << "cbes-dcp: " << states.error().what() << "\n";
    code = 1;
  } else if (!opened) {
    std::cerr << "cbes-dcp: " << opened.error().what() << "\n";
    code = 1;
  } else {
    asio::steady_timer t(ex);
    auto interrupted = std::make_shared<bool>(false);
    signals.async_wait([interrupted](boost::system::error_code ec, int) {
      if (!ec)
        *interrupted = true;
    });
    while (!*interrupted && sum.errors.empty() && !sum.fatal &&
           !(cfg.until_caught_up && c->reached(targets))) {
      t.expires_after(std::chrono::milliseconds{20});
      boost::system::error_code ec;
      co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    if (sum.fatal) {
      std::cerr << "cbes-dcp: " << *sum.fatal << "\n";
      code = 1;
    } else if (!sum.errors.empty()) {
      std::cerr << "cbes-dcp: " << sum.errors.front() << "\n";
      code = 1;
    }
  }
  print_summary(sum, c->stats(), vbs.size());
  c->stop();
  cluster->close();
  co_return code;
}

}  // namespace

int main(int argc, char** argv) {
  po::options_description desc(
      "Usage: cbes-dcp --host=H --bucket=B --username=U --password-file=F [options]\nOptions");
  desc.add_options()("help", "show this help")("version,V", "print the version and exit")(
      "host", po::value<std::string>()->default_value("127.0.0.1"),
      "seed nodes (host[:port],... or couchbase://...)")(
      "bucket", po::value<std::string>(), "bucket to stream")("username", po::value<std::string>(),
                                                              "user with the Data DCP Reader role")(
      "password-file", po::value<std::string>(), "file whose first line is the password")(
      "vbuckets", po::value<std::string>(), "vbuckets to stream, e.g. 0-63,100 (default: all)")(
      "from", po::value<std::string>()->default_value("beginning"), "beginning | now")(
      "collections", po::value<std::string>(), "scope.collection,... to stream (default: all)")(
      "scope", po::value<std::string>(), "stream one scope")(
      "until-caught-up", po::bool_switch(), "stop once the high seqnos seen at start are reached")(
      "buffer-size", po::value<std::uint32_t>()->default_value(10 * 1024 * 1024),
      "flow-control buffer bytes (0 = off)")("compression", po::bool_switch(),
                                             "ask for Snappy values (inflated before printing)")(
      "xattrs", po::bool_switch(), "include extended attributes")("quiet", po::bool_switch(),
                                                                  "print only the summary");
  settings cfg;
  try {
    po::variables_map vm;
    po::store(po::parse_command_line(argc, argv, desc), vm);
    po::notify(vm);
    if (vm.count("help")) {
      std::cout << desc << "\n";
      return 0;
    }
    if (vm.count("version")) {
      std::cout << cbes::app::version_line("cbes-dcp") << "\n";
      return 0;
    }
    for (const char* required : {"bucket", "username", "password-file"})
      if (!vm.count(required))
        throw usage_error(std::string("--") + required + " is required");
    std::ifstream pw(vm["password-file"].as<std::string>());
    if (!pw)
      throw usage_error("cannot read --password-file " + vm["password-file"].as<std::string>());
    std::getline(pw, cfg.password);
    if (!cfg.password.empty() && cfg.password.back() == '\r')
      cfg.password.pop_back();
    const auto from = vm["from"].as<std::string>();
    if (from != "beginning" && from != "now")
      throw usage_error("--from must be 'beginning' or 'now'");
    cfg.from_now = from == "now";
    if (vm.count("vbuckets"))
      cfg.vbuckets = parse_vbuckets(vm["vbuckets"].as<std::string>());
    if (vm.count("collections") && vm.count("scope"))
      throw usage_error("--collections and --scope are exclusive");
    cfg.host = vm["host"].as<std::string>();
    cfg.bucket = vm["bucket"].as<std::string>();
    cfg.username = vm["username"].as<std::string>();
    cfg.until_caught_up = vm["until-caught-up"].as<bool>();
    cfg.quiet = vm["quiet"].as<bool>();
    cfg.consumer.name = "cbes-dcp";
    cfg.consumer.agent = "cbes-dcp/0.1";
    cfg.consumer.buffer_size = vm["buffer-size"].as<std::uint32_t>();
    cfg.consumer.compression = vm["compression"].as<bool>();
    cfg.consumer.xattrs = vm["xattrs"].as<bool>();
    if (vm.count("collections"))
      cfg.consumer.collections = split(vm["collections"].as<std::string>());
    if (vm.count("scope"))
      cfg.consumer.scope = vm["scope"].as<std::string>();
  } catch (const std::exception& e) {
    std::cerr << "cbes-dcp: " << e.what() << " (see --help)\n";
    return 2;
  }

  asio::io_context io;
  asio::signal_set signals(io, SIGINT, SIGTERM);
  int exit_code = 1;
  asio::co_spawn(io, run(std::move(cfg), signals), [&](std::exception_ptr e, int code) {
    exit_code = code;
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& x) {
        std::cerr << "cbes-dcp: " << x.what() << "\n";
      }
      exit_code = 1;
    }
    signals.cancel();
  });
  io.run();
  return exit_code;
}
