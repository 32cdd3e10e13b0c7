#include "heapscope/error.hpp"

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

// "dump.json: heapscope-graph: duplicate node id 7 (at byte 1234)"
std::string InputError::compose(const std::string& problem, const std::optional<std::uint64_t>& offset,
                                const std::string& path, const std::string& format) {
  std::string text;
  // append() rather than operator+ chains: GCC 12 raises a false -Wrestrict
  // on the temporaries those create.
  if (!path.empty()) text.append(path).append(": ");
  if (!format.empty()) text.append(format).append(": ");
  text.append(problem);
  if (offset) text.append(" (at byte ").append(std::to_string(*offset)).append(")");
  return text;
}

}  // namespace heapscope
