#pragma once
// The server side of SCRAM-SHA1/256/512 as Couchbase's cbsasl accepts it
// (mcbp-dcp-protocol.md §2.3). Unlike a strict RFC 5802 parser it takes any client nonce
// without ',' — the official C++ SDK (and so the Node.js SDK) sends nonces with spaces
// ("r=0x0c 0x40 ..."), which real servers accept. Credentials come from the codec's
// mcbp::scram_credentials.
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "cbes/mcbp/error.hpp"
#include "cbes/mcbp/sasl.hpp"
#include "cbes/mcbp/scram.hpp"

namespace cbes::testkit::couchbase {

class scram_exchange {
 public:
  using lookup = std::function<std::optional<mcbp::scram_credentials>(std::string_view)>;
  scram_exchange(mcbp::sasl_mechanism m, lookup l) : mechanism_(m), lookup_(std::move(l)) {}

  // client-first → the AuthContinue challenge; authentication_failed / bad_sasl_message.
  mcbp::result<std::string> server_first(std::string_view client_first);
  // client-final → "v=<ServerSignature>"; authentication_failed when the proof is wrong.
  mcbp::result<std::string> server_final(std::string_view client_final);
  const std::string& username() const noexcept { return username_; }

 private:
  mcbp::sasl_mechanism mechanism_;
  lookup lookup_;
  std::string username_, gs2_header_, client_first_bare_, server_first_, nonce_;
  std::optional<mcbp::scram_credentials> credentials_;
};

}  // namespace cbes::testkit::couchbase
