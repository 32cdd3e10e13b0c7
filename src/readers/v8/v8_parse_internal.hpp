#pragma once
// Pieces of the parser shared between its files (not for other readers).
#include <cstdint>
#include <string_view>

#include "readers/v8/v8_snapshot.hpp"

namespace heapscope::readers::v8 {

// The `snapshot` object's text (starting at byte `offset` of the file).
Meta parse_header(std::string_view json, std::uint64_t offset);

}  // namespace heapscope::readers::v8
