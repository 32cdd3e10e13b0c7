#pragma once
// Open-addressing map from a 64-bit object id (an address, a Python id) to a
// 32-bit index: two flat arrays, about 24 bytes per entry at load <= 0.5.
// Used wherever millions of ids are looked up (a node-based map would cost
// more than the graph itself). Grows as needed; size it up front when the
// count is known.
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace heapscope {

class IdIndex {
 public:
  static constexpr std::uint32_t kAbsent = 0xFFFFFFFFu;

  explicit IdIndex(std::size_t expected = 0) { resize_for(expected); }

  // Returns the index already stored for id, or kAbsent after storing value.
  std::uint32_t insert(std::uint64_t id, std::uint32_t value) {
    if ((size_ + 1) * 2 > keys_.size()) rehash(keys_.size() * 2);
    for (std::size_t slot = hash(id);; slot = (slot + 1) & mask_) {
      if (values_[slot] == kAbsent) {
        keys_[slot] = id;
        values_[slot] = value;
        ++size_;
        return kAbsent;
      }
      if (keys_[slot] == id) return values_[slot];
    }
  }

  std::uint32_t find(std::uint64_t id) const {
    for (std::size_t slot = hash(id);; slot = (slot + 1) & mask_) {
      if (values_[slot] == kAbsent) return kAbsent;
      if (keys_[slot] == id) return values_[slot];
    }
  }

  // Frees the arrays (the index is empty and usable again).
  void clear() {
    std::vector<std::uint64_t>().swap(keys_);
    std::vector<std::uint32_t>().swap(values_);
    size_ = 0;
    resize_for(0);
  }

 private:
  std::size_t hash(std::uint64_t id) const {
    // Addresses are aligned and clustered: mix all bits before masking.
    id ^= id >> 33;
    id *= 0xff51afd7ed558ccdULL;
    id ^= id >> 33;
    return static_cast<std::size_t>(id) & mask_;
  }
  void resize_for(std::size_t count) {
    std::size_t capacity = 16;
    while (capacity < count * 2) capacity <<= 1;
    keys_.assign(capacity, 0);
    values_.assign(capacity, kAbsent);
    mask_ = capacity - 1;
  }
  void rehash(std::size_t capacity) {
    std::vector<std::uint64_t> keys = std::move(keys_);
    std::vector<std::uint32_t> values = std::move(values_);
    keys_.assign(capacity, 0);
    values_.assign(capacity, kAbsent);
    mask_ = capacity - 1;
    size_ = 0;
    for (std::size_t i = 0; i < keys.size(); ++i) {
      if (values[i] != kAbsent) insert(keys[i], values[i]);
    }
  }

  std::size_t mask_ = 0, size_ = 0;
  std::vector<std::uint64_t> keys_;
  std::vector<std::uint32_t> values_;
};

}  // namespace heapscope
