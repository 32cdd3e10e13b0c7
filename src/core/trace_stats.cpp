// Snapshot.statistics() / compare_to() on a TraceTable (Lib/tracemalloc.py).
//
// The work is done per traceback, not per trace: traces are first summed
// per (interned) traceback after the filters, and only those few thousand
// sums are turned into Python's keys, so a 1M-trace dump costs one linear
// pass over three flat arrays.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>

#include "heapscope/error.hpp"
#include "heapscope/trace_stats.hpp"

namespace heapscope::trace {

__extension__ typedef unsigned __int128 u128;

GroupBy parse_group_by(std::string_view text) {
  if (text == "lineno") return GroupBy::Lineno;
  if (text == "filename") return GroupBy::Filename;
  if (text == "traceback") return GroupBy::Traceback;
  throw UsageError("--group-by: expected lineno, filename or traceback, not '" + std::string(text) + "'");
}

std::string_view group_by_name(GroupBy group_by) {
  switch (group_by) {
    case GroupBy::Lineno: return "lineno";
    case GroupBy::Filename: return "filename";
    case GroupBy::Traceback: return "traceback";
  }
  return "?";
}

// ---------------------------------------------------------------- KeyTable

namespace {
std::uint64_t mix(std::uint64_t h, std::uint64_t v) {
  h ^= v + 0x9E3779B97F4A7C15ULL + (h << 6) + (h >> 2);
  return h * 0xff51afd7ed558ccdULL;
}
std::uint64_t hash_bytes(std::string_view s) {
  std::uint64_t h = 1469598103934665603ULL;
  for (const char c : s) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  return mix(h, s.size());
}
}  // namespace

std::uint32_t KeyTable::intern_filename(std::string_view filename) {
  if (filename_slots_.size() < 2 * (filenames_.size() + 1)) {
    std::vector<std::uint32_t> slots(std::max<std::size_t>(16, filename_slots_.size() * 2), 0);
    for (std::uint32_t id = 0; id < filenames_.size(); ++id) {
      std::size_t s = hash_bytes(filenames_[id]) & (slots.size() - 1);
      while (slots[s] != 0) s = (s + 1) & (slots.size() - 1);
      slots[s] = id + 1;
    }
    filename_slots_ = std::move(slots);
  }
  std::size_t s = hash_bytes(filename) & (filename_slots_.size() - 1);
  while (filename_slots_[s] != 0) {
    if (filenames_[filename_slots_[s] - 1] == filename) return filename_slots_[s] - 1;
    s = (s + 1) & (filename_slots_.size() - 1);
  }
  const auto id = static_cast<std::uint32_t>(filenames_.size());
  filenames_.emplace_back(filename);
  filename_slots_[s] = id + 1;
  return id;
}

std::uint64_t KeyTable::hash_key(std::span<const TraceFrame> frames) const {
  std::uint64_t h = frames.size();
  for (const auto& f : frames) h = mix(h, (static_cast<std::uint64_t>(f.filename) << 32) | f.lineno);
  return h;
}

void KeyTable::grow_slots() {
  std::vector<std::uint32_t> slots(std::max<std::size_t>(16, key_slots_.size() * 2), 0);
  for (std::uint32_t key = 0; key < size(); ++key) {
    std::size_t s = hash_key(frames(key)) & (slots.size() - 1);
    while (slots[s] != 0) s = (s + 1) & (slots.size() - 1);
    slots[s] = key + 1;
  }
  key_slots_ = std::move(slots);
}

std::uint32_t KeyTable::intern_key(std::span<const TraceFrame> key_frames) {
  if (key_slots_.size() < 2 * (size() + 1)) grow_slots();
  std::size_t s = hash_key(key_frames) & (key_slots_.size() - 1);
  while (key_slots_[s] != 0) {
    const auto existing = frames(key_slots_[s] - 1);
    if (std::equal(existing.begin(), existing.end(), key_frames.begin(), key_frames.end())) return key_slots_[s] - 1;
    s = (s + 1) & (key_slots_.size() - 1);
  }
  const auto key = static_cast<std::uint32_t>(size());
  frames_.insert(frames_.end(), key_frames.begin(), key_frames.end());
  offsets_.push_back(static_cast<std::uint32_t>(frames_.size()));
  key_slots_[s] = key + 1;
  return key;
}

void KeyTable::prepare_ordering() {
  std::vector<std::uint32_t> order(filenames_.size());
  std::iota(order.begin(), order.end(), 0u);
  // std::string compares as unsigned bytes; on UTF-8 that is code point order.
  std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) { return filenames_[a] < filenames_[b]; });
  filename_rank_.assign(filenames_.size(), 0);
  for (std::uint32_t r = 0; r < order.size(); ++r) filename_rank_[order[r]] = r;
}

