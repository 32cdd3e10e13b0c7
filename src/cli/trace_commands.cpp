// `analyze` / `diff` on tracemalloc dumps: Python's Snapshot.statistics()
// and compare_to() (docs/tracemalloc.md).
#include "cli/trace_commands.hpp"

#include <spdlog/spdlog.h>

#include "heapscope/error.hpp"
#include "heapscope/units.hpp"
#include "output/trace_writers.hpp"

namespace heapscope::cli {
namespace {

void add_common_trace_options(CLI::App& command, TraceCliOptions& options, CommonOptions& common) {
  const std::string group = "tracemalloc dumps";
  command.add_option("--group-by", options.group_by, "tracemalloc: statistics key: lineno, filename or traceback")
      ->check(CLI::IsMember({"lineno", "filename", "traceback"}))
      ->capture_default_str()
      ->group(group);
  command.add_flag("--cumulative", options.cumulative,
                   "tracemalloc: count every frame of a traceback, not only the most recent one (lineno, filename)")
      ->group(group);
  command.add_option("--include", options.filter.include,
                     "tracemalloc: keep only traces whose most recent frame's filename matches GLOB (fnmatch; repeatable)")
      ->type_name("GLOB")
      ->group(group);
  command.add_option("--exclude", options.filter.exclude,
                     "tracemalloc: drop traces whose most recent frame's filename matches GLOB (repeatable)")
      ->type_name("GLOB")
      ->group(group);
  command.add_flag("--all-frames", options.filter.all_frames,
                   "tracemalloc: --include/--exclude look at every frame of the traceback (Filter(all_frames=True))")
      ->group(group);
  command.add_option("--domain", options.filter.domains, "tracemalloc: keep only traces of this domain (repeatable)")
      ->type_name("N")
      ->group(group);
  command.add_option("--exclude-domain", options.filter.exclude_domains,
                     "tracemalloc: drop traces of this domain (repeatable)")
      ->type_name("N")
      ->group(group);
  if (command.get_option_no_throw("--python") == nullptr) {
    command.add_option("--python", common.read.tracemalloc_python,
                       "tracemalloc: the CPython that wrote the dump (3.6, 3.7+, 3.12, ...); only 3.6 orders "
                       "tracebacks differently, and a 3.6 dump cannot be told from a 3.7 one")
        ->type_name("VERSION")
        ->group(group);
  }
}

void require_trace_format(const std::string& format, const std::string& command) {
  if (format == "text" || format == "json" || format == "csv") return;
  throw UsageError("`" + command + "` on a tracemalloc dump cannot write --format " + format + " (it writes: text, json, csv)");
}

void check_group(trace::GroupBy group_by, bool cumulative) {
  if (cumulative && group_by == trace::GroupBy::Traceback) {
    throw UsageError("--cumulative cannot be used with --group-by traceback (Python: \"cumulative mode cannot by used with key type 'traceback'\")");
  }
}

void warn_assumed_order(const TraceTable& table, trace::GroupBy group_by, const std::string& path) {
  if (table.order_assumed && group_by == trace::GroupBy::Traceback) {
    spdlog::warn("{}: a CPython 3.6 or 3.7 dump; assuming 3.7's traceback order (oldest frame first). "
                 "Pass --python 3.6 if CPython 3.6 wrote it.",
                 path);
  }
}

}  // namespace

void add_trace_analyze_options(CLI::App& command, TraceCliOptions& options, CommonOptions& common) {
  add_common_trace_options(command, options, common);
}

void add_trace_diff_options(CLI::App& command, TraceCliOptions& options, CommonOptions& common) {
  add_common_trace_options(command, options, common);
}

int run_trace_analyze(const readers::Snapshot& snapshot, const TraceCliOptions& options, const CommonOptions& common,
                      std::ostream& out) {
  require_trace_format(common.format, "analyze");
  const trace::GroupBy group_by = trace::parse_group_by(options.group_by);
  check_group(group_by, options.cumulative);
  const TraceTable& table = *snapshot.traces;
  warn_assumed_order(table, group_by, snapshot.path);
  const trace::StatisticsReport report = trace::statistics(table, group_by, options.cumulative, options.filter);
  const output::TraceSource source{snapshot.path, &table};
  if (common.format == "json") {
    output::write_trace_statistics_json(report, source, options.filter, common.top, out);
  } else if (common.format == "csv") {
    output::write_trace_statistics_csv(report, common.top, out);
  } else {
    output::write_trace_statistics_text(report, source, common.top, out);
  }
  return kExitOk;
}

int run_trace_diff(const readers::Snapshot& before, const readers::Snapshot& after, const TraceCliOptions& options,
                   const CommonOptions& common, std::ostream& out) {
  require_trace_format(common.format, "diff");
  std::optional<GrowthThreshold> threshold;
  if (!common.fail_on_growth.empty()) threshold = GrowthThreshold::parse(common.fail_on_growth);
  const trace::GroupBy group_by = trace::parse_group_by(options.group_by);
  check_group(group_by, options.cumulative);
  const TraceTable& a = *after.traces;
  const TraceTable& b = *before.traces;
  warn_assumed_order(a, group_by, after.path);
  if (a.order != b.order && group_by == trace::GroupBy::Traceback) {
    spdlog::warn("{} and {} come from CPythons that order tracebacks differently; using {}'s order", before.path,
                 after.path, after.path);
  }
  const trace::DiffReport report = trace::compare_to(a, b, group_by, options.cumulative, options.filter);
  std::optional<output::TraceGate> gate;
  if (threshold) {
    gate = output::TraceGate{common.fail_on_growth, threshold->describe(),
                             threshold->exceeded(report.size_growth(), report.before.size)};
  }
  const output::TraceSource before_source{before.path, &b}, after_source{after.path, &a};
  if (common.format == "json") {
    output::write_trace_diff_json(report, before_source, after_source, options.filter, common.top, gate, out);
  } else if (common.format == "csv") {
    output::write_trace_diff_csv(report, common.top, out);
  } else {
    output::write_trace_diff_text(report, before_source, after_source, common.top, out);
  }
  if (gate && gate->exceeded) {
    spdlog::error("--fail-on-growth {}: the traced total grew by {} bytes ({} -> {}), more than {}", common.fail_on_growth,
                  report.size_growth(), report.before.size, report.after.size, gate->described);
    return kExitGate;
  }
  return kExitOk;
}

}  // namespace heapscope::cli
