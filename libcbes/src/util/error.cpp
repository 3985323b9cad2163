#include "cbes/util/error.hpp"

namespace cbes::util {

std::string exception_message(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    return x.what();
  } catch (...) {
  }
  return "unknown exception";
}

}  // namespace cbes::util
