#pragma once
// Writers for the statistics tables of allocation-site dumps (tracemalloc):
// text whose rows are exactly Python's str(Statistic) / str(StatisticDiff),
// JSON and CSV for scripts (docs/tracemalloc.md).
#include <cstddef>
#include <iosfwd>
#include <optional>
#include <string>

#include "heapscope/trace_stats.hpp"

namespace heapscope::output {

// What a trace report says about its input(s) besides the table.
struct TraceSource {
  std::string path;
  const TraceTable* table = nullptr;
};

struct TraceGate {
  std::string threshold;  // as the user wrote it
  std::string described;
  bool exceeded = false;
};

// top == 0: every row.
void write_trace_statistics_text(const trace::StatisticsReport& report, const TraceSource& source, std::size_t top,
                                 std::ostream& out);
void write_trace_statistics_json(const trace::StatisticsReport& report, const TraceSource& source,
                                 const trace::TraceFilter& filter, std::size_t top, std::ostream& out);
void write_trace_statistics_csv(const trace::StatisticsReport& report, std::size_t top, std::ostream& out);

void write_trace_diff_text(const trace::DiffReport& report, const TraceSource& before, const TraceSource& after,
                           std::size_t top, std::ostream& out);
void write_trace_diff_json(const trace::DiffReport& report, const TraceSource& before, const TraceSource& after,
                           const trace::TraceFilter& filter, std::size_t top, const std::optional<TraceGate>& gate,
                           std::ostream& out);
void write_trace_diff_csv(const trace::DiffReport& report, std::size_t top, std::ostream& out);

}  // namespace heapscope::output
