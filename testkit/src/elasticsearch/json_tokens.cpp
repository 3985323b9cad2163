#include "json_tokens.hpp"

#include <cctype>

namespace cbes::testkit::es {

const char* token_name(token t) {
  switch (t) {
    case token::none:
      return "null";
    case token::start_object:
      return "START_OBJECT";
    case token::end_object:
      return "END_OBJECT";
    case token::start_array:
      return "START_ARRAY";
    case token::end_array:
      return "END_ARRAY";
    case token::field_name:
      return "FIELD_NAME";
    case token::value_string:
      return "VALUE_STRING";
    case token::value_number_int:
      return "VALUE_NUMBER_INT";
    case token::value_number_float:
      return "VALUE_NUMBER_FLOAT";
    case token::value_true:
      return "VALUE_TRUE";
    case token::value_false:
      return "VALUE_FALSE";
    case token::value_null:
      return "VALUE_NULL";
  }
  return "null";
}

bool is_value(token t) {
  return t == token::value_string || t == token::value_number_int ||
         t == token::value_number_float || t == token::value_true || t == token::value_false ||
         t == token::value_null;
}

namespace {

// Jackson's rendering of an offending character: ('}' (code 125)).
std::string describe_char(char ch) {
  auto code = static_cast<unsigned char>(ch);
  if (code < 0x20)
    return "(CTRL-CHAR, code " + std::to_string(code) + ")";
  return "('" + std::string(1, ch) + "' (code " + std::to_string(code) + "))";
}

void append_utf8(std::string& out, unsigned cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

}  // namespace

token json_tokens::fail(std::string message) {
  if (error_.empty()) {
    mark(pos_);
    error_ = std::move(message);
  }
  return token::none;
}

void json_tokens::skip_ws() {
  while (pos_ < text_.size() &&
         (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' || text_[pos_] == '\r'))
    ++pos_;
}

void json_tokens::mark(std::size_t at) {
  line_ = 1;
  column_ = 1;
  for (std::size_t i = 0; i < at && i < text_.size(); ++i) {
    if (text_[i] == '\n') {
      ++line_;
      column_ = 1;
    } else {
      ++column_;
    }
  }
}

bool json_tokens::at_end() {
  skip_ws();
  return pos_ >= text_.size();
}

bool json_tokens::read_string() {
  ++pos_;  // opening quote
  text_value_.clear();
  while (pos_ < text_.size()) {
    char ch = text_[pos_++];
    if (ch == '"')
      return true;
    if (static_cast<unsigned char>(ch) < 0x20) {
      --pos_;
      fail("Illegal unquoted character (" + describe_char(ch).substr(1) +
           ": has to be escaped using backslash to be included in string value");
      return false;
    }
    if (ch != '\\') {
      text_value_ += ch;
      continue;
    }
    if (pos_ >= text_.size())
      break;
    char esc = text_[pos_++];
    switch (esc) {
      case '"':
      case '\\':
      case '/':
        text_value_ += esc;
        break;
      case 'b':
        text_value_ += '\b';
        break;
      case 'f':
        text_value_ += '\f';
        break;
      case 'n':
        text_value_ += '\n';
        break;
      case 'r':
        text_value_ += '\r';
        break;
      case 't':
        text_value_ += '\t';
        break;
      case 'u': {
        auto hex4 = [this](unsigned& out) {
          if (pos_ + 4 > text_.size())
            return false;
          out = 0;
          for (int i = 0; i < 4; ++i) {
            char h = text_[pos_++];
            out <<= 4;
            if (h >= '0' && h <= '9')
              out |= static_cast<unsigned>(h - '0');
            else if (h >= 'a' && h <= 'f')
              out |= static_cast<unsigned>(h - 'a' + 10);
            else if (h >= 'A' && h <= 'F')
              out |= static_cast<unsigned>(h - 'A' + 10);
            else
              return false;
          }
          return true;
        };
        unsigned cp = 0;
        if (!hex4(cp)) {
          fail(
              "Unexpected character in escape sequence: expected a hex-digit for character escape "
              "sequence");
          return false;
        }
        if (cp >= 0xD800 && cp < 0xDC00 && pos_ + 6 <= text_.size() && text_[pos_] == '\\' &&
            text_[pos_ + 1] == 'u') {
          pos_ += 2;
          unsigned low = 0;
          if (hex4(low) && low >= 0xDC00 && low < 0xE000)
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        }
        append_utf8(text_value_, cp);
        break;
      }
      default:
        --pos_;
        fail("Unrecognized character escape " + describe_char(esc));
        return false;
    }
  }
  fail("Unexpected end-of-input: was expecting closing quote for a string value");
  return false;
}

token json_tokens::read_value_start() {
  mark(pos_);
  char ch = text_[pos_];
  auto scalar_done = [this] {
    if (stack_.empty())
      done_ = true;
  };
  switch (ch) {
    case '{':
      ++pos_;
      stack_.push_back(ctx::object);
      expect_key_ = true;
      after_value_ = false;
      return token::start_object;
    case '[':
      ++pos_;
      stack_.push_back(ctx::array);
      expect_key_ = false;
      after_value_ = false;
      return token::start_array;
    case '"':
      if (!read_string())
        return token::none;
      scalar_done();
      after_value_ = true;
      return token::value_string;
    default:
      break;
  }
  if (ch == '-' || (ch >= '0' && ch <= '9')) {
    std::size_t start = pos_;
    bool is_float = false;
    if (text_[pos_] == '-')
      ++pos_;
    if (pos_ >= text_.size() || text_[pos_] < '0' || text_[pos_] > '9')
      return fail("Unexpected character " + describe_char(pos_ < text_.size() ? text_[pos_] : ' ') +
                  ": expected digit (0-9) to follow minus sign, for valid numeric value");
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9')
      ++pos_;
    if (pos_ < text_.size() && text_[pos_] == '.') {
      is_float = true;
      ++pos_;
      while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9')
        ++pos_;
    }
    if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      is_float = true;
      ++pos_;
      if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-'))
        ++pos_;
      while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9')
        ++pos_;
    }
    text_value_.assign(text_.substr(start, pos_ - start));
    scalar_done();
    after_value_ = true;
    return is_float ? token::value_number_float : token::value_number_int;
  }
  std::size_t start = pos_;
  while (pos_ < text_.size() && std::isalnum(static_cast<unsigned char>(text_[pos_])))
    ++pos_;
  std::string_view word = text_.substr(start, pos_ - start);
  token t = token::none;
  if (word == "true")
    t = token::value_true;
  else if (word == "false")
    t = token::value_false;
  else if (word == "null")
    t = token::value_null;
  if (t == token::none) {
    pos_ = start;
    if (word.empty())
      return fail("Unexpected character " + describe_char(ch) + ": expected a value");
    return fail("Unrecognized token '" + std::string(word) +
                "': was expecting (JSON String, Number, Array, Object or token 'null', 'true' "
                "or 'false')");
  }
  text_value_.assign(word);
  scalar_done();
  after_value_ = true;
  return t;
}

token json_tokens::next() {
  for (;;) {
    if (failed())
      return token::none;
    skip_ws();
    if (pos_ >= text_.size()) {
      if (!stack_.empty())
        return fail(std::string("Unexpected end-of-input: expected close marker for ") +
                    (stack_.back() == ctx::object ? "Object" : "Array"));
      return token::none;
    }
    if (stack_.empty()) {
      if (done_)
        return token::none;  // trailing data: the caller asks at_end()
      return read_value_start();
    }
    char ch = text_[pos_];
    bool in_object = stack_.back() == ctx::object;
    char close = in_object ? '}' : ']';
    if (after_value_) {
      if (ch == ',') {
        ++pos_;
        after_value_ = false;
        expect_key_ = in_object;
        skip_ws();
        if (pos_ < text_.size() && text_[pos_] == close)
          return fail("Unexpected character " + describe_char(close) +
                      (in_object ? ": was expecting double-quote to start field name"
                                 : ": expected a value"));
        continue;
      }
      if (ch == close) {
        mark(pos_);
        ++pos_;
        stack_.pop_back();
        after_value_ = true;
        expect_key_ = false;
        if (stack_.empty())
          done_ = true;
        return in_object ? token::end_object : token::end_array;
      }
      return fail("Unexpected character " + describe_char(ch) +
                  (in_object ? ": was expecting comma to separate Object entries"
                             : ": was expecting comma to separate Array entries"));
    }
    if (ch == close && (in_object ? expect_key_ : true)) {
      // '{' '}' or '[' ']' right after opening (a ",}" was refused above).
      mark(pos_);
      ++pos_;
      stack_.pop_back();
      after_value_ = true;
      expect_key_ = false;
      if (stack_.empty())
        done_ = true;
      return in_object ? token::end_object : token::end_array;
    }
    if (in_object && expect_key_) {
      if (ch != '"')
        return fail("Unexpected character " + describe_char(ch) +
                    ": was expecting double-quote to start field name");
      mark(pos_);
      if (!read_string())
        return token::none;
      expect_key_ = false;
      skip_ws();
      if (pos_ >= text_.size() || text_[pos_] != ':')
        return fail("Unexpected character " +
                    describe_char(pos_ < text_.size() ? text_[pos_] : ' ') +
                    ": was expecting a colon to separate field name and value");
      ++pos_;
      skip_ws();
      if (pos_ >= text_.size())
        return fail("Unexpected end-of-input: expected a value");
      return token::field_name;
    }
    return read_value_start();
  }
}

void json_tokens::skip_children() {
  int depth = 1;
  while (depth > 0) {
    token t = next();
    if (t == token::none)
      return;
    if (t == token::start_object || t == token::start_array)
      ++depth;
    else if (t == token::end_object || t == token::end_array)
      --depth;
  }
}

}  // namespace cbes::testkit::es
