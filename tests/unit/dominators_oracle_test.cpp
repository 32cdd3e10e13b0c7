// The production dominators (semi-NCA on flat arrays) against Boost.Graph's
// Lengauer-Tarjan, the oracle, on thousands of random graphs with cycles,
// self loops, unreachable parts, weak edges and many roots; and retained
// sizes against a brute-force definition (what becomes unreachable when a
// node is removed).
#include <doctest/doctest.h>

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/dominator_tree.hpp>
#include <limits>
#include <random>

#include "heapscope/dominators.hpp"
#include "heapscope/heap_graph.hpp"

using namespace heapscope;

namespace {

struct RandomGraph {
  HeapGraph graph;
  // Strong edges between node indices (0 = super-root), for the oracles.
  std::vector<std::pair<NodeIndex, NodeIndex>> strong_edges;
};

RandomGraph make_random_graph(std::mt19937_64& rng, std::size_t max_objects = 60) {
  const std::size_t objects = std::uniform_int_distribution<std::size_t>(1, max_objects)(rng);
  const double edges_per_node = std::uniform_real_distribution<double>(0.3, 3.5)(rng);
  const std::size_t roots = std::uniform_int_distribution<std::size_t>(1, std::max<std::size_t>(1, objects / 4))(rng);
  std::uniform_int_distribution<std::size_t> pick(0, objects - 1);
  // Ids are a shuffled permutation scaled like addresses.
  std::vector<std::uint64_t> ids(objects);
  for (std::size_t i = 0; i < objects; ++i) ids[i] = 0x1000 + 16 * i;
  std::shuffle(ids.begin(), ids.end(), rng);

  GraphBuilder b;
  const StringId type = b.intern("T");
  RandomGraph out;
  for (std::size_t i = 0; i < objects; ++i) {
    b.add_node(ids[i], type, 1 + rng() % 100);
    const auto degree = static_cast<std::size_t>(std::poisson_distribution<int>(edges_per_node)(rng));
    for (std::size_t k = 0; k < degree; ++k) {
      // Mostly "forward" (tree-like) edges, some back edges, some self loops.
      const std::size_t target = rng() % 10 == 0 ? i : pick(rng);
      const bool weak = rng() % 8 == 0;
      b.add_edge(ids[target], {}, weak ? EdgeKind::Weak : EdgeKind::Strong);
      if (!weak) out.strong_edges.emplace_back(static_cast<NodeIndex>(i + 1), static_cast<NodeIndex>(target + 1));
    }
  }
  for (std::size_t r = 0; r < roots; ++r) {
    const std::size_t target = pick(rng);
    b.add_root(ids[target]);
    out.strong_edges.emplace_back(kSuperRoot, static_cast<NodeIndex>(target + 1));
  }
  out.graph = std::move(b).build();
  return out;
}

// Boost's immediate dominators, kNoNode for unreachable nodes. Uses the
// overload with an explicit dfnum map initialised to "unvisited": the
// 3-argument one goes wrong when unreachable nodes point into reachable ones.
std::vector<NodeIndex> boost_idoms(std::size_t nodes, const std::vector<std::pair<NodeIndex, NodeIndex>>& edges) {
  using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS>;
  using Vertex = boost::graph_traits<Graph>::vertex_descriptor;
  Graph g(nodes);
  for (const auto& [from, to] : edges) boost::add_edge(from, to, g);
  const auto index = boost::get(boost::vertex_index, g);
  std::vector<std::size_t> dfnum(nodes, std::numeric_limits<std::size_t>::max());
  std::vector<Vertex> parent(nodes, boost::graph_traits<Graph>::null_vertex());
  std::vector<Vertex> vertices_by_dfnum(nodes, boost::graph_traits<Graph>::null_vertex());
  std::vector<Vertex> dom(nodes, boost::graph_traits<Graph>::null_vertex());
  boost::lengauer_tarjan_dominator_tree(
      g, boost::vertex(0, g), index, boost::make_iterator_property_map(dfnum.begin(), index),
      boost::make_iterator_property_map(parent.begin(), index), vertices_by_dfnum,
      boost::make_iterator_property_map(dom.begin(), index));
  std::vector<NodeIndex> idom(nodes, kNoNode);
  idom[0] = kSuperRoot;
  for (std::size_t v = 1; v < nodes; ++v) {
    if (dom[v] != boost::graph_traits<Graph>::null_vertex()) idom[v] = static_cast<NodeIndex>(dom[v]);
  }
  return idom;
}

std::vector<bool> reachable_without(std::size_t nodes, const std::vector<std::pair<NodeIndex, NodeIndex>>& edges,
                                    NodeIndex removed) {
  std::vector<std::vector<NodeIndex>> out(nodes);
  for (const auto& [from, to] : edges) out[from].push_back(to);
  std::vector<bool> seen(nodes, false);
  std::vector<NodeIndex> stack{kSuperRoot};
  seen[kSuperRoot] = true;
  while (!stack.empty()) {
    const NodeIndex n = stack.back();
    stack.pop_back();
    for (const NodeIndex t : out[n]) {
      if (t == removed || seen[t]) continue;
      seen[t] = true;
      stack.push_back(t);
    }
  }
  return seen;
}

}  // namespace

