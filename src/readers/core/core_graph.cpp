#include "readers/core/core_graph.hpp"

#include <cxxabi.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <unordered_map>

#include "readers/core/core_roots.hpp"
#include "readers/core/glibc_layout.hpp"

namespace heapscope::readers::core {

namespace {

constexpr std::uint64_t kLabelledOffsets = 1u << 16;  // edges beyond this offset get index labels
constexpr std::size_t kSampleStride = 97;            // allocations sampled to size the edge arrays

struct VtableRange {
  std::uint64_t start;
  std::uint64_t end;
  StringId type;
};

class GraphScanner {
 public:
  GraphScanner(const CoreImage& image, MallocHeap& heap, GraphBuilder& builder, CoreGraphStats& stats,
               const ReleaseScanned& release)
      : image_(image), heap_(heap), builder_(builder), stats_(stats), release_(release) {}

  // The graph's columns, filled in place (GraphColumns: allocations in
  // address order, each one's edges together, targets as allocation
  // numbers), so no builder holds a second copy of the edges.
  GraphColumns run() {
    collect_vtables();
    const auto& allocs = heap_.allocations();
    const std::size_t n = allocs.size();
    GraphColumns c;
    // Filled as the scan goes, not sized up front: zeroing the node columns
    // first (320 MB for 10M allocations) while every page of the core was
    // still in memory was the read's peak. No names: allocations have none.
    c.object_id.reserve(n + 1);
    c.shallow_size.reserve(n + 1);
    c.type.reserve(n + 1);
    c.out_begin.reserve(n + 2);
    c.object_id.push_back(0), c.shallow_size.push_back(0), c.type.push_back(kNoString);
    c.out_begin.push_back(0);
    // Room for the roots' edges too, which go in front (reserving big arrays maps address space only).
    const std::size_t edges = estimate_edges() + stats_.roots;
    c.edge_target.reserve(edges);
    c.edge_label.reserve(edges);
    tcache_type_ = builder_.intern("glibc tcache_perthread_struct");
    const auto& tcaches = heap_.tcache_structs();
    for (std::size_t i = 0; i < n; ++i) {
      const Allocation& a = allocs[i];
      const bool is_tcache = std::binary_search(tcaches.begin(), tcaches.end(), a.user);
      const std::uint8_t* bytes = image_.pointer(a.user, a.usable);
      c.object_id.push_back(a.user);
      c.shallow_size.push_back(a.usable);
      c.type.push_back(is_tcache ? tcache_type_ : type_of(a, bytes));
      c.push_edges_end();
      if (!bytes) {
        ++stats_.unreadable_allocations;
        continue;
      }
      if (is_tcache) continue;  // its pointers lead to free chunks only
      scan_words(i, a, bytes, c);
      release_behind(bytes, bytes + a.usable);
    }
    c.push_edges_end();
    // No edge_kind column: every edge is strong.
    return c;
  }

 private:
  void collect_vtables() {
    for (const Module& m : image_.modules()) {
      for (const Symbol& s : m.symbols()) {
        if (s.size == 0 || s.name.substr(0, 4) != "_ZTV") continue;
        std::string cls = vtable_class(s.name);
        if (cls.empty()) continue;
        vtables_.push_back({m.bias + s.value, m.bias + s.value + s.size, builder_.intern(cls)});
      }
    }
    std::sort(vtables_.begin(), vtables_.end(), [](const VtableRange& a, const VtableRange& b) { return a.start < b.start; });
  }

  // A vtable pointer points into the vtable (past offset-to-top and the
  // typeinfo pointer), so any address inside the symbol counts.
  StringId vtable_type(std::uint64_t word) const {
    auto it = std::upper_bound(vtables_.begin(), vtables_.end(), word,
                               [](std::uint64_t w, const VtableRange& v) { return w < v.start; });
    if (it == vtables_.begin()) return kNoString;
    --it;
    return word > it->start && word < it->end ? it->type : kNoString;
  }

