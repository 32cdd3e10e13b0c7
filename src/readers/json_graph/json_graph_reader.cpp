// heapscope graph reader. simdjson's On-Demand API walks the document in
// one pass without building a DOM (about 4x nlohmann's SAX here, see the
// README), so a 10M-node file costs only the graph it becomes.
#include "readers/json_graph/json_graph_reader.hpp"

#include <simdjson.h>
#include <spdlog/spdlog.h>

#include <charconv>

#include "heapscope/error.hpp"

namespace heapscope::readers {
namespace {

namespace od = simdjson::ondemand;

constexpr std::string_view kFormatName = "heapscope-graph";
constexpr std::uint64_t kSupportedVersion = 1;

// A ref name "[12]" becomes an index label; anything else is interned.
EdgeLabel label_for(GraphBuilder& builder, std::string_view name) {
  if (name.empty()) return {};
  if (name.size() >= 3 && name.front() == '[' && name.back() == ']') {
    std::uint32_t index = 0;
    const char* first = name.data() + 1;
    const char* last = name.data() + name.size() - 1;
    const auto [ptr, ec] = std::from_chars(first, last, index);
    if (ec == std::errc() && ptr == last && index <= EdgeLabel::kMaxIndex && (first[0] != '0' || last - first == 1)) {
      return EdgeLabel::index(index);
    }
  }
  return EdgeLabel::named(builder.intern(name));
}

class GraphDocumentReader {
 public:
  GraphDocumentReader(const InputFile& input, std::vector<std::string>& warnings)
      : input_(input), warnings_(warnings) {}

  HeapGraph read() {
    simdjson::padded_string copy;
    simdjson::padded_string_view view;
    if (input_.has_padding(simdjson::SIMDJSON_PADDING)) {
      view = simdjson::padded_string_view(input_.bytes().data(), input_.size(),
                                          input_.size() + simdjson::SIMDJSON_PADDING);
    } else {
      copy = simdjson::padded_string(input_.bytes().data(), input_.size());
      view = copy;
    }
    base_ = view.data();
    if (input_.size() > 0xFFFFFFFFull) throw InputError("JSON graphs over 4 GiB are not supported; split the dump");
    try {
      document_ = parser_.iterate(view);
      read_top_level();
    } catch (const simdjson::simdjson_error& e) {
      throw InputError(std::string("invalid JSON: ") + simdjson::error_message(e.error()), location());
    }
    // The document is consumed: give back simdjson's structural index (about
    // 4 bytes per JSON token) and the file's pages before the graph build
    // doubles the edge arrays; that is the peak of a whole `analyze`.
    document_ = {};
    parser_ = simdjson::ondemand::parser();
    copy = simdjson::padded_string();
    input_.release_pages();
    return finish();
  }

 private:
  std::optional<std::uint64_t> location() {
    const char* where = nullptr;
    if (document_.current_location().get(where) != simdjson::SUCCESS || where == nullptr) return std::nullopt;
    return static_cast<std::uint64_t>(where - base_);
  }

  // Messages about a node name it by its position (and id once known);
  // composing that text only on failure keeps the hot loop allocation-free.
  [[noreturn]] void fail(const std::string& problem) {
    std::string where;
    if (current_node_) {
      where = "node #" + std::to_string(*current_node_);
      if (current_id_) where += " (id " + std::to_string(*current_id_) + ")";
      where += ": ";
    }
    throw InputError(where + problem, location());
  }

  std::uint64_t unsigned_field(od::value value, const char* what) {
    std::uint64_t n = 0;
    if (value.get_uint64().get(n) != simdjson::SUCCESS) {
      fail(std::string(what) + " must be a non-negative integer below 2**64");
    }
    return n;
  }

  void read_top_level() {
    od::object root;
    const simdjson::error_code error = document_.get_object().get(root);
    if (error == simdjson::INCORRECT_TYPE) fail("the document is not a JSON object");
    if (error != simdjson::SUCCESS) {
      // simdjson checks the structure up front: a truncated or unbalanced
      // file fails here, before any field is read.
      fail(std::string("invalid JSON (truncated or unbalanced?): ") + simdjson::error_message(error));
    }
    for (auto field : root) {
      const std::string_view key = field.unescaped_key();
      od::value value = field.value();
      if (key == "nodes") {
        read_nodes(value);
        seen_nodes_ = true;
      } else if (key == "roots") {
        read_roots(value);
        seen_roots_ = true;
      } else if (key == "format") {
        std::string_view format;
        if (value.get_string().get(format) != simdjson::SUCCESS || format != kFormatName) {
          fail("\"format\" must be \"heapscope-graph\"");
        }
      } else if (key == "version") {
        const std::uint64_t version = unsigned_field(value, "\"version\"");
        if (version > kSupportedVersion || version == 0) {
          fail("graph format version " + std::to_string(version) + " is not supported (this heapscope reads version 1)");
        }
      } else if (key == "meta") {
        read_meta(value);
      }
    }
    // simdjson 3.0 has no document::at_end(): a location that is still
    // readable means bytes follow the top-level object.
    const char* trailing = nullptr;
    if (document_.current_location().get(trailing) == simdjson::SUCCESS) {
      fail("unexpected content after the JSON document");
    }
  }

