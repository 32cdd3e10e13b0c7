#pragma once
// The bytes of one input, whatever they came from: a memory-mapped file, a
// decompressed copy of a .gz / .zst file, standard input, or a buffer made
// in a test. Readers never open paths themselves.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace heapscope::readers {

enum class Compression { None, Gzip, Zstd };

// A read-only memory map of a whole file and the file, open, both closed
// when the last owner lets go (an InputFile, or a reader that reads parts of
// the file again later, see shared_mapping). Such later reads use pread on
// fd(), not the map: a file cut short meanwhile then reads short, where a
// read through the map would end the process with SIGBUS.
class FileMapping {
 public:
  FileMapping(void* base, std::size_t size, int fd) : base_(base), size_(size), fd_(fd) {}
  FileMapping(const FileMapping&) = delete;
  FileMapping& operator=(const FileMapping&) = delete;
  ~FileMapping();
  std::string_view bytes() const { return {static_cast<const char*>(base_), size_}; }
  void* base() const { return base_; }
  std::size_t size() const { return size_; }
  int fd() const { return fd_; }

 private:
  void* base_;
  std::size_t size_;
  int fd_;
};

class InputFile {
 public:
  // The most bytes a compressed input may decompress to: the machine's
  // physical memory, as the whole output is held in memory.
  static std::uint64_t default_decompressed_limit();

  // Opens path ("-" is standard input), maps it, and decompresses it when its
  // first bytes are a gzip or zstd magic. Throws InputError, also when the
  // data decompresses to more than decompressed_limit bytes.
  static InputFile open(const std::string& path, std::uint64_t decompressed_limit = default_decompressed_limit());
  // An in-memory input (tests, fuzzing); decompressed like a file.
  static InputFile from_bytes(std::string bytes, std::string display_name = "<memory>",
                              std::uint64_t decompressed_limit = default_decompressed_limit());

  InputFile(InputFile&&) noexcept;
  InputFile& operator=(InputFile&&) noexcept;
  ~InputFile();

  std::string_view bytes() const { return {data_, size_}; }
  const std::uint8_t* data() const { return reinterpret_cast<const std::uint8_t*>(data_); }
  std::size_t size() const { return size_; }
  const std::string& path() const { return path_; }
  Compression compression() const { return compression_; }
  // True when bytes() is a memory map of the file itself (never copied).
  bool is_mapped() const { return mapping_ != nullptr; }
  // The map behind bytes(), for a reader that reads parts of the file again
  // after the read (V8 edge labels); nullptr when not mapped. Its pages are
  // resident only while touched (see release_pages).
  std::shared_ptr<const FileMapping> shared_mapping() const { return mapping_; }

  // At least `padding` readable bytes after the end of bytes()? (simdjson
  // needs 64.) Owned buffers are always padded; maps are not.
  bool has_padding(std::size_t padding) const { return padding <= padding_; }

  static constexpr std::size_t kPadding = 64;

  // Tells the kernel that the mapped bytes will not be read again soon, so
  // they stop counting against the process (they are re-read from the file
  // if they are). For memory-mapped files only; a no-op otherwise. bytes()
  // stays valid.
  void release_pages() const;
  // The same for the whole pages inside [from, to), pointers into bytes();
  // a no-op for anything else.
  void release_pages(const void* from, const void* to) const;

 private:
  InputFile() = default;
  void adopt_owned(std::vector<char> bytes);
  void decompress_if_needed(std::uint64_t limit);

  std::string path_;
  const char* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t padding_ = 0;
  std::shared_ptr<const FileMapping> mapping_;
  std::vector<char> owned_;  // decompressed or read bytes, plus kPadding zeros
  Compression compression_ = Compression::None;
};

}  // namespace heapscope::readers
