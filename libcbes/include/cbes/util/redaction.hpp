#pragma once
// Log redaction of user data (`[logging] redactionLevel`), process-wide like the Couchbase SDKs'
// setting: libcbes marks document IDs and values in the lines it reports, and a level other than
// none wraps them in <ud>...</ud>, the tags Couchbase's log redaction tool (cblogredaction)
// removes or hashes.
//
//   cbes::util::set_redaction(cbes::util::redaction::partial);
//   warn("rejected document " + cbes::util::user_data(id));   // "rejected document <ud>k</ud>"
#include <string>
#include <string_view>

namespace cbes::util {

enum class redaction { none, partial, full };

void set_redaction(redaction level) noexcept;
redaction current_redaction() noexcept;

// `text` as user data for the level in force: unchanged at none, else <ud>text</ud>.
std::string user_data(std::string_view text);

}  // namespace cbes::util