  void read_meta(od::value value) {
    od::object meta;
    if (value.get_object().get(meta) != simdjson::SUCCESS) fail("\"meta\" must be an object");
    for (auto field : meta) {
      const std::string key(std::string_view(field.unescaped_key()));
      od::value v = field.value();
      std::string_view text;
      if (v.type() == od::json_type::string) {
        text = v.get_string();
        builder_.set_meta(key, std::string(text));
      } else if (v.type() == od::json_type::number || v.type() == od::json_type::boolean) {
        builder_.set_meta(key, std::string(simdjson::trim(v.raw_json_token())));
      }
      // Nested objects and arrays are kept in the file, not in the graph.
    }
  }

  void read_roots(od::value value) {
    od::array roots;
    if (value.get_array().get(roots) != simdjson::SUCCESS) fail("\"roots\" must be an array");
    const StringId default_name = builder_.intern("root");
    for (auto item : roots) {
      od::value root = item.value();
      if (root.type() == od::json_type::number) {
        builder_.add_root(unsigned_field(root, "a root id"), default_name, default_name);
        ++declared_roots_;
        continue;
      }
      od::object object;
      if (root.get_object().get(object) != simdjson::SUCCESS) fail("a root must be an id or an object");
      std::optional<std::uint64_t> id;
      StringId name = default_name, kind = default_name;
      for (auto field : object) {
        const std::string_view key = field.unescaped_key();
        if (key == "id") {
          id = unsigned_field(field.value(), "a root's \"id\"");
        } else if (key == "name") {
          name = builder_.intern(string_field(field.value(), "a root's \"name\""));
        } else if (key == "kind") {
          kind = builder_.intern(string_field(field.value(), "a root's \"kind\""));
        }
      }
      if (!id) fail("a root object has no \"id\"");
      builder_.add_root(*id, name, kind);
      ++declared_roots_;
    }
  }

  std::string_view string_field(od::value value, const char* what) {
    std::string_view text;
    if (value.get_string().get(text) != simdjson::SUCCESS) fail(std::string(what) + " must be a string");
    return text;
  }

  void read_id_list(od::value value, std::vector<std::uint64_t>& out, const char* what) {
    od::array array;
    if (value.get_array().get(array) != simdjson::SUCCESS) fail(std::string(what) + " must be an array of ids");
    for (auto item : array) out.push_back(unsigned_field(item.value(), what));
  }

  void read_name_list(od::value value, std::vector<EdgeLabel>& out, const char* what) {
    od::array array;
    if (value.get_array().get(array) != simdjson::SUCCESS) fail(std::string(what) + " must be an array of strings");
    for (auto item : array) {
      od::value name = item.value();
      if (name.is_null()) {
        out.emplace_back();
        continue;
      }
      out.push_back(label_for(builder_, string_field(name, what)));
    }
  }

  void read_nodes(od::value value) {
    od::array nodes;
    if (value.get_array().get(nodes) != simdjson::SUCCESS) fail("\"nodes\" must be an array");
    for (auto item : nodes) read_node(item.value());
  }

