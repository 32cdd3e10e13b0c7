#pragma once
// Open-addressing map from a 64-bit object id (an address, a Python id) to a
// 32-bit index: one flat array of 12-byte slots (id and value side by side,
// so a lookup costs about one cache miss, which prefetch() can start early),
// at most 70% full. Used wherever millions of ids are looked up (a node-based
// map would cost more than the graph itself). Grows as needed; size it up
// front when the count is known.
//
// Memory is the point of the layout: the id is stored as two 32-bit halves
// so a slot has no padding (16-byte slots made the table a third bigger),
// and the table has any size, not only powers of two (a slot is found by
// scaling the hash to the size), so it is 70% full when sized up front, not
// 35-70%. At 1.7M ids (a Python core) it went from 64 MB to 29-43 MB.
#include <cstddef>
#include <cstdint>

#include "heapscope/big_vector.hpp"

namespace heapscope {

class IdIndex {
 public:
  static constexpr std::uint32_t kAbsent = 0xFFFFFFFFu;

  explicit IdIndex(std::size_t expected = 0) { slots_.assign(capacity_for(expected), Slot{}); }

  // Returns the index already stored for id, or kAbsent after storing value.
  std::uint32_t insert(std::uint64_t id, std::uint32_t value) {
    if (!has_room_for(size_ + 1)) rehash(slots_.size() + slots_.size() / 2);
    for (std::size_t slot = home(id);; slot = next(slot)) {
      Slot& s = slots_[slot];
      if (s.value == kAbsent) {
        s = Slot(id, value);
        ++size_;
        return kAbsent;
      }
      if (s.id() == id) return s.value;
    }
  }

  std::uint32_t find(std::uint64_t id) const {
    for (std::size_t slot = home(id);; slot = next(slot)) {
      const Slot& s = slots_[slot];
      if (s.value == kAbsent) return kAbsent;
      if (s.id() == id) return s.value;
    }
  }

  // Starts loading the slot where a find(id) will look first.
  void prefetch(std::uint64_t id) const { __builtin_prefetch(&slots_[home(id)]); }

  // Frees the array (the index is empty and usable again).
  void clear() {
    BigVector<Slot>(capacity_for(0)).swap(slots_);
    size_ = 0;
  }

  std::size_t size() const { return size_; }
  std::size_t capacity() const { return slots_.size(); }

 private:
  struct Slot {
    Slot() = default;
    Slot(std::uint64_t id, std::uint32_t v)
        : id_low(static_cast<std::uint32_t>(id)), id_high(static_cast<std::uint32_t>(id >> 32)), value(v) {}
    std::uint64_t id() const { return std::uint64_t{id_high} << 32 | id_low; }
    std::uint32_t id_low = 0, id_high = 0;
    std::uint32_t value = kAbsent;
  };
  static_assert(sizeof(Slot) == 12);

  static std::size_t capacity_for(std::size_t count) { return count < 11 ? 16 : count * 10 / 7 + 1; }
  bool has_room_for(std::size_t count) const { return count * 10 <= slots_.size() * 7; }
  std::size_t home(std::uint64_t id) const {
    // Addresses are aligned and clustered: mix all bits, then scale the
    // 64-bit hash to the table's size (its high bits pick the slot).
    id ^= id >> 33;
    id *= 0xff51afd7ed558ccdULL;
    id ^= id >> 33;
    id *= 0xc4ceb9fe1a85ec53ULL;
    id ^= id >> 33;
    __extension__ typedef unsigned __int128 Wide;
    return static_cast<std::size_t>((static_cast<Wide>(id) * slots_.size()) >> 64);
  }
  std::size_t next(std::size_t slot) const { return slot + 1 == slots_.size() ? 0 : slot + 1; }
  void rehash(std::size_t capacity) {
    BigVector<Slot> old(capacity);
    old.swap(slots_);
    size_ = 0;
    for (const Slot& s : old) {
      if (s.value != kAbsent) insert(s.id(), s.value);
    }
  }

  BigVector<Slot> slots_;
  std::size_t size_ = 0;
};

}  // namespace heapscope
