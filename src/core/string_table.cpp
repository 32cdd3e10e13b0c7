#include "heapscope/string_table.hpp"

#include <cstring>
#include <functional>

namespace heapscope {

namespace {
constexpr std::uint64_t slot_entry(std::uint32_t hash, StringId id) { return std::uint64_t{hash} << 32 | (id + 1u); }
constexpr std::uint32_t slot_hash(std::uint64_t entry) { return static_cast<std::uint32_t>(entry >> 32); }
constexpr StringId slot_id(std::uint64_t entry) { return static_cast<StringId>(entry) - 1; }
}  // namespace

std::uint32_t StringTable::hash(std::string_view text) {
  const std::size_t h = std::hash<std::string_view>{}(text);
  return static_cast<std::uint32_t>(h ^ (h >> 32));
}

StringTable::StringTable() {
  grow_index(64);
  intern("");
}

void StringTable::reserve(std::size_t count) {
  views_.reserve(count);
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

std::size_t StringTable::slot_of(std::string_view text, std::uint32_t hash) const {
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t slot = hash & mask;; slot = (slot + 1) & mask) {
    const std::uint64_t entry = slots_[slot];
    if (entry == 0) return slot;
    if (slot_hash(entry) == hash && views_[slot_id(entry)] == text) return slot;
  }
}

void StringTable::grow_index(std::size_t min_slots) {
  std::size_t size = 64;
  while (size < min_slots) size *= 2;
  std::vector<std::uint64_t> old(size, 0);
  old.swap(slots_);
  const std::size_t mask = size - 1;
  for (const std::uint64_t entry : old) {
    if (entry == 0) continue;
    std::size_t slot = slot_hash(entry) & mask;
    while (slots_[slot] != 0) slot = (slot + 1) & mask;
    slots_[slot] = entry;
  }
}

StringId StringTable::intern_hashed(std::string_view text, std::uint32_t hash) {
  const std::size_t slot = slot_of(text, hash);
  if (slots_[slot] != 0) return slot_id(slots_[slot]);
  const auto id = static_cast<StringId>(views_.size());
  views_.push_back(store(text));
  slots_[slot] = slot_entry(hash, id);
  if (views_.size() * 2 > slots_.size()) grow_index(slots_.size() * 2);  // load stays at most 1/2
  return id;
}

StringId StringTable::find(std::string_view text) const {
  const std::size_t slot = slot_of(text, hash(text));
  return slots_[slot] == 0 ? kNoString : slot_id(slots_[slot]);
}

}  // namespace heapscope
