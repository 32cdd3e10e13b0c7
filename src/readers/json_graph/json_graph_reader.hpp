#pragma once
#include <memory>

#include "readers/reader.hpp"

namespace heapscope::readers {

// The heapscope graph format, version 1 (docs/graph-format.md).
std::unique_ptr<Reader> make_json_graph_reader();

// Reads a heapscope graph from bytes; the reader's work, exposed for tests
// and the bench.
HeapGraph read_json_graph(const InputFile& input, std::vector<std::string>& warnings);

}  // namespace heapscope::readers
