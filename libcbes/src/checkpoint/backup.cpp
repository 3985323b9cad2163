#include "cbes/checkpoint/backup.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>
#include <system_error>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

#include "json_shape.hpp"

namespace cbes::checkpoint {
namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

constexpr std::uintmax_t max_backup_file_size = 64U * 1024U * 1024U;

std::optional<std::uint16_t> vbucket_number(std::string_view key) {
  if (key.empty() || key.size() > 5 || (key.size() > 1 && key.front() == '0'))
    return std::nullopt;
  std::uint32_t n = 0;
  for (char c : key) {
    if (c < '0' || c > '9')
      return std::nullopt;
    n = n * 10 + static_cast<std::uint32_t>(c - '0');
  }
  if (n > 0xffff)
    return std::nullopt;
  return static_cast<std::uint16_t>(n);
}

std::string system_message(int err) {
  return std::error_code(err, std::generic_category()).message();
}

// Closes a descriptor and removes the temporary file unless released.
struct temp_file {
  int fd = -1;
  std::string path;
  ~temp_file() {
    if (fd >= 0)
      ::close(fd);
    if (!path.empty())
      ::unlink(path.c_str());
  }
};

result<void> write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return make_error(errc::file_error, "write failed: " + system_message(errno));
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

}  // namespace

std::string encode_backup(const backup& b) {
  std::string out = R"({"formatVersion":1,"bucketUuid":)";
  out += json::serialize(json::string(b.bucket_uuid));
  out += R"(,"vbuckets":{)";
  bool first = true;
  for (const auto& [vb, cp] : b.vbuckets) {
    if (!first)
      out += ',';
    first = false;
    out += '"';
    out += std::to_string(vb);
    out += R"(":)";
    detail::append_checkpoint_json(out, cp);
  }
  out += "}}";
  return out;
}

result<backup> decode_backup(std::string_view text) {
  auto o = detail::parse_object(text, "the checkpoint file", errc::invalid_backup);
  if (!o)
    return o.error();
  const auto* version = o->if_contains("formatVersion");
  if (!version || !version->is_number() || !version->is_int64() || version->get_int64() != 1)
    return make_error(errc::format_version,
                      "Unrecognized checkpoint format version: " +
                          (version ? json::serialize(*version) : std::string("(missing)")));
  backup b;
  const auto* uuid = o->if_contains("bucketUuid");
  if (!uuid || !uuid->is_string())
    return make_error(errc::invalid_backup,
                      "the checkpoint file's key bucketUuid must be a string");
  b.bucket_uuid = std::string(uuid->get_string());
  const auto* vbuckets = o->if_contains("vbuckets");
  if (!vbuckets || !vbuckets->is_object())
    return make_error(errc::invalid_backup, "the checkpoint file's key vbuckets must be an object");
  for (const auto& entry : vbuckets->get_object()) {
    const std::string where = "vbuckets." + json::serialize(json::string(entry.key()));
    auto vb = vbucket_number(entry.key());
    if (!vb)
      return make_error(errc::invalid_backup,
                        "the checkpoint file's key " + where + " is not a vbucket number");
    auto cp = detail::checkpoint_from_json(entry.value(), where, errc::invalid_backup);
    if (!cp)
      return make_error(errc::invalid_backup,
                        "the checkpoint file is invalid: " + cp.error().message);
    if (!b.vbuckets.emplace(*vb, *cp).second)
      return make_error(errc::invalid_backup,
                        "the checkpoint file lists vbucket " + std::to_string(*vb) + " twice");
  }
  return b;
}