int KeyTable::compare(std::uint32_t a, std::uint32_t b) const {
  const auto fa = frames(a), fb = frames(b);
  const std::size_t n = std::min(fa.size(), fb.size());
  for (std::size_t k = 0; k < n; ++k) {
    if (fa[k].filename != fb[k].filename) return filename_rank_[fa[k].filename] < filename_rank_[fb[k].filename] ? -1 : 1;
    if (fa[k].lineno != fb[k].lineno) return fa[k].lineno < fb[k].lineno ? -1 : 1;
  }
  return fa.size() == fb.size() ? 0 : fa.size() < fb.size() ? -1 : 1;
}

// ---------------------------------------------------------------- grouping

namespace {

std::uint64_t add_checked(std::uint64_t a, std::uint64_t b) {
  std::uint64_t out;
  if (__builtin_add_overflow(a, b, &out)) {
    throw InputError("the sizes of the traces add up past 2**64 bytes; not a real dump");
  }
  return out;
}

std::int64_t diff_checked(std::uint64_t after, std::uint64_t before) {
  constexpr std::uint64_t kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (after >= before && after - before <= kMax) return static_cast<std::int64_t>(after - before);
  if (after < before && before - after <= kMax) return -static_cast<std::int64_t>(before - after);
  throw InputError("a size difference does not fit 64 bits; not a real dump");
}

struct Sum {
  std::uint64_t size = 0;
  std::uint64_t count = 0;
};

// Which traceback ids the pattern filters keep (empty = all).
std::vector<char> traceback_filter(const TraceTable& table, const TraceFilter& filter) {
  if (filter.include.empty() && filter.exclude.empty()) return {};
  // Each pattern against each filename once.
  auto match_table = [&](const std::vector<std::string>& patterns) {
    std::vector<char> any(table.filenames.size(), 0);
    for (const auto& raw : patterns) {
      const std::string_view pattern = normalize_filename(raw);
      for (std::size_t f = 0; f < table.filenames.size(); ++f) {
        if (!any[f] && fnmatch(normalize_filename(table.filenames[f]), pattern)) any[f] = 1;
      }
    }
    return any;
  };
  const std::vector<char> included = match_table(filter.include);
  const std::vector<char> excluded = match_table(filter.exclude);
  std::vector<char> keep(table.traceback_count(), 0);
  for (std::uint32_t t = 0; t < table.traceback_count(); ++t) {
    const auto frames = table.traceback(t);
    bool in = false, out = false;
    const std::size_t n = filter.all_frames ? frames.size() : 1;
    for (std::size_t k = 0; k < n; ++k) {
      const auto filename = table.frame(frames[k]).filename;
      in = in || included[filename];
      out = out || excluded[filename];
    }
    keep[t] = (filter.include.empty() || in) && !out;
  }
  return keep;
}

// The filtered traces summed per traceback id.
std::vector<Sum> sum_by_traceback(const TraceTable& table, const TraceFilter& filter, TraceTotals& total) {
  std::vector<Sum> sums(table.traceback_count());
  const std::vector<char> keep = traceback_filter(table, filter);
  const bool domain_filter = !filter.domains.empty() || !filter.exclude_domains.empty();
  const std::size_t n = table.trace_count();
  const auto* sizes = table.sizes.data();
  const auto* tbs = table.tracebacks.data();
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t t = tbs[i];
    if (!keep.empty() && !keep[t]) continue;
    if (domain_filter) {
      const std::uint32_t d = table.domains[i];
      if (!filter.domains.empty() && std::find(filter.domains.begin(), filter.domains.end(), d) == filter.domains.end()) continue;
      if (std::find(filter.exclude_domains.begin(), filter.exclude_domains.end(), d) != filter.exclude_domains.end()) continue;
    }
    Sum& s = sums[t];
    // Checked once per traceback below is not enough (a sum can wrap and
    // come back): check each addition.
    s.size = add_checked(s.size, sizes[i]);
    ++s.count;
  }
  for (const auto& s : sums) {
    total.size = add_checked(total.size, s.size);
    total.traces += s.count;
  }
  return sums;
}

