// SigV4 signing checked against independent signers: AWS's published test-suite example and
// botocore (Debian's python3-botocore, the signer of the AWS CLI), for the requests the sink
// sends to Amazon OpenSearch Service.
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

#include "cbes/sink/aws_sigv4.hpp"
#include "support/require_tool.hpp"

using namespace cbes::sink;

namespace {

std::string header(const std::vector<std::pair<std::string, std::string>>& h,
                   const std::string& name) {
  for (const auto& [n, v] : h)
    if (n == name)
      return v;
  return {};
}

// 2015-08-30T12:36:00Z, the time of AWS's test suite.
std::chrono::system_clock::time_point suite_time() {
  return std::chrono::system_clock::from_time_t(1440938160);
}

// botocore's Authorization header for the request, at suite_time(). Fails the test (or skips
// it when CBES_ALLOW_SKIP=python) when /usr/bin/python3 has no botocore.
std::string botocore_authorization(const sigv4_request& r, const aws_credentials& c,
                                   const std::string& region) {
  if (std::system("/usr/bin/python3 -c 'import botocore' >/dev/null 2>&1") != 0) {
    if (cbes::test::skip_allowed("python")) {
      std::printf("skipped: python3-botocore is not installed and CBES_ALLOW_SKIP allows it\n");
      std::exit(cbes::test::skip_exit_code);
    }
    FAIL(
        "python3-botocore is not installed for /usr/bin/python3: run scripts/install-deps.sh "
        "(or set CBES_ALLOW_SKIP=python to skip this test)");
  }
  const auto dir =
      std::filesystem::temp_directory_path() / ("cbes-sigv4-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "payload", std::ios::binary) << r.payload;
  std::ofstream(dir / "sign.py") << R"(
import sys
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
method, host, target, region, key, secret, token, payload_file = sys.argv[1:9]
body = open(payload_file, 'rb').read()
headers = {'Host': host, 'X-Amz-Date': '20150830T123600Z'}
if token:
    headers['X-Amz-Security-Token'] = token
req = AWSRequest(method=method, url='https://' + host + target, data=body, headers=headers)
auth = SigV4Auth(Credentials(key, secret, token or None), 'es', region)
req.context['timestamp'] = '20150830T123600Z'
cr = auth.canonical_request(req)
sts = auth.string_to_sign(req, cr)
sig = auth.signature(sts, req)
signed = auth.signed_headers(auth.headers_to_sign(req))
print('AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s' % (
    key, auth.credential_scope(req), signed, sig))
)";
  const std::string cmd = "/usr/bin/python3 '" + (dir / "sign.py").string() + "' '" +
                          std::string(r.method) + "' '" + std::string(r.host) + "' '" +
                          std::string(r.target) + "' '" + region + "' '" + c.access_key_id + "' '" +
                          c.secret_access_key + "' '" + c.session_token + "' '" +
                          (dir / "payload").string() + "'";
  std::string out;
  if (FILE* p = ::popen(cmd.c_str(), "r")) {
    char buf[512];
    while (std::fgets(buf, sizeof buf, p))
      out += buf;
    ::pclose(p);
  }
  std::filesystem::remove_all(dir);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r'))
    out.pop_back();
  return out;
}

}  // namespace

