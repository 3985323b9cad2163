#include "cbes/mcbp/parser.hpp"

namespace cbes::mcbp {
namespace detail {
frame slice_frame(const header& h, std::string_view bytes);
}

void parser::feed(std::string_view bytes) {
  // Compact lazily: returned frames point into buffer_, and are invalidated only here.
  if (consumed_ > 0) {
    buffer_.erase(0, consumed_);
    consumed_ = 0;
  }
  buffer_.append(bytes);
}

result<std::optional<frame>> parser::next() {
  if (error_)
    return error_;
  const std::string_view pending = std::string_view(buffer_).substr(consumed_);
  if (pending.size() < header_size)
    return std::optional<frame>{};
  auto h = decode_header(pending);
  if (!h) {
    error_ = h.error();
    return error_;
  }
  if (h->body_length > max_body_size_) {
    error_ = errc::frame_too_large;
    return error_;
  }
  const std::size_t total = header_size + h->body_length;
  if (pending.size() < total)
    return std::optional<frame>{};
  consumed_ += total;
  return std::optional<frame>{detail::slice_frame(*h, pending.substr(0, total))};
}

void parser::reset() noexcept {
  buffer_.clear();
  consumed_ = 0;
  error_ = {};
}

}  // namespace cbes::mcbp
