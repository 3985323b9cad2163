#include "cbes/mcbp/sasl.hpp"

#include <algorithm>
#include <array>

#include "body.hpp"

namespace cbes::mcbp {

using detail::direction;

std::string_view to_string(sasl_mechanism m) noexcept {
  switch (m) {
    case sasl_mechanism::plain:
      return "PLAIN";
    case sasl_mechanism::scram_sha1:
      return "SCRAM-SHA1";
    case sasl_mechanism::scram_sha256:
      return "SCRAM-SHA256";
    case sasl_mechanism::scram_sha512:
      return "SCRAM-SHA512";
  }
  return "UNKNOWN";
}

std::optional<sasl_mechanism> parse_sasl_mechanism(std::string_view name) noexcept {
  for (auto m : {sasl_mechanism::plain, sasl_mechanism::scram_sha1, sasl_mechanism::scram_sha256,
                 sasl_mechanism::scram_sha512})
    if (to_string(m) == name)
      return m;
  return std::nullopt;
}

std::vector<sasl_mechanism> parse_mechanism_list(std::string_view list) {
  std::vector<sasl_mechanism> out;
  while (!list.empty()) {
    const auto space = list.find(' ');
    const auto name = list.substr(0, space);
    if (auto m = parse_sasl_mechanism(name))
      out.push_back(*m);
    if (space == std::string_view::npos)
      break;
    list.remove_prefix(space + 1);
  }
  return out;
}

result<sasl_mechanism> choose_mechanism(std::string_view server_list, bool allow_plain) {
  const auto offered = parse_mechanism_list(server_list);
  constexpr std::array preference{sasl_mechanism::scram_sha512, sasl_mechanism::scram_sha256,
                                  sasl_mechanism::scram_sha1, sasl_mechanism::plain};
  for (auto m : preference) {
    if (m == sasl_mechanism::plain && !allow_plain)
      continue;
    if (std::find(offered.begin(), offered.end(), m) != offered.end())
      return m;
  }
  return errc::unsupported_mechanism;
}

frame_builder sasl_list_mechs_request::encode() const {
  return frame_builder::request(opcode::sasl_list_mechs);
}

result<sasl_list_mechs_request> sasl_list_mechs_request::decode(const frame& f) {
  if (auto ec = detail::expect_bare(f, opcode::sasl_list_mechs, direction::request))
    return ec;
  if (!f.value.empty())
    return errc::bad_value;
  return sasl_list_mechs_request{};
}

frame_builder sasl_list_mechs_response::encode(status s) const {
  return frame_builder::response(opcode::sasl_list_mechs, s).value(mechanisms);
}

result<sasl_list_mechs_response> sasl_list_mechs_response::decode(const frame& f) {
  if (auto ec = detail::expect_bare(f, opcode::sasl_list_mechs, direction::response))
    return ec;
  return sasl_list_mechs_response{std::string(f.value)};
}

namespace {

template <class T>
result<T> decode_sasl_request(const frame& f, opcode op) {
  if (auto ec = detail::expect(f, op, direction::request))
    return ec;
  if (!f.extras.empty())
    return errc::bad_extras;
  if (f.key.empty())
    return errc::bad_key;
  return T{std::string(f.key), std::string(f.value)};
}

}  // namespace

frame_builder sasl_auth_request::encode() const {
  return frame_builder::request(opcode::sasl_auth).key(mechanism).value(payload);
}

result<sasl_auth_request> sasl_auth_request::decode(const frame& f) {
  return decode_sasl_request<sasl_auth_request>(f, opcode::sasl_auth);
}

frame_builder sasl_step_request::encode() const {
  return frame_builder::request(opcode::sasl_step).key(mechanism).value(payload);
}

result<sasl_step_request> sasl_step_request::decode(const frame& f) {
  return decode_sasl_request<sasl_step_request>(f, opcode::sasl_step);
}

frame_builder sasl_response::encode(opcode op, status s) const {
  return frame_builder::response(op, s).value(payload);
}

result<sasl_response> sasl_response::decode(const frame& f) {
  if (f.opcode() != opcode::sasl_auth && f.opcode() != opcode::sasl_step)
    return errc::unexpected_opcode;
  if (auto ec = detail::expect_bare(f, f.opcode(), direction::response))
    return ec;
  return sasl_response{std::string(f.value)};
}

std::string plain_auth_payload(std::string_view username, std::string_view password) {
  std::string out;
  out.push_back('\0');
  out.append(username);
  out.push_back('\0');
  out.append(password);
  return out;
}

result<plain_credentials> parse_plain_auth_payload(std::string_view payload) {
  const auto first = payload.find('\0');
  if (first == std::string_view::npos)
    return errc::bad_sasl_message;
  const auto second = payload.find('\0', first + 1);
  if (second == std::string_view::npos || payload.find('\0', second + 1) != std::string_view::npos)
    return errc::bad_sasl_message;
  plain_credentials c;
  c.authzid = payload.substr(0, first);
  c.username = payload.substr(first + 1, second - first - 1);
  c.password = payload.substr(second + 1);
  if (c.username.empty())
    return errc::bad_sasl_message;
  return c;
}

}  // namespace cbes::mcbp
