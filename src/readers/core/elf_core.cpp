#include "readers/core/elf_core.hpp"

#include <elf.h>

#include <algorithm>
#include <cstdio>

#include "heapscope/error.hpp"

namespace heapscope::readers::core {

namespace {

constexpr std::uint64_t kPhdrSize = sizeof(Elf64_Phdr);  // 56
constexpr std::uint32_t kNtFile = 0x46494c45;            // "FILE"
constexpr std::size_t kPrstatusPid = 32;                 // offset of pr_pid
constexpr std::size_t kPrstatusCursig = 12;
constexpr std::size_t kPrstatusRegs = 112;               // offset of pr_reg
constexpr std::size_t kPrpsinfoFname = 40;
constexpr std::size_t kPrpsinfoArgs = 56;

std::string machine_name(std::uint16_t machine) {
  switch (machine) {
    case EM_386: return "i386";
    case EM_ARM: return "arm";
    case EM_AARCH64: return "aarch64";
    case EM_PPC64: return "ppc64";
    case EM_S390: return "s390";
    case EM_RISCV: return "riscv";
    case EM_MIPS: return "mips";
    default: return "machine " + std::to_string(machine);
  }
}

std::string c_string(Bytes bytes) {
  const auto end = std::find(bytes.begin(), bytes.end(), std::uint8_t{0});
  return std::string(bytes.begin(), end);
}

struct NoteView {
  std::uint32_t type;
  std::string_view name;
  Bytes desc;
  std::uint64_t offset;  // file offset of the note header
};

// Calls f for each note of a PT_NOTE segment; throws on malformed notes.
template <typename F>
void for_each_note(Bytes file, std::uint64_t offset, std::uint64_t size, F&& f) {
  std::uint64_t pos = 0;
  while (pos + 12 <= size) {
    const std::uint8_t* h = file.data() + offset + pos;
    const std::uint64_t namesz = load_u32(h);
    const std::uint64_t descsz = load_u32(h + 4);
    const std::uint32_t type = load_u32(h + 8);
    const std::uint64_t name_at = pos + 12;
    const std::uint64_t desc_at = name_at + align_up(namesz, 4);
    if (!fits(desc_at, descsz, size)) {
      throw InputError("note (type " + std::to_string(type) + ") runs past its segment", offset + pos);
    }
    std::string_view name(reinterpret_cast<const char*>(file.data() + offset + name_at),
                          namesz > 0 ? namesz - 1 : 0);
    f(NoteView{type, name, file.subspan(offset + desc_at, descsz), offset + pos});
    pos = desc_at + align_up(descsz, 4);
  }
}

// The kernel writes one entry per mapping, and mappings never overlap. A
// core repeating entries would make heapscope load the same file again for
// each (a 1 MB core could cost gigabytes), so later overlapping ones go.
void drop_overlapping_files(ElfCore& core) {
  std::size_t kept = 0, dropped = 0;
  for (std::size_t i = 0; i < core.files.size(); ++i) {
    const bool empty = core.files[i].start == core.files[i].end;
    if (empty || (kept > 0 && core.files[i].start < core.files[kept - 1].end)) {
      ++dropped;
      continue;
    }
    if (kept != i) core.files[kept] = std::move(core.files[i]);
    ++kept;
  }
  core.files.resize(kept);
  if (dropped > 0) {
    core.warnings.push_back(std::to_string(dropped) +
                            " file-note (NT_FILE) entries are empty or overlap earlier ones and are ignored; the "
                            "kernel never writes such entries");
  }
}

void parse_nt_file(ElfCore& core, const NoteView& note) {
  const Bytes d = note.desc;
  if (d.size() < 16) throw InputError("NT_FILE note too short", note.offset);
  const std::uint64_t count = load_u64(d.data());
  const std::uint64_t page = load_u64(d.data() + 8);
  if (count > (d.size() - 16) / 24) throw InputError("NT_FILE entry count " + std::to_string(count) + " does not fit its note", note.offset);
  if (page == 0 || (page & (page - 1)) != 0 || page > (1u << 30)) {
    throw InputError("NT_FILE page size " + std::to_string(page) + " is not a power of two", note.offset);
  }
  core.file_page_size = page;
  std::size_t names = 16 + count * 24;
  core.files.reserve(count);
  for (std::uint64_t i = 0; i < count; ++i) {
    const std::uint8_t* e = d.data() + 16 + i * 24;
    FileMapping m;
    m.start = load_u64(e);
    m.end = load_u64(e + 8);
    const std::uint64_t page_offset = load_u64(e + 16);
    if (m.end < m.start || page_offset > (UINT64_MAX / page)) {
      throw InputError("NT_FILE entry " + std::to_string(i) + " has a bad range", note.offset);
    }
    m.file_offset = page_offset * page;
    if (names >= d.size()) throw InputError("NT_FILE names run past the note", note.offset);
    const auto* begin = d.data() + names;
    const auto* end = std::find(begin, d.data() + d.size(), std::uint8_t{0});
    m.path.assign(begin, end);
    names += (end - begin) + 1;
    core.files.push_back(std::move(m));
  }
  std::sort(core.files.begin(), core.files.end(),
            [](const FileMapping& a, const FileMapping& b) { return a.start < b.start; });
  drop_overlapping_files(core);
}

void parse_prstatus(ElfCore& core, const NoteView& note) {
  if (note.desc.size() < kPrstatusRegs + kRegisterCount * 8) {
    throw InputError("NT_PRSTATUS note of " + std::to_string(note.desc.size()) + " bytes (x86-64 needs 336)",
                     note.offset);
  }
  ThreadState t;
  t.lwp = load_u32(note.desc.data() + kPrstatusPid);
  t.signal = load_u16(note.desc.data() + kPrstatusCursig);
  for (std::size_t r = 0; r < kRegisterCount; ++r) t.regs[r] = load_u64(note.desc.data() + kPrstatusRegs + 8 * r);
  core.threads.push_back(t);
}

void parse_note(ElfCore& core, const NoteView& note) {
  if (note.name != "CORE") return;  // LINUX (xstate), GDB (tdesc): not needed
  switch (note.type) {
    case NT_PRSTATUS: parse_prstatus(core, note); break;
    case NT_PRPSINFO:
      if (note.desc.size() >= kPrpsinfoArgs + 80) {
        core.pid = load_u32(note.desc.data() + 24);
        core.command = c_string(note.desc.subspan(kPrpsinfoFname, 16));
        core.args = c_string(note.desc.subspan(kPrpsinfoArgs, 80));
      }
      break;
    case NT_AUXV:
      for (std::size_t i = 0; i + 16 <= note.desc.size(); i += 16) {
        core.auxv.emplace_back(load_u64(note.desc.data() + i), load_u64(note.desc.data() + i + 8));
      }
      break;
    case kNtFile: parse_nt_file(core, note); break;
    default: break;
  }
}

std::uint64_t program_header_count(Bytes file, const Elf64_Ehdr& eh) {
  if (eh.e_phnum != PN_XNUM) return eh.e_phnum;
  // More than 65534 segments: the real count is in section 0's sh_info.
  if (!fits(eh.e_shoff, sizeof(Elf64_Shdr), file.size())) {
    throw InputError("core has PN_XNUM segments but no section header at offset " + std::to_string(eh.e_shoff), 0x3c);
  }
  Elf64_Shdr sh;
  std::memcpy(&sh, file.data() + eh.e_shoff, sizeof sh);
  return sh.sh_info;
}

}  // namespace

std::string hex(std::uint64_t value) {
  char buffer[24];
  std::snprintf(buffer, sizeof buffer, "0x%llx", static_cast<unsigned long long>(value));
  return buffer;
}

bool looks_like_elf_core(Bytes head) {
  if (head.size() < 18 || std::memcmp(head.data(), ELFMAG, SELFMAG) != 0) return false;
  const bool little = head[EI_DATA] == ELFDATA2LSB;
  const std::uint16_t type = little ? load_u16(head.data() + 16) : static_cast<std::uint16_t>((head[16] << 8) | head[17]);
  return type == ET_CORE;
}

std::string core_header_problem(Bytes head) {
  if (head.size() < sizeof(Elf64_Ehdr)) {
    if (head.size() >= 5 && head[EI_CLASS] == ELFCLASS32) return "32-bit ELF core: only x86-64 cores are supported";
    return "truncated ELF header (" + std::to_string(head.size()) + " bytes)";
  }
  if (std::memcmp(head.data(), ELFMAG, SELFMAG) != 0) return "not an ELF file";
  if (head[EI_CLASS] != ELFCLASS64) return "32-bit ELF core: only x86-64 cores are supported";
  if (head[EI_DATA] != ELFDATA2LSB) return "big-endian ELF core: only x86-64 cores are supported";
  Elf64_Ehdr eh;
  std::memcpy(&eh, head.data(), sizeof eh);
  if (eh.e_type != ET_CORE) return "ELF file of type " + std::to_string(eh.e_type) + ", not a core (ET_CORE)";
  if (eh.e_machine != EM_X86_64) return "core of " + machine_name(eh.e_machine) + ": only x86-64 cores are supported";
  if (eh.e_phentsize != kPhdrSize) return "program header entry size " + std::to_string(eh.e_phentsize) + " (expected 56)";
  return {};
}

ElfCore ElfCore::parse(Bytes file) {
  if (std::string problem = core_header_problem(file); !problem.empty()) {
    throw InputError(problem, file.size() < sizeof(Elf64_Ehdr) ? std::optional<std::uint64_t>(file.size())
                                                                : std::optional<std::uint64_t>(0));
  }
  Elf64_Ehdr eh;
  std::memcpy(&eh, file.data(), sizeof eh);
  const std::uint64_t phnum = program_header_count(file, eh);
  if (phnum > file.size() / kPhdrSize || !fits(eh.e_phoff, phnum * kPhdrSize, file.size())) {
    throw InputError("truncated core: its " + std::to_string(phnum) + " program headers at offset " +
                     std::to_string(eh.e_phoff) + " run past the end of the file (" + std::to_string(file.size()) +
                     " bytes)");
  }
  // gcore writes its section header table last: a tail cut off in transit
  // shows there first, even when every segment is still whole.
  if (eh.e_shoff != 0 && eh.e_shnum != 0 &&
      (eh.e_shentsize != sizeof(Elf64_Shdr) ||
       !fits(eh.e_shoff, std::uint64_t{eh.e_shnum} * sizeof(Elf64_Shdr), file.size()))) {
    throw InputError("truncated core: its " + std::to_string(eh.e_shnum) + " section headers at offset " +
                     std::to_string(eh.e_shoff) + " run past the end of the file (" + std::to_string(file.size()) +
                     " bytes)");
  }
  ElfCore core;
  bool saw_note = false;
  for (std::uint64_t i = 0; i < phnum; ++i) {
    const std::uint64_t at = eh.e_phoff + i * kPhdrSize;
    Elf64_Phdr ph;
    std::memcpy(&ph, file.data() + at, sizeof ph);
    if (ph.p_type != PT_LOAD && ph.p_type != PT_NOTE) continue;
    if (!fits(ph.p_offset, ph.p_filesz, file.size())) {
      throw InputError("truncated core: segment " + std::to_string(i) + " (vaddr " + hex(ph.p_vaddr) +
                           ") needs bytes up to " + std::to_string(ph.p_offset + ph.p_filesz) + " but the file has " +
                           std::to_string(file.size()),
                       at);
    }
    if (ph.p_type == PT_NOTE) {
      saw_note = true;
      for_each_note(file, ph.p_offset, ph.p_filesz, [&](const NoteView& note) { parse_note(core, note); });
      continue;
    }
    if (ph.p_filesz > ph.p_memsz || ph.p_vaddr + ph.p_memsz < ph.p_vaddr) {
      throw InputError("segment " + std::to_string(i) + " has file size above memory size or wraps", at);
    }
    if (ph.p_memsz == 0) continue;
    core.loads.push_back({ph.p_vaddr, ph.p_memsz, ph.p_offset, ph.p_filesz, ph.p_flags});
  }
  if (!saw_note) throw InputError("core has no PT_NOTE segment (no threads, no mapped files)", eh.e_phoff);
  std::sort(core.loads.begin(), core.loads.end(),
            [](const LoadSegment& a, const LoadSegment& b) { return a.vaddr < b.vaddr; });
  for (std::size_t i = 1; i < core.loads.size(); ++i) {
    if (core.loads[i].vaddr < core.loads[i - 1].vaddr + core.loads[i - 1].memsz) {
      throw InputError("overlapping PT_LOAD segments at " + hex(core.loads[i].vaddr), eh.e_phoff);
    }
  }
  if (core.threads.empty()) throw InputError("core has no NT_PRSTATUS note (no thread registers)", eh.e_phoff);
  return core;
}

std::uint64_t ElfCore::auxv_value(std::uint64_t type, std::uint64_t fallback) const {
  for (const auto& [key, value] : auxv) {
    if (key == type) return value;
  }
  return fallback;
}

}  // namespace heapscope::readers::core
