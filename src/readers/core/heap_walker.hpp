#pragma once
// Internal to the glibc heap walk (malloc_*.cpp): the state shared by its
// steps. Not for use outside src/readers/core/.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "readers/core/glibc_layout.hpp"
#include "readers/core/malloc_heap.hpp"

namespace heapscope::readers::core {

// A malloc_state read out of the core.
struct ArenaState {
  std::uint64_t address = 0;
  std::array<std::uint64_t, glibc::kArenaSize / 8> words{};
  std::uint64_t word(std::uint64_t offset) const { return words[offset / 8]; }
  std::uint32_t flags() const { return static_cast<std::uint32_t>(words[0] >> 32); }
  std::uint64_t top() const { return word(glibc::kArenaTop); }
  std::uint64_t next() const { return word(glibc::kArenaNext); }
  std::uint64_t system_mem() const { return word(glibc::kArenaSystemMem); }
  std::uint64_t fastbin(std::uint64_t i) const { return word(glibc::kArenaFastbins + 8 * i); }
  std::uint64_t bin_fd(std::uint64_t i) const { return word(glibc::kArenaBins + (i - 1) * 16); }
  std::uint64_t bin_bk(std::uint64_t i) const { return word(glibc::kArenaBins + (i - 1) * 16 + 8); }
};

enum class LinkMode : std::uint8_t { Unknown, Mangled, Raw };

class HeapWalker {
 public:
  HeapWalker(const CoreImage& image, MallocHeap& out) : image_(image), out_(out) {}
  void run();

  // malloc_arena.cpp
  std::uint64_t find_main_arena();
  bool read_arena(std::uint64_t address, ArenaState& state) const;
  bool plausible_arena(const ArenaState& state, bool strict) const;
  bool arena_list_closes(std::uint64_t address) const;
  void walk_main_heap(const ArenaState& arena);
  void walk_thread_heaps(const ArenaState& arena);
  // Walks chunks from start; stops at `top` (or at limit / a fencepost when
  // top is 0). Returns true when it ended where it should.
  bool walk_chunks(std::uint64_t start, std::uint64_t limit, std::uint64_t top, ArenaInfo& info);

  // malloc_lists.cpp
  void find_tcaches();
  void walk_fastbins(const ArenaState& arena);
  void walk_bins(const ArenaState& arena);
  void remove_listed_free();

  // malloc_heap.cpp
  void find_mmapped_chunks();
  void issue(std::uint64_t address, std::string problem);
  bool owned_by_heap(std::uint64_t address) const;

  std::optional<std::uint64_t> word(std::uint64_t address) const { return image_.u64(address); }
  // Index of the (boundary-tag) in-use chunk at chunk address, if any.
  std::optional<std::size_t> in_use_chunk(std::uint64_t chunk) const;
  std::optional<std::size_t> free_chunk(std::uint64_t chunk) const;

  const CoreImage& image_;
  MallocHeap& out_;
  std::vector<ArenaState> arena_states_;
  std::vector<HeapRange> heap_ranges_;  // arena heaps (whole reserved areas)
  // Chunks found free through tcache/fastbins (chunk address, size, kind);
  // boundary tags still call them in use.
  std::vector<FreeChunk> listed_free_;
  LinkMode link_mode_ = LinkMode::Unknown;
  std::size_t issue_count_ = 0;
  std::size_t mmapped_start_ = 0;  // first mmapped entry in out_.allocations_
};

}  // namespace heapscope::readers::core