  void read_node(od::value value) {
    od::object object;
    if (value.get_object().get(object) != simdjson::SUCCESS) fail("a node must be an object");
    current_node_ = builder_.node_count();
    current_id_.reset();
    std::optional<std::uint64_t> size;
    std::optional<std::uint64_t>& id = current_id_;
    std::optional<StringId> type;
    StringId name = kNoString, site = kNoString;
    refs_.clear();
    ref_names_.clear();
    weak_refs_.clear();
    weak_ref_names_.clear();
    bool has_ref_names = false, has_weak_ref_names = false;
    for (auto field : object) {
      const std::string_view key = field.unescaped_key();
      od::value v = field.value();
      if (key == "id") {
        id = unsigned_field(v, "\"id\"");
      } else if (key == "type") {
        type = builder_.intern(string_field(v, "\"type\""));
      } else if (key == "size") {
        size = unsigned_field(v, "\"size\"");
      } else if (key == "name") {
        if (!v.is_null()) name = builder_.intern(string_field(v, "\"name\""));
      } else if (key == "refs") {
        read_id_list(v, refs_, "\"refs\"");
      } else if (key == "ref_names") {
        read_name_list(v, ref_names_, "\"ref_names\"");
        has_ref_names = true;
      } else if (key == "weak_refs") {
        read_id_list(v, weak_refs_, "\"weak_refs\"");
      } else if (key == "weak_ref_names") {
        read_name_list(v, weak_ref_names_, "\"weak_ref_names\"");
        has_weak_ref_names = true;
      } else if (key == "site") {
        if (!v.is_null()) site = builder_.intern(string_field(v, "\"site\""));
      }
    }
    if (!id) fail("no \"id\"");
    if (!type) fail("no \"type\"");
    if (!size) fail("no \"size\"");
    check_names(has_ref_names, ref_names_, refs_, "ref_names", "refs");
    check_names(has_weak_ref_names, weak_ref_names_, weak_refs_, "weak_ref_names", "weak_refs");

    const NodeIndex node = builder_.add_node(*id, *type, *size, name);
    if (site != kNoString) builder_.set_alloc_site(node, site);
    for (std::size_t i = 0; i < refs_.size(); ++i) {
      builder_.add_edge(refs_[i], has_ref_names ? ref_names_[i] : EdgeLabel{}, EdgeKind::Strong);
    }
    for (std::size_t i = 0; i < weak_refs_.size(); ++i) {
      builder_.add_edge(weak_refs_[i], has_weak_ref_names ? weak_ref_names_[i] : EdgeLabel{}, EdgeKind::Weak);
    }
    current_node_.reset();
  }

  void check_names(bool present, const std::vector<EdgeLabel>& names, const std::vector<std::uint64_t>& refs,
                   const char* names_key, const char* refs_key) {
    if (present && names.size() != refs.size()) {
      fail(std::string("\"") + names_key + "\" has " + std::to_string(names.size()) +
           " entries but \"" + refs_key + "\" has " + std::to_string(refs.size()));
    }
  }

  HeapGraph finish() {
    if (!seen_nodes_) throw InputError("no \"nodes\" array");
    if (!seen_roots_) throw InputError("no \"roots\" array");
    if (declared_roots_ == 0) throw InputError("\"roots\" is empty: nothing would be reachable");
    HeapGraph graph = std::move(builder_).build();
    if (graph.roots().empty()) {
      throw InputError("none of the " + std::to_string(declared_roots_) + " roots is the id of a node");
    }
    if (graph.dropped_dangling_edges() > 0) {
      warnings_.push_back(std::to_string(graph.dropped_dangling_edges()) +
                          " references to ids that are not nodes were dropped");
    }
    if (graph.dropped_dangling_roots() > 0) {
      warnings_.push_back(std::to_string(graph.dropped_dangling_roots()) +
                          " roots name ids that are not nodes and were dropped");
    }
    return graph;
  }

  const InputFile& input_;
  std::vector<std::string>& warnings_;
  od::parser parser_;
  od::document document_;
  const char* base_ = nullptr;
  GraphBuilder builder_;
  bool seen_nodes_ = false, seen_roots_ = false;
  std::uint64_t declared_roots_ = 0;
  std::optional<std::uint64_t> current_node_, current_id_;
  // Per-node scratch, reused so a node costs no allocation.
  std::vector<std::uint64_t> refs_, weak_refs_;
  std::vector<EdgeLabel> ref_names_, weak_ref_names_;
};

class JsonGraphReader final : public Reader {
 public:
  std::string_view name() const override { return kFormatName; }
  std::string_view description() const override { return "heapscope JSON graph"; }

  bool sniff(std::string_view head) const override {
    // Any JSON object: this reader is tried last, after the more specific
    // JSON formats (V8 snapshots).
    for (const char c : head) {
      if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
      return c == '{';
    }
    return false;
  }

  Snapshot read(const InputFile& input, const ReadOptions&) const override {
    Snapshot snapshot;
    snapshot.graph = read_json_graph(input, snapshot.warnings);
    return snapshot;
  }
};

}  // namespace

HeapGraph read_json_graph(const InputFile& input, std::vector<std::string>& warnings) {
  return GraphDocumentReader(input, warnings).read();
}

std::unique_ptr<Reader> make_json_graph_reader() { return std::make_unique<JsonGraphReader>(); }

}  // namespace heapscope::readers
