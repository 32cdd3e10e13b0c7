#pragma once
// Open-addressing map from a 64-bit object id (an address, a Python id) to
// its 32-bit position in an id column the caller keeps (ids[value] == id):
// the graph's object ids, a walk's list of objects. Used wherever millions
// of ids are looked up (a node-based map would cost more than the graph
// itself). At most 70% full; grows as needed; size it up front when the
// count is known.
//
// Memory is the point of the layout. A slot is 8 bytes: the value and a
// 32-bit fingerprint of the id (its hash's high half), not the id itself,
// which the column already holds; a probe compares fingerprints and reads
// the column only on a match (a false match, one in four billion, costs one
// more read). The table has any size, not only powers of two (the
// fingerprint scaled to the size picks the home slot), so it is 70% full
// when sized up front, not 35-70%. At 1.7M ids (a Python core) this went
// from 64 MB (16-byte slots holding the id, power-of-two sizes) to 25 MB.
#include <cstddef>
#include <cstdint>

#include "heapscope/big_vector.hpp"

namespace heapscope {

class IdIndex {
 public:
  static constexpr std::uint32_t kAbsent = 0xFFFFFFFFu;

  explicit IdIndex(std::size_t expected = 0) { slots_.assign(capacity_for(expected), Slot{}); }

  // Returns the value already stored for id, or kAbsent after storing
  // value. ids[value] must be id, now and for every later call (ids: a
  // pointer to the ids or a column of them).
  template <class Ids>
  std::uint32_t insert(std::uint64_t id, std::uint32_t value, const Ids& ids) {
    // Growing by a quarter keeps a table that was not sized up front 56-70%
    // full (by half: 47-70%); the extra rehashing is cheap next to the walk
    // that fills it (measured on a 1.7M-object Python core: 4 MB less, same time).
    if (!has_room_for(size_ + 1)) rehash(slots_.size() + slots_.size() / 4);
    const std::uint32_t print = fingerprint(id);
    for (std::size_t slot = home(print);; slot = next(slot)) {
      Slot& s = slots_[slot];
      if (s.value == kAbsent) {
        s = {print, value};
        ++size_;
        return kAbsent;
      }
      if (s.print == print && ids[s.value] == id) return s.value;
    }
  }

  template <class Ids>
  std::uint32_t find(std::uint64_t id, const Ids& ids) const {
    const std::uint32_t print = fingerprint(id);
    for (std::size_t slot = home(print);; slot = next(slot)) {
      const Slot& s = slots_[slot];
      if (s.value == kAbsent) return kAbsent;
      if (s.print == print && ids[s.value] == id) return s.value;
    }
  }

  // Starts loading the slot where a find(id) will look first.
  void prefetch(std::uint64_t id) const { __builtin_prefetch(&slots_[home(fingerprint(id))]); }

  // Frees the array (the index is empty and usable again).
  void clear() {
    BigVector<Slot>(capacity_for(0)).swap(slots_);
    size_ = 0;
  }

  std::size_t size() const { return size_; }
  std::size_t capacity() const { return slots_.size(); }

 private:
  struct Slot {
    std::uint32_t print = 0;
    std::uint32_t value = kAbsent;
  };

  static std::size_t capacity_for(std::size_t count) { return count < 11 ? 16 : count * 10 / 7 + 1; }
  bool has_room_for(std::size_t count) const { return count * 10 <= slots_.size() * 7; }
  static std::uint32_t fingerprint(std::uint64_t id) {
    // Addresses are aligned and clustered: mix every bit into the high half.
    id ^= id >> 33;
    id *= 0xff51afd7ed558ccdULL;
    id ^= id >> 33;
    id *= 0xc4ceb9fe1a85ec53ULL;
    id ^= id >> 33;
    return static_cast<std::uint32_t>(id >> 32);
  }
  // The fingerprint scaled to the table's size.
  std::size_t home(std::uint32_t print) const {
    __extension__ typedef unsigned __int128 Wide;  // a table may pass 2^32 slots
    return static_cast<std::size_t>((static_cast<Wide>(print) * slots_.size()) >> 32);
  }
  std::size_t next(std::size_t slot) const { return slot + 1 == slots_.size() ? 0 : slot + 1; }
  void rehash(std::size_t capacity) {
    // The fingerprints say where each entry goes: the ids are not needed.
    BigVector<Slot> old(capacity);
    old.swap(slots_);
    for (const Slot& s : old) {
      if (s.value == kAbsent) continue;
      std::size_t slot = home(s.print);
      while (slots_[slot].value != kAbsent) slot = next(slot);
      slots_[slot] = s;
    }
  }

  BigVector<Slot> slots_;
  std::size_t size_ = 0;
};

}  // namespace heapscope
