#include "readers/core/elf_file.hpp"

#include <elf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace heapscope::readers::core {

MappedFile::~MappedFile() {
  if (size_ > 0) ::munmap(const_cast<std::uint8_t*>(data_), size_);
}

std::unique_ptr<MappedFile> MappedFile::open(const std::string& path, std::string& why) {
  // O_NONBLOCK: a core's file notes name paths the process had mapped,
  // which may now be a FIFO or a device; opening one must not wait (the
  // check below turns it away), and for a regular file the flag changes nothing.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    why = std::strerror(errno);
    return nullptr;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    why = "not a regular file";
    ::close(fd);
    return nullptr;
  }
  if (st.st_size == 0) {
    ::close(fd);
    why = "empty file";
    return nullptr;
  }
  void* map = ::mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED) {
    why = std::strerror(errno);
    return nullptr;
  }
  return std::unique_ptr<MappedFile>(new MappedFile(static_cast<const std::uint8_t*>(map),
                                                    static_cast<std::size_t>(st.st_size)));
}

std::optional<std::vector<ElfSegment>> parse_program_headers(Bytes head) {
  if (head.size() < sizeof(Elf64_Ehdr) || std::memcmp(head.data(), ELFMAG, SELFMAG) != 0 ||
      head[EI_CLASS] != ELFCLASS64 || head[EI_DATA] != ELFDATA2LSB) {
    return std::nullopt;
  }
  Elf64_Ehdr eh;
  std::memcpy(&eh, head.data(), sizeof eh);
  if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == PN_XNUM) return std::nullopt;
  if (!fits(eh.e_phoff, std::uint64_t{eh.e_phnum} * sizeof(Elf64_Phdr), head.size())) return std::nullopt;
  std::vector<ElfSegment> out;
  out.reserve(eh.e_phnum);
  for (std::uint64_t i = 0; i < eh.e_phnum; ++i) {
    Elf64_Phdr ph;
    std::memcpy(&ph, head.data() + eh.e_phoff + i * sizeof ph, sizeof ph);
    out.push_back({ph.p_type, ph.p_flags, ph.p_offset, ph.p_vaddr, ph.p_filesz, ph.p_memsz, ph.p_align});
  }
  return out;
}

std::string find_build_id(const std::vector<ElfSegment>& segments,
                          const std::function<std::optional<Bytes>(const ElfSegment&)>& read_note) {
  for (const ElfSegment& seg : segments) {
    if (seg.type != PT_NOTE) continue;
    const std::optional<Bytes> notes = read_note(seg);
    if (!notes) continue;
    std::uint64_t pos = 0;
    while (pos + 12 <= notes->size()) {
      const std::uint8_t* h = notes->data() + pos;
      const std::uint64_t namesz = load_u32(h);
      const std::uint64_t descsz = load_u32(h + 4);
      const std::uint32_t type = load_u32(h + 8);
      const std::uint64_t desc_at = pos + 12 + align_up(namesz, 4);
      if (!fits(desc_at, descsz, notes->size())) break;
      if (type == NT_GNU_BUILD_ID && namesz == 4 && std::memcmp(h + 12, "GNU", 4) == 0 && descsz > 0) {
        static const char* digits = "0123456789abcdef";
        std::string id;
        for (std::uint64_t i = 0; i < descsz; ++i) {
          const std::uint8_t b = (*notes)[desc_at + i];
          id += digits[b >> 4];
          id += digits[b & 15];
        }
        return id;
      }
      pos = desc_at + align_up(descsz, 4);
    }
  }
  return {};
}

