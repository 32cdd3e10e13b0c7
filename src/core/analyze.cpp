#include "heapscope/analyze.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <future>
#include <numeric>
#include <span>
#include <unordered_map>

#include "heapscope/units.hpp"

namespace heapscope {

namespace {

// Runs make() and adds its wall time to `ms`.
template <class Make>
auto timed(double& ms, Make make) {
  const auto start = std::chrono::steady_clock::now();
  auto made = make();
  ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return made;
}

}  // namespace

GraphAnalysis::GraphAnalysis(const HeapGraph& g, Depths depths)
    : graph(g), tree(compute_dominators(g, WalkLayout::Auto, &dominator_timings)),
      distances(timed(chains_ms, [&] { return shortest_paths_from_roots(g, depths); })),
      children(timed(children_ms, [&] { return dominator_children(g, tree); })) {}

ObjectView GraphAnalysis::view(NodeIndex node) const {
  ObjectView v;
  v.id = graph.object_id(node);
  v.type = std::string(graph.text(graph.type(node)));
  v.name = std::string(graph.text(graph.name(node)));
  v.shallow_size = graph.shallow_size(node);
  v.retained_size = tree.retained[node];
  v.alloc_site = std::string(graph.text(graph.alloc_site(node)));
  return v;
}

Chain GraphAnalysis::chain_to(NodeIndex node) const {
  return make_chain(graph, shortest_chain_edges(graph, distances, node));
}

namespace {

double percent_of(std::uint64_t part, std::uint64_t whole) {
  return whole == 0 ? 0.0 : 100.0 * static_cast<double>(part) / static_cast<double>(whole);
}

// Orders nodes by retained size descending, then object id ascending.
auto by_retained(const GraphAnalysis& a) {
  return [&a](NodeIndex x, NodeIndex y) {
    if (a.tree.retained[x] != a.tree.retained[y]) return a.tree.retained[x] > a.tree.retained[y];
    return a.graph.object_id(x) < a.graph.object_id(y);
  };
}

}  // namespace

Summary summarize(const GraphAnalysis& a, const std::string& path, const std::string& format) {
  const HeapGraph& g = a.graph;
  Summary s;
  s.path = path;
  s.format = format;
  s.objects = g.object_count();
  s.edges = g.edge_count() - (g.out_end(kSuperRoot) - g.out_begin(kSuperRoot));
  s.weak_edges = g.weak_edge_count();
  s.roots = g.roots().size();
  for (NodeIndex n = 1; n < g.node_count(); ++n) s.total_shallow_size += g.shallow_size(n);
  s.reachable_objects = a.tree.reachable_count() - 1;
  s.reachable_size = a.reachable_size();
  s.unreachable_objects = s.objects - s.reachable_objects;
  s.unreachable_size = s.total_shallow_size - s.reachable_size;
  s.dropped_dangling_refs = g.dropped_dangling_edges();
  s.dropped_dangling_roots = g.dropped_dangling_roots();
  return s;
}

std::vector<RetainerRow> top_retainers(const GraphAnalysis& a, std::size_t top) {
  // The biggest `top` in one pass over the nodes in index order (retained
  // sizes read front to back, not in the tree's order), kept in a heap.
  const auto bigger = by_retained(a);
  std::vector<NodeIndex> nodes;  // a heap: its front is the smallest kept
  for (NodeIndex n = 1; n < a.graph.node_count() && top > 0; ++n) {
    if (!a.tree.reachable(n)) continue;
    if (nodes.size() < top) {
      nodes.push_back(n);
      std::push_heap(nodes.begin(), nodes.end(), bigger);
    } else if (bigger(n, nodes.front())) {
      std::pop_heap(nodes.begin(), nodes.end(), bigger);
      nodes.back() = n;
      std::push_heap(nodes.begin(), nodes.end(), bigger);
    }
  }
  std::sort_heap(nodes.begin(), nodes.end(), bigger);
  const std::size_t count = nodes.size();
  std::vector<RetainerRow> rows;
  for (std::size_t i = 0; i < count; ++i) {
    rows.push_back({a.view(nodes[i]), percent_of(a.tree.retained[nodes[i]], a.reachable_size()),
                    a.chain_to(nodes[i])});
  }
  return rows;
}

namespace {

// Dense numbers for the types the objects have, so that per-type tables are
// sized by the number of types, not of strings: a V8 snapshot interns two
// million strings for about a thousand types, and a table of one report
// row per string was the analysis' biggest allocation.
class DenseTypes {
 public:
  static constexpr std::uint32_t kNone = 0xFFFFFFFFu;
  explicit DenseTypes(const HeapGraph& g) : dense_(g.strings().size(), kNone) {
    for (NodeIndex n = 1; n < g.node_count(); ++n) {
      std::uint32_t& d = dense_[g.type(n)];
      if (d == kNone) {
        d = static_cast<std::uint32_t>(types_.size());
        types_.push_back(g.type(n));
      }
    }
  }
  std::size_t size() const { return types_.size(); }
  std::uint32_t operator[](StringId type) const { return dense_[type]; }
  StringId type(std::uint32_t dense) const { return types_[dense]; }

