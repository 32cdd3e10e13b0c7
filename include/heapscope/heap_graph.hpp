#pragma once
// The heap graph in flat arrays. Nothing here knows a file format.
//
// Node 0 is a virtual super-root: its out-edges are the snapshot's roots,
// each labelled with the root's name. Objects are nodes 1..N in the order
// the reader added them. Out-edges are CSR (out_begin_/edge_target_); the
// reverse (strong in-edges) is built on demand by StrongReferrers. Weak edges
// are kept (for display) but never retain.
#include <bit>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <utility>
#include <string>
#include <vector>

#include "heapscope/big_vector.hpp"
#include "heapscope/id_column.hpp"
#include "heapscope/string_table.hpp"
#include "heapscope/u64_column.hpp"

namespace heapscope {

using NodeIndex = std::uint32_t;
using EdgeIndex = std::uint64_t;
// Where a node's edges begin, as the graph stores it: 32 bits, so a graph
// holds at most kMaxEdges edges (a graph that size would need some 40 GB
// here; 4 bytes a node less for every graph: 20 MB of a 5M-node V8
// snapshot's peak, 48 MB of a 12M-allocation core's).
using EdgeOffset = std::uint32_t;
inline constexpr EdgeIndex kMaxEdges = 0xFFFFFFFFu;
inline constexpr NodeIndex kSuperRoot = 0;
inline constexpr NodeIndex kNoNode = 0xFFFFFFFFu;

enum class EdgeKind : std::uint8_t { Strong = 0, Weak = 1 };

// An edge label is an interned name ("'cache'", "next") or an integer index
// (list slot, array element). Indices are kept as numbers so a list of a
// million items does not intern a million "[i]" strings.
class EdgeLabel {
 public:
  static constexpr std::uint32_t kIndexBit = 0x80000000u;
  static constexpr std::uint32_t kMaxIndex = kIndexBit - 1;

  constexpr EdgeLabel() = default;
  static constexpr EdgeLabel named(StringId name) { return EdgeLabel(name); }
  // Callers check index <= kMaxIndex (larger indices are interned as names).
  static constexpr EdgeLabel index(std::uint32_t i) { return EdgeLabel(i | kIndexBit); }

  static constexpr EdgeLabel from_raw(std::uint32_t raw) { return EdgeLabel(raw); }

  constexpr bool is_index() const { return (raw_ & kIndexBit) != 0; }
  constexpr bool empty() const { return raw_ == 0; }
  constexpr std::uint32_t index_value() const { return raw_ & ~kIndexBit; }
  constexpr StringId name() const { return is_index() ? kNoString : raw_; }
  constexpr std::uint32_t raw() const { return raw_; }
  friend constexpr bool operator==(EdgeLabel a, EdgeLabel b) { return a.raw_ == b.raw_; }

 private:
  constexpr explicit EdgeLabel(std::uint32_t raw) : raw_(raw) {}
  std::uint32_t raw_ = 0;
};

// Labels of the objects' edges that a reader left outside the graph, looked
// up one edge at a time: only chains print labels, a few dozen of them,
// while a column holds 4 bytes for every edge (48 MB of a 12M-edge V8
// snapshot, through every phase of the analysis). Implementations are
// safe to call from several threads at once.
class EdgeLabelSource {
 public:
  virtual ~EdgeLabelSource() = default;
  // The label of the objects' edge number `object_edge` (counted among the
  // objects' edges, in the reader's order; the roots' edges are not), whose
  // target the graph holds as `target` (so a source can check that what it
  // reads back is still that edge). Throws InputError when it cannot.
  virtual EdgeLabel label(EdgeIndex object_edge, NodeIndex target) const = 0;
  // The labels of many edges at once (a chain's): out[i] for object_edges[i]
  // and targets[i]. A source that reads edges in blocks reads each block
  // once; this default asks label() for each.
  virtual void labels(std::span<const EdgeIndex> object_edges, std::span<const NodeIndex> targets,
                      std::span<EdgeLabel> out) const {
    for (std::size_t i = 0; i < object_edges.size(); ++i) out[i] = label(object_edges[i], targets[i]);
  }
};

// A per-node column of string ids where many nodes have none (allocation
// sites: a V8 snapshot locates one object in five), as a bit a node, a
// running count every 64 nodes and the ids of the nodes that have one: 5
// MB instead of 20 for 5M nodes of which 1M have a site, and never more
// than 1.1 bits a node over the plain column.
class SparseIdColumn {
 public:
  SparseIdColumn() = default;
  // From one id per node, kNoString for none.
  explicit SparseIdColumn(const BigVector<StringId>& dense);
  // From the nodes that have an id, as (node, id) in increasing node order
  // (std::invalid_argument otherwise), for `size` nodes: no dense column
  // first (20 MB of a 5M-node V8 snapshot's read, its peak).
  SparseIdColumn(std::size_t size, std::span<const std::pair<NodeIndex, StringId>> sorted);
  bool empty() const { return size_ == 0; }
  std::size_t size() const { return size_; }
  StringId operator[](NodeIndex n) const {
    const std::uint64_t word = bits_[n >> 6];
    const std::uint64_t bit = std::uint64_t{1} << (n & 63);
    if ((word & bit) == 0) return kNoString;
    return ids_[rank_[n >> 6] + static_cast<std::uint32_t>(std::popcount(word & (bit - 1)))];
  }

