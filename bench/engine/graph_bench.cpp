// graph_bench NODES [--no-boost] [--keep FILE] [--reuse] [--repeat K] [--diff] [--tree-order]
//
// Writes a heap-like heapscope JSON graph (a few hundred roots, mostly a tree
// with cross links, about 4 edges per node, node order shuffled as addresses
// are; --tree-order lists them in tree order instead), then reads and analyzes it, printing wall time and peak RSS per phase,
// and in the same run one plain BFS and Boost's Lengauer-Tarjan on the graph.
// With --diff it also writes a second snapshot of the same "process" with 10%
// more objects and times `diff` of the two next to analyzing each.
// --reuse reads FILE as it is when it exists (no new graph is written; it
// must have been written for the same NODES); --repeat K times the BFS and
// the dominators K times each, alternating, for comparisons on a machine
// whose speed varies from minute to minute.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "heapscope/analyze.hpp"
#include "heapscope/diff.hpp"
#include "readers/reader.hpp"

#ifdef HEAPSCOPE_BENCH_WITH_BOOST
#include <boost/graph/compressed_sparse_row_graph.hpp>
#include <boost/graph/dominator_tree.hpp>
#endif

using namespace heapscope;
using Clock = std::chrono::steady_clock;

namespace {

double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

double system_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_stime.tv_sec) + static_cast<double>(usage.ru_stime.tv_usec) / 1e6;
}

// Wall time, the kernel's share of it (system time, mostly page faults:
// fresh memory costs as much as the work on this machine) and the peak.
struct Phase {
  const char* name;
  Clock::time_point start = Clock::now();
  double system_start = system_seconds();
  ~Phase() {
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    std::printf("%-28s %8.2f s (system %.2f s)   peak RSS %8.0f MB\n", name, seconds, system_seconds() - system_start,
                peak_rss_mb());
    std::fflush(stdout);
  }
};

// Cheap per-object randomness: an object's type, size and cross links depend
// only on its number, so a later snapshot (with --diff) describes the same
// objects whatever order the file lists them in.
std::uint64_t splitmix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// Object i is a tree node with children 3i+1..3i+3 (about one a node on
// average) plus three cross links anywhere: ~4 edges a node. `grown` objects
// come after the first `base_nodes` ones, which keep their ids, types, sizes
// and links: a later snapshot of the same process. Ids are shuffled
// addresses; with shuffled_order the file also lists the objects in a random
// order, as a dump in address order does (tree order, the alternative, puts
// every node's children next to it and flatters any breadth-first walk).
void write_graph(const std::string& path, std::uint64_t base_nodes, std::uint64_t grown, bool shuffled_order) {
  std::mt19937_64 rng(1);
  const std::uint64_t nodes = base_nodes + grown;
  std::vector<std::uint64_t> ids(nodes);
  for (std::uint64_t i = 0; i < nodes; ++i) ids[i] = 0x7f0000000000ull + 16 * i;
  std::shuffle(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(base_nodes), rng);
  std::vector<std::uint64_t> order(nodes);
  std::iota(order.begin(), order.end(), std::uint64_t{0});
  if (shuffled_order) std::shuffle(order.begin(), order.end(), rng);
  std::ofstream out(path);
  out << "{\"format\":\"heapscope-graph\",\"version\":1,\"roots\":[";
  const std::uint64_t roots = std::min<std::uint64_t>(300, nodes);
  for (std::uint64_t r = 0; r < roots; ++r) out << (r ? "," : "") << ids[r];
  out << "],\"nodes\":[";
  static const char* kTypes[] = {"dict", "list", "str", "tuple", "Session", "int", "bytes", "function"};
  std::string line;
  for (std::uint64_t k = 0; k < nodes; ++k) {
    const std::uint64_t i = order[k];
    std::uint64_t draw = splitmix(i);
    auto next_random = [&draw] { return draw = splitmix(draw); };
    line.clear();
    line += k ? ",{\"id\":" : "{\"id\":";
    line += std::to_string(ids[i]);
    line += ",\"type\":\"";
    line += kTypes[next_random() % 8];
    line += "\",\"size\":";
    line += std::to_string(16 + next_random() % 500);
    line += ",\"refs\":[";
    bool first = true;
    for (std::uint64_t c = 3 * i + 1; c <= 3 * i + 3 && c < nodes; ++c) {
      line += first ? "" : ",";
      line += std::to_string(ids[c]);
      first = false;
    }
    for (int cross = 0; cross < 3 && nodes > 1; ++cross) {
      line += first ? "" : ",";
      line += std::to_string(ids[next_random() % nodes]);
      first = false;
    }
    line += "]}";
    out << line;
  }
  out << "]}\n";
}

