// The checkpoint tools against a group's real checkpoints: backup → clear → restore round trip,
// refusals that change nothing, and catch-up.
#include "system/connector/harness.hpp"

#include <csignal>

#include "cbes/checkpoint/document_key.hpp"

using namespace connector_st;

namespace {

// The raw `cbes` xattr of every vbucket that has one.
std::map<std::uint16_t, std::string> checkpoints(couchbase_client& cb, const std::string& group) {
  std::map<std::uint16_t, std::string> out;
  for (std::uint16_t vb = 0; vb < 1024; ++vb) {
    auto x = cb.run(
        cb.cluster->lookup_xattr({}, cbes::checkpoint::document_key(group, vb, 1024), "cbes"));
    if (x && x->has_value())
      out[vb] = **x;
  }
  return out;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE(
    "checkpoint backup, clear and restore round-trip, wrong files are refused and change nothing") {
  sandbox sb(2000);
  const auto dir = fresh_dir("checkpoint-tools");
  const auto cfg = write_config(dir, sb, {});
  couchbase_client cb(sb);
  {
    auto w = start_cbes(cfg);
    REQUIRE(w->wait_for(std::regex("ready: streaming")));
    REQUIRE(eventually([&] { return sb.count("airlines") + sb.count("etc") == 2000; }));
    w->signal(SIGTERM);
    REQUIRE(w->wait_exit(30s) == 0);
  }
  const auto before = checkpoints(cb, "st-group");
  REQUIRE(before.size() == 1024);

  const auto file = dir / "backups" / "cp.json";
  auto r = run_tool(
      {bin("cbes-checkpoint-backup"), "--config", cfg.string(), "--output", file.string()});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(r.out.find("Reading connector configuration from " + cfg.string()) != std::string::npos);
  CHECK(r.out.find("Wrote checkpoint for connector 'st-group' to file " + file.string()) !=
        std::string::npos);
  const auto text = slurp(file);
  CHECK(text.starts_with(R"({"formatVersion":1,"bucketUuid":")"));

  r = run_tool({bin("cbes-checkpoint-clear"), "--config", cfg.string()});
  REQUIRE(r.code == 0);
  CHECK(r.out.find("Cleared checkpoint for connector 'st-group'.") != std::string::npos);
  CHECK(checkpoints(cb, "st-group").empty());

  // Refused files: nothing is written.
  const auto other_bucket = dir / "other-bucket.json";
  std::ofstream(other_bucket) << std::regex_replace(text, std::regex(R"("bucketUuid":"[^"]*")"),
                                                    R"("bucketUuid":"0123456789abcdef")");
  r = run_tool(
      {bin("cbes-checkpoint-restore"), "--config", cfg.string(), "--input", other_bucket.string()});
  CHECK(r.code == 1);
  CHECK(r.err.find("Bucket UUID mismatch") != std::string::npos);
  const auto other_version = dir / "other-version.json";
  std::ofstream(other_version) << std::regex_replace(text, std::regex(R"("formatVersion":1)"),
                                                     R"("formatVersion":2)");
  r = run_tool({bin("cbes-checkpoint-restore"), "--config", cfg.string(), "--input",
                other_version.string()});
  CHECK(r.code == 1);
  CHECK(r.err.find("Unrecognized checkpoint format version") != std::string::npos);
  const auto fewer = dir / "fewer-vbuckets.json";
  std::ofstream(fewer) << std::regex_replace(text, std::regex(R"(,"1023":\{[^}]*\{[^}]*\}\})"), "");
  r = run_tool(
      {bin("cbes-checkpoint-restore"), "--config", cfg.string(), "--input", fewer.string()});
  CHECK(r.code == 1);
  CHECK(r.err.find("Bucket has 1024 vbuckets but the checkpoint file has 1023") !=
        std::string::npos);
  CHECK(checkpoints(cb, "st-group").empty());

  r = run_tool(
      {bin("cbes-checkpoint-restore"), "--config", cfg.string(), "--input", file.string()});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(r.out.find("Restored checkpoint for connector 'st-group' from file " + file.string()) !=
        std::string::npos);
  CHECK(checkpoints(cb, "st-group") == before);

  r = run_tool({bin("cbes-checkpoint-clear"), "--config", cfg.string(), "--catch-up"});
  REQUIRE(r.code == 0);
  CHECK(r.out.find("Set checkpoint for connector 'st-group' to match current state of Couchbase "
                   "bucket.") != std::string::npos);
  CHECK(checkpoints(cb, "st-group").size() == 1024);
}
