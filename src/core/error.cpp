#include "heapscope/error.hpp"

#include <algorithm>

namespace heapscope {

InputError::InputError(std::string problem, std::optional<std::uint64_t> offset, std::string path,
                       std::string format)
    : Error(compose(problem, offset, path, format)),
      problem_(std::move(problem)),
      offset_(offset),
      path_(std::move(path)),
      format_(std::move(format)) {}

InputError InputError::with_context(const std::string& path, const std::string& format) const {
  return InputError(problem_, offset_, path_.empty() ? path : path_, format_.empty() ? format : format_);
}

namespace {

// Bytes in a valid UTF-8 sequence starting at text[i] that is not a C1
// control (U+0080-U+009F, which terminals also obey: U+009B is CSI); 0 when
// there is none, so the byte is escaped.
std::size_t printable_utf8_length(std::string_view text, std::size_t i) {
  const auto lead = static_cast<unsigned char>(text[i]);
  const std::size_t length = lead >= 0xc2 && lead <= 0xdf ? 2 : lead >= 0xe0 && lead <= 0xef ? 3
                             : lead >= 0xf0 && lead <= 0xf4                        ? 4
                                                                                   : 0;
  if (length == 0 || i + length > text.size()) return 0;
  for (std::size_t k = 1; k < length; ++k) {
    if ((static_cast<unsigned char>(text[i + k]) & 0xc0) != 0x80) return 0;
  }
  // The second byte's range that leaves out overlong forms (which some
  // decoders still read, e.g. as C1), UTF-16 surrogates and code points past
  // U+10FFFF, as the Unicode standard's table of well-formed UTF-8 does.
  const auto second = static_cast<unsigned char>(text[i + 1]);
  unsigned char low = 0x80, high = 0xbf;
  if (lead == 0xc2) low = 0xa0;  // U+0080-U+009F: C1 controls
  if (lead == 0xe0) low = 0xa0;
  if (lead == 0xed) high = 0x9f;
  if (lead == 0xf0) low = 0x90;
  if (lead == 0xf4) high = 0x8f;
  return second >= low && second <= high ? length : 0;
}

}  // namespace

std::string printable(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  // A hostile key can be megabytes long; a message needs its start only.
  constexpr std::size_t kMaxShown = 1024;
  const std::string_view head = text.substr(0, kMaxShown);
  std::string shown;
  shown.reserve(head.size());
  for (std::size_t i = 0; i < head.size();) {
    const char ch = head[i];
    const auto byte = static_cast<unsigned char>(ch);
    const std::size_t utf8 = byte >= 0x80 ? printable_utf8_length(head, i) : 0;
    if (utf8 > 0) {
      shown.append(head.substr(i, utf8));
      i += utf8;
      continue;
    }
    if (byte >= 0x20 && byte < 0x7f) {
      shown.push_back(ch);
    } else if (ch == '\n') {
      shown.append("\\n");
    } else if (ch == '\t') {
      shown.append("\\t");
    } else {
      shown.append("\\x").push_back(kHex[byte >> 4]);
      shown.push_back(kHex[byte & 0xf]);
    }
    ++i;
  }
  if (text.size() > kMaxShown) shown.append("... (").append(std::to_string(text.size() - kMaxShown)).append(" more bytes)");
  return shown;
}

// "dump.json: heapscope-graph: duplicate node id 7 (at byte 1234)". Path and
// problem may carry text from the file (a key, a type name) or from the user:
// made printable, so an error stays one line and cannot drive the terminal.
std::string InputError::compose(const std::string& problem, const std::optional<std::uint64_t>& offset,
                                const std::string& path, const std::string& format) {
  std::string text;
  // append() rather than operator+ chains: GCC 12 raises a false -Wrestrict
  // on the temporaries those create.
  if (!path.empty()) text.append(printable(path)).append(": ");
  if (!format.empty()) text.append(format).append(": ");
  text.append(printable(problem));
  if (offset) text.append(" (at byte ").append(std::to_string(*offset)).append(")");
  return text;
}

}  // namespace heapscope
