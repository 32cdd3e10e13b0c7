// Edge labels of a memory-mapped V8 snapshot stay in the file and are read
// back when asked for (FileEdgeLabels in v8_reader.cpp). On a real snapshot
// written by Node at test time: every edge's label read back equals the
// label the in-memory read keeps, and a file changed after the read gives
// an InputError, not a wrong label.
#include <doctest/doctest.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include "heapscope/error.hpp"
#include "heapscope/heap_graph.hpp"
#include "readers/input_file.hpp"
#include "readers/v8/v8_reader.hpp"

#ifndef HEAPSCOPE_SOURCE_DIR
#error "HEAPSCOPE_SOURCE_DIR must be defined"
#endif

using namespace heapscope;
using readers::InputFile;

namespace {

// Writes a snapshot of testdata/v8/leaks.js's "map" scenario; exits 77
// (ctest: skipped) when node is not on PATH.
std::string node_snapshot() {
  if (std::system("command -v node > /dev/null 2>&1") != 0) {
    std::fprintf(stderr, "skipped: node is not on PATH\n");
    std::exit(77);
  }
  const char* work = std::getenv("HEAPSCOPE_WORK_DIR");
  const std::string dir = std::string(work && *work ? work : "/tmp") + "/v8/reader";
  const std::string path = dir + "/map.heapsnapshot";
  const std::string cmd = "mkdir -p " + dir + " && node " + std::string(HEAPSCOPE_SOURCE_DIR) +
                          "/testdata/v8/leaks.js map " + path + " 300";
  REQUIRE(std::system(cmd.c_str()) == 0);
  return path;
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

HeapGraph read_graph(const InputFile& input) {
  std::vector<std::string> warnings;
  return readers::read_v8_heapsnapshot(input, warnings);
}

}  // namespace

TEST_CASE("V8 edge labels read back from the file equal the labels kept in memory, until the file changes") {
  const std::string path = node_snapshot();
  const std::string bytes = read_all(path);
  const InputFile in_memory_input = InputFile::from_bytes(bytes, "copy");  // not mapped: labels kept
  const HeapGraph kept = read_graph(in_memory_input);

  // A copy of the file, so the original stays intact for the other tests.
  const std::string copy = path + ".copy";
  std::ofstream(copy, std::ios::binary) << bytes;
  HeapGraph from_file = [&] {
    const InputFile mapped = InputFile::open(copy);
    REQUIRE(mapped.is_mapped());
    return read_graph(mapped);  // the graph keeps the map; the InputFile goes
  }();
  REQUIRE(from_file.edge_count() == kept.edge_count());
  REQUIRE(from_file.edge_count() > 10'000);
  std::size_t differing = 0;
  for (EdgeIndex e = 0; e < kept.edge_count(); ++e) {
    differing += from_file.label_text(from_file.edge_label(e)) == kept.label_text(kept.edge_label(e)) ? 0 : 1;
  }
  CHECK(differing == 0);

  // Two changes made in place (the graph keeps the file mapped):
  //  - the middle edge's to_node moved to the next node: the row still
  //    parses, and its name is as valid as before, but it is another edge;
  //  - every digit of a stretch further on shifted by one: garbage.
  // Node writes edge rows as "type,name_or_index,to_node" (asserted).
  REQUIRE(bytes.find("\"edge_fields\":[\"type\",\"name_or_index\",\"to_node\"]") != std::string::npos);
  const std::size_t node_fields_at = bytes.find("\"node_fields\":[");
  const std::size_t node_fields_end = bytes.find(']', node_fields_at);
  const auto node_fields = static_cast<std::uint64_t>(
      std::count(bytes.begin() + static_cast<std::ptrdiff_t>(node_fields_at),
                 bytes.begin() + static_cast<std::ptrdiff_t>(node_fields_end), ',') + 1);
  const std::size_t edges_start = bytes.find("\"edges\":[") + std::string("\"edges\":[").size();
  const std::size_t edges_end = bytes.find(']', edges_start);
  // Where each number of the edges array starts.
  std::vector<std::size_t> numbers;
  for (std::size_t i = edges_start; i < edges_end; ++i) {
    if (std::isdigit(static_cast<unsigned char>(bytes[i])) && !std::isdigit(static_cast<unsigned char>(bytes[i - 1]))) {
      numbers.push_back(i);
    }
  }
  const EdgeIndex roots = kept.out_begin(1);  // the graph puts the roots' edges first
  REQUIRE(numbers.size() == 3 * (kept.edge_count() - roots));
  std::string changed = bytes;
  const std::size_t middle_row = numbers.size() / 3 / 2;
  const std::size_t to_at = numbers[3 * middle_row + 2];
  std::size_t to_length = 0;
  while (std::isdigit(static_cast<unsigned char>(bytes[to_at + to_length]))) ++to_length;
  const std::uint64_t to = std::stoull(bytes.substr(to_at, to_length));
  std::string moved = std::to_string(to + node_fields);
  if (moved.size() != to_length) moved = std::to_string(to - node_fields);
  REQUIRE(moved.size() == to_length);
  changed.replace(to_at, to_length, moved);
  const std::size_t garbage_row = numbers.size() / 3 * 3 / 4;
  for (std::size_t i = numbers[3 * garbage_row] - 2000; i < numbers[3 * garbage_row] + 2000; ++i) {
    if (changed[i] >= '0' && changed[i] <= '9') changed[i] = static_cast<char>('0' + (changed[i] - '0' + 1) % 10);
  }
  {
    std::fstream file(copy, std::ios::binary | std::ios::in | std::ios::out);
    file.write(changed.data(), static_cast<std::streamsize>(changed.size()));
  }
  for (const std::size_t row : {middle_row, garbage_row}) {
    std::string message;
    try {
      (void)from_file.edge_label(roots + row);
    } catch (const InputError& e) {
      message = e.what();
    }
    CHECK_MESSAGE(message.find("changed after it was read") != std::string::npos, "row ", row, ": ", message);
    CHECK(message.find(copy) != std::string::npos);
  }
  // Edges far from the changes still read back.
  CHECK(from_file.label_text(from_file.edge_label(roots)) == kept.label_text(kept.edge_label(roots)));

  // The file cut short: the last edge reads short, an error too (through
  // the map it would be SIGBUS), and the first still reads back.
  REQUIRE(truncate(copy.c_str(), static_cast<off_t>(numbers[numbers.size() / 2])) == 0);
  std::string message;
  try {
    (void)from_file.edge_label(from_file.edge_count() - 1);
  } catch (const InputError& e) {
    message = e.what();
  }
  CHECK_MESSAGE(message.find("changed after it was read") != std::string::npos, message);
  CHECK(from_file.label_text(from_file.edge_label(roots)) == kept.label_text(kept.edge_label(roots)));
  // A chain's labels in one call, the roots' from the column and the rest
  // read back, as chains ask for them.
  const std::vector<EdgeIndex> some{0, roots, roots + 1, roots + 300};
  const std::vector<EdgeLabel> batch = from_file.edge_labels(some);
  for (std::size_t i = 0; i < some.size(); ++i) {
    CHECK(from_file.label_text(batch[i]) == kept.label_text(kept.edge_label(some[i])));
  }
}
