#include "cbes/sink/aws_sigv4.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <string>
#include <vector>

namespace cbes::sink {
namespace {

using digest = std::array<unsigned char, 32>;

digest sha256(std::string_view data) {
  digest out{};
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr);
  return out;
}

digest hmac(std::string_view key, std::string_view data) {
  digest out{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(), &len);
  return out;
}

std::string_view as_view(const digest& d) {
  return {reinterpret_cast<const char*>(d.data()), d.size()};
}

std::string hex(const digest& d) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(64);
  for (unsigned char c : d) {
    out += digits[c >> 4];
    out += digits[c & 0xf];
  }
  return out;
}

// RFC 3986 unreserved characters and '/' stay; everything else (including '%' of an existing
// escape: non-S3 services sign the path encoded twice) becomes %XX.
std::string uri_encode_path(std::string_view path) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : path) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '/') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += digits[c >> 4];
      out += digits[c & 0xf];
    }
  }
  return out;
}

// RFC 3986 §5.2.4 dot-segment removal; empty segments (consecutive slashes) go too, as AWS
// normalises them.
std::string normalize_path(std::string_view path) {
  if (path.empty())
    return "/";
  std::vector<std::string_view> kept;
  std::size_t start = 0;
  while (start <= path.size()) {
    auto slash = path.find('/', start);
    auto seg = path.substr(
        start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (seg == "..") {
      if (!kept.empty())
        kept.pop_back();
    } else if (!seg.empty() && seg != ".") {
      kept.push_back(seg);
    }
    if (slash == std::string_view::npos)
      break;
    start = slash + 1;
  }
  std::string out = path.front() == '/' ? "/" : "";
  for (std::size_t i = 0; i < kept.size(); ++i)
    out += (i ? "/" : "") + std::string(kept[i]);
  if (path.back() == '/' && !kept.empty())
    out += '/';
  return out;
}

// The query as sent, its key=value pairs sorted (a key without '=' gets an empty value).
std::string canonical_query(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> pairs;
  std::size_t start = 0;
  while (!query.empty() && start <= query.size()) {
    auto amp = query.find('&', start);
    auto pair =
        query.substr(start, amp == std::string_view::npos ? std::string_view::npos : amp - start);
    auto eq = pair.find('=');
    pairs.emplace_back(std::string(pair.substr(0, eq)),
                       eq == std::string_view::npos ? "" : std::string(pair.substr(eq + 1)));
    if (amp == std::string_view::npos)
      break;
    start = amp + 1;
  }
  std::sort(pairs.begin(), pairs.end());
  std::string out;
  for (const auto& [k, v] : pairs)
    out += (out.empty() ? "" : "&") + k + "=" + v;
  return out;
}

std::string trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string_view::npos)
    return {};
  const auto e = s.find_last_not_of(" \t\r");
  return std::string(s.substr(b, e - b + 1));
}

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

}  // namespace

result<aws_credentials> load_aws_credentials() {
  aws_credentials c{env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY"),
                    env("AWS_SESSION_TOKEN")};
  if (!c.access_key_id.empty() && !c.secret_access_key.empty())
    return c;

  std::string file = env("AWS_SHARED_CREDENTIALS_FILE");
  if (file.empty() && !env("HOME").empty())
    file = env("HOME") + "/.aws/credentials";
  std::string profile = env("AWS_PROFILE");
  if (profile.empty())
    profile = "default";
  const std::string looked = "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or give profile '" +
                             profile + "' aws_access_key_id and aws_secret_access_key in " +
                             (file.empty() ? std::string("~/.aws/credentials") : file);
  std::ifstream in(file);
  if (file.empty() || !in)
    return make_error(errc::invalid_argument,
                      "no AWS credentials for [elasticsearch.aws]: " + looked);
  aws_credentials f;
  bool in_profile = false;
  std::string line;
  while (std::getline(in, line)) {
    auto t = trim(line);
    if (t.empty() || t[0] == '#' || t[0] == ';')
      continue;
    if (t.front() == '[') {
      in_profile = t.back() == ']' && trim(std::string_view(t).substr(1, t.size() - 2)) == profile;
      continue;
    }
    auto eq = t.find('=');
    if (!in_profile || eq == std::string::npos)
      continue;
    auto key = trim(std::string_view(t).substr(0, eq));
    auto value = trim(std::string_view(t).substr(eq + 1));
    if (key == "aws_access_key_id")
      f.access_key_id = value;
    else if (key == "aws_secret_access_key")
      f.secret_access_key = value;
    else if (key == "aws_session_token")
      f.session_token = value;
  }
  if (f.access_key_id.empty() || f.secret_access_key.empty())
    return make_error(errc::invalid_argument,
                      "no AWS credentials for [elasticsearch.aws]: " + looked);
  return f;
}

std::vector<std::pair<std::string, std::string>> sigv4_sign(
    const sigv4_request& request, const aws_credentials& credentials, std::string_view region,
    std::string_view service, std::chrono::system_clock::time_point now) {
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm utc{};
  gmtime_r(&t, &utc);
  char stamp[17];
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &utc);
  const std::string amz_date = stamp;
  const std::string date = amz_date.substr(0, 8);

  const auto q = request.target.find('?');
  const auto path = request.target.substr(0, q);
  const auto query =
      q == std::string_view::npos ? std::string_view{} : request.target.substr(q + 1);

  // Headers signed, sorted by name: host, x-amz-date, and the token of temporary credentials.
  std::vector<std::pair<std::string, std::string>> signed_headers{{"host", trim(request.host)},
                                                                  {"x-amz-date", amz_date}};
  if (!credentials.session_token.empty())
    signed_headers.emplace_back("x-amz-security-token", credentials.session_token);
  std::string names;
  std::string canonical_headers;
  for (const auto& [name, value] : signed_headers) {
    names += (names.empty() ? "" : ";") + name;
    canonical_headers += name + ":" + value + "\n";
  }

  std::string method(request.method);
  std::transform(method.begin(), method.end(), method.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  const std::string canonical_request = method + "\n" + uri_encode_path(normalize_path(path)) +
                                        "\n" + canonical_query(query) + "\n" + canonical_headers +
                                        "\n" + names + "\n" + hex(sha256(request.payload));
  const std::string scope =
      date + "/" + std::string(region) + "/" + std::string(service) + "/aws4_request";
  const std::string string_to_sign =
      "AWS4-HMAC-SHA256\n" + amz_date + "\n" + scope + "\n" + hex(sha256(canonical_request));

  const auto k_date = hmac("AWS4" + credentials.secret_access_key, date);
  const auto k_region = hmac(as_view(k_date), region);
  const auto k_service = hmac(as_view(k_region), service);
  const auto k_signing = hmac(as_view(k_service), "aws4_request");
  const std::string signature = hex(hmac(as_view(k_signing), string_to_sign));

  std::vector<std::pair<std::string, std::string>> out{{"X-Amz-Date", amz_date}};
  if (!credentials.session_token.empty())
    out.emplace_back("X-Amz-Security-Token", credentials.session_token);
  out.emplace_back("Authorization", "AWS4-HMAC-SHA256 Credential=" + credentials.access_key_id +
                                        "/" + scope + ", SignedHeaders=" + names +
                                        ", Signature=" + signature);
  return out;
}

}  // namespace cbes::sink
