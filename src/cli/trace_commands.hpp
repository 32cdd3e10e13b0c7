#pragma once
// `analyze` and `diff` on allocation-site tables (tracemalloc dumps).
// cmd_analyze / cmd_diff add these options to their subcommands and call the
// run functions when the snapshot read is an allocation table.
#include <CLI/CLI.hpp>
#include <iosfwd>
#include <string>
#include <vector>

#include "cli/common.hpp"
#include "heapscope/trace_stats.hpp"

namespace heapscope::cli {

struct TraceCliOptions {
  std::string group_by = "lineno";
  bool cumulative = false;
  trace::TraceFilter filter;  // --include/--exclude/--all-frames/--domain/--exclude-domain
};

// Also add --python (CommonOptions.read.tracemalloc_python).
void add_trace_analyze_options(CLI::App& command, TraceCliOptions& options, CommonOptions& common);
void add_trace_diff_options(CLI::App& command, TraceCliOptions& options, CommonOptions& common);

// Return the exit code (kExitGate when --fail-on-growth tripped).
int run_trace_analyze(const readers::Snapshot& snapshot, const TraceCliOptions& options,
                      const CommonOptions& common, std::ostream& out);
int run_trace_diff(const readers::Snapshot& before, const readers::Snapshot& after,
                   const TraceCliOptions& options, const CommonOptions& common, std::ostream& out);

}  // namespace heapscope::cli
