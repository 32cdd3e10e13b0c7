#include "heapscope/dominators.hpp"

#include <algorithm>
#include <chrono>
#include <exception>
#include <stdexcept>
#include <thread>
#include <variant>

namespace heapscope {
namespace {

constexpr std::uint32_t kUnvisited = 0xFFFFFFFFu;

// From this many nodes on, the second core prepares arrays while this one
// walks (below it, the overlap costs more in peak memory than it saves).
constexpr std::size_t kHelperNodes = 2'000'000;

// A task on the second core. What it throws (std::bad_alloc, say) comes
// back from finish_or_run() on this thread, instead of ending the process.
class OtherCore {
 public:
  template <class Task>
  void start(Task task) {
    thread_ = std::jthread([this, task] {
      try {
        task();
      } catch (...) {
        error_ = std::current_exception();
      }
    });
  }
  // Waits for the task when it was started, else runs it here.
  template <class Task>
  void finish_or_run(Task& task) {
    if (!thread_.joinable()) {
      task();
      return;
    }
    thread_.join();
    if (error_) std::rethrow_exception(error_);
  }

 private:
  std::exception_ptr error_;
  std::jthread thread_;  // last: joined (by its destructor) before error_ goes
};

// Adds the time since the last lap to one field of DominatorTimings (when
// the caller asked for them).
class Laps {
 public:
  explicit Laps(DominatorTimings* timings) : timings_(timings) {}
  void lap(double DominatorTimings::*field) {
    const auto now = std::chrono::steady_clock::now();
    if (timings_ != nullptr) timings_->*field += std::chrono::duration<double, std::milli>(now - last_).count();
    last_ = now;
  }

 private:
  DominatorTimings* timings_;
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

// The result of the DFS over strong edges from the super-root: the
// preorder (vertex by number) and each number's DFS parent (as a number).
struct DepthFirst {
  BigVector<NodeIndex> vertex;        // number -> node
  BigVector<std::uint32_t> parent;    // number -> parent's number
  // Every other strong edge between reachable nodes, as (target, source) in
  // DFS numbers, logged as the walk meets it: the semi-dominator pass needs
  // each node's predecessors by number, and the walk already knows both
  // numbers, which a later pass over the edges would look up at random.
  // (Walks over records only.)
  struct NonTreeEdge {
    std::uint32_t target;
    std::uint32_t source;
  };
  BigVector<NonTreeEdge> non_tree;
  // A walk over the CSR keeps no log: per number, the count of non-tree
  // edges into it (4 bytes a node where the log took 8 a non-tree edge:
  // 20 MB against 56 for a 5M-node V8 snapshot), and per node its number
  // plus one (the walk's marks). gather_predecessors() then finds the
  // edges again in the CSR, where edges lie in order and only their
  // targets' numbers are looked up (prefetched).
  BigVector<std::uint32_t> non_tree_into;
  BigVector<std::uint32_t> number_plus_one;
};

// The edges re-laid for the walk, one record per node in one array:
//   [slot, degree, target record, target record, ...]
// where slot is the node index with kUnvisitedBit set until the walk visits
// the node, and its DFS number after. An edge names its target's record, not
// its node, so visiting a node is one cache miss (its record holds its mark
// and its edges) where the CSR needs two in a row (the node's edge range,
// then its edges); the walk is bound by that chain of misses. Building the
// records costs one prefetched gather per edge.
//
// Every edge keeps its place, so node n's record starts at 2n + out_begin(n)
// and no table of record offsets is needed (at 5M nodes that table was 20
// MB at the peak of the analysis). A weak edge names the super-root's record
// instead of its target's: the super-root is visited first, so the walk never
// follows such an edge, and it logs no edge into the super-root.
template <class Word>
struct WalkRecords {
  static constexpr Word kUnvisitedBit = Word{1} << (sizeof(Word) * 8 - 1);
  BigVector<Word> words;
  static constexpr Word kSuperRootRecord = 0;  // 2 * kSuperRoot + out_begin(kSuperRoot)
};

template <class Word>
WalkRecords<Word> walk_records(const HeapGraph& graph) {
  const std::size_t n = graph.node_count();
  const EdgeOffset* const out_begin = graph.out_begin_data();
  const NodeIndex* const edge_target = graph.edge_target_data();
  auto record_of = [out_begin](NodeIndex node) { return static_cast<Word>(Word{2} * node + out_begin[node]); };
  WalkRecords<Word> records;
  records.words.resize(2 * n + graph.edge_count());
  Word* out = records.words.data();
  constexpr EdgeIndex kAhead = 16;
  const EdgeIndex edge_count = graph.edge_count();
  for (NodeIndex node = 0; node < n; ++node) {
    out[0] = Word{node} | WalkRecords<Word>::kUnvisitedBit;
    out[1] = static_cast<Word>(out_begin[node + 1] - out_begin[node]);
    out += 2;
    for (EdgeIndex e = out_begin[node]; e < out_begin[node + 1]; ++e) {
      if (e + kAhead < edge_count) __builtin_prefetch(out_begin + edge_target[e + kAhead]);
      *out++ = graph.is_strong(e) ? record_of(edge_target[e]) : WalkRecords<Word>::kSuperRootRecord;
    }
  }
  return records;
}

// The walk over the records: a pending target is a record's offset.
template <class Word>
class RecordLayout {
 public:
  using Target = Word;
  static constexpr bool kCountsNonTree = false;  // it logs them (DepthFirst::non_tree)
  explicit RecordLayout(WalkRecords<Word> records) : records_(std::move(records)), words_(records_.words.data()) {}
  Target super_root() const { return WalkRecords<Word>::kSuperRootRecord; }
  std::uint32_t number_of(Target t) const {
    const Word slot = words_[t];
    return (slot & kUnvisitedBit) != 0 ? kUnvisited : static_cast<std::uint32_t>(slot);
  }
  NodeIndex mark_visited(Target t, std::uint32_t number) {
    const auto node = static_cast<NodeIndex>(words_[t] & ~kUnvisitedBit);
    words_[t] = number;
    return node;
  }
  template <class Push>
  void push_targets(Target t, Push push) const {
    const Word* const targets = words_ + t + 2;
    for (Word i = words_[t + 1]; i-- > 0;) {
      __builtin_prefetch(words_ + targets[i]);
      push(targets[i]);
    }
  }

