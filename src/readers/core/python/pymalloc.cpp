#include "readers/core/python/pymalloc.hpp"

#include <bitset>
#include <optional>

#include "readers/core/bytes.hpp"

namespace heapscope::readers::core::python {

namespace {

constexpr std::uint64_t kArenaSize = std::uint64_t{1} << 20;
constexpr std::uint64_t kPoolSize = std::uint64_t{1} << 14;
constexpr std::uint64_t kPoolOverhead = 0x30;
constexpr std::uint64_t kArenaObjectSize = 0x30;
constexpr std::uint32_t kSizeClasses = 32;  // blocks of 16..512 bytes
constexpr std::uint64_t kMaxBlocksPerPool = kPoolSize / 16;
constexpr std::uint64_t kMaxArenas = std::uint64_t{1} << 24;  // 16 TiB of arenas

struct ArenaTable {
  std::uint64_t address = 0;  // of arena_object[maxarenas]
  std::uint64_t count = 0;
};

std::string version_of(const CpythonRuntime& rt) { return "CPython " + rt.version; }

// Where `arenas` and `maxarenas` live: file-static variables on 3.11 (in
// .symtab), struct _obmalloc_state's mgmt on 3.12 and 3.13.
std::optional<ArenaTable> arena_table(const CoreImage& image, const CpythonRuntime& rt, std::string& problem) {
  std::uint64_t arenas_at = 0, maxarenas_at = 0;
  const CpythonLayout& l = rt.layout;
  if (l.interp_obmalloc != 0) {
    std::uint64_t state = rt.interp + l.interp_obmalloc;
    if (l.obmalloc_is_pointer) state = image.u64(state).value_or(0);
    if (state == 0) {
      problem = "the interpreter's obmalloc state pointer is not in the core";
      return std::nullopt;
    }
    arenas_at = state + l.obmalloc_arenas;
    maxarenas_at = state + l.obmalloc_maxarenas;
  } else {
    const auto arenas = image.find_symbol("arenas", rt.module_file());
    const auto maxarenas = image.find_symbol("maxarenas", rt.module_file());
    if (!arenas || !maxarenas) {
      problem = "no `arenas` / `maxarenas` symbols in " + std::string(rt.module_file()) + " (a stripped build)";
      return std::nullopt;
    }
    arenas_at = arenas->address;
    maxarenas_at = maxarenas->address;
  }
  const auto table = image.u64(arenas_at);
  std::uint32_t count = 0;
  if (!table || !image.read(maxarenas_at, &count, sizeof count)) {
    problem = "the arena table's pointer or size is not in the core";
    return std::nullopt;
  }
  if (count > kMaxArenas) {
    problem = "the arena table claims " + std::to_string(count) + " arenas";
    return std::nullopt;
  }
  if (count > 0 && image.pointer(*table, count * kArenaObjectSize) == nullptr) {
    problem = "the arena table at " + hex(*table) + " (" + std::to_string(count) + " entries) is not in the core";
    return std::nullopt;
  }
  return ArenaTable{*table, count};
}

enum class PoolVerdict { Used, Empty, Bad, Missing };

// The used blocks of one pool: the slots below nextoffset that are not on
// its free list. Checked: the header's arena index and size class, the free
// list (inside the pool, on a block boundary, no block twice) and the count
// of used blocks against it.
PoolVerdict visit_pool(const CoreImage& image, std::uint64_t pool, std::uint64_t arena_index,
                       const std::function<void(std::uint64_t, std::uint32_t)>& visit, std::uint64_t& used) {
  const std::uint8_t* header = image.pointer(pool, kPoolOverhead);
  if (header == nullptr) return PoolVerdict::Missing;
  const std::uint32_t count = load_u32(header);
  if (count == 0) return PoolVerdict::Empty;
  const std::uint32_t szidx = load_u32(header + 0x24), nextoffset = load_u32(header + 0x28);
  if (load_u32(header + 0x20) != arena_index || szidx >= kSizeClasses || nextoffset < kPoolOverhead ||
      nextoffset > kPoolSize) {
    return PoolVerdict::Bad;
  }
  const std::uint32_t block_size = (szidx + 1) * 16;
  const std::uint64_t slots = (nextoffset - kPoolOverhead) / block_size;
  std::bitset<kMaxBlocksPerPool> free;
  std::uint64_t free_count = 0;
  for (std::uint64_t link = load_u64(header + 8); link != 0; ++free_count) {
    const std::uint64_t offset = link - pool - kPoolOverhead;
    if (link < pool + kPoolOverhead || offset % block_size != 0 || offset / block_size >= slots ||
        free.test(offset / block_size)) {
      return PoolVerdict::Bad;
    }
    free.set(offset / block_size);
    const auto next = image.u64(link);
    if (!next) return PoolVerdict::Missing;
    link = *next;
  }
  if (slots - free_count != count) return PoolVerdict::Bad;
  if (image.pointer(pool, nextoffset) == nullptr) return PoolVerdict::Missing;
  for (std::uint64_t slot = 0; slot < slots; ++slot) {
    if (!free.test(slot)) visit(pool + kPoolOverhead + slot * block_size, block_size);
  }
  used += count;
  return PoolVerdict::Used;
}

}  // namespace

PymallocScan for_each_pymalloc_block(const CoreImage& image, const CpythonRuntime& runtime,
                                     std::vector<std::string>& warnings,
                                     const std::function<void(std::uint64_t, std::uint32_t)>& visit) {
  PymallocScan scan;
  std::string problem;
  const auto table = arena_table(image, runtime, problem);
  if (!table) {
    warnings.push_back(version_of(runtime) + ": pymalloc's arenas not read (" + problem +
                       "); objects that only C code holds are not listed");
    return scan;
  }
  scan.found = true;
  std::uint64_t bad_arenas = 0;
  for (std::uint64_t i = 0; i < table->count; ++i) {
    const std::uint8_t* arena = image.pointer(table->address + i * kArenaObjectSize, kArenaObjectSize);
    const std::uint64_t address = load_u64(arena);
    if (address == 0) continue;  // an unused slot
    const std::uint64_t first_pool = align_up(address, kPoolSize);
    const std::uint64_t carved_end = load_u64(arena + 8);  // pool_address: the first never-used pool
    if (first_pool < address || carved_end < first_pool || carved_end > address + kArenaSize ||
        (carved_end - first_pool) % kPoolSize != 0) {
      ++bad_arenas;
      continue;
    }
    ++scan.arenas;
    for (std::uint64_t pool = first_pool; pool < carved_end; pool += kPoolSize) {
      switch (visit_pool(image, pool, i, visit, scan.used_blocks)) {
        case PoolVerdict::Used: ++scan.pools; break;
        case PoolVerdict::Empty: break;
        case PoolVerdict::Bad: ++scan.bad_pools; break;
        case PoolVerdict::Missing: ++scan.missing_pools; break;
      }
    }
  }
  if (bad_arenas > 0) {
    warnings.push_back(version_of(runtime) + ": " + std::to_string(bad_arenas) +
                       " pymalloc arena entries do not check out; their blocks are not scanned");
  }
  if (scan.bad_pools > 0) {
    warnings.push_back(version_of(runtime) + ": " + std::to_string(scan.bad_pools) +
                       " pymalloc pools have an inconsistent header or free list; their blocks are not scanned");
  }
  if (scan.missing_pools > 0) {
    warnings.push_back(version_of(runtime) + ": " + std::to_string(scan.missing_pools) +
                       " pymalloc pools are not (wholly) in the core; their blocks are not scanned");
  }
  return scan;
}

}  // namespace heapscope::readers::core::python