TEST_CASE("semi-NCA immediate dominators equal Boost's Lengauer-Tarjan on 3000 random graphs") {
  std::mt19937_64 rng(20261205);
  std::size_t unreachable_seen = 0;
  for (int round = 0; round < 3000; ++round) {
    const RandomGraph random = make_random_graph(rng);
    // Every round with the walk's 32-bit records; every third also with the
    // 64-bit ones that only graphs of billions of edges would otherwise use.
    const DominatorTree tree = compute_dominators(random.graph, WalkLayout::Narrow);
    const std::vector<NodeIndex> expected = boost_idoms(random.graph.node_count(), random.strong_edges);
    for (NodeIndex n = 0; n < random.graph.node_count(); ++n) {
      if (expected[n] == kNoNode) ++unreachable_seen;
      if (tree.idom[n] != expected[n]) {
        FAIL("round " << round << " node " << n << ": idom " << tree.idom[n] << ", Boost says " << expected[n]);
      }
    }
    // Every round over the CSR too: the same walk, so the same preorder.
    const DominatorTree csr = compute_dominators(random.graph, WalkLayout::Csr);
    if (csr.idom != tree.idom || csr.preorder != tree.preorder || csr.retained != tree.retained) {
      FAIL("round " << round << ": the CSR walk's result differs from the records'");
    }
    if (round % 3 == 0) {
      const DominatorTree wide = compute_dominators(random.graph, WalkLayout::Wide);
      for (NodeIndex n = 0; n < random.graph.node_count(); ++n) {
        if (wide.idom[n] != expected[n]) {
          FAIL("round " << round << " node " << n << ": wide idom " << wide.idom[n] << ", Boost says " << expected[n]);
        }
      }
      CHECK(wide.retained == tree.retained);
      CHECK(wide.preorder == tree.preorder);
    }
  }
  CHECK(unreachable_seen > 1000);  // the generator does make unreachable parts
}

// Graphs of tens of thousands of nodes with edges to anywhere: the walk's
// log of non-tree edges then spans many 4096-target buckets with scattered
// targets, so the predecessors are sorted in two levels (the small graphs
// above, one bucket, take the one-level sort).
TEST_CASE("semi-NCA equals Boost's Lengauer-Tarjan on 12 random graphs of up to 60,000 nodes") {
  std::mt19937_64 rng(20261207);
  for (int round = 0; round < 12; ++round) {
    const RandomGraph random = make_random_graph(rng, 60'000);
    const DominatorTree tree = compute_dominators(random.graph);
    const std::vector<NodeIndex> expected = boost_idoms(random.graph.node_count(), random.strong_edges);
    for (NodeIndex n = 0; n < random.graph.node_count(); ++n) {
      if (tree.idom[n] != expected[n]) {
        FAIL("round " << round << " node " << n << ": idom " << tree.idom[n] << ", Boost says " << expected[n]);
      }
    }
    // Edges to anywhere: Auto walks records; the CSR walk must agree.
    const DominatorTree csr = compute_dominators(random.graph, WalkLayout::Csr);
    CHECK(csr.idom == tree.idom);
    CHECK(csr.retained == tree.retained);
  }
}

TEST_CASE("retained size = what becomes unreachable when the object is removed (300 random graphs)") {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 300; ++round) {
    const RandomGraph random = make_random_graph(rng);
    const HeapGraph& g = random.graph;
    const DominatorTree tree = compute_dominators(g);
    const std::vector<bool> reachable = reachable_without(g.node_count(), random.strong_edges, kNoNode);
    for (NodeIndex n = 1; n < g.node_count(); ++n) {
      std::uint64_t expected = 0;
      if (reachable[n]) {
        const std::vector<bool> still = reachable_without(g.node_count(), random.strong_edges, n);
        for (NodeIndex m = 1; m < g.node_count(); ++m) {
          if (reachable[m] && !still[m]) expected += g.shallow_size(m);
        }
      }
      REQUIRE_MESSAGE(tree.retained[n] == expected, "round " << round << " node " << n);
    }
  }
}

