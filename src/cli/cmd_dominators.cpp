// `heapscope dominators FILE`: every reachable object with its retained size
// and immediate dominator, for scripts.
#include <memory>

#include "cli/common.hpp"
#include "heapscope/analyze.hpp"
#include "output/writers.hpp"

namespace heapscope::cli {

void add_dominators_command(CLI::App& app, CommandRunner& run) {
  struct Options {
    std::string path;
    CommonOptions common;
  };
  auto options = std::make_shared<Options>();
  options->common.format = "csv";
  CLI::App* command = app.add_subcommand(
      "dominators",
      "List every reachable object: id, type, shallow_size, retained_size, idom (0 = only the virtual "
      "root dominates it), by retained size descending, then id");
  command->add_option("FILE", options->path, "Heap graph to read ('-' for stdin)")->required();
  add_format_option(*command, options->common, "csv or jsonl");
  add_output_option(*command, options->common);
  command->callback([options, &run] {
    run = [options] {
      require_format(options->common.format, {"csv", "jsonl"}, "dominators");
      const readers::Snapshot snapshot = load_snapshot(options->path, options->common.read);
      const GraphAnalysis analysis(require_graph(snapshot, "dominators"));
      const std::vector<DominatorRow> rows = dominator_rows(analysis);
      write_report(options->common, rows, output::write_dominators_csv, "jsonl", output::write_dominators_jsonl);
      return kExitOk;
    };
  });
}

}  // namespace heapscope::cli
