#include "heapscope/string_table.hpp"

#include <cstring>
#include <functional>

namespace heapscope {

namespace {
std::uint32_t hash_text(std::string_view text) {
  const std::size_t h = std::hash<std::string_view>{}(text);
  return static_cast<std::uint32_t>(h ^ (h >> 32));
}
}  // namespace

StringTable::StringTable() {
  grow_index(64);
  intern("");
}

void StringTable::reserve(std::size_t count) {
  views_.reserve(count);
  hashes_.reserve(count);
  if (count * 2 > slots_.size()) grow_index(count * 2);
}

std::string_view StringTable::store(std::string_view text) {
  if (text.empty()) return {};
  if (text.size() > kBlockSize / 4) {
    // A big string gets a block of its own, so the current block is kept.
    big_blocks_.push_back(std::make_unique<char[]>(text.size()));
    std::memcpy(big_blocks_.back().get(), text.data(), text.size());
    return {big_blocks_.back().get(), text.size()};
  }
  if (kBlockSize - block_used_ < text.size()) {
    blocks_.push_back(std::make_unique<char[]>(kBlockSize));
    block_used_ = 0;
  }
  char* copy = blocks_.back().get() + block_used_;
  std::memcpy(copy, text.data(), text.size());
  block_used_ += text.size();
  return {copy, text.size()};
}

std::size_t StringTable::slot_of(std::string_view text, std::size_t hash) const {
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t slot = hash & mask;; slot = (slot + 1) & mask) {
    const std::uint32_t entry = slots_[slot];
    if (entry == 0) return slot;
    const StringId id = entry - 1;
    if (hashes_[id] == hash && views_[id] == text) return slot;
  }
}

void StringTable::grow_index(std::size_t min_slots) {
  std::size_t size = 64;
  while (size < min_slots) size *= 2;
  slots_.assign(size, 0);
  const std::size_t mask = size - 1;
  for (StringId id = 0; id < views_.size(); ++id) {
    std::size_t slot = hashes_[id] & mask;
    while (slots_[slot] != 0) slot = (slot + 1) & mask;
    slots_[slot] = id + 1;
  }
}

StringId StringTable::intern(std::string_view text) {
  const std::uint32_t hash = hash_text(text);
  std::size_t slot = slot_of(text, hash);
  if (slots_[slot] != 0) return slots_[slot] - 1;
  const auto id = static_cast<StringId>(views_.size());
  views_.push_back(store(text));
  hashes_.push_back(hash);
  slots_[slot] = id + 1;
  if (views_.size() * 2 > slots_.size()) grow_index(slots_.size() * 2);  // load stays at most 1/2
  return id;
}

StringId StringTable::find(std::string_view text) const {
  const std::size_t slot = slot_of(text, hash_text(text));
  return slots_[slot] == 0 ? kNoString : slots_[slot] - 1;
}

}  // namespace heapscope
