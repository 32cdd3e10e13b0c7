#include "heapscope/big_vector.hpp"

#include <sys/mman.h>

#include <array>
#include <cstdint>
#include <mutex>
#include <new>

namespace heapscope::big_memory {
namespace {

constexpr std::size_t kHugePage = std::size_t{2} << 20;
constexpr std::size_t kSmallPage = std::size_t{4} << 10;

std::size_t round_up(std::size_t bytes, std::size_t unit) { return (bytes + unit - 1) / unit * unit; }

// A fresh mapping of `length` bytes (a multiple of 2 MiB), 2 MiB aligned.
void* map_fresh(std::size_t length) {
  // Map one huge page more than needed and trim both ends, so the block
  // starts on a 2 MiB boundary and every page of it can be a huge one.
  void* raw = mmap(nullptr, length + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) throw std::bad_alloc();
  const auto start = reinterpret_cast<std::uintptr_t>(raw);
  const std::uintptr_t aligned = round_up(start, kHugePage);
  const std::size_t head = aligned - start;
  if (head > 0) munmap(raw, head);
  const std::size_t tail = kHugePage - head;
  if (tail > 0) munmap(reinterpret_cast<void*>(aligned + length), tail);
  return reinterpret_cast<void*>(aligned);
}

// Blocks freed since the last map(), still resident, for map() to hand out
// again. Memory the kernel hands out is zeroed first, and on this machine
// zeroing was the analysis' biggest cost: in a 5M-node V8 analysis 43% of
// the CPU samples were the kernel clearing pages, and a fresh huge page
// can also wait for the kernel to compact memory (the walk's arrays took
// 6-160 ms to fault in, from one run to the next). Each map() takes a block
// that fits and unmaps every other one, so a freed block outlives at most
// the time until the next allocation: it never holds memory through a
// phase that allocates, and the process never holds more than it held just
// before the free.
class Recycler {
 public:
  // A cached block of at least `length` bytes, cut to `length`, or nullptr.
  // Unmaps the rest of the cache.
  void* take(std::size_t length) {
    std::lock_guard<std::mutex> lock(mutex_);
    void* found = nullptr;
    for (Block& block : blocks_) {
      if (block.p == nullptr) continue;
      if (found == nullptr && block.length >= length) {
        found = block.p;
        if (block.length > length) munmap(static_cast<char*>(block.p) + length, block.length - length);
      } else {
        munmap(block.p, block.length);
      }
      block = {};
    }
    return found;
  }
  // Unmaps every kept block.
  void release_all() {
    std::lock_guard<std::mutex> lock(mutex_);
    for (Block& block : blocks_) {
      if (block.p != nullptr) munmap(block.p, block.length);
      block = {};
    }
  }
  // Keeps a freed block (unmapping the oldest one when full).
  void put(void* p, std::size_t length) {
    std::lock_guard<std::mutex> lock(mutex_);
    Block& slot = blocks_[next_];
    if (slot.p != nullptr) munmap(slot.p, slot.length);
    slot = {p, length};
    next_ = (next_ + 1) % blocks_.size();
  }

 private:
  struct Block {
    void* p = nullptr;
    std::size_t length = 0;
  };
  std::mutex mutex_;
  std::array<Block, 4> blocks_{};
  std::size_t next_ = 0;
};

thread_local bool fresh_only = false;  // an AddressSpaceOnly lives on this thread

Recycler& recycler() {
  static Recycler* const instance = new Recycler;  // never destroyed: arrays may be freed during exit
  return *instance;
}

}  // namespace

void* map(std::size_t bytes) {
  const std::size_t length = round_up(bytes, kHugePage);
  if (length < bytes || length + kHugePage < length) throw std::bad_alloc();
  // Huge pages only for the whole huge pages of what was asked for: the
  // last, partial one stays in small pages, of which only those touched are
  // resident. (Asking for all of it made every array's tail a full 2 MiB
  // page: 13 MB of a 5M-node V8 analysis' peak, its 16 arrays' tails.)
  const std::size_t whole_pages = bytes / kHugePage * kHugePage;
  void* block = fresh_only ? nullptr : recycler().take(length);
  if (block != nullptr) {
    // A block used before may hold resident pages past these bytes, and
    // huge-page advice over the partial page: both undone.
    char* const base = static_cast<char*>(block);
    const std::size_t used = round_up(bytes, kSmallPage);
    if (used < length) madvise(base + used, length - used, MADV_DONTNEED);
#ifdef MADV_NOHUGEPAGE
    if (whole_pages < length) madvise(base + whole_pages, length - whole_pages, MADV_NOHUGEPAGE);
#endif
  } else {
    block = map_fresh(length);
  }
#ifdef MADV_HUGEPAGE
  // Advice only: without transparent huge pages the memory works the same.
  if (whole_pages > 0) madvise(block, whole_pages, MADV_HUGEPAGE);
#endif
  return block;
}

void unmap(void* p, std::size_t bytes) { recycler().put(p, round_up(bytes, kHugePage)); }

void release_freed() { recycler().release_all(); }

void discard(void* p, std::size_t bytes) {
  const auto begin = reinterpret_cast<std::uintptr_t>(p);
  const std::uintptr_t first = (begin + kSmallPage - 1) / kSmallPage * kSmallPage;
  const std::uintptr_t last = (begin + bytes) / kSmallPage * kSmallPage;
  if (last > first) madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED);
}

AddressSpaceOnly::AddressSpaceOnly() : outer_(fresh_only) { fresh_only = true; }
AddressSpaceOnly::~AddressSpaceOnly() { fresh_only = outer_; }

}  // namespace heapscope::big_memory
