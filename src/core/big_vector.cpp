#include "heapscope/big_vector.hpp"

#include <sys/mman.h>

#include <cstdint>
#include <new>

namespace heapscope::big_memory {
namespace {

constexpr std::size_t kHugePage = std::size_t{2} << 20;

std::size_t round_up(std::size_t bytes, std::size_t unit) { return (bytes + unit - 1) / unit * unit; }

}  // namespace

void* map(std::size_t bytes) {
  const std::size_t length = round_up(bytes, kHugePage);
  if (length < bytes || length + kHugePage < length) throw std::bad_alloc();
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
#ifdef MADV_HUGEPAGE
  // Advice only: without transparent huge pages the memory works the same.
  // Only the whole huge pages of what was asked for: the last, partial one
  // stays in small pages, of which only those touched are resident. (Asking
  // for all of it made every array's tail a full 2 MiB page: 13 MB of a
  // 5M-node V8 analysis' peak, its 16 arrays' tails.)
  const std::size_t whole_pages = bytes / kHugePage * kHugePage;
  if (whole_pages > 0) madvise(reinterpret_cast<void*>(aligned), whole_pages, MADV_HUGEPAGE);
#endif
  return reinterpret_cast<void*>(aligned);
}

void unmap(void* p, std::size_t bytes) { munmap(p, round_up(bytes, kHugePage)); }

}  // namespace heapscope::big_memory
