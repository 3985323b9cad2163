// cbes-dcp: streams a bucket's changes over DCP as JSON lines, one per event, then a summary —
// the C++ counterpart of kv_engine's `dcpdrain` (issue 4), built on cbes::dcp::consumer.
//
//   cbes-dcp --host=127.0.0.1 --bucket=travel-sample --username=u --password-file=pw
//            --vbuckets=0-63,100 --from=beginning --collections=inventory.airline --until-caught-up
//
// Exit codes: 0 ok, 1 runtime failure (connection, authentication, a stream stopped with an
// error), 2 usage error (one line on stderr).
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

}  // namespace

int main(int argc, char** argv) {
  po::options_description desc(
      "Usage: cbes-dcp --host=H --bucket=B --username=U --password-file=F [options]\nOptions");
  desc.add_options()("help", "show this help")("host",
                                               po::value<std::string>()->default_value("127.0.0.1"),
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
  po::variables_map vm;
  std::string password;
  std::vector<std::uint16_t> vbs_arg;
  try {
    po::store(po::parse_command_line(argc, argv, desc), vm);
    po::notify(vm);
    if (vm.count("help")) {
      std::cout << desc << "\n";
      return 0;
    }
    for (const char* required : {"bucket", "username", "password-file"})
      if (!vm.count(required))
        throw usage_error(std::string("--") + required + " is required");
    std::ifstream pw(vm["password-file"].as<std::string>());
    if (!pw)
      throw usage_error("cannot read --password-file " + vm["password-file"].as<std::string>());
    std::getline(pw, password);
    if (!password.empty() && password.back() == '\r')
      password.pop_back();
    const auto from = vm["from"].as<std::string>();
    if (from != "beginning" && from != "now")
      throw usage_error("--from must be 'beginning' or 'now'");
    if (vm.count("vbuckets"))
      vbs_arg = parse_vbuckets(vm["vbuckets"].as<std::string>());
    if (vm.count("collections") && vm.count("scope"))
      throw usage_error("--collections and --scope are exclusive");
  } catch (const std::exception& e) {
    std::cerr << "cbes-dcp: " << e.what() << " (see --help)\n";
    return 2;
  }

  asio::io_context io;
  asio::signal_set signals(io, SIGINT, SIGTERM);
  int exit_code = 0;
  summary sum;
  const bool quiet = vm["quiet"].as<bool>();
  const bool until_caught_up = vm["until-caught-up"].as<bool>();

  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        cb::cluster_options co;
        co.seeds = vm["host"].as<std::string>();
        co.username = vm["username"].as<std::string>();
        co.password = password;
        co.bucket = vm["bucket"].as<std::string>();
        co.agent = "cbes-dcp/0.1";
        auto cluster = co_await cb::cluster::connect(io.get_executor(), co);
        if (!cluster) {
          std::cerr << "cbes-dcp: " << cluster.error().what() << "\n";
          exit_code = 1;
          signals.cancel();
          co_return;
        }
        const auto n = (*cluster)->current_topology()->num_vbuckets();
        std::vector<std::uint16_t> vbs = vbs_arg;
        if (vbs.empty())
          for (std::uint16_t v = 0; v < n; ++v)
            vbs.push_back(v);
        for (auto v : vbs)
          if (v >= n) {
            std::cerr << "cbes-dcp: vbucket " << v << " does not exist (the bucket has " << n
                      << ")\n";
            exit_code = 2;
            (*cluster)->close();
            signals.cancel();
            co_return;
          }
        dcp::consumer_options o;
        o.name = "cbes-dcp";
        o.agent = "cbes-dcp/0.1";
        o.buffer_size = vm["buffer-size"].as<std::uint32_t>();
        o.compression = vm["compression"].as<bool>();
        o.xattrs = vm["xattrs"].as<bool>();
        if (vm.count("collections"))
          o.collections = split(vm["collections"].as<std::string>());
        if (vm.count("scope"))
          o.scope = vm["scope"].as<std::string>();
        auto consumer = co_await dcp::consumer::create(*cluster, o);
        if (!consumer) {
          std::cerr << "cbes-dcp: " << consumer.error().what() << "\n";
          exit_code = consumer.error().code == cb::errc::unknown_collection ? 2 : 1;
          (*cluster)->close();
          signals.cancel();
          co_return;
        }
        auto c = *consumer;
        c->on_event([&, c](dcp::event ev) {
          ++sum.counts[std::string(dcp::to_string(ev.type))];
          sum.bytes += ev.value.size();
          if (ev.type == dcp::event_type::stream_end &&
              ev.end_reason != cbes::mcbp::stream_end_reason::ok)
            sum.errors.push_back(ev.value);
          if (!quiet)
            std::cout << event_line(ev) << '\n';
          c->acknowledge(ev);
        });
        std::map<std::uint16_t, std::uint64_t> targets;
        if (until_caught_up) {
          auto seqnos = co_await (*cluster)->get_all_vb_seqnos();
          if (!seqnos) {
            std::cerr << "cbes-dcp: " << seqnos.error().what() << "\n";
            exit_code = 1;
            c->stop();
            (*cluster)->close();
            signals.cancel();
            co_return;
          }
          std::set<std::uint16_t> wanted(vbs.begin(), vbs.end());
          for (const auto& e : *seqnos)
            if (wanted.contains(e.vbucket))
              targets[e.vbucket] = e.seqno;
        }
        auto states = vm["from"].as<std::string>() == "now"
                          ? co_await c->states_now(vbs)
                          : co_await c->states_from_beginning(vbs);
        if (!states) {
          std::cerr << "cbes-dcp: " << states.error().what() << "\n";
          exit_code = 1;
        } else if (auto r = co_await c->open(*states); !r) {
          std::cerr << "cbes-dcp: " << r.error().what() << "\n";
          exit_code = 1;
        } else {
          asio::steady_timer t(io);
          bool interrupted = false;
          signals.async_wait([&](boost::system::error_code ec, int) {
            if (!ec)
              interrupted = true;
            t.cancel();
          });
          while (!interrupted && sum.errors.empty() && !(until_caught_up && c->reached(targets))) {
            t.expires_after(std::chrono::milliseconds{20});
            boost::system::error_code ec;
            co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
          }
          if (!sum.errors.empty()) {
            std::cerr << "cbes-dcp: " << sum.errors.front() << "\n";
            exit_code = 1;
          }
        }
        const auto st = c->stats();
        boost::json::object s;
        for (const auto& [k, v] : sum.counts)
          s[k] = v;
        s["value_bytes"] = sum.bytes;
        s["bytes_received"] = st.bytes_received;
        s["buffer_acks"] = st.buffer_acks_sent;
        s["reconnects"] = st.reconnects;
        s["rollbacks"] = st.rollbacks;
        s["vbuckets"] = vbs.size();
        std::cout << boost::json::serialize(boost::json::object{{"summary", s}}) << std::endl;
        c->stop();
        (*cluster)->close();
        signals.cancel();
      },
      [&](std::exception_ptr e) {
        if (e) {
          try {
            std::rethrow_exception(e);
          } catch (const std::exception& x) {
            std::cerr << "cbes-dcp: " << x.what() << "\n";
          }
          exit_code = 1;
          signals.cancel();
          io.stop();
        }
      });
  io.run();
  return exit_code;
}