std::unique_ptr<ElfFile> ElfFile::open(const std::string& path, std::string& why) {
  auto file = std::unique_ptr<ElfFile>(new ElfFile());
  file->file_ = MappedFile::open(path, why);
  if (!file->file_) return nullptr;
  const Bytes bytes = file->file_->bytes();
  auto segments = parse_program_headers(bytes);
  if (!segments) {
    why = "not a 64-bit ELF object";
    return nullptr;
  }
  file->segments_ = std::move(*segments);
  file->build_id_ = find_build_id(file->segments_, [&](const ElfSegment& s) { return slice(bytes, s.offset, s.filesz); });

  Elf64_Ehdr eh;
  std::memcpy(&eh, bytes.data(), sizeof eh);
  if (eh.e_shoff == 0 || eh.e_shentsize != sizeof(Elf64_Shdr)) return file;  // no sections: fine
  std::uint64_t count = eh.e_shnum;
  std::uint64_t strndx = eh.e_shstrndx;
  if (!fits(eh.e_shoff, sizeof(Elf64_Shdr), bytes.size())) return file;
  Elf64_Shdr first;
  std::memcpy(&first, bytes.data() + eh.e_shoff, sizeof first);
  if (count == 0) count = first.sh_size;
  if (strndx == SHN_XINDEX) strndx = first.sh_link;
  if (count > bytes.size() / sizeof(Elf64_Shdr) || !fits(eh.e_shoff, count * sizeof(Elf64_Shdr), bytes.size())) {
    return file;
  }
  std::vector<Elf64_Shdr> headers(count);
  std::memcpy(headers.data(), bytes.data() + eh.e_shoff, count * sizeof(Elf64_Shdr));
  std::optional<Bytes> names;
  if (strndx < count) names = slice(bytes, headers[strndx].sh_offset, headers[strndx].sh_size);
  for (const Elf64_Shdr& sh : headers) {
    ElfSection section;
    if (names && sh.sh_name < names->size()) {
      const char* begin = reinterpret_cast<const char*>(names->data() + sh.sh_name);
      section.name = std::string_view(begin, strnlen(begin, names->size() - sh.sh_name));
    }
    section.type = sh.sh_type;
    section.flags = sh.sh_flags;
    section.addr = sh.sh_addr;
    section.size = sh.sh_size;
    file->sections_.push_back(section);
    file->section_links_.push_back(sh.sh_link);
    file->section_offsets_.push_back(sh.sh_offset);
    file->section_entsizes_.push_back(sh.sh_entsize);
  }
  return file;
}

void add_symbol_if_useful(std::vector<Symbol>& out, std::uint64_t value, std::uint64_t size, std::uint8_t info,
                          std::uint16_t shndx, std::string_view name) {
  const std::uint8_t type = ELF64_ST_TYPE(info);
  if (shndx == SHN_UNDEF || name.empty()) return;
  if (type != STT_OBJECT && type != STT_FUNC && type != STT_TLS && type != STT_GNU_IFUNC) return;
  out.push_back({value, size, name, type});
}

void sort_symbols(std::vector<Symbol>& symbols) {
  std::sort(symbols.begin(), symbols.end(), [](const Symbol& a, const Symbol& b) {
    if (a.value != b.value) return a.value < b.value;
    if (a.size != b.size) return a.size > b.size;
    return a.name < b.name;
  });
  symbols.erase(std::unique(symbols.begin(), symbols.end(),
                            [](const Symbol& a, const Symbol& b) {
                              return a.value == b.value && a.size == b.size && a.name == b.name;
                            }),
                symbols.end());
}

void ElfFile::read_symbol_table(const ElfSection& table, std::uint32_t link, std::vector<Symbol>& out) const {
  const Bytes bytes = file_->bytes();
  const std::size_t index = static_cast<std::size_t>(&table - sections_.data());
  const auto syms = slice(bytes, section_offsets_[index], table.size);
  if (!syms || link >= sections_.size()) return;
  const auto strings = slice(bytes, section_offsets_[link], sections_[link].size);
  if (!strings) return;
  const std::uint64_t count = syms->size() / sizeof(Elf64_Sym);
  for (std::uint64_t i = 1; i < count; ++i) {
    Elf64_Sym sym;
    std::memcpy(&sym, syms->data() + i * sizeof sym, sizeof sym);
    if (sym.st_name >= strings->size()) continue;
    const char* begin = reinterpret_cast<const char*>(strings->data() + sym.st_name);
    const std::string_view name(begin, strnlen(begin, strings->size() - sym.st_name));
    add_symbol_if_useful(out, sym.st_value, sym.st_size, sym.st_info, sym.st_shndx, name);
  }
}

std::vector<Symbol> ElfFile::symbols() const {
  std::vector<Symbol> out;
  for (std::size_t i = 0; i < sections_.size(); ++i) {
    if (sections_[i].type == SHT_SYMTAB || sections_[i].type == SHT_DYNSYM) {
      read_symbol_table(sections_[i], section_links_[i], out);
    }
  }
  sort_symbols(out);
  return out;
}

}  // namespace heapscope::readers::core
