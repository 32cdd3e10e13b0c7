#include <doctest/doctest.h>

#include "heapscope/error.hpp"
#include "heapscope/units.hpp"

using namespace heapscope;

TEST_CASE("sizes parse with decimal and binary units") {
  CHECK(parse_size("0") == 0);
  CHECK(parse_size("512") == 512);
  CHECK(parse_size("10MB") == 10'000'000);
  CHECK(parse_size("10mb") == 10'000'000);
  CHECK(parse_size("512KiB") == 524'288);
  CHECK(parse_size("2G") == 2ull << 30);
  CHECK_THROWS_AS(parse_size("ten"), UsageError);
  CHECK_THROWS_AS(parse_size("10XB"), UsageError);
  CHECK_THROWS_AS(parse_size("-5MB"), UsageError);
  CHECK_THROWS_AS(parse_size(""), UsageError);
}

TEST_CASE("growth thresholds: bytes and percent") {
  const GrowthThreshold bytes = GrowthThreshold::parse("1KB");
  CHECK(!bytes.is_percent);
  CHECK(!bytes.exceeded(1000, 0));
  CHECK(bytes.exceeded(1001, 0));
  const GrowthThreshold percent = GrowthThreshold::parse("5%");
  CHECK(percent.is_percent);
  CHECK(!percent.exceeded(50, 1000));
  CHECK(percent.exceeded(51, 1000));
  CHECK(!percent.exceeded(-500, 1000));
}

TEST_CASE("human sizes and thousands") {
  CHECK(human_size(812) == "812 B");
  CHECK(human_size(1536) == "1.50 KiB");
  CHECK(human_size(150 * 1024) == "150 KiB");
  CHECK(with_thousands(1234567) == "1,234,567");
  CHECK(with_thousands_signed(-5) == "-5");
  CHECK(with_thousands_signed(1234) == "+1,234");
}
