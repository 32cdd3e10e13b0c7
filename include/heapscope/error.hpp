#pragma once
// One error hierarchy for the whole library. The library and the readers
// throw; only the CLI catches, and it maps the type to an exit code:
//   InputError / UsageError -> 2, anything else -> 3.
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace heapscope {

// text with control characters (C0, DEL, and C1 as raw bytes or UTF-8) and
// invalid UTF-8 written as \n, \t or \xNN; valid UTF-8 text is kept. For
// messages that quote a file's or a user's text, so they stay one line and
// cannot drive a terminal. At most 1 KiB of text is shown.
std::string printable(std::string_view text);

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Bad command line: unknown id, option that does not fit the input, ...
class UsageError : public Error {
 public:
  using Error::Error;
};

// The input file is unreadable, truncated, corrupt or hostile. The reader
// that finds the problem knows the byte offset; the path and the format are
// usually filled in by the reader registry, which knows which reader ran.
class InputError : public Error {
 public:
  explicit InputError(std::string problem, std::optional<std::uint64_t> offset = std::nullopt,
                      std::string path = {}, std::string format = {});

  const std::string& problem() const { return problem_; }
  const std::optional<std::uint64_t>& offset() const { return offset_; }
  const std::string& path() const { return path_; }
  const std::string& format() const { return format_; }

  // A copy with path and format set where they were still empty.
  InputError with_context(const std::string& path, const std::string& format) const;

 private:
  static std::string compose(const std::string& problem, const std::optional<std::uint64_t>& offset,
                             const std::string& path, const std::string& format);
  std::string problem_;
  std::optional<std::uint64_t> offset_;
  std::string path_;
  std::string format_;
};

// The most bytes a snapshot's objects or traces may add up to: 2^63 - 1,
// so that every total, and every difference of two totals, fits a signed
// 64-bit count (no real heap comes near; a hostile file can).
inline constexpr std::uint64_t kMaxTotalBytes = 0x7FFFFFFFFFFFFFFFu;

// total + size, or InputError("<what> add up to more than ...") past
// kMaxTotalBytes. what: "the objects' sizes", "the traces' sizes".
inline std::uint64_t add_to_total(std::uint64_t total, std::uint64_t size, const char* what) {
  if (size > kMaxTotalBytes - total) {
    throw InputError(std::string(what) + " add up to more than 2^63 - 1 bytes; not a real heap");
  }
  return total + size;
}

}  // namespace heapscope
