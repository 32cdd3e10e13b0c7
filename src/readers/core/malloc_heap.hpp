#pragma once
// The glibc malloc heap of a core: every arena, its heaps and chunks, the
// mmapped chunks, and which chunks are free (tcache, fastbins, unsorted,
// small and large bins). The result is the list of in-use allocations, the
// thing a leak finder and the CPython layer need; corruption found on the
// way is recorded and the walk continues where it can.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "readers/core/core_image.hpp"

namespace heapscope::readers::core {

// An in-use allocation: malloc returned `user`; malloc_usable_size is `usable`.
struct Allocation {
  std::uint64_t user = 0;
  std::uint64_t usable = 0;
  std::uint64_t end() const { return user + usable; }
};

enum class FreeKind : std::uint8_t { Tcache = 1, Fastbin, Unsorted, Small, Large, Unbinned };
const char* free_kind_name(FreeKind kind);

// A free chunk (chunk address, i.e. user - 16, and chunk size).
struct FreeChunk {
  std::uint64_t chunk = 0;
  std::uint64_t size = 0;
  FreeKind kind = FreeKind::Unbinned;
};

struct HeapRange {
  std::uint64_t start = 0;
  std::uint64_t end = 0;
};

struct ArenaInfo {
  std::uint64_t address = 0;
  bool is_main = false;
  std::uint64_t top = 0;
  std::uint64_t top_size = 0;
  std::uint64_t system_mem = 0;
  std::vector<HeapRange> heaps;  // chunk ranges walked
};

struct HeapIssue {
  std::uint64_t address = 0;
  std::string problem;
};

class MallocHeap {
 public:
  // Walks the heap of the process in `image`. Never throws on heap
  // contents: problems become issues(). A core without a glibc heap (no
  // main arena found) gives no allocations and one issue.
  static MallocHeap walk(const CoreImage& image);

  const std::vector<Allocation>& allocations() const { return allocations_; }  // sorted by user
  const std::vector<FreeChunk>& free_chunks() const { return free_; }          // sorted by chunk
  const std::vector<ArenaInfo>& arenas() const { return arenas_; }
  // Memory malloc owns (arena heaps, mmapped chunks, the arena structs): it
  // is walked as allocations, never scanned as a root. Sorted, disjoint.
  const std::vector<HeapRange>& owned() const { return owned_; }
  const std::vector<HeapIssue>& issues() const { return issues_; }
  // User addresses of the tcache_perthread_structs found (in use, internal).
  const std::vector<std::uint64_t>& tcache_structs() const { return tcache_structs_; }
  std::uint64_t main_arena() const { return main_arena_; }
  const std::string& main_arena_source() const { return main_arena_source_; }
  std::size_t mmapped_count() const { return mmapped_count_; }
  bool safe_linking() const { return safe_linking_; }

  // Index of the allocation whose [user, user + usable) holds address.
  std::optional<std::size_t> find(std::uint64_t address) const;

  // Drops the allocation list and the lookup index (after the graph is built).
  void release_allocations();

 private:
  friend class HeapWalker;
  void build_index();

  std::vector<Allocation> allocations_;
  std::vector<FreeChunk> free_;
  std::vector<ArenaInfo> arenas_;
  std::vector<HeapRange> owned_;
  std::vector<HeapIssue> issues_;
  std::vector<std::uint64_t> tcache_structs_;
  std::uint64_t main_arena_ = 0;
  std::string main_arena_source_;
  std::size_t mmapped_count_ = 0;
  bool safe_linking_ = true;

  // Lookup: spans of allocations that are contiguous in memory, each with a
  // per-page table of the first allocation index at or after the page.
  struct Span {
    std::uint64_t start = 0;
    std::uint64_t end = 0;
    std::uint32_t first = 0;        // allocation index range [first, last)
    std::uint32_t last = 0;
    std::uint32_t page_table = 0;   // offset into page_first_
  };
  std::vector<Span> spans_;
  std::vector<std::uint32_t> page_first_;
  std::uint64_t lowest_ = 0;
  std::uint64_t highest_ = 0;
};

}  // namespace heapscope::readers::core
