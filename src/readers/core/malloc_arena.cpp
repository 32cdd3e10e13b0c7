// Finding the arenas and walking their heaps chunk by chunk.
#include <elf.h>

#include <algorithm>

#include "readers/core/heap_walker.hpp"

namespace heapscope::readers::core {

namespace {

using namespace glibc;

constexpr std::uint64_t kUserSpaceEnd = 1ull << 47;

bool aligned_pointer(std::uint64_t p, std::uint64_t alignment) {
  return p != 0 && p < kUserSpaceEnd && (p & (alignment - 1)) == 0;
}

// How many chunks a resync candidate must chain through to be believed.
constexpr int kResyncChain = 8;
constexpr std::uint64_t kResyncBudget = 1u << 22;

}  // namespace

bool HeapWalker::read_arena(std::uint64_t address, ArenaState& state) const {
  state.address = address;
  return image_.read(address, state.words.data(), kArenaSize);
}

// A malloc_state is recognisable by its bins: an empty bin points to itself
// (fd == bk == bin_at(i)), a non-empty one holds two chunk pointers.
// Strict, for a scan with no symbol to go by, also asks of a non-empty bin
// that its first and last chunks link back to it, and that the arena list
// (`next`) comes back to the candidate: the bins alone also fit a
// candidate 16 bytes off the real arena (each of its bins is the real
// one's neighbour), and a busy heap (PYTHONMALLOC=malloc) may have no
// empty bin at all, which the scan used to require 32 of.
bool HeapWalker::plausible_arena(const ArenaState& a, bool strict) const {
  const std::uint64_t mutex = a.words[0] & 0xffffffffu;
  if (mutex > 2 || (a.flags() & ~7u) != 0) return false;
  if (!aligned_pointer(a.top(), kAlignment)) return false;
  if (!aligned_pointer(a.next(), 8)) return false;
  if (a.system_mem() == 0 || a.system_mem() >= kUserSpaceEnd) return false;
  for (std::uint64_t i = 1; i < kBinCount; ++i) {
    const std::uint64_t self = bin_at(a.address, i);
    const std::uint64_t fd = a.bin_fd(i), bk = a.bin_bk(i);
    if (fd == self && bk == self) continue;
    if (!aligned_pointer(fd, kAlignment) || !aligned_pointer(bk, kAlignment)) return false;
    // A chunk's fd is its word 2, its bk word 3.
    if (strict && (word(fd + 24) != std::optional<std::uint64_t>(self) || word(bk + 16) != std::optional<std::uint64_t>(self))) {
      return false;
    }
  }
  for (std::uint64_t i = 0; i < kFastbinCount; ++i) {
    if (a.fastbin(i) != 0 && !aligned_pointer(a.fastbin(i), kAlignment)) return false;
  }
  return !strict || arena_list_closes(a.address);
}

// Whether following `next` from the arena at `address` comes back to it.
bool HeapWalker::arena_list_closes(std::uint64_t address) const {
  constexpr int kMaxArenas = 1024;
  std::uint64_t arena = address;
  for (int i = 0; i < kMaxArenas; ++i) {
    const auto next = word(arena + kArenaNext);
    if (!next || !aligned_pointer(*next, 8)) return false;
    if (*next == address) return true;
    arena = *next;
  }
  return false;
}

// main_arena is a file-static of libc: in .symtab only, which distro builds
// strip. Use the symbol when some module has it; otherwise scan the
// writable data of libc (then of every module: static executables) for the
// one structure whose bins are self-consistent.
std::uint64_t HeapWalker::find_main_arena() {
  ArenaState state;
  if (auto hit = image_.find_symbol("main_arena")) {
    if (read_arena(hit->address, state) && plausible_arena(state, false)) {
      out_.main_arena_source_ = "symbol main_arena in " + hit->module->name;
      return hit->address;
    }
    issue(hit->address, "symbol main_arena does not look like a malloc_state; scanning instead");
  }
  std::vector<const Module*> order;
  for (const Module& m : image_.modules()) {
    if (m.name.rfind("libc.so", 0) == 0 || m.name.rfind("libc-", 0) == 0) order.push_back(&m);
  }
  for (const Module& m : image_.modules()) {
    if (std::find(order.begin(), order.end(), &m) == order.end()) order.push_back(&m);
  }
  for (const Module* m : order) {
    for (const ElfSegment& s : m->segments) {
      if (s.type != PT_LOAD || (s.flags & PF_W) == 0) continue;
      const std::uint64_t begin = m->bias + s.vaddr, end = begin + s.memsz;
      for (std::uint64_t a = align_up(begin, 8); a + kArenaSize <= end; a += 8) {
        const std::uint8_t* p = image_.pointer(a, kArenaSize);
        if (!p) continue;
        // Cheap filter first: the unsorted bin, empty or two chunk pointers.
        const std::uint64_t fd = load_u64(p + kArenaBins), bk = load_u64(p + kArenaBins + 8);
        const std::uint64_t self = bin_at(a, 1);
        if (!((fd == self && bk == self) || (aligned_pointer(fd, 16) && aligned_pointer(bk, 16)))) continue;
        if (!read_arena(a, state) || !plausible_arena(state, true)) continue;
        out_.main_arena_source_ = "signature scan of " + m->name + " writable data (no main_arena symbol)";
        return a;
      }
    }
  }
  return 0;
}

// Is the chain of chunks from q believable (kResyncChain sane chunks, or a
// clean end at top/limit)?
static bool chain_ok(const HeapWalker& w, std::uint64_t q, std::uint64_t limit, std::uint64_t top) {
  for (int i = 0; i < kResyncChain; ++i) {
    if (q == top || q == limit) return true;
    const auto field = w.word(q + 8);
    if (!field) return false;
    const std::uint64_t size = *field & ~kFlagMask;
    if (top == 0 && size == kChunkHeader) return true;  // fencepost
    if (size < kMinChunk || (size & (kAlignment - 1)) || size > (top ? top : limit) - q) return false;
    q += size;
  }
  return true;
}

bool HeapWalker::walk_chunks(std::uint64_t start, std::uint64_t limit, std::uint64_t top, ArenaInfo& info) {
  const std::uint64_t end = top ? top : limit;
  std::uint64_t p = start;
  std::uint64_t budget = kResyncBudget;
  info.heaps.push_back({start, end});
  while (true) {
    if (p == end) return true;
    if (p > end) {
      issue(p, "chunk walk ran past the end of the heap at " + hex(end));
      return false;
    }
    const auto field = word(p + 8);
    if (!field) {
      issue(p, "heap bytes missing from the core");
      return false;
    }
    const std::uint64_t size = *field & ~kFlagMask;
    if (top == 0 && (size == kChunkHeader || size == 0)) return true;  // fencepost closing a non-top heap
    if (size < kMinChunk || (size & (kAlignment - 1)) || size > end - p) {
      issue(p, "chunk with bad size " + hex(*field));
      // Resync: the next 16-aligned address from which chunks chain cleanly.
      std::uint64_t q = p + kAlignment;
      while (q < end && budget > 0 && !chain_ok(*this, q, limit, top)) {
        q += kAlignment;
        --budget;
      }
      if (q >= end || budget == 0) {
        issue(p, "could not resynchronise; rest of this heap (" + hex(end - p) + " bytes) skipped");
        return false;
      }
      issue(p, "skipped " + hex(q - p) + " unparsable bytes up to " + hex(q));
      p = q;
      continue;
    }
    const std::uint64_t next = p + size;
    bool in_use = true;
    if (next < end || top != 0) {
      const auto next_field = word(next + 8);
      if (!next_field) {
        issue(next, "heap bytes missing from the core");
        return false;
      }
      in_use = (*next_field & kPrevInUse) != 0;
      if (!in_use) {
        const auto foot = word(next);
        if (foot && *foot != size) issue(p, "free chunk's size " + hex(size) + " differs from its footer " + hex(*foot));
      }
    }
    if (in_use) {
      out_.allocations_.push_back({p + kChunkHeader, size - kSizeSz});
    } else {
      out_.free_.push_back({p, size, FreeKind::Unbinned});
    }
    p = next;
  }
}

void HeapWalker::walk_main_heap(const ArenaState& arena) {
  ArenaInfo info;
  info.address = arena.address;
  info.is_main = true;
  info.top = arena.top();
  info.system_mem = arena.system_mem();
  const auto top_field = word(info.top + 8);
  if (!top_field) {
    issue(info.top, "main arena's top chunk is not in the core");
    out_.arenas_.push_back(std::move(info));
    return;
  }
  info.top_size = *top_field & ~kFlagMask;
  const std::uint64_t top_end = info.top + info.top_size;
  if (arena.flags() & kNonContiguous) {
    issue(arena.address, "main arena is non-contiguous (sbrk failed, mmap used): only the part around top is walked");
  }
  // The main heap is [sbrk_base, top end) and system_mem is its length,
  // unless someone else moved the break: then fall back on the start of
  // the mapping that holds top.
  std::uint64_t start = top_end - info.system_mem;
  if (info.system_mem > top_end || start > info.top || !chain_ok(*this, start, top_end, info.top)) {
    const Region* r = image_.region_at(info.top);
    const std::uint64_t alternative = r ? r->start : info.top;
    issue(start, "main heap start from system_mem is not a chunk; using " + hex(alternative));
    start = alternative;
  }
  walk_chunks(start, top_end, info.top, info);
  heap_ranges_.push_back({start, top_end});
  out_.arenas_.push_back(std::move(info));
}

void HeapWalker::walk_thread_heaps(const ArenaState& arena) {
  ArenaInfo info;
  info.address = arena.address;
  info.top = arena.top();
  info.system_mem = arena.system_mem();
  if (auto f = word(info.top + 8)) info.top_size = *f & ~kFlagMask;
  // HEAP_MAX_SIZE is 64 MiB unless huge-page tunables changed it.
  std::uint64_t heap_max = 0;
  for (std::uint64_t candidate : {kHeapMaxSize, std::uint64_t{8} << 20, std::uint64_t{128} << 20, std::uint64_t{4} << 30}) {
    const auto owner = word(info.top & ~(candidate - 1));
    if (owner && *owner == arena.address) {
      heap_max = candidate;
      break;
    }
  }
  if (heap_max == 0) {
    issue(arena.address, "no heap_info found for the thread arena's top chunk " + hex(info.top));
    out_.arenas_.push_back(std::move(info));
    return;
  }
  // The heaps, newest first through heap_info.prev; the oldest holds the arena.
  std::vector<std::uint64_t> heaps;
  for (std::uint64_t h = info.top & ~(heap_max - 1); h != 0 && heaps.size() < 100000;) {
    const auto owner = word(h + kHeapInfoArena);
    const auto prev = word(h + kHeapInfoPrev);
    if (!owner || *owner != arena.address || !prev) {
      issue(h, "heap_info does not belong to arena " + hex(arena.address));
      break;
    }
    heaps.push_back(h);
    h = *prev;
  }
  if (heaps.empty()) {
    out_.arenas_.push_back(std::move(info));
    return;
  }
  const std::uint64_t first = heaps.back();
  std::uint64_t header = arena.address - first;  // sizeof(heap_info): 32 before 2.35, 48 since
  if (arena.address < first || header > 64 || (header & 15) != 0) {
    issue(first, "oldest heap does not hold its arena; assuming a 48-byte heap_info");
    header = 48;
  }
  std::reverse(heaps.begin(), heaps.end());
  for (std::uint64_t h : heaps) {
    const auto size = word(h + kHeapInfoSize);
    if (!size || *size > heap_max || *size < 4096) {
      issue(h, "heap_info.size is implausible");
      continue;
    }
    const std::uint64_t limit = h + *size;
    const bool holds_top = info.top >= h && info.top < limit;
    const std::uint64_t start = h == first ? align_up(arena.address + kArenaSize, kAlignment) : h + header;
    walk_chunks(start, limit, holds_top ? info.top : 0, info);
    heap_ranges_.push_back({h, h + heap_max});
  }
  out_.arenas_.push_back(std::move(info));
}

}  // namespace heapscope::readers::core
