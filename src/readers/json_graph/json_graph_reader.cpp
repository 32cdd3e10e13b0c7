// heapscope graph reader, on the forward JSON scanner: one pass over the
// (memory-mapped) bytes, giving parsed pages back as it goes, with no DOM and
// no index of the document, so a 10M-node file costs only the graph it
// becomes. Keys may come in any order; unknown keys are skipped.
#include "readers/json_graph/json_graph_reader.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <optional>

#include "heapscope/error.hpp"
#include "readers/json/json_scanner.hpp"
#include "readers/phase_clock.hpp"

namespace heapscope::readers {
namespace {

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
      : input_(input), warnings_(warnings), scan_(input.bytes(), input.is_mapped()) {}

  HeapGraph read() {
    PhaseClock clock;
    read_top_level();
    // Every byte is parsed: the mapped pages are not needed again.
    input_.release_pages();
    const double parse_seconds = clock.lap();
    spdlog::debug("heapscope-graph: parsed {} bytes in {:.0f} ms ({:.0f} MB/s)", input_.size(), parse_seconds * 1e3,
                  static_cast<double>(input_.size()) / 1e6 / std::max(parse_seconds, 1e-9));
    HeapGraph graph = finish();
    spdlog::debug("heapscope-graph: graph built in {:.0f} ms", clock.lap() * 1e3);
    return graph;
  }

 private:
  // Messages about a node name it by its position (and id once known);
  // composing that text only on failure keeps the hot loop allocation-free.
  [[noreturn]] void fail(const std::string& problem) const { throw InputError(node_context() + problem, scan_.offset()); }

  std::string node_context() const {
    if (!current_node_) return {};
    std::string where = "node #" + std::to_string(*current_node_);
    if (current_id_) where += " (id " + std::to_string(*current_id_) + ")";
    return where + ": ";
  }

  std::uint64_t unsigned_field(std::string_view what) {
    const char c = scan_.peek(what);
    if (c < '0' || c > '9') fail(std::string(what) + " must be a non-negative integer below 2**64");
    return scan_.read_uint(what);
  }

  std::string_view string_field(std::string_view what) {
    if (scan_.peek(what) != '"') fail(std::string(what) + " must be a string");
    return scan_.read_string_view(scratch_, what);
  }

  void read_top_level() {
    if (scan_.peek("the document") != '{') fail("the document is not a JSON object");
    if (scan_.begin_object("the top-level object")) {
      do {
        const std::string key(scan_.read_key(scratch_, "a top-level key"));
        if (key == "nodes") {
          read_nodes();
          seen_nodes_ = true;
        } else if (key == "roots") {
          read_roots();
          seen_roots_ = true;
        } else if (key == "format") {
          if (scan_.peek("\"format\"") != '"' || scan_.read_string_view(scratch_, "\"format\"") != kFormatName) {
            fail("\"format\" must be \"heapscope-graph\"");
          }
        } else if (key == "version") {
          const std::uint64_t version = unsigned_field("\"version\"");
          if (version > kSupportedVersion || version == 0) {
            fail("graph format version " + std::to_string(version) + " is not supported (this heapscope reads version 1)");
          }
        } else if (key == "meta") {
          read_meta();
        } else {
          scan_.skip_value("\"" + key + "\"");
        }
      } while (scan_.next_member("the top-level object"));
    }
    scan_.skip_ws();
    if (!scan_.at_end()) fail("unexpected content after the JSON document");
  }

  void read_meta() {
    if (scan_.peek("\"meta\"") != '{') fail("\"meta\" must be an object");
    if (!scan_.begin_object("\"meta\"")) return;
    do {
      std::string key(scan_.read_key(scratch_, "\"meta\""));
      const char c = scan_.peek("\"meta\"");
      if (c == '"') {
        builder_.set_meta(std::move(key), std::string(scan_.read_string_view(scratch_, "\"meta\"")));
        continue;
      }
      // Numbers and booleans are kept as written; nested objects and arrays
      // stay in the file, not in the graph.
      const char* token = scan_.position();
      scan_.skip_value("\"meta\"");
      const bool scalar = c != '{' && c != '[' && c != 'n';
      if (scalar) builder_.set_meta(std::move(key), std::string(token, scan_.position()));
    } while (scan_.next_member("\"meta\""));
  }

