#pragma once
#include <memory>
#include <string>
#include <vector>

#include "readers/reader.hpp"

namespace heapscope::readers {

// V8 .heapsnapshot files (Node's v8.writeHeapSnapshot(), Chrome DevTools),
// with DevTools' retention rules (docs/v8.md).
std::unique_ptr<Reader> make_v8_heapsnapshot_reader();

// The reader's work, exposed for tests and the bench.
HeapGraph read_v8_heapsnapshot(const InputFile& input, std::vector<std::string>& warnings);

// Does head (the first bytes) start like a V8 heap snapshot?
bool looks_like_v8_heapsnapshot(std::string_view head);

}  // namespace heapscope::readers
