// analyze on small graphs whose answers are worked out by hand.
#include <doctest/doctest.h>

#include "heapscope/analyze.hpp"

using namespace heapscope;

namespace {

// root "module app" -> dict(10) -'SESSIONS'-> list(20) -[i]-> 8 x Session(100)
//                    -> config(30)
// unreachable: orphan(7) -> orphan_child(3); cycle c1(5) <-> c2(5)
HeapGraph planted_leak() {
  GraphBuilder b;
  const StringId module = b.intern("module");
  b.add_node(1, module, 50, b.intern("app"));
  b.add_edge(2, EdgeLabel::named(b.intern("__dict__")));
  b.add_node(2, b.intern("dict"), 10);
  b.add_edge(3, EdgeLabel::named(b.intern("'SESSIONS'")));
  b.add_edge(4, EdgeLabel::named(b.intern("'CONFIG'")));
  b.add_node(3, b.intern("list"), 20);
  for (std::uint32_t i = 0; i < 8; ++i) b.add_edge(100 + i, EdgeLabel::index(i));
  b.add_node(4, b.intern("Config"), 30);
  const StringId session = b.intern("Session");
  for (std::uint64_t i = 0; i < 8; ++i) b.add_node(100 + i, session, 100);
  b.add_node(200, b.intern("Orphan"), 7);
  b.add_edge(201);
  b.add_node(201, b.intern("OrphanChild"), 3);
  b.add_node(300, b.intern("Cycle"), 5);
  b.add_edge(301);
  b.add_node(301, b.intern("Cycle"), 5);
  b.add_edge(300);
  b.add_root(1, b.intern("module app"), b.intern("module"));
  return std::move(b).build();
}

}  // namespace

TEST_CASE("summary, retainers, types, suspects and leaked on a planted leak") {
  const HeapGraph graph = planted_leak();
  const GraphAnalysis analysis(graph);
  AnalyzeOptions options;
  options.top = 3;
  const AnalyzeReport report = analyze_graph(analysis, options, "x.json", "heapscope-graph");

  // Reachable: 50 + 10 + 20 + 30 + 800 = 910; unreachable: 7 + 3 + 5 + 5 = 20.
  CHECK(report.summary.objects == 16);
  CHECK(report.summary.reachable_objects == 12);
  CHECK(report.summary.reachable_size == 910);
  CHECK(report.summary.unreachable_objects == 4);
  CHECK(report.summary.unreachable_size == 20);
  CHECK(report.summary.total_shallow_size == 930);

  REQUIRE(report.top_retainers.size() == 3);
  CHECK(report.top_retainers[0].object.id == 1);
  CHECK(report.top_retainers[0].object.retained_size == 910);
  CHECK(report.top_retainers[1].object.id == 2);
  CHECK(report.top_retainers[1].object.retained_size == 860);
  CHECK(report.top_retainers[2].object.id == 3);
  CHECK(report.top_retainers[2].object.retained_size == 820);
  const Chain& chain = report.top_retainers[2].chain;
  REQUIRE(chain.steps.size() == 3);
  CHECK(chain.steps[0].edge == "module app");
  CHECK(chain.steps[1].edge == "__dict__");
  CHECK(chain.steps[2].edge == "'SESSIONS'");
  CHECK(chain.length == 2);

  // Types, biggest retained first, top 3 of 8.
  CHECK(report.types_total == 8);
  REQUIRE(report.types.size() == 3);
  CHECK(report.types[0].type == "module");
  CHECK(report.types[1].type == "dict");
  CHECK(report.types[2].type == "list");
  CHECK(report.types[2].retained_size == 820);

  // One suspect: module app; descending by the 80% rule ends at the list
  // (820 >= 0.8 * 860, but no single Session holds 80% of the list).
  REQUIRE(report.suspects.size() == 1);
  const SuspectRow& suspect = report.suspects[0];
  CHECK(suspect.suspect.id == 1);
  CHECK(suspect.accumulation_point.id == 3);
  REQUIRE(!suspect.accumulated.empty());
  CHECK(suspect.accumulated[0].type == "Session");
  CHECK(suspect.accumulated[0].count == 8);
  CHECK(suspect.accumulated[0].retained_size == 800);
  CHECK(suspect.description.find("holds 8 `Session` objects") != std::string::npos);

  // Leaked: Orphan is the only unreferenced one; it keeps 10 bytes.
  CHECK(report.leaked.objects == 4);
  CHECK(report.leaked.size == 20);
  CHECK(report.leaked.unreferenced_objects == 1);
  REQUIRE(report.leaked.heads.size() == 1);
  CHECK(report.leaked.heads[0].id == 200);
  CHECK(report.leaked.heads[0].retained_size == 10);
  REQUIRE(!report.leaked.groups.empty());
  CHECK(report.leaked.groups[0].type == "Cycle");
  CHECK(report.leaked.groups[0].count == 2);
}

