// The backup file of cbes-checkpoint-backup / -restore: the Java connector's bytes, its refusal
// messages, and an atomic write (temp file beside the target, fsync, rename).
#include <filesystem>
#include <fstream>
#include <random>

#include <catch2/catch.hpp>

#include "unit/checkpoint/result_printer.hpp"

#include "cbes/checkpoint/backup.hpp"

using namespace cbes::checkpoint;
namespace fs = std::filesystem;

namespace {

backup sample(std::size_t n) {
  backup b;
  b.bucket_uuid = "1c0c3e9b0a3a4a6e8f3e7d1b2a9c8d7e";
  for (std::size_t vb = 0; vb < n; ++vb)
    b.vbuckets[static_cast<std::uint16_t>(vb)] =
        checkpoint{vb * 0x9e3779b97f4a7c15ULL, vb * 3, {vb * 2, vb * 3}};
  return b;
}

// A fresh empty folder under the system temp folder, removed at the end of the test.
struct scratch {
  fs::path dir;
  scratch() {
    std::random_device rd;
    dir = fs::temp_directory_path() / ("cbes-backup-test-" + std::to_string(rd()));
    fs::create_directories(dir);
  }
  ~scratch() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(dir))
      out.push_back(fs::relative(e.path(), dir).string());
    std::sort(out.begin(), out.end());
    return out;
  }
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

}  // namespace

TEST_CASE("a backup is the Java tool's compact JSON, vbuckets in numeric order") {
  backup b;
  b.bucket_uuid = "abc";
  b.vbuckets[10] = checkpoint{11413926783177085143ULL, 45, {40, 45}};
  b.vbuckets[2] = zero;
  CHECK(encode_backup(b) ==
        R"({"formatVersion":1,"bucketUuid":"abc","vbuckets":{)"
        R"("2":{"vbuuid":0,"seqno":0,"snapshot":{"startSeqno":0,"endSeqno":0}},)"
        R"("10":{"vbuuid":-7032817290532466473,"seqno":45,"snapshot":{"startSeqno":40,)"
        R"("endSeqno":45}}}})");
}

TEST_CASE("a backup of 1024 vbuckets reads back equal, through a file") {
  scratch s;
  const auto b = sample(1024);
  auto path = s.dir / "nested" / "deeper" / "cp.json";
  REQUIRE(write_backup_file(path, b));
  CHECK(slurp(path) == encode_backup(b));
  auto back = read_backup_file(path);
  REQUIRE(back);
  CHECK(*back == b);
  CHECK(validate(*back, bucket_info{b.bucket_uuid, 1024}));
}

TEST_CASE("restore refuses another format version with the Java tool's message") {
  for (const auto& [text, shown] : std::vector<std::pair<std::string, std::string>>{
           {R"({"formatVersion":2,"bucketUuid":"","vbuckets":{}})", "2"},
           {R"({"formatVersion":"1","bucketUuid":"","vbuckets":{}})", "\"1\""},
           {R"({"bucketUuid":"","vbuckets":{}})", "(missing)"}}) {
    auto r = decode_backup(text);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::format_version);
    CHECK(r.error().message == "Unrecognized checkpoint format version: " + shown);
  }
}

TEST_CASE("restore refuses a backup of another bucket with the Java tool's message") {
  auto r = validate(sample(4), bucket_info{"other-uuid", 4});
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::bucket_uuid_mismatch);
  CHECK(r.error().message ==
        "Bucket UUID mismatch; checkpoint is from a bucket with UUID "
        "1c0c3e9b0a3a4a6e8f3e7d1b2a9c8d7e but this bucket has UUID other-uuid");
}

TEST_CASE("restore refuses another vbucket count with the Java tool's message") {
  auto r = validate(sample(64), bucket_info{sample(1).bucket_uuid, 1024});
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::vbucket_count_mismatch);
  CHECK(r.error().message ==
        "Bucket has 1024 vbuckets but the checkpoint file has 64 -- is it from a different "
        "operating system (for example, macOS vs Linux)?");
}

