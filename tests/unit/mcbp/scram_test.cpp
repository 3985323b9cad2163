#include <catch2/catch.hpp>

#include "unit/mcbp/support.hpp"

#include "cbes/mcbp/scram.hpp"
#include "cbes/util/base64.hpp"

using namespace cbes::mcbp;

TEST_CASE("SCRAM-SHA-1 client reproduces the RFC 5802 example") {
  scram_client c{sasl_mechanism::scram_sha1, "user", "pencil", "fyko+d2lbbFgONRv9qkxdawL"};
  CHECK(c.client_first() == "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL");
  const auto final_msg =
      c.client_final("r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096");
  REQUIRE(final_msg);
  CHECK(*final_msg ==
        "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=");
  CHECK_FALSE(c.verify_server_final("v=rmF9pqV8S7suAoZWja4dJRkFsKQ="));
  CHECK(c.verify_server_final("v=AAAAAAAAAAAAAAAAAAAAAAAAAAA=") == errc::bad_server_signature);
  CHECK(c.verify_server_final("e=invalid-proof") == errc::authentication_failed);
}

TEST_CASE("SCRAM-SHA-256 client reproduces the RFC 7677 example") {
  scram_client c{sasl_mechanism::scram_sha256, "user", "pencil", "rOprNGfwEbeRWgbNEkqO"};
  CHECK(c.client_first() == "n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
  const auto final_msg = c.client_final(
      "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096");
  REQUIRE(final_msg);
  CHECK(*final_msg ==
        "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
        "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
  CHECK_FALSE(c.verify_server_final("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="));
}

TEST_CASE("SCRAM server reproduces the RFC 5802 and RFC 7677 exchanges") {
  struct vector_case {
    sasl_mechanism mech;
    std::string salt_b64, snonce, client_first, server_first, client_final, server_final;
  };
  const vector_case cases[] = {
      {sasl_mechanism::scram_sha1, "QSXCR+Q6sek8bf92", "3rfcNHYJY1ZVvWVs7j",
       "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL",
       "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
       "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
       "v=rmF9pqV8S7suAoZWja4dJRkFsKQ="},
      {sasl_mechanism::scram_sha256, "W22ZaJ0SNY7soEsUEjb6gQ==", "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
       "n,,n=user,r=rOprNGfwEbeRWgbNEkqO",
       "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
       "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
       "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
       "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="},
  };
  for (const auto& v : cases) {
    INFO(to_string(v.mech));
    const auto creds =
        scram_credentials::derive(v.mech, "pencil", *cbes::util::base64_decode(v.salt_b64), 4096);
    scram_server s{v.mech,
                   [&](std::string_view user) -> std::optional<scram_credentials> {
                     if (user == "user")
                       return creds;
                     return std::nullopt;
                   },
                   v.snonce};
    CHECK(s.server_first(v.client_first).value() == v.server_first);
    CHECK(s.username() == "user");
    CHECK(s.server_final(v.client_final).value() == v.server_final);
  }
}

TEST_CASE("SCRAM client and server agree for every mechanism with random nonces") {
  for (auto mech :
       {sasl_mechanism::scram_sha1, sasl_mechanism::scram_sha256, sasl_mechanism::scram_sha512}) {
    INFO(to_string(mech));
    const auto creds = scram_credentials::derive(mech, "s3cr=t,", "salty-salt", 1000);
    scram_server s{mech, [&](std::string_view user) -> std::optional<scram_credentials> {
                     if (user == "we=ird,name")
                       return creds;
                     return std::nullopt;
                   }};
    scram_client c{mech, "we=ird,name", "s3cr=t,"};
    CHECK(c.client_first().find("n=we=3Dird=2Cname,") != std::string::npos);
    const auto challenge = s.server_first(c.client_first());
    REQUIRE(challenge);
    const auto final_msg = c.client_final(*challenge);
    REQUIRE(final_msg);
    const auto verdict = s.server_final(*final_msg);
    REQUIRE(verdict);
    CHECK_FALSE(c.verify_server_final(*verdict));
    CHECK(s.username() == "we=ird,name");
  }
}

TEST_CASE("SCRAM server rejects a wrong password and an unknown user") {
  const auto creds = scram_credentials::derive(sasl_mechanism::scram_sha512, "right", "salt", 100);
  auto lookup = [&](std::string_view user) -> std::optional<scram_credentials> {
    if (user == "u")
      return creds;
    return std::nullopt;
  };
  scram_server s{sasl_mechanism::scram_sha512, lookup};
  scram_client c{sasl_mechanism::scram_sha512, "u", "wrong"};
  const auto challenge = s.server_first(c.client_first());
  REQUIRE(challenge);
  const auto final_msg = c.client_final(*challenge);
  REQUIRE(final_msg);
  CHECK(s.server_final(*final_msg).error() == errc::authentication_failed);

  scram_server s2{sasl_mechanism::scram_sha512, lookup};
  CHECK(s2.server_first("n,,n=nobody,r=abc").error() == errc::authentication_failed);
}

TEST_CASE("SCRAM client refuses malformed or foreign challenges") {
  scram_client c{sasl_mechanism::scram_sha256, "user", "pencil", "clientnonce"};
  CHECK(c.verify_server_final("v=abc") == errc::sasl_out_of_order);
  CHECK(c.client_final("r=othernonce,s=c2FsdA==,i=10").error() == errc::nonce_mismatch);
  CHECK(c.client_final("r=clientnonce,s=c2FsdA==,i=10").error() == errc::nonce_mismatch);
  CHECK(c.client_final("m=ext,r=clientnonceX,s=c2FsdA==,i=10").error() == errc::bad_sasl_message);
  CHECK(c.client_final("r=clientnonceX,s=!!!,i=10").error() == errc::bad_sasl_message);
  CHECK(c.client_final("r=clientnonceX,s=c2FsdA==,i=0").error() == errc::bad_sasl_message);
  CHECK(c.client_final("r=clientnonceX,s=c2FsdA==,i=99999999999").error() ==
        errc::bad_sasl_message);
  CHECK(c.client_final("garbage").error() == errc::bad_sasl_message);
  CHECK(c.client_final("").error() == errc::bad_sasl_message);
}

TEST_CASE("SCRAM server refuses channel binding, bad syntax and a replayed final") {
  const auto creds = scram_credentials::derive(sasl_mechanism::scram_sha1, "p", "s", 10);
  auto lookup = [&](std::string_view) -> std::optional<scram_credentials> { return creds; };
  CHECK(scram_server{sasl_mechanism::scram_sha1, lookup}
            .server_first("p=tls-unique,,n=u,r=x")
            .error() == errc::bad_sasl_message);
  CHECK(scram_server{sasl_mechanism::scram_sha1, lookup}.server_first("n,,r=x,n=u").error() ==
        errc::bad_sasl_message);
  CHECK(scram_server{sasl_mechanism::scram_sha1, lookup}.server_first("n,,n=a=zz,r=x").error() ==
        errc::bad_sasl_message);
  scram_server s{sasl_mechanism::scram_sha1, lookup};
  CHECK(s.server_final("c=biws,r=x,p=AAAA").error() == errc::sasl_out_of_order);
  scram_client c{sasl_mechanism::scram_sha1, "u", "p"};
  const auto final_msg = c.client_final(s.server_first(c.client_first()).value());
  REQUIRE(final_msg);
  CHECK(s.server_final(*final_msg));
  CHECK(s.server_final(*final_msg).error() == errc::sasl_out_of_order);
}

TEST_CASE("SCRAM server takes the nonces Couchbase SDKs send and refuses ',' and controls") {
  const auto creds = scram_credentials::derive(sasl_mechanism::scram_sha256, "pw", "salt", 10);
  auto lookup = [&](std::string_view) -> std::optional<scram_credentials> { return creds; };
  // The C++ SDK (under the Node.js and Python SDKs) sends space-separated hex bytes; cbsasl
  // accepts any isprint() character but ',' (see valid_nonce in scram.cpp for the RFC deviation).
  for (const std::string nonce :
       {"0x0c 0x40 0x9a 0x11 0x00 0xff 0x7e 0x01", "~tilde~", " ", "!~"}) {
    INFO(nonce);
    scram_server s{sasl_mechanism::scram_sha256, lookup, "SNONCE"};
    scram_client c{sasl_mechanism::scram_sha256, "user", "pw", nonce};
    const auto challenge = s.server_first(c.client_first());
    REQUIRE(challenge);
    CHECK(challenge->starts_with("r=" + nonce + "SNONCE,"));
    const auto final_msg = c.client_final(*challenge);
    REQUIRE(final_msg);
    const auto verdict = s.server_final(*final_msg);
    REQUIRE(verdict);
    CHECK_FALSE(c.verify_server_final(*verdict));
  }
  for (const std::string_view bad :
       {"n,,n=user,r=", "n,,n=user,r=a\tb", "n,,n=user,r=a\x7f", "n,,n=user,r=caf\xc3\xa9"}) {
    INFO(bad);
    CHECK(scram_server{sasl_mechanism::scram_sha256, lookup}.server_first(bad).error() ==
          errc::bad_sasl_message);
  }
  // ',' ends the attribute: "r=ab,cd" leaves a stray "cd" that is not an attribute.
  CHECK(scram_server{sasl_mechanism::scram_sha256, lookup}
            .server_first("n,,n=user,r=ab,cd")
            .error() == errc::bad_sasl_message);
}

TEST_CASE("SCRAM client accepts a server nonce with spaces and '~' but not a control byte") {
  scram_client c{sasl_mechanism::scram_sha1, "user", "pencil", "abc"};
  CHECK(c.client_final("r=abc 0x01 ~,s=c2FsdA==,i=10"));
  scram_client c2{sasl_mechanism::scram_sha1, "user", "pencil", "abc"};
  CHECK(c2.client_final("r=abc\x01,s=c2FsdA==,i=10").error() == errc::bad_sasl_message);
}