  StringId type_of(const Allocation& a, const std::uint8_t* bytes) {
    if (bytes && a.usable >= 8 && !vtables_.empty()) {
      if (StringId t = vtable_type(load_u64(bytes)); t != kNoString) {
        ++stats_.vtable_typed;
        return t;
      }
    }
    auto [it, inserted] = size_types_.try_emplace(a.usable, kNoString);
    if (inserted) it->second = builder_.intern(size_class_type(a.usable));
    return it->second;
  }

  EdgeLabel label_for(std::uint64_t offset) {
    if (offset >= kLabelledOffsets) {
      return offset <= EdgeLabel::kMaxIndex ? EdgeLabel::index(static_cast<std::uint32_t>(offset)) : EdgeLabel{};
    }
    const std::size_t slot = offset / 8;
    if (slot >= offset_labels_.size()) offset_labels_.resize(slot + 1, kNoString);
    if (offset_labels_[slot] == kNoString) {
      // append(), not "+" + ...: GCC 12 raises a false -Wrestrict on that.
      std::string label("+");
      offset_labels_[slot] = builder_.intern(label.append(hex(offset)));
    }
    return EdgeLabel::named(offset_labels_[slot]);
  }

  void scan_words(std::size_t self, const Allocation& a, const std::uint8_t* bytes, GraphColumns& c) {
    for (std::uint64_t off = 0; off + 8 <= a.usable; off += 8) {
      const std::uint64_t v = load_u64(bytes + off);
      const auto target = heap_.find(v);
      if (!target || *target == self) continue;
      c.edge_target.push_back(static_cast<NodeIndex>(*target));
      c.edge_label.push_back(label_for(off).raw());
      ++stats_.edges;
    }
  }

  // The allocations come in address order, which is the core's file order
  // within a segment: once the scan is kReleaseStep bytes past where the
  // current run started, the bytes between were read and are handed back
  // (on a 10M-allocation core they were a third of the read's peak). A
  // jump backwards (another segment) starts a new run.
  static constexpr std::ptrdiff_t kReleaseStep = std::ptrdiff_t{32} << 20;
  void release_behind(const std::uint8_t* begin, const std::uint8_t* end) {
    if (!release_) return;
    if (run_start_ == nullptr || begin < run_end_) run_start_ = begin;
    run_end_ = end;
    if (run_end_ - run_start_ >= kReleaseStep) {
      release_(run_start_, begin);  // [begin, end) may share a page with the next allocation
      run_start_ = begin;
    }
  }

  // Edges per allocation from a sample, so the edge arrays are sized once.
  std::size_t estimate_edges() const {
    const auto& allocs = heap_.allocations();
    std::uint64_t sampled = 0, edges = 0;
    for (std::size_t i = 0; i < allocs.size(); i += kSampleStride) {
      const std::uint8_t* bytes = image_.pointer(allocs[i].user, allocs[i].usable);
      if (!bytes) continue;
      ++sampled;
      for (std::uint64_t off = 0; off + 8 <= allocs[i].usable; off += 8) {
        if (heap_.find(load_u64(bytes + off))) ++edges;
      }
    }
    if (sampled == 0) return 0;
    return static_cast<std::size_t>(static_cast<double>(edges) / sampled * allocs.size() * 1.05) + 1024;
  }

