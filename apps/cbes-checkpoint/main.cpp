// cbes-checkpoint-backup | cbes-checkpoint-restore | cbes-checkpoint-clear: the Java connector's
// checkpoint tools, for a static group. One source, built three times (CBES_CHECKPOINT_TOOL).
//
//   cbes-checkpoint-backup  --config <file> --output <checkpoint.json>
//   cbes-checkpoint-restore --config <file> --input <checkpoint.json>
//   cbes-checkpoint-clear   --config <file> [--catch-up]
//
// None of them stops a running group: stop every `cbes` worker of the group first (a worker
// that keeps running overwrites what the tool wrote with its own positions).
// Exit codes: 0 done, 1 failure (one line on stderr; a refused restore changes nothing),
// 2 usage error.
#include <filesystem>
#include <iostream>
#include <string>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "cbes/checkpoint/backup.hpp"
#include "cbes/checkpoint/couchbase_store.hpp"
#include "cbes/checkpoint/operations.hpp"
#include "cbes/config/conversions.hpp"
#include "cbes/couchbase/cluster.hpp"
#include "tool_options.hpp"

namespace asio = boost::asio;
namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace {

enum class tool { backup, restore, clear };

#if defined(CBES_CHECKPOINT_TOOL_BACKUP)
constexpr tool which = tool::backup;
constexpr const char* tool_name = "cbes-checkpoint-backup";
constexpr const char* description =
    "Writes the checkpoint of every vbucket of the connector group to a JSON file.";
#elif defined(CBES_CHECKPOINT_TOOL_RESTORE)
constexpr tool which = tool::restore;
constexpr const char* tool_name = "cbes-checkpoint-restore";
constexpr const char* description =
    "Replaces the connector group's checkpoints with those of a file written by "
    "cbes-checkpoint-backup (stop the group's workers first).";
#else
constexpr tool which = tool::clear;
constexpr const char* tool_name = "cbes-checkpoint-clear";
constexpr const char* description =
    "Deletes the connector group's checkpoints (the next start begins at defaultCheckpoint), or "
    "with --catch-up sets them to the bucket's current state (stop the group's workers first).";
#endif

struct failure {
  std::string message;
};

asio::awaitable<int> run(const cbes::config::connector_config& cfg, const po::variables_map& vm) {
  auto ex = co_await asio::this_coro::executor;
  const std::string& group = cfg.group.name;
  auto fail = [](const std::string& m) {
    std::cerr << tool_name << ": " << m << '\n';
    return 1;
  };
  auto meta =
      co_await cbes::couchbase::cluster::connect(ex, cbes::config::metadata_cluster_options(cfg));
  if (!meta)
    co_return fail("cannot connect to the metadata bucket: " + meta.error().what());
  cbes::checkpoint::couchbase_store_options so;
  so.collection = cbes::config::metadata_collection(cfg);
  so.group = group;
  auto store = cbes::checkpoint::couchbase_store::open(*meta, so);
  if (!store)
    co_return fail(store.error().what());
  const auto bucket = cbes::checkpoint::describe_bucket(**meta);
  int code = 0;

  if constexpr (which == tool::backup) {
    const auto out = fs::absolute(vm["output"].as<std::string>()).lexically_normal();
    auto b = co_await cbes::checkpoint::take_backup(**store, bucket);
    if (!b)
      code = fail(b.error().what());
    else if (auto w = cbes::checkpoint::write_backup_file(out, *b); !w)
      code = fail(w.error().what());
    else
      std::cout << "Wrote checkpoint for connector '" << group << "' to file " << out.string()
                << std::endl;
  } else if constexpr (which == tool::restore) {
    const std::string in = vm["input"].as<std::string>();
    auto b = cbes::checkpoint::read_backup_file(in);
    if (!b) {
      code = fail(b.error().what());
    } else {
      auto r = co_await cbes::checkpoint::restore_backup(**store, std::move(*b), bucket);
      if (!r)
        code = fail(r.error().what());
      else
        std::cout << "Restored checkpoint for connector '" << group << "' from file " << in
                  << std::endl;
    }
  } else {
    if (vm.count("catch-up")) {
      // The positions come from the source bucket, even when checkpoints live elsewhere.
      auto source =
          co_await cbes::couchbase::cluster::connect(ex, cbes::config::cluster_options(cfg));
      if (!source) {
        code = fail("cannot connect to bucket '" + cfg.couchbase.bucket +
                    "': " + source.error().what());
      } else {
        auto r = co_await cbes::checkpoint::catch_up(**store, **source);
        (*source)->close();
        if (!r)
          code = fail(r.error().what());
        else
          std::cout << "Set checkpoint for connector '" << group
                    << "' to match current state of Couchbase bucket." << std::endl;
      }
    } else {
      auto r = co_await (*store)->clear((*store)->num_vbuckets());
      if (!r)
        code = fail(r.error().what());
      else
        std::cout << "Cleared checkpoint for connector '" << group << "'." << std::endl;
    }
  }
  (*meta)->close();
  co_return code;
}

}  // namespace

int main(int argc, char** argv) {
  cbes::app::tool_options tool{tool_name, description};
  if constexpr (which == tool::backup)
    tool.options().add_options()("output",
                                 po::value<std::string>()->required()->value_name("<file>"),
                                 "the JSON file to write (atomically; folders are created)");
  else if constexpr (which == tool::restore)
    tool.options().add_options()("input",
                                 po::value<std::string>()->required()->value_name("<file>"),
                                 "a file written by cbes-checkpoint-backup");
  else
    tool.options().add_options()("catch-up",
                                 "set every checkpoint to the bucket's current high seqno "
                                 "instead of deleting them");
  if (auto code = tool.parse(argc, argv).exit_code)
    return *code;
  auto cfg = tool.load_config();
  if (!cfg)
    return 1;
  asio::io_context io(1);
  int code = 1;
  asio::co_spawn(io, run(*cfg, tool.values()), [&](std::exception_ptr e, int c) {
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& x) {
        std::cerr << tool_name << ": internal error: " << x.what() << '\n';
      }
      c = 1;
    }
    code = c;
    io.stop();
  });
  io.run();
  return code;
}
