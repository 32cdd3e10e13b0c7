#pragma once
// Open-addressing map from a 64-bit object id (an address, a Python id) to a
// 32-bit index: one flat array of 16-byte slots (key and value in the same
// cache line, so a lookup costs one miss, which prefetch() can start early),
// at most 70% full. Used wherever millions of ids are looked up (a node-based
// map would cost more than the graph itself). Grows as needed; size it up
// front when the count is known.
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace heapscope {

class IdIndex {
 public:
  static constexpr std::uint32_t kAbsent = 0xFFFFFFFFu;

  explicit IdIndex(std::size_t expected = 0) { slots_.assign(capacity_for(expected), Slot{}); }

  // Returns the index already stored for id, or kAbsent after storing value.
  std::uint32_t insert(std::uint64_t id, std::uint32_t value) {
    if (!has_room_for(size_ + 1)) rehash(slots_.size() * 2);
    for (std::size_t slot = hash(id);; slot = (slot + 1) & mask()) {
      Slot& s = slots_[slot];
      if (s.value == kAbsent) {
        s = {id, value};
        ++size_;
        return kAbsent;
      }
      if (s.key == id) return s.value;
    }
  }

  std::uint32_t find(std::uint64_t id) const {
    for (std::size_t slot = hash(id);; slot = (slot + 1) & mask()) {
      const Slot& s = slots_[slot];
      if (s.value == kAbsent) return kAbsent;
      if (s.key == id) return s.value;
    }
  }

  // Starts loading the slot where a find(id) will look first.
  void prefetch(std::uint64_t id) const { __builtin_prefetch(&slots_[hash(id)]); }

  // Frees the array (the index is empty and usable again).
  void clear() {
    std::vector<Slot>(capacity_for(0)).swap(slots_);
    size_ = 0;
  }

 private:
  struct Slot {
    std::uint64_t key = 0;
    std::uint32_t value = kAbsent;
  };

  static std::size_t capacity_for(std::size_t count) {
    std::size_t capacity = 16;
    while (capacity * 7 < count * 10) capacity <<= 1;
    return capacity;
  }
  bool has_room_for(std::size_t count) const { return count * 10 <= slots_.size() * 7; }
  std::size_t mask() const { return slots_.size() - 1; }
  std::size_t hash(std::uint64_t id) const {
    // Addresses are aligned and clustered: mix all bits before masking.
    id ^= id >> 33;
    id *= 0xff51afd7ed558ccdULL;
    id ^= id >> 33;
    return static_cast<std::size_t>(id) & mask();
  }
  void rehash(std::size_t capacity) {
    std::vector<Slot> old(capacity);
    old.swap(slots_);
    size_ = 0;
    for (const Slot& s : old) {
      if (s.value != kAbsent) insert(s.key, s.value);
    }
  }

  std::vector<Slot> slots_;
  std::size_t size_ = 0;
};

}  // namespace heapscope
