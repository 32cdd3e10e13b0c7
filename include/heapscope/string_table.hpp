#pragma once
// Interned strings: type names, object labels, edge names, root names.
// Id 0 is always the empty string, so a zero-initialised column means "none".
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace heapscope {

using StringId = std::uint32_t;
inline constexpr StringId kNoString = 0;

class StringTable {
 public:
  StringTable();
  StringTable(StringTable&&) noexcept;
  StringTable& operator=(StringTable&&) noexcept;
  StringTable(const StringTable&) = delete;
  StringTable& operator=(const StringTable&) = delete;

  StringId intern(std::string_view text);
  // The id of text if it was interned, else kNoString (never interns).
  StringId find(std::string_view text) const;
  std::string_view view(StringId id) const { return strings_[id]; }
  std::size_t size() const { return strings_.size(); }

 private:
  void rebuild_index();
  // A deque keeps every string at a stable address, so the index can key on
  // views into it without a second copy of each string.
  std::deque<std::string> strings_;
  std::unordered_map<std::string_view, StringId> index_;
};

}  // namespace heapscope
