#pragma once
// A password or token read from the configuration. It has no operator<< and no implicit
// conversion to a string, so that it cannot reach a log line by accident; code that needs the
// value (an authentication step) asks for it by name.
//
//   cbes::config::secret pw{"s3cret"};
//   options.password = pw.reveal();
//   log << "password: " << redacted(pw);  // "<redacted>"
#include <iosfwd>
#include <string>
#include <utility>

namespace cbes::config {

class secret {
 public:
  secret() = default;
  explicit secret(std::string value) : value_(std::move(value)) {}

  // The value itself, for the one place that must send it.
  const std::string& reveal() const noexcept { return value_; }
  bool empty() const noexcept { return value_.empty(); }

  bool operator==(const secret&) const = default;

 private:
  std::string value_;
};

// Printing a secret must be deliberate: use redacted() or reveal().
std::ostream& operator<<(std::ostream&, const secret&) = delete;

// "<redacted>" when set, "<empty>" when not: enough to tell a missing password from a wrong one.
std::string redacted(const secret& s);

}  // namespace cbes::config
