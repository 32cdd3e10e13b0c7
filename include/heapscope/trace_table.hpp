#pragma once
// An allocation-site table: live allocations with their tracebacks and no
// references between them (tracemalloc dumps). The analysis of it mirrors
// Python's tracemalloc.Snapshot.statistics() / compare_to() (trace_stats.hpp).
//
// Memory: tracebacks are interned (a dump of 1M traces usually has a few
// thousand distinct ones), so a trace costs 18 bytes: size, domain,
// traceback id and total_nframe, in parallel arrays.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace heapscope {

// One (filename, lineno) pair. Frames are interned: equal pairs share an id.
struct TraceFrame {
  std::uint32_t filename = 0;  // index into TraceTable::filenames
  std::uint32_t lineno = 0;
  friend bool operator==(const TraceFrame&, const TraceFrame&) = default;
};

// Which way Python's Traceback class orders a trace's frames. The dump always
// holds them most recent first; CPython 3.7+ reverses them (Traceback[0] and
// str(Traceback) are then the oldest frame), 3.6 does not.
enum class TracebackOrder : std::uint8_t { OldestFirst, MostRecentFirst };

struct TraceTable {
  // Distinct filenames (UTF-8; surrogates as CPython's surrogatepass writes them).
  std::vector<std::string> filenames;
  // Distinct frames.
  std::vector<TraceFrame> frames;
  // Distinct tracebacks (by frames; total_nframe is per trace), CSR:
  // traceback t's frame ids are traceback_frames[traceback_offsets[t] ..
  // traceback_offsets[t + 1]), most recent first as in the dump. Never empty.
  std::vector<std::uint32_t> traceback_offsets{0};
  std::vector<std::uint32_t> traceback_frames;

  // Per trace, in dump order.
  std::vector<std::uint64_t> sizes;
  std::vector<std::uint32_t> domains;
  std::vector<std::uint32_t> tracebacks;     // traceback id of each trace
  std::vector<std::uint16_t> total_nframes;  // empty when the traces have no total_nframe (<= 3.8)

  // What the dump says about itself.
  int pickle_protocol = 0;
  int trace_arity = 0;  // 3 (CPython <= 3.8) or 4 (3.9+); 0 when there are no traces
  bool has_traceback_limit = false;
  std::uint64_t traceback_limit = 0;
  TracebackOrder order = TracebackOrder::OldestFirst;
  // "3.6", "3.7", "3.8", "3.9+", "3.6 or 3.7", "3.8+", ...: the CPython
  // generation the dump fits, and whether the traceback order had to be
  // assumed (3.6 and 3.7 dumps cannot be told apart).
  std::string python_generation;
  bool order_assumed = false;

  std::size_t trace_count() const { return sizes.size(); }
  std::size_t traceback_count() const { return traceback_offsets.size() - 1; }
  // Frame ids of traceback t, most recent first.
  std::span<const std::uint32_t> traceback(std::uint32_t t) const {
    return {traceback_frames.data() + traceback_offsets[t], traceback_offsets[t + 1] - traceback_offsets[t]};
  }
  const TraceFrame& frame(std::uint32_t id) const { return frames[id]; }
  const std::string& filename(std::uint32_t id) const { return filenames[id]; }
};

}  // namespace heapscope
