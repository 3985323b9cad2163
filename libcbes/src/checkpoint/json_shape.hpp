#pragma once
// The Java connector's Checkpoint JSON object, shared by the xattr document and the backup file.
#include <string>
#include <string_view>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "cbes/checkpoint/checkpoint.hpp"
#include "cbes/checkpoint/error.hpp"

namespace cbes::checkpoint::detail {

// Parses `text` as one JSON object; `what` names it in messages ("the checkpoint file").
result<boost::json::object> parse_object(std::string_view text, std::string_view what, errc code);

// Appends {"vbuuid":..,"seqno":..,"snapshot":{"startSeqno":..,"endSeqno":..}}, numbers as Java
// longs (two's complement).
void append_checkpoint_json(std::string& out, const checkpoint& cp);

// Reads that object. `where` names it in messages (e.g. `"checkpoint"`, `vbuckets."12"`);
// failures carry `code`.
result<checkpoint> checkpoint_from_json(const boost::json::value& v, std::string_view where,
                                        errc code);

}  // namespace cbes::checkpoint::detail
