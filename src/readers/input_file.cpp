#include "readers/input_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <iterator>

#include "heapscope/error.hpp"

namespace heapscope::readers {
namespace {

constexpr unsigned char kGzipMagic[] = {0x1f, 0x8b};
constexpr unsigned char kZstdMagic[] = {0x28, 0xb5, 0x2f, 0xfd};

bool starts_with(std::string_view bytes, const unsigned char* magic, std::size_t n) {
  return bytes.size() >= n && std::memcmp(bytes.data(), magic, n) == 0;
}

// The decompressed bytes, kept under a limit: a few kilobytes of gzip or
// zstd can claim gigabytes (a "decompression bomb"), and the whole output
// has to fit in memory at once.
class BoundedOutput {
 public:
  BoundedOutput(std::uint64_t limit, const char* format) : limit_(limit), format_(format) {}

  // Reserves room for the size the compressed stream declares (zstd's frame
  // header, gzip's trailer), plus the padding, so the buffer is not
  // reallocated while it grows: growing by doubling can hold twice the data.
  void expect(std::uint64_t declared) {
    if (declared > 0 && declared <= limit_) bytes_.reserve(static_cast<std::size_t>(declared) + InputFile::kPadding);
  }

  void append(const char* from, std::size_t n, std::uint64_t input_offset) {
    if (n > limit_ - bytes_.size()) {
      throw InputError("decompresses to more than " + std::to_string(limit_) +
                           " bytes, more than this machine's memory; decompress it to a file and read that",
                       input_offset, "", format_);
    }
    bytes_.insert(bytes_.end(), from, from + n);
  }

  std::vector<char> take() { return std::move(bytes_); }

 private:
  std::vector<char> bytes_;
  std::uint64_t limit_;
  const char* format_;
};

// gzip's last four bytes: the size of the last member's data, modulo 2^32.
std::uint64_t gzip_declared_size(std::string_view in) {
  if (in.size() < 18) return 0;
  const auto* tail = reinterpret_cast<const unsigned char*>(in.data() + in.size() - 4);
  return std::uint64_t{tail[0]} | std::uint64_t{tail[1]} << 8 | std::uint64_t{tail[2]} << 16 |
         std::uint64_t{tail[3]} << 24;
}

std::vector<char> gunzip(std::string_view in, std::uint64_t limit) {
  BoundedOutput out(limit, "gzip");
  out.expect(gzip_declared_size(in));
  z_stream z{};
  if (inflateInit2(&z, 15 + 16) != Z_OK) throw InputError("cannot start the gzip decoder", std::nullopt, "", "gzip");
  std::size_t fed = 0;  // input bytes handed to zlib so far
  char chunk[1 << 16];
  auto offset = [&] { return static_cast<std::uint64_t>(fed - z.avail_in); };
  try {
    for (;;) {
      if (z.avail_in == 0 && fed < in.size()) {
        const std::size_t n = std::min<std::size_t>(in.size() - fed, 1u << 30);
        z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data() + fed));
        z.avail_in = static_cast<uInt>(n);
        fed += n;
      }
      z.next_out = reinterpret_cast<Bytef*>(chunk);
      z.avail_out = sizeof chunk;
      const int status = inflate(&z, Z_NO_FLUSH);
      out.append(chunk, sizeof chunk - z.avail_out, offset());
      if (status == Z_STREAM_END) {
        if (z.avail_in == 0 && fed == in.size()) break;
        inflateReset(&z);  // concatenated gzip members are legal: read the next one
        continue;
      }
      if (status == Z_OK) continue;
      if (status == Z_BUF_ERROR && !(z.avail_in == 0 && fed == in.size())) continue;
      throw InputError(status == Z_BUF_ERROR ? "truncated gzip data"
                                             : std::string("corrupt gzip data: ") + (z.msg ? z.msg : "?"),
                       offset(), "", "gzip");
    }
  } catch (...) {
    inflateEnd(&z);
    throw;
  }
  inflateEnd(&z);
  return out.take();
}

std::vector<char> unzstd(std::string_view in, std::uint64_t limit) {
  BoundedOutput out(limit, "zstd");
  const unsigned long long declared = ZSTD_getFrameContentSize(in.data(), in.size());
  if (declared != ZSTD_CONTENTSIZE_UNKNOWN && declared != ZSTD_CONTENTSIZE_ERROR) out.expect(declared);
  std::vector<char> chunk(ZSTD_DStreamOutSize());  // before the context, which a throw here would leak
  ZSTD_DCtx* ctx = ZSTD_createDCtx();
  if (!ctx) throw InputError("cannot start zstd decoder", std::nullopt, "", "zstd");
  ZSTD_inBuffer input{in.data(), in.size(), 0};
  try {
    for (;;) {
      ZSTD_outBuffer output{chunk.data(), chunk.size(), 0};
      const std::size_t consumed_before = input.pos;
      // 0 means "a frame just ended"; concatenated frames are legal, so only
      // a 0 with every input byte consumed ends the stream.
      const std::size_t hint = ZSTD_decompressStream(ctx, &output, &input);
      if (ZSTD_isError(hint)) {
        throw InputError(std::string("corrupt zstd data: ") + ZSTD_getErrorName(hint), input.pos, "", "zstd");
      }
      out.append(chunk.data(), output.pos, input.pos);
      const bool all_input_used = input.pos == input.size;
      if (all_input_used && hint == 0) break;
      const bool stuck = output.pos == 0 && input.pos == consumed_before;
      if (all_input_used && stuck) throw InputError("truncated zstd data", in.size(), "", "zstd");
    }
  } catch (...) {
    ZSTD_freeDCtx(ctx);
    throw;
  }
  ZSTD_freeDCtx(ctx);
  return out.take();
}