result<void> validate(const backup& b, const bucket_info& bucket) {
  if (b.bucket_uuid != bucket.uuid)
    return make_error(errc::bucket_uuid_mismatch,
                      "Bucket UUID mismatch; checkpoint is from a bucket with UUID " +
                          b.bucket_uuid + " but this bucket has UUID " + bucket.uuid);
  if (b.vbuckets.size() != bucket.num_vbuckets)
    return make_error(errc::vbucket_count_mismatch,
                      "Bucket has " + std::to_string(bucket.num_vbuckets) +
                          " vbuckets but the checkpoint file has " +
                          std::to_string(b.vbuckets.size()) +
                          " -- is it from a different operating system (for example, macOS vs "
                          "Linux)?");
  for (const auto& [vb, cp] : b.vbuckets)
    if (vb >= bucket.num_vbuckets)
      return make_error(errc::invalid_backup, "the checkpoint file has vbucket " +
                                                  std::to_string(vb) +
                                                  " but the bucket's vbuckets are 0.." +
                                                  std::to_string(bucket.num_vbuckets - 1));
  return {};
}

result<void> write_backup_file(const fs::path& path, const backup& b) {
  std::error_code ec;
  const fs::path target = fs::absolute(path, ec);
  if (ec || target.filename().empty())
    return make_error(errc::file_error,
                      "cannot write a checkpoint file to '" + path.string() + "': not a file path");
  const fs::path dir = target.parent_path();
  fs::create_directories(dir, ec);
  if (ec)
    return make_error(errc::file_error, "cannot create the folder '" + dir.string() +
                                            "' for the checkpoint file '" + target.string() +
                                            "': " + ec.message());
  const std::string bytes = encode_backup(b);
  temp_file temp;
  std::random_device seed;
  std::mt19937_64 rng(seed());
  // A fresh name beside the target (a rename is atomic only within one file system), created
  // exclusively with the usual 0666 & ~umask permissions, as Java's File.createTempFile does.
  for (int attempt = 0; attempt < 100 && temp.fd < 0; ++attempt) {
    std::string candidate =
        (dir / (target.filename().string() + "." + std::to_string(rng() % 1000000000) + ".tmp"))
            .string();
    const int fd = ::open(candidate.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0) {
      temp.fd = fd;
      temp.path = std::move(candidate);
    } else if (errno != EEXIST) {
      return make_error(errc::file_error, "cannot create a temporary file in '" + dir.string() +
                                              "': " + system_message(errno));
    }
  }
  if (temp.fd < 0)
    return make_error(errc::file_error,
                      "cannot create a temporary file in '" + dir.string() + "': name clash");
  auto written = write_all(temp.fd, bytes);
  if (!written)
    return make_error(errc::file_error,
                      "writing '" + temp.path + "' failed: " + written.error().message);
  if (::fsync(temp.fd) != 0 || ::close(temp.fd) != 0) {
    temp.fd = -1;
    return make_error(errc::file_error,
                      "flushing '" + temp.path + "' to disk failed: " + system_message(errno));
  }
  temp.fd = -1;
  if (::rename(temp.path.c_str(), target.c_str()) != 0)
    return make_error(errc::file_error,
                      "cannot replace '" + target.string() +
                          "' with the new checkpoint file: " + system_message(errno));
  temp.path.clear();  // renamed: nothing to remove
  // The rename itself is durable once the folder is flushed.
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return {};
}

result<backup> read_backup_file(const fs::path& path) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec)
    return make_error(errc::file_error,
                      "cannot read the checkpoint file '" + path.string() + "': " + ec.message());
  if (size > max_backup_file_size)
    return make_error(errc::file_error, "the checkpoint file '" + path.string() + "' is " +
                                            std::to_string(size) +
                                            " bytes, more than a checkpoint file can be");
  std::ifstream in(path, std::ios::binary);
  std::string text(static_cast<std::size_t>(size), '\0');
  if (!in || !in.read(text.data(), static_cast<std::streamsize>(text.size())))
    return make_error(errc::file_error, "cannot read the checkpoint file '" + path.string() + "'");
  auto b = decode_backup(text);
  if (b)
    return b;
  // The Java message first for a wrong version, then which file and what it should be.
  if (b.error().code == errc::format_version)
    return make_error(errc::format_version,
                      b.error().message + " in '" + path.string() +
                          "' (give a file written by checkpoint-backup, formatVersion 1)");
  return make_error(static_cast<errc>(b.error().code.value()),
                    path.string() + ": " + b.error().message);
}

}  // namespace cbes::checkpoint
