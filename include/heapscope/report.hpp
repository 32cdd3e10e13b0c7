#pragma once
// Plain report structs: the only thing the output writers see. Every string
// is resolved here, so writers need neither the graph nor the string table.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace heapscope {

// One object as reports show it.
struct ObjectView {
  std::uint64_t id = 0;
  std::string type;
  std::string name;  // optional label ("module __main__", "'abc'")
  std::uint64_t shallow_size = 0;
  std::uint64_t retained_size = 0;
  std::string alloc_site;  // allocation traceback, when the producer gave one
};

// One step of a reference chain: reached `object` over an edge named `edge`
// (for the first step, the edge is the root's name). A folded run of
// repeated steps has repeat > 0: "x repeat more `type` via edge".
struct ChainStep {
  std::string edge;
  bool weak = false;
  std::uint64_t id = 0;
  std::string type;
  std::string name;
  std::uint64_t repeat = 0;
};

struct Chain {
  std::string root_kind;       // kind of the root the chain starts at
  std::uint64_t length = 0;    // number of edges, unfolded, from the root object
  std::vector<ChainStep> steps;
};

struct Summary {
  std::string path;
  std::string format;
  std::uint64_t objects = 0;
  std::uint64_t edges = 0;  // object edges, without the virtual root's
  std::uint64_t weak_edges = 0;
  std::uint64_t roots = 0;
  std::uint64_t total_shallow_size = 0;
  std::uint64_t reachable_objects = 0;
  std::uint64_t reachable_size = 0;
  std::uint64_t unreachable_objects = 0;
  std::uint64_t unreachable_size = 0;
  std::uint64_t dropped_dangling_refs = 0;
  std::uint64_t dropped_dangling_roots = 0;
};

struct RetainerRow {
  ObjectView object;
  double percent_of_reachable = 0;
  Chain chain;
};

struct TypeRow {
  std::string type;
  std::uint64_t count = 0;
  std::uint64_t shallow_size = 0;
  std::uint64_t retained_size = 0;  // counted only for objects no same-type object dominates
};

// What accumulates under an accumulation point, grouped by type.
struct AccumulatedType {
  std::string type;
  std::uint64_t count = 0;
  std::uint64_t retained_size = 0;
};

struct SuspectRow {
  ObjectView suspect;             // topmost object of the dominating subtree
  ObjectView accumulation_point;  // where the 80% descent stopped
  double percent_of_reachable = 0;
  Chain chain;                    // to the accumulation point
  std::vector<AccumulatedType> accumulated;  // dominated children, by type, biggest first
  std::string description;        // one human sentence
};

// Unreachable objects (garbage or leaks, depending on the producer), grouped.
struct LeakGroup {
  std::string type;
  std::uint64_t count = 0;
  std::uint64_t shallow_size = 0;
  std::uint64_t unreferenced = 0;  // how many of them nothing references (leak heads)
};

struct LeakedSection {
  // What being unreachable means for this producer, from the graph's
  // `unreachable_means` meta: "cyclic-garbage" (a reference-counting runtime:
  // only reference cycles outlive their last reference), "leaked" (a native
  // heap: allocations nothing points at), or "unknown".
  std::string meaning = "unknown";
  std::uint64_t objects = 0;
  std::uint64_t size = 0;
  std::uint64_t unreferenced_objects = 0;
  std::vector<LeakGroup> groups;    // the biggest `top` groups
  std::uint64_t groups_total = 0;
  std::vector<ObjectView> heads;  // unreferenced unreachable objects, biggest subtree first
};

// Roots of kind "external": objects whose reference count exceeds the
// references found to them in the heap, and that nothing else reaches (held
// by C code, or a leaked count: reference-count leak suspects).
struct ExternalRoot {
  ObjectView object;  // retained_size: what the root alone keeps alive
  std::string root_name;  // "external (1 unseen reference) __main__.Leaked"
};