 private:
  std::size_t size_ = 0;
  BigVector<std::uint64_t> bits_;   // bit n: node n has an id
  BigVector<std::uint32_t> rank_;   // ids of the nodes before each 64-node word
  BigVector<StringId> ids_;         // in node order
};

// A per-node column of string ids with few distinct values (types: a few
// thousand class names for millions of objects), as 16-bit codes into a
// table of the ids when there are at most 65536 of them, else as the ids:
// 10 MB instead of 20 for a 5M-node V8 snapshot, 24 instead of 48 for a
// 12M-allocation core, through the whole analysis.
class CodedIdColumn {
 public:
  CodedIdColumn() = default;
  // Takes the plain column; made into codes when few enough ids occur, a
  // piece at a time (the plain column's pages are handed back as they are
  // read, so the two never exist in full at once).
  explicit CodedIdColumn(BigVector<StringId>&& plain);
  bool is_coded() const { return !codes_.empty(); }
  std::size_t size() const { return is_coded() ? codes_.size() : plain_.size(); }
  StringId operator[](NodeIndex n) const { return is_coded() ? table_[codes_[n]] : plain_[n]; }

 private:
  static constexpr std::size_t kMaxCodes = 65536;
  BigVector<std::uint16_t> codes_;  // empty when plain
  std::vector<StringId> table_;     // code -> id
  BigVector<StringId> plain_;       // empty when coded
};

struct RootInfo {
  NodeIndex node = kNoNode;
  StringId name = kNoString;  // "module __main__", "thread 1 stack"
  StringId kind = kNoString;  // "module", "frame", "external", "static", ...
};

class GraphBuilder;

class HeapGraph {
 public:
  HeapGraph() = default;
  HeapGraph(HeapGraph&&) noexcept = default;
  HeapGraph& operator=(HeapGraph&&) noexcept = default;

  // Nodes, including the super-root.
  std::size_t node_count() const { return object_id_.size(); }
  // Objects: every node but the super-root.
  std::size_t object_count() const { return node_count() - 1; }
  std::size_t edge_count() const { return edge_target_.size(); }

  std::uint64_t object_id(NodeIndex n) const { return object_id_[n]; }
  std::uint64_t shallow_size(NodeIndex n) const { return shallow_size_[n]; }
  void prefetch_shallow_size(NodeIndex n) const { shallow_size_.prefetch(n); }
  StringId type(NodeIndex n) const { return type_[n]; }
  StringId name(NodeIndex n) const { return name_.empty() ? kNoString : name_[n]; }  // no column: no names
  // Allocation site (e.g. a tracemalloc traceback), kNoString when unknown.
  StringId alloc_site(NodeIndex n) const { return alloc_site_.empty() ? kNoString : alloc_site_[n]; }
  bool has_alloc_sites() const { return !alloc_site_.empty(); }

