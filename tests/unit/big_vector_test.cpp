#include <doctest/doctest.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstdint>
#include <numeric>

#include "heapscope/big_vector.hpp"

using namespace heapscope;

namespace {
bool huge_page_aligned(const void* p) { return reinterpret_cast<std::uintptr_t>(p) % (std::uintptr_t{2} << 20) == 0; }
// Is the page at p in memory (mincore)?
bool resident(const void* p) {
  unsigned char in_core = 0;
  void* page = reinterpret_cast<void*>(reinterpret_cast<std::uintptr_t>(p) & ~std::uintptr_t{4095});
  return mincore(page, 4096, &in_core) == 0 && (in_core & 1) != 0;
}
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

TEST_CASE("BigVector: a freed array is handed out again, and a sized one still reads as zeros") {
  const std::uint32_t* first = nullptr;
  {
    BigVector<std::uint32_t> used(3'000'000);
    std::fill(used.begin(), used.end(), 0xDEADBEEFu);
    first = used.data();
  }
  // The next big array reuses the freed block: its first page is resident
  // before anything is written (a fresh mapping's is not)...
  BigVector<std::uint32_t> again;
  again.reserve(2'000'000);
  CHECK(again.data() == first);
  CHECK(resident(again.data()));
  // ... and what is sized is value-initialised over the old contents.
  again.resize(2'000'000);
  CHECK(std::all_of(again.begin(), again.end(), [](std::uint32_t x) { return x == 0; }));

  // A freed block too small for the next array is unmapped, not used.
  {
    BigVector<std::uint8_t> small_block(5'000'000, 1);
  }
  BigVector<std::uint64_t> bigger;
  bigger.reserve(1'000'000);  // 8 MB
  CHECK(huge_page_aligned(bigger.data()));
  CHECK_FALSE(resident(bigger.data()));
  bigger.assign(1'000'000, 3);
  // A bigger freed block serves a smaller array, cut to its size.
  const void* big_block = bigger.data();
  BigVector<std::uint64_t>().swap(bigger);
  BigVector<std::uint8_t> cut;
  cut.reserve(4'500'000);
  CHECK(static_cast<const void*>(cut.data()) == big_block);
  CHECK(resident(cut.data()));
  cut.resize(4'500'000);
  CHECK(std::all_of(cut.begin(), cut.end(), [](std::uint8_t x) { return x == 0; }));
}

TEST_CASE("BigVector: a reservation of address space only never gets a freed (resident) block") {
  const void* freed = nullptr;
  {
    BigVector<std::uint32_t> used(3'000'000, 7);
    freed = used.data();
  }
  BigVector<std::uint32_t> stack;
  reserve_address_space(stack, 2'000'000);
  CHECK(static_cast<const void*>(stack.data()) != freed);
  CHECK_FALSE(resident(stack.data()));
  // The next ordinary allocation still gets the freed block.
  BigVector<std::uint32_t> sized;
  sized.reserve(2'000'000);
  CHECK(static_cast<const void*>(sized.data()) == freed);
}
