#pragma once
// One small interface per input format. A reader recognises its format from
// the first bytes (sniff) and turns the input into a Snapshot: a heap graph
// or an allocation-site table. Adding a format = one Reader subclass plus one
// line in registry.cpp.
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "heapscope/heap_graph.hpp"
#include "heapscope/trace_table.hpp"
#include "readers/input_file.hpp"

namespace heapscope::readers {

// Options a user can pass to readers (kept in one struct so the CLI stays
// ignorant of which reader uses which).
struct ReadOptions {
  // tracemalloc: the CPython that wrote the dump ("3.6", "3.7+", or "" to
  // detect); 3.6 keeps tracebacks in another order.
  std::string tracemalloc_python;
};

struct Snapshot {
  std::string path;
  std::string format;                 // the reader's name, e.g. "heapscope-graph"
  std::optional<HeapGraph> graph;     // set by graph formats
  std::optional<TraceTable> traces;   // set by allocation-table formats
  std::vector<std::string> warnings;  // also logged; kept for `info`
};

class Reader {
 public:
  virtual ~Reader() = default;
  // Short stable name, used in messages and `info` ("heapscope-graph").
  virtual std::string_view name() const = 0;
  virtual std::string_view description() const = 0;
  // Does this look like my format? head = the first (decompressed) bytes.
  virtual bool sniff(std::string_view head) const = 0;
  // Reads the whole input. Throws InputError (path/format may be left empty:
  // the registry fills them in).
  virtual Snapshot read(const InputFile& input, const ReadOptions& options) const = 0;
};

// All readers, in sniffing order.
const std::vector<std::unique_ptr<Reader>>& all_readers();

// Opens path, detects the format from its content, reads it. Every
// InputError leaving here names the path and the format.
Snapshot read_snapshot(const std::string& path, const ReadOptions& options = {});
Snapshot read_snapshot(const InputFile& input, const ReadOptions& options = {});

}  // namespace heapscope::readers
