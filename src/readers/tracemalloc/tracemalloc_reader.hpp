#pragma once
// tracemalloc dumps: the pickle Snapshot.dump() writes (docs/tracemalloc.md).
// The pickle is interpreted as data by a small, whitelisting pickle machine;
// nothing is imported or executed.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "heapscope/trace_table.hpp"
#include "readers/reader.hpp"

namespace heapscope::readers {

std::unique_ptr<Reader> make_tracemalloc_reader();

// The reader's work, exposed for tests and the bench. Throws InputError
// (with the byte offset) on anything that is not a tracemalloc Snapshot
// pickle, UsageError when options.tracemalloc_python is not a version.
TraceTable read_tracemalloc_pickle(std::string_view bytes, const ReadOptions& options,
                                   std::vector<std::string>& warnings);

// Applies a user's "--python" statement ("3.6", "3.7+", "3.11", ...) or,
// when python is empty, the detection rules, to table.order /
// python_generation / order_assumed. Throws UsageError on a bad version.
void apply_tracemalloc_python(TraceTable& table, std::string_view python, std::vector<std::string>& warnings);

}  // namespace heapscope::readers
