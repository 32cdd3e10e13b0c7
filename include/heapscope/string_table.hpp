#pragma once
// Interned strings: type names, object labels, edge names, root names.
// Id 0 is always the empty string, so a zero-initialised column means "none".
//
// Flat on purpose: a V8 snapshot or a Python dump interns ~1M strings, and a
// node-based map (one allocation per string and per entry) made interning
// the slowest part of reading them. Here the bytes live in large blocks that
// never move (views stay valid while more strings are interned), and the
// index is an open-addressing table of ids.
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

namespace heapscope {

using StringId = std::uint32_t;
inline constexpr StringId kNoString = 0;

class StringTable {
 public:
  StringTable();
  StringTable(StringTable&&) noexcept = default;
  StringTable& operator=(StringTable&&) noexcept = default;
  StringTable(const StringTable&) = delete;
  StringTable& operator=(const StringTable&) = delete;

  StringId intern(std::string_view text);
  // The id of text if it was interned, else kNoString (never interns).
  StringId find(std::string_view text) const;
  std::string_view view(StringId id) const { return views_[id]; }
  std::size_t size() const { return views_.size(); }
  // Room for about `count` strings without growing the index.
  void reserve(std::size_t count);

 private:
  static constexpr std::size_t kBlockSize = std::size_t{1} << 20;
  std::string_view store(std::string_view text);
  // The slot holding text's id, or the empty slot where it would go.
  std::size_t slot_of(std::string_view text, std::size_t hash) const;
  void grow_index(std::size_t min_slots);

  std::vector<std::unique_ptr<char[]>> blocks_;
  std::vector<std::unique_ptr<char[]>> big_blocks_;  // one per string longer than kBlockSize / 4
  std::size_t block_used_ = kBlockSize;  // bytes used in blocks_.back()
  std::vector<std::string_view> views_;  // by id
  std::vector<std::uint32_t> hashes_;    // by id (low bits of the hash), for cheap rehashing
  std::vector<std::uint32_t> slots_;     // id + 1, or 0 for an empty slot; size a power of two
};

}  // namespace heapscope
