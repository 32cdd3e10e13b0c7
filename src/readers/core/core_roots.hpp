#pragma once
// Internal to the core graph: where the roots of a native process are and
// what they are called.
#include "heapscope/heap_graph.hpp"
#include "readers/core/core_graph.hpp"

namespace heapscope::readers::core {

// Adds one root per word (or register) that points into an allocation.
// Targets are allocation ordinals (TargetNaming::ByOrdinal).
void add_core_roots(const CoreImage& image, const MallocHeap& heap, GraphBuilder& builder, CoreGraphStats& stats);

}  // namespace heapscope::readers::core
