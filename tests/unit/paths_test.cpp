#include <doctest/doctest.h>

#include "heapscope/paths.hpp"

using namespace heapscope;

namespace {

// root -> 1 -a-> 2 -b-> 4 ; 1 -c-> 3 -d-> 4 ; 1 -e-> 4 (weak)
HeapGraph diamond() {
  GraphBuilder b;
  const StringId t = b.intern("T");
  b.add_node(1, t, 1);
  b.add_edge(2, EdgeLabel::named(b.intern("a")));
  b.add_edge(3, EdgeLabel::named(b.intern("c")));
  b.add_edge(4, EdgeLabel::named(b.intern("e")), EdgeKind::Weak);
  b.add_node(2, t, 1);
  b.add_edge(4, EdgeLabel::named(b.intern("b")));
  b.add_node(3, t, 1);
  b.add_edge(4, EdgeLabel::named(b.intern("d")));
  b.add_node(4, t, 1);
  b.add_root(1, b.intern("R"));
  return std::move(b).build();
}

std::string edges_text(const HeapGraph& g, const std::vector<EdgeIndex>& edges) {
  std::string text;
  for (const EdgeIndex e : edges) text += g.label_text(g.edge_label(e)) + "/";
  return text;
}

}  // namespace

TEST_CASE("shortest chain ignores weak edges; k shortest gives both strong chains") {
  const HeapGraph g = diamond();
  const RootDistances distances = shortest_paths_from_roots(g, Depths::Keep);
  const NodeIndex target = g.find(4);
  CHECK(distances.depth[target] == 3);
  CHECK(edges_text(g, shortest_chain_edges(g, distances, target)) == "R/a/b/");
  const ChainSearchResult found = k_shortest_chains(g, StrongReferrers(g), distances, target, 5);
  REQUIRE(found.chains.size() == 2);
  CHECK(!found.truncated);
  CHECK(edges_text(g, found.chains[0]) == "R/a/b/");
  CHECK(edges_text(g, found.chains[1]) == "R/c/d/");
}

TEST_CASE("runs of 4 or more same (type, edge) steps fold into first, count, last") {
  GraphBuilder b;
  const StringId node = b.intern("Node");
  const StringId next = b.intern("next");
  for (std::uint64_t i = 1; i <= 1000; ++i) {
    b.add_node(i, node, 1);
    if (i < 1000) b.add_edge(i + 1, EdgeLabel::named(next));
  }
  b.add_root(1, b.intern("head"));
  const HeapGraph g = std::move(b).build();
  const RootDistances distances = shortest_paths_from_roots(g);
  const Chain chain = make_chain(g, shortest_chain_edges(g, distances, g.find(1000)));
  CHECK(chain.length == 999);
  REQUIRE(chain.steps.size() == 4);
  CHECK(chain.steps[0].edge == "head");
  CHECK(chain.steps[1].edge == "next");
  CHECK(chain.steps[2].repeat == 997);
  CHECK(chain.steps[3].id == 1000);
  const Chain unfolded = make_chain(g, shortest_chain_edges(g, distances, g.find(1000)), false);
  CHECK(unfolded.steps.size() == 1000);
}
