// The free lists: chunks the boundary tags call in use although they are
// free (tcache and fastbins keep the next chunk's PREV_INUSE bit set), and
// the bins, which say what kind of free chunk each one is.
#include <elf.h>

#include <algorithm>
#include <set>

#include "readers/core/heap_walker.hpp"

namespace heapscope::readers::core {

namespace {

using namespace glibc;

std::uint64_t next_link(LinkMode mode, std::uint64_t field_address, std::uint64_t stored) {
  return mode == LinkMode::Mangled ? reveal(field_address, stored) : stored;
}

}  // namespace

std::optional<std::size_t> HeapWalker::in_use_chunk(std::uint64_t chunk) const {
  const auto& a = out_.allocations_;
  const std::uint64_t user = chunk + kChunkHeader;
  auto it = std::lower_bound(a.begin(), a.end(), user, [](const Allocation& x, std::uint64_t u) { return x.user < u; });
  if (it == a.end() || it->user != user) return std::nullopt;
  return static_cast<std::size_t>(it - a.begin());
}

std::optional<std::size_t> HeapWalker::free_chunk(std::uint64_t chunk) const {
  const auto& f = out_.free_;
  auto it = std::lower_bound(f.begin(), f.end(), chunk, [](const FreeChunk& x, std::uint64_t c) { return x.chunk < c; });
  if (it == f.end() || it->chunk != chunk) return std::nullopt;
  return static_cast<std::size_t>(it - f.begin());
}

// Follows one singly linked free list of chunks of one size. Both kinds
// keep the link in the first user word; a tcache link points at the next
// entry's user memory, a fastbin link at the next chunk. Returns the chunk
// addresses until the first link that is not such a chunk.
static std::vector<std::uint64_t> follow_list(const HeapWalker& w, std::uint64_t first_chunk, std::uint64_t size,
                                              LinkMode mode, std::size_t max_steps, bool links_to_user,
                                              bool& clean_end) {
  std::vector<std::uint64_t> chunks;
  clean_end = false;
  std::uint64_t chunk = first_chunk;
  while (chunks.size() < max_steps) {
    const auto idx = w.in_use_chunk(chunk);
    if (!idx || w.out_.allocations()[*idx].usable != size - kSizeSz) return chunks;
    chunks.push_back(chunk);
    const std::uint64_t field = chunk + kChunkHeader;  // tcache entry->next and fastbin fd share it
    const auto stored = w.word(field);
    if (!stored) return chunks;
    const std::uint64_t next = next_link(mode, field, *stored);
    if (next == 0) {
      clean_end = true;
      return chunks;
    }
    if (next & (kAlignment - 1)) return chunks;
    chunk = links_to_user ? next - kChunkHeader : next;
  }
  return chunks;
}

void HeapWalker::find_tcaches() {
  const auto& allocs = out_.allocations_;
  std::set<std::uint64_t> candidates;
  auto consider = [&](std::uint64_t user) {
    const auto idx = in_use_chunk(user - kChunkHeader);
    if (idx && allocs[*idx].usable == kTcacheChunkSize - kSizeSz) candidates.insert(user);
  };
  // Each thread's `tcache` pointer is a libc TLS variable, in the static TLS
  // block just below the thread pointer (fs_base).
  // (Scanned generously: a wrong candidate fails the checks below.)
  const std::uint64_t tls_span = image_.static_tls_size() + 0x2000;
  for (const ThreadState& t : image_.threads()) {
    if (t.fs_base() < tls_span) continue;
    for (std::uint64_t a = (t.fs_base() - tls_span) & ~7ull; a < t.fs_base(); a += 8) {
      const auto v = word(a);
      if (v && (*v & (kAlignment - 1)) == 0 && *v > kChunkHeader) consider(*v);
    }
  }
  // And the first chunk of every heap, where a thread's first malloc puts it.
  for (const ArenaInfo& arena : out_.arenas_) {
    for (const HeapRange& h : arena.heaps) consider(h.start + kChunkHeader);
  }
  for (std::uint64_t user : candidates) {
    std::uint8_t raw[kTcacheStructSize];
    if (!image_.read(user, raw, sizeof raw)) continue;
    bool consistent = true;
    for (std::uint64_t i = 0; i < kTcacheBins && consistent; ++i) {
      const std::uint16_t count = load_u16(raw + 2 * i);
      const std::uint64_t entry = load_u64(raw + kTcacheEntries + 8 * i);
      consistent = (count == 0) == (entry == 0) && (entry & (kAlignment - 1)) == 0;
    }
    if (!consistent) continue;
    // Decide the link encoding on the first struct with entries; 2.32+
    // mangles, older glibc does not.
    std::vector<LinkMode> modes;
    if (link_mode_ != LinkMode::Unknown) modes = {link_mode_};
    else modes = {LinkMode::Mangled, LinkMode::Raw};
    LinkMode best = modes[0];
    std::size_t best_good = 0, best_total = 0;
    std::vector<FreeChunk> best_chunks;
    std::vector<std::string> best_problems;
    for (LinkMode mode : modes) {
      std::size_t good = 0, total = 0;
      std::vector<FreeChunk> chunks;
      std::vector<std::string> problems;
      for (std::uint64_t i = 0; i < kTcacheBins; ++i) {
        const std::uint16_t count = load_u16(raw + 2 * i);
        if (count == 0) continue;
        total += count;
        const std::uint64_t size = kMinChunk + kAlignment * i;
        const std::uint64_t entry = load_u64(raw + kTcacheEntries + 8 * i);
        bool clean = false;
        auto list = follow_list(*this, entry - kChunkHeader, size, mode, count, true, clean);
        good += list.size();
        if (list.size() != count) {
          problems.push_back("tcache bin " + std::to_string(i) + " (chunk size " + hex(size) + ") holds " +
                             std::to_string(list.size()) + " valid chunks, count says " + std::to_string(count));
        } else if (!clean) {
          problems.push_back("tcache bin " + std::to_string(i) + " (chunk size " + hex(size) +
                             ") continues past its count of " + std::to_string(count));
        }
        for (std::uint64_t c : list) chunks.push_back({c, size, FreeKind::Tcache});
      }
      if (good > best_good || best_total == 0) {
        best = mode;
        best_good = good;
        best_total = total;
        best_chunks = std::move(chunks);
        best_problems = std::move(problems);
      }
    }
    out_.tcache_structs_.push_back(user);
    if (best_total == 0) continue;  // an empty tcache: nothing to learn
    if (best_good == 0) {
      issue(user, "tcache_perthread_struct whose lists lead nowhere");
      continue;
    }
    if (link_mode_ == LinkMode::Unknown) link_mode_ = best;
    for (std::string& p : best_problems) issue(user, std::move(p));
    listed_free_.insert(listed_free_.end(), best_chunks.begin(), best_chunks.end());
  }
}

void HeapWalker::walk_fastbins(const ArenaState& arena) {
  for (std::uint64_t i = 0; i < kFastbinCount; ++i) {
    const std::uint64_t head = arena.fastbin(i);
    if (head == 0) continue;
    const std::uint64_t size = kMinChunk + kAlignment * i;
    std::vector<LinkMode> modes;
    if (link_mode_ != LinkMode::Unknown) modes = {link_mode_};
    else modes = {LinkMode::Mangled, LinkMode::Raw};
    std::vector<std::uint64_t> best;
    bool best_clean = false;
    for (LinkMode mode : modes) {
      bool clean = false;
      auto list = follow_list(*this, head, size, mode, out_.allocations_.size(), false, clean);
      if (list.size() > best.size() || (clean && !best_clean && list.size() == best.size())) {
        best = std::move(list);
        best_clean = clean;
        if (link_mode_ == LinkMode::Unknown && clean && best.size() > 0) link_mode_ = mode;
      }
    }
    if (!best_clean) {
      issue(head, "fastbin " + std::to_string(i) + " of arena " + hex(arena.address) + " breaks after " +
                      std::to_string(best.size()) + " chunks");
    }
    for (std::uint64_t c : best) listed_free_.push_back({c, size, FreeKind::Fastbin});
  }
}

void HeapWalker::walk_bins(const ArenaState& arena) {
  for (std::uint64_t i = 1; i < kBinCount; ++i) {
    const std::uint64_t head = bin_at(arena.address, i);
    const FreeKind kind = i == 1 ? FreeKind::Unsorted : (i < 64 ? FreeKind::Small : FreeKind::Large);
    std::uint64_t p = arena.bin_fd(i);
    std::size_t steps = 0;
    while (p != head) {
      if (++steps > out_.free_.size() + 1) {
        issue(head, "bin " + std::to_string(i) + " of arena " + hex(arena.address) + " loops");
        break;
      }
      const auto f = free_chunk(p);
      if (!f) {
        if (const auto a = in_use_chunk(p)) {
          issue(p, "chunk in bin " + std::to_string(i) + " but its next chunk says in use; treated as free");
          listed_free_.push_back({p, out_.allocations_[*a].usable + kSizeSz, kind});
        } else {
          issue(p, "bin " + std::to_string(i) + " of arena " + hex(arena.address) + " links to a non-chunk");
          break;
        }
      } else {
        out_.free_[*f].kind = kind;
      }
      const auto fd = word(p + kChunkHeader);
      if (!fd) break;
      p = *fd;
    }
  }
}

void HeapWalker::remove_listed_free() {
  auto& allocs = out_.allocations_;
  std::sort(listed_free_.begin(), listed_free_.end(),
            [](const FreeChunk& a, const FreeChunk& b) { return a.chunk < b.chunk; });
  std::vector<bool> drop(allocs.size(), false);
  for (std::size_t i = 0; i < listed_free_.size(); ++i) {
    const FreeChunk& c = listed_free_[i];
    if (i > 0 && listed_free_[i - 1].chunk == c.chunk) {
      issue(c.chunk, std::string("chunk is on two free lists (") + free_kind_name(listed_free_[i - 1].kind) + ", " +
                         free_kind_name(c.kind) + "): double free?");
      continue;
    }
    if (const auto idx = in_use_chunk(c.chunk)) {
      drop[*idx] = true;
      out_.free_.push_back(c);
    }
  }
  std::size_t kept = 0;
  for (std::size_t i = 0; i < allocs.size(); ++i) {
    if (!drop[i]) allocs[kept++] = allocs[i];
  }
  allocs.resize(kept);
  std::sort(out_.free_.begin(), out_.free_.end(), [](const FreeChunk& a, const FreeChunk& b) { return a.chunk < b.chunk; });
}

}  // namespace heapscope::readers::core
