#include "heapscope/dominators.hpp"

#include <algorithm>

namespace heapscope {
namespace {

constexpr std::uint32_t kUnvisited = 0xFFFFFFFFu;

// Iterative DFS over strong edges from the super-root. Fills the preorder
// (vertex by number), the number of each node, and each number's DFS parent
// (as a number).
struct DepthFirst {
  BigVector<NodeIndex> vertex;        // number -> node
  BigVector<std::uint32_t> number;    // node -> number, kUnvisited if unreached
  BigVector<std::uint32_t> parent;    // number -> parent's number
  // Every other strong edge between reachable nodes, as (target, source) in
  // DFS numbers, logged as the walk meets it: the semi-dominator pass needs
  // each node's predecessors by number, and the walk already knows both
  // numbers, which a later pass over the edges would look up at random.
  struct NonTreeEdge {
    std::uint32_t target;
    std::uint32_t source;
  };
  BigVector<NonTreeEdge> non_tree;
};

DepthFirst depth_first(const HeapGraph& graph) {
  DepthFirst dfs;
  const std::size_t n = graph.node_count();
  dfs.number.assign(n, kUnvisited);
  dfs.vertex.reserve(n);
  dfs.parent.reserve(n);

  // Each pending entry is an edge not yet followed: (target, the DFS number
  // of its source). Popping an entry whose target is still unnumbered visits
  // it, and pushing all of its targets at once is a true depth-first order:
  // the entries pushed by a node's descendants sit above the node's other
  // entries, so they are all taken first. The walk is bound by cache misses
  // on nodes met in random order; this shape lets each node's misses start
  // early: its edges are read in one sweep, its targets' entries (number,
  // first edge) are asked for when pushed and checked only when popped, and
  // the entry under the top gets its edge list asked for before it is due.
  struct Pending {
    NodeIndex target;
    std::uint32_t parent;
  };
  BigVector<Pending> stack;
  const EdgeIndex* const out_begin = graph.out_begin_data();
  auto visit = [&](NodeIndex node, std::uint32_t parent) {
    const auto number = static_cast<std::uint32_t>(dfs.vertex.size());
    dfs.number[node] = number;
    dfs.vertex.push_back(node);
    dfs.parent.push_back(parent);
    // Pushed in reverse so the first edge is followed first, as a recursive
    // walk would.
    const EdgeIndex first = out_begin[node];
    for (EdgeIndex e = out_begin[node + 1]; e-- > first;) {
      if (!graph.is_strong(e)) continue;
      const NodeIndex target = graph.edge_target(e);
      __builtin_prefetch(&dfs.number[target]);
      __builtin_prefetch(out_begin + target);
      stack.push_back({target, number});
    }
  };
  visit(kSuperRoot, 0);
  while (!stack.empty()) {
    const Pending top = stack.back();
    stack.pop_back();
    if (stack.size() >= 2) {
      const NodeIndex soon = stack[stack.size() - 2].target;
      __builtin_prefetch(&graph.edge_target_data()[out_begin[soon]]);
    }
    const std::uint32_t known = dfs.number[top.target];
    if (known == kUnvisited) {
      visit(top.target, top.parent);
    } else {
      dfs.non_tree.push_back({known, top.parent});
    }
  }
  return dfs;
}

// The non-tree predecessors of each node by DFS number (CSR), from the
// walk's log: a counting sort, then the semi-dominator pass reads them in
// order. A node's tree parent is not listed (the pass starts from it).
struct PredecessorsByNumber {
  BigVector<EdgeIndex> begin;       // count + 1
  BigVector<std::uint32_t> source;  // DFS numbers
};

PredecessorsByNumber predecessors_by_number(DepthFirst& dfs) {
  const std::size_t count = dfs.vertex.size();
  PredecessorsByNumber preds;
  preds.begin.assign(count + 1, 0);
  for (const auto& edge : dfs.non_tree) ++preds.begin[edge.target + 1];
  for (std::size_t i = 0; i < count; ++i) preds.begin[i + 1] += preds.begin[i];
  preds.source.resize(preds.begin[count]);
  BigVector<EdgeIndex> fill(preds.begin.begin(), preds.begin.end() - 1);
  for (const auto& edge : dfs.non_tree) preds.source[fill[edge.target]++] = edge.source;
  BigVector<DepthFirst::NonTreeEdge>().swap(dfs.non_tree);
  return preds;
}

}  // namespace

DominatorTree compute_dominators(const HeapGraph& graph) {
  DepthFirst dfs = depth_first(graph);
  const auto count = static_cast<std::uint32_t>(dfs.vertex.size());
  BigVector<std::uint32_t>().swap(dfs.number);  // all in DFS numbers from here
  const PredecessorsByNumber preds = predecessors_by_number(dfs);

  // Semi-dominators, in DFS numbers. The link-eval forest keeps, per
  // number, its ancestor (kUnvisited = not linked yet) and the label (the
  // minimum semi on the compressed path) side by side: eval() chases
  // ancestors at random, and one cache line then serves both.
  struct Forest {
    std::uint32_t ancestor;
    std::uint32_t label;
  };
  BigVector<std::uint32_t> semi(count);
  BigVector<Forest> forest(count);
  for (std::uint32_t i = 0; i < count; ++i) forest[i] = {kUnvisited, i};
  std::vector<std::uint32_t> path;  // scratch for iterative path compression

  auto eval = [&](std::uint32_t v) -> std::uint32_t {
    if (forest[v].ancestor == kUnvisited) return forest[v].label;
    // Collect the path up to the last node whose ancestor is still linked.
    path.clear();
    std::uint32_t u = v;
    while (forest[forest[u].ancestor].ancestor != kUnvisited) {
      path.push_back(u);
      u = forest[u].ancestor;
    }
    // Compress top-down, as the recursive version does on its way back.
    for (auto it = path.rbegin(); it != path.rend(); ++it) {
      Forest& x = forest[*it];
      const Forest& a = forest[x.ancestor];
      if (a.label < x.label) x.label = a.label;
      x.ancestor = a.ancestor;
    }
    return forest[v].label;
  };

  // eval(v) starts at forest[v], a random read: the predecessors to come are
  // known (the array is in order), so their entries are asked for ahead.
  constexpr EdgeIndex kAhead = 12;
  for (std::uint32_t w = count - 1; w >= 1; --w) {
    std::uint32_t best = dfs.parent[w];
    for (EdgeIndex p = preds.begin[w]; p < preds.begin[w + 1]; ++p) {
      if (p >= kAhead) __builtin_prefetch(&forest[preds.source[p - kAhead]]);
      const std::uint32_t v = preds.source[p];
      const std::uint32_t candidate = v <= w ? v : eval(v);
      if (candidate < best) best = candidate;
    }
    semi[w] = best;
    forest[w] = {dfs.parent[w], best};
  }
  BigVector<Forest>().swap(forest);

  // Nearest common ancestor pass: idom(w) is the deepest ancestor of w's
  // DFS parent whose number is not above semi(w).
  BigVector<std::uint32_t> idom_number(count, 0);
  for (std::uint32_t w = 1; w < count; ++w) {
    std::uint32_t candidate = dfs.parent[w];
    while (candidate > semi[w]) candidate = idom_number[candidate];
    idom_number[w] = candidate;
  }
  BigVector<std::uint32_t>().swap(semi);

  DominatorTree tree;
  const std::size_t n = graph.node_count();
  tree.idom.assign(n, kNoNode);
  tree.retained.assign(n, 0);
  for (std::uint32_t w = 0; w < count; ++w) {
    const NodeIndex node = dfs.vertex[w];
    tree.idom[node] = dfs.vertex[idom_number[w]];
    tree.retained[node] = graph.shallow_size(node);
  }
  // idom(w) < w in DFS numbers, so one reverse sweep sums the subtrees.
  for (std::uint32_t w = count - 1; w >= 1; --w) {
    tree.retained[dfs.vertex[idom_number[w]]] += tree.retained[dfs.vertex[w]];
  }
  tree.preorder = std::move(dfs.vertex);
  return tree;
}

DominatorChildren dominator_children(const HeapGraph& graph, const DominatorTree& tree) {
  const std::size_t n = graph.node_count();
  DominatorChildren children;
  children.begin.assign(n + 1, 0);
  for (NodeIndex node : tree.preorder) {
    if (node != kSuperRoot) ++children.begin[tree.idom[node] + 1];
  }
  for (std::size_t i = 0; i < n; ++i) children.begin[i + 1] += children.begin[i];
  children.child.resize(children.begin[n]);
  BigVector<std::uint64_t> fill(children.begin.begin(), children.begin.end() - 1);
  for (NodeIndex node : tree.preorder) {
    if (node != kSuperRoot) children.child[fill[tree.idom[node]]++] = node;
  }
  for (std::size_t i = 0; i < n; ++i) {
    std::sort(children.child.begin() + static_cast<std::ptrdiff_t>(children.begin[i]),
              children.child.begin() + static_cast<std::ptrdiff_t>(children.begin[i + 1]),
              [&](NodeIndex a, NodeIndex b) {
                if (tree.retained[a] != tree.retained[b]) return tree.retained[a] > tree.retained[b];
                return graph.object_id(a) < graph.object_id(b);
              });
  }
  return children;
}

}  // namespace heapscope