  EdgeIndex out_begin(NodeIndex n) const { return out_begin_[n]; }
  EdgeIndex out_end(NodeIndex n) const { return out_begin_[n + 1]; }
  // For prefetching in hot loops.
  const EdgeOffset* out_begin_data() const { return out_begin_.data(); }
  const NodeIndex* edge_target_data() const { return edge_target_.data(); }
  NodeIndex edge_target(EdgeIndex e) const { return edge_target_[e]; }
  EdgeLabel edge_label(EdgeIndex e) const {
    if (e < edge_label_.size()) return EdgeLabel::from_raw(edge_label_[e]);
    return lazy_labels_->label(e - edge_label_.size(), edge_target_[e]);  // the column holds the roots' only
  }
  // The labels of many edges (a chain's), each looked up once: for labels
  // left in the input file, much less work than edge_label() for each.
  std::vector<EdgeLabel> edge_labels(std::span<const EdgeIndex> edges) const;
  EdgeKind edge_kind(EdgeIndex e) const { return is_strong(e) ? EdgeKind::Strong : EdgeKind::Weak; }
  bool is_strong(EdgeIndex e) const {
    return weak_edge_bits_.empty() || ((weak_edge_bits_[e >> 6] >> (e & 63)) & 1) == 0;
  }
  // The node an edge leaves (binary search over out_begin_).
  NodeIndex edge_source(EdgeIndex e) const;

  const std::vector<RootInfo>& roots() const { return roots_; }
  const StringTable& strings() const { return strings_; }
  std::string_view text(StringId id) const { return strings_.view(id); }
  // "[3]" for an index, the name otherwise.
  std::string label_text(EdgeLabel label) const;

  // The node with this object id, kNoNode if none.
  NodeIndex find(std::uint64_t object_id) const;
  // Object nodes sorted by object id (for merge joins between snapshots).
  // Sorted at the first call of this or find(), not by every read: `analyze`
  // never asks, and spares the sort and 4 bytes a node (20 MB of a 5M-node
  // V8 snapshot's peak). Not for two threads' first calls at once.
  const BigVector<NodeIndex>& nodes_by_id() const;

  std::uint64_t dropped_dangling_edges() const { return dropped_dangling_edges_; }
  std::uint64_t dropped_dangling_roots() const { return dropped_dangling_roots_; }
  std::uint64_t weak_edge_count() const { return weak_edge_count_; }
  // Free-form facts about the snapshot (producer, pid, python version...).
  const std::map<std::string, std::string>& meta() const { return meta_; }

 private:
  friend class GraphBuilder;
  IdColumn object_id_;
  U64Column shallow_size_;
  CodedIdColumn type_;
  BigVector<StringId> name_;
  SparseIdColumn alloc_site_;  // empty, or one per node
  BigVector<EdgeOffset> out_begin_;  // node_count + 1
  BigVector<NodeIndex> edge_target_;
  BigVector<std::uint32_t> edge_label_;  // every edge's, or only the roots' (see lazy_labels_)
  std::shared_ptr<const EdgeLabelSource> lazy_labels_;  // the objects' edges' labels, when not in edge_label_
  // Bit e set: edge e is weak. A bit, not a byte, an edge (12 MB less for a
  // 12M-edge V8 snapshot), and nothing at all when no edge is weak (cores).
  BigVector<std::uint64_t> weak_edge_bits_;
  mutable BigVector<NodeIndex> nodes_by_id_;  // empty until nodes_by_id()
  std::vector<RootInfo> roots_;
  StringTable strings_;
  std::uint64_t dropped_dangling_edges_ = 0;
  std::uint64_t dropped_dangling_roots_ = 0;
  std::uint64_t weak_edge_count_ = 0;
  std::map<std::string, std::string> meta_;
};

// The sources of the strong edges into each node, sorted, duplicates kept
// (the reverse CSR). Built on demand, for `paths`: it costs 4 bytes an edge,
// which a graph does not carry for the commands that do not need it.
class StrongReferrers {
 public:
  explicit StrongReferrers(const HeapGraph& graph);
  std::span<const NodeIndex> of(NodeIndex n) const {
    return {source_.data() + begin_[n], source_.data() + begin_[n + 1]};
  }