 private:
  static constexpr Word kUnvisitedBit = WalkRecords<Word>::kUnvisitedBit;
  WalkRecords<Word> records_;
  Word* words_;
};

// The walk straight over the graph's CSR: a pending target is a node, and
// each node's DFS number (plus one: 0 is "not visited", so fresh zeroed
// pages need no fill) sits in an array of its own. 4 bytes a node where the
// records take 8 a node and 4 an edge, and no time to build them; the cost
// is two lookups in a row to visit a node (its edge range, then its edges),
// which the records spare.
class CsrLayout {
 public:
  using Target = NodeIndex;
  static constexpr bool kCountsNonTree = true;  // see DepthFirst::non_tree_into
  explicit CsrLayout(const HeapGraph& graph)
      : graph_(graph), out_begin_(graph.out_begin_data()), edge_target_(graph.edge_target_data()),
        number_plus_one_(graph.node_count()) {}
  Target super_root() const { return kSuperRoot; }
  std::uint32_t number_of(Target t) const { return number_plus_one_[t] == 0 ? kUnvisited : number_plus_one_[t] - 1; }
  NodeIndex mark_visited(Target t, std::uint32_t number) {
    number_plus_one_[t] = number + 1;
    return t;
  }
  // The marks, for gather_predecessors().
  BigVector<std::uint32_t> take_numbers() && { return std::move(number_plus_one_); }
  template <class Push>
  void push_targets(Target t, Push push) const {
    for (EdgeIndex e = out_begin_[t + 1]; e-- > out_begin_[t];) {
      if (!graph_.is_strong(e)) continue;
      const NodeIndex next = edge_target_[e];
      __builtin_prefetch(number_plus_one_.data() + next);
      __builtin_prefetch(out_begin_ + next);
      push(next);
    }
  }

