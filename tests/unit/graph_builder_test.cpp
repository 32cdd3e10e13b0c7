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

namespace {

// "T3": built by append(), as GCC 12 warns falsely (-Wrestrict) on "T" + std::string.
std::string numbered(const char* prefix, std::uint64_t i) {
  std::string text(prefix);
  text.append(std::to_string(i));
  return text;
}

// The same small random graph, pushed into a builder or laid out as columns.
struct OrdinalGraph {
  std::vector<std::uint64_t> ids, sizes;
  std::vector<std::vector<std::pair<std::uint32_t, bool>>> edges;  // (target ordinal, weak)
  std::vector<std::uint64_t> roots;                                // ordinals, some dangling
};

OrdinalGraph random_ordinal_graph(std::uint64_t id_base, unsigned seed) {
  OrdinalGraph g;
  std::uint64_t state = seed;
  auto next = [&] { return state = state * 6364136223846793005ULL + 1442695040888963407ULL, state >> 33; };
  const std::uint32_t n = 50 + static_cast<std::uint32_t>(next() % 50);
  for (std::uint32_t i = 0; i < n; ++i) {
    g.ids.push_back(id_base + (next() % 1000) * 1000 + i);  // unsorted, unique
    g.sizes.push_back(next() % 100);
    g.edges.emplace_back();
    for (std::uint64_t k = next() % 5; k > 0; --k) g.edges.back().push_back({static_cast<std::uint32_t>(next() % n), next() % 4 == 0});
  }
  g.roots = {0, n + 7, n - 1, 3};
  return g;
}

HeapGraph build_by_pushing(const OrdinalGraph& og) {
  GraphBuilder b(TargetNaming::ByOrdinal);
  for (std::size_t i = 0; i < og.ids.size(); ++i) {
    b.add_node(og.ids[i], b.intern(numbered("T", i % 3)), og.sizes[i], b.intern(numbered("n", i)));
    for (std::size_t k = 0; k < og.edges[i].size(); ++k) {
      const auto [target, weak] = og.edges[i][k];
      b.add_edge(target, EdgeLabel::index(static_cast<std::uint32_t>(k)), weak ? EdgeKind::Weak : EdgeKind::Strong);
    }
  }
  for (const std::uint64_t r : og.roots) b.add_root(r, b.intern(numbered("root ", r)));
  return std::move(b).build();
}

HeapGraph build_from_columns(const OrdinalGraph& og) {
  GraphBuilder b(TargetNaming::ByOrdinal);
  GraphColumns c;
  const std::size_t n = og.ids.size();
  c.object_id.resize(n + 1);
  c.shallow_size.resize(n + 1);
  c.type.assign(n + 1, 0);
  c.name.assign(n + 1, 0);
  c.out_begin.assign(n + 2, 0);
  for (std::size_t i = 0; i < n; ++i) {
    c.object_id.set(i + 1, og.ids[i]);
    c.shallow_size.set(i + 1, og.sizes[i]);
    c.type[i + 1] = b.intern(numbered("T", i % 3));
    c.name[i + 1] = b.intern(numbered("n", i));
    c.out_begin[i + 1] = c.edge_target.size();
    for (std::size_t k = 0; k < og.edges[i].size(); ++k) {
      c.edge_target.push_back(og.edges[i][k].first);
      c.edge_label.push_back(EdgeLabel::index(static_cast<std::uint32_t>(k)).raw());
      c.edge_kind.push_back(static_cast<std::uint8_t>(og.edges[i][k].second ? EdgeKind::Weak : EdgeKind::Strong));
    }
  }
  c.out_begin[n + 1] = c.edge_target.size();
  for (const std::uint64_t r : og.roots) b.add_root(r, b.intern(numbered("root ", r)));
  return std::move(b).build(std::move(c));
}

void check_same_graph(const HeapGraph& x, const HeapGraph& y) {
  REQUIRE(x.node_count() == y.node_count());
  REQUIRE(x.edge_count() == y.edge_count());
  CHECK(x.weak_edge_count() == y.weak_edge_count());
  CHECK(x.dropped_dangling_roots() == y.dropped_dangling_roots());
  CHECK(x.roots().size() == y.roots().size());
  for (NodeIndex n = 0; n < x.node_count(); ++n) {
    CHECK(x.object_id(n) == y.object_id(n));
    CHECK(x.shallow_size(n) == y.shallow_size(n));
    CHECK(x.text(x.type(n)) == y.text(y.type(n)));
    CHECK(x.text(x.name(n)) == y.text(y.name(n)));
    REQUIRE(x.out_begin(n) == y.out_begin(n));
    REQUIRE(x.out_end(n) == y.out_end(n));
  }
  for (EdgeIndex e = 0; e < x.edge_count(); ++e) {
    CHECK(x.edge_target(e) == y.edge_target(e));
    CHECK(x.label_text(x.edge_label(e)) == y.label_text(y.edge_label(e)));
    CHECK(x.edge_kind(e) == y.edge_kind(e));
  }
  CHECK(std::equal(x.nodes_by_id().begin(), x.nodes_by_id().end(), y.nodes_by_id().begin(), y.nodes_by_id().end()));
}

}  // namespace

