#pragma once
// Interned strings: type names, object labels, edge names, root names.
// Id 0 is always the empty string, so a zero-initialised column means "none".
//
// Flat on purpose: a V8 snapshot or a Python dump interns ~1M strings, and a
// node-based map (one allocation per string and per entry) made interning
// the slowest part of reading them. Here the bytes live in large blocks that
// never move (views stay valid while more strings are interned), and the
// index is an open-addressing table of (hash, id) slots: a probe compares
// hashes inside the slot array and reads a string only on a hash match.
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "heapscope/big_vector.hpp"

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

  StringId intern(std::string_view text) { return intern_hashed(text, hash(text)); }
  // Interns view_of(0) .. view_of(count - 1) into ids[0 .. count - 1]. For
  // whole string tables (a V8 snapshot's two million strings): the slot of
  // each string is fetched from memory a few strings ahead, so the random
  // index reads overlap instead of each stalling in turn.
  template <class ViewOf>
  void intern_all(std::size_t count, const ViewOf& view_of, StringId* ids);
  // The id of text if it was interned, else kNoString (never interns).
  // Without the index (drop_index), a scan of every string.
  StringId find(std::string_view text) const;
  // Frees the index, for a table that is done growing (a built graph's: 23
  // MB of a 5M-node V8 snapshot's). A later intern() rebuilds it.
  void drop_index();
  std::string_view view(StringId id) const {
    const std::uint64_t span = spans_[id];
    if ((span & kBigBit) != 0) {
      const BigString& big = big_strings_[span & ~kBigBit];
      return {big.bytes.get(), big.size};
    }
    const std::size_t length = span & kLengthMask;
    if (length == 0) return {};
    return {blocks_[span >> kBlockShift].get() + ((span >> kOffsetShift) & kOffsetMask), length};
  }
  std::size_t size() const { return spans_.size(); }
  // Room for `count` more strings without growing the spans or the index.
  void reserve(std::size_t count);

 private:
  // Where each string is, in 8 bytes (a string_view took 16: 16 MB of a
  // 5M-node V8 snapshot's two million strings). A string of up to
  // kBlockSize / 4 bytes sits in one of the shared blocks:
  //   bits 0-18 its length, 19-38 its offset in the block, 39-62 the block.
  // A longer one has a block of its own: bit 63 set, the rest its index in
  // big_strings_.
  static constexpr unsigned kOffsetShift = 19, kBlockShift = 39;
  static constexpr std::uint64_t kLengthMask = (std::uint64_t{1} << kOffsetShift) - 1;
  static constexpr std::uint64_t kOffsetMask = (std::uint64_t{1} << (kBlockShift - kOffsetShift)) - 1;
  static constexpr std::uint64_t kBigBit = std::uint64_t{1} << 63;
  static constexpr std::size_t kMaxBlocks = std::size_t{1} << (63 - kBlockShift);
  static constexpr std::size_t kBlockSize = std::size_t{1} << 20;
  static_assert(kBlockSize - 1 <= kOffsetMask && kBlockSize / 4 <= kLengthMask);
  struct BigString {
    std::unique_ptr<char[]> bytes;
    std::size_t size;
  };
  static std::uint32_t hash(std::string_view text);
  StringId intern_hashed(std::string_view text, std::uint32_t hash);
  // The hash scaled to the index's size: the slot a probe starts at.
  std::size_t home(std::uint32_t hash) const { return static_cast<std::size_t>((std::uint64_t{hash} * slots_.size()) >> 32); }
  void prefetch_slot(std::uint32_t hash) const { __builtin_prefetch(slots_.data() + home(hash)); }
  // Copies text into the blocks; returns its span (see kOffsetShift).
  std::uint64_t store(std::string_view text);
  // The slot holding text's id, or the empty slot where it would go.
  std::size_t slot_of(std::string_view text, std::uint32_t hash) const;
  void grow_index(std::size_t min_slots);
  // Rebuilds a dropped index from the strings.
  void ensure_index() {
    if (slots_.empty()) rebuild_index();
  }
  void rebuild_index();

  std::vector<std::unique_ptr<char[]>> blocks_;
  std::vector<BigString> big_strings_;  // one per string longer than kBlockSize / 4
  std::size_t block_used_ = kBlockSize;  // bytes used in blocks_.back()
  // The two big arrays are BigVectors: mapped on their own, so growing and
  // freeing them does not raise malloc's mmap threshold (measured: with
  // std::vector, a V8 read left 20-40 MB more of later allocations in
  // malloc's heap, where freed memory stays resident).
  BigVector<std::uint64_t> spans_;  // by id
  // hash << 32 | (id + 1), or 0 for an empty slot; any size (not a power of
  // two), at most 70% full: sized to 70% by reserve(), 47-70% as it grows.
  BigVector<std::uint64_t> slots_;
};

template <class ViewOf>
void StringTable::intern_all(std::size_t count, const ViewOf& view_of, StringId* ids) {
  ensure_index();
  constexpr std::size_t kAhead = 8;
  std::uint32_t ahead[kAhead];
  for (std::size_t i = 0; i < count && i < kAhead; ++i) {
    ahead[i] = hash(view_of(i));
    prefetch_slot(ahead[i]);
  }
  for (std::size_t i = 0; i < count; ++i) {
    const std::uint32_t h = ahead[i % kAhead];
    if (i + kAhead < count) {
      ahead[i % kAhead] = hash(view_of(i + kAhead));
      prefetch_slot(ahead[i % kAhead]);
    }
    ids[i] = intern_hashed(view_of(i), h);
  }
}

}  // namespace heapscope
