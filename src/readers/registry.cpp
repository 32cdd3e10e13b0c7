// The readers heapscope knows, in sniffing order (most specific first), and
// the one entry point that opens a file and picks the reader for it.
#include <algorithm>
#include <new>
#include <string>

#include "heapscope/error.hpp"
#include "readers/core/core_reader.hpp"
#include "readers/json_graph/json_graph_reader.hpp"
#include "readers/reader.hpp"
#include "readers/tracemalloc/tracemalloc_reader.hpp"
#include "readers/v8/v8_reader.hpp"

namespace heapscope::readers {

const std::vector<std::unique_ptr<Reader>>& all_readers() {
  static const std::vector<std::unique_ptr<Reader>> readers = [] {
    std::vector<std::unique_ptr<Reader>> list;
    // One line per format. The heapscope graph reader takes any JSON object,
    // so it stays last.
    list.push_back(make_core_reader());
    list.push_back(make_v8_heapsnapshot_reader());
    list.push_back(make_tracemalloc_reader());
    list.push_back(make_json_graph_reader());
    return list;
  }();
  return readers;
}

Snapshot read_snapshot(const InputFile& input, const ReadOptions& options) {
  if (input.size() == 0) throw InputError("empty file", std::nullopt, input.path());
  const std::string_view head = input.bytes().substr(0, 4096);
  for (const auto& reader : all_readers()) {
    if (!reader->sniff(head)) continue;
    try {
      Snapshot snapshot = reader->read(input, options);
      snapshot.path = input.path();
      snapshot.format = std::string(reader->name());
      return snapshot;
    } catch (const InputError& e) {
      throw e.with_context(input.path(), std::string(reader->name()));
    } catch (const std::bad_alloc&) {
      // Sizes read from the file are checked before they are allocated, so
      // this is a file too big for this machine's memory (or a hostile one
      // that stays under every check): say which.
      throw InputError("ran out of memory reading it (" + std::to_string(input.size()) + " bytes)", std::nullopt,
                       input.path(), std::string(reader->name()));
    }
  }
  std::string known;
  for (const auto& reader : all_readers()) known += (known.empty() ? "" : ", ") + std::string(reader->description());
  throw InputError("unrecognised format (known: " + known + ")", std::nullopt, input.path());
}

Snapshot read_snapshot(const std::string& path, const ReadOptions& options) {
  return read_snapshot(InputFile::open(path), options);
}

}  // namespace heapscope::readers
