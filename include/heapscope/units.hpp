#pragma once
// Sizes as people write them ("10MB", "512KiB", "5%") and as reports show them.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace heapscope {

// A --fail-on-growth threshold: an absolute byte count or a percentage of the
// "before" total. Decimal and binary units are both accepted, case-insensitive:
// B, KB/MB/GB/TB (powers of 1000), KiB/MiB/GiB/TiB (powers of 1024), K/M/G
// (powers of 1024, as `ls -h`). Throws UsageError on anything else.
struct GrowthThreshold {
  bool is_percent = false;
  std::uint64_t bytes = 0;
  double percent = 0;

  static GrowthThreshold parse(std::string_view text);
  // Did growth (after - before, may be negative) pass the threshold?
  bool exceeded(std::int64_t growth, std::uint64_t before_total) const;
  std::string describe() const;
};

// Parses a plain size with an optional unit (as above). Throws UsageError.
std::uint64_t parse_size(std::string_view text);

// "1.5 MiB", "812 B": for people (text tables). Never used in JSON/CSV.
std::string human_size(std::uint64_t bytes);
std::string human_size_signed(std::int64_t bytes);  // "+1.5 MiB" / "-812 B"
// 1234567 -> "1,234,567".
std::string with_thousands(std::uint64_t n);
std::string with_thousands_signed(std::int64_t n);  // "+1,234" / "-5"

}  // namespace heapscope
