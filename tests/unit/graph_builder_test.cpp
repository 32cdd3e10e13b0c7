#include <doctest/doctest.h>

#include <algorithm>

#include "heapscope/error.hpp"
#include "heapscope/heap_graph.hpp"

using namespace heapscope;

TEST_CASE("builder resolves ids, drops dangling edges and roots, and builds the CSR and its reverse") {
  GraphBuilder b;
  const StringId a = b.intern("A");
  const StringId n = b.intern("next");
  b.add_node(100, a, 10);
  b.add_edge(200, EdgeLabel::named(n));
  b.add_edge(999);  // dangling
  b.add_node(200, a, 20);
  b.add_edge(100, EdgeLabel::index(3), EdgeKind::Weak);
  b.add_edge(200);  // self loop
  b.add_root(100, b.intern("module m"), b.intern("module"));
  b.add_root(12345);  // dangling
  const HeapGraph g = std::move(b).build();

  CHECK(g.object_count() == 2);
  CHECK(g.dropped_dangling_edges() == 1);
  CHECK(g.dropped_dangling_roots() == 1);
  CHECK(g.weak_edge_count() == 1);
  REQUIRE(g.roots().size() == 1);
  const NodeIndex first = g.find(100);
  const NodeIndex second = g.find(200);
  CHECK(first == 1);
  CHECK(second == 2);
  CHECK(g.find(7) == kNoNode);
  // super-root edge first, then node 1's edge, then node 2's two edges.
  CHECK(g.out_end(kSuperRoot) - g.out_begin(kSuperRoot) == 1);
  CHECK(g.edge_target(g.out_begin(kSuperRoot)) == first);
  CHECK(g.label_text(g.edge_label(g.out_begin(kSuperRoot))) == "module m");
  CHECK(g.out_end(first) - g.out_begin(first) == 1);
  CHECK(g.label_text(g.edge_label(g.out_begin(first))) == "next");
  CHECK(g.label_text(g.edge_label(g.out_begin(second))) == "[3]");
  CHECK(g.edge_kind(g.out_begin(second)) == EdgeKind::Weak);
  for (EdgeIndex e = 0; e < g.edge_count(); ++e) CHECK(g.edge_target(g.out_begin(g.edge_source(e))) <= g.node_count());
  CHECK(g.edge_source(g.out_begin(second) + 1) == second);
  // Strong referrers: the weak edge is absent.
  const StrongReferrers referrers(g);
  const auto into_first = referrers.of(first);
  CHECK(std::vector<NodeIndex>(into_first.begin(), into_first.end()) == std::vector<NodeIndex>{kSuperRoot});
  const auto into_second = referrers.of(second);
  CHECK(std::vector<NodeIndex>(into_second.begin(), into_second.end()) == std::vector<NodeIndex>{first, second});
}

TEST_CASE("duplicate ids are an input error") {
  GraphBuilder b;
  const StringId a = b.intern("A");
  b.add_node(1, a, 1);
  b.add_node(1, a, 1);
  b.add_root(1);
  CHECK_THROWS_AS(std::move(b).build(), InputError);
}

TEST_CASE("ordinal naming targets nodes by the order they were added") {
  GraphBuilder b(TargetNaming::ByOrdinal);
  const StringId a = b.intern("A");
  b.add_node(555, a, 1);
  b.add_edge(1);
  b.add_node(777, a, 1);
  b.add_edge(5);  // out of range: dropped
  b.add_root(0);
  const HeapGraph g = std::move(b).build();
  CHECK(g.edge_target(g.out_begin(1)) == 2);
  CHECK(g.object_id(2) == 777);
  CHECK(g.dropped_dangling_edges() == 1);
}

TEST_CASE("nodes_by_id is sorted by object id") {
  GraphBuilder b;
  const StringId a = b.intern("A");
  for (std::uint64_t id : {50u, 3u, 99u, 7u}) b.add_node(id, a, 1);
  b.add_root(3);
  const HeapGraph g = std::move(b).build();
  std::vector<std::uint64_t> ids;
  for (NodeIndex n : g.nodes_by_id()) ids.push_back(g.object_id(n));
  CHECK(ids == std::vector<std::uint64_t>{3, 7, 50, 99});
}
