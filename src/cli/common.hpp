#pragma once
// Options shared by every subcommand, and the helpers every command uses to
// load snapshots and write its report.
#include <cstddef>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "readers/reader.hpp"

namespace heapscope::cli {

// Exit codes (README "Exit codes").
inline constexpr int kExitOk = 0;
inline constexpr int kExitGate = 1;
inline constexpr int kExitInput = 2;
inline constexpr int kExitInternal = 3;

struct CommonOptions {
  std::string format = "text";  // text | json | csv | jsonl, as each command allows
  std::size_t top = 20;
  std::string fail_on_growth;   // "" = no gate
  std::string output_path;      // "" = stdout
  readers::ReadOptions read;
};

// What a subcommand's parse callback leaves behind for main() to run after
// parsing; it returns the exit code.
using CommandRunner = std::function<int()>;

// Reads one snapshot, logging its warnings (spdlog, stderr).
readers::Snapshot load_snapshot(const std::string& path, const readers::ReadOptions& options);

// Reads every snapshot before logging any warning: when one of them is bad,
// its error is then the only line on stderr.
std::vector<readers::Snapshot> load_snapshots(const std::vector<std::string>& paths,
                                              const readers::ReadOptions& options);

// The snapshot's graph, or a UsageError saying that `command` needs one.
const HeapGraph& require_graph(const readers::Snapshot& snapshot, const std::string& command);

// Throws UsageError unless format is one of the allowed (e.g. {"text","json"}).
void require_format(const std::string& format, std::initializer_list<const char*> allowed,
                    const std::string& command);

// --format, --top, --output, --python: added by the commands that take them.
void add_format_option(CLI::App& command, CommonOptions& common, const std::string& allowed_help);
void add_top_option(CLI::App& command, CommonOptions& common);
void add_output_option(CLI::App& command, CommonOptions& common);

// stdout, or the --output file (opened when the report is ready to be written,
// so a failed analysis leaves no empty file behind).
class ReportStream {
 public:
  explicit ReportStream(const std::string& output_path);
  std::ostream& get() { return file_ ? *file_ : *stdout_; }
  // Flushes and reports a write error (disk full, closed pipe) as an Error.
  void finish();

 private:
  std::string path_;
  std::ostream* stdout_;
  std::unique_ptr<std::ofstream> file_;
};

// Writes a report to stdout or --output with the writer the format names:
// `alternate` when common.format == alternate_format, else `primary`.
template <class Report>
void write_report(const CommonOptions& common, const Report& report, void (*primary)(const Report&, std::ostream&),
                  const char* alternate_format, void (*alternate)(const Report&, std::ostream&)) {
  ReportStream out(common.output_path);
  (common.format == alternate_format ? alternate : primary)(report, out.get());
  out.finish();
}

// Runs a report function that writes to a stream (the tracemalloc commands)
// against stdout or --output; returns its exit code.
int write_report_with(const CommonOptions& common, const std::function<int(std::ostream&)>& write);

// "140230" or "0x223c6" -> the object id; UsageError otherwise.
std::uint64_t parse_object_id(const std::string& text);

void add_analyze_command(CLI::App& app, CommandRunner& run);
void add_diff_command(CLI::App& app, CommandRunner& run);
void add_dominators_command(CLI::App& app, CommandRunner& run);
void add_paths_command(CLI::App& app, CommandRunner& run);
void add_info_command(CLI::App& app, CommandRunner& run);

}  // namespace heapscope::cli