// Adds the table's groups into per-key sums (indexed by key id of `keys`).
void group_into(const TraceTable& table, const std::vector<Sum>& by_traceback, GroupBy group_by, bool cumulative,
                TracebackOrder order, KeyTable& keys, std::vector<Sum>& by_key) {
  if (cumulative && group_by == GroupBy::Traceback) {
    throw UsageError("--cumulative cannot be used with --group-by traceback (Python: \"cumulative mode cannot by used with key type 'traceback'\")");
  }
  std::vector<std::uint32_t> filename_key(table.filenames.size(), UINT32_MAX);  // table filename id -> keys filename id
  auto key_filename = [&](std::uint32_t f) {
    if (filename_key[f] == UINT32_MAX) filename_key[f] = keys.intern_filename(table.filenames[f]);
    return filename_key[f];
  };
  // Single-frame keys are cached per table frame id.
  std::vector<std::uint32_t> frame_key(table.frames.size(), UINT32_MAX);
  auto single_key = [&](std::uint32_t frame_id) {
    std::uint32_t& cached = frame_key[frame_id];
    if (cached == UINT32_MAX) {
      const TraceFrame& f = table.frame(frame_id);
      const TraceFrame key_frame{key_filename(f.filename), group_by == GroupBy::Filename ? 0u : f.lineno};
      cached = keys.intern_key(std::span<const TraceFrame>(&key_frame, 1));
    }
    return cached;
  };
  auto add = [&](std::uint32_t key, const Sum& s) {
    if (by_key.size() <= key) by_key.resize(std::max<std::size_t>(key + 1, by_key.size() * 2));
    by_key[key].size = add_checked(by_key[key].size, s.size);
    by_key[key].count += s.count;
  };
  std::vector<TraceFrame> scratch;
  for (std::uint32_t t = 0; t < by_traceback.size(); ++t) {
    const Sum& s = by_traceback[t];
    if (s.count == 0) continue;
    const auto frames = table.traceback(t);
    if (group_by == GroupBy::Traceback) {
      scratch.clear();
      for (const auto id : frames) {
        const TraceFrame& f = table.frame(id);
        scratch.push_back(TraceFrame{key_filename(f.filename), f.lineno});
      }
      if (order == TracebackOrder::OldestFirst) std::reverse(scratch.begin(), scratch.end());
      add(keys.intern_key(scratch), s);
    } else if (!cumulative) {
      add(single_key(frames[0]), s);
    } else {
      for (const auto id : frames) add(single_key(id), s);  // duplicates (recursion) count again, as in Python
    }
  }
}

}  // namespace

StatisticsReport statistics(const TraceTable& table, GroupBy group_by, bool cumulative, const TraceFilter& filter) {
  StatisticsReport report;
  report.group_by = group_by;
  report.cumulative = cumulative;
  report.order = table.order;
  const std::vector<Sum> by_traceback = sum_by_traceback(table, filter, report.total);
  std::vector<Sum> by_key;
  group_into(table, by_traceback, group_by, cumulative, table.order, report.keys, by_key);
  report.keys.prepare_ordering();
  for (std::uint32_t key = 0; key < by_key.size() && key < report.keys.size(); ++key) {
    if (by_key[key].count > 0) report.rows.push_back(Statistic{key, by_key[key].size, by_key[key].count});
  }
  const KeyTable& keys = report.keys;
  std::sort(report.rows.begin(), report.rows.end(), [&](const Statistic& a, const Statistic& b) {
    if (a.size != b.size) return a.size > b.size;
    if (a.count != b.count) return a.count > b.count;
    return keys.compare(a.key, b.key) > 0;
  });
  return report;
}

std::int64_t DiffReport::size_growth() const { return diff_checked(after.size, before.size); }

