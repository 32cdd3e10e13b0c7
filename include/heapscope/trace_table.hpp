#pragma once
// An allocation-site table: live allocations with their tracebacks and no
// references between them (tracemalloc dumps). The analysis of it mirrors
// Python's tracemalloc.Snapshot.statistics() / compare_to().
// (Filled in by the tracemalloc work, issue #5.)
#include <cstdint>
#include <string>
#include <vector>

namespace heapscope {

struct TraceTable {
  std::uint64_t trace_count = 0;
};

}  // namespace heapscope
