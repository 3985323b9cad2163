#include "error_map_json.hpp"

#include <boost/json.hpp>

#include <cstdio>

#include "cbes/mcbp/status.hpp"

namespace cbes::testkit::couchbase {

namespace {

struct entry {
  std::uint16_t code;
  const char* name;
  const char* desc;
  std::initializer_list<const char*> attrs;
};

// Names and attributes as kv_engine's error_map_v2.json has them (kv_engine's protocol docs).
const entry entries[] = {
    {0x00, "SUCCESS", "Success", {"success"}},
    {0x01, "KEY_ENOENT", "Not Found", {"item-only"}},
    {0x02, "KEY_EEXISTS", "key already exists, or CAS mismatch", {"item-only"}},
    {0x03, "E2BIG", "Value is too big", {"item-only", "invalid-input"}},
    {0x04, "EINVAL", "Invalid packet", {"internal", "invalid-input"}},
    {0x05, "NOT_STORED", "Not Stored", {"item-only"}},
    {0x06, "DELTA_BADVAL", "Existing document not a number", {"item-only", "invalid-input"}},
    {0x07,
     "NOT_MY_VBUCKET",
     "Server which received this command does not own the vBucket",
     {"fetch-config", "retry-now"}},
    {0x08, "NO_BUCKET", "Not connected to a bucket", {"conn-state-invalidated"}},
    {0x09, "LOCKED", "Requested resource is locked", {"item-locked", "item-only", "retry-later"}},
    {0x1f, "AUTH_STALE", "Authentication is stale", {"conn-state-invalidated", "auth"}},
    {0x20, "AUTH_ERROR", "Authentication failed", {"conn-state-invalidated", "auth"}},
    {0x21, "AUTH_CONTINUE", "Continue authentication", {"special-handling"}},
    {0x22, "ERANGE", "Invalid range", {"invalid-input"}},
    {0x23, "ROLLBACK", "Rollback required", {"special-handling", "dcp"}},
    {0x24, "EACCESS", "No access", {"conn-state-invalidated", "auth"}},
    {0x25, "NOT_INITIALIZED", "Not initialized", {"temp", "retry-later"}},
    {0x80, "UNKNOWN_FRAME_INFO", "Unknown frame info", {"support", "internal"}},
    {0x81, "UNKNOWN_COMMAND", "Unknown command", {"support"}},
    {0x82, "ENOMEM", "Out of memory", {"temp", "retry-later"}},
    {0x83, "NOT_SUPPORTED", "Not supported", {"support"}},
    {0x84, "EINTERNAL", "Internal error", {"internal"}},
    {0x85, "EBUSY", "Server too busy", {"temp", "retry-later"}},
    {0x86, "ETMPFAIL", "Temporary failure", {"temp", "retry-later"}},
    {0x87, "XATTR_EINVAL", "Invalid XATTR", {"invalid-input"}},
    {0x88, "UNKNOWN_COLLECTION", "Unknown collection", {"fetch-config", "item-only"}},
    {0x8c, "UNKNOWN_SCOPE", "Unknown scope", {"fetch-config", "item-only"}},
    {0xc0, "SUBDOC_PATH_ENOENT", "Subdoc: path not found", {"subdoc", "item-only"}},
    {0xc1, "SUBDOC_PATH_MISMATCH", "Subdoc: path mismatch", {"subdoc", "item-only"}},
    {0xc2, "SUBDOC_PATH_EINVAL", "Subdoc: invalid path", {"subdoc", "invalid-input"}},
    {0xc3, "SUBDOC_PATH_E2BIG", "Subdoc: path too big", {"subdoc", "invalid-input"}},
    {0xc4, "SUBDOC_DOC_E2DEEP", "Subdoc: document too deep", {"subdoc", "item-only"}},
    {0xc5, "SUBDOC_VALUE_CANTINSERT", "Subdoc: cannot insert value", {"subdoc", "invalid-input"}},
    {0xc6, "SUBDOC_DOC_NOT_JSON", "Subdoc: document not JSON", {"subdoc", "item-only"}},
    {0xc7, "SUBDOC_NUM_ERANGE", "Subdoc: number out of range", {"subdoc", "item-only"}},
    {0xc8, "SUBDOC_DELTA_EINVAL", "Subdoc: invalid delta", {"subdoc", "invalid-input"}},
    {0xc9, "SUBDOC_PATH_EEXISTS", "Subdoc: path exists", {"subdoc", "item-only"}},
    {0xca, "SUBDOC_VALUE_ETOODEEP", "Subdoc: value too deep", {"subdoc", "invalid-input"}},
    {0xcb, "SUBDOC_INVALID_COMBO", "Subdoc: invalid combination", {"subdoc", "invalid-input"}},
    {0xcc, "SUBDOC_MULTI_PATH_FAILURE", "Subdoc: one or more paths failed", {"subdoc"}},
    {0xcd,
     "SUBDOC_SUCCESS_DELETED",
     "Subdoc: success on a deleted document",
     {"subdoc", "success"}},
    {0xce,
     "SUBDOC_XATTR_INVALID_FLAG_COMBO",
     "Subdoc: invalid xattr flag combination",
     {"subdoc", "invalid-input"}},
    {0xcf,
     "SUBDOC_XATTR_INVALID_KEY_COMBO",
     "Subdoc: invalid xattr key combination",
     {"subdoc", "invalid-input"}},
    {0xd0, "SUBDOC_XATTR_UNKNOWN_MACRO", "Subdoc: unknown macro", {"subdoc", "invalid-input"}},
    {0xd1,
     "SUBDOC_XATTR_UNKNOWN_VATTR",
     "Subdoc: unknown virtual attribute",
     {"subdoc", "invalid-input"}},
    {0xd2,
     "SUBDOC_XATTR_CANT_MODIFY_VATTR",
     "Subdoc: cannot modify a virtual attribute",
     {"subdoc", "invalid-input"}},
    {0xd3,
     "SUBDOC_MULTI_PATH_FAILURE_DELETED",
     "Subdoc: one or more paths failed on a deleted document",
     {"subdoc"}},
    {0xd4,
     "SUBDOC_INVALID_XATTR_ORDER",
     "Subdoc: xattr paths must come first",
     {"subdoc", "invalid-input"}},
};

}  // namespace

std::string error_map_json(std::uint16_t version) {
  boost::json::object errors;
  for (const auto& e : entries) {
    char code[8];
    std::snprintf(code, sizeof code, "%x", e.code);
    boost::json::array attrs;
    for (const char* a : e.attrs)
      attrs.emplace_back(a);
    errors[code] = boost::json::object{{"name", e.name}, {"desc", e.desc}, {"attrs", attrs}};
  }
  boost::json::object o{{"version", version >= 2 ? 2 : 1}, {"revision", 1}, {"errors", errors}};
  return boost::json::serialize(o);
}

}  // namespace cbes::testkit::couchbase