TEST_CASE("a graph adopted from ready columns equals the same graph pushed node by node") {
  for (unsigned seed = 1; seed <= 20; ++seed) {
    // Ids that fit 32 bits (sorted as packed keys) and ids that do not.
    for (const std::uint64_t base : {std::uint64_t{1}, std::uint64_t{1} << 40}) {
      CAPTURE(seed);
      CAPTURE(base);
      const OrdinalGraph og = random_ordinal_graph(base, seed);
      const HeapGraph pushed = build_by_pushing(og);
      const HeapGraph adopted = build_from_columns(og);
      CHECK(adopted.dropped_dangling_roots() == 1);
      check_same_graph(pushed, adopted);
      for (std::size_t i = 0; i < og.ids.size(); ++i) CHECK(adopted.find(og.ids[i]) == i + 1);
    }
  }
}

TEST_CASE("adopted columns with an edge target out of range are an input error") {
  OrdinalGraph og = random_ordinal_graph(1, 3);
  og.edges[2].push_back({static_cast<std::uint32_t>(og.ids.size()), false});
  CHECK_THROWS_AS(build_from_columns(og), InputError);
}

TEST_CASE("nodes_by_id is sorted whether ids come in a few ascending runs or in no order") {
  // Runs as V8 lists its ids (merged run by run), random order (sorted), both
  // with ids that fit 32 bits and ids that do not.
  for (const std::uint64_t base : {std::uint64_t{0}, std::uint64_t{1} << 40}) {
    for (const int runs : {1, 3, 64, 65, 0}) {
      CAPTURE(base);
      CAPTURE(runs);
      std::vector<std::uint64_t> ids;  // ascending
      for (std::uint64_t i = 0; i < 10'000; ++i) ids.push_back(base + 3 * i + 1);
      // Re-order into `runs` ascending runs (or shuffle for 0).
      std::vector<std::uint64_t> order;
      if (runs > 0) {
        for (int r = 0; r < runs; ++r) {
          for (std::size_t i = static_cast<std::size_t>(r); i < ids.size(); i += static_cast<std::size_t>(runs)) order.push_back(ids[i]);
        }
      } else {
        order = ids;
        for (std::size_t i = order.size() - 1; i > 0; --i) std::swap(order[i], order[(i * 7919) % (i + 1)]);
      }
      GraphBuilder b;
      const StringId a = b.intern("A");
      for (const std::uint64_t id : order) b.add_node(id, a, 1);
      const HeapGraph g = std::move(b).build();
      std::vector<std::uint64_t> sorted;
      for (const NodeIndex node : g.nodes_by_id()) sorted.push_back(g.object_id(node));
      CHECK(sorted == ids);
      CHECK(g.find(ids[ids.size() / 2]) != kNoNode);
    }
  }
}

TEST_CASE("SparseIdColumn: every node's id, or none, as the plain column has it") {
  for (const double share : {0.0, 0.2, 0.97, 1.0}) {
    BigVector<StringId> dense(5'000 + 37, kNoString);  // not a multiple of 64
    std::uint32_t x = 12345;
    for (StringId& id : dense) {
      x = x * 1103515245u + 12345u;
      if ((x >> 8) % 1000 < share * 1000) id = x >> 12;
    }
    const SparseIdColumn sparse(dense);
    CHECK(sparse.size() == dense.size());
    std::size_t wrong = 0;
    for (NodeIndex n = 0; n < dense.size(); ++n) wrong += sparse[n] == dense[n] ? 0 : 1;
    CHECK_MESSAGE(wrong == 0, "share ", share);
  }
}
