#pragma once
// ELF objects that a core maps: the executable and its libraries. They are
// parsed from the file on disk (mapped read-only) when it is there, or from
// the few pages of them the core holds (ELF header, program headers, build
// id note, dynamic symbols).
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "readers/core/bytes.hpp"

namespace heapscope::readers::core {

struct ElfSegment {
  std::uint32_t type = 0;
  std::uint32_t flags = 0;
  std::uint64_t offset = 0;
  std::uint64_t vaddr = 0;
  std::uint64_t filesz = 0;
  std::uint64_t memsz = 0;
  std::uint64_t align = 0;
};

struct ElfSection {
  std::string_view name;
  std::uint32_t type = 0;
  std::uint64_t flags = 0;
  std::uint64_t addr = 0;
  std::uint64_t size = 0;
};

// A symbol of an ELF object; value is the link-time address (add the
// module's load bias). name points into the file or the core mapping.
struct Symbol {
  std::uint64_t value = 0;
  std::uint64_t size = 0;
  std::string_view name;
  std::uint8_t type = 0;  // STT_OBJECT, STT_FUNC, STT_TLS
};

// A read-only private mapping of a whole file on disk.
class MappedFile {
 public:
  // nullptr (and `why` set) when the file cannot be opened or mapped.
  static std::unique_ptr<MappedFile> open(const std::string& path, std::string& why);
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();
  Bytes bytes() const { return {data_, size_}; }

 private:
  MappedFile(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  const std::uint8_t* data_;
  std::size_t size_;
};

// Program headers from the first bytes of an ELF object (ELF header and the
// program header table, wherever they are: a file or a core page). nullopt
// when the bytes are not a 64-bit little-endian ELF header or are cut short.
std::optional<std::vector<ElfSegment>> parse_program_headers(Bytes head);

// The GNU build id (lower-case hex) in the PT_NOTE segments of an object,
// reading the notes through `read_note` (segment -> its bytes, or nullopt).
std::string find_build_id(const std::vector<ElfSegment>& segments,
                          const std::function<std::optional<Bytes>(const ElfSegment&)>& read_note);

// An ELF object on disk, with its sections and symbols.
class ElfFile {
 public:
  // nullptr (and `why` set) when the file is missing or is not a usable ELF.
  static std::unique_ptr<ElfFile> open(const std::string& path, std::string& why);

  Bytes bytes() const { return file_->bytes(); }
  const std::vector<ElfSegment>& segments() const { return segments_; }
  const std::vector<ElfSection>& sections() const { return sections_; }
  const std::string& build_id() const { return build_id_; }
  // .symtab and .dynsym objects, functions and TLS symbols, sorted by value,
  // duplicates removed.
  std::vector<Symbol> symbols() const;

 private:
  ElfFile() = default;
  void read_symbol_table(const ElfSection& table, std::uint32_t link, std::vector<Symbol>& out) const;
  std::unique_ptr<MappedFile> file_;
  std::vector<ElfSegment> segments_;
  std::vector<ElfSection> sections_;
  std::vector<std::uint32_t> section_links_;  // sh_link per section
  std::vector<std::uint64_t> section_offsets_;
  std::vector<std::uint64_t> section_entsizes_;
  std::string build_id_;
};

// Symbol helpers shared by the file and in-memory readers.
void add_symbol_if_useful(std::vector<Symbol>& out, std::uint64_t value, std::uint64_t size, std::uint8_t info,
                          std::uint16_t shndx, std::string_view name);
void sort_symbols(std::vector<Symbol>& symbols);

}  // namespace heapscope::readers::core
