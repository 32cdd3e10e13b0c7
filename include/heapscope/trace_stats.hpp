#pragma once
// Python's tracemalloc.Snapshot.statistics() and compare_to() on a TraceTable,
// with the same grouping, filters, sort order and text (Lib/tracemalloc.py,
// CPython 3.6..3.13). The core knows nothing of pickles.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "heapscope/trace_table.hpp"

namespace heapscope::trace {

enum class GroupBy : std::uint8_t { Lineno, Filename, Traceback };
// "lineno" | "filename" | "traceback"; throws UsageError otherwise.
GroupBy parse_group_by(std::string_view text);
std::string_view group_by_name(GroupBy group_by);

// The filters a user can ask for, applied as Python would apply
//   s = snapshot.filter_traces([DomainFilter(True, d) for d in domains] +
//                              [DomainFilter(False, d) for d in exclude_domains])
//   s = s.filter_traces([Filter(True, p, all_frames=all_frames) for p in include] +
//                       [Filter(False, p, all_frames=all_frames) for p in exclude])
// (each filter_traces call only when its list is non-empty). So a trace is
// kept when its domain is one of `domains` (if any), none of
// `exclude_domains`, it matches one include pattern (if any) and no exclude
// pattern. A pattern is matched against frames[0] (the most recent frame) or,
// with all_frames, against any frame.
struct TraceFilter {
  std::vector<std::string> include;
  std::vector<std::string> exclude;
  bool all_frames = false;
  std::vector<std::uint32_t> domains;
  std::vector<std::uint32_t> exclude_domains;
};

// fnmatch.fnmatchcase(name, pattern) on Unicode code points, with the rules
// of CPython 3.10+ (which agree with older versions on every pattern those
// could compile): * ? [seq] [!seq], ranges, no escaping. Invalid UTF-8 is
// matched byte by byte.
bool fnmatch(std::string_view name, std::string_view pattern);
// tracemalloc._normalize_filename on POSIX: a trailing ".pyc" becomes ".py".
std::string_view normalize_filename(std::string_view filename);

// The keys of a statistics table: Python Traceback objects, each a sequence
// of (filename, lineno) frames in Traceback order (oldest first for CPython
// 3.7+, most recent first for 3.6). Keys are interned: equal frame
// sequences share one key id.
class KeyTable {
 public:
  std::uint32_t intern_filename(std::string_view filename);
  std::uint32_t intern_key(std::span<const TraceFrame> frames);  // frames use this table's filename ids

  std::size_t size() const { return offsets_.size() - 1; }
  std::span<const TraceFrame> frames(std::uint32_t key) const {
    return {frames_.data() + offsets_[key], offsets_[key + 1] - offsets_[key]};
  }
  const std::string& filename(std::uint32_t id) const { return filenames_[id]; }

  // Python's Traceback ordering: tuples of (filename, lineno) compared
  // element by element, filenames by code point. Call after the last intern.
  void prepare_ordering();
  // <0, 0, >0 like a three-way compare.
  int compare(std::uint32_t a, std::uint32_t b) const;

 private:
  std::uint64_t hash_key(std::span<const TraceFrame> frames) const;
  void grow_slots();

  std::vector<std::string> filenames_;
  std::vector<std::uint32_t> filename_slots_;  // open addressing, id + 1 (0 = empty)
  std::vector<TraceFrame> frames_;
  std::vector<std::uint32_t> offsets_{0};
  std::vector<std::uint32_t> key_slots_;
  std::vector<std::uint32_t> filename_rank_;
};

struct Statistic {
  std::uint32_t key = 0;
  std::uint64_t size = 0;
  std::uint64_t count = 0;
};

struct StatisticDiff {
  std::uint32_t key = 0;
  std::uint64_t size = 0;
  std::int64_t size_diff = 0;
  std::uint64_t count = 0;
  std::int64_t count_diff = 0;
};

// What the filters kept (each trace once, even in cumulative mode).
struct TraceTotals {
  std::uint64_t traces = 0;
  std::uint64_t size = 0;
};

struct StatisticsReport {
  GroupBy group_by = GroupBy::Lineno;
  bool cumulative = false;
  TracebackOrder order = TracebackOrder::OldestFirst;
  KeyTable keys;
  std::vector<Statistic> rows;  // Python's order: (size, count, traceback) descending
  TraceTotals total;
};

struct DiffReport {
  GroupBy group_by = GroupBy::Lineno;
  bool cumulative = false;
  TracebackOrder order = TracebackOrder::OldestFirst;
  KeyTable keys;
  // Python's order: (|size_diff|, size, |count_diff|, count, traceback) descending.
  std::vector<StatisticDiff> rows;
  TraceTotals before;
  TraceTotals after;
  std::int64_t size_growth() const;  // after.size - before.size
};

// Snapshot.statistics(group_by, cumulative) after the filters. Throws
// UsageError for cumulative with GroupBy::Traceback (as Python's ValueError).
StatisticsReport statistics(const TraceTable& table, GroupBy group_by, bool cumulative, const TraceFilter& filter);
// after.compare_to(before, group_by, cumulative), the filters applied to
// both. Keys are ordered the way `after`'s CPython orders tracebacks.
DiffReport compare_to(const TraceTable& after, const TraceTable& before, GroupBy group_by, bool cumulative,
                      const TraceFilter& filter);

// Python's true division a / b for integers (correctly rounded), b > 0.
double true_divide(std::uint64_t a, std::uint64_t b);
// tracemalloc._format_size(size, sign): "12.3 KiB", "+5 B", ...
std::string format_size(double size, bool sign);
// str(Frame) / str(Traceback) / str(Statistic) / str(StatisticDiff).
std::string frame_text(const KeyTable& keys, const TraceFrame& frame);
std::string traceback_text(const KeyTable& keys, std::uint32_t key);
std::string statistic_text(const KeyTable& keys, const Statistic& row);
std::string statistic_diff_text(const KeyTable& keys, const StatisticDiff& row);

}  // namespace heapscope::trace
