#pragma once
// Little-endian loads from unaligned bytes, and the checked arithmetic every
// offset and size read from a core goes through.
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>

namespace heapscope::readers::core {

using Bytes = std::span<const std::uint8_t>;

inline std::uint64_t load_u64(const std::uint8_t* p) {
  std::uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline std::uint32_t load_u32(const std::uint8_t* p) {
  std::uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline std::uint16_t load_u16(const std::uint8_t* p) {
  std::uint16_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// True when [offset, offset + length) lies inside a buffer of `size` bytes,
// without overflowing.
inline bool fits(std::uint64_t offset, std::uint64_t length, std::uint64_t size) {
  return offset <= size && length <= size - offset;
}

// The sub-span [offset, offset + length), or an empty optional.
inline std::optional<Bytes> slice(Bytes bytes, std::uint64_t offset, std::uint64_t length) {
  if (!fits(offset, length, bytes.size())) return std::nullopt;
  return bytes.subspan(static_cast<std::size_t>(offset), static_cast<std::size_t>(length));
}

// "0x7f12..." for messages and names.
std::string hex(std::uint64_t value);

inline std::uint64_t align_up(std::uint64_t value, std::uint64_t alignment) {
  return (value + alignment - 1) & ~(alignment - 1);
}

}  // namespace heapscope::readers::core
