#pragma once
// A throw-away PKI for TLS tests, made with the openssl CLI in a temporary folder:
//   ca.pem / ca.key            the test CA
//   other-ca.pem               an unrelated CA (handshakes must fail with it)
//   server.pem / server.key    signed by ca.pem for IP:127.0.0.1 and DNS:localhost
//   other-name.pem             same key, signed by ca.pem for DNS:other.example only
//   client.pem                 same key, a client certificate (clientAuth) signed by ca.pem
//                              for CN=Administrator; stranger.pem the same for CN=stranger
//   client.p12, stranger.p12   PKCS12 keystores of them with their key, password "secret"
//                              (OpenSSL 3 defaults: AES-256, SHA-256 MAC)
//   client-legacy.p12          client.pem as OpenSSL 1.x wrote keystores (RC2-40, SHA-1 MAC)
//   client-nokey.p12           client.pem without its key
//   other-client.p12           CN=Administrator signed by other-ca.pem
//
//   cbes::test::pki certs("consul");
//   options.ca_file = certs.file("ca.pem");
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

#include <catch2/catch.hpp>

namespace cbes::test {

struct pki {
  std::filesystem::path dir;

  explicit pki(const std::string& name) {
    dir = std::filesystem::temp_directory_path() /
          ("cbes-tls-" + name + "-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "ext.cnf") << "subjectAltName=IP:127.0.0.1,DNS:localhost\n";
    std::ofstream(dir / "other.cnf") << "subjectAltName=DNS:other.example\n";
    std::ofstream(dir / "client.cnf") << "extendedKeyUsage=clientAuth\n";
    const std::string quiet = " >/dev/null 2>&1";
    const std::string script =
        "cd '" + dir.string() + "' && " +
        "openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 "
        "-subj /CN=test-ca" +
        quiet + " && " +
        "openssl req -x509 -newkey rsa:2048 -nodes -keyout other-ca.key -out other-ca.pem "
        "-days 2 -subj /CN=other-ca" +
        quiet + " && " +
        "openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr "
        "-subj /CN=localhost" +
        quiet + " && " +
        "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
        "-out server.pem -days 2 -extfile ext.cnf" +
        quiet + " && " +
        "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
        "-out other-name.pem -days 2 -extfile other.cnf" +
        quiet + " && " + client_certificate("client", "Administrator", "ca") + " && " +
        client_certificate("stranger", "stranger", "ca") + " && " +
        client_certificate("other-client", "Administrator", "other-ca") + " && " +
        "openssl pkcs12 -export -legacy -in client.pem -inkey server.key -out client-legacy.p12 "
        "-passout pass:secret" +
        quiet + " && " +
        "openssl pkcs12 -export -nokeys -in client.pem -out client-nokey.p12 -passout pass:secret" +
        quiet;
    REQUIRE(std::system(script.c_str()) == 0);
  }
  ~pki() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  pki(const pki&) = delete;
  pki& operator=(const pki&) = delete;

  std::string file(const char* name) const { return (dir / name).string(); }

 private:
  // <name>.pem (server.key's public key, subject CN=<cn>, signed by <ca>.pem) and <name>.p12.
  static std::string client_certificate(const std::string& name, const std::string& cn,
                                        const std::string& ca) {
    const std::string quiet = " >/dev/null 2>&1";
    return "openssl req -new -key server.key -out " + name + ".csr -subj /CN=" + cn + quiet +
           " && openssl x509 -req -in " + name + ".csr -CA " + ca + ".pem -CAkey " + ca +
           ".key -CAcreateserial -out " + name + ".pem -days 2 -extfile client.cnf" + quiet +
           " && openssl pkcs12 -export -in " + name + ".pem -inkey server.key -out " + name +
           ".p12 -passout pass:secret" + quiet;
  }
};

}  // namespace cbes::test
