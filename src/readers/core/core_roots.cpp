#include "readers/core/core_roots.hpp"

#include <elf.h>

#include <algorithm>
#include <string>

namespace heapscope::readers::core {

namespace {

constexpr std::uint64_t kRedZone = 128;          // x86-64 ABI: leaf frames may live below rsp
constexpr std::uint64_t kThreadDescriptor = 0x1000;  // struct pthread above fs_base (about 0x900 bytes)

enum class SpanKind { Tls, Stack, Static, Mapping };

// A range of memory scanned for roots. Static spans are named per word
// (the symbol covering it); the others have one name.
struct RootSpan {
  std::uint64_t start;
  std::uint64_t end;
  SpanKind kind;
  StringId name;
  const Module* module;
};

// Cuts [start, end) into the pieces no earlier span and no malloc-owned
// range covers.
class Coverage {
 public:
  explicit Coverage(const std::vector<HeapRange>& owned) : taken_(owned) {}

  template <typename F>
  void claim(std::uint64_t start, std::uint64_t end, F&& emit) {
    std::sort(taken_.begin(), taken_.end(), [](const HeapRange& a, const HeapRange& b) { return a.start < b.start; });
    std::uint64_t pos = start;
    for (const HeapRange& t : taken_) {
      if (t.end <= pos) continue;
      if (t.start >= end) break;
      if (t.start > pos) emit(pos, t.start);
      pos = std::max(pos, t.end);
      if (pos >= end) break;
    }
    if (pos < end) emit(pos, end);
    taken_.push_back({start, end});
  }

 private:
  std::vector<HeapRange> taken_;
};

class RootScanner {
 public:
  RootScanner(const CoreImage& image, const MallocHeap& heap, GraphBuilder& builder, CoreGraphStats& stats)
      : image_(image), heap_(heap), builder_(builder), stats_(stats), coverage_(heap.owned()) {}

  void run() {
    add_registers();
    // Static TLS blocks sit just below each thread pointer, struct pthread
    // just above it; a thread's stack ends below its TLS.
    const std::uint64_t tls_span = image_.static_tls_size();
    std::vector<RootSpan> spans;
    const auto& threads = image_.threads();
    for (std::size_t t = 0; t < threads.size(); ++t) {
      const std::uint64_t fs = threads[t].fs_base();
      const Region* r = image_.region_at(fs);
      if (fs > tls_span && r) {
        spans.push_back({std::max(r->start, fs - tls_span), std::min(r->end, fs + kThreadDescriptor), SpanKind::Tls,
                         intern("thread " + std::to_string(t + 1) + " TLS"), nullptr});
      }
    }
    for (std::size_t t = 0; t < threads.size(); ++t) {
      const Region* r = image_.region_at(threads[t].rsp());
      if (!r) continue;
      const std::uint64_t low = std::max(r->start, threads[t].rsp() - std::min(kRedZone, threads[t].rsp()));
      spans.push_back({low, r->end, SpanKind::Stack, intern("thread " + std::to_string(t + 1) + " stack"), nullptr});
      dead_stacks_.push_back({r->start, low});
    }
    for (const Module& m : image_.modules()) {
      for (const ElfSegment& s : m.segments) {
        if (s.type == PT_LOAD && (s.flags & PF_W)) {
          spans.push_back({m.bias + s.vaddr, m.bias + s.vaddr + s.memsz, SpanKind::Static, kNoString, &m});
        }
      }
    }
    // Dead stack below rsp is no root: stale pointers there would hide leaks.
    for (const HeapRange& d : dead_stacks_) coverage_.claim(d.start, d.end, [](std::uint64_t, std::uint64_t) {});
    for (const RootSpan& span : spans) {
      coverage_.claim(span.start, span.end, [&](std::uint64_t a, std::uint64_t b) { scan(span, a, b); });
    }
    for (const Region& r : image_.regions()) {
      if (r.source != RegionSource::Core || !r.writable()) continue;
      RootSpan span{r.start, r.end, SpanKind::Mapping, kNoString, nullptr};
      coverage_.claim(r.start, r.end, [&](std::uint64_t a, std::uint64_t b) {
        if (span.name == kNoString) span.name = intern(mapping_name(r));
        scan(span, a, b);
      });
    }
  }

