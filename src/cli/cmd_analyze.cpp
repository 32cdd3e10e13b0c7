// `heapscope analyze FILE`: the leak report for one snapshot.
#include <chrono>
#include <memory>

#include <spdlog/spdlog.h>

#include "cli/common.hpp"
#include "cli/trace_commands.hpp"
#include "heapscope/analyze.hpp"
#include "heapscope/error.hpp"
#include "output/writers.hpp"

namespace heapscope::cli {
namespace {

struct AnalyzeCli {
  std::string path;
  CommonOptions common;
  TraceCliOptions trace;
  double suspect_threshold_percent = 10.0;
};

int run_graph_analyze(const readers::Snapshot& snapshot, const AnalyzeCli& options) {
  require_format(options.common.format, {"text", "json"}, "analyze");
  const auto start = std::chrono::steady_clock::now();
  const GraphAnalysis analysis(*snapshot.graph);
  const auto analysed = std::chrono::steady_clock::now();
  AnalyzeOptions analyze_options;
  analyze_options.top = options.common.top;
  analyze_options.suspect_threshold = options.suspect_threshold_percent / 100.0;
  AnalyzeReport report = analyze_graph(analysis, analyze_options, snapshot.path, snapshot.format);
  report.warnings = snapshot.warnings;
  const auto ms = [](auto from, auto to) { return std::chrono::duration_cast<std::chrono::milliseconds>(to - from).count(); };
  const auto reported = std::chrono::steady_clock::now();
  spdlog::debug("analysis took {} ms (dominators, retained sizes and chains {} ms, report tables {} ms)",
                ms(start, reported), ms(start, analysed), ms(analysed, reported));
  const DominatorTimings& steps = analysis.dominator_timings;
  spdlog::debug("dominators: walk records {:.0f} ms, walk {:.0f} ms, predecessors {:.0f} ms, semi-dominators {:.0f} ms, "
                "idoms {:.0f} ms, retained sizes {:.0f} ms; dominator-tree children {:.0f} ms; chains' BFS {:.0f} ms",
                steps.walk_records_ms, steps.walk_ms, steps.predecessors_ms, steps.semi_ms, steps.idom_ms,
                steps.retained_ms, analysis.children_ms, analysis.chains_ms);
  write_report(options.common, report, output::write_analyze_text, "json", output::write_analyze_json);
  return kExitOk;
}

}  // namespace

void add_analyze_command(CLI::App& app, CommandRunner& run) {
  auto options = std::make_shared<AnalyzeCli>();
  CLI::App* command = app.add_subcommand(
      "analyze",
      "Report on one snapshot: summary, biggest retainers with their chains from a root, types, leak "
      "suspects, unreachable objects (heap graphs); Python's tracemalloc statistics (tracemalloc dumps)");
  command->add_option("FILE", options->path, "Snapshot to read ('-' for stdin)")->required();
  add_top_option(*command, options->common);
  add_format_option(*command, options->common, "text or json (tracemalloc dumps: also csv)");
  add_output_option(*command, options->common);
  command
      ->add_option("--suspect-threshold", options->suspect_threshold_percent,
                   "A dominator subtree holding at least this percentage of the reachable heap is a leak suspect")
      ->check(CLI::Range(0.0, 100.0))
      ->capture_default_str();
  add_trace_analyze_options(*command, options->trace, options->common);
  command->callback([options, &run] {
    run = [options] {
      const readers::Snapshot snapshot = load_snapshot(options->path, options->common.read);
      if (snapshot.traces) {
        return write_report_with(options->common, [&](std::ostream& out) {
          return run_trace_analyze(snapshot, options->trace, options->common, out);
        });
      }
      return run_graph_analyze(snapshot, *options);
    };
  });
}

}  // namespace heapscope::cli