TEST_CASE("sigv4: AWS's test-suite example get-vanilla signs as published") {
  // aws-sig-v4-test-suite/get-vanilla: GET / with host example.amazonaws.com, service
  // "service", us-east-1, the suite's example credentials.
  aws_credentials c{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
  auto h =
      sigv4_sign({.method = "GET", .host = "example.amazonaws.com", .target = "/", .payload = ""},
                 c, "us-east-1", "service", suite_time());
  CHECK(header(h, "X-Amz-Date") == "20150830T123600Z");
  CHECK(header(h, "Authorization") ==
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
        "SignedHeaders=host;x-amz-date, "
        "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

TEST_CASE("sigv4: the sink's requests sign as botocore signs them") {
  const aws_credentials plain{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
  const aws_credentials temporary{"ASIAEXAMPLE", "c2VjcmV0/LongSecret+Value",
                                  "FwoGZXIvYXdzE/token=="};
  const std::string host = "search-demo-abc123.eu-west-1.es.amazonaws.com";
  const std::string bulk =
      "{\"index\":{\"_index\":\"airlines\",\"_id\":\"airline_1\"}}\n"
      "{\"type\":\"airline\",\"name\":\"40-Mile Air\"}\n";
  struct example {
    const char* name;
    sigv4_request request;
    const aws_credentials* credentials;
  };
  const example examples[] = {
      {"version sniff", {"GET", host, "/", ""}, &plain},
      {"bulk with its timeout", {"POST", host, "/_bulk?timeout=1m", bulk}, &plain},
      {"bulk, temporary credentials", {"POST", host, "/_bulk?timeout=1m", bulk}, &temporary},
      {"a document whose ID was percent-encoded", {"GET", host, "/etc/_doc/a%2Fb%20c", ""}, &plain},
      {"several query parameters out of order",
       {"GET", host, "/etc/_search?size=0&q=type:airline&pretty", ""},
       &plain},
  };
  for (const auto& e : examples) {
    INFO(e.name);
    auto ours = sigv4_sign(e.request, *e.credentials, "eu-west-1", "es", suite_time());
    CHECK(header(ours, "Authorization") ==
          botocore_authorization(e.request, *e.credentials, "eu-west-1"));
    CHECK(header(ours, "X-Amz-Security-Token") == e.credentials->session_token);
  }
}

TEST_CASE("sigv4: credentials come from the environment, then the shared credentials file") {
  const auto dir =
      std::filesystem::temp_directory_path() / ("cbes-aws-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "credentials") << "[default]\naws_access_key_id = AKIDDEFAULT\n"
                                        "aws_secret_access_key = secret-default\n\n"
                                        "# a comment\n[ops]\naws_access_key_id=AKIDOPS\n"
                                        "aws_secret_access_key=secret-ops\n"
                                        "aws_session_token=token-ops\n";
  ::unsetenv("AWS_ACCESS_KEY_ID");
  ::unsetenv("AWS_SECRET_ACCESS_KEY");
  ::unsetenv("AWS_SESSION_TOKEN");
  ::setenv("AWS_SHARED_CREDENTIALS_FILE", (dir / "credentials").c_str(), 1);
  ::unsetenv("AWS_PROFILE");

  auto d = load_aws_credentials();
  REQUIRE(d.has_value());
  CHECK(d->access_key_id == "AKIDDEFAULT");
  CHECK(d->secret_access_key == "secret-default");
  CHECK(d->session_token.empty());

  ::setenv("AWS_PROFILE", "ops", 1);
  auto o = load_aws_credentials();
  REQUIRE(o.has_value());
  CHECK(o->access_key_id == "AKIDOPS");
  CHECK(o->session_token == "token-ops");

  ::setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "secret-env", 1);
  auto e = load_aws_credentials();
  REQUIRE(e.has_value());
  CHECK(e->access_key_id == "AKIDENV");

  ::unsetenv("AWS_ACCESS_KEY_ID");
  ::unsetenv("AWS_SECRET_ACCESS_KEY");
  ::setenv("AWS_PROFILE", "nosuch", 1);
  auto none = load_aws_credentials();
  REQUIRE_FALSE(none.has_value());
  CHECK(none.error().message.find("profile 'nosuch'") != std::string::npos);
  CHECK(none.error().message.find("AWS_ACCESS_KEY_ID") != std::string::npos);
  ::unsetenv("AWS_PROFILE");
  ::unsetenv("AWS_SHARED_CREDENTIALS_FILE");
  std::filesystem::remove_all(dir);
}