TEST_CASE("type retained size counts only the outermost object of a type") {
  // A(10) -> A(20) -> B(5): type A retains 35 (not 35 + 25).
  GraphBuilder b;
  const StringId a = b.intern("A");
  b.add_node(1, a, 10);
  b.add_edge(2);
  b.add_node(2, a, 20);
  b.add_edge(3);
  b.add_node(3, b.intern("B"), 5);
  b.add_root(1);
  const HeapGraph graph = std::move(b).build();
  const GraphAnalysis analysis(graph);
  const std::vector<TypeRow> types = type_table(analysis);
  REQUIRE(types.size() == 2);
  CHECK(types[0].type == "A");
  CHECK(types[0].count == 2);
  CHECK(types[0].shallow_size == 30);
  CHECK(types[0].retained_size == 35);
  CHECK(types[1].retained_size == 5);
}

TEST_CASE("dominator rows: retained descending then id; idom 0 under the super-root") {
  // Two roots share child 3: its idom is the super-root.
  GraphBuilder b;
  const StringId t = b.intern("T");
  b.add_node(1, t, 1);
  b.add_edge(3);
  b.add_node(2, t, 1);
  b.add_edge(3);
  b.add_node(3, t, 4);
  b.add_root(1);
  b.add_root(2);
  const HeapGraph graph = std::move(b).build();
  const GraphAnalysis analysis(graph);
  const std::vector<DominatorRow> rows = dominator_rows(analysis);
  REQUIRE(rows.size() == 3);
  CHECK(rows[0].id == 3);
  CHECK(rows[0].idom == 0);
  CHECK(rows[1].id == 1);
  CHECK(rows[2].id == 2);
  CHECK(rows[1].retained_size == 1);
}

TEST_CASE("external roots: grouped by type, what each keeps alive, biggest first; meaning from meta") {
  // 1 is a module root; 2 and 4 are external roots (4 keeps 5); 6 is an
  // unreachable cycle with 7.
  GraphBuilder b;
  const StringId leaked = b.intern("Leaked"), other = b.intern("T");
  b.add_node(1, other, 1);
  b.add_node(2, leaked, 10);
  b.add_node(4, leaked, 20);
  b.add_edge(5);
  b.add_node(5, other, 7);
  b.add_node(6, other, 3);
  b.add_edge(7);
  b.add_node(7, other, 3);
  b.add_edge(6);
  b.add_root(1, b.intern("module m"), b.intern("module"));
  b.add_root(2, b.intern("external (1 unseen reference) Leaked"), b.intern("external"));
  b.add_root(4, b.intern("external (2 unseen references) Leaked"), b.intern("external"));
  b.set_meta("unreachable_means", "cyclic-garbage");
  const HeapGraph graph = std::move(b).build();
  const GraphAnalysis analysis(graph);
  AnalyzeOptions options;
  options.leaked_heads = 1;
  const AnalyzeReport report = analyze_graph(analysis, options, "x.json", "heapscope-graph");
  const ExternalSection& external = report.external;
  CHECK(external.checked);
  CHECK(external.objects == 2);
  CHECK(external.retained_size == 37);
  REQUIRE(external.groups.size() == 1);
  CHECK(external.groups[0].type == "Leaked");
  CHECK(external.groups[0].count == 2);
  CHECK(external.groups[0].retained_size == 37);
  REQUIRE(external.biggest.size() == 1);  // leaked_heads
  CHECK(external.biggest[0].object.id == 4);
  CHECK(external.biggest[0].object.retained_size == 27);
  CHECK(external.biggest[0].root_name == "external (2 unseen references) Leaked");
  CHECK(report.leaked.meaning == "cyclic-garbage");
  CHECK(report.leaked.objects == 2);
}

TEST_CASE("without external roots or a known meaning: an empty, unchecked section and unknown") {
  GraphBuilder b;
  b.add_node(1, b.intern("T"), 1);
  b.add_root(1);
  b.set_meta("unreachable_means", "something else");
  const HeapGraph graph = std::move(b).build();
  const GraphAnalysis analysis(graph);
  const AnalyzeReport report = analyze_graph(analysis, AnalyzeOptions{}, "x.json", "heapscope-graph");
  CHECK_FALSE(report.external.checked);
  CHECK(report.external.objects == 0);
  CHECK(report.leaked.meaning == "unknown");
}