DiffReport compare_to(const TraceTable& after, const TraceTable& before, GroupBy group_by, bool cumulative,
                      const TraceFilter& filter) {
  DiffReport report;
  report.group_by = group_by;
  report.cumulative = cumulative;
  report.order = after.order;
  const std::vector<Sum> after_tb = sum_by_traceback(after, filter, report.after);
  const std::vector<Sum> before_tb = sum_by_traceback(before, filter, report.before);
  std::vector<Sum> after_key, before_key;
  group_into(after, after_tb, group_by, cumulative, after.order, report.keys, after_key);
  group_into(before, before_tb, group_by, cumulative, after.order, report.keys, before_key);
  report.keys.prepare_ordering();
  after_key.resize(report.keys.size());
  before_key.resize(report.keys.size());
  for (std::uint32_t key = 0; key < report.keys.size(); ++key) {
    const Sum& a = after_key[key];
    const Sum& b = before_key[key];
    if (a.count == 0 && b.count == 0) continue;
    report.rows.push_back(StatisticDiff{key, a.size, diff_checked(a.size, b.size), a.count, diff_checked(a.count, b.count)});
  }
  const KeyTable& keys = report.keys;
  auto magnitude = [](std::int64_t v) { return v < 0 ? static_cast<std::uint64_t>(0) - static_cast<std::uint64_t>(v) : static_cast<std::uint64_t>(v); };
  std::sort(report.rows.begin(), report.rows.end(), [&](const StatisticDiff& x, const StatisticDiff& y) {
    const auto xs = magnitude(x.size_diff), ys = magnitude(y.size_diff);
    if (xs != ys) return xs > ys;
    if (x.size != y.size) return x.size > y.size;
    const auto xc = magnitude(x.count_diff), yc = magnitude(y.count_diff);
    if (xc != yc) return xc > yc;
    if (x.count != y.count) return x.count > y.count;
    return keys.compare(x.key, y.key) > 0;
  });
  return report;
}

// ---------------------------------------------------------------- text

double true_divide(std::uint64_t a, std::uint64_t b) {
  constexpr std::uint64_t kExact = 1ULL << 53;
  if (a < kExact && b < kExact) return static_cast<double>(a) / static_cast<double>(b);  // both exact: one rounding
  if (a == 0) return 0.0;
  // Scale so that the integer quotient has 56..64 bits, fold the remainder
  // into a sticky bit, and let the (correctly rounded) integer-to-double
  // conversion do the single rounding.
  const int la = 64 - std::countl_zero(a), lb = 64 - std::countl_zero(b);
  int shift = 57 - (la - lb);
  if (shift < 0) shift = 0;
  const u128 scaled = static_cast<u128>(a) << shift;
  const u128 q = scaled / b;
  const bool sticky = scaled % b != 0;
  // q < 2**64 by the choice of shift (a * 2**shift / b < 2**(la+shift-lb+1) <= 2**58 or a/b < 2**64).
  std::uint64_t q64 = static_cast<std::uint64_t>(q);
  if (sticky) q64 |= 1;
  return std::ldexp(static_cast<double>(q64), -shift);
}

std::string format_size(double size, bool sign) {
  static const char* const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  char buffer[400];
  for (int u = 0; u < 5; ++u) {
    const bool last = u == 4;
    if (std::fabs(size) < 100 && u != 0) {
      std::snprintf(buffer, sizeof buffer, sign ? "%+.1f %s" : "%.1f %s", size, units[u]);
      return buffer;
    }
    if (std::fabs(size) < 10 * 1024 || last) {
      std::snprintf(buffer, sizeof buffer, sign ? "%+.0f %s" : "%.0f %s", size, units[u]);
      return buffer;
    }
    size /= 1024;
  }
  return buffer;  // not reached
}

std::string frame_text(const KeyTable& keys, const TraceFrame& frame) {
  std::string text = keys.filename(frame.filename);
  text += ':';
  text += std::to_string(frame.lineno);
  return text;
}

std::string traceback_text(const KeyTable& keys, std::uint32_t key) { return frame_text(keys, keys.frames(key)[0]); }

std::string statistic_text(const KeyTable& keys, const Statistic& row) {
  std::string text = traceback_text(keys, row.key);
  text += ": size=";
  text += format_size(static_cast<double>(row.size), false);
  text += ", count=";
  text += std::to_string(row.count);
  if (row.count != 0) {
    text += ", average=";
    text += format_size(true_divide(row.size, row.count), false);
  }
  return text;
}

std::string statistic_diff_text(const KeyTable& keys, const StatisticDiff& row) {
  std::string text = traceback_text(keys, row.key);
  text += ": size=";
  text += format_size(static_cast<double>(row.size), false);
  text += " (";
  text += format_size(static_cast<double>(row.size_diff), true);
  text += "), count=";
  text += std::to_string(row.count);
  text += " (";
  if (row.count_diff >= 0) text += '+';
  text += std::to_string(row.count_diff);
  text += ')';
  if (row.count != 0) {
    text += ", average=";
    text += format_size(true_divide(row.size, row.count), false);
  }
  return text;
}

}  // namespace heapscope::trace
