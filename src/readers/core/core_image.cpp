#include "readers/core/core_image.hpp"

#include <elf.h>

#include <algorithm>
#include <cstring>
#include <unordered_map>

#include "heapscope/error.hpp"

namespace heapscope::readers::core {

namespace {

constexpr std::uint64_t kPage = 4096;

std::string basename_of(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

// ---- Module ----------------------------------------------------------------

const std::vector<Symbol>& Module::symbols() const {
  static const std::vector<Symbol> kNone;
  return symbol_table ? *symbol_table : kNone;
}

const std::vector<ElfSection>& Module::sections() const {
  static const std::vector<ElfSection> kNone;
  return file ? file->sections() : kNone;
}

std::string_view Module::section_at(std::uint64_t address) const {
  const std::uint64_t v = address - bias;
  for (const ElfSection& s : sections()) {
    if ((s.flags & SHF_ALLOC) && v >= s.addr && v - s.addr < s.size) {
      if ((s.flags & SHF_TLS) != 0) continue;  // .tbss overlaps other sections' addresses
      return s.name;
    }
  }
  return {};
}

const Symbol* Module::symbol_covering(std::uint64_t address) const {
  const std::uint64_t v = address - bias;
  const std::vector<Symbol>& symbols = this->symbols();
  auto it = std::upper_bound(symbols.begin(), symbols.end(), v,
                             [](std::uint64_t value, const Symbol& s) { return value < s.value; });
  // Look back a few entries: small symbols can sit inside bigger ones.
  for (int step = 0; step < 8 && it != symbols.begin(); ++step) {
    --it;
    if (it->type == STT_TLS) continue;
    if (v == it->value || v - it->value < it->size) return &*it;
  }
  return nullptr;
}

const Symbol* Module::find_symbol(std::string_view symbol_name) const {
  for (const Symbol& s : symbols()) {
    if (s.name == symbol_name) return &s;
  }
  return nullptr;
}

// ---- CoreImage -------------------------------------------------------------

CoreImage::CoreImage(Bytes core_bytes) : bytes_(core_bytes), core_(ElfCore::parse(core_bytes)) {
  for (std::string& w : core_.warnings) warnings_.push_back(std::move(w));
  build_modules();
  build_regions();
  load_symbols(modules_);
}

void CoreImage::load_symbols(std::vector<Module>& modules) {
  // One table per file, however many modules map it.
  std::unordered_map<const ElfFile*, std::shared_ptr<const std::vector<Symbol>>> read_from_file;
  for (Module& m : modules) {
    if (!m.file) {
      m.symbol_table = std::make_shared<const std::vector<Symbol>>(symbols_from_memory(m));
      continue;
    }
    auto& table = read_from_file[m.file.get()];
    if (!table) table = std::make_shared<const std::vector<Symbol>>(m.file->symbols());
    m.symbol_table = table;
  }
}

void CoreImage::warn(std::string message) const { warnings_.push_back(std::move(message)); }

std::optional<Bytes> CoreImage::core_bytes_at(std::uint64_t address, std::uint64_t length) const {
  auto it = std::upper_bound(core_.loads.begin(), core_.loads.end(), address,
                             [](std::uint64_t a, const LoadSegment& s) { return a < s.vaddr; });
  if (it == core_.loads.begin()) return std::nullopt;
  --it;
  const std::uint64_t off = address - it->vaddr;
  if (!fits(off, length, it->filesz)) return std::nullopt;
  return bytes_.subspan(static_cast<std::size_t>(it->file_offset + off), static_cast<std::size_t>(length));
}

void CoreImage::build_modules() {
  const std::uint64_t at_phdr = core_.auxv_value(AT_PHDR);
  const std::uint64_t at_entry = core_.auxv_value(AT_ENTRY);
  // Each path is opened once, however many times it is mapped.
  struct Opened {
    std::shared_ptr<const ElfFile> file;
    std::string why;  // when file is null
  };
  std::unordered_map<std::string, Opened> opened;
  auto open_once = [&](const std::string& path, std::string& why) {
    auto [it, first_time] = opened.try_emplace(path);
    if (first_time) it->second.file = ElfFile::open(path, it->second.why);  // why: set when it fails
    why = it->second.why;
    return it->second.file;
  };
  for (const FileMapping& m : core_.files) {
    if (m.file_offset != 0) continue;
    Module module;
    module.path = m.path;
    module.name = basename_of(m.path);
    const std::uint64_t head_len = std::min<std::uint64_t>(m.end - m.start, kPage);
    std::optional<Bytes> head = core_bytes_at(m.start, head_len);
    std::shared_ptr<const ElfFile> disk;
    std::string why = "deleted";
    if (!ends_with(m.path, " (deleted)")) disk = open_once(m.path, why);
    std::optional<std::vector<ElfSegment>> segments;
    if (head) segments = parse_program_headers(*head);
    if (!segments && !head && disk) segments = parse_program_headers(disk->bytes());
    if (!segments) continue;  // not an ELF object: a data file mapping
    module.segments = std::move(*segments);
    std::uint64_t low = UINT64_MAX, high = 0, first_vaddr = UINT64_MAX;
    for (const ElfSegment& s : module.segments) {
      if (s.type != PT_LOAD) continue;
      if (first_vaddr == UINT64_MAX) first_vaddr = s.vaddr;
      low = std::min(low, s.vaddr & ~(kPage - 1));
      high = std::max(high, align_up(s.vaddr + s.memsz, kPage));
    }
    if (first_vaddr == UINT64_MAX) continue;
    module.bias = m.start - (first_vaddr & ~(kPage - 1));
    module.start = module.bias + low;
    module.end = module.bias + high;
    module.is_executable = (at_phdr >= module.start && at_phdr < module.end) ||
                           (at_entry >= module.start && at_entry < module.end);
    module.build_id = find_build_id(module.segments, [&](const ElfSegment& s) {
      return core_bytes_at(module.bias + s.vaddr, s.filesz);
    });
    // The file on disk is trusted only when it is the same build.
    if (!disk) {
      module.file_status = "file not readable (" + why + ")";
    } else if (!module.build_id.empty()) {
      if (disk->build_id() == module.build_id) {
        module.file_status = "verified";
        module.file = disk;
      } else {
        module.file_status = "build id differs (core " + module.build_id + ", file " +
                             (disk->build_id().empty() ? "none" : disk->build_id()) + ")";
      }
    } else if (head && disk->bytes().size() >= head->size() &&
               std::memcmp(disk->bytes().data(), head->data(), head->size()) == 0) {
      module.file_status = "no build id; first page matches";
      module.file = disk;
    } else {
      module.file_status = "no build id in the core to check the file against";
    }
    if (!module.file) warn(module.path + ": " + module.file_status + "; its missing pages are not read");
    modules_.push_back(std::move(module));
  }
  std::sort(modules_.begin(), modules_.end(), [](const Module& a, const Module& b) { return a.start < b.start; });
}

void CoreImage::build_regions() {
  std::vector<Region> core_regions;
  for (const LoadSegment& s : core_.loads) {
    if (s.filesz == 0) continue;
    Region r;
    r.start = s.vaddr;
    r.end = s.vaddr + s.filesz;
    r.data = bytes_.data() + s.file_offset;
    r.flags = s.flags;
    r.source = RegionSource::Core;
    core_regions.push_back(r);
  }
  // Flags of an address the core did not dump: its PT_LOAD's when the
  // kernel wrote one, else the module's program header.
  auto flags_for = [&](std::uint64_t address, const Module* module) -> std::uint32_t {
    auto it = std::upper_bound(core_.loads.begin(), core_.loads.end(), address,
                               [](std::uint64_t a, const LoadSegment& s) { return a < s.vaddr; });
    if (it != core_.loads.begin() && address - std::prev(it)->vaddr < std::prev(it)->memsz) return std::prev(it)->flags;
    if (module) {
      for (const ElfSegment& s : module->segments) {
        if (s.type == PT_LOAD && address >= module->bias + (s.vaddr & ~(kPage - 1)) &&
            address < module->bias + align_up(s.vaddr + s.memsz, kPage)) {
          return s.flags;
        }
      }
    }
    return PF_R;
  };
  // Pieces of [start, end) that no core region covers.
  auto uncovered = [&](std::uint64_t start, std::uint64_t end, auto&& emit) {
    auto it = std::upper_bound(core_regions.begin(), core_regions.end(), start,
                               [](std::uint64_t a, const Region& r) { return a < r.start; });
    if (it != core_regions.begin() && std::prev(it)->end > start) --it;
    std::uint64_t pos = start;
    for (; it != core_regions.end() && it->start < end; ++it) {
      if (it->start > pos) emit(pos, it->start);
      pos = std::max(pos, it->end);
    }
    if (pos < end) emit(pos, end);
  };
  std::vector<Region> extra;
  for (std::size_t i = 0; i < core_.files.size(); ++i) {
    const FileMapping& m = core_.files[i];
    const Module* module = module_at(m.start);
    if (module && module->path != m.path) module = nullptr;
    uncovered(m.start, m.end, [&](std::uint64_t a, std::uint64_t b) {
      Region r;
      r.start = a;
      r.end = b;
      r.flags = flags_for(a, module);
      r.mapping = static_cast<std::int32_t>(i);
      if (module && module->file) {
        const std::uint64_t off = m.file_offset + (a - m.start);
        const Bytes file = module->file->bytes();
        if (fits(off, b - a, file.size())) {
          r.data = file.data() + off;
          r.source = RegionSource::File;
        }
      }
      extra.push_back(r);
    });
  }
  // Tails of PT_LOADs left out of the core and not file-backed.
  std::vector<Region> covered = core_regions;
  covered.insert(covered.end(), extra.begin(), extra.end());
  std::sort(covered.begin(), covered.end(), [](const Region& a, const Region& b) { return a.start < b.start; });
  for (const LoadSegment& s : core_.loads) {
    if (s.filesz == s.memsz) continue;
    std::uint64_t pos = s.vaddr + s.filesz;
    const std::uint64_t end = s.vaddr + s.memsz;
    auto it = std::upper_bound(covered.begin(), covered.end(), pos,
                               [](std::uint64_t a, const Region& r) { return a < r.start; });
    if (it != covered.begin() && std::prev(it)->end > pos) --it;
    for (; pos < end; ++it) {
      const std::uint64_t next = (it == covered.end() || it->start >= end) ? end : it->start;
      if (next > pos) {
        Region r;
        r.start = pos;
        r.end = next;
        r.flags = s.flags;
        extra.push_back(r);
      }
      if (it == covered.end() || it->start >= end) break;
      pos = std::max(pos, it->end);
    }
  }
  regions_ = std::move(core_regions);
  regions_.insert(regions_.end(), extra.begin(), extra.end());
  std::sort(regions_.begin(), regions_.end(), [](const Region& a, const Region& b) { return a.start < b.start; });
  for (Region& r : regions_) {
    if (const Module* m = module_at(r.start)) r.module = static_cast<std::int32_t>(m - modules_.data());
    if (r.mapping < 0) {
      auto it = std::upper_bound(core_.files.begin(), core_.files.end(), r.start,
                                 [](std::uint64_t a, const FileMapping& f) { return a < f.start; });
      if (it != core_.files.begin() && r.start < std::prev(it)->end) {
        r.mapping = static_cast<std::int32_t>(std::prev(it) - core_.files.begin());
      }
    }
    if (r.source == RegionSource::File) file_backed_bytes_ += r.size();
    if (r.source == RegionSource::Missing) missing_bytes_ += r.size();
  }
}

const Region* CoreImage::region_at(std::uint64_t address) const {
  if (last_region_ < regions_.size()) {
    const Region& r = regions_[last_region_];
    if (address >= r.start && address < r.end) return &r;
  }
  auto it = std::upper_bound(regions_.begin(), regions_.end(), address,
                             [](std::uint64_t a, const Region& r) { return a < r.start; });
  if (it == regions_.begin()) return nullptr;
  --it;
  if (address >= it->end) return nullptr;
  last_region_ = static_cast<std::size_t>(it - regions_.begin());
  return &*it;
}

const std::uint8_t* CoreImage::pointer(std::uint64_t address, std::uint64_t length) const {
  const Region* r = region_at(address);
  if (!r || !r->data || !fits(address - r->start, length, r->size())) return nullptr;
  return r->data + (address - r->start);
}

bool CoreImage::read(std::uint64_t address, void* out, std::size_t length) const {
  auto* dst = static_cast<std::uint8_t*>(out);
  while (length > 0) {
    const Region* r = region_at(address);
    if (!r || !r->data) return false;
    const std::uint64_t n = std::min<std::uint64_t>(length, r->end - address);
    std::memcpy(dst, r->data + (address - r->start), static_cast<std::size_t>(n));
    dst += n;
    address += n;
    length -= static_cast<std::size_t>(n);
    if (length > 0 && address == 0) return false;  // wrapped
  }
  return true;
}

std::optional<std::uint64_t> CoreImage::u64(std::uint64_t address) const {
  if (const std::uint8_t* p = pointer(address, 8)) return load_u64(p);
  std::uint64_t v;
  if (read(address, &v, 8)) return v;
  return std::nullopt;
}

std::optional<std::string> CoreImage::c_string(std::uint64_t address, std::size_t max_length) const {
  std::string out;
  while (out.size() < max_length) {
    const Region* r = region_at(address);
    if (!r || !r->data) return std::nullopt;
    const auto* begin = r->data + (address - r->start);
    const std::size_t avail = static_cast<std::size_t>(std::min<std::uint64_t>(r->end - address, max_length - out.size()));
    const auto* nul = static_cast<const std::uint8_t*>(std::memchr(begin, 0, avail));
    if (nul) return out.append(reinterpret_cast<const char*>(begin), nul - begin);
    out.append(reinterpret_cast<const char*>(begin), avail);
    address += avail;
  }
  return std::nullopt;
}

const Module* CoreImage::module_at(std::uint64_t address) const {
  auto it = std::upper_bound(modules_.begin(), modules_.end(), address,
                             [](std::uint64_t a, const Module& m) { return a < m.start; });
  if (it == modules_.begin()) return nullptr;
  --it;
  return address < it->end ? &*it : nullptr;
}

const Module* CoreImage::executable() const {
  for (const Module& m : modules_) {
    if (m.is_executable) return &m;
  }
  return nullptr;
}

std::uint64_t CoreImage::static_tls_size() const {
  std::uint64_t size = 0;
  for (const Module& m : modules_) {
    for (const ElfSegment& s : m.segments) {
      if (s.type != PT_TLS) continue;
      const std::uint64_t align = std::clamp<std::uint64_t>(s.align, 16, 4096);
      size += align_up(s.memsz, align) + align;
    }
  }
  return size;
}

std::optional<SymbolHit> CoreImage::symbol_at(std::uint64_t address) const {
  const Module* m = module_at(address);
  if (!m) return std::nullopt;
  const Symbol* s = m->symbol_covering(address);
  if (!s) return std::nullopt;
  return SymbolHit{m, s, m->bias + s->value};
}

std::optional<SymbolHit> CoreImage::find_symbol(std::string_view name, std::string_view module_hint) const {
  for (const Module& m : modules_) {
    if (!module_hint.empty() && m.name.find(module_hint) == std::string::npos) continue;
    if (const Symbol* s = m.find_symbol(name)) return SymbolHit{&m, s, m.bias + s->value};
  }
  return std::nullopt;
}

// Dynamic symbols through PT_DYNAMIC, for a module whose file is not usable.
// ld.so relocates the d_ptr entries in place on x86-64, so values outside
// the module are taken as link-time addresses and biased.
std::vector<Symbol> CoreImage::symbols_from_memory(const Module& module) {
  std::vector<Symbol> symbols;
  const ElfSegment* dynamic = nullptr;
  for (const ElfSegment& s : module.segments) {
    if (s.type == PT_DYNAMIC) dynamic = &s;
  }
  if (!dynamic) return symbols;
  const std::uint8_t* dyn = pointer(module.bias + dynamic->vaddr, dynamic->filesz);
  if (!dyn) return symbols;
  std::uint64_t symtab = 0, strtab = 0, strsz = 0, syment = sizeof(Elf64_Sym), hash = 0, gnu_hash = 0;
  for (std::uint64_t i = 0; i + 16 <= dynamic->filesz; i += 16) {
    const std::uint64_t tag = load_u64(dyn + i);
    const std::uint64_t val = load_u64(dyn + i + 8);
    if (tag == DT_NULL) break;
    if (tag == DT_SYMTAB) symtab = val;
    if (tag == DT_STRTAB) strtab = val;
    if (tag == DT_STRSZ) strsz = val;
    if (tag == DT_SYMENT) syment = val;
    if (tag == DT_HASH) hash = val;
    if (tag == DT_GNU_HASH) gnu_hash = val;
  }
  auto absolute = [&](std::uint64_t v) { return (v >= module.start && v < module.end) ? v : v + module.bias; };
  if (symtab == 0 || strtab == 0 || syment != sizeof(Elf64_Sym)) return symbols;
  symtab = absolute(symtab);
  strtab = absolute(strtab);
  std::uint64_t count = 0;
  if (hash != 0) {
    if (auto n = u64(absolute(hash))) count = *n >> 32;  // nchain
  } else if (gnu_hash != 0) {
    const std::uint64_t h = absolute(gnu_hash);
    std::uint32_t header[4];
    if (!read(h, header, sizeof header) || header[0] > (1u << 24) || header[2] > (1u << 24)) return symbols;
    const std::uint64_t buckets = h + 16 + 8ull * header[2];
    std::uint32_t max_index = 0;
    for (std::uint32_t b = 0; b < header[0]; ++b) {
      std::uint32_t v = 0;
      if (!read(buckets + 4ull * b, &v, 4)) return symbols;
      max_index = std::max(max_index, v);
    }
    count = header[1];  // symbols below symoffset are not hashed
    if (max_index >= header[1]) {
      // Walk the last bucket's chain to its end marker (low bit set).
      const std::uint64_t chains = buckets + 4ull * header[0];
      for (std::uint32_t i = max_index; i < (1u << 24); ++i) {
        std::uint32_t v = 0;
        if (!read(chains + 4ull * (i - header[1]), &v, 4)) return symbols;
        if (v & 1u) {
          count = std::uint64_t{i} + 1;
          break;
        }
      }
    }
  }
  if (count == 0 || count > (1u << 24)) return symbols;
  if (count * sizeof(Elf64_Sym) > bytes_.size() - std::min<std::uint64_t>(memory_symbol_bytes_, bytes_.size())) {
    warn(module.path + ": its symbol table would take the symbols read from memory past the core's size; not read");
    return symbols;
  }
  const std::uint8_t* syms = pointer(symtab, count * sizeof(Elf64_Sym));
  const std::uint8_t* strings = pointer(strtab, strsz);
  if (!syms || !strings) return symbols;
  memory_symbol_bytes_ += count * sizeof(Elf64_Sym);
  for (std::uint64_t i = 1; i < count; ++i) {
    Elf64_Sym sym;
    std::memcpy(&sym, syms + i * sizeof sym, sizeof sym);
    if (sym.st_name >= strsz) continue;
    const char* begin = reinterpret_cast<const char*>(strings + sym.st_name);
    add_symbol_if_useful(symbols, sym.st_value, sym.st_size, sym.st_info, sym.st_shndx,
                         std::string_view(begin, strnlen(begin, strsz - sym.st_name)));
  }
  sort_symbols(symbols);
  return symbols;
}

}  // namespace heapscope::readers::core
