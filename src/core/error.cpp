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

std::string printable(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  // A hostile key can be megabytes long; a message needs its start only.
  constexpr std::size_t kMaxShown = 1024;
  std::string shown;
  shown.reserve(std::min(text.size(), kMaxShown));
  for (const char ch : text.substr(0, kMaxShown)) {
    const auto byte = static_cast<unsigned char>(ch);
    if (byte >= 0x20 && byte != 0x7f) {
      shown.push_back(ch);
    } else if (ch == '\n') {
      shown.append("\\n");
    } else if (ch == '\t') {
      shown.append("\\t");
    } else {
      shown.append("\\x").push_back(kHex[byte >> 4]);
      shown.push_back(kHex[byte & 0xf]);
    }
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
