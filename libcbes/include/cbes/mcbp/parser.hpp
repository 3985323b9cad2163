#pragma once
// Incremental, sans-I/O frame parser: the socket side feeds whatever it read, then pulls frames
// until the parser asks for more. Lengths are validated as soon as a header is complete, so a
// lying or oversized frame is refused before its body is buffered.
//
//   cbes::mcbp::parser p{20 * 1024 * 1024};
//   p.feed(bytes_read);
//   for (;;) {
//     auto r = p.next();
//     if (!r) { log(r.error().message()); close(); break; }   // the stream is unusable
//     if (!*r) break;                                          // need more bytes
//     handle(**r);   // views valid until the next feed()/next()/reset()
//   }
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "cbes/mcbp/frame.hpp"

namespace cbes::mcbp {

// Default maximum body: 20 MiB documents plus room for key, extras and xattrs.
inline constexpr std::size_t default_max_frame_size = 21 * 1024 * 1024;

class parser {
 public:
  explicit parser(std::size_t max_body_size = default_max_frame_size)
      : max_body_size_(max_body_size) {}

  // Appends received bytes. Invalidates frames returned earlier.
  void feed(std::string_view bytes);

  // A complete frame, nullopt when more bytes are needed, or an error. After an error every
  // further call returns the same error (a byte stream cannot resynchronise) until reset().
  result<std::optional<frame>> next();

  // Bytes buffered but not yet returned as frames.
  std::size_t buffered() const noexcept { return buffer_.size() - consumed_; }

  // Drops buffered bytes and any error (e.g. for a new connection).
  void reset() noexcept;

  std::size_t max_body_size() const noexcept { return max_body_size_; }

 private:
  std::size_t max_body_size_;
  std::string buffer_;
  std::size_t consumed_ = 0;
  boost::system::error_code error_;
};

}  // namespace cbes::mcbp
