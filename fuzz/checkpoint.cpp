// libFuzzer target: checkpoint data from outside — a backup file given to
// checkpoint-restore, and the xattr a checkpoint document carries in Couchbase.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "cbes/checkpoint/backup.hpp"
#include "cbes/checkpoint/checkpoint.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  // A backup that decodes encodes to a backup that decodes to the same (restore after backup).
  if (auto b = cbes::checkpoint::decode_backup(text)) {
    auto again = cbes::checkpoint::decode_backup(cbes::checkpoint::encode_backup(*b));
    if (!again || !(*again == *b))
      std::abort();
  }
  static_cast<void>(cbes::checkpoint::decode_xattr(text));
  return 0;
}
