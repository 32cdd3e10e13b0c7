// `heapscope diff BEFORE AFTER [FINAL]`: what grew between snapshots.
#include <memory>

#include "cli/common.hpp"
#include "cli/trace_commands.hpp"
#include "heapscope/diff.hpp"
#include "heapscope/error.hpp"
#include "heapscope/units.hpp"
#include "output/writers.hpp"

#include <spdlog/spdlog.h>

namespace heapscope::cli {
namespace {

struct DiffCli {
  std::vector<std::string> paths;
  CommonOptions common;
  TraceCliOptions trace;
  std::string sort = "retained";
};

int run_graph_diff(const std::vector<readers::Snapshot>& snapshots, const DiffCli& options) {
  require_format(options.common.format, {"text", "json"}, "diff");
  DiffOptions diff_options;
  diff_options.top = options.common.top;
  diff_options.sort = parse_diff_sort(options.sort);
  std::optional<GrowthThreshold> gate;
  if (!options.common.fail_on_growth.empty()) gate = GrowthThreshold::parse(options.common.fail_on_growth);
  std::vector<std::unique_ptr<GraphAnalysis>> analyses;
  std::vector<const GraphAnalysis*> pointers;
  std::vector<Summary> summaries;
  for (const readers::Snapshot& s : snapshots) {
    analyses.push_back(std::make_unique<GraphAnalysis>(*s.graph));
    pointers.push_back(analyses.back().get());
    summaries.push_back(summarize(*analyses.back(), s.path, s.format));
  }
  DiffReport report = diff_graphs(pointers, summaries, diff_options);
  if (gate) {
    // The gate watches the reachable heap: what the process really holds.
    report.gate_threshold = options.common.fail_on_growth;
    report.gate_tripped = gate->exceeded(report.reachable_growth, summaries.front().reachable_size);
  }
  write_report(options.common, report, output::write_diff_text, "json", output::write_diff_json);
  if (report.gate_tripped) {
    spdlog::error("--fail-on-growth {}: the reachable heap grew by {} bytes ({} -> {}), more than {}",
                  options.common.fail_on_growth, report.reachable_growth, summaries.front().reachable_size,
                  summaries.back().reachable_size, gate->describe());
    return kExitGate;
  }
  return kExitOk;
}

int run_diff(const DiffCli& options) {
  if (options.paths.size() < 2 || options.paths.size() > 3) {
    throw UsageError("diff takes two snapshots (BEFORE AFTER) or three (BASELINE TARGET FINAL)");
  }
  const std::vector<readers::Snapshot> snapshots = load_snapshots(options.paths, options.common.read);
  for (const readers::Snapshot& s : snapshots) {
    if (s.format != snapshots[0].format) {
      throw UsageError("cannot diff " + snapshots[0].path + " (" + snapshots[0].format + ") with " + s.path + " (" +
                       s.format + "): both must be of the same format");
    }
  }
  if (snapshots[0].traces) {
    if (snapshots.size() != 2) throw UsageError("diff of tracemalloc dumps takes exactly two files");
    return write_report_with(options.common, [&](std::ostream& out) {
      return run_trace_diff(snapshots[0], snapshots[1], options.trace, options.common, out);
    });
  }
  return run_graph_diff(snapshots, options);
}

}  // namespace

void add_diff_command(CLI::App& app, CommandRunner& run) {
  auto options = std::make_shared<DiffCli>();
  CLI::App* command = app.add_subcommand(
      "diff",
      "Compare snapshots: BEFORE AFTER (what grew and what keeps the growth alive), or BASELINE TARGET FINAL "
      "(objects new in TARGET still alive in FINAL, as memlab does)");
  command->add_option("SNAPSHOTS", options->paths, "Two or three snapshots of the same format")->required();
  add_top_option(*command, options->common);
  add_format_option(*command, options->common, "text or json (tracemalloc dumps: also csv)");
  add_output_option(*command, options->common);
  command->add_option("--fail-on-growth", options->common.fail_on_growth,
                      "Exit 1 when the heap grew by more than SIZE (10MB, 512KiB) or PERCENT (5%): the reachable size for heap graphs, the traced total for tracemalloc dumps");
  command->add_option("--sort", options->sort, "Order of the type table for heap graphs: count, shallow or retained growth")
      ->capture_default_str();
  add_trace_diff_options(*command, options->trace, options->common);
  command->callback([options, &run] {
    run = [options] { return run_diff(*options); };
  });
}

}  // namespace heapscope::cli