#ifdef HEAPSCOPE_BENCH_WITH_BOOST
void boost_lengauer_tarjan(const HeapGraph& g) {
  using BoostGraph = boost::compressed_sparse_row_graph<boost::bidirectionalS>;
  std::vector<std::pair<std::size_t, std::size_t>> edges;
  edges.reserve(g.edge_count());
  for (NodeIndex n = 0; n < g.node_count(); ++n) {
    for (EdgeIndex e = g.out_begin(n); e < g.out_end(n); ++e) {
      if (g.is_strong(e)) edges.emplace_back(n, g.edge_target(e));
    }
  }
  Phase phase{"boost lengauer_tarjan"};
  BoostGraph bg(boost::edges_are_unsorted_multi_pass, edges.begin(), edges.end(), g.node_count());
  std::vector<std::size_t> dom(g.node_count());
  const auto index = boost::get(boost::vertex_index, bg);
  std::vector<std::size_t> dfnum(g.node_count(), std::numeric_limits<std::size_t>::max());
  std::vector<std::size_t> parent(g.node_count(), std::numeric_limits<std::size_t>::max());
  std::vector<std::size_t> by_dfnum(g.node_count(), std::numeric_limits<std::size_t>::max());
  boost::lengauer_tarjan_dominator_tree(bg, 0, index, boost::make_iterator_property_map(dfnum.begin(), index),
                                        boost::make_iterator_property_map(parent.begin(), index), by_dfnum,
                                        boost::make_iterator_property_map(dom.begin(), index));
}
#endif

}  // namespace

#ifdef HEAPSCOPE_BENCH_WITH_BOOST
namespace boost {
// Boost 1.74's dominator concept check wants degree() on a bidirectional CSR
// graph, which does not provide it.
inline std::size_t degree(std::size_t v, const compressed_sparse_row_graph<bidirectionalS>& g) {
  return in_degree(v, g) + out_degree(v, g);
}
}  // namespace boost
#endif

