#include <doctest/doctest.h>

#include <cstdint>
#include <unordered_map>

#include "heapscope/id_index.hpp"

using namespace heapscope;

TEST_CASE("IdIndex: ids of all 64 bits, growth from empty, first value kept, absent ids") {
  IdIndex index;  // no size given: grows from 16 slots
  std::unordered_map<std::uint64_t, std::uint32_t> reference;
  std::uint64_t state = 42;
  for (std::uint32_t i = 0; i < 200'000; ++i) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    // Aligned, clustered addresses (the usual ids), and ids using the high half.
    const std::uint64_t id = i % 3 == 0 ? state : 0x7f0000000000ULL + (state % 100'000) * 16;
    const auto [it, added] = reference.try_emplace(id, i);
    CHECK(index.insert(id, i) == (added ? IdIndex::kAbsent : it->second));
  }
  CHECK(index.size() == reference.size());
  CHECK(index.size() * 10 <= index.capacity() * 7);  // at most 70% full
  for (const auto& [id, value] : reference) REQUIRE(index.find(id) == value);
  CHECK(index.find(0x7f0000000000ULL + 8) == IdIndex::kAbsent);  // misaligned: never inserted
  CHECK(index.find(0) == IdIndex::kAbsent);
  index.clear();
  CHECK(index.size() == 0);
  CHECK(index.find(reference.begin()->first) == IdIndex::kAbsent);
  CHECK(index.insert(5, 1) == IdIndex::kAbsent);
  CHECK(index.find(5) == 1);
}

TEST_CASE("IdIndex: sized up front, it does not grow and stays near 70% full") {
  IdIndex index(1'000'000);
  const std::size_t capacity = index.capacity();
  CHECK(capacity < 1'500'000);  // not rounded up to a power of two (2,097,152)
  for (std::uint32_t i = 0; i < 1'000'000; ++i) index.insert(0x7f1200000000ULL + std::uint64_t{i} * 48, i);
  CHECK(index.capacity() == capacity);
  CHECK(index.find(0x7f1200000000ULL + 48 * 999'999ULL) == 999'999u);
}
