#pragma once
// The ELF container of a Linux x86-64 core: program headers and notes. Only
// offsets and small tables are kept; the segment bytes stay in the mapped
// core file and are reached through CoreImage.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "readers/core/bytes.hpp"

namespace heapscope::readers::core {

// One PT_LOAD: memory [vaddr, vaddr + memsz); the first filesz bytes are in
// the core at file_offset (the kernel writes filesz 0 for what the
// coredump_filter left out; gdb leaves such mappings out altogether).
struct LoadSegment {
  std::uint64_t vaddr = 0;
  std::uint64_t memsz = 0;
  std::uint64_t file_offset = 0;
  std::uint64_t filesz = 0;
  std::uint32_t flags = 0;  // PF_R | PF_W | PF_X
};

// One NT_FILE entry: [start, end) maps `path` from byte `file_offset`.
struct FileMapping {
  std::uint64_t start = 0;
  std::uint64_t end = 0;
  std::uint64_t file_offset = 0;
  std::string path;
};

// struct user_regs_struct, in its order.
inline constexpr std::size_t kRegisterCount = 27;
inline constexpr std::array<std::string_view, kRegisterCount> kRegisterNames = {
    "r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8", "rax", "rcx", "rdx", "rsi",
    "rdi", "orig_rax", "rip", "cs", "eflags", "rsp", "ss", "fs_base", "gs_base", "ds", "es", "fs", "gs"};
inline constexpr std::size_t kRegRsp = 19;
inline constexpr std::size_t kRegFsBase = 21;
inline constexpr std::size_t kRegRip = 16;

struct ThreadState {
  std::uint32_t lwp = 0;  // pr_pid: the thread id
  std::uint32_t signal = 0;
  std::array<std::uint64_t, kRegisterCount> regs{};
  std::uint64_t rsp() const { return regs[kRegRsp]; }
  std::uint64_t fs_base() const { return regs[kRegFsBase]; }
};

struct ElfCore {
  std::vector<LoadSegment> loads;  // sorted by vaddr, non-overlapping
  std::vector<FileMapping> files;  // sorted by start
  std::vector<ThreadState> threads;  // in note order: thread 1 first
  std::vector<std::pair<std::uint64_t, std::uint64_t>> auxv;
  std::uint64_t file_page_size = 4096;  // from NT_FILE
  std::uint32_t pid = 0;
  std::string command;  // pr_fname
  std::string args;     // pr_psargs
  std::vector<std::string> warnings;

  // Parses and checks the whole container. Throws InputError with the byte
  // offset of the first problem (truncation, other architecture, bad note).
  static ElfCore parse(Bytes file);

  std::uint64_t auxv_value(std::uint64_t type, std::uint64_t fallback = 0) const;
};

// Why `head` is not an x86-64 core ("" when it is one); used by sniff and
// by parse so both give the same message.
std::string core_header_problem(Bytes head);
// True for any ELF core (whatever the machine): sniff claims those so other
// architectures get a clear message instead of "unrecognised format".
bool looks_like_elf_core(Bytes head);

}  // namespace heapscope::readers::core