std::vector<char> read_stream(std::istream& in) {
  return std::vector<char>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

InputFile::InputFile(InputFile&& other) noexcept { *this = std::move(other); }

FileMapping::~FileMapping() {
  munmap(base_, size_);
  ::close(fd_);
}

InputFile& InputFile::operator=(InputFile&& other) noexcept {
  if (this == &other) return *this;
  path_ = std::move(other.path_);
  owned_ = std::move(other.owned_);
  mapping_ = std::move(other.mapping_);
  compression_ = other.compression_;
  size_ = other.size_;
  padding_ = other.padding_;
  data_ = mapping_ ? other.data_ : owned_.data();
  other.data_ = nullptr;
  other.size_ = 0;
  return *this;
}

InputFile::~InputFile() = default;

void InputFile::adopt_owned(std::vector<char> bytes) {
  mapping_.reset();
  size_ = bytes.size();
  owned_ = std::move(bytes);
  owned_.resize(size_ + kPadding, '\0');
  data_ = owned_.data();
  padding_ = kPadding;
}

std::uint64_t InputFile::default_decompressed_limit() {
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page = sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page <= 0) return std::uint64_t{1} << 40;
  return static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page);
}

void InputFile::decompress_if_needed(std::uint64_t limit) {
  const std::string_view head = bytes();
  const char* format = starts_with(head, kGzipMagic, sizeof kGzipMagic)   ? "gzip"
                       : starts_with(head, kZstdMagic, sizeof kZstdMagic) ? "zstd"
                                                                          : nullptr;
  if (!format) return;
  compression_ = format[0] == 'g' ? Compression::Gzip : Compression::Zstd;
  try {
    adopt_owned(compression_ == Compression::Gzip ? gunzip(head, limit) : unzstd(head, limit));
  } catch (const InputError& e) {
    throw e.with_context(path_, "");
  } catch (const std::bad_alloc&) {
    throw InputError("ran out of memory decompressing it; decompress it to a file and read that", std::nullopt,
                     path_, format);
  }
}

InputFile InputFile::open(const std::string& path, std::uint64_t decompressed_limit) {
  InputFile file;
  file.path_ = path;
  if (path == "-") {
    file.path_ = "<stdin>";
    file.adopt_owned(read_stream(std::cin));
    file.decompress_if_needed(decompressed_limit);
    return file;
  }
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw InputError(std::string("cannot open: ") + std::strerror(errno), std::nullopt, path);
  struct stat info {};
  if (fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    // Pipes and other non-regular files: read them as a stream.
    ::close(fd);
    if (S_ISDIR(info.st_mode)) throw InputError("is a directory", std::nullopt, path);
    FILE* stream = std::fopen(path.c_str(), "rb");
    if (!stream) throw InputError(std::string("cannot open: ") + std::strerror(errno), std::nullopt, path);
    std::vector<char> bytes;
    char chunk[1 << 16];
    for (std::size_t n; (n = std::fread(chunk, 1, sizeof chunk, stream)) > 0;) bytes.insert(bytes.end(), chunk, chunk + n);
    std::fclose(stream);
    file.adopt_owned(std::move(bytes));
    file.decompress_if_needed(decompressed_limit);
    return file;
  }
  const auto size = static_cast<std::size_t>(info.st_size);
  if (size > 0) {
    void* map = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
      ::close(fd);
      throw InputError(std::string("cannot map: ") + std::strerror(errno), std::nullopt, path);
    }
    madvise(map, size, MADV_SEQUENTIAL);
    file.mapping_ = std::make_shared<const FileMapping>(map, size, fd);  // owns fd from here
    file.data_ = static_cast<const char*>(map);
    file.size_ = size;
    // The rest of the last page reads as zeros: usable as padding.
    const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    file.padding_ = (page - size % page) % page;
  } else {
    file.adopt_owned({});
    ::close(fd);
  }
  file.decompress_if_needed(decompressed_limit);
  return file;
}

InputFile InputFile::from_bytes(std::string bytes, std::string display_name, std::uint64_t decompressed_limit) {
  InputFile file;
  file.path_ = std::move(display_name);
  file.adopt_owned(std::vector<char>(bytes.begin(), bytes.end()));
  file.decompress_if_needed(decompressed_limit);
  return file;
}

void InputFile::release_pages() const {
  if (mapping_) release_pages(mapping_->base(), static_cast<const char*>(mapping_->base()) + mapping_->size());
}

void InputFile::release_pages(const void* from, const void* to) const {
  // MADV_DONTNEED on a private read-only file mapping drops the pages; a
  // later read faults them back in from the file, so this is always safe.
  if (!mapping_) return;
  const auto begin = reinterpret_cast<std::uintptr_t>(mapping_->base());
  const std::uintptr_t end = begin + mapping_->size();
  const auto page = static_cast<std::uintptr_t>(sysconf(_SC_PAGESIZE));
  const std::uintptr_t first = (std::max(reinterpret_cast<std::uintptr_t>(from), begin) + page - 1) / page * page;
  const std::uintptr_t last = std::min(reinterpret_cast<std::uintptr_t>(to), end) / page * page;
  if (first < last) madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED);
}

}  // namespace heapscope::readers