struct ExternalSection {
  bool checked = false;  // the producer compares reference counts (a refcounting runtime)
  std::uint64_t objects = 0;
  std::uint64_t retained_size = 0;  // what they keep alive together
  std::vector<AccumulatedType> groups;  // by type, biggest retained first (`top`)
  std::uint64_t groups_total = 0;
  std::vector<ExternalRoot> biggest;  // biggest retained first (`leaked_heads`)
};

struct AnalyzeReport {
  Summary summary;
  std::vector<RetainerRow> top_retainers;
  std::vector<TypeRow> types;        // the biggest `top` types
  std::uint64_t types_total = 0;     // how many types there are in all
  std::vector<SuspectRow> suspects;
  ExternalSection external;
  LeakedSection leaked;
  double suspect_threshold = 0.10;
  std::vector<std::string> warnings;
};

// Views into the graph's string table: a dominators listing can have
// millions of rows, so it does not copy the type names.
struct DominatorRow {
  std::uint64_t id = 0;
  std::string_view type;
  std::uint64_t shallow_size = 0;
  std::uint64_t retained_size = 0;
  std::uint64_t idom = 0;  // 0 when only the virtual super-root dominates
};

struct PathsEntry {
  ObjectView target;
  bool reachable = true;
  bool truncated = false;  // search budget ran out before K chains were found
  std::vector<Chain> chains;
};

struct PathsReport {
  std::string path;
  std::vector<PathsEntry> entries;
};

struct InfoReport {
  Summary summary;
  std::string compression;
  std::uint64_t file_size = 0;
  std::vector<std::pair<std::string, std::string>> meta;
  std::vector<std::string> warnings;
  std::uint64_t trace_count = 0;  // allocation tables
};

// `diff` of heap graphs (diff.hpp).
struct TypeFigures {
  std::uint64_t count = 0;
  std::uint64_t shallow_size = 0;
  std::uint64_t retained_size = 0;
};

struct TypeDiffRow {
  std::string type;
  TypeFigures before;  // first snapshot
  TypeFigures after;   // last snapshot
  std::int64_t count_delta = 0;
  std::int64_t shallow_delta = 0;
  std::int64_t retained_delta = 0;
};

// New objects that survived, grouped under their nearest dominator that is
// not new itself (the place where they accumulated).
struct GrowthGroup {
  ObjectView anchor;          // in the last snapshot; id 0 and type "(roots)" for the roots themselves
  bool anchor_is_roots = false;
  std::uint64_t objects = 0;  // new objects in the group
  std::uint64_t size = 0;     // their shallow sizes
  std::vector<AccumulatedType> types;  // by type, biggest first (retained_size = shallow sum here)
  Chain chain;                // root to anchor, in the last snapshot
};

struct GrownRetainer {
  ObjectView object;  // in the last snapshot
  std::uint64_t before_retained = 0;
  std::int64_t retained_delta = 0;
  Chain chain;
};

struct DiffReport {
  std::string mode;  // "before-after" or "baseline-target-final"
  std::vector<Summary> snapshots;
  std::int64_t reachable_growth = 0;  // last reachable size - first reachable size
  std::uint64_t matched_objects = 0;  // last snapshot objects matched in the one before it
  std::uint64_t ids_reused = 0;       // same id, another type or site: not the same object
  std::uint64_t new_objects = 0;      // surviving (reachable) new objects, or leak candidates
  std::uint64_t new_size = 0;
  std::vector<GrowthGroup> groups;    // top `top`, biggest first
  std::uint64_t groups_total = 0;
  std::vector<TypeDiffRow> types;     // changed types, top `top` by the sort key
  std::uint64_t types_changed = 0;
  std::string sort;
  std::vector<GrownRetainer> grown_retainers;
  // --fail-on-growth, when given.
  std::string gate_threshold;
  bool gate_tripped = false;
};

}  // namespace heapscope
