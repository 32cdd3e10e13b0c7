#include "readers/json/json_scanner.hpp"

#include <algorithm>

#include <sys/mman.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <vector>

namespace heapscope::readers::json {
namespace {

// 8 MiB between madvise calls: three scanners read a V8 file at once (nodes,
// edges, strings), and with 32 MiB windows most of a 70 MB file stayed
// resident at its peak (1M nodes: 124 -> 99 MB; 5M nodes: no slower).
constexpr std::uintptr_t kReleaseChunk = std::uintptr_t{8} << 20;
constexpr std::size_t kMaxDepth = 4096;

std::string quoted(std::string_view what) { return std::string(what); }

// Length of the valid UTF-8 sequence at p (lead byte >= 0x80), 0 if invalid.
std::size_t utf8_sequence(const unsigned char* p, const unsigned char* end) {
  const unsigned char lead = p[0];
  std::size_t length = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // range of the second byte
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) lo = 0xA0;
    if (lead == 0xED) hi = 0x9F;  // no UTF-16 surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) lo = 0x90;
    if (lead == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (static_cast<std::size_t>(end - p) < length) return 0;
  if (p[1] < lo || p[1] > hi) return 0;
  for (std::size_t i = 2; i < length; ++i) {
    if (p[i] < 0x80 || p[i] > 0xBF) return 0;
  }
  return length;
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

constexpr std::uint32_t kReplacement = 0xFFFD;

// Bytes that may be copied as they are inside a string: printable ASCII but
// the quote and the backslash.
constexpr std::array<bool, 256> make_plain_table() {
  std::array<bool, 256> table{};
  for (int c = 0x20; c < 0x80; ++c) table[static_cast<std::size_t>(c)] = c != '"' && c != '\\';
  return table;
}
constexpr std::array<bool, 256> kPlain = make_plain_table();

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Scanner::Scanner(std::string_view bytes, bool release_mapped_pages, std::size_t start)
    : begin_(bytes.data()),
      p_(bytes.data() + std::min(start, bytes.size())),
      end_(bytes.data() + bytes.size()),
      release_(release_mapped_pages) {
  if (release_) {
    const auto page = static_cast<std::uintptr_t>(sysconf(_SC_PAGESIZE));
    // Only whole pages inside the scanned part are ever released.
    released_to_ = reinterpret_cast<const char*>((reinterpret_cast<std::uintptr_t>(p_) + page - 1) & ~(page - 1));
    next_release_ = reinterpret_cast<std::uintptr_t>(released_to_) + kReleaseChunk;
  }
}

void Scanner::release_pages() {
  const auto page = static_cast<std::uintptr_t>(sysconf(_SC_PAGESIZE));
  const char* upto = reinterpret_cast<const char*>(reinterpret_cast<std::uintptr_t>(p_) & ~(page - 1));
  if (upto > released_to_) {
    // Advice only: if the kernel refuses, the pages simply stay resident.
    madvise(const_cast<char*>(released_to_), static_cast<std::size_t>(upto - released_to_), MADV_DONTNEED);
    released_to_ = upto;
  }
  next_release_ = reinterpret_cast<std::uintptr_t>(p_) + kReleaseChunk;
}

void Scanner::fail_eof(std::string_view what) const {
  throw InputError("unexpected end of file (truncated?) in " + quoted(what), offset());
}

char Scanner::peek(std::string_view what) {
  skip_ws();
  if (p_ == end_) fail_eof(what);
  return *p_;
}

void Scanner::expect(char c, std::string_view what) {
  if (peek(what) != c) {
    fail(std::string("expected '") + c + "' in " + quoted(what));
  }
  ++p_;
}

std::string Scanner::read_string(std::string_view what) {
  std::string out;
  read_string_into(out, what);
  return out;
}

void Scanner::read_string_into(std::string& out, std::string_view what) {
  if (peek(what) != '"') fail("expected a string in " + quoted(what));
  const char* const start = p_;
  ++p_;
  for (;;) {
    const char* run = p_;
    while (p_ != end_ && kPlain[static_cast<unsigned char>(*p_)]) ++p_;
    out.append(run, static_cast<std::size_t>(p_ - run));
    if (p_ == end_) fail_at("unterminated string in " + quoted(what), start);
    const auto c = static_cast<unsigned char>(*p_);
    if (c == '"') {
      ++p_;
      return;
    }
    if (c >= 0x80) {
      const std::size_t n = utf8_sequence(reinterpret_cast<const unsigned char*>(p_),
                                          reinterpret_cast<const unsigned char*>(end_));
      if (n == 0) {
        append_utf8(out, kReplacement);
        ++p_;
      } else {
        out.append(p_, n);
        p_ += n;
      }
      continue;
    }
    if (c < 0x20) fail("control character in a string in " + quoted(what));
    // A backslash escape.
    if (end_ - p_ < 2) fail_at("unterminated string in " + quoted(what), start);
    const char e = p_[1];
    p_ += 2;
    switch (e) {
      case '"': out.push_back('"'); break;
      case '\\': out.push_back('\\'); break;
      case '/': out.push_back('/'); break;
      case 'b': out.push_back('\b'); break;
      case 'f': out.push_back('\f'); break;
      case 'n': out.push_back('\n'); break;
      case 'r': out.push_back('\r'); break;
      case 't': out.push_back('\t'); break;
      case 'u': {
        auto read_hex4 = [&](const char* at) -> int {
          if (end_ - at < 4) return -1;
          int v = 0;
          for (int i = 0; i < 4; ++i) {
            const int h = hex_value(at[i]);
            if (h < 0) return -1;
            v = v * 16 + h;
          }
          return v;
        };
        const int unit = read_hex4(p_);
        if (unit < 0) fail_at("bad \\u escape in " + quoted(what), p_ - 2);
        p_ += 4;
        std::uint32_t cp = static_cast<std::uint32_t>(unit);
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          // A high surrogate: pair it with a following \uDC00-\uDFFF, or
          // replace it (V8 can write lone surrogates from broken strings).
          int low = -1;
          if (end_ - p_ >= 6 && p_[0] == '\\' && p_[1] == 'u') low = read_hex4(p_ + 2);
          if (low >= 0xDC00 && low <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (static_cast<std::uint32_t>(low) - 0xDC00);
            p_ += 6;
          } else {
            cp = kReplacement;
          }
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
          cp = kReplacement;
        }
        append_utf8(out, cp);
        break;
      }
      default:
        fail_at("bad escape in a string in " + quoted(what), p_ - 2);
    }
  }
}

std::string_view Scanner::read_string_view(std::string& scratch, std::string_view what) {
  if (peek(what) != '"') fail("expected a string in " + quoted(what));
  const char* const start = p_ + 1;
  const char* p = start;
  while (p != end_ && kPlain[static_cast<unsigned char>(*p)]) ++p;
  if (p != end_ && *p == '"') {
    p_ = p + 1;
    return {start, static_cast<std::size_t>(p - start)};
  }
  scratch.clear();
  read_string_into(scratch, what);
  return scratch;
}

bool Scanner::consume_null() {
  skip_ws();
  if (end_ - p_ >= 4 && std::string_view(p_, 4) == "null") {
    p_ += 4;
    return true;
  }
  return false;
}

bool Scanner::begin_object(std::string_view what) { return open('{', '}', what); }

std::string_view Scanner::read_key(std::string& scratch, std::string_view what) {
  const std::string_view key = read_string_view(scratch, what);
  expect(':', what);
  return key;
}

bool Scanner::next_member(std::string_view what) { return separator('}', what); }

void Scanner::skip_value(std::string_view what) {
  // Iterative: a stack of the closing brackets still expected.
  std::vector<char> closers;
  std::string scratch;
  bool expect_value = true;  // a value is due (not a separator or a closer)
  for (;;) {
    const char c = peek(what);
    if (expect_value) {
      expect_value = false;
      if (c == '{' || c == '[') {
        if (closers.size() >= kMaxDepth) fail("nesting too deep in " + quoted(what));
        closers.push_back(c == '{' ? '}' : ']');
        ++p_;
        const char next = peek(what);
        if (next == closers.back()) {
          ++p_;
          closers.pop_back();
        } else {
          if (c == '{') read_key(scratch, what);
          expect_value = true;
          continue;
        }
      } else if (c == '"') {
        read_string_view(scratch, what);
      } else if ((c >= '0' && c <= '9') || c == '-' || c == 't' || c == 'f' || c == 'n') {
        const char* start = p_;
        while (p_ != end_ && ((*p_ >= '0' && *p_ <= '9') || *p_ == '-' || *p_ == '+' || *p_ == '.' ||
                              (*p_ >= 'a' && *p_ <= 'z') || (*p_ >= 'A' && *p_ <= 'Z'))) {
          ++p_;
        }
        const std::string_view word(start, static_cast<std::size_t>(p_ - start));
        const bool literal = word == "true" || word == "false" || word == "null";
        if (!literal && !(word[0] == '-' || (word[0] >= '0' && word[0] <= '9'))) {
          fail_at("bad literal in " + quoted(what), start);
        }
      } else {
        fail("expected a value in " + quoted(what));
      }
    }
    if (closers.empty()) return;
    // After a value inside a container: ',' or the closer.
    const char sep = peek(what);
    if (sep == ',') {
      ++p_;
      if (closers.back() == '}') read_key(scratch, what);
      expect_value = true;
    } else if (sep == closers.back()) {
      ++p_;
      closers.pop_back();
      if (closers.empty()) return;
    } else {
      fail("expected ',' or '" + std::string(1, closers.back()) + "' in " + quoted(what));
    }
  }
}

bool Scanner::begin_array(std::string_view what) { return open('[', ']', what); }

bool Scanner::open(char opener, char closer, std::string_view what) {
  expect(opener, what);
  if (peek(what) == closer) {
    ++p_;
    return false;
  }
  return true;
}

std::uint64_t Scanner::read_uint_slow(std::string_view what) {
  skip_ws();
  if (p_ == end_) fail_eof(what);
  const char* start = p_;
  if (*p_ < '0' || *p_ > '9') {
    fail(*p_ == '-' ? "negative number in " + quoted(what) : "expected an unsigned integer in " + quoted(what));
  }
  std::uint64_t value = 0;
  while (p_ != end_ && *p_ >= '0' && *p_ <= '9') {
    const auto digit = static_cast<std::uint64_t>(*p_ - '0');
    if (value > (UINT64_MAX - digit) / 10) fail_at("number too large in " + quoted(what), start);
    value = value * 10 + digit;
    ++p_;
  }
  if (p_ != end_ && (*p_ == '.' || *p_ == 'e' || *p_ == 'E')) {
    fail_at("expected an unsigned integer, not a fraction, in " + quoted(what), start);
  }
  return value;
}

bool Scanner::next_slow(std::string_view what) { return separator(']', what); }

bool Scanner::separator(char closer, std::string_view what) {
  const char c = peek(what);
  if (c == ',') {
    ++p_;
    return true;
  }
  if (c == closer) {
    ++p_;
    return false;
  }
  if (c == '.' || c == 'e' || c == 'E') fail("expected an unsigned integer, not a fraction, in " + quoted(what));
  fail("expected ',' or '" + std::string(1, closer) + "' in " + quoted(what));
}

}  // namespace heapscope::readers::json
