#pragma once
// Dominator tree and retained sizes over the strong edges of a HeapGraph.
// Weak edges keep nothing alive, so they are ignored here.
#include <cstdint>
#include <vector>

#include "heapscope/heap_graph.hpp"
#include "heapscope/u64_column.hpp"

namespace heapscope {

struct DominatorTree {
  // Per node: its immediate dominator; kSuperRoot for the super-root itself;
  // kNoNode for nodes no root reaches.
  BigVector<NodeIndex> idom;
  // Per node: shallow size of everything it dominates, itself included; 0
  // for unreachable nodes. 32 bits a node when all the shallow sizes
  // together fit them (every heap below 4 GiB: 20 MB less for 5M nodes).
  U64Column retained;
  // Reachable nodes in DFS preorder; preorder[0] is the super-root. In this
  // order every node comes after its immediate dominator.
  BigVector<NodeIndex> preorder;

  bool reachable(NodeIndex n) const { return idom[n] != kNoNode; }
  std::size_t reachable_count() const { return preorder.size(); }  // with the super-root
};

// How the DFS reads the edges: re-laid as records of 32-bit (Narrow) or
// 64-bit words (Wide), or straight from the graph's CSR (Csr, 4 bytes a node
// of scratch against the records' 8 a node and 4 an edge). Auto takes the
// CSR when edges mostly stay near their source (V8 snapshots, cores), else
// records, 32-bit whenever the graph fits them (below two billion nodes
// plus edges). The others exist so tests run each.
enum class WalkLayout { Auto, Narrow, Wide, Csr };

// Wall time of each step, for `analyze --verbose` and bench/ (optional).
struct DominatorTimings {
  double walk_records_ms = 0;  // the strong edges re-laid for the DFS
  double walk_ms = 0;          // the DFS itself
  double predecessors_ms = 0;  // non-tree predecessors sorted by DFS number
  double semi_ms = 0;          // semi-dominators (link-eval)
  double idom_ms = 0;          // immediate dominators from them
  double retained_ms = 0;      // retained sizes and the result by node
};

// Semi-NCA (Georgiadis, Tarjan, Werneck) on the flat arrays, iterative: no
// recursion. Scratch memory for the walk: its records (8 bytes a node and 4
// an edge; twice that when wide) or, over the CSR, 4 bytes a node;
// preorder and parents (8 a node), a log of 8 bytes per non-tree edge and a
// stack of at most 8 bytes an edge, both written only as far as they grow;
// then the log regrouped by target (4 bytes a node and a non-tree edge,
// plus a copy of the log while it is split when targets are scattered),
// and 8 bytes a node for the link-eval forest (the semi-dominators are
// written over the regrouped log's offsets as they are used up).
DominatorTree compute_dominators(const HeapGraph& graph, WalkLayout layout = WalkLayout::Auto,
                                 DominatorTimings* timings = nullptr);

// Children lists of the dominator tree, as CSR (for top-down walks).
struct DominatorChildren {
  BigVector<std::uint32_t> begin;  // node_count + 1 (children number fewer than nodes: 32 bits)
  BigVector<NodeIndex> child;
  std::span<const NodeIndex> of(NodeIndex n) const {
    return {child.data() + begin[n], child.data() + begin[n + 1]};
  }
};
// Children in preorder (not by size: the walks over the whole tree need no
// order, and the few nodes a report looks into are sorted there, which
// saved sorting five million lists for a V8 snapshot).
DominatorChildren dominator_children(const HeapGraph& graph, const DominatorTree& tree);

}  // namespace heapscope
