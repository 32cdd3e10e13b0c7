#pragma once
// The address space of a crashed or gcore'd process, as a core shows it:
// the dumped PT_LOAD segments, and for file-backed pages the core left out
// (coredump_filter 0x33 drops read-only file pages) the bytes of the mapped
// file on disk, used only when its build id matches the one in the core.
// Plus the loaded ELF modules with their symbols, and the threads.
//
// This is the layer every core analysis sits on (the glibc heap walk here,
// the CPython object layer later): it owns no policy about heaps.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "readers/core/bytes.hpp"
#include "readers/core/elf_core.hpp"
#include "readers/core/elf_file.hpp"

namespace heapscope::readers::core {

enum class RegionSource : std::uint8_t { Core, File, Missing };

// A contiguous piece of the address space with one source.
struct Region {
  std::uint64_t start = 0;
  std::uint64_t end = 0;
  const std::uint8_t* data = nullptr;  // bytes of [start, end); nullptr when missing
  std::uint32_t flags = 0;             // PF_R | PF_W | PF_X
  std::int32_t module = -1;            // index into modules(), -1 if none
  std::int32_t mapping = -1;           // index into core().files, -1 if anonymous
  RegionSource source = RegionSource::Missing;

  bool writable() const { return (flags & 2u) != 0; }
  bool readable() const { return data != nullptr; }
  std::uint64_t size() const { return end - start; }
};

// A loaded ELF object (the executable, a shared library, ld.so, the vdso
// is not one: it has no NT_FILE entry).
struct Module {
  std::string path;
  std::string name;  // basename
  std::uint64_t bias = 0;
  std::uint64_t start = 0;  // lowest address of its PT_LOADs (biased)
  std::uint64_t end = 0;    // end of its highest PT_LOAD, .bss included
  bool is_executable = false;
  std::vector<ElfSegment> segments;  // link-time addresses
  std::string build_id;               // from the core's copy of the note ("" unknown)
  std::string file_status;            // "verified", "no build id", or why the file is not used
  // The on-disk file when it matches, and the symbols (from the file, else
  // from the core's memory). Shared by the modules of one path: a file
  // mapped at several addresses is opened and read once.
  std::shared_ptr<const ElfFile> file;
  std::shared_ptr<const std::vector<Symbol>> symbol_table;

  // Sorted by value (link-time addresses).
  const std::vector<Symbol>& symbols() const;
  // From the file; empty when it is not used.
  const std::vector<ElfSection>& sections() const;

  // The section holding `address` (biased), "" when unknown.
  std::string_view section_at(std::uint64_t address) const;
  const Symbol* symbol_covering(std::uint64_t address) const;
  const Symbol* find_symbol(std::string_view symbol_name) const;
};

struct SymbolHit {
  const Module* module = nullptr;
  const Symbol* symbol = nullptr;
  std::uint64_t address = 0;  // biased address of the symbol
};

class CoreImage {
 public:
  // Parses the core (throws InputError on a bad container) and resolves the
  // mapped files. Non-fatal problems land in warnings(). `core_bytes` must
  // outlive the image (it is the mapped core file).
  explicit CoreImage(Bytes core_bytes);
  CoreImage(const CoreImage&) = delete;
  CoreImage& operator=(const CoreImage&) = delete;

  const ElfCore& core() const { return core_; }
  const std::vector<ThreadState>& threads() const { return core_.threads; }
  const std::vector<Region>& regions() const { return regions_; }
  const std::vector<Module>& modules() const { return modules_; }
  const std::vector<std::string>& warnings() const { return warnings_; }
  void warn(std::string message) const;

  // The region containing address, or nullptr.
  const Region* region_at(std::uint64_t address) const;
  // Pointer to `length` readable bytes at address when they are contiguous
  // in one region, else nullptr.
  const std::uint8_t* pointer(std::uint64_t address, std::uint64_t length) const;
  // Copies bytes, crossing regions; false when any byte is missing.
  bool read(std::uint64_t address, void* out, std::size_t length) const;
  std::optional<std::uint64_t> u64(std::uint64_t address) const;
  // A NUL-terminated string of at most max_length bytes.
  std::optional<std::string> c_string(std::uint64_t address, std::size_t max_length = 256) const;

  const Module* module_at(std::uint64_t address) const;
  const Module* executable() const;
  // Size of the static TLS blocks below each thread pointer (fs_base): the
  // PT_TLS segments of the loaded modules, each aligned. An upper bound.
  std::uint64_t static_tls_size() const;
  // The symbol covering address, if any.
  std::optional<SymbolHit> symbol_at(std::uint64_t address) const;
  // First module (whose name contains module_hint, when given) defining it.
  std::optional<SymbolHit> find_symbol(std::string_view name, std::string_view module_hint = {}) const;

  // Bytes of the core that were read from files on disk, and bytes missing.
  std::uint64_t file_backed_bytes() const { return file_backed_bytes_; }
  std::uint64_t missing_bytes() const { return missing_bytes_; }

 private:
  void build_modules();
  void load_symbols(std::vector<Module>& modules);
  std::vector<Symbol> symbols_from_memory(const Module& module);
  void build_regions();
  std::optional<Bytes> core_bytes_at(std::uint64_t address, std::uint64_t length) const;

  Bytes bytes_;
  ElfCore core_;
  std::vector<Module> modules_;
  std::vector<Region> regions_;
  mutable std::vector<std::string> warnings_;
  mutable std::size_t last_region_ = 0;
  std::uint64_t file_backed_bytes_ = 0;
  std::uint64_t missing_bytes_ = 0;
  // Symbol-table bytes read from the core's memory so far: at most the
  // core's size, or a hostile core could point many modules at one table.
  std::uint64_t memory_symbol_bytes_ = 0;
};

}  // namespace heapscope::readers::core
