#pragma once
// A V8 .heapsnapshot as parsed, before any DevTools rule is applied: the
// meta description and the node, edge, string and location tables in
// compact columns (one value per node or edge, not the file's flat rows).
//
// Field layout is always taken from snapshot.meta; only the fields heapscope
// uses are kept. Everything here has been range-checked by the parser:
// types index the type lists, names index `strings`, edge targets are node
// ordinals, and the edge counts add up.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "heapscope/big_vector.hpp"
#include "heapscope/id_column.hpp"
#include "heapscope/u64_column.hpp"
#include "readers/input_file.hpp"

namespace heapscope::readers::v8 {

inline constexpr std::uint8_t kNoType = 0xFF;
inline constexpr int kNoField = -1;

struct Meta {
  // Positions of the fields within a node / edge row (kNoField if absent).
  std::size_t node_field_count = 0;
  int node_type = kNoField, node_name = kNoField, node_id = kNoField, node_self_size = kNoField,
      node_edge_count = kNoField, node_detachedness = kNoField;
  std::size_t edge_field_count = 0;
  int edge_type = kNoField, edge_name = kNoField, edge_to = kNoField;
  std::size_t location_field_count = 0;
  int location_object = kNoField, location_script = kNoField, location_line = kNoField,
      location_column = kNoField;

  std::vector<std::string> node_types;  // node_types[node_type]
  std::vector<std::string> edge_types;  // edge_types[edge_type]

  // Header facts, when present.
  std::optional<std::uint64_t> node_count, edge_count, root_index;
  std::string title;

  // Indices of the types the rules need (kNoType when the list lacks one).
  std::uint8_t t_hidden = kNoType, t_array = kNoType, t_string = kNoType, t_object = kNoType,
               t_code = kNoType, t_closure = kNoType, t_regexp = kNoType, t_native = kNoType,
               t_synthetic = kNoType, t_cons_string = kNoType, t_sliced_string = kNoType;
  std::uint8_t e_context = kNoType, e_element = kNoType, e_property = kNoType, e_internal = kNoType,
               e_hidden = kNoType, e_shortcut = kNoType, e_weak = kNoType;

  // Element and hidden edges carry an index, every other type a string.
  bool edge_has_index(std::uint8_t type) const { return type == e_element || type == e_hidden; }
};

struct Location {
  std::uint32_t node;  // ordinal
  std::uint32_t script_id, line, column;
};

inline constexpr std::uint64_t kEdgeRowsPerOffset = 256;  // 47k offsets (376 KB) for 12M edges

struct Snapshot {
  Meta meta;
  // Per node (ordinal).
  BigVector<std::uint8_t> node_type;
  // node_name and self_size are reserved one entry more than the nodes
  // (first_edge two), so that the graph can adopt them with its
  // super-root's slot put in front in place.
  BigVector<std::uint32_t> node_name;
  // The ids with the graph's super-root slot (0) already in front: node k's
  // is object_id[k + 1]. Runs (IdColumn): V8 numbers objects 2 apart, so
  // 5M ids take about 1 MB here where a plain column took 20.
  IdColumn object_id = IdColumn::runs();
  // Self sizes fit 32 bits for every V8 heap object; an embedder node's may
  // not, and then the column widens.
  U64Column self_size;
  BigVector<std::uint8_t> detachedness;  // empty when meta has no such field
  BigVector<std::uint32_t> first_edge;    // node_count + 1 (prefix sum of edge_count)
  // Per edge, grouped by source node in node order.
  BigVector<std::uint8_t> edge_type;
  BigVector<std::uint32_t> edge_name;  // string index or element/hidden index
  BigVector<std::uint32_t> edge_to;    // target ordinal
  // Where every kEdgeRowsPerOffset-th edge row starts in the file (byte
  // offsets): so one edge can be read again from the file (its label, for
  // a chain) by parsing at most that many rows.
  std::vector<std::uint64_t> edge_row_offsets;
  // Per block of kEdgeRowsPerOffset rows, the sum of their type,
  // name_or_index and to_node fields: a block read again must add up the same.
  std::vector<std::uint64_t> edge_block_sums;
  std::uint64_t edge_rows_end = 0;  // the byte offset just past the edges array
  // The string table, concatenated.
  std::string string_bytes;
  BigVector<std::uint64_t> string_begin;  // string_count + 1
  std::vector<Location> locations;
  std::uint32_t root = 0;  // ordinal of the synthetic root

  std::size_t node_count() const { return node_type.size(); }
  std::size_t edge_count() const { return edge_type.size(); }
  std::size_t string_count() const { return string_begin.empty() ? 0 : string_begin.size() - 1; }
  std::string_view string(std::uint32_t i) const {
    return std::string_view(string_bytes).substr(string_begin[i], string_begin[i + 1] - string_begin[i]);
  }
  // Frees the string table (once it has been copied elsewhere): string()
  // and string_count() may not be called after.
  void drop_strings() {
    std::string().swap(string_bytes);
    BigVector<std::uint64_t>().swap(string_begin);
  }
};

// Parses and validates the whole document. Throws InputError with the byte
// offset of the first problem. When the input is a memory map, pages already
// parsed are handed back to the kernel as the parse goes (the file is read
// once, front to back), so the resident set stays small.
Snapshot parse_snapshot(const InputFile& input);

}  // namespace heapscope::readers::v8