 private:
  StringId intern(const std::string& s) { return builder_.intern(s); }

  std::string mapping_name(const Region& r) const {
    if (r.mapping >= 0) return "mapping " + image_.core().files[r.mapping].path;
    return "anonymous mapping " + hex(r.start);
  }

  void add_registers() {
    static constexpr std::size_t kGeneral[] = {10, 5, 11, 12, 13, 14, 4, 19, 9, 8, 7, 6, 3, 2, 1, 0};
    const auto& threads = image_.threads();
    for (std::size_t t = 0; t < threads.size(); ++t) {
      for (std::size_t r : kGeneral) {
        if (auto target = heap_.find(threads[t].regs[r])) {
          const std::string name = "register " + std::string(kRegisterNames[r]) + " of thread " + std::to_string(t + 1);
          builder_.add_root(*target, intern(name), register_kind());
          ++stats_.roots;
        }
      }
    }
  }

  StringId register_kind() {
    if (register_kind_ == kNoString) register_kind_ = intern("register");
    return register_kind_;
  }

  StringId kind_name(SpanKind kind) {
    static const char* names[] = {"tls", "stack", "static", "mapping"};
    StringId& id = kind_ids_[static_cast<int>(kind)];
    if (id == kNoString) id = intern(names[static_cast<int>(kind)]);
    return id;
  }

  // "static g_sessions (prog .bss)", "static libc.so.6+0x1d2f40 (libc.so.6 .data)"
  StringId static_name(const Module& m, std::uint64_t address) {
    const Symbol* sym = m.symbol_covering(address);
    std::string_view section = m.section_at(address);
    if (sym == last_symbol_ && sym != nullptr) return last_name_;
    std::string where = m.name;  // append(): GCC 12 raises a false -Wrestrict on "+" chains here
    if (!section.empty()) where.append(" ").append(section);
    std::string name;
    if (sym) {
      name = "static " + demangle(sym->name) + " (" + where + ")";
    } else {
      name = "static " + m.name + "+" + hex(address - m.bias) + " (" + where + ")";
    }
    last_symbol_ = sym;
    last_name_ = intern(name);
    return last_name_;
  }

  void scan(const RootSpan& span, std::uint64_t start, std::uint64_t end) {
    start = align_up(start, 8);
    while (start + 8 <= end) {
      const Region* r = image_.region_at(start);
      if (!r) {
        // Skip to the next region.
        auto next = std::upper_bound(image_.regions().begin(), image_.regions().end(), start,
                                     [](std::uint64_t a, const Region& x) { return a < x.start; });
        if (next == image_.regions().end() || next->start >= end) return;
        start = align_up(next->start, 8);
        continue;
      }
      const std::uint64_t stop = std::min(end, r->end);
      if (r->source == RegionSource::Core) {
        const std::uint8_t* base = r->data;
        for (std::uint64_t a = start; a + 8 <= stop; a += 8) {
          const std::uint64_t v = load_u64(base + (a - r->start));
          if (auto target = heap_.find(v)) add_root(span, a, *target);
        }
      }
      start = align_up(stop, 8);
    }
  }

  void add_root(const RootSpan& span, std::uint64_t address, std::size_t target) {
    const StringId name = span.kind == SpanKind::Static ? static_name(*span.module, address) : span.name;
    builder_.add_root(target, name, kind_name(span.kind));
    ++stats_.roots;
  }

  const CoreImage& image_;
  const MallocHeap& heap_;
  GraphBuilder& builder_;
  CoreGraphStats& stats_;
  Coverage coverage_;
  std::vector<HeapRange> dead_stacks_;
  StringId register_kind_ = kNoString;
  StringId kind_ids_[4] = {kNoString, kNoString, kNoString, kNoString};
  const Symbol* last_symbol_ = nullptr;
  StringId last_name_ = kNoString;
};

}  // namespace

void add_core_roots(const CoreImage& image, const MallocHeap& heap, GraphBuilder& builder, CoreGraphStats& stats) {
  RootScanner(image, heap, builder, stats).run();
}

}  // namespace heapscope::readers::core
