#include "heapscope/string_table.hpp"

#include <algorithm>
#include <cstring>
#include <functional>
#include <stdexcept>

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
  // Room for count strings beyond those held (the table always holds "",
  // and a V8 snapshot's strings need not: sized for count alone, the last
  // string doubled the spans and grew the index, 16 + 21 MB more for a
  // moment at the read's peak, which then depended on the other thread).
  const std::size_t total = spans_.size() + count;
  spans_.reserve(total);
  if (total * 10 > slots_.size() * 7) grow_index(total * 10 / 7 + 1);
}

std::uint64_t StringTable::store(std::string_view text) {
  if (text.empty()) return 0;
  if (text.size() > kBlockSize / 4) {
    // A big string gets a block of its own, so the current block is kept.
    big_strings_.push_back({std::make_unique<char[]>(text.size()), text.size()});
    std::memcpy(big_strings_.back().bytes.get(), text.data(), text.size());
    return kBigBit | (big_strings_.size() - 1);
  }
  if (kBlockSize - block_used_ < text.size()) {
    if (blocks_.size() == kMaxBlocks) throw std::length_error("string table: more than 16 TiB of strings");
    blocks_.push_back(std::make_unique<char[]>(kBlockSize));
    block_used_ = 0;
  }
  std::memcpy(blocks_.back().get() + block_used_, text.data(), text.size());
  const std::uint64_t span = std::uint64_t{blocks_.size() - 1} << kBlockShift |
                             std::uint64_t{block_used_} << kOffsetShift | text.size();
  block_used_ += text.size();
  return span;
}

std::size_t StringTable::slot_of(std::string_view text, std::uint32_t hash) const {
  for (std::size_t slot = home(hash);; slot = slot + 1 == slots_.size() ? 0 : slot + 1) {
    const std::uint64_t entry = slots_[slot];
    if (entry == 0) return slot;
    if (slot_hash(entry) == hash && view(slot_id(entry)) == text) return slot;
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
  const auto id = static_cast<StringId>(spans_.size());
  spans_.push_back(store(text));
  slots_[slot] = slot_entry(hash, id);
  if (spans_.size() * 10 > slots_.size() * 7) grow_index(slots_.size() + slots_.size() / 2);  // at most 70% full
  return id;
}

void StringTable::drop_index() { BigVector<std::uint64_t>().swap(slots_); }

void StringTable::rebuild_index() {
  slots_.assign(std::max<std::size_t>(spans_.size() * 10 / 7 + 1, 64), 0);
  for (StringId id = 0; id < spans_.size(); ++id) {
    const std::uint32_t h = hash(view(id));
    std::size_t slot = home(h);
    while (slots_[slot] != 0) slot = slot + 1 == slots_.size() ? 0 : slot + 1;
    slots_[slot] = slot_entry(h, id);
  }
}

StringId StringTable::find(std::string_view text) const {
  if (slots_.empty()) {
    for (StringId id = 0; id < spans_.size(); ++id) {
      if (view(id) == text) return id;
    }
    return kNoString;
  }
  const std::size_t slot = slot_of(text, hash(text));
  return slots_[slot] == 0 ? kNoString : slot_id(slots_[slot]);
}

}  // namespace heapscope
