#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

#include "heapscope/u64_column.hpp"

using namespace heapscope;

TEST_CASE("U64Column: 32-bit while values fit, widened once by the first that does not") {
  U64Column pushed;
  U64Column set;
  std::vector<std::uint64_t> expected;
  set.resize(3000);
  for (std::uint64_t i = 0; i < 3000; ++i) {
    // From entry 2000 on, every tenth value needs more than 32 bits.
    const std::uint64_t value = i >= 2000 && i % 10 == 0 ? (std::uint64_t{1} << 40) + i : 0xFFFFFFF0u + i % 16;
    pushed.push_back(value);
    set.set(i, value);
    expected.push_back(value);
    CHECK(pushed.is_narrow() == (i < 2000));
    CHECK(set.is_narrow() == (i < 2000));
  }
  REQUIRE(pushed.size() == expected.size());
  REQUIRE(set.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    CHECK(pushed[i] == expected[i]);
    CHECK(set[i] == expected[i]);
  }
  set.resize(3005);  // new entries are zero, narrow or wide
  CHECK(set[3004] == 0);
}

TEST_CASE("U64Column: a reader's 64-bit array is adopted wide") {
  BigVector<std::uint64_t> ids{1, 2, 3};
  U64Column column(std::move(ids));
  CHECK_FALSE(column.is_narrow());
  CHECK(column.size() == 3);
  CHECK(column[2] == 3);
  column.set(1, std::uint64_t{1} << 63);
  CHECK(column[1] == std::uint64_t{1} << 63);
}
