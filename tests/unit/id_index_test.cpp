#include <doctest/doctest.h>

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "heapscope/id_index.hpp"

using namespace heapscope;

TEST_CASE("IdIndex: ids of all 64 bits, growth from empty, first value kept, absent ids") {
  IdIndex index;  // no size given: grows from 16 slots
  std::unordered_map<std::uint64_t, std::uint32_t> reference;
  std::vector<std::uint64_t> ids;  // the column the index points into
  std::uint64_t state = 42;
  for (std::uint32_t i = 0; i < 200'000; ++i) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    // Aligned, clustered addresses (the usual ids), and ids using the high half.
    const std::uint64_t id = i % 3 == 0 ? state : 0x7f0000000000ULL + (state % 100'000) * 16;
    const auto [it, added] = reference.try_emplace(id, static_cast<std::uint32_t>(ids.size()));
    if (added) ids.push_back(id);
    CHECK(index.insert(id, it->second, ids.data()) == (added ? IdIndex::kAbsent : it->second));
  }
  CHECK(index.size() == reference.size());
  CHECK(index.size() * 10 <= index.capacity() * 7);  // at most 70% full
  for (const auto& [id, value] : reference) REQUIRE(index.find(id, ids.data()) == value);
  CHECK(index.find(0x7f0000000000ULL + 8, ids.data()) == IdIndex::kAbsent);  // misaligned: never inserted
  CHECK(index.find(0, ids.data()) == IdIndex::kAbsent);
  index.clear();
  CHECK(index.size() == 0);
  CHECK(index.find(reference.begin()->first, ids.data()) == IdIndex::kAbsent);
  const std::uint64_t five[] = {0, 5};
  CHECK(index.insert(5, 1, five) == IdIndex::kAbsent);
  CHECK(index.find(5, five) == 1);
}

TEST_CASE("IdIndex: sized up front, it does not grow and stays near 70% full") {
  IdIndex index(1'000'000);
  const std::size_t capacity = index.capacity();
  CHECK(capacity < 1'500'000);  // not rounded up to a power of two (2,097,152)
  std::vector<std::uint64_t> ids;
  for (std::uint32_t i = 0; i < 1'000'000; ++i) ids.push_back(0x7f1200000000ULL + std::uint64_t{i} * 48);
  for (std::uint32_t i = 0; i < 1'000'000; ++i) CHECK(index.insert(ids[i], i, ids.data()) == IdIndex::kAbsent);
  CHECK(index.capacity() == capacity);
  CHECK(index.find(ids[999'999], ids.data()) == 999'999u);
}

TEST_CASE("IdIndex: ids with the same 32-bit fingerprint are told apart by the id column") {
  // 400,000 ids hold about 18 pairs with equal fingerprints (n^2 / 2^33);
  // a pair shares its home slot, so each lookup of the second id meets the
  // first one's slot and must read the column to tell them apart.
  IdIndex index(8);  // too small: it grows on the way
  std::vector<std::uint64_t> ids;
  for (std::uint64_t i = 0; i < 400'000; ++i) ids.push_back(0x7f0000000000ULL + i * 16);
  for (std::uint32_t i = 0; i < ids.size(); ++i) CHECK(index.insert(ids[i], i, ids.data()) == IdIndex::kAbsent);
  bool all_found = true;
  for (std::uint32_t i = 0; i < ids.size(); ++i) all_found = all_found && index.insert(ids[i], 7, ids.data()) == i;
  CHECK(all_found);
  CHECK(index.find(0x7f0000000000ULL + 400'000 * 16, ids.data()) == IdIndex::kAbsent);
}
