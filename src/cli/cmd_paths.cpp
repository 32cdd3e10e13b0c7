// `heapscope paths FILE ID...`: the K shortest chains from the roots to
// each object.
#include <memory>

#include "cli/common.hpp"
#include "heapscope/analyze.hpp"
#include "heapscope/error.hpp"
#include "output/writers.hpp"

namespace heapscope::cli {
namespace {

struct PathsCli {
  std::string path;
  std::vector<std::string> ids;
  std::size_t max_chains = 3;
  CommonOptions common;
};

PathsEntry paths_to(const GraphAnalysis& analysis, const StrongReferrers& referrers, NodeIndex node,
                    std::size_t max_chains) {
  PathsEntry entry;
  entry.target = analysis.view(node);
  entry.reachable = analysis.distances.reached(node);
  if (!entry.reachable) return entry;
  const ChainSearchResult found = k_shortest_chains(analysis.graph, referrers, analysis.distances, node, max_chains);
  entry.truncated = found.truncated;
  for (const auto& edges : found.chains) entry.chains.push_back(make_chain(analysis.graph, edges));
  return entry;
}

int run_paths(const PathsCli& options) {
  require_format(options.common.format, {"text", "json"}, "paths");
  std::vector<std::uint64_t> ids;
  for (const std::string& text : options.ids) ids.push_back(parse_object_id(text));
  const readers::Snapshot snapshot = load_snapshot(options.path, options.common.read);
  const HeapGraph& graph = require_graph(snapshot, "paths");
  std::vector<NodeIndex> nodes;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const NodeIndex node = graph.find(ids[i]);
    if (node == kNoNode) {
      throw InputError("no object with id " + options.ids[i] + " in this snapshot", std::nullopt, snapshot.path,
                       snapshot.format);
    }
    nodes.push_back(node);
  }
  const GraphAnalysis analysis(graph, Depths::Keep);
  PathsReport report;
  report.path = snapshot.path;
  const StrongReferrers referrers(graph);
  for (const NodeIndex node : nodes) report.entries.push_back(paths_to(analysis, referrers, node, options.max_chains));
  write_report(options.common, report, output::write_paths_text, "json", output::write_paths_json);
  return kExitOk;
}

}  // namespace

void add_paths_command(CLI::App& app, CommandRunner& run) {
  auto options = std::make_shared<PathsCli>();
  CLI::App* command =
      app.add_subcommand("paths", "Show up to K shortest distinct reference chains from the roots to objects");
  command->add_option("FILE", options->path, "Heap graph to read ('-' for stdin)")->required();
  command->add_option("ID", options->ids, "Object ids (decimal or 0x-hex)")->required();
  command->add_option("-k,--max", options->max_chains, "Chains per object")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1000}))
      ->capture_default_str();
  add_format_option(*command, options->common, "text or json");
  add_output_option(*command, options->common);
  command->callback([options, &run] {
    run = [options] { return run_paths(*options); };
  });
}

}  // namespace heapscope::cli
