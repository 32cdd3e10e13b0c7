#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <stdexcept>
#include <vector>

#include "heapscope/id_column.hpp"

using namespace heapscope;

namespace {
// Every id read back equals the one appended, in both kinds of column.
void check_same(const std::vector<std::uint64_t>& ids) {
  IdColumn runs = IdColumn::runs();
  IdColumn plain;
  for (const std::uint64_t id : ids) {
    runs.push_back(id);
    plain.push_back(id);
  }
  REQUIRE(runs.size() == ids.size());
  REQUIRE(plain.size() == ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (runs[i] != ids[i] || plain[i] != ids[i]) FAIL_CHECK("id #" << i << ": " << runs[i] << " " << plain[i] << " != " << ids[i]);
  }
  std::uint64_t max = 0;
  for (const std::uint64_t id : ids) max = std::max(max, id);
  CHECK(runs.fits_32_bits() == (max <= 0xFFFFFFFFu));
  CHECK(plain.fits_32_bits() == (max <= 0xFFFFFFFFu));
}
}  // namespace

TEST_CASE("IdColumn: runs read back every id, whatever the pattern") {
  std::mt19937_64 rng(7);
  // V8's pattern: 2 apart with a few jumps, starting after the super-root's 0.
  std::vector<std::uint64_t> v8{0};
  for (std::uint64_t id = 1; v8.size() < 10'000;) {
    v8.push_back(id);
    id += rng() % 500 == 0 ? 2 + 2 * (rng() % 100000) : 2;
  }
  check_same(v8);
  // Random ids (addresses): every block irregular; beyond 32 bits.
  std::vector<std::uint64_t> random;
  for (int i = 0; i < 1000; ++i) random.push_back(rng());
  check_same(random);
  // Decreasing runs, steps at the limit, wrap-around, lengths around a block.
  std::vector<std::uint64_t> down;
  for (std::uint64_t i = 0; i < 300; ++i) down.push_back(1'000'000 - 3 * i);
  check_same(down);
  std::vector<std::uint64_t> big_steps;
  for (std::uint64_t i = 0; i < 200; ++i) big_steps.push_back(i * 0x7FFFFFFFu);
  for (std::uint64_t i = 0; i < 200; ++i) big_steps.push_back(i * 0x80000000u);
  check_same(big_steps);
  std::vector<std::uint64_t> wrap;
  for (std::uint64_t i = 0; i < 130; ++i) wrap.push_back(~std::uint64_t{0} - 100 + 2 * i);
  check_same(wrap);
  for (std::size_t n : {0, 1, 63, 64, 65, 127, 128, 129}) {
    std::vector<std::uint64_t> ids;
    for (std::size_t i = 0; i < n; ++i) ids.push_back(5 + 7 * i);
    check_same(ids);
  }
}

TEST_CASE("IdColumn: a column of runs is appended to only") {
  IdColumn runs = IdColumn::runs();
  runs.push_back(1);
  CHECK_THROWS_AS(runs.set(0, 2), std::logic_error);
  CHECK_THROWS_AS(runs.resize(4), std::logic_error);
  IdColumn plain;
  plain.resize(3);
  plain.set(2, 9);
  CHECK(plain[2] == 9);
  CHECK(!plain.is_runs());
  CHECK(runs.is_runs());
}
