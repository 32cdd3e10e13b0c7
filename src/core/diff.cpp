#include "heapscope/diff.hpp"

#include <algorithm>
#include <unordered_map>

#include "heapscope/error.hpp"

namespace heapscope {
namespace {

bool same_object(const HeapGraph& earlier, NodeIndex e, const HeapGraph& later, NodeIndex l) {
  if (earlier.text(earlier.type(e)) != later.text(later.type(l))) return false;
  const std::string_view site_e = earlier.text(earlier.alloc_site(e));
  const std::string_view site_l = later.text(later.alloc_site(l));
  return site_e.empty() || site_l.empty() || site_e == site_l;
}

// Per node of the last snapshot: is it one of the objects the report is
// about (new since the first snapshot; or, with three, new in TARGET and
// still in FINAL)? And its counterpart in the first snapshot, if any.
struct Classification {
  std::vector<bool> is_new;
  std::vector<NodeIndex> in_first;
  std::uint64_t matched = 0;
  std::uint64_t ids_reused = 0;
};

Classification classify(const std::vector<const GraphAnalysis*>& snapshots) {
  const HeapGraph& last = snapshots.back()->graph;
  Classification c;
  c.is_new.assign(last.node_count(), false);
  if (snapshots.size() == 2) {
    ObjectMatch match = match_objects(snapshots[0]->graph, last);
    for (NodeIndex n = 1; n < last.node_count(); ++n) c.is_new[n] = match.earlier_node[n] == kNoNode;
    c.in_first = std::move(match.earlier_node);
    c.matched = match.matched;
    c.ids_reused = match.ids_reused;
    return c;
  }
  const ObjectMatch baseline_target = match_objects(snapshots[0]->graph, snapshots[1]->graph);
  const ObjectMatch target_final = match_objects(snapshots[1]->graph, last);
  c.in_first.assign(last.node_count(), kNoNode);
  for (NodeIndex n = 1; n < last.node_count(); ++n) {
    const NodeIndex in_target = target_final.earlier_node[n];
    if (in_target == kNoNode) continue;  // new after TARGET: a spike of the final action, not a candidate
    const NodeIndex in_baseline = baseline_target.earlier_node[in_target];
    c.is_new[n] = in_baseline == kNoNode;
    c.in_first[n] = in_baseline;
  }
  c.matched = target_final.matched;
  c.ids_reused = target_final.ids_reused;
  return c;
}

std::vector<GrowthGroup> group_new_objects(const GraphAnalysis& a, const std::vector<bool>& is_new,
                                           const DiffOptions& options, std::uint64_t& groups_total,
                                           std::uint64_t& new_objects, std::uint64_t& new_size) {
  const HeapGraph& g = a.graph;
  // Preorder puts every node after its immediate dominator, so one pass
  // finds each node's nearest dominator that is not new.
  std::vector<NodeIndex> anchor(g.node_count(), kSuperRoot);
  struct Totals {
    std::uint64_t objects = 0;
    std::uint64_t size = 0;
    std::unordered_map<StringId, AccumulatedType> types;
  };
  std::unordered_map<NodeIndex, Totals> by_anchor;
  for (std::size_t i = 1; i < a.tree.preorder.size(); ++i) {
    const NodeIndex n = a.tree.preorder[i];
    const NodeIndex parent = a.tree.idom[n];
    anchor[n] = (parent == kSuperRoot || !is_new[parent]) ? parent : anchor[parent];
    if (!is_new[n]) continue;
    Totals& totals = by_anchor[anchor[n]];
    ++totals.objects;
    totals.size += g.shallow_size(n);
    AccumulatedType& type = totals.types[g.type(n)];
    ++type.count;
    type.retained_size += g.shallow_size(n);
    ++new_objects;
    new_size += g.shallow_size(n);
  }
  std::vector<std::pair<NodeIndex, const Totals*>> order;
  for (const auto& [node, totals] : by_anchor) order.emplace_back(node, &totals);
  std::sort(order.begin(), order.end(), [&](const auto& x, const auto& y) {
    if (x.second->size != y.second->size) return x.second->size > y.second->size;
    if (x.second->objects != y.second->objects) return x.second->objects > y.second->objects;
    return g.object_id(x.first) < g.object_id(y.first);
  });
  groups_total = order.size();
  if (order.size() > options.top) order.resize(options.top);
  std::vector<GrowthGroup> groups;
  for (const auto& [node, totals] : order) {
    GrowthGroup group;
    group.anchor_is_roots = node == kSuperRoot;
    if (group.anchor_is_roots) {
      group.anchor.type = "(roots)";
    } else {
      group.anchor = a.view(node);
      group.chain = a.chain_to(node);
    }
    group.objects = totals->objects;
    group.size = totals->size;
    for (const auto& [type, figures] : totals->types) {
      group.types.push_back(figures);
      group.types.back().type = std::string(g.text(type));
    }
    std::sort(group.types.begin(), group.types.end(), [](const AccumulatedType& x, const AccumulatedType& y) {
      if (x.retained_size != y.retained_size) return x.retained_size > y.retained_size;
      return x.type < y.type;
    });
    if (group.types.size() > options.types_per_group) group.types.resize(options.types_per_group);
    groups.push_back(std::move(group));
  }
  return groups;
}

std::int64_t signed_delta(std::uint64_t after, std::uint64_t before) {
  return static_cast<std::int64_t>(after) - static_cast<std::int64_t>(before);
}

std::int64_t sort_key(const TypeDiffRow& row, DiffSort sort) {
  switch (sort) {
    case DiffSort::Count: return row.count_delta;
    case DiffSort::Shallow: return row.shallow_delta;
    case DiffSort::Retained: break;
  }
  return row.retained_delta;
}

std::vector<TypeDiffRow> type_changes(const GraphAnalysis& first, const GraphAnalysis& last,
                                      const DiffOptions& options, std::uint64_t& changed) {
  std::unordered_map<std::string, TypeDiffRow> rows;
  for (const TypeRow& t : type_table(first)) rows[t.type].before = {t.count, t.shallow_size, t.retained_size};
  for (const TypeRow& t : type_table(last)) rows[t.type].after = {t.count, t.shallow_size, t.retained_size};
  std::vector<TypeDiffRow> result;
  for (auto& [type, row] : rows) {
    row.type = type;
    row.count_delta = signed_delta(row.after.count, row.before.count);
    row.shallow_delta = signed_delta(row.after.shallow_size, row.before.shallow_size);
    row.retained_delta = signed_delta(row.after.retained_size, row.before.retained_size);
    if (row.count_delta != 0 || row.shallow_delta != 0 || row.retained_delta != 0) result.push_back(std::move(row));
  }
  std::sort(result.begin(), result.end(), [&](const TypeDiffRow& x, const TypeDiffRow& y) {
    if (sort_key(x, options.sort) != sort_key(y, options.sort)) return sort_key(x, options.sort) > sort_key(y, options.sort);
    return x.type < y.type;
  });
  changed = result.size();
  if (result.size() > options.top) result.resize(options.top);
  return result;
}

std::vector<GrownRetainer> grown_retainers(const GraphAnalysis& first, const GraphAnalysis& last,
                                           const std::vector<NodeIndex>& in_first, std::size_t top) {
  std::vector<std::pair<std::int64_t, NodeIndex>> grown;
  for (std::size_t i = 1; i < last.tree.preorder.size(); ++i) {
    const NodeIndex n = last.tree.preorder[i];
    const NodeIndex e = in_first[n];
    if (e == kNoNode) continue;
    const std::int64_t delta = signed_delta(last.tree.retained[n], first.tree.retained[e]);
    if (delta > 0) grown.emplace_back(delta, n);
  }
  const std::size_t count = std::min(top, grown.size());
  std::partial_sort(grown.begin(), grown.begin() + static_cast<std::ptrdiff_t>(count), grown.end(),
                    [&](const auto& x, const auto& y) {
                      if (x.first != y.first) return x.first > y.first;
                      return last.graph.object_id(x.second) < last.graph.object_id(y.second);
                    });
  std::vector<GrownRetainer> rows;
  for (std::size_t i = 0; i < count; ++i) {
    const NodeIndex n = grown[i].second;
    rows.push_back({last.view(n), first.tree.retained[in_first[n]], grown[i].first, last.chain_to(n)});
  }
  return rows;
}

}  // namespace

ObjectMatch match_objects(const HeapGraph& earlier, const HeapGraph& later) {
  ObjectMatch match;
  match.earlier_node.assign(later.node_count(), kNoNode);
  const auto& a = earlier.nodes_by_id();
  const auto& b = later.nodes_by_id();
  std::size_t i = 0;
  for (const NodeIndex l : b) {
    const std::uint64_t id = later.object_id(l);
    while (i < a.size() && earlier.object_id(a[i]) < id) ++i;
    if (i == a.size()) break;
    if (earlier.object_id(a[i]) != id) continue;
    if (same_object(earlier, a[i], later, l)) {
      match.earlier_node[l] = a[i];
      ++match.matched;
    } else {
      ++match.ids_reused;
    }
  }
  return match;
}

DiffSort parse_diff_sort(const std::string& text) {
  if (text == "retained") return DiffSort::Retained;
  if (text == "shallow") return DiffSort::Shallow;
  if (text == "count") return DiffSort::Count;
  throw UsageError("--sort must be count, shallow or retained, not '" + text + "'");
}

DiffReport diff_graphs(const std::vector<const GraphAnalysis*>& snapshots, const std::vector<Summary>& summaries,
                       const DiffOptions& options) {
  if (snapshots.size() < 2 || snapshots.size() > 3 || summaries.size() != snapshots.size()) {
    throw Error("diff_graphs needs two or three snapshots with their summaries");
  }
  const GraphAnalysis& first = *snapshots.front();
  const GraphAnalysis& last = *snapshots.back();
  DiffReport report;
  report.mode = snapshots.size() == 2 ? "before-after" : "baseline-target-final";
  report.snapshots = summaries;
  report.reachable_growth = signed_delta(last.reachable_size(), first.reachable_size());
  const Classification c = classify(snapshots);
  report.matched_objects = c.matched;
  report.ids_reused = c.ids_reused;
  report.groups = group_new_objects(last, c.is_new, options, report.groups_total, report.new_objects, report.new_size);
  report.types = type_changes(first, last, options, report.types_changed);
  report.sort = options.sort == DiffSort::Count ? "count" : options.sort == DiffSort::Shallow ? "shallow" : "retained";
  report.grown_retainers = grown_retainers(first, last, c.in_first, options.top);
  return report;
}

}  // namespace heapscope
