#pragma once
// The Python object graph of a CPython 3.11-3.13 process, from its core.
//
// Objects: every gc-tracked object in the interpreter's generation lists
// (and the permanent generation), plus every object they, the modules and
// the threads' frames reference (str, int, float, untracked tuples and
// dicts...), each validated (aligned, readable, a live type) before it is
// taken; then the objects in pymalloc's used blocks (pymalloc.hpp) and in
// glibc's in-use chunks that nothing references, which only C code holds. References follow the real layouts for dict (combined and split
// tables), list, tuple, set, cell, module, type and instance attributes
// (managed dicts and inline values); other objects are scanned word by word
// inside their tp_basicsize for pointers to valid objects. The gc's own list
// links are never references.
//
// Roots: each module of sys.modules ("module app.cache"), the builtins and
// sys dicts, each thread's frames with their locals named. Then CPython's
// collector logic, offline: an object whose reference count exceeds the
// references found to it, and that no root reaches, is a root of kind
// "external" (held by C code or a leaked count); 3.12+ immortal objects no
// root reaches are roots of kind "immortal"; what is left unreachable is
// cyclic garbage.
#include <span>
#include <string>
#include <vector>

#include "heapscope/heap_graph.hpp"
#include "readers/core/core_image.hpp"
#include "readers/core/malloc_heap.hpp"
#include "readers/core/python/cpython_layout.hpp"

namespace heapscope::readers::core::python {

struct PythonGraphStats {
  std::uint64_t gc_tracked = 0;
  std::uint64_t untracked = 0;
  std::uint64_t frames = 0;
  std::uint64_t external_roots = 0;   // reference-count leak suspects
  std::uint64_t immortal_roots = 0;
  std::uint64_t bad_pointers = 0;     // referents that did not validate as objects
  bool pymalloc_scanned = false;      // pymalloc's arenas were found and read
  std::uint64_t pymalloc_blocks = 0;  // used blocks in them
  std::uint64_t malloc_chunks = 0;    // glibc in-use chunks scanned
  std::uint64_t found_in_blocks = 0;  // objects no other object references, found in those allocations
};

// malloc_chunks: glibc's in-use chunks (MallocHeap), scanned for objects
// nothing references, as pymalloc's blocks are.
HeapGraph build_python_graph(const CoreImage& image, const CpythonRuntime& runtime,
                             std::span<const Allocation> malloc_chunks, std::vector<std::string>& warnings,
                             PythonGraphStats* stats = nullptr);

}  // namespace heapscope::readers::core::python
