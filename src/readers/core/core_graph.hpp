#pragma once
// The heap graph of a native process from its core: one node per in-use
// malloc allocation (id = the address malloc returned), an edge wherever an
// aligned word inside one allocation points into another (interior
// pointers included), and roots from thread registers, thread stacks and
// TLS, the writable data of the executable and libraries, and the other
// anonymous writable mappings. Conservative, like any scan of untyped
// memory: a word that happens to look like a pointer keeps its target
// alive; nothing reachable is ever called leaked.
#include <functional>
#include <string>
#include <vector>

#include "heapscope/heap_graph.hpp"
#include "readers/core/core_image.hpp"
#include "readers/core/malloc_heap.hpp"

namespace heapscope::readers::core {

struct CoreGraphStats {
  std::uint64_t roots = 0;
  std::uint64_t edges = 0;
  std::uint64_t vtable_typed = 0;
  std::uint64_t unreadable_allocations = 0;
};

// Tells the core's file that the bytes in [from, to) have been read and
// need not stay in memory (InputFile::release_pages; they are read back
// from the file if asked for again).
using ReleaseScanned = std::function<void(const std::uint8_t* from, const std::uint8_t* to)>;

// Builds the graph; releases heap's allocation list on the way (it is not
// needed once the nodes are in the builder), and the core's pages behind
// the scan of the allocations through `release` when one is given.
// Warnings are appended.
HeapGraph build_core_graph(const CoreImage& image, MallocHeap& heap, std::vector<std::string>& warnings,
                           CoreGraphStats* stats = nullptr, const ReleaseScanned& release = {});

// "malloc[24]"-style type of an allocation without a recognised class.
std::string size_class_type(std::uint64_t usable);
// "Foo" for "_ZTV3Foo"; "" when the name does not demangle to a vtable.
std::string vtable_class(std::string_view symbol);
// Demangled C++ name, or the name itself.
std::string demangle(std::string_view symbol);

}  // namespace heapscope::readers::core