 private:
  std::vector<std::uint32_t> dense_;  // StringId -> dense number, kNone if no object has it
  std::vector<StringId> types_;       // dense number -> StringId
};

}  // namespace

std::vector<TypeRow> type_table(const GraphAnalysis& a) {
  const HeapGraph& g = a.graph;
  const DenseTypes types(g);
  std::vector<TypeRow> rows(types.size());
  for (NodeIndex n = 1; n < g.node_count(); ++n) {
    TypeRow& row = rows[types[g.type(n)]];
    ++row.count;
    row.shallow_size += g.shallow_size(n);
  }
  // Walk the dominator tree keeping, per type, how many objects of that
  // type are on the current path: a node's retained size counts for its
  // type only when none of its dominators has the same type.
  std::vector<std::uint32_t> active(types.size(), 0);
  struct Frame {
    NodeIndex node;
    std::size_t next_child;
  };
  std::vector<Frame> stack{{kSuperRoot, 0}};
  while (!stack.empty()) {
    Frame& top = stack.back();
    const auto kids = a.children.of(top.node);
    if (top.next_child == kids.size()) {
      if (top.node != kSuperRoot) --active[types[g.type(top.node)]];
      stack.pop_back();
      continue;
    }
    const NodeIndex child = kids[top.next_child++];
    const std::uint32_t type = types[g.type(child)];
    if (active[type]++ == 0) rows[type].retained_size += a.tree.retained[child];
    stack.push_back({child, 0});
  }
  std::vector<TypeRow> result;
  for (std::uint32_t t = 0; t < rows.size(); ++t) {
    rows[t].type = std::string(g.text(types.type(t)));
    result.push_back(std::move(rows[t]));
  }
  std::sort(result.begin(), result.end(), [](const TypeRow& x, const TypeRow& y) {
    if (x.retained_size != y.retained_size) return x.retained_size > y.retained_size;
    if (x.shallow_size != y.shallow_size) return x.shallow_size > y.shallow_size;
    if (x.count != y.count) return x.count > y.count;
    return x.type < y.type;
  });
  return result;
}

namespace {

// Nodes grouped by type: count and retained size, biggest retained first.
// The whole list: callers cut it to what they show.
std::vector<AccumulatedType> group_by_type(const GraphAnalysis& a, std::span<const NodeIndex> nodes) {
  std::vector<AccumulatedType> groups;
  std::unordered_map<StringId, std::size_t> slot;  // type -> index in groups
  for (const NodeIndex node : nodes) {
    const StringId type = a.graph.type(node);
    const auto [it, added] = slot.try_emplace(type, groups.size());
    if (added) groups.push_back({std::string(a.graph.text(type)), 0, 0});
    ++groups[it->second].count;
    groups[it->second].retained_size += a.tree.retained[node];
  }
  std::sort(groups.begin(), groups.end(), [](const AccumulatedType& x, const AccumulatedType& y) {
    if (x.retained_size != y.retained_size) return x.retained_size > y.retained_size;
    if (x.count != y.count) return x.count > y.count;
    return x.type < y.type;
  });
  return groups;
}

std::vector<AccumulatedType> accumulated_under(const GraphAnalysis& a, NodeIndex point, std::size_t limit) {
  std::vector<AccumulatedType> groups = group_by_type(a, a.children.of(point));
  if (groups.size() > limit) groups.resize(limit);
  return groups;
}

std::string object_phrase(const ObjectView& v) {
  return "`" + v.type + "`" + (v.name.empty() ? "" : " " + v.name);
}

std::string chain_phrase(const Chain& chain) {
  std::string text;
  for (std::size_t i = 0; i < chain.steps.size(); ++i) {
    const ChainStep& step = chain.steps[i];
    if (i > 0) text += " -> ";
    if (step.repeat > 0) {
      text += "(x " + with_thousands(step.repeat) + " more `" + step.type + "` via " + step.edge + ")";
    } else {
      text += step.edge.empty() ? "`" + step.type + "`" : step.edge;
    }
  }
  return text;
}

std::string describe_suspect(const SuspectRow& row) {
  char percent[32];
  std::snprintf(percent, sizeof percent, "%.1f%%", row.percent_of_reachable);
  std::string text = object_phrase(row.accumulation_point) + " (reached via " + chain_phrase(row.chain) + ")";
  if (!row.accumulated.empty()) {
    const AccumulatedType& main = row.accumulated.front();
    text += " holds " + with_thousands(main.count) + " `" + main.type + "` object" +
            (main.count == 1 ? "" : "s") + " (" + human_size(main.retained_size) + ")";
  } else {
    text += " holds " + human_size(row.accumulation_point.retained_size);
  }
  return text + ", " + percent + " of the reachable heap";
}

}  // namespace

namespace {

// A node's children in the dominator tree, biggest retained size first
// (ties by object id, so reports do not depend on node order).
// Only those retaining at least min_retained: the super-root of a V8
// snapshot has millions of children, of which a few are big.
std::vector<NodeIndex> children_by_retained(const GraphAnalysis& a, NodeIndex node, std::uint64_t min_retained) {
  std::vector<NodeIndex> sorted;
  for (const NodeIndex child : a.children.of(node)) {
    if (a.tree.retained[child] >= min_retained) sorted.push_back(child);
  }
  std::sort(sorted.begin(), sorted.end(), by_retained(a));
  return sorted;
}

}  // namespace

std::vector<SuspectRow> leak_suspects(const GraphAnalysis& a, const AnalyzeOptions& options) {
  std::vector<SuspectRow> rows;
  const auto threshold = static_cast<std::uint64_t>(options.suspect_threshold * static_cast<double>(a.reachable_size()));
  if (a.reachable_size() == 0) return rows;

  // Each work item is a subtree top. From it, descend while one child keeps
  // accumulation_ratio of its parent (MAT's accumulation point); then the
  // accumulation point's big children become work items of their own, so
  // two separate leaks under one module are two suspects.
  std::vector<NodeIndex> work{kSuperRoot};
  while (!work.empty()) {
    const NodeIndex start = work.back();
    work.pop_back();
    NodeIndex point = start;
    NodeIndex suspect = start == kSuperRoot ? kNoNode : start;
    for (;;) {
      const auto kids = a.children.of(point);
      if (kids.empty()) break;
      const NodeIndex biggest = *std::min_element(kids.begin(), kids.end(), by_retained(a));
      if (static_cast<double>(a.tree.retained[biggest]) <
          options.accumulation_ratio * static_cast<double>(a.tree.retained[point])) {
        break;
      }
      point = biggest;
      if (suspect == kNoNode) suspect = point;
    }
    // Big children become suspects of their own, except when three or more
    // of them share a type: those are items of one accumulation (a few big
    // sessions in a cache), reported here, at their accumulation point.
    const std::vector<NodeIndex> big_children = children_by_retained(a, point, std::max<std::uint64_t>(threshold, 1));
    std::uint64_t in_big_children = 0;
    for (const NodeIndex child : big_children) {
      const auto same_type = std::count_if(big_children.begin(), big_children.end(), [&](NodeIndex other) {
        return a.graph.type(other) == a.graph.type(child);
      });
      if (same_type >= 3) continue;
      in_big_children += a.tree.retained[child];
      work.push_back(child);
    }
    if (point == kSuperRoot || suspect == kNoNode) continue;
    if (in_big_children > 0 && a.tree.retained[point] - in_big_children < threshold) continue;
    SuspectRow row;
    row.suspect = a.view(suspect);
    row.accumulation_point = a.view(point);
    row.percent_of_reachable = percent_of(a.tree.retained[point], a.reachable_size());
    row.chain = a.chain_to(point);
    row.accumulated = accumulated_under(a, point, options.accumulated_types);
    row.description = describe_suspect(row);
    rows.push_back(std::move(row));
  }
  std::sort(rows.begin(), rows.end(), [](const SuspectRow& x, const SuspectRow& y) {
    if (x.accumulation_point.retained_size != y.accumulation_point.retained_size) {
      return x.accumulation_point.retained_size > y.accumulation_point.retained_size;
    }
    return x.accumulation_point.id < y.accumulation_point.id;
  });
  return rows;
}

LeakedSection leaked_objects(const GraphAnalysis& a, const AnalyzeOptions& options) {
  const HeapGraph& g = a.graph;
  LeakedSection section;
  // Every object reachable (always so in V8 snapshots, whose unreachable
  // objects hang under the root): nothing to group, and no pass over all
  // nodes and edges to find that out (5M nodes: 11 ms).
  if (a.tree.reachable_count() == g.node_count()) return section;
  const DenseTypes types(g);
  std::vector<LeakGroup> groups(types.size());
  std::vector<NodeIndex> heads;
  // Unreachable objects that a strong edge points to (its source is
  // unreachable too: a reachable one would make the target reachable).
  std::vector<bool> referenced(g.node_count(), false);
  for (NodeIndex n = 1; n < g.node_count(); ++n) {
    if (a.tree.reachable(n)) continue;
    for (EdgeIndex e = g.out_begin(n); e < g.out_end(n); ++e) {
      if (g.is_strong(e)) referenced[g.edge_target(e)] = true;
    }
  }
  for (NodeIndex n = 1; n < g.node_count(); ++n) {
    if (a.tree.reachable(n)) continue;
    LeakGroup& group = groups[types[g.type(n)]];
    ++group.count;
    group.shallow_size += g.shallow_size(n);
    ++section.objects;
    section.size += g.shallow_size(n);
    if (!referenced[n]) {
      ++group.unreferenced;
      ++section.unreferenced_objects;
      heads.push_back(n);
    }
  }
  // What each head keeps: a BFS over unreachable objects from the heads in
  // turn; an object reachable from several heads counts for the first.
  std::vector<std::uint64_t> kept(heads.size(), 0);
  std::vector<bool> claimed(g.node_count(), false);
  std::vector<NodeIndex> queue;
  for (std::size_t h = 0; h < heads.size(); ++h) {
    queue.assign(1, heads[h]);
    claimed[heads[h]] = true;
    for (std::size_t i = 0; i < queue.size(); ++i) {
      const NodeIndex node = queue[i];
      kept[h] += g.shallow_size(node);
      for (EdgeIndex e = g.out_begin(node); e < g.out_end(node); ++e) {
        const NodeIndex t = g.edge_target(e);
        if (!g.is_strong(e) || claimed[t] || a.tree.reachable(t)) continue;
        claimed[t] = true;
        queue.push_back(t);
      }
    }
  }
  std::vector<std::size_t> order(heads.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) {
    if (kept[x] != kept[y]) return kept[x] > kept[y];
    return g.object_id(heads[x]) < g.object_id(heads[y]);
  });
  for (std::size_t i = 0; i < order.size() && i < options.leaked_heads; ++i) {
    ObjectView v = a.view(heads[order[i]]);
    v.retained_size = kept[order[i]];
    section.heads.push_back(std::move(v));
  }
  for (std::uint32_t t = 0; t < groups.size(); ++t) {
    if (groups[t].count == 0) continue;
    groups[t].type = std::string(g.text(types.type(t)));
    section.groups.push_back(std::move(groups[t]));
  }
  std::sort(section.groups.begin(), section.groups.end(), [](const LeakGroup& x, const LeakGroup& y) {
    if (x.shallow_size != y.shallow_size) return x.shallow_size > y.shallow_size;
    if (x.count != y.count) return x.count > y.count;
    return x.type < y.type;
  });
  return section;
}

