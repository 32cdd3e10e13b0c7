#include "heapscope/heap_graph.hpp"

#include "heapscope/id_index.hpp"

#include <algorithm>
#include <numeric>
#include <stdexcept>

#include "heapscope/error.hpp"

namespace heapscope {

namespace {

// The graph's weak-edge bits from one EdgeKind byte per object edge (edge i
// of them is the graph's edge root_edges + i; the roots' edges are strong).
// Empty when no edge is weak.
BigVector<std::uint64_t> weak_bits(const BigVector<std::uint8_t>& kinds, EdgeIndex root_edges) {
  BigVector<std::uint64_t> bits;
  for (EdgeIndex i = 0; i < kinds.size(); ++i) {
    if (kinds[i] == 0) continue;
    if (bits.empty()) bits.assign((root_edges + kinds.size() + 63) / 64, 0);
    const EdgeIndex e = root_edges + i;
    bits[e >> 6] |= std::uint64_t{1} << (e & 63);
  }
  return bits;
}

std::string too_many_edges() {
  return "more than " + std::to_string(kMaxEdges) + " references (the most a heapscope graph holds)";
}

}  // namespace

std::string HeapGraph::label_text(EdgeLabel label) const {
  if (label.is_index()) {
    // Built by append(): GCC 12 warns falsely (-Wrestrict) on "[" + std::string.
    std::string text = "[";
    text.append(std::to_string(label.index_value())).append("]");
    return text;
  }
  return std::string(strings_.view(label.name()));
}

NodeIndex HeapGraph::edge_source(EdgeIndex e) const {
  // out_begin_ is non-decreasing; the source is the last node whose range starts at or before e.
  auto it = std::upper_bound(out_begin_.begin(), out_begin_.end(), e);
  return static_cast<NodeIndex>((it - out_begin_.begin()) - 1);
}


GraphBuilder::GraphBuilder(TargetNaming naming) : naming_(naming) {
  // Slot 0 is the super-root, so builder indices are final node indices.
  object_id_.push_back(0);
  shallow_size_.push_back(0);
  type_.push_back(strings_.intern("(root)"));
  name_.push_back(kNoString);
  out_begin_.push_back(0);
}

void GraphBuilder::reserve(std::size_t nodes, std::size_t edges) {
  object_id_.reserve(nodes + 1);
  shallow_size_.reserve(nodes + 1);
  type_.reserve(nodes + 1);
  name_.reserve(nodes + 1);
  out_begin_.reserve(nodes + 2);
  edge_to_.reserve(edges);
  edge_label_.reserve(edges);
  edge_kind_.reserve(edges);
}

NodeIndex GraphBuilder::add_node(std::uint64_t object_id, StringId type, std::uint64_t shallow_size,
                                 StringId name) {
  if (object_id_.size() >= kNoNode - 1) throw InputError("more than 4,294,967,293 objects");
  const auto index = static_cast<NodeIndex>(object_id_.size());
  object_id_.push_back(object_id);
  shallow_size_.push_back(shallow_size);
  type_.push_back(type);
  name_.push_back(name);
  out_begin_.push_back(static_cast<EdgeOffset>(edge_to_.size()));
  if (!alloc_site_.empty()) alloc_site_.push_back(kNoString);
  return index;
}

void GraphBuilder::set_alloc_site(NodeIndex node, StringId site) {
  if (alloc_site_.empty()) {
    if (site == kNoString) return;
    alloc_site_.assign(object_id_.size(), kNoString);
  }
  alloc_site_[node] = site;
}

void GraphBuilder::add_edge(std::uint64_t target, EdgeLabel label, EdgeKind kind) {
  if (edge_to_.size() >= kMaxEdges) throw InputError(too_many_edges());
  edge_to_.push_back(target);
  edge_label_.push_back(label.raw());
  edge_kind_.push_back(static_cast<std::uint8_t>(kind));
}

void GraphBuilder::add_root(std::uint64_t target, StringId name, StringId kind) {
  roots_.push_back({target, name, kind});
}

template <class Resolve>
void GraphBuilder::resolve_roots(HeapGraph& graph, const Resolve& resolve, BigVector<NodeIndex>& targets,
                                 BigVector<std::uint32_t>& labels) const {
  for (const PendingRoot& root : roots_) {
    const NodeIndex node = resolve(root.target);
    if (node == kNoNode) {
      ++graph.dropped_dangling_roots_;
      continue;
    }
    targets.push_back(node);
    labels.push_back(EdgeLabel::named(root.name).raw());
    graph.roots_.push_back({node, root.name, root.kind});
  }
}

HeapGraph GraphBuilder::build() && {
  const std::size_t node_count = object_id_.size();
  HeapGraph graph;

  // Resolve targets to node indices.
  IdIndex ids(naming_ == TargetNaming::ById ? node_count : 0);
  if (naming_ == TargetNaming::ById) {
    for (NodeIndex n = 1; n < node_count; ++n) {
      const NodeIndex previous = ids.insert(object_id_[n], n, object_id_);
      if (previous != kNoNode) {
        throw InputError("duplicate node id " + std::to_string(object_id_[n]) + " (objects #" +
                         std::to_string(previous - 1) + " and #" + std::to_string(n - 1) + ")");
      }
    }
  }
  auto resolve = [&](std::uint64_t target) -> NodeIndex {
    if (naming_ == TargetNaming::ById) return ids.find(target, object_id_);
    return target + 1 < node_count ? static_cast<NodeIndex>(target + 1) : kNoNode;
  };

  // Out-CSR: the super-root's edges (the roots) first, then every node's,
  // dropping dangling targets. Labels and kinds are compacted in place in
  // the builder's arrays, which the graph then adopts, so an edge never
  // exists twice; only the targets change width (ids -> node indices).
  BigVector<std::uint32_t> root_labels;
  graph.edge_target_.reserve(roots_.size() + edge_to_.size());
  resolve_roots(graph, resolve, graph.edge_target_, root_labels);
  const EdgeIndex root_edges = graph.edge_target_.size();
  graph.out_begin_.assign(node_count + 1, 0);
  out_begin_.push_back(static_cast<EdgeOffset>(edge_to_.size()));  // sentinel: end of the last node's edges
  // Lookups are random: start each one's cache miss some edges ahead.
  constexpr EdgeIndex kLookAhead = 16;
  const EdgeIndex pending_edges = edge_to_.size();
  EdgeIndex kept = 0;  // write position in edge_label_ / edge_kind_ (<= e)
  for (NodeIndex n = 1; n < node_count; ++n) {
    if (root_edges + kept > kMaxEdges) throw InputError(too_many_edges());
    graph.out_begin_[n] = static_cast<EdgeOffset>(root_edges + kept);
    for (EdgeIndex e = out_begin_[n]; e < out_begin_[n + 1]; ++e) {
      if (naming_ == TargetNaming::ById && e + kLookAhead < pending_edges) ids.prefetch(edge_to_[e + kLookAhead]);
      const NodeIndex target = resolve(edge_to_[e]);
      if (target == kNoNode) {
        ++graph.dropped_dangling_edges_;
        continue;
      }
      graph.edge_target_.push_back(target);
      edge_label_[kept] = edge_label_[e];
      edge_kind_[kept] = edge_kind_[e];
      if (edge_kind_[e] != 0) ++graph.weak_edge_count_;
      ++kept;
    }
  }
  if (root_edges + kept > kMaxEdges) throw InputError(too_many_edges());
  graph.out_begin_[node_count] = static_cast<EdgeOffset>(root_edges + kept);
  BigVector<std::uint64_t>().swap(edge_to_);
  ids.clear();
  edge_label_.resize(kept);
  edge_kind_.resize(kept);
  edge_label_.insert(edge_label_.begin(), root_labels.begin(), root_labels.end());
  graph.edge_label_ = std::move(edge_label_);
  graph.weak_edge_bits_ = weak_bits(edge_kind_, root_edges);
  BigVector<std::uint8_t>().swap(edge_kind_);

  graph.object_id_ = IdColumn(std::move(object_id_));
  graph.shallow_size_ = std::move(shallow_size_);
  graph.type_ = CodedIdColumn(std::move(type_));
  graph.name_ = std::move(name_);
  if (!alloc_site_.empty()) graph.alloc_site_ = SparseIdColumn(alloc_site_);
  BigVector<StringId>().swap(alloc_site_);
  finish(graph);
  return graph;
}

namespace {

// Sorts [first, last). Keys that arrive as a few ascending runs, as V8's
// node ids do (ids grow as objects are first seen: a 1M-node snapshot has 4
// runs), are merged run by run in linear time; anything else is sorted.
template <class It>
void sort_runs(It first, It last) {
  constexpr std::size_t kMaxRuns = 64;
  std::vector<It> starts{first};
  for (It i = first; i != last && i + 1 != last; ++i) {
    if (*(i + 1) < *i) {
      if (starts.size() == kMaxRuns) {
        std::sort(first, last);
        return;
      }
      starts.push_back(i + 1);
    }
  }
  while (starts.size() > 1) {
    std::vector<It> merged;
    for (std::size_t k = 0; k < starts.size(); k += 2) {
      if (k + 1 < starts.size()) std::inplace_merge(starts[k], starts[k + 1], k + 2 < starts.size() ? starts[k + 2] : last);
      merged.push_back(starts[k]);
    }
    starts.swap(merged);
  }
}

// Object nodes in object id order. Sorting (id, node) pairs compares ids in
// place (sorting node numbers by object_id[node] would miss the cache on
// every comparison). When every id fits 32 bits, as V8's do, a pair packs
// into one 64-bit key: half the memory, and a faster sort. Otherwise the
// pairs are made one id range at a time (ranges of about equal size, cut at
// sampled ids), so they never exist for all nodes at once: for a Python
// core, whose ids are addresses, that was the read's peak (16 bytes a node).
BigVector<NodeIndex> sort_nodes_by_id(const IdColumn& object_id) {
  const std::size_t objects = object_id.size() - 1;  // nodes 1..objects
  BigVector<NodeIndex> sorted(objects);
  if (object_id.fits_32_bits()) {
    BigVector<std::uint64_t> keys(objects);
    for (NodeIndex n = 1; n <= objects; ++n) keys[n - 1] = object_id[n] << 32 | n;
    sort_runs(keys.begin(), keys.end());
    for (std::size_t i = 0; i < objects; ++i) sorted[i] = static_cast<NodeIndex>(keys[i]);
    return sorted;
  }
  constexpr std::size_t kRanges = 16, kSample = 4096;
  std::vector<std::uint64_t> sample;
  const std::size_t step = std::max<std::size_t>(1, objects / kSample);
  for (std::size_t n = 1; n <= objects; n += step) sample.push_back(object_id[n]);
  std::sort(sample.begin(), sample.end());
  std::vector<std::uint64_t> cuts;  // range r holds ids in [cuts[r-1], cuts[r])
  for (std::size_t r = 1; r < kRanges; ++r) cuts.push_back(sample[r * sample.size() / kRanges]);
  auto range_of = [&cuts](std::uint64_t id) {
    return static_cast<std::size_t>(std::upper_bound(cuts.begin(), cuts.end(), id) - cuts.begin());
  };
  std::vector<std::size_t> begin(kRanges + 1, 0);
  for (std::size_t n = 1; n <= objects; ++n) ++begin[range_of(object_id[n]) + 1];
  std::partial_sum(begin.begin(), begin.end(), begin.begin());
  std::vector<std::size_t> fill(begin.begin(), begin.end() - 1);
  for (NodeIndex n = 1; n <= objects; ++n) sorted[fill[range_of(object_id[n])]++] = n;
  BigVector<std::pair<std::uint64_t, NodeIndex>> pairs;
  for (std::size_t r = 0; r < kRanges; ++r) {
    pairs.clear();
    for (std::size_t i = begin[r]; i < begin[r + 1]; ++i) pairs.push_back({object_id[sorted[i]], sorted[i]});
    sort_runs(pairs.begin(), pairs.end());
    for (std::size_t i = 0; i < pairs.size(); ++i) sorted[begin[r] + i] = pairs[i].second;
  }
  return sorted;
}

}  // namespace

void GraphBuilder::finish(HeapGraph& graph) {
  // Totals and the retained sizes (sums of shallow sizes) must not wrap.
  std::uint64_t total = 0;
  for (std::size_t n = 1; n < graph.node_count(); ++n) total = add_to_total(total, graph.shallow_size_[n], "the objects' sizes");
  // A graph whose objects have no names (a core's allocations) keeps no
  // name column: 4 bytes an object, 40 MB of a 10M-allocation core's peak.
  if (std::all_of(graph.name_.begin(), graph.name_.end(), [](StringId s) { return s == kNoString; })) {
    BigVector<StringId>().swap(graph.name_);
  }
  graph.strings_ = std::move(strings_);
  graph.strings_.drop_index();  // a built graph interns nothing more
  graph.meta_ = std::move(meta_);
}

void GraphColumns::push_edges_end() {
  if (edge_target.size() > kMaxEdges) throw InputError(too_many_edges());
  out_begin.push_back(static_cast<EdgeOffset>(edge_target.size()));
}

CodedIdColumn::CodedIdColumn(BigVector<StringId>&& plain) {
  if (plain.empty()) return;
  // Codes by id, in order of first appearance: one pass to count them (and
  // give up past kMaxCodes), one to write them.
  constexpr std::uint32_t kNoCode = 0xFFFFFFFFu;
  const StringId max_id = *std::max_element(plain.begin(), plain.end());
  std::vector<std::uint32_t> code_of(std::size_t{max_id} + 1, kNoCode);
  for (const StringId id : plain) {
    if (code_of[id] != kNoCode) continue;
    if (table_.size() == kMaxCodes) {
      table_.clear();
      plain_ = std::move(plain);
      return;
    }
    code_of[id] = static_cast<std::uint32_t>(table_.size());
    table_.push_back(id);
  }
  codes_.resize(plain.size());
  constexpr std::size_t kPiece = std::size_t{1} << 20;  // ids between hand-backs (4 MB)
  for (std::size_t begin = 0; begin < plain.size(); begin += kPiece) {
    const std::size_t end = std::min(plain.size(), begin + kPiece);
    for (std::size_t n = begin; n < end; ++n) codes_[n] = static_cast<std::uint16_t>(code_of[plain[n]]);
    big_memory::discard(plain.data() + begin, (end - begin) * sizeof(StringId));
  }
}

SparseIdColumn::SparseIdColumn(const BigVector<StringId>& dense)
    : size_(dense.size()), bits_((dense.size() + 63) / 64, 0), rank_(bits_.size(), 0) {
  std::size_t count = 0;
  for (const StringId id : dense) count += id != kNoString ? 1 : 0;
  ids_.reserve(count);
  for (std::size_t word = 0; word < bits_.size(); ++word) {
    rank_[word] = static_cast<std::uint32_t>(ids_.size());
    const std::size_t end = std::min(dense.size(), (word + 1) * 64);
    for (std::size_t n = word * 64; n < end; ++n) {
      if (dense[n] == kNoString) continue;
      bits_[word] |= std::uint64_t{1} << (n & 63);
      ids_.push_back(dense[n]);
    }
  }
}

SparseIdColumn::SparseIdColumn(std::size_t size, std::span<const std::pair<NodeIndex, StringId>> sorted)
    : size_(size), bits_((size + 63) / 64, 0), rank_(bits_.size(), 0) {
  ids_.reserve(sorted.size());
  std::size_t next = 0;  // the first entry not placed yet
  for (std::size_t word = 0; word < bits_.size(); ++word) {
    rank_[word] = static_cast<std::uint32_t>(ids_.size());
    const std::size_t end = std::min(size, (word + 1) * 64);
    for (; next < sorted.size() && sorted[next].first < end; ++next) {
      const auto [node, id] = sorted[next];
      if (next > 0 && node <= sorted[next - 1].first) throw std::invalid_argument("SparseIdColumn: nodes not in increasing order");
      if (id == kNoString) continue;
      bits_[word] |= std::uint64_t{1} << (node & 63);
      ids_.push_back(id);
    }
  }
  if (next != sorted.size()) throw std::invalid_argument("SparseIdColumn: a node past the column's size");
}

std::vector<EdgeLabel> HeapGraph::edge_labels(std::span<const EdgeIndex> edges) const {
  std::vector<EdgeLabel> labels(edges.size());
  std::vector<std::size_t> lazy;  // positions of the edges whose labels are not in the column
  for (std::size_t i = 0; i < edges.size(); ++i) {
    if (edges[i] < edge_label_.size()) {
      labels[i] = EdgeLabel::from_raw(edge_label_[edges[i]]);
    } else {
      lazy.push_back(i);
    }
  }
  if (lazy.empty()) return labels;
  std::vector<EdgeIndex> object_edges;
  std::vector<NodeIndex> targets;
  for (const std::size_t i : lazy) {
    object_edges.push_back(edges[i] - edge_label_.size());
    targets.push_back(edge_target_[edges[i]]);
  }
  std::vector<EdgeLabel> found(lazy.size());
  lazy_labels_->labels(object_edges, targets, found);
  for (std::size_t k = 0; k < lazy.size(); ++k) labels[lazy[k]] = found[k];
  return labels;
}

const BigVector<NodeIndex>& HeapGraph::nodes_by_id() const {
  if (nodes_by_id_.empty() && object_count() > 0) nodes_by_id_ = sort_nodes_by_id(object_id_);
  return nodes_by_id_;
}

NodeIndex HeapGraph::find(std::uint64_t object_id) const {
  const BigVector<NodeIndex>& sorted = nodes_by_id();
  auto it = std::lower_bound(sorted.begin(), sorted.end(), object_id,
                             [this](NodeIndex n, std::uint64_t id) { return object_id_[n] < id; });
  if (it == sorted.end() || object_id_[*it] != object_id) return kNoNode;
  return *it;
}

HeapGraph GraphBuilder::build(GraphColumns&& columns) && {
  if (naming_ != TargetNaming::ByOrdinal || node_count() != 0) {
    throw std::logic_error("GraphBuilder::build(columns) needs an ordinal builder with no nodes added");
  }
  const std::size_t node_count = columns.object_id.size();
  const std::size_t object_edges = columns.edge_target.size();
  if (node_count == 0 || node_count >= kNoNode || columns.shallow_size.size() != node_count ||
      columns.type.size() != node_count || (!columns.name.empty() && columns.name.size() != node_count) ||
      (!columns.alloc_site.empty() && columns.alloc_site.size() != node_count) ||
      columns.out_begin.size() != node_count + 1 ||
      columns.edge_label.size() != (columns.edge_labels ? 0 : object_edges) ||
      (!columns.edge_kind.empty() && columns.edge_kind.size() != object_edges) || columns.out_begin[1] != 0 ||
      columns.out_begin[node_count] != object_edges) {
    throw std::logic_error("GraphBuilder::build(columns): column sizes disagree");
  }
  HeapGraph graph;
  auto resolve = [&](std::uint64_t ordinal) -> NodeIndex {
    return ordinal + 1 < node_count ? static_cast<NodeIndex>(ordinal + 1) : kNoNode;
  };
  BigVector<NodeIndex> root_targets;
  BigVector<std::uint32_t> root_labels;
  resolve_roots(graph, resolve, root_targets, root_labels);
  const EdgeIndex root_edges = root_targets.size();

  // Ordinals to node indices; the reader vouches for the range, the graph checks it.
  for (EdgeIndex e = 0; e < object_edges; ++e) {
    const NodeIndex ordinal = columns.edge_target[e];
    if (ordinal + std::size_t{1} >= node_count) {
      throw InputError("edge " + std::to_string(e) + " targets object #" + std::to_string(ordinal) + " of " +
                       std::to_string(node_count - 1));
    }
    columns.edge_target[e] = ordinal + 1;
    if (!columns.edge_kind.empty() && columns.edge_kind[e] != 0) {
      if (columns.edge_kind[e] != static_cast<std::uint8_t>(EdgeKind::Weak)) {
        throw std::logic_error("GraphBuilder::build(columns): unknown edge kind");
      }
      ++graph.weak_edge_count_;
    }
  }
  if (!std::is_sorted(columns.out_begin.begin() + 1, columns.out_begin.end())) {
    throw std::logic_error("GraphBuilder::build(columns): out_begin decreases");
  }
  if (root_edges + object_edges > kMaxEdges) throw InputError(too_many_edges());
  columns.out_begin[0] = 0;
  for (NodeIndex n = 1; n <= node_count; ++n) columns.out_begin[n] += static_cast<EdgeOffset>(root_edges);
  // The roots' edges go in front (a memmove when the reader reserved room).
  columns.edge_target.insert(columns.edge_target.begin(), root_targets.begin(), root_targets.end());
  columns.edge_label.insert(columns.edge_label.begin(), root_labels.begin(), root_labels.end());

  if (columns.object_id[0] != 0) columns.object_id.set(0, 0);  // (a column of runs comes with its 0 in place)
  columns.shallow_size.set(0, 0);
  columns.type[0] = strings_.intern("(root)");
  if (!columns.name.empty()) columns.name[0] = kNoString;
  if (!columns.alloc_site.empty() && columns.alloc_site[0] != kNoString) {
    throw std::logic_error("GraphBuilder::build(columns): the super-root has an allocation site");
  }
  graph.object_id_ = std::move(columns.object_id);
  graph.shallow_size_ = std::move(columns.shallow_size);
  graph.type_ = CodedIdColumn(std::move(columns.type));
  graph.name_ = std::move(columns.name);
  graph.alloc_site_ = std::move(columns.alloc_site);
  graph.out_begin_ = std::move(columns.out_begin);
  graph.edge_target_ = std::move(columns.edge_target);
  graph.edge_label_ = std::move(columns.edge_label);
  graph.lazy_labels_ = std::move(columns.edge_labels);
  graph.weak_edge_bits_ = weak_bits(columns.edge_kind, root_edges);
  BigVector<std::uint8_t>().swap(columns.edge_kind);
  finish(graph);
  return graph;
}

StrongReferrers::StrongReferrers(const HeapGraph& graph) {
  // Counting sort of the strong edges by target; sources come out in node
  // order, so each node's referrers are sorted.
  const std::size_t n = graph.node_count();
  begin_.assign(n + 1, 0);
  for (EdgeIndex e = 0; e < graph.edge_count(); ++e) {
    if (graph.is_strong(e)) ++begin_[graph.edge_target(e) + 1];
  }
  std::partial_sum(begin_.begin(), begin_.end(), begin_.begin());
  source_.resize(begin_[n]);
  BigVector<EdgeIndex> fill(begin_.begin(), begin_.end() - 1);
  for (NodeIndex node = 0; node < n; ++node) {
    for (EdgeIndex e = graph.out_begin(node); e < graph.out_end(node); ++e) {
      if (graph.is_strong(e)) source_[fill[graph.edge_target(e)]++] = node;
    }
  }
}

}  // namespace heapscope
