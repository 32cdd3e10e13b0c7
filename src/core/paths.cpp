#include "heapscope/paths.hpp"

#include <algorithm>
#include <queue>
#include <stdexcept>

namespace heapscope {

RootDistances shortest_paths_from_roots(const HeapGraph& graph, Depths depths) {
  const std::size_t n = graph.node_count();
  RootDistances result;
  result.parent.assign(n, kNoNode);
  BigVector<NodeIndex> queue;
  queue.reserve(n);
  queue.push_back(kSuperRoot);
  for (std::size_t head = 0; head < queue.size(); ++head) {
    const NodeIndex node = queue[head];
    for (EdgeIndex e = graph.out_begin(node); e < graph.out_end(node); ++e) {
      const NodeIndex target = graph.edge_target(e);
      if (!graph.is_strong(e) || result.reached(target)) continue;
      result.parent[target] = node;
      queue.push_back(target);
    }
  }
  if (depths == Depths::Keep) {
    // In BFS order every node comes after its parent.
    result.depth.assign(n, kUnreached);
    result.depth[kSuperRoot] = 0;
    for (std::size_t i = 1; i < queue.size(); ++i) result.depth[queue[i]] = result.depth[result.parent[queue[i]]] + 1;
  }
  return result;
}

std::vector<EdgeIndex> shortest_chain_edges(const HeapGraph& graph, const RootDistances& distances,
                                            NodeIndex target) {
  std::vector<EdgeIndex> edges;
  if (!distances.reached(target)) return edges;
  for (NodeIndex node = target; node != kSuperRoot;) {
    const NodeIndex parent = distances.parent[node];
    EdgeIndex e = graph.out_begin(parent);
    while (graph.edge_target(e) != node || !graph.is_strong(e)) ++e;  // the BFS reached node over one
    edges.push_back(e);
    node = parent;
  }
  std::reverse(edges.begin(), edges.end());
  return edges;
}

namespace {

ChainStep step_for(const HeapGraph& graph, EdgeIndex e, EdgeLabel label) {
  const NodeIndex node = graph.edge_target(e);
  ChainStep step;
  step.edge = graph.label_text(label);
  step.weak = !graph.is_strong(e);
  step.id = graph.object_id(node);
  step.type = std::string(graph.text(graph.type(node)));
  step.name = std::string(graph.text(graph.name(node)));
  return step;
}

// Steps repeat when they reach the same type over the same edge name (or
// over any index: a linked structure of list slots).
bool same_shape(const HeapGraph& graph, EdgeIndex a, EdgeIndex b, EdgeLabel la, EdgeLabel lb) {
  if (graph.type(graph.edge_target(a)) != graph.type(graph.edge_target(b))) return false;
  return la == lb || (la.is_index() && lb.is_index());
}

}  // namespace

Chain make_chain(const HeapGraph& graph, const std::vector<EdgeIndex>& edges, bool fold_runs) {
  Chain chain;
  if (edges.empty()) return chain;
  chain.length = edges.size() - 1;  // the super-root's edge is the root itself, not a reference
  // Each label looked up once (labels left in a file are read back in blocks).
  const std::vector<EdgeLabel> labels = graph.edge_labels(edges);
  for (const RootInfo& root : graph.roots()) {
    if (root.node == graph.edge_target(edges.front()) && root.name == labels.front().name()) {
      chain.root_kind = std::string(graph.text(root.kind));
      break;
    }
  }
  constexpr std::size_t kMinFoldedRun = 4;
  for (std::size_t i = 0; i < edges.size();) {
    std::size_t run_end = i + 1;
    if (fold_runs && i > 0) {
      while (run_end < edges.size() && same_shape(graph, edges[i], edges[run_end], labels[i], labels[run_end])) {
        ++run_end;
      }
    }
    const std::size_t run = run_end - i;
    if (run < kMinFoldedRun) {
      chain.steps.push_back(step_for(graph, edges[i], labels[i]));
      ++i;
      continue;
    }
    chain.steps.push_back(step_for(graph, edges[i], labels[i]));
    ChainStep folded = step_for(graph, edges[i + 1], labels[i + 1]);
    folded.id = 0;
    folded.name.clear();
    folded.repeat = run - 2;
    chain.steps.push_back(std::move(folded));
    chain.steps.push_back(step_for(graph, edges[run_end - 1], labels[run_end - 1]));
    i = run_end;
  }
  return chain;
}

ChainSearchResult k_shortest_chains(const HeapGraph& graph, const StrongReferrers& referrers_of,
                                    const RootDistances& distances, NodeIndex target, std::size_t k,
                                    std::size_t budget) {
  ChainSearchResult result;
  if (distances.depth.empty()) throw std::logic_error("k_shortest_chains needs root distances with depths");
  if (k == 0 || !distances.reached(target)) return result;

  // A partial chain runs from `node` to the target; `edge` leaves `node`
  // towards the next partial (`next`), closer to the target.
  struct Partial {
    NodeIndex node;
    EdgeIndex edge;
    std::uint32_t next;
    std::uint32_t length;
    std::uint32_t min_depth;  // smallest root distance of a node on this partial
  };
  constexpr std::uint32_t kEnd = 0xFFFFFFFFu;
  std::vector<Partial> partials;
  using Entry = std::pair<std::uint64_t, std::uint32_t>;  // (length + depth, partial), min first
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> open;
  partials.push_back({target, kNoEdge, kEnd, 0, distances.depth[target]});
  open.push({distances.depth[target], 0});

  auto on_chain = [&](std::uint32_t partial, NodeIndex node) {
    for (std::uint32_t p = partial; p != kEnd; p = partials[p].next) {
      if (partials[p].node == node) return true;
    }
    return false;
  };

  // Finding k chains of length d needs at least k * (d + 1) expansions.
  budget = std::max<std::size_t>(budget, k * (std::size_t{distances.depth[target]} + 1) * 2);
  std::size_t expanded = 0;
  while (!open.empty() && result.chains.size() < k) {
    if (++expanded > budget || partials.size() >= kEnd - 1) {
      result.truncated = true;
      break;
    }
    const std::uint32_t current = open.top().second;
    open.pop();
    const Partial here = partials[current];
    if (here.node == kSuperRoot) {
      std::vector<EdgeIndex> edges;
      for (std::uint32_t p = current; partials[p].edge != kNoEdge; p = partials[p].next) {
        edges.push_back(partials[p].edge);
      }
      result.chains.push_back(std::move(edges));
      continue;
    }
    const auto referrers = referrers_of.of(here.node);
    for (std::size_t r = 0; r < referrers.size(); ++r) {
      const NodeIndex source = referrers[r];
      if (r > 0 && referrers[r - 1] == source) continue;  // sorted: one pass per source
      if (!distances.reached(source)) continue;
      // A node closer to the roots than every node of the partial cannot be
      // on it: this keeps the common case (following shortest edges) O(1)
      // instead of a walk along the partial, which on a 1M-long list would
      // be quadratic.
      const std::uint32_t source_depth = distances.depth[source];
      if (source_depth >= here.min_depth && on_chain(current, source)) continue;
      for (EdgeIndex e = graph.out_begin(source); e < graph.out_end(source); ++e) {
        if (graph.edge_target(e) != here.node || !graph.is_strong(e)) continue;
        const auto index = static_cast<std::uint32_t>(partials.size());
        partials.push_back({source, e, current, here.length + 1, std::min(here.min_depth, source_depth)});
        open.push({std::uint64_t{here.length} + 1 + distances.depth[source], index});
      }
    }
  }
  // Whatever the budget did, the BFS chain is always known.
  if (result.chains.empty()) result.chains.push_back(shortest_chain_edges(graph, distances, target));
  return result;
}

}  // namespace heapscope