  void read_roots() {
    if (scan_.peek("\"roots\"") != '[') fail("\"roots\" must be an array");
    const StringId default_name = builder_.intern("root");
    if (!scan_.begin_array("\"roots\"")) return;
    do {
      if (scan_.peek("\"roots\"") != '{') {
        if (scan_.peek("\"roots\"") < '0' || scan_.peek("\"roots\"") > '9') fail("a root must be an id or an object");
        builder_.add_root(unsigned_field("a root id"), default_name, default_name);
        ++declared_roots_;
        continue;
      }
      std::optional<std::uint64_t> id;
      StringId name = default_name, kind = default_name;
      if (scan_.begin_object("a root")) {
        do {
          const std::string_view key = scan_.read_key(scratch_, "a root");
          if (key == "id") {
            id = unsigned_field("a root's \"id\"");
          } else if (key == "name") {
            name = builder_.intern(string_field("a root's \"name\""));
          } else if (key == "kind") {
            kind = builder_.intern(string_field("a root's \"kind\""));
          } else {
            scan_.skip_value("a root");
          }
        } while (scan_.next_member("a root"));
      }
      if (!id) fail("a root object has no \"id\"");
      builder_.add_root(*id, name, kind);
      ++declared_roots_;
    } while (scan_.next("\"roots\""));
  }

  void read_id_list(std::vector<std::uint64_t>& out, std::string_view what) {
    if (scan_.peek(what) != '[') fail(std::string(what) + " must be an array of ids");
    if (!scan_.begin_array(what)) return;
    do {
      out.push_back(unsigned_field(what));
    } while (scan_.next(what));
  }

  void read_name_list(std::vector<EdgeLabel>& out, std::string_view what) {
    if (scan_.peek(what) != '[') fail(std::string(what) + " must be an array of strings");
    if (!scan_.begin_array(what)) return;
    do {
      if (scan_.consume_null()) {
        out.emplace_back();
      } else {
        out.push_back(label_for(builder_, string_field(what)));
      }
    } while (scan_.next(what));
  }

  void read_nodes() {
    if (scan_.peek("\"nodes\"") != '[') fail("\"nodes\" must be an array");
    if (!scan_.begin_array("\"nodes\"")) return;
    do {
      read_node();
      scan_.maybe_release();
    } while (scan_.next("\"nodes\""));
  }

  void read_node() {
    if (scan_.peek("a node") != '{') fail("a node must be an object");
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
    try {
      if (scan_.begin_object("a node")) {
        do {
          const std::string_view key = scan_.read_key(scratch_, "a node");
          if (key == "id") {
            id = unsigned_field("\"id\"");
          } else if (key == "type") {
            type = builder_.intern(string_field("\"type\""));
          } else if (key == "size") {
            size = unsigned_field("\"size\"");
          } else if (key == "refs") {
            read_id_list(refs_, "\"refs\"");
          } else if (key == "ref_names") {
            read_name_list(ref_names_, "\"ref_names\"");
            has_ref_names = true;
          } else if (key == "name") {
            if (!scan_.consume_null()) name = builder_.intern(string_field("\"name\""));
          } else if (key == "weak_refs") {
            read_id_list(weak_refs_, "\"weak_refs\"");
          } else if (key == "weak_ref_names") {
            read_name_list(weak_ref_names_, "\"weak_ref_names\"");
            has_weak_ref_names = true;
          } else if (key == "site") {
            if (!scan_.consume_null()) site = builder_.intern(string_field("\"site\""));
          } else {
            scan_.skip_value("a node");
          }
        } while (scan_.next_member("a node"));
      }
    } catch (const InputError& e) {
      // The scanner's own errors (truncation, overflow, syntax) get the node's name too.
      if (e.problem().rfind("node #", 0) == 0) throw;
      throw InputError(node_context() + e.problem(), e.offset());
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
  json::Scanner scan_;
  std::string scratch_;  // unescaped strings (most are read in place)
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