 private:
  BigVector<EdgeIndex> begin_;  // node_count + 1
  BigVector<NodeIndex> source_;
};

// How readers name edge targets and roots.
enum class TargetNaming {
  ById,       // by object id (heapscope JSON graphs, cores): resolved at build()
  ByOrdinal,  // by the 0-based order in which nodes were added (V8 snapshots)
};

// A graph a reader has already laid out as the HeapGraph's own columns, for
// formats that list every node's edges together, in node order, with
// targets as node ordinals (V8 snapshots). GraphBuilder::build(columns)
// adopts these arrays in place, so an edge is never copied: for a 12M-edge
// snapshot that saves pushing 12M edges through the builder and ~200 MB of
// freshly faulted memory.
//
// Node columns have node_count = objects + 1 entries; slot 0 belongs to the
// super-root and is overwritten. Edge columns hold the objects' edges only;
// the roots' edges are put in front of them (reserve that much spare
// capacity, at most one per object, and no reallocation happens).
struct GraphColumns {
  IdColumn object_id;  // plain, or runs (IdColumn::runs()) for ids that come in runs
  U64Column shallow_size;
  BigVector<StringId> type;
  BigVector<StringId> name;        // empty (no object has a name), or one per node
  SparseIdColumn alloc_site;  // empty, or one per node
  // node_count + 1 entries: node n's edges are [out_begin[n], out_begin[n+1])
  // counted among the objects' edges (so out_begin[1] == 0); entry 0 is overwritten.
  BigVector<EdgeOffset> out_begin;
  BigVector<NodeIndex> edge_target;  // 0-based object ordinals; become node indices
  BigVector<std::uint32_t> edge_label;  // EdgeLabel::raw(), or empty when edge_labels is set
  std::shared_ptr<const EdgeLabelSource> edge_labels;  // the labels, looked up when asked for
  BigVector<std::uint8_t> edge_kind;    // EdgeKind, or empty: every edge strong

  // Appends to out_begin where the edges pushed so far end (a node's
  // beginning, or the last one's end). Throws InputError past kMaxEdges.
  void push_edges_end();
};

// Readers push nodes and edges into a builder; build() makes the HeapGraph.
// Edges must be added right after their source node (add_node, then its
// add_edge calls), which is how every supported format lists them, so the
// out-CSR is filled in order with no sort.
class GraphBuilder {
 public:
  explicit GraphBuilder(TargetNaming naming = TargetNaming::ById);

  StringId intern(std::string_view text) { return strings_.intern(text); }
  StringTable& strings() { return strings_; }
  void reserve(std::size_t nodes, std::size_t edges);

  // Returns the node's final index (1-based: the super-root is 0).
  NodeIndex add_node(std::uint64_t object_id, StringId type, std::uint64_t shallow_size,
                     StringId name = kNoString);
  void set_alloc_site(NodeIndex node, StringId site);
  // An edge from the node added last to target (an id or an ordinal).
  void add_edge(std::uint64_t target, EdgeLabel label = {}, EdgeKind kind = EdgeKind::Strong);
  void add_root(std::uint64_t target, StringId name = kNoString, StringId kind = kNoString);
  void set_meta(std::string key, std::string value) { meta_[std::move(key)] = std::move(value); }

  std::size_t node_count() const { return object_id_.size() - 1; }
  std::size_t edge_count() const { return edge_to_.size(); }

  // Resolves targets (dropping and counting dangling ones), builds both CSRs.
  // Throws InputError on a duplicate object id or when counts overflow.
  HeapGraph build() &&;
  // Builds from a reader's ready columns instead of pushed nodes and edges
  // (TargetNaming::ByOrdinal, no add_node calls): the builder contributes
  // its strings, roots and meta. Throws InputError on a target out of range
  // or inconsistent column sizes.
  HeapGraph build(GraphColumns&& columns) &&;

 private:
  struct PendingRoot {
    std::uint64_t target;
    StringId name;
    StringId kind;
  };
  // The super-root's edges (targets and labels) from the pending roots;
  // dangling ones are dropped and counted in the graph.
  template <class Resolve>
  void resolve_roots(HeapGraph& graph, const Resolve& resolve, BigVector<NodeIndex>& targets,
                     BigVector<std::uint32_t>& labels) const;
  // Moves strings and meta into the graph and sorts its nodes by object id.
  void finish(HeapGraph& graph);
  TargetNaming naming_;
  StringTable strings_;
  U64Column object_id_;
  U64Column shallow_size_;
  BigVector<StringId> type_;
  BigVector<StringId> name_;
  BigVector<StringId> alloc_site_;
  BigVector<EdgeOffset> out_begin_;  // per added node: index of its first edge
  BigVector<std::uint64_t> edge_to_;  // ids or ordinals, resolved at build
  BigVector<std::uint32_t> edge_label_;
  BigVector<std::uint8_t> edge_kind_;
  std::vector<PendingRoot> roots_;
  std::map<std::string, std::string> meta_;
};

}  // namespace heapscope
