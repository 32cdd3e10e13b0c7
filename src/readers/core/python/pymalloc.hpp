#pragma once
// pymalloc's pools in a CPython 3.11-3.13 core: every block the allocator
// has handed out and not taken back. The Python graph scans these for
// objects nothing in the heap references (a str or bytes whose count a C
// extension leaked): such objects are in no gc list and no object points at
// them, so the walk from the gc lists cannot find them.
//
// The layout (Objects/obmalloc.c, 64-bit, 3.10+): 1 MiB arenas described by
// the `arenas` table (`struct arena_object`, 0x30 bytes: address,
// pool_address, nfreepools, ntotalpools, ...), carved into 16 KiB pools
// from the arena's first 16 KiB boundary up to pool_address. A pool's
// header (0x30 bytes) holds its count of used blocks, its free list, its
// arena index, its size class and the offset of its first never-used block.
// Nothing is trusted unchecked: a pool whose free list leaves the pool, or
// whose used-block count disagrees with its free list, is skipped and counted.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "readers/core/core_image.hpp"
#include "readers/core/python/cpython_layout.hpp"

namespace heapscope::readers::core::python {

struct PymallocScan {
  bool found = false;  // the arena table was found and read
  std::uint64_t arenas = 0;
  std::uint64_t pools = 0;        // pools with blocks in use
  std::uint64_t used_blocks = 0;
  std::uint64_t bad_pools = 0;    // skipped: header or free list inconsistent
  std::uint64_t missing_pools = 0;  // not in the core
};

// Calls visit(block address, block size) for every used block. Problems are
// appended to warnings (one line each kind, with counts).
PymallocScan for_each_pymalloc_block(const CoreImage& image, const CpythonRuntime& runtime,
                                     std::vector<std::string>& warnings,
                                     const std::function<void(std::uint64_t, std::uint32_t)>& visit);

}  // namespace heapscope::readers::core::python
