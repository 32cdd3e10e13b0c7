// The heap walk's driver, the mmapped chunk scan and the address lookup.
#include "readers/core/malloc_heap.hpp"

#include <algorithm>

#include "readers/core/heap_walker.hpp"

namespace heapscope::readers::core {

namespace {

using namespace glibc;

constexpr std::size_t kMaxIssues = 200;
constexpr std::size_t kMaxArenas = 4096;
constexpr std::uint64_t kPage = 4096;
constexpr std::uint64_t kSpanGap = 1ull << 20;  // allocations further apart start a new lookup span

}  // namespace

const char* free_kind_name(FreeKind kind) {
  switch (kind) {
    case FreeKind::Tcache: return "tcache";
    case FreeKind::Fastbin: return "fastbin";
    case FreeKind::Unsorted: return "unsorted bin";
    case FreeKind::Small: return "small bin";
    case FreeKind::Large: return "large bin";
    case FreeKind::Unbinned: return "in no bin";
  }
  return "?";
}

void HeapWalker::issue(std::uint64_t address, std::string problem) {
  ++issue_count_;
  if (out_.issues_.size() < kMaxIssues) out_.issues_.push_back({address, std::move(problem)});
}

bool HeapWalker::owned_by_heap(std::uint64_t address) const {
  for (const HeapRange& r : heap_ranges_) {
    if (address >= r.start && address < r.end) return true;
  }
  return false;
}

// mmapped chunks are on no list: find them in the anonymous writable
// mappings, at page starts, by their header (prev_size 0, size a page
// multiple with only IS_MMAPPED set, the whole chunk inside the mapping).
// memalign'd ones start later in their first page, with prev_size = that
// offset.
void HeapWalker::find_mmapped_chunks() {
  std::vector<HeapRange> ranges = heap_ranges_;
  std::sort(ranges.begin(), ranges.end(), [](const HeapRange& a, const HeapRange& b) { return a.start < b.start; });
  for (const Region& r : image_.regions()) {
    if (r.source != RegionSource::Core || !r.writable() || r.module >= 0 || r.mapping >= 0) continue;
    std::uint64_t p = align_up(r.start, kPage);
    while (p + kPage <= r.end) {
      if (owned_by_heap(p)) {
        p += kPage;
        continue;
      }
      const std::uint8_t* page = r.data + (p - r.start);
      std::uint64_t found = 0, size = 0;
      for (std::uint64_t off = 0; off < kPage; off += kAlignment) {
        const std::uint64_t prev = load_u64(page + off);
        const std::uint64_t field = load_u64(page + off + 8);
        if (prev != off || (field & kFlagMask) != kIsMmapped) continue;
        const std::uint64_t s = field & ~kFlagMask;
        if (s < kPage - off || ((s + off) & (kPage - 1)) != 0 || s > r.end - (p + off)) continue;
        found = p + off;
        size = s;
        break;
      }
      if (found == 0) {
        p += kPage;
        continue;
      }
      out_.allocations_.push_back({found + kChunkHeader, size - kChunkHeader});
      out_.owned_.push_back({p, found + size});
      ++out_.mmapped_count_;
      p = found + size;
    }
  }
}

void HeapWalker::run() {
  const std::uint64_t main = find_main_arena();
  if (main == 0) {
    issue(0, "no glibc main_arena found (not a glibc program, malloc never called, or libc data missing)");
    return;
  }
  out_.main_arena_ = main;
  // The arena list: main_arena.next -> ... -> main_arena.
  std::uint64_t a = main;
  do {
    ArenaState state;
    if (!read_arena(a, state) || !plausible_arena(state, false)) {
      issue(a, "arena list leads to something that is not a malloc_state");
      break;
    }
    arena_states_.push_back(state);
    a = state.next();
  } while (a != main && arena_states_.size() < kMaxArenas);
  for (const ArenaState& state : arena_states_) {
    if (state.address == main) {
      walk_main_heap(state);
    } else {
      walk_thread_heaps(state);
    }
  }
  auto by_user = [](const Allocation& x, const Allocation& y) { return x.user < y.user; };
  std::sort(out_.allocations_.begin(), out_.allocations_.end(), by_user);
  std::sort(out_.free_.begin(), out_.free_.end(), [](const FreeChunk& x, const FreeChunk& y) { return x.chunk < y.chunk; });
  find_tcaches();
  std::sort(out_.tcache_structs_.begin(), out_.tcache_structs_.end());
  for (const ArenaState& state : arena_states_) walk_fastbins(state);
  for (const ArenaState& state : arena_states_) walk_bins(state);
  remove_listed_free();
  std::size_t unbinned = 0;
  for (const FreeChunk& f : out_.free_) unbinned += f.kind == FreeKind::Unbinned;
  if (unbinned > 0) {
    issue(0, std::to_string(unbinned) + " free chunks are on no free list (a thread was inside malloc/free?)");
  }
  find_mmapped_chunks();
  std::sort(out_.allocations_.begin(), out_.allocations_.end(), by_user);
  out_.safe_linking_ = link_mode_ != LinkMode::Raw;
  // What malloc owns is never a root: heaps, mmapped chunks, the arena structs.
  for (const HeapRange& r : heap_ranges_) out_.owned_.push_back(r);
  for (const ArenaState& s : arena_states_) out_.owned_.push_back({s.address, s.address + kArenaSize});
  std::sort(out_.owned_.begin(), out_.owned_.end(), [](const HeapRange& x, const HeapRange& y) { return x.start < y.start; });
  std::vector<HeapRange> merged;
  for (const HeapRange& r : out_.owned_) {
    if (!merged.empty() && r.start <= merged.back().end) {
      merged.back().end = std::max(merged.back().end, r.end);
    } else {
      merged.push_back(r);
    }
  }
  out_.owned_ = std::move(merged);
  if (issue_count_ > out_.issues_.size()) {
    out_.issues_.push_back({0, std::to_string(issue_count_ - out_.issues_.size()) + " more heap problems not listed"});
  }
}

MallocHeap MallocHeap::walk(const CoreImage& image) {
  MallocHeap heap;
  HeapWalker walker(image, heap);
  walker.run();
  heap.build_index();
  return heap;
}

void MallocHeap::build_index() {
  spans_.clear();
  page_first_.clear();
  if (allocations_.empty()) return;
  lowest_ = allocations_.front().user;
  highest_ = 0;
  std::size_t i = 0;
  while (i < allocations_.size()) {
    Span span;
    span.start = allocations_[i].user;
    span.first = static_cast<std::uint32_t>(i);
    span.end = allocations_[i].end();
    std::size_t j = i + 1;
    while (j < allocations_.size() && allocations_[j].user <= span.end + kSpanGap) {
      span.end = std::max(span.end, allocations_[j].end());
      ++j;
    }
    span.last = static_cast<std::uint32_t>(j);
    span.page_table = static_cast<std::uint32_t>(page_first_.size());
    // page_first_[k]: first allocation (of the span) ending after page k starts.
    const std::uint64_t pages = (span.end - span.start + kPage - 1) / kPage + 1;
    std::size_t a = i;
    for (std::uint64_t k = 0; k < pages; ++k) {
      const std::uint64_t page_start = span.start + k * kPage;
      while (a < j && allocations_[a].end() <= page_start) ++a;
      page_first_.push_back(static_cast<std::uint32_t>(a));
    }
    highest_ = std::max(highest_, span.end);
    spans_.push_back(span);
    i = j;
  }
}

std::optional<std::size_t> MallocHeap::find(std::uint64_t address) const {
  if (address < lowest_ || address >= highest_) return std::nullopt;
  auto it = std::upper_bound(spans_.begin(), spans_.end(), address,
                             [](std::uint64_t a, const Span& s) { return a < s.start; });
  if (it == spans_.begin()) return std::nullopt;
  --it;
  if (address >= it->end) return std::nullopt;
  const std::uint64_t page = (address - it->start) / kPage;
  std::size_t lo = page_first_[it->page_table + page];
  std::size_t hi = std::min<std::size_t>(page_first_[it->page_table + page + 1] + 1, it->last);
  // The last allocation in [lo, hi) starting at or before address.
  while (lo < hi) {
    const std::size_t mid = (lo + hi) / 2;
    if (allocations_[mid].user <= address) lo = mid + 1;
    else hi = mid;
  }
  if (lo == 0) return std::nullopt;
  const Allocation& a = allocations_[lo - 1];
  if (address >= a.user && address < a.end()) return lo - 1;
  return std::nullopt;
}

void MallocHeap::release_allocations() {
  std::vector<Allocation>().swap(allocations_);
  std::vector<Span>().swap(spans_);
  std::vector<std::uint32_t>().swap(page_first_);
}

}  // namespace heapscope::readers::core
