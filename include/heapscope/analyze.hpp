#pragma once
// The analyses the CLI offers on heap graphs, producing report models.
#include <cstdint>
#include <string>
#include <vector>

#include "heapscope/dominators.hpp"
#include "heapscope/heap_graph.hpp"
#include "heapscope/paths.hpp"
#include "heapscope/report.hpp"

namespace heapscope {

struct AnalyzeOptions {
  std::size_t top = 20;                  // rows of top retainers, types, leaked groups
  double suspect_threshold = 0.10;       // share of the reachable heap that makes a suspect
  double accumulation_ratio = 0.80;      // descend while one child keeps this share
  std::size_t accumulated_types = 5;     // types listed per suspect
  std::size_t leaked_heads = 10;         // unreferenced unreachable objects listed
};

// Everything computed once per graph and shared by the reports.
struct GraphAnalysis {
  const HeapGraph& graph;
  DominatorTimings dominator_timings;  // declared before tree: filled while it is made
  double children_ms = 0, chains_ms = 0;  // the dominator tree's children lists, the BFS for chains
  DominatorTree tree;
  // Made in this order: the BFS's queue (4 bytes a node) is gone before the
  // children lists are made (8 bytes a node), instead of coming on top of
  // them at the peak of the analysis (5M-node V8 snapshot: 20 MB).
  RootDistances distances;
  DominatorChildren children;

  // Depths::Keep when the K-shortest-chains search will run (`paths`).
  explicit GraphAnalysis(const HeapGraph& g, Depths depths = Depths::Skip);
  std::uint64_t reachable_size() const { return tree.retained[kSuperRoot]; }
  ObjectView view(NodeIndex node) const;
  Chain chain_to(NodeIndex node) const;
};

Summary summarize(const GraphAnalysis& analysis, const std::string& path, const std::string& format);
std::vector<RetainerRow> top_retainers(const GraphAnalysis& analysis, std::size_t top);
// All types, biggest retained first (then shallow, count, name).
std::vector<TypeRow> type_table(const GraphAnalysis& analysis);
std::vector<SuspectRow> leak_suspects(const GraphAnalysis& analysis, const AnalyzeOptions& options);
LeakedSection leaked_objects(const GraphAnalysis& analysis, const AnalyzeOptions& options);
// Roots of kind "external": reference-count leak suspects.
ExternalSection external_roots(const GraphAnalysis& analysis, const AnalyzeOptions& options);
// The graph's `unreachable_means` meta ("cyclic-garbage", "leaked"), else "unknown".
std::string unreachable_meaning(const HeapGraph& graph);

AnalyzeReport analyze_graph(const GraphAnalysis& analysis, const AnalyzeOptions& options,
                            const std::string& path, const std::string& format);

// Every reachable object, retained size descending, then id.
std::vector<DominatorRow> dominator_rows(const GraphAnalysis& analysis);

}  // namespace heapscope
