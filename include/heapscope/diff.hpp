#pragma once
// Comparing heap graphs of one process taken at different times: what grew,
// which new objects survived, where they accumulated, and the chain from a
// root to that place.
//
// Identity across snapshots: object ids are addresses (or Python ids) and
// get reused, so an id alone does not prove identity. An object of the later
// graph matches one of the earlier graph when the id is the same AND the type
// is the same AND, when both graphs carry allocation sites for it, the site is
// the same. A freed object whose address was reused by an object of the same
// type (and site) still matches wrongly; that is the limit of offline
// snapshots (docs/diff.md).
#include <cstdint>
#include <string>
#include <vector>

#include "heapscope/analyze.hpp"
#include "heapscope/report.hpp"

namespace heapscope {

// For each node of `later`, the matching node of `earlier`, or kNoNode.
struct ObjectMatch {
  std::vector<NodeIndex> earlier_node;
  std::uint64_t matched = 0;
  std::uint64_t ids_reused = 0;  // same id, different type or site: counted as new
};
ObjectMatch match_objects(const HeapGraph& earlier, const HeapGraph& later);

enum class DiffSort { Retained, Shallow, Count };
DiffSort parse_diff_sort(const std::string& text);  // UsageError on anything else

struct DiffOptions {
  std::size_t top = 20;
  DiffSort sort = DiffSort::Retained;
  std::size_t types_per_group = 5;
};

// BEFORE AFTER, or BASELINE TARGET FINAL (memlab's three snapshots: the leak
// candidates are objects new in TARGET that FINAL still has).
DiffReport diff_graphs(const std::vector<const GraphAnalysis*>& snapshots, const std::vector<Summary>& summaries,
                       const DiffOptions& options);

}  // namespace heapscope
