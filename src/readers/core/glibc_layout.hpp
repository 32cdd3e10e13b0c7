#pragma once
// glibc malloc on x86-64, 2.31 .. 2.36 (checked on 2.36 cores here):
// the layouts and constants the heap walk relies on. One place, so a new
// glibc needs changes here only.
#include <cstdint>

namespace heapscope::readers::core::glibc {

// Chunk header: prev_size, size | flags; user memory starts 16 bytes in.
inline constexpr std::uint64_t kChunkHeader = 16;
inline constexpr std::uint64_t kSizeSz = 8;
inline constexpr std::uint64_t kMinChunk = 32;
inline constexpr std::uint64_t kAlignment = 16;
inline constexpr std::uint64_t kPrevInUse = 1;
inline constexpr std::uint64_t kIsMmapped = 2;
inline constexpr std::uint64_t kNonMainArena = 4;
inline constexpr std::uint64_t kFlagMask = 7;

// struct malloc_state (2.27+: have_fastchunks before fastbinsY).
inline constexpr std::uint64_t kArenaFlags = 0x4;
inline constexpr std::uint64_t kArenaFastbins = 0x10;  // mfastbinptr fastbinsY[10]
inline constexpr std::uint64_t kFastbinCount = 10;
inline constexpr std::uint64_t kArenaTop = 0x60;
inline constexpr std::uint64_t kArenaLastRemainder = 0x68;
inline constexpr std::uint64_t kArenaBins = 0x70;  // mchunkptr bins[254]: fd/bk pairs of bins 1..127
inline constexpr std::uint64_t kBinCount = 127;    // bin 1 unsorted, 2..63 small, 64..126 large
inline constexpr std::uint64_t kArenaNext = 0x870;
inline constexpr std::uint64_t kArenaNextFree = 0x878;
inline constexpr std::uint64_t kArenaAttachedThreads = 0x880;
inline constexpr std::uint64_t kArenaSystemMem = 0x888;
inline constexpr std::uint64_t kArenaSize = 0x898;
inline constexpr std::uint64_t kNonContiguous = 2;  // malloc_state.flags bit

// The fake chunk bin_at(i) whose fd/bk are bins[2(i-1)], bins[2(i-1)+1].
inline constexpr std::uint64_t bin_at(std::uint64_t arena, std::uint64_t i) {
  return arena + kArenaBins + (i - 1) * 16 - 16;
}

// Thread arenas live in heaps aligned to HEAP_MAX_SIZE (64 MiB on 64-bit;
// larger with huge-page tunables). struct heap_info starts each heap:
// ar_ptr, prev, size, mprotect_size[, pagesize (2.35+)], padded to 16.
inline constexpr std::uint64_t kHeapMaxSize = 64ull << 20;
inline constexpr std::uint64_t kHeapInfoArena = 0x0;
inline constexpr std::uint64_t kHeapInfoPrev = 0x8;
inline constexpr std::uint64_t kHeapInfoSize = 0x10;

// tcache_perthread_struct (2.30+): uint16_t counts[64]; tcache_entry *entries[64].
inline constexpr std::uint64_t kTcacheBins = 64;
inline constexpr std::uint64_t kTcacheStructSize = 0x280;
inline constexpr std::uint64_t kTcacheChunkSize = 0x290;
inline constexpr std::uint64_t kTcacheEntries = 0x80;

// Safe-linking (2.32+): a stored next pointer is (address of the field >> 12) ^ pointer.
inline constexpr std::uint64_t reveal(std::uint64_t field_address, std::uint64_t stored) {
  return (field_address >> 12) ^ stored;
}

}  // namespace heapscope::readers::core::glibc
