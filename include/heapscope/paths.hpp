#pragma once
// Reference chains from the roots: one BFS over strong edges gives every
// reachable object's shortest chain; a bounded best-first search gives the
// K shortest distinct chains to one object.
#include <cstdint>
#include <vector>

#include "heapscope/heap_graph.hpp"
#include "heapscope/report.hpp"

namespace heapscope {

inline constexpr EdgeIndex kNoEdge = ~EdgeIndex{0};
inline constexpr std::uint32_t kUnreached = 0xFFFFFFFFu;

struct RootDistances {
  // Per node: the node the BFS reached it from, kNoNode if none (the super-
  // root's own entry too). The tree edge is that node's first strong edge
  // to it (the one the BFS took), found again when a chain is asked for: a
  // node index is half the memory of an edge index, for every node.
  BigVector<NodeIndex> parent;
  // Per node: edges from the super-root, kUnreached; only when asked for
  // (Depths::Keep): the K-shortest-chains search needs them, one chain per
  // object does not (4 bytes a node less at the peak of an analysis).
  BigVector<std::uint32_t> depth;
  bool reached(NodeIndex n) const { return n == kSuperRoot || parent[n] != kNoNode; }
};

enum class Depths { Skip, Keep };
RootDistances shortest_paths_from_roots(const HeapGraph& graph, Depths depths = Depths::Skip);

// The edges of the BFS chain to target, from the super-root's edge on.
std::vector<EdgeIndex> shortest_chain_edges(const HeapGraph& graph, const RootDistances& distances,
                                            NodeIndex target);

// A chain for reports, with runs of repeated (type, edge name) steps folded
// when fold_runs is set (a run of 4 or more shows its first and last step).
Chain make_chain(const HeapGraph& graph, const std::vector<EdgeIndex>& edges, bool fold_runs = true);

struct ChainSearchResult {
  std::vector<std::vector<EdgeIndex>> chains;  // shortest first
  bool truncated = false;                      // budget ran out before k were found
};

// Up to k shortest distinct simple chains from the roots to target (A*
// backwards over strong in-edges, with the BFS depth as an exact heuristic).
// `budget` bounds the number of partial chains expanded.
ChainSearchResult k_shortest_chains(const HeapGraph& graph, const StrongReferrers& referrers,
                                    const RootDistances& distances, NodeIndex target, std::size_t k,
                                    std::size_t budget = 1'000'000);

}  // namespace heapscope