TEST_CASE("a 1,000,000-long linked list: no recursion, exact retained sizes") {
  GraphBuilder b;
  const StringId type = b.intern("Node");
  const StringId next = b.intern("next");
  constexpr std::uint64_t kLength = 1'000'000;
  for (std::uint64_t i = 1; i <= kLength; ++i) {
    b.add_node(i, type, 2);
    if (i < kLength) b.add_edge(i + 1, EdgeLabel::named(next));
  }
  b.add_root(1);
  const HeapGraph g = std::move(b).build();
  const DominatorTree tree = compute_dominators(g);
  CHECK(tree.retained[g.find(1)] == 2 * kLength);
  CHECK(tree.retained[g.find(kLength)] == 2);
  CHECK(tree.idom[g.find(kLength)] == g.find(kLength - 1));
  CHECK(tree.reachable_count() == kLength + 1);
}

// 2.5M nodes: over the size where the walk's arrays are faulted in on a
// second thread while the records are built. A chain with skip edges
// (i -> i + 2 for every third i), self loops and edges back to earlier
// nodes has a known answer: idom(k) = k - 2 below a skip edge, else k - 1;
// a skip edge is never a DFS tree edge (the chain edge is followed first),
// so a lost entry of the non-tree log changes idom. Half a million
// unreachable nodes with no edges make that log outgrow the size it was
// given (every edge but one a node).
TEST_CASE("2,500,000 nodes (walk arrays made on a second thread): chain with skip and back edges, exact") {
  GraphBuilder b;
  const StringId type = b.intern("Node");
  constexpr std::uint64_t kChain = 2'000'000, kUnreached = 500'000;
  for (std::uint64_t i = 1; i <= kChain; ++i) {
    b.add_node(i, type, 3);
    if (i < kChain) b.add_edge(i + 1);
    if (i % 3 == 0 && i + 2 <= kChain) b.add_edge(i + 2);
    b.add_edge(i);                   // self loop
    b.add_edge(1 + (i * 7919) % i);  // back to an earlier node (or itself)
  }
  for (std::uint64_t i = kChain + 1; i <= kChain + kUnreached; ++i) b.add_node(i, type, 5);
  b.add_root(1);
  const HeapGraph g = std::move(b).build();
  for (const WalkLayout layout : {WalkLayout::Narrow, WalkLayout::Wide, WalkLayout::Csr}) {
    const DominatorTree tree = compute_dominators(g, layout);
    CHECK(tree.reachable_count() == kChain + 1);
    std::uint64_t wrong = 0;
    for (std::uint64_t k = 2; k <= kChain; ++k) {
      const std::uint64_t want = k >= 3 && (k - 2) % 3 == 0 ? k - 2 : k - 1;
      wrong += tree.idom[g.find(k)] != g.find(want);
    }
    CHECK(wrong == 0);
    CHECK(tree.retained[kSuperRoot] == 3 * kChain);
    CHECK(tree.retained[g.find(1)] == 3 * kChain);
    CHECK(!tree.reachable(g.find(kChain + 1)));
  }
}

// Retained sizes are held in 32 bits only while every shallow size together
// fits them. Past 4 GiB they are summed in 64: a root holding two 3 GiB
// objects retains 6 GiB, and a graph just under the limit stays exact.
TEST_CASE("retained sizes past 4 GiB are summed in 64 bits; just below, in 32, exactly") {
  constexpr std::uint64_t kGiB = std::uint64_t{1} << 30;
  for (const std::uint64_t big : {3 * kGiB, std::uint64_t{0xFFFFFFFFu} / 2 - 1}) {
    GraphBuilder b;
    const StringId type = b.intern("Blob");
    b.add_node(1, type, 1);
    b.add_edge(2);
    b.add_edge(3);
    b.add_node(2, type, big);
    b.add_node(3, type, big);
    b.add_root(1);
    const HeapGraph g = std::move(b).build();
    const DominatorTree tree = compute_dominators(g);
    CHECK(tree.retained.is_narrow() == (2 * big + 1 <= 0xFFFFFFFFu));
    CHECK(tree.retained[g.find(1)] == 2 * big + 1);
    CHECK(tree.retained[kSuperRoot] == 2 * big + 1);
    CHECK(tree.retained[g.find(3)] == big);
  }
}
