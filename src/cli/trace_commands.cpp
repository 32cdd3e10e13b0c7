// Placeholder until the tracemalloc work (issue #5) lands.
#include "cli/trace_commands.hpp"

#include "heapscope/error.hpp"

namespace heapscope::cli {

void add_trace_analyze_options(CLI::App&, TraceCliOptions&, CommonOptions&) {}
void add_trace_diff_options(CLI::App&, TraceCliOptions&, CommonOptions&) {}

int run_trace_analyze(const readers::Snapshot&, const TraceCliOptions&, const CommonOptions&,
                      std::ostream&) {
  throw UsageError("allocation tables are not supported yet");
}
int run_trace_diff(const readers::Snapshot&, const readers::Snapshot&, const TraceCliOptions&,
                   const CommonOptions&, std::ostream&) {
  throw UsageError("allocation tables are not supported yet");
}

}  // namespace heapscope::cli