ExternalSection external_roots(const GraphAnalysis& a, const AnalyzeOptions& options) {
  const HeapGraph& g = a.graph;
  ExternalSection section;
  section.checked = unreachable_meaning(g) == "cyclic-garbage";
  const StringId external = g.strings().find("external");
  if (external == kNoString) return section;
  std::vector<NodeIndex> nodes;
  std::vector<StringId> names;  // root name per node
  std::vector<bool> seen(g.node_count(), false);  // an object may be named by several roots
  for (const RootInfo& root : g.roots()) {
    if (root.kind != external || seen[root.node]) continue;
    seen[root.node] = true;
    nodes.push_back(root.node);
    names.push_back(root.name);
  }
  // Roots hang directly under the virtual super-root, so their dominated
  // subtrees are disjoint: the sum is what they keep alive together.
  for (const NodeIndex n : nodes) section.retained_size += a.tree.retained[n];
  section.objects = nodes.size();
  section.groups = group_by_type(a, nodes);
  section.groups_total = section.groups.size();
  if (section.groups.size() > options.top) section.groups.resize(options.top);
  std::vector<std::size_t> order(nodes.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  const std::size_t listed = std::min(options.leaked_heads, order.size());
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(listed), order.end(),
                    [&](std::size_t x, std::size_t y) { return by_retained(a)(nodes[x], nodes[y]); });
  for (std::size_t i = 0; i < listed; ++i) {
    section.biggest.push_back({a.view(nodes[order[i]]), std::string(g.text(names[order[i]]))});
  }
  return section;
}

