#pragma once
// A pull tokenizer over one JSON text that names tokens as Jackson does (START_OBJECT,
// FIELD_NAME, VALUE_STRING, ...). Elasticsearch's bulk parser reads action lines token by
// token, so its errors quote these names and it accepts some broken lines (a missing closing
// brace, trailing data) that a DOM parser would refuse (Elasticsearch's REST API docs).
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace cbes::testkit::es {

enum class token {
  none,  // end of input
  start_object,
  end_object,
  start_array,
  end_array,
  field_name,
  value_string,
  value_number_int,
  value_number_float,
  value_true,
  value_false,
  value_null,
};

// Jackson's JsonToken name, e.g. "START_ARRAY"; "null" for token::none as Java prints it.
const char* token_name(token t);
bool is_value(token t);

class json_tokens {
 public:
  explicit json_tokens(std::string_view text) : text_(text) {}

  // The next token; token::none at the end of the input or after an error (see failed()).
  token next();
  // Skips the children of the object/array just started (after start_object/start_array).
  void skip_children();

  bool failed() const { return !error_.empty(); }
  // "Unexpected character ('}' (code 125)): expected a value" and the like.
  const std::string& error() const { return error_; }
  // 1-based line and column of the current token (or of the error).
  std::size_t line() const { return line_; }
  std::size_t column() const { return column_; }
  // Decoded text of the last field_name / value_string, raw text of a number or literal.
  const std::string& text() const { return text_value_; }
  // True when nothing but whitespace follows the current position.
  bool at_end();

 private:
  enum class ctx { object, array };
  token fail(std::string message);
  void skip_ws();
  void mark(std::size_t at);
  bool read_string();
  token read_value_start();

  std::string_view text_;
  std::size_t pos_ = 0;
  std::vector<ctx> stack_;
  // In an object: whether the next token must be a key; in either: whether a value was read
  // since the last separator (so a ',' or the closing bracket is expected).
  bool expect_key_ = false;
  bool after_value_ = false;
  bool done_ = false;  // the root value is complete
  std::string error_;
  std::string text_value_;
  std::size_t line_ = 1, column_ = 1;
};

}  // namespace cbes::testkit::es
