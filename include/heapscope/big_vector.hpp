#pragma once
// BigVector: std::vector for the per-node and per-edge arrays of a heap.
//
// Graph walks (the dominator DFS, the BFS for chains) read these arrays at
// random. With 4 KiB pages nearly every such read also misses the TLB, and
// in a virtual machine a TLB miss walks two page tables. Arrays of 4 MiB or
// more are therefore mapped directly, 2 MiB aligned, and marked for
// transparent huge pages before they are first touched (the kernel's usual
// setting, "madvise", gives huge pages only to memory that asks). Measured
// on a 2M-node graph here: the DFS 1.20 s -> 0.70 s, the semi-dominator pass
// 0.66 s -> 0.43 s, one BFS 0.35 s -> 0.24 s. A freed array is kept only
// until the next one is mapped, which reuses it when it fits (its pages are
// already resident, so the kernel need not zero them again) and returns the
// rest to the system, which keeps the peak down between phases (see
// Recycler in big_vector.cpp). Smaller arrays use the ordinary allocator.
#include <cstddef>
#include <memory>
#include <vector>

namespace heapscope {

namespace big_memory {
inline constexpr std::size_t kDirectMapBytes = std::size_t{4} << 20;
// Maps `bytes` (>= kDirectMapBytes) of memory, 2 MiB aligned, huge pages
// asked for: a block freed since the last call (not zeroed: std::vector
// value-initialises what it sizes) or a fresh one. Throws std::bad_alloc.
void* map(std::size_t bytes);
void unmap(void* p, std::size_t bytes);
// Unmaps the freed blocks kept for the next map(): for a caller that frees
// a big array just before a phase that holds much and allocates little.
void release_freed();
// Hands the whole pages inside [p, p + bytes) of an array back to the
// system, for a caller that has read them for the last time (they read as
// zeros after): an array converted into another one piece by piece then
// never exists twice over.
void discard(void* p, std::size_t bytes);

// While one of these lives, map() on this thread takes fresh memory, never
// a freed block: for reservations far bigger than what will be used (a
// DFS stack reserved for every edge), whose untouched part must stay
// address space only, where a reused block is resident throughout.
class AddressSpaceOnly {
 public:
  AddressSpaceOnly();
  ~AddressSpaceOnly();
  AddressSpaceOnly(const AddressSpaceOnly&) = delete;
  AddressSpaceOnly& operator=(const AddressSpaceOnly&) = delete;

 private:
  bool outer_;
};
}  // namespace big_memory

// v.reserve(n) with fresh memory (see big_memory::AddressSpaceOnly).
template <class Vector>
void reserve_address_space(Vector& v, std::size_t n) {
  const big_memory::AddressSpaceOnly fresh;
  v.reserve(n);
}

template <class T>
struct HugePageAllocator {
  using value_type = T;
  HugePageAllocator() noexcept = default;
  template <class U>
  HugePageAllocator(const HugePageAllocator<U>&) noexcept {}

  T* allocate(std::size_t n) {
    if (n > max_elements()) throw std::bad_array_new_length();
    const std::size_t bytes = n * sizeof(T);
    if (bytes < big_memory::kDirectMapBytes) return std::allocator<T>().allocate(n);
    return static_cast<T*>(big_memory::map(bytes));
  }
  void deallocate(T* p, std::size_t n) noexcept {
    const std::size_t bytes = n * sizeof(T);
    if (bytes < big_memory::kDirectMapBytes) {
      std::allocator<T>().deallocate(p, n);
    } else {
      big_memory::unmap(p, bytes);
    }
  }
  static constexpr std::size_t max_elements() { return ~std::size_t{0} / sizeof(T); }

  friend bool operator==(const HugePageAllocator&, const HugePageAllocator&) { return true; }
};

template <class T>
using BigVector = std::vector<T, HugePageAllocator<T>>;

}  // namespace heapscope
