#pragma once
// A throw-away PKI for TLS tests, made with the openssl CLI in a temporary folder:
//   ca.pem / ca.key            the test CA
//   other-ca.pem               an unrelated CA (handshakes must fail with it)
//   server.pem / server.key    signed by ca.pem for IP:127.0.0.1 and DNS:localhost
//   other-name.pem             same key, signed by ca.pem for DNS:other.example only
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
};

}  // namespace cbes::test