std::string unreachable_meaning(const HeapGraph& graph) {
  const auto it = graph.meta().find("unreachable_means");
  if (it == graph.meta().end() || (it->second != "cyclic-garbage" && it->second != "leaked")) return "unknown";
  return it->second;
}

AnalyzeReport analyze_graph(const GraphAnalysis& a, const AnalyzeOptions& options, const std::string& path,
                            const std::string& format) {
  AnalyzeReport report;
  // The type table walks the whole dominator tree (5M-node V8 snapshot: 33
  // of the tables' 60 ms): on the second core, while this one makes the
  // others. Every table only reads the analysis.
  std::future<std::vector<TypeRow>> types = std::async(std::launch::async, [&a] { return type_table(a); });
  report.summary = summarize(a, path, format);
  report.top_retainers = top_retainers(a, options.top);
  report.suspects = leak_suspects(a, options);
  report.external = external_roots(a, options);
  report.leaked = leaked_objects(a, options);
  report.leaked.meaning = unreachable_meaning(a.graph);
  report.leaked.groups_total = report.leaked.groups.size();
  if (report.leaked.groups.size() > options.top) report.leaked.groups.resize(options.top);
  report.types = types.get();
  report.types_total = report.types.size();
  if (report.types.size() > options.top) report.types.resize(options.top);
  report.suspect_threshold = options.suspect_threshold;
  return report;
}

std::vector<DominatorRow> dominator_rows(const GraphAnalysis& a) {
  std::vector<NodeIndex> nodes(a.tree.preorder.begin() + 1, a.tree.preorder.end());
  std::sort(nodes.begin(), nodes.end(), by_retained(a));
  std::vector<DominatorRow> rows;
  rows.reserve(nodes.size());
  for (const NodeIndex n : nodes) {
    const NodeIndex idom = a.tree.idom[n];
    rows.push_back({a.graph.object_id(n), a.graph.text(a.graph.type(n)), a.graph.shallow_size(n),
                    a.tree.retained[n], idom == kSuperRoot ? 0 : a.graph.object_id(idom)});
  }
  return rows;
}

}  // namespace heapscope
