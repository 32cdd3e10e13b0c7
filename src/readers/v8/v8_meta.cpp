// The `snapshot` header: meta (field layout, type lists) and counts, parsed
// with simdjson (it is small; a padded copy costs nothing).
#include <simdjson.h>

#include <algorithm>
#include <string>

#include "heapscope/error.hpp"
#include "readers/v8/v8_parse_internal.hpp"

namespace heapscope::readers::v8 {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

class HeaderReader {
 public:
  explicit HeaderReader(std::uint64_t offset) : offset_(offset) {}

  [[noreturn]] void fail(const std::string& problem) const {
    throw InputError("snapshot header: " + problem, offset_);
  }

  std::vector<std::string> string_list(element value, const std::string& what) const {
    array items;
    if (value.get_array().get(items)) fail(what + " is not an array");
    std::vector<std::string> out;
    for (element item : items) {
      std::string_view text;
      if (item.get_string().get(text)) fail(what + " holds a non-string");
      out.emplace_back(text);
    }
    return out;
  }

  std::optional<std::uint64_t> optional_count(object header, const char* key) const {
    element value;
    if (header[key].get(value)) return std::nullopt;
    std::uint64_t count = 0;
    if (value.get_uint64().get(count)) fail(std::string("\"") + key + "\" is not an unsigned integer");
    return count;
  }

 private:
  std::uint64_t offset_;
};

int field_index(const std::vector<std::string>& fields, std::string_view name) {
  const auto it = std::find(fields.begin(), fields.end(), name);
  return it == fields.end() ? kNoField : static_cast<int>(it - fields.begin());
}

std::uint8_t type_index(const std::vector<std::string>& types, std::string_view name) {
  const auto it = std::find(types.begin(), types.end(), name);
  return it == types.end() ? kNoType : static_cast<std::uint8_t>(it - types.begin());
}

// The type list of a field: meta.node_types[i] must be an array of names
// for the `type` field (other entries are descriptions such as "number").
std::vector<std::string> type_names(const HeaderReader& reader, element types, int position,
                                    const std::string& what) {
  array list;
  if (types.get_array().get(list)) reader.fail(what + " is not an array");
  element entry;
  if (list.at(static_cast<std::size_t>(position)).get(entry)) reader.fail(what + " has no entry for the type field");
  std::vector<std::string> names = reader.string_list(entry, what + "[" + std::to_string(position) + "]");
  if (names.empty()) reader.fail(what + " lists no types");
  if (names.size() >= kNoType) reader.fail(what + " lists more than 254 types");
  return names;
}

}  // namespace

Meta parse_header(std::string_view json, std::uint64_t offset) {
  HeaderReader reader(offset);
  simdjson::dom::parser parser;
  const simdjson::padded_string padded(json);
  element doc;
  if (const auto error = parser.parse(padded).get(doc)) {
    reader.fail(std::string("not valid JSON (") + simdjson::error_message(error) + ")");
  }
  object header;
  if (doc.get_object().get(header)) reader.fail("\"snapshot\" is not an object");
  element meta_value;
  if (header["meta"].get(meta_value)) reader.fail("no \"meta\"");
  object meta_object;
  if (meta_value.get_object().get(meta_object)) reader.fail("\"meta\" is not an object");

  Meta meta;
  element value;
  if (meta_object["node_fields"].get(value)) reader.fail("no meta.node_fields");
  const auto node_fields = reader.string_list(value, "meta.node_fields");
  if (meta_object["edge_fields"].get(value)) reader.fail("no meta.edge_fields");
  const auto edge_fields = reader.string_list(value, "meta.edge_fields");

  meta.node_field_count = node_fields.size();
  meta.node_type = field_index(node_fields, "type");
  meta.node_name = field_index(node_fields, "name");
  meta.node_id = field_index(node_fields, "id");
  meta.node_self_size = field_index(node_fields, "self_size");
  meta.node_edge_count = field_index(node_fields, "edge_count");
  meta.node_detachedness = field_index(node_fields, "detachedness");
  for (const char* required : {"type", "name", "id", "self_size", "edge_count"}) {
    if (field_index(node_fields, required) == kNoField) {
      reader.fail(std::string("meta.node_fields lacks \"") + required + "\"");
    }
  }
  meta.edge_field_count = edge_fields.size();
  meta.edge_type = field_index(edge_fields, "type");
  meta.edge_name = field_index(edge_fields, "name_or_index");
  meta.edge_to = field_index(edge_fields, "to_node");
  for (const char* required : {"type", "name_or_index", "to_node"}) {
    if (field_index(edge_fields, required) == kNoField) {
      reader.fail(std::string("meta.edge_fields lacks \"") + required + "\"");
    }
  }

  if (meta_object["node_types"].get(value)) reader.fail("no meta.node_types");
  meta.node_types = type_names(reader, value, meta.node_type, "meta.node_types");
  if (meta_object["edge_types"].get(value)) reader.fail("no meta.edge_types");
  meta.edge_types = type_names(reader, value, meta.edge_type, "meta.edge_types");

  if (!meta_object["location_fields"].get(value)) {
    const auto fields = reader.string_list(value, "meta.location_fields");
    meta.location_field_count = fields.size();
    meta.location_object = field_index(fields, "object_index");
    meta.location_script = field_index(fields, "script_id");
    meta.location_line = field_index(fields, "line");
    meta.location_column = field_index(fields, "column");
  }

  meta.node_count = reader.optional_count(header, "node_count");
  meta.edge_count = reader.optional_count(header, "edge_count");
  meta.root_index = reader.optional_count(header, "root_index");
  std::string_view title;
  if (!header["title"].get(value) && !value.get_string().get(title)) meta.title = std::string(title);

  const auto& nt = meta.node_types;
  meta.t_hidden = type_index(nt, "hidden");
  meta.t_array = type_index(nt, "array");
  meta.t_string = type_index(nt, "string");
  meta.t_object = type_index(nt, "object");
  meta.t_code = type_index(nt, "code");
  meta.t_closure = type_index(nt, "closure");
  meta.t_regexp = type_index(nt, "regexp");
  meta.t_native = type_index(nt, "native");
  meta.t_synthetic = type_index(nt, "synthetic");
  meta.t_cons_string = type_index(nt, "concatenated string");
  meta.t_sliced_string = type_index(nt, "sliced string");
  const auto& et = meta.edge_types;
  meta.e_context = type_index(et, "context");
  meta.e_element = type_index(et, "element");
  meta.e_property = type_index(et, "property");
  meta.e_internal = type_index(et, "internal");
  meta.e_hidden = type_index(et, "hidden");
  meta.e_shortcut = type_index(et, "shortcut");
  meta.e_weak = type_index(et, "weak");
  return meta;
}

}  // namespace heapscope::readers::v8
