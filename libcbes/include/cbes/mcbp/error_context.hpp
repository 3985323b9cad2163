#pragma once
// The JSON some error responses carry once HELLO XERROR is on (kv_engine's protocol docs):
// `{"error":{"context":"...","ref":"..."}}`, and `{"manifest_uid":"<hex>"}` with
// UnknownCollection / UnknownScope.
//
//   auto info = cbes::mcbp::parse_error_context(f.value);   // never fails: missing → empty
//   log("{}: {}", to_string(f.status()), info.context);
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cbes::mcbp {

struct error_context {
  std::string context;
  std::string ref;
  std::optional<std::uint64_t> manifest_uid;
};

// Best effort: a body that is not such JSON yields an empty error_context.
error_context parse_error_context(std::string_view value);

}  // namespace cbes::mcbp
