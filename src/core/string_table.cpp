#include "heapscope/string_table.hpp"

namespace heapscope {

StringTable::StringTable() { intern(""); }

StringTable::StringTable(StringTable&& other) noexcept
    : strings_(std::move(other.strings_)), index_(std::move(other.index_)) {}

StringTable& StringTable::operator=(StringTable&& other) noexcept {
  strings_ = std::move(other.strings_);
  index_ = std::move(other.index_);
  return *this;
}

StringId StringTable::intern(std::string_view text) {
  auto found = index_.find(text);
  if (found != index_.end()) return found->second;
  const auto id = static_cast<StringId>(strings_.size());
  strings_.emplace_back(text);
  index_.emplace(std::string_view(strings_.back()), id);
  return id;
}

StringId StringTable::find(std::string_view text) const {
  auto found = index_.find(text);
  return found == index_.end() ? kNoString : found->second;
}

}  // namespace heapscope
