#pragma once
// Small codecs Consul's API is built on: standard base64 (KV values in JSON) and Go's
// time.Duration text format (`wait`, `TTL`, `LockDelay`, `DeregisterCriticalServiceAfter`).
//
//   auto d = consul::parse_go_duration("1m30s");      // 90 s
//   std::string w = consul::format_go_duration(15s);  // "15s"
//   auto bytes = consul::base64_decode("dGVzdA==");    // "test"
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace consul {

// Standard base64 with padding (Go's encoding/json encodes []byte this way).
std::string base64_encode(std::string_view bytes);
// Returns nullopt when `text` is not valid padded standard base64.
std::optional<std::string> base64_decode(std::string_view text);

// Go's time.ParseDuration grammar: optional sign, then one or more decimal numbers (with an
// optional fraction) each followed by a unit ns, us, µs, ms, s, m, h; a bare "0" is allowed.
// Returns nullopt on anything else (empty text, missing unit, overflow).
std::optional<std::chrono::nanoseconds> parse_go_duration(std::string_view text);

// Shortest exact form in whole units: "15s", "1500ms", "1m30s" → "90s" is written "1m30s".
// Zero is "0s". Sub-millisecond remainders are written in µs/ns as Go does.
std::string format_go_duration(std::chrono::nanoseconds d);

}  // namespace consul
