#pragma once
// Internal: password files (`pathToPassword`): a TOML file with the single key `password`,
// `${VAR}`-substituted like the config. Messages name the file but never show its content, not
// even the part a TOML syntax error points at (the Java connector's rule, to keep secrets out of
// logs).
#include <string>

#include <boost/system/result.hpp>

#include "cbes/config/env.hpp"
#include "cbes/config/secret.hpp"
#include "source.hpp"

namespace cbes::config::detail {

// The password, or the reason it could not be read (one line without any of the file's bytes).
boost::system::result<secret, std::string> read_secret_file(const path_base& base,
                                                            const std::string& path,
                                                            const env_lookup& env);

}  // namespace cbes::config::detail
