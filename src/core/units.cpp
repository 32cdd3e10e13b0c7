#include "heapscope/units.hpp"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <string>

#include "heapscope/error.hpp"

namespace heapscope {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Multiplier for a unit suffix, 0 when the suffix is unknown.
double unit_multiplier(const std::string& unit) {
  static const struct {
    const char* name;
    double factor;
  } kUnits[] = {{"", 1},          {"b", 1},          {"k", 1024.0},    {"kb", 1e3},
                {"kib", 1024.0},  {"m", 1048576.0},  {"mb", 1e6},      {"mib", 1048576.0},
                {"g", 1073741824.0}, {"gb", 1e9},    {"gib", 1073741824.0}, {"t", 1099511627776.0},
                {"tb", 1e12},     {"tib", 1099511627776.0}};
  for (const auto& u : kUnits) {
    if (unit == u.name) return u.factor;
  }
  return 0;
}

}  // namespace

std::uint64_t parse_size(std::string_view text) {
  const std::string s = lower(text);
  std::size_t digits_end = 0;
  while (digits_end < s.size() && (std::isdigit(static_cast<unsigned char>(s[digits_end])) || s[digits_end] == '.')) {
    ++digits_end;
  }
  std::string unit = s.substr(digits_end);
  while (!unit.empty() && unit.front() == ' ') unit.erase(unit.begin());
  double value = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + digits_end, value);
  const double factor = unit_multiplier(unit);
  if (digits_end == 0 || ec != std::errc() || ptr != s.data() + digits_end || factor == 0) {
    throw UsageError("invalid size '" + std::string(text) + "' (expected e.g. 512, 10MB, 1.5GiB)");
  }
  const double bytes = value * factor;
  if (!(bytes < 1.8e19)) throw UsageError("size '" + std::string(text) + "' is too large");
  return static_cast<std::uint64_t>(std::llround(bytes));
}

GrowthThreshold GrowthThreshold::parse(std::string_view text) {
  GrowthThreshold threshold;
  if (!text.empty() && text.back() == '%') {
    const std::string number(text.substr(0, text.size() - 1));
    double value = 0;
    const auto [ptr, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
    if (number.empty() || ec != std::errc() || ptr != number.data() + number.size() || value < 0) {
      throw UsageError("invalid growth threshold '" + std::string(text) + "' (expected e.g. 10MB or 5%)");
    }
    threshold.is_percent = true;
    threshold.percent = value;
    return threshold;
  }
  threshold.bytes = parse_size(text);
  return threshold;
}

bool GrowthThreshold::exceeded(std::int64_t growth, std::uint64_t before_total) const {
  if (growth <= 0) return false;
  if (is_percent) {
    if (before_total == 0) return true;  // any growth from nothing is infinite growth
    return static_cast<double>(growth) * 100.0 / static_cast<double>(before_total) > percent;
  }
  return static_cast<std::uint64_t>(growth) > bytes;
}

std::string GrowthThreshold::describe() const {
  if (is_percent) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%g%%", percent);
    return buffer;
  }
  return human_size(bytes) + " (" + with_thousands(bytes) + " bytes)";
}

std::string human_size(std::uint64_t bytes) {
  static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  if (bytes < 1024) return std::to_string(bytes) + " B";
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024 && unit < 5) {
    value /= 1024;
    ++unit;
  }
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, value < 10 ? "%.2f %s" : value < 100 ? "%.1f %s" : "%.0f %s", value,
                kUnits[unit]);
  return buffer;
}

std::string human_size_signed(std::int64_t bytes) {
  const std::uint64_t magnitude = bytes < 0 ? 0 - static_cast<std::uint64_t>(bytes) : static_cast<std::uint64_t>(bytes);
  std::string text = bytes < 0 ? "-" : "+";  // append(): see HeapGraph::label_text
  return text.append(human_size(magnitude));
}

std::string with_thousands(std::uint64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i != 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string with_thousands_signed(std::int64_t n) {
  const std::uint64_t magnitude = n < 0 ? 0 - static_cast<std::uint64_t>(n) : static_cast<std::uint64_t>(n);
  std::string text = n < 0 ? "-" : "+";  // append(): see HeapGraph::label_text
  return text.append(with_thousands(magnitude));
}

}  // namespace heapscope
