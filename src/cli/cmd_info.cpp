// `heapscope info FILE`: what the file is and what it holds.
#include <memory>

#include "cli/common.hpp"
#include "heapscope/analyze.hpp"
#include "output/writers.hpp"
#include "readers/input_file.hpp"

namespace heapscope::cli {
namespace {

std::string compression_name(readers::Compression compression) {
  switch (compression) {
    case readers::Compression::Gzip: return "gzip";
    case readers::Compression::Zstd: return "zstd";
    case readers::Compression::None: break;
  }
  return "";
}

InfoReport make_info(const readers::InputFile& input, const readers::Snapshot& snapshot) {
  InfoReport report;
  report.compression = compression_name(input.compression());
  report.file_size = input.size();
  report.warnings = snapshot.warnings;
  if (snapshot.graph) {
    const GraphAnalysis analysis(*snapshot.graph);
    report.summary = summarize(analysis, snapshot.path, snapshot.format);
    for (const auto& [key, value] : snapshot.graph->meta()) report.meta.emplace_back(key, value);
  } else {
    report.summary.path = snapshot.path;
    report.summary.format = snapshot.format;
    if (snapshot.traces) report.trace_count = snapshot.traces->trace_count();
  }
  return report;
}

}  // namespace

void add_info_command(CLI::App& app, CommandRunner& run) {
  struct Options {
    std::string path;
    CommonOptions common;
  };
  auto options = std::make_shared<Options>();
  CLI::App* command = app.add_subcommand(
      "info", "Show the detected format, counts (including dropped dangling references) and metadata");
  command->add_option("FILE", options->path, "Snapshot to read ('-' for stdin)")->required();
  add_format_option(*command, options->common, "text or json");
  add_output_option(*command, options->common);
  command->callback([options, &run] {
    run = [options] {
      require_format(options->common.format, {"text", "json"}, "info");
      const readers::InputFile input = readers::InputFile::open(options->path);
      readers::Snapshot snapshot = readers::read_snapshot(input, options->common.read);
      const InfoReport report = make_info(input, snapshot);
      write_report(options->common, report, output::write_info_text, "json", output::write_info_json);
      return kExitOk;
    };
  });
}

}  // namespace heapscope::cli
