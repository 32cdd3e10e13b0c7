#include "heapscope/string_table.hpp"

#include <algorithm>
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
  ensure_index();
  views_.reserve(count);
  if (count * 10 > slots_.size() * 7) grow_index(count * 10 / 7 + 1);
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
  for (std::size_t slot = home(hash);; slot = slot + 1 == slots_.size() ? 0 : slot + 1) {
    const std::uint64_t entry = slots_[slot];
    if (entry == 0) return slot;
    if (slot_hash(entry) == hash && views_[slot_id(entry)] == text) return slot;
  }
}

void StringTable::grow_index(std::size_t min_slots) {
  BigVector<std::uint64_t> old(std::max<std::size_t>(min_slots, 64), 0);
  old.swap(slots_);
  for (const std::uint64_t entry : old) {
    if (entry == 0) continue;
    std::size_t slot = home(slot_hash(entry));
    while (slots_[slot] != 0) slot = slot + 1 == slots_.size() ? 0 : slot + 1;
    slots_[slot] = entry;
  }
}

StringId StringTable::intern_hashed(std::string_view text, std::uint32_t hash) {
  ensure_index();
  const std::size_t slot = slot_of(text, hash);
  if (slots_[slot] != 0) return slot_id(slots_[slot]);
  const auto id = static_cast<StringId>(views_.size());
  views_.push_back(store(text));
  slots_[slot] = slot_entry(hash, id);
  if (views_.size() * 10 > slots_.size() * 7) grow_index(slots_.size() + slots_.size() / 2);  // at most 70% full
  return id;
}

void StringTable::drop_index() { BigVector<std::uint64_t>().swap(slots_); }

void StringTable::rebuild_index() {
  slots_.assign(std::max<std::size_t>(views_.size() * 10 / 7 + 1, 64), 0);
  for (StringId id = 0; id < views_.size(); ++id) {
    std::size_t slot = home(hash(views_[id]));
    while (slots_[slot] != 0) slot = slot + 1 == slots_.size() ? 0 : slot + 1;
    slots_[slot] = slot_entry(hash(views_[id]), id);
  }
}

StringId StringTable::find(std::string_view text) const {
  if (slots_.empty()) {
    const auto it = std::find(views_.begin(), views_.end(), text);
    return it == views_.end() ? kNoString : static_cast<StringId>(it - views_.begin());
  }
  const std::size_t slot = slot_of(text, hash(text));
  return slots_[slot] == 0 ? kNoString : slot_id(slots_[slot]);
}

}  // namespace heapscope
