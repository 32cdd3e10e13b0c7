#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <numeric>

#include "heapscope/big_vector.hpp"

using namespace heapscope;

namespace {
bool huge_page_aligned(const void* p) { return reinterpret_cast<std::uintptr_t>(p) % (std::uintptr_t{2} << 20) == 0; }
}  // namespace

TEST_CASE("BigVector: big arrays are 2 MiB aligned, zeroed, and behave as vectors") {
  // 3M x 4 bytes = 12 MB: mapped directly.
  BigVector<std::uint32_t> big(3'000'000);
  CHECK(huge_page_aligned(big.data()));
  CHECK(std::all_of(big.begin(), big.end(), [](std::uint32_t x) { return x == 0; }));
  std::iota(big.begin(), big.end(), 7u);
  CHECK(big.back() == 7u + 2'999'999u);

  // Growth past the capacity moves the contents to a new mapping.
  big.push_back(1);
  CHECK(huge_page_aligned(big.data()));
  CHECK(big[2'999'999] == 7u + 2'999'999u);
  CHECK(big.back() == 1u);

  // Copies and moves keep the contents; swapping with an empty one frees.
  BigVector<std::uint32_t> copy = big;
  CHECK(copy == big);
  BigVector<std::uint32_t> moved = std::move(copy);
  CHECK(moved.size() == 3'000'001);
  BigVector<std::uint32_t>().swap(moved);
  CHECK(moved.capacity() == 0);

  // Reserving is address space only; filling it later works the same.
  BigVector<std::uint64_t> reserved;
  reserved.reserve(100'000'000);  // 800 MB of address space
  CHECK(huge_page_aligned(reserved.data()));
  reserved.assign(1'000'000, 42);
  CHECK(reserved.front() == 42);
  CHECK(reserved.back() == 42);
}

TEST_CASE("BigVector: small arrays use the ordinary allocator") {
  BigVector<std::uint8_t> small(1000, 5);
  CHECK(small.size() == 1000);
  CHECK(small[999] == 5);
  small.resize(10);
  small.shrink_to_fit();
  CHECK(small.size() == 10);
}
