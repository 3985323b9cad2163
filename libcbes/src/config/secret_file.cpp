#include "secret_file.hpp"

#include "toml_reader.hpp"

namespace cbes::config::detail {
namespace {

using secret_result = boost::system::result<secret, std::string>;

// secret is constructible from a string too: say which side is meant.
secret_result failure(std::string why) {
  return secret_result(boost::system::in_place_error, std::move(why));
}

}  // namespace

boost::system::result<secret, std::string> read_secret_file(const path_base& base,
                                                            const std::string& path,
                                                            const env_lookup& env) {
  if (path.empty())
    return failure("must name a password file, got an empty string");
  const auto file = base.resolve(path);
  std::string why;
  auto raw = read_file(file, max_password_file_bytes, why);
  if (!raw)
    return failure("cannot read password file '" + file.string() + "': " + why + "; " + base.rule);
  const std::string text = substitute_env(*raw, env);
  diagnostics d{file.string()};
  auto root = parse_toml(text, d, false);
  if (!root)
    return failure("password file " + d.take_error().problems.front());
  const auto& t = root->as_table();
  const auto it = t.find("password");
  if (t.size() != 1 || it == t.end() || !it->second.is_string())
    return failure("password file '" + file.string() +
                   "' must hold exactly one string key, password = '...' (its content is not "
                   "shown, to keep secrets out of logs)");
  return secret(it->second.as_string().str);
}

}  // namespace cbes::config::detail
