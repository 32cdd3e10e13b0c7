#include "cli/common.hpp"

#include <charconv>
#include <iostream>

#include <spdlog/spdlog.h>

#include "heapscope/error.hpp"

namespace heapscope::cli {

namespace {

readers::Snapshot read_quietly(const std::string& path, const readers::ReadOptions& options) {
  spdlog::debug("reading {}", path);
  readers::Snapshot snapshot = readers::read_snapshot(path, options);
  if (snapshot.graph) {
    const HeapGraph& g = *snapshot.graph;
    spdlog::debug("{}: read as {}: {} objects, {} edges, {} strings", path, snapshot.format, g.object_count(),
                  g.edge_count(), g.strings().size());
  } else {
    spdlog::debug("{}: read as {}", path, snapshot.format);
  }
  return snapshot;
}

void log_warnings(const readers::Snapshot& snapshot) {
  for (const std::string& warning : snapshot.warnings) {
    spdlog::warn("{}: {}", printable(snapshot.path), printable(warning));
  }
}

}  // namespace

readers::Snapshot load_snapshot(const std::string& path, const readers::ReadOptions& options) {
  readers::Snapshot snapshot = read_quietly(path, options);
  log_warnings(snapshot);
  return snapshot;
}

std::vector<readers::Snapshot> load_snapshots(const std::vector<std::string>& paths,
                                              const readers::ReadOptions& options) {
  std::vector<readers::Snapshot> snapshots;
  for (const std::string& path : paths) snapshots.push_back(read_quietly(path, options));
  for (const readers::Snapshot& snapshot : snapshots) log_warnings(snapshot);
  return snapshots;
}

const HeapGraph& require_graph(const readers::Snapshot& snapshot, const std::string& command) {
  if (!snapshot.graph) {
    throw UsageError(snapshot.path + ": " + snapshot.format + ": `" + command +
                     "` needs a heap graph with references, and this file is an allocation table "
                     "(try `heapscope analyze`)");
  }
  return *snapshot.graph;
}

void require_format(const std::string& format, std::initializer_list<const char*> allowed,
                    const std::string& command) {
  std::string list;
  for (const char* name : allowed) {
    if (format == name) return;
    list += (list.empty() ? "" : ", ") + std::string(name);
  }
  throw UsageError("`" + command + "` cannot write --format " + format + " (it writes: " + list + ")");
}

void add_format_option(CLI::App& command, CommonOptions& common, const std::string& allowed_help) {
  command.add_option("-f,--format", common.format, "Output format: " + allowed_help)->capture_default_str();
}

void add_top_option(CLI::App& command, CommonOptions& common) {
  command.add_option("-n,--top", common.top, "Rows per table (retainers, types, groups)")->capture_default_str();
}

void add_output_option(CLI::App& command, CommonOptions& common) {
  command.add_option("-o,--output", common.output_path, "Write the report to this file instead of stdout");
}

ReportStream::ReportStream(const std::string& output_path) : path_(output_path), stdout_(&std::cout) {
  if (path_.empty()) return;
  file_ = std::make_unique<std::ofstream>(path_, std::ios::binary | std::ios::trunc);
  if (!*file_) throw UsageError(path_ + ": cannot open the output file for writing");
}

void ReportStream::finish() {
  std::ostream& out = get();
  out.flush();
  if (!out) throw Error((path_.empty() ? std::string("stdout") : path_) + ": write failed");
}

int write_report_with(const CommonOptions& common, const std::function<int(std::ostream&)>& write) {
  ReportStream out(common.output_path);
  const int exit_code = write(out.get());
  out.finish();
  return exit_code;
}

std::uint64_t parse_object_id(const std::string& text) {
  std::string_view digits = text;
  int base = 10;
  if (digits.size() > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) {
    digits.remove_prefix(2);
    base = 16;
  }
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value, base);
  if (digits.empty() || error != std::errc() || end != digits.data() + digits.size()) {
    throw UsageError("'" + text + "' is not an object id (a decimal or 0x-prefixed hexadecimal number)");
  }
  return value;
}

}  // namespace heapscope::cli
