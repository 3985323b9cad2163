#include "cbes/util/parse_error.hpp"

#include <ostream>
#include <stdexcept>

namespace cbes::util {

std::ostream& operator<<(std::ostream& os, const parse_error& e) {
  return os << e.message;
}

void throw_exception_from_error(const parse_error& e, const boost::source_location&) {
  throw std::invalid_argument(e.message);
}

}  // namespace cbes::util
