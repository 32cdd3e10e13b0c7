#pragma once
// A forward-only JSON scanner: reads the document in place, token by token,
// in one pass, with no DOM and no index of the whole document. Used for the
// big inputs (.heapsnapshot files, heapscope JSON graphs), whose memory must
// be the graph they become, not a multiple of the file. It needs no padding
// after the bytes (memory-mapped files have none), checks every byte it
// reads against the end, and reports problems with their byte offset.
//
// Why not simdjson for these: its On-Demand parser first builds an index of
// every structural character (4 bytes each: about a file's size again for a
// heap graph) and needs a padded copy of a mapped file; the integer arrays
// and short keys these files are made of parse at the speed of memory with
// a dedicated loop. simdjson still parses small headers (V8's `snapshot`).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "heapscope/error.hpp"

namespace heapscope::readers::json {

class Scanner {
 public:
  // release_mapped_pages: give parsed pages back to the kernel as the scan
  // goes (only for read-only file maps, which re-read from the file if the
  // pages are touched again).
  // start: where scanning begins (offsets stay counted from the bytes'
  // start), so that two scanners can read two parts of one document.
  Scanner(std::string_view bytes, bool release_mapped_pages, std::size_t start = 0);
  // Moves forward to `at` (inside the bytes, not behind the position),
  // past a part another scanner has read.
  void skip_to(const char* at) { p_ = at; }

  std::uint64_t offset() const { return static_cast<std::uint64_t>(p_ - begin_); }
  std::uint64_t offset_of(const char* at) const { return static_cast<std::uint64_t>(at - begin_); }
  const char* position() const { return p_; }
  bool at_end() const { return p_ == end_; }
  std::uint64_t remaining() const { return static_cast<std::uint64_t>(end_ - p_); }

  [[noreturn]] void fail(const std::string& problem) const { throw InputError(problem, offset()); }
  [[noreturn]] void fail_at(const std::string& problem, const char* at) const {
    throw InputError(problem, offset_of(at));
  }

  void skip_ws() {
    while (p_ != end_ && is_ws(*p_)) ++p_;
  }
  // The next significant character (whitespace skipped); fails at the end.
  char peek(std::string_view what);
  void expect(char c, std::string_view what);
  // A JSON string, unescaped, with invalid UTF-8 replaced by U+FFFD.
  std::string read_string(std::string_view what);
  void read_string_into(std::string& out, std::string_view what);
  // A JSON string as a view: into the bytes when it has no escapes and is
  // plain ASCII (the common case, no copy), else unescaped into scratch.
  // Valid until the next call with the same scratch.
  std::string_view read_string_view(std::string& scratch, std::string_view what);
  // Consumes `null` if it is the next value.
  bool consume_null();
  // Skips any JSON value (checks its structure, not every literal).
  void skip_value(std::string_view what);

  // Objects: begin_object() consumes '{' and says whether a member follows;
  // read_key() reads a member's key and its ':'; next_member() consumes ','
  // (true: another member follows) or '}' (false).
  bool begin_object(std::string_view what);
  std::string_view read_key(std::string& scratch, std::string_view what);
  bool next_member(std::string_view what);

  // Arrays of unsigned integers: begin_array() consumes '[' and says whether
  // the array has elements; read_uint() reads one element; next() consumes
  // the separator and says whether another element follows.
  bool begin_array(std::string_view what);
  std::uint64_t read_uint(std::string_view what) {
    if (end_ - p_ >= kFastSlack) {
      const char* p = p_;
      unsigned digit = static_cast<unsigned char>(*p) - '0';
      if (digit <= 9) {
        std::uint64_t value = digit;
        const char* const limit = p + kMaxFastDigits;
        ++p;
        while ((digit = static_cast<unsigned char>(*p) - '0') <= 9 && p < limit) {
          value = value * 10 + digit;
          ++p;
        }
        // A '.', 'e' or 'E' next is a fraction: the slow path says so.
        if (p < limit && *p != '.' && (*p | 0x20) != 'e') {
          p_ = p;
          return value;
        }
      }
    }
    return read_uint_slow(what);
  }
  bool next(std::string_view what) {
    if (p_ != end_ && *p_ == ',') {
      ++p_;
      return true;
    }
    return next_slow(what);
  }

  // Rows of kFields integers in V8's layout ("1,2,3" then "," or "\n," or
  // "]"): a fast path with no per-byte bounds checks. Reads one row into
  // `row` and its separator into `more`; returns false, consuming nothing,
  // when the row needs the careful path (near the end of the bytes, unusual
  // spacing, anything invalid). The careful path then finds the problem.
  template <std::size_t kFields>
  bool fast_row(std::uint64_t* row, bool& more) {
    constexpr std::ptrdiff_t kNeed = static_cast<std::ptrdiff_t>(kFields) * (kMaxFastDigits + 2) + 4;
    const char* p = p_;
    if (end_ - p < kNeed) return false;
    for (std::size_t f = 0; f < kFields; ++f) {
      unsigned digit = static_cast<unsigned char>(*p) - '0';
      if (digit > 9) return false;
      std::uint64_t value = digit;
      ++p;
      for (int i = 1;; ++i) {
        digit = static_cast<unsigned char>(*p) - '0';
        if (digit > 9) break;
        if (i == kMaxFastDigits) return false;
        value = value * 10 + digit;
        ++p;
      }
      row[f] = value;
      if (f + 1 < kFields) {
        if (*p != ',') return false;
        ++p;
      }
    }
    if (*p == '\n') ++p;
    if (*p == ',') {
      more = true;
    } else if (*p == ']') {
      more = false;
    } else {
      return false;
    }
    p_ = p + 1;
    return true;
  }

  // Called between rows: returns parsed pages to the kernel now and then.
  void maybe_release() {
    if (release_ && reinterpret_cast<std::uintptr_t>(p_) >= next_release_) release_pages();
  }

 private:
  static constexpr std::ptrdiff_t kFastSlack = 32;
  static constexpr int kMaxFastDigits = 19;  // 19 digits never overflow 64 bits
  static bool is_ws(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

  std::uint64_t read_uint_slow(std::string_view what);
  bool next_slow(std::string_view what);
  // '{' or '[' and whether the container has elements.
  bool open(char opener, char closer, std::string_view what);
  // ',' (true) or the container's closer (false) after an element.
  bool separator(char closer, std::string_view what);
  void release_pages();
  [[noreturn]] void fail_eof(std::string_view what) const;

  const char* begin_;
  const char* p_;
  const char* end_;
  bool release_ = false;
  const char* released_to_ = nullptr;  // pages below this were handed back
  std::uintptr_t next_release_ = 0;
};

}  // namespace heapscope::readers::json
