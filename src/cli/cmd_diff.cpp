// `heapscope diff BEFORE AFTER [FINAL]`: what grew between snapshots.
#include <memory>

#include "cli/common.hpp"
#include "cli/trace_commands.hpp"
#include "heapscope/error.hpp"

namespace heapscope::cli {
namespace {

struct DiffCli {
  std::vector<std::string> paths;
  CommonOptions common;
  TraceCliOptions trace;
};

int run_diff(const DiffCli& options) {
  if (options.paths.size() < 2 || options.paths.size() > 3) {
    throw UsageError("diff takes two snapshots (BEFORE AFTER) or three (BASELINE TARGET FINAL)");
  }
  std::vector<readers::Snapshot> snapshots;
  for (const std::string& path : options.paths) snapshots.push_back(load_snapshot(path, options.common.read));
  for (const readers::Snapshot& s : snapshots) {
    if (s.format != snapshots[0].format) {
      throw UsageError("cannot diff " + snapshots[0].path + " (" + snapshots[0].format + ") with " + s.path + " (" +
                       s.format + "): both must be of the same format");
    }
  }
  if (snapshots[0].traces) {
    if (snapshots.size() != 2) throw UsageError("diff of tracemalloc dumps takes exactly two files");
    ReportStream out(options.common.output_path);
    const int exit_code = run_trace_diff(snapshots[0], snapshots[1], options.trace, options.common, out.get());
    out.finish();
    return exit_code;
  }
  throw UsageError("diff of heap graphs is not implemented yet");
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
                      "Exit 1 when the heap grew by more than SIZE (10MB, 512KiB) or PERCENT (5%)");
  add_trace_diff_options(*command, options->trace, options->common);
  command->callback([options, &run] {
    run = [options] { return run_diff(*options); };
  });
}

}  // namespace heapscope::cli