 private:
  const HeapGraph& graph_;
  const EdgeOffset* out_begin_;
  const NodeIndex* edge_target_;
  BigVector<std::uint32_t> number_plus_one_;
};

// Iterative DFS. Each pending entry is an edge not yet followed: (its
// target, the DFS number of its source). Popping an entry whose target is
// still unvisited visits it, and pushing all of its targets at once is a
// true depth-first order: the entries pushed by a node's descendants sit
// above the node's other entries, so they are all taken first. A target's
// state is asked for (prefetched) when it is pushed and read only when
// popped. `dfs` arrives with its arrays already sized (prefaulted, see
// depth_first()); they are cut to what the walk filled.
template <class Layout>
void depth_first_over(Layout& layout, std::size_t edge_count, DepthFirst& dfs) {
  using Target = typename Layout::Target;
  struct Pending {
    Target target;
    std::uint32_t parent;
  };
  BigVector<Pending> stack;
  // The stack grows to at most one entry an edge. A big reservation is
  // address space only (pages arrive when first written), and spares the
  // regrowth copies of an array of tens of millions of entries.
  reserve_address_space(stack, edge_count);
  std::uint32_t visited = 0;
  std::size_t logged = 0;
  auto visit = [&](Target target, std::uint32_t parent) {
    const std::uint32_t number = visited++;
    dfs.vertex[number] = layout.mark_visited(target, number);
    dfs.parent[number] = parent;
    // Pushed in reverse so the first edge is followed first, as a recursive
    // walk would.
    layout.push_targets(target, [&](Target next) { stack.push_back({next, number}); });
  };
  visit(layout.super_root(), 0);
  while (!stack.empty()) {
    const Pending top = stack.back();
    stack.pop_back();
    const std::uint32_t number = layout.number_of(top.target);
    if (number == kUnvisited) {
      visit(top.target, top.parent);
    } else if (number == 0) {
      // An edge into the super-root (a weak edge in the records): no predecessor of anything.
    } else if constexpr (Layout::kCountsNonTree) {
      ++dfs.non_tree_into[number];
    } else if (logged < dfs.non_tree.size()) {
      dfs.non_tree[logged++] = {number, top.parent};
    } else {
      // More than sized for (nodes no root reaches, so fewer tree edges):
      // grown once to the bound, every edge, not doubled step by step.
      if (dfs.non_tree.capacity() < edge_count) reserve_address_space(dfs.non_tree, edge_count);
      dfs.non_tree.push_back({number, top.parent});
      ++logged;
    }
  }
  dfs.vertex.resize(visited);
  dfs.parent.resize(visited);
  dfs.non_tree.resize(logged);
}

// Whether edges mostly lead to nodes near their source in index order (so
// near it in the CSR): the share of a sample of strong edges, taken from
// nodes spread over the graph, whose target is within kNear nodes.
double near_edge_share(const HeapGraph& graph) {
  constexpr std::size_t kSampleNodes = 4096;
  constexpr std::int64_t kNear = 1024;
  const std::size_t n = graph.node_count();
  const std::size_t step = std::max<std::size_t>(1, n / kSampleNodes);
  std::size_t edges = 0, near = 0;
  for (NodeIndex node = 1; node < n; node += static_cast<NodeIndex>(step)) {
    for (EdgeIndex e = graph.out_begin(node); e < graph.out_end(node); ++e) {
      ++edges;
      const std::int64_t distance = static_cast<std::int64_t>(graph.edge_target(e)) - node;
      near += distance >= -kNear && distance <= kNear ? 1 : 0;
    }
  }
  return edges == 0 ? 1.0 : static_cast<double>(near) / static_cast<double>(edges);
}

// Graphs with at least this share of near edges (near_edge_share) are
// walked over the CSR. Measured shares: V8 snapshots 0.16-0.24, a Python
// core 0.19, a glibc core of small lists 1.0, the bench's shuffled graph
// 0.002. On the first three the CSR walk is no slower than building and
// walking records (V8 5M: 55-70 ms against 85-260, and 21 MB off the peak);
// on the shuffled graph it is 25-50% slower (1M nodes: walk 190 ms against
// 130-185), its edges' misses no longer hidden.
constexpr double kCsrNearShare = 0.05;

DepthFirst depth_first(const HeapGraph& graph, WalkLayout layout_asked, Laps& laps) {
  const std::size_t n = graph.node_count();
  const std::size_t edges = graph.edge_count();
  // 32-bit records when every record offset and node index fits beside the
  // mark bit; 64-bit ones otherwise (a graph of billions of edges).
  const std::uint64_t words = 2 * static_cast<std::uint64_t>(n) + edges;
  const bool fits_narrow = words < (std::uint64_t{1} << 31);
  if (layout_asked == WalkLayout::Narrow && !fits_narrow) throw std::length_error("graph too big for 32-bit walk records");
  // gather_predecessors() marks nodes in the top bit of their number.
  const bool fits_csr = n < (std::size_t{1} << 31);
  if (layout_asked == WalkLayout::Csr && !fits_csr) throw std::length_error("graph too big for the CSR walk");
  WalkLayout layout_used = layout_asked;
  if (layout_asked == WalkLayout::Auto) {
    layout_used = fits_csr && near_edge_share(graph) >= kCsrNearShare ? WalkLayout::Csr
                  : fits_narrow                          ? WalkLayout::Narrow
                                                         : WalkLayout::Wide;
  }
  // The walk's own arrays are sized (so faulted in and zeroed by the
  // kernel) on the other core while this one builds the records: fresh
  // pages cost the walk as much as its reads on this machine (5M-node V8
  // snapshot: the analysis 0.94-1.2 s -> 0.89-0.90 s wall). One entry a
  // node for the preorder and parents; the log holds one entry per edge
  // that is not a tree edge: edges - (nodes - 1) when every node is
  // reached, which is the usual case (else the log grows).
  // Below kHelperNodes the faults cost little and the thread's overlap
  // with the records' scratch shows in the peak (1M nodes: 8 MB, 2 bytes
  // an edge), so the arrays are sized after the records, on this thread.
  DepthFirst dfs;
  auto size_walk_arrays = [&dfs, n, edges, layout_used] {
    dfs.vertex.resize(n);
    dfs.parent.resize(n);
    if (layout_used == WalkLayout::Csr) {
      dfs.non_tree_into.resize(n + 1);  // one more: they become offsets (gather_predecessors)
    } else {
      dfs.non_tree.resize(edges + 1 > n ? edges + 1 - n : 0);
    }
  };
  auto walk = [&](auto& layout) {
    laps.lap(&DominatorTimings::walk_records_ms);
    depth_first_over(layout, edges, dfs);
    laps.lap(&DominatorTimings::walk_ms);
  };
  OtherCore helper;
  if (n >= kHelperNodes) helper.start(size_walk_arrays);
  if (layout_used == WalkLayout::Csr) {
    CsrLayout layout(graph);
    helper.finish_or_run(size_walk_arrays);
    walk(layout);
    dfs.number_plus_one = std::move(layout).take_numbers();
    return dfs;
  }
  if (layout_used == WalkLayout::Narrow) {
    RecordLayout<std::uint32_t> layout(walk_records<std::uint32_t>(graph));
    helper.finish_or_run(size_walk_arrays);
    walk(layout);
    return dfs;
  }
  RecordLayout<std::uint64_t> layout(walk_records<std::uint64_t>(graph));
  helper.finish_or_run(size_walk_arrays);
  walk(layout);
  return dfs;
}

// The walk's log of non-tree edges regrouped by target, highest target
// first: the order in which the semi-dominator pass asks for each node's
// predecessors. Rank 0 is the highest target, so ranks ascend as the pass
// goes; the sources of the target ranked r are source[begin[r] ..
// begin[r + 1]). Sources only, 4 bytes an edge where the log takes 8, and
// the log is freed as soon as it is read (5M-node V8 snapshot: 26 MB off the
// analysis' peak). 32-bit offsets: a graph has at most kMaxEdges edges.
struct Predecessors {
  BigVector<std::uint32_t> begin;  // count + 1, by rank
  BigVector<std::uint32_t> source;
};

struct TargetRank {
  std::size_t count;
  std::size_t operator()(const DepthFirst::NonTreeEdge& edge) const { return count - 1 - edge.target; }
};
constexpr unsigned kBucketBits = 12;  // buckets of 4096 consecutive ranks

// One counting sort over all targets. The sources are placed through
// `begin` itself: each rank's entry moves on to its end, which is the next
// rank's beginning, so one shift puts them back (no copy of the counts).
Predecessors group_in_one_level(BigVector<DepthFirst::NonTreeEdge>&& log, TargetRank rank) {
  Predecessors preds;
  preds.begin.assign(rank.count + 1, 0);
  for (const auto& edge : log) ++preds.begin[rank(edge) + 1];
  for (std::size_t r = 0; r < rank.count; ++r) preds.begin[r + 1] += preds.begin[r];
  preds.source.resize(log.size());
  for (const auto& edge : log) preds.source[preds.begin[rank(edge)]++] = edge.source;
  BigVector<DepthFirst::NonTreeEdge>().swap(log);
  for (std::size_t r = rank.count; r > 0; --r) preds.begin[r] = preds.begin[r - 1];
  preds.begin[0] = 0;
  return preds;
}

// A counting sort in two levels: the log is split into buckets of 4096
// consecutive ranks in a scratch copy (a few thousand write positions,
// each moving on in order), then each bucket is counted and its sources
// written out in order, its counts and its entries in cache.
Predecessors group_in_two_levels(BigVector<DepthFirst::NonTreeEdge>&& log, TargetRank rank) {
  using Edge = DepthFirst::NonTreeEdge;
  constexpr std::size_t kBucketRanks = std::size_t{1} << kBucketBits;
  const std::size_t buckets = (rank.count >> kBucketBits) + 1;
  auto bucket = [&](const Edge& edge) { return rank(edge) >> kBucketBits; };

  std::vector<std::uint32_t> bucket_begin(buckets + 1, 0);
  for (const Edge& edge : log) ++bucket_begin[bucket(edge) + 1];
  for (std::size_t b = 0; b < buckets; ++b) bucket_begin[b + 1] += bucket_begin[b];
  // Split into a scratch copy (each bucket's entries in log order)...
  BigVector<Edge> by_bucket(log.size());
  {
    std::vector<std::uint32_t> next(bucket_begin.begin(), bucket_begin.end() - 1);
    for (const Edge& edge : log) by_bucket[next[bucket(edge)]++] = edge;
  }
  BigVector<Edge>().swap(log);
  // ... then each bucket counted and its sources written out in order.
  Predecessors preds;
  preds.begin.resize(rank.count + 1);
  preds.source.resize(by_bucket.size());
  std::vector<std::uint32_t> place(kBucketRanks + 1);
  for (std::size_t b = 0; b < buckets; ++b) {
    const std::size_t first_rank = b << kBucketBits;
    const std::size_t ranks = std::min(kBucketRanks, rank.count - std::min(rank.count, first_rank));
    std::fill(place.begin(), place.end(), 0);
    for (std::uint32_t i = bucket_begin[b]; i < bucket_begin[b + 1]; ++i) ++place[rank(by_bucket[i]) - first_rank + 1];
    place[0] = bucket_begin[b];
    for (std::size_t i = 0; i < kBucketRanks; ++i) place[i + 1] += place[i];
    std::copy(place.begin(), place.begin() + static_cast<std::ptrdiff_t>(ranks), preds.begin.begin() + static_cast<std::ptrdiff_t>(first_rank));
    for (std::uint32_t i = bucket_begin[b]; i < bucket_begin[b + 1]; ++i) {
      const Edge& edge = by_bucket[i];
      preds.source[place[rank(edge) - first_rank]++] = edge.source;
    }
  }
  preds.begin[rank.count] = static_cast<std::uint32_t>(preds.source.size());
  return preds;
}

// Whether neighbouring log entries mostly aim at nearby targets (one in four
// or more of a sample of neighbours within a 4096-target bucket).
bool targets_are_local(const BigVector<DepthFirst::NonTreeEdge>& log, TargetRank rank) {
  constexpr std::size_t kSamples = 4096;
  if (log.size() < 2) return true;
  const std::size_t step = std::max<std::size_t>(1, (log.size() - 1) / kSamples);
  std::size_t samples = 0;
  std::size_t near = 0;
  for (std::size_t i = 1; i < log.size(); i += step) {
    ++samples;
    near += (rank(log[i]) >> kBucketBits) == (rank(log[i - 1]) >> kBucketBits) ? 1 : 0;
  }
  return near * 4 >= samples;
}

// When the targets of neighbouring entries are near each other, as in a
// graph laid out in the order its program built it (a V8 snapshot: 71% of
// neighbours in one bucket), one counting sort finds its counters in cache
// and beats two levels (V8 5M: 32 against 46 ms). When they are scattered
// (the bench graph, nodes shuffled like addresses: 0.5%), one level moves
// every entry to a random place: 10M-node bench graph 0.71 s in one level,
// 0.26 s in two. (An in-place split, an American flag sort, needs no
// scratch but was 0.69 s: its swaps form one chain of dependent misses.)
Predecessors group_by_target(BigVector<DepthFirst::NonTreeEdge>&& log, std::size_t count) {
  const TargetRank rank{count};
  if (targets_are_local(log, rank)) return group_in_one_level(std::move(log), rank);
  return group_in_two_levels(std::move(log), rank);
}

// The predecessors of a walk over the CSR (which logged none, see
// DepthFirst::non_tree_into), grouped as group_by_target() groups a log:
// the strong edges of every reached node, in the CSR's order, but for the
// tree edges and the edges into the super-root, which are exactly the
// edges the walk counted. A tree edge is the one edge its target was
// reached by: with parallel edges from the DFS parent, the first of them,
// marked in the top bit of the target's number (the walk counted the others).
// The edges' targets are looked up ahead (their numbers, then their
// parents), as the log's scatter never needed; what this spares is the
// log itself (5M-node V8 snapshot: 36 MB off the walk's and this step's peak).
Predecessors gather_predecessors(const HeapGraph& graph, DepthFirst& dfs) {
  const auto count = static_cast<std::uint32_t>(dfs.vertex.size());
  Predecessors preds;
  preds.begin = std::move(dfs.non_tree_into);  // counts by number, then offsets by rank
  std::reverse(preds.begin.begin(), preds.begin.begin() + count);  // rank r is number count - 1 - r
  preds.begin.resize(count + 1);
  std::uint64_t total = 0;
  for (std::uint32_t r = 0; r < count; ++r) {
    const std::uint32_t edges_in = preds.begin[r];
    preds.begin[r] = static_cast<std::uint32_t>(total);
    total += edges_in;
  }
  preds.source.resize(total);  // below kMaxEdges: each counted edge is one of the graph's

  constexpr std::uint32_t kTreeEdgeSeen = 0x80000000u;
  constexpr EdgeIndex kFar = 16, kNear = 8;
  std::uint32_t* const mark = dfs.number_plus_one.data();  // number + 1, 0 unreached
  const std::uint32_t* const parent = dfs.parent.data();
  const NodeIndex* const target = graph.edge_target_data();
  const EdgeIndex edge_count = graph.edge_count();
  std::uint64_t gathered = 0;
  for (NodeIndex u = 0; u < graph.node_count(); ++u) {
    const std::uint32_t u_plus_one = mark[u] & ~kTreeEdgeSeen;
    if (u_plus_one == 0) continue;  // not reached: none of its edges were walked
    const std::uint32_t nu = u_plus_one - 1;
    for (EdgeIndex e = graph.out_begin(u); e < graph.out_end(u); ++e) {
      if (e + kFar < edge_count) __builtin_prefetch(mark + target[e + kFar]);
      if (e + kNear < edge_count) {
        const std::uint32_t ahead = mark[target[e + kNear]] & ~kTreeEdgeSeen;
        if (ahead != 0) __builtin_prefetch(parent + ahead - 1);
      }
      if (!graph.is_strong(e)) continue;
      std::uint32_t& v_mark = mark[target[e]];
      const std::uint32_t nv = (v_mark & ~kTreeEdgeSeen) - 1;  // reached: its source is
      if (nv == 0) continue;                                     // into the super-root
      if (parent[nv] == nu && (v_mark & kTreeEdgeSeen) == 0) {
        v_mark |= kTreeEdgeSeen;
        continue;
      }
      preds.source[preds.begin[count - 1 - nv]++] = nu;
      ++gathered;
    }
  }
  if (gathered != total) throw std::logic_error("gather_predecessors: the edges found differ from the walk's count");
  // Each rank's offset moved on to its end, the next one's beginning: one shift puts them back.
  for (std::size_t r = count; r > 0; --r) preds.begin[r] = preds.begin[r - 1];
  preds.begin[0] = 0;
  return preds;
}

// Retained sizes are summed per DFS number in 32 bits when every shallow
// size together fits them (no sum can then overflow), else in 64.
using SumsByNumber = std::variant<BigVector<std::uint32_t>, BigVector<std::uint64_t>>;

bool sizes_fit_32_bits(const HeapGraph& graph) {
  constexpr std::uint64_t kMax = 0xFFFFFFFFu;
  std::uint64_t total = 0;
  for (NodeIndex n = 0; n < graph.node_count(); ++n) {
    total += graph.shallow_size(n);
    if (total > kMax) return false;
  }
  return true;
}

// Each number's shallow size (a gather: numbers visit nodes at random).
template <class Size>
void gather_shallow_sizes(const HeapGraph& graph, const BigVector<NodeIndex>& vertex, BigVector<Size>& sums) {
  const auto count = static_cast<std::uint32_t>(vertex.size());
  sums.resize(count);
  constexpr std::uint32_t kGatherAhead = 16;
  for (std::uint32_t w = 0; w < count; ++w) {
    if (w + kGatherAhead < count) graph.prefetch_shallow_size(vertex[w + kGatherAhead]);
    sums[w] = static_cast<Size>(graph.shallow_size(vertex[w]));
  }
}

// idom(w) < w, so one reverse sweep adds every subtree into its dominator.
template <class Size>
void sum_subtrees(BigVector<Size>& sums, const BigVector<std::uint32_t>& idom_number) {
  for (auto w = static_cast<std::uint32_t>(sums.size()) - 1; w >= 1; --w) sums[idom_number[w]] += sums[w];
}

}  // namespace

DominatorTree compute_dominators(const HeapGraph& graph, WalkLayout layout, DominatorTimings* timings) {
  Laps laps(timings);
  DepthFirst dfs = depth_first(graph, layout, laps);
  const auto count = static_cast<std::uint32_t>(dfs.vertex.size());
  Predecessors preds = dfs.number_plus_one.empty() ? group_by_target(std::move(dfs.non_tree), count)
                                                  : gather_predecessors(graph, dfs);
  BigVector<std::uint32_t>().swap(dfs.number_plus_one);
  laps.lap(&DominatorTimings::predecessors_ms);

  // What the retained sizes need besides the dominators (each number's
  // shallow size, a gather; the result's arrays by node, fresh pages) can
  // be made on the other core while the semi-dominators take this one.
  const std::size_t n = graph.node_count();
  DominatorTree tree;
  SumsByNumber retained_by_number;
  if (!sizes_fit_32_bits(graph)) retained_by_number.emplace<BigVector<std::uint64_t>>();
  auto prepare_retained = [&] {
    std::visit([&](auto& sums) { gather_shallow_sizes(graph, dfs.vertex, sums); }, retained_by_number);
    tree.idom.assign(n, kNoNode);
    tree.retained = std::holds_alternative<BigVector<std::uint32_t>>(retained_by_number)
                        ? U64Column(BigVector<std::uint32_t>(n, 0))
                        : U64Column(BigVector<std::uint64_t>(n, 0));
  };
  // Only when the semi-dominator pass is the longer of the two, which it
  // is when nodes have two or more non-tree predecessors on average (the
  // 10M-node bench graph: three; 0.26 -> 0.17 s). With fewer, this core
  // would wait for the other (a 5M-node V8 snapshot has 1.4: 13-160 ms on
  // the other core, 28 ms here).
  OtherCore helper;
  if (n >= kHelperNodes && preds.source.size() >= 2 * std::size_t{count}) helper.start(prepare_retained);

  // Semi-dominators, in DFS numbers. The link-eval forest keeps, per
  // number, its ancestor (kUnvisited = not linked yet) and the label (the
  // minimum semi on the compressed path) side by side: eval() chases
  // ancestors at random, and one cache line then serves both.
  struct Forest {
    std::uint32_t ancestor;
    std::uint32_t label;
  };
  // semi(w) is kept where w's predecessors began (preds.begin[rank of w]),
  // which the pass never reads again once w is done: no array of its own
  // (4 bytes a node, 20 MB of a 5M-node V8 snapshot's peak, which is here).
  std::uint32_t* const semi_by_rank = preds.begin.data();
  auto semi = [semi_by_rank, count](std::uint32_t w) -> std::uint32_t& { return semi_by_rank[count - 1 - w]; };
  BigVector<Forest> forest(count);
  for (std::uint32_t i = 0; i < count; ++i) forest[i] = {kUnvisited, i};

  // The minimum label on v's forest path below its tree's root. Called for
  // v > w while w is processed, when exactly the numbers above w are
  // linked: "is x linked" is x > w, a comparison where the textbook test
  // reads x's entry, one more cache miss per call.
  // A label covers its node's path up to its ancestor (exclusive), so
  // pointing a node at its grandparent folds the skipped ancestor's label
  // into its own. Path halving does that at every other node on the way
  // up, in one pass: no stack of the path, and on the 10M-node bench graph
  // 88M ancestor steps for 19M evaluations where compressing the whole
  // path (two passes) took 158M (semi-dominators 2.3-2.8 s -> 1.7-1.9 s).
  auto eval = [&](std::uint32_t v, std::uint32_t w) -> std::uint32_t {
    std::uint32_t result = kUnvisited;
    std::uint32_t x = v;
    for (;;) {
      Forest& at = forest[x];
      if (at.label < result) result = at.label;
      if (at.ancestor <= w) return result;  // x's ancestor is the root
      const Forest& up = forest[at.ancestor];
      if (up.label < at.label) at.label = up.label;
      at.ancestor = up.ancestor;
      if (at.label < result) result = at.label;
      x = at.ancestor;
      if (x <= w) return result;  // the grandparent was the root
    }
  };

  // eval(v) starts at forest[v], a random read: the predecessors to come are
  // known (the array is in order), so their entries are asked for ahead.
  // Three stages: kFar entries ahead, ask for the predecessor's forest
  // entry; kMid ahead, read it (it has arrived) and ask for its ancestor's,
  // the first step eval() takes; kNear ahead, ask for the grandparent's,
  // where the step lands (semi-dominators on the 10M bench graph 1.4-1.6 s
  // with two stages, 1.18-1.20 s with three).
  constexpr EdgeIndex kFar = 48;
  constexpr EdgeIndex kMid = 32;
  constexpr EdgeIndex kNear = 16;
  const std::uint32_t* const source = preds.source.data();
  const EdgeIndex pred_count = preds.source.size();
  EdgeIndex p = 0;
  for (std::uint32_t w = count - 1; w >= 1; --w) {
    std::uint32_t best = dfs.parent[w];
    for (const EdgeIndex end = preds.begin[count - w]; p < end; ++p) {  // w's rank is count - 1 - w
      if (p + kFar < pred_count) __builtin_prefetch(&forest[source[p + kFar]]);
      if (p + kMid < pred_count) {
        const std::uint32_t ancestor = forest[source[p + kMid]].ancestor;
        if (ancestor != kUnvisited && ancestor > w) __builtin_prefetch(&forest[ancestor]);
      }
      if (p + kNear < pred_count) {
        const std::uint32_t ancestor = forest[source[p + kNear]].ancestor;
        if (ancestor != kUnvisited && ancestor > w) {
          const std::uint32_t grand = forest[ancestor].ancestor;
          if (grand != kUnvisited && grand > w) __builtin_prefetch(&forest[grand]);
        }
      }
      const std::uint32_t v = source[p];
      const std::uint32_t candidate = v <= w ? v : eval(v, w);
      if (candidate < best) best = candidate;
    }
    semi(w) = best;
    forest[w] = {dfs.parent[w], best};
  }
  laps.lap(&DominatorTimings::semi_ms);
  BigVector<Forest>().swap(forest);
  BigVector<std::uint32_t>().swap(preds.source);  // freed before the result's arrays are made, for the peak

  // Nearest common ancestor pass: idom(w) is the deepest ancestor of w's
  // DFS parent whose number is not above semi(w).
  BigVector<std::uint32_t> idom_number(count, 0);
  for (std::uint32_t w = 1; w < count; ++w) {
    std::uint32_t candidate = dfs.parent[w];
    while (candidate > semi(w)) candidate = idom_number[candidate];
    idom_number[w] = candidate;
  }
  preds = Predecessors();  // the semi-dominators
  BigVector<std::uint32_t>().swap(dfs.parent);  // 4 bytes a node off the peak of the steps below
  laps.lap(&DominatorTimings::idom_ms);

  // Retained sizes summed in DFS numbers first: in numbers a node's
  // dominator is usually close by, where in node indices both ends of every
  // step are random.
  helper.finish_or_run(prepare_retained);
  std::visit(
      [&](auto& sums) {
        sum_subtrees(sums, idom_number);
        for (std::uint32_t w = 0; w < count; ++w) {
          const NodeIndex node = dfs.vertex[w];
          tree.idom[node] = dfs.vertex[idom_number[w]];
          tree.retained.set(node, sums[w]);
        }
      },
      retained_by_number);
  tree.preorder = std::move(dfs.vertex);
  laps.lap(&DominatorTimings::retained_ms);
  return tree;
}

DominatorChildren dominator_children(const HeapGraph& graph, const DominatorTree& tree) {
  const std::size_t n = graph.node_count();
  DominatorChildren children;
  children.begin.assign(n + 1, 0);
  for (NodeIndex node : tree.preorder) {
    if (node != kSuperRoot) ++children.begin[tree.idom[node] + 1];
  }
  for (std::size_t i = 0; i < n; ++i) children.begin[i + 1] += children.begin[i];
  children.child.resize(children.begin[n]);
  // Filled through `begin` itself (no copy of it: 4 bytes a node less at
  // the peak of a core's analysis): each node's entry moves on to its end,
  // which is the next node's beginning, so one shift puts them back.
  for (NodeIndex node : tree.preorder) {
    if (node != kSuperRoot) children.child[children.begin[tree.idom[node]]++] = node;
  }
  for (std::size_t i = n; i > 0; --i) children.begin[i] = children.begin[i - 1];
  children.begin[0] = 0;
  return children;
}

}  // namespace heapscope