  const CoreImage& image_;
  MallocHeap& heap_;
  GraphBuilder& builder_;
  CoreGraphStats& stats_;
  std::vector<VtableRange> vtables_;
  std::unordered_map<std::uint64_t, StringId> size_types_;
  std::vector<StringId> offset_labels_;
  StringId tcache_type_ = kNoString;
  const ReleaseScanned& release_;
  const std::uint8_t* run_start_ = nullptr;  // bytes scanned since the last release, contiguous
  const std::uint8_t* run_end_ = nullptr;
};

}  // namespace

std::string size_class_type(std::uint64_t usable) { return "malloc[" + std::to_string(usable) + "]"; }

std::string demangle(std::string_view symbol) {
  if (symbol.substr(0, 2) != "_Z") return std::string(symbol);
  int status = 0;
  const std::string mangled(symbol);
  std::unique_ptr<char, void (*)(void*)> out(abi::__cxa_demangle(mangled.c_str(), nullptr, nullptr, &status), std::free);
  if (status != 0 || !out) return mangled;
  return out.get();
}

std::string vtable_class(std::string_view symbol) {
  const std::string d = demangle(symbol);
  constexpr std::string_view prefix = "vtable for ";
  if (d.size() <= prefix.size() || d.compare(0, prefix.size(), prefix) != 0) return {};
  return d.substr(prefix.size());
}

namespace {

// Facts about the core for `info` (graph meta).
void set_core_meta(GraphBuilder& builder, const CoreImage& image, const MallocHeap& heap) {
  const ElfCore& core = image.core();
  builder.set_meta("producer", "core (ELF, x86-64, glibc malloc)");
  // malloc has no collector: an in-use chunk nothing alive points at is lost.
  builder.set_meta("unreachable_means", "leaked");
  if (core.pid) builder.set_meta("pid", std::to_string(core.pid));
  if (!core.command.empty()) builder.set_meta("command", core.command);
  if (!core.args.empty()) builder.set_meta("args", core.args);
  builder.set_meta("threads", std::to_string(core.threads.size()));
  if (const Module* exe = image.executable()) builder.set_meta("executable", exe->path);
  builder.set_meta("modules", std::to_string(image.modules().size()));
  std::size_t unverified = 0;
  for (const Module& m : image.modules()) unverified += m.file == nullptr;
  if (unverified) builder.set_meta("modules without a matching file", std::to_string(unverified));
  builder.set_meta("bytes read from mapped files", std::to_string(image.file_backed_bytes()));
  builder.set_meta("bytes missing", std::to_string(image.missing_bytes()));
  std::size_t thread_arenas = 0;
  for (const ArenaInfo& a : heap.arenas()) thread_arenas += !a.is_main;
  if (heap.main_arena()) {
    builder.set_meta("main_arena", hex(heap.main_arena()) + " (" + heap.main_arena_source() + ")");
  }
  builder.set_meta("thread arenas", std::to_string(thread_arenas));
  std::uint64_t allocated = 0;
  for (const Allocation& a : heap.allocations()) allocated += a.usable;
  builder.set_meta("allocations", std::to_string(heap.allocations().size()));
  builder.set_meta("allocated bytes", std::to_string(allocated));
  builder.set_meta("mmapped chunks", std::to_string(heap.mmapped_count()));
  std::uint64_t counts[7] = {}, bytes[7] = {};
  for (const FreeChunk& f : heap.free_chunks()) {
    counts[static_cast<int>(f.kind)]++;
    bytes[static_cast<int>(f.kind)] += f.size;
  }
  for (FreeKind k : {FreeKind::Tcache, FreeKind::Fastbin, FreeKind::Unsorted, FreeKind::Small, FreeKind::Large,
                     FreeKind::Unbinned}) {
    const int i = static_cast<int>(k);
    if (counts[i]) {
      builder.set_meta(std::string("free chunks: ") + free_kind_name(k),
                       std::to_string(counts[i]) + " (" + std::to_string(bytes[i]) + " bytes)");
    }
  }
  builder.set_meta("safe-linking", heap.safe_linking() ? "yes" : "no");
  builder.set_meta("heap problems", std::to_string(heap.issues().size()));
}

}  // namespace

HeapGraph build_core_graph(const CoreImage& image, MallocHeap& heap, std::vector<std::string>& warnings,
                           CoreGraphStats* stats_out, const ReleaseScanned& release) {
  CoreGraphStats stats;
  GraphBuilder builder(TargetNaming::ByOrdinal);
  set_core_meta(builder, image, heap);
  add_core_roots(image, heap, builder, stats);
  GraphColumns columns = GraphScanner(image, heap, builder, stats, release).run();
  if (stats.unreadable_allocations > 0) {
    warnings.push_back(std::to_string(stats.unreadable_allocations) +
                       " allocations are not in the core (their pointers are unknown)");
  }
  builder.set_meta("roots", std::to_string(stats.roots));
  builder.set_meta("vtable-typed allocations", std::to_string(stats.vtable_typed));
  heap.release_allocations();
  if (stats_out) *stats_out = stats;
  return std::move(builder).build(std::move(columns));
}

}  // namespace heapscope::readers::core