TEST_CASE("restore refuses a backup whose vbuckets are not 0..V-1") {
  auto b = sample(4);
  b.vbuckets.erase(2);
  b.vbuckets[7] = zero;
  auto r = validate(b, bucket_info{b.bucket_uuid, 4});
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::invalid_backup);
  CHECK_THAT(r.error().message, Catch::Contains("vbucket 7"));
}

TEST_CASE("a malformed backup file is a one-line error naming the key") {
  const std::string head = R"({"formatVersion":1,"bucketUuid":"u","vbuckets":)";
  const std::string ok_cp = R"({"vbuuid":1,"seqno":1,"snapshot":{"startSeqno":1,"endSeqno":1}})";
  for (const auto& [text, says] : std::vector<std::pair<std::string, std::string>>{
           {"", "not valid JSON"},
           {"{\"formatVersion\":1,", "not valid JSON"},
           {"[]", "must be a JSON object"},
           {R"({"formatVersion":1,"bucketUuid":7,"vbuckets":{}})", "bucketUuid must be a string"},
           {R"({"formatVersion":1,"vbuckets":{}})", "bucketUuid must be a string"},
           {R"({"formatVersion":1,"bucketUuid":"u"})", "vbuckets must be an object"},
           {head + "[]}", "vbuckets must be an object"},
           {head + R"({"x":)" + ok_cp + "}}", R"(vbuckets."x" is not a vbucket number)"},
           {head + R"({"-1":)" + ok_cp + "}}", R"(vbuckets."-1" is not a vbucket number)"},
           {head + R"({"01":)" + ok_cp + "}}", R"(vbuckets."01" is not a vbucket number)"},
           {head + R"({"65536":)" + ok_cp + "}}", R"(vbuckets."65536" is not a vbucket number)"},
           {head + R"({"3":null}})", R"(vbuckets."3" must be an object)"},
           {head + R"({"3":{"vbuuid":1,"seqno":1}}})", R"(missing key vbuckets."3".snapshot)"},
           {head + R"({"3":{"vbuuid":true,"seqno":1,"snapshot":{}}}})",
            R"(vbuckets."3".vbuuid must be a 64-bit integer)"},
       }) {
    INFO(text);
    auto r = decode_backup(text);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::invalid_backup);
    CHECK_THAT(r.error().message, Catch::Contains(says));
    CHECK(r.error().message.find('\n') == std::string::npos);
  }
}

TEST_CASE("reading a missing or oversized backup file is a file error naming the path") {
  scratch s;
  auto r = read_backup_file(s.dir / "absent.json");
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::file_error);
  CHECK_THAT(r.error().message, Catch::Contains("absent.json"));
  {
    std::ofstream garbage(s.dir / "bad.json");
    garbage << "{nope";
  }
  auto bad = read_backup_file(s.dir / "bad.json");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == errc::invalid_backup);
  CHECK_THAT(bad.error().message, Catch::StartsWith((s.dir / "bad.json").string()));
}

TEST_CASE("an atomic write leaves only the target, and replaces an older file whole") {
  scratch s;
  auto path = s.dir / "cp.json";
  REQUIRE(write_backup_file(path, sample(2)));
  REQUIRE(write_backup_file(path, sample(3)));
  CHECK(s.names() == std::vector<std::string>{"cp.json"});
  auto back = read_backup_file(path);
  REQUIRE(back);
  CHECK(back->vbuckets.size() == 3);
}

TEST_CASE("a failed atomic write leaves no temporary file and the target untouched") {
  scratch s;
  // The target is a folder: the rename fails after the temporary file was written.
  fs::create_directories(s.dir / "cp.json" / "inside");
  auto r = write_backup_file(s.dir / "cp.json", sample(2));
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::file_error);
  CHECK_THAT(r.error().message, Catch::Contains("cp.json"));
  CHECK(s.names() == std::vector<std::string>{"cp.json", "cp.json/inside"});

  // The parent is a regular file: no folder, no temporary file.
  { std::ofstream(s.dir / "plain") << "x"; }
  auto p = write_backup_file(s.dir / "plain" / "cp.json", sample(2));
  REQUIRE_FALSE(p);
  CHECK(p.error().code == errc::file_error);
  CHECK(slurp(s.dir / "plain") == "x");
  CHECK(s.names() == std::vector<std::string>{"cp.json", "cp.json/inside", "plain"});
}
