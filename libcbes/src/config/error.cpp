#include "cbes/config/error.hpp"

#include <ostream>

#include "cbes/config/secret.hpp"

namespace cbes::config {

std::string error::what() const {
  std::string out;
  for (const auto& p : problems) {
    if (!out.empty())
      out += '\n';
    out += p;
  }
  return out.empty() ? std::string("invalid configuration") : out;
}

std::string redacted(const secret& s) {
  return s.empty() ? "<empty>" : "<redacted>";
}

}  // namespace cbes::config