int main(int argc, char** argv) {
  const char* usage =
      "usage: graph_bench NODES [--no-boost] [--keep FILE] [--reuse] [--repeat K] [--diff] [--tree-order]\n";
  const bool nodes_given = argc >= 2 && argv[1][0] >= '0' && argv[1][0] <= '9';
  if (!nodes_given) {
    std::fputs(usage, argc >= 2 && std::strcmp(argv[1], "--help") == 0 ? stdout : stderr);
    return argc >= 2 && std::strcmp(argv[1], "--help") == 0 ? 0 : 2;
  }
  const std::uint64_t nodes = std::strtoull(argv[1], nullptr, 10);
  // The reader's own phase lines (parse speed, build time) go to stdout too.
  spdlog::set_level(spdlog::level::debug);
  spdlog::set_pattern("  %v");
  bool boost_too = true;
  bool diff_too = false;
  bool shuffled_order = true;
  bool reuse = false;
  int repeat = 1;
  std::string path = "/tmp/heapscope-bench-graph.json";
  for (int i = 2; i < argc; ++i) {
    if (std::strcmp(argv[i], "--no-boost") == 0) boost_too = false;
    if (std::strcmp(argv[i], "--diff") == 0) diff_too = true;
    if (std::strcmp(argv[i], "--tree-order") == 0) shuffled_order = false;
    if (std::strcmp(argv[i], "--reuse") == 0) reuse = true;
    if (std::strcmp(argv[i], "--repeat") == 0 && i + 1 < argc) repeat = std::max(1, std::atoi(argv[++i]));
    if (std::strcmp(argv[i], "--keep") == 0 && i + 1 < argc) path = argv[++i];
  }
  if (!(reuse && std::ifstream(path).good())) {
    Phase phase{"generate JSON"};
    write_graph(path, nodes, 0, shuffled_order);
  }
  std::ifstream size_probe(path, std::ios::ate);
  const double megabytes = static_cast<double>(size_probe.tellg()) / 1e6;
  std::printf("graph: %llu nodes, file %.0f MB\n", static_cast<unsigned long long>(nodes), megabytes);
  readers::Snapshot snapshot;
  {
    const auto start = Clock::now();
    Phase phase{"parse + build (reader)"};
    snapshot = readers::read_snapshot(path);
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    std::printf("  (%.0f MB/s)\n", megabytes / seconds);
  }
  const HeapGraph& g = *snapshot.graph;
  std::printf("edges: %llu\n", static_cast<unsigned long long>(g.edge_count()));
  for (int round = 0; round < repeat; ++round) {
    {
      Phase phase{"one BFS (shortest chains)"};
      const RootDistances d = shortest_paths_from_roots(g);
      (void)d;
    }
    {
      DominatorTimings steps;
      {
        Phase phase{"dominators + retained"};
        const DominatorTree tree = compute_dominators(g, WalkLayout::Auto, &steps);
        (void)tree;
      }
      std::printf("  records %.0f, walk %.0f, predecessors %.0f, semi %.0f, idom %.0f, retained %.0f ms\n",
                  steps.walk_records_ms, steps.walk_ms, steps.predecessors_ms, steps.semi_ms, steps.idom_ms,
                  steps.retained_ms);
    }
  }
  {
    Phase phase{"whole analyze (all phases)"};
    const GraphAnalysis analysis(g);
    const AnalyzeReport report = analyze_graph(analysis, {}, path, snapshot.format);
    std::printf("  reachable %llu objects\n", static_cast<unsigned long long>(report.summary.reachable_objects));
    const DominatorTimings& steps = analysis.dominator_timings;
    const double dominators_ms = steps.walk_records_ms + steps.walk_ms + steps.predecessors_ms + steps.semi_ms +
                                 steps.idom_ms + steps.retained_ms;
    std::printf("  in it: dominators + retained %.2f s (records %.0f, walk %.0f, predecessors %.0f, semi %.0f, "
                "idom %.0f, retained %.0f ms), the chains' BFS %.2f s: %.1fx\n",
                dominators_ms / 1000, steps.walk_records_ms, steps.walk_ms, steps.predecessors_ms, steps.semi_ms,
                steps.idom_ms, steps.retained_ms, analysis.chains_ms / 1000, dominators_ms / analysis.chains_ms);
  }
  std::printf("peak RSS per edge: %.1f bytes\n", peak_rss_mb() * 1048576.0 / static_cast<double>(g.edge_count()));
  if (diff_too) {
    const std::string later_path = path + ".later.json";
    {
      Phase phase{"generate later JSON (+10%)"};
      write_graph(later_path, nodes, nodes / 10, shuffled_order);
    }
    readers::Snapshot later;
    {
      Phase phase{"parse + build later"};
      later = readers::read_snapshot(later_path);
    }
    {
      Phase phase{"diff (both analyses + diff)"};
      const GraphAnalysis a(g);
      const GraphAnalysis b(*later.graph);
      const DiffReport report = diff_graphs({&a, &b}, {summarize(a, path, "g"), summarize(b, later_path, "g")}, {});
      std::printf("  new objects %llu, matched %llu\n", static_cast<unsigned long long>(report.new_objects),
                  static_cast<unsigned long long>(report.matched_objects));
    }
    std::remove(later_path.c_str());
  }
#ifdef HEAPSCOPE_BENCH_WITH_BOOST
  if (boost_too) boost_lengauer_tarjan(g);
#else
  (void)boost_too;
#endif
  return 0;
}
