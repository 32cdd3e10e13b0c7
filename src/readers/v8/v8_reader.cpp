// V8 heap snapshots into heapscope's graph: parse (v8_parse.cpp), apply
// DevTools' rules (devtools_rules.cpp), then name nodes and edges the way
// DevTools prints them, laying the parsed columns out as the graph's own
// (GraphColumns) so that no edge is copied.
#include "readers/v8/v8_reader.hpp"

#include <algorithm>
#include <chrono>
#include <future>
#include <optional>

#include <spdlog/spdlog.h>

#include <string>

#include "heapscope/error.hpp"
#include "readers/phase_clock.hpp"
#include "readers/v8/devtools_rules.hpp"
#include "readers/v8/v8_snapshot.hpp"

namespace heapscope::readers {
namespace {

constexpr std::string_view kFormatName = "v8-heapsnapshot";
constexpr StringId kUnset = 0xFFFFFFFFu;

// V8's strings interned in table order (ids by V8 string index), with each
// index slot fetched a few strings ahead. Nearly every string is some node's
// or edge's name, so naming them afterwards costs an array read each.
std::vector<StringId> intern_strings(const v8::Snapshot& s, StringTable& strings) {
  strings.reserve(s.string_count());
  std::vector<StringId> ids(s.string_count());
  strings.intern_all(
      s.string_count(), [&s](std::size_t i) { return s.string(static_cast<std::uint32_t>(i)); }, ids.data());
  return ids;
}

// Node types and edge labels, interned once per distinct V8 string. Reads
// V8's strings from the string table they were interned into, not from the
// parsed snapshot's (which is freed before the nodes are named).
class Namer {
 public:
  // text: the V8 strings' ids, from intern_strings.
  Namer(const v8::Snapshot& s, const v8::Retention& r, GraphBuilder& b, std::vector<StringId> text)
      : s_(s), m_(s.meta), r_(r), b_(b), text_(std::move(text)), closure_(text_.size(), kUnset) {
    for (const std::string& type : m_.node_types) {
      fixed_type_.push_back(b_.intern(fixed_type_name(type)));
    }
    // Hidden edges are named by their index; the small ones up front, so
    // that labelling edges interns nothing (see known_edge_label).
    numbers_.resize(kSmallNumbers);
    for (std::uint32_t i = 0; i < kSmallNumbers; ++i) numbers_[i] = b_.intern(std::to_string(i));
  }

  StringId intern(std::string_view text) { return b_.intern(text); }

  StringId text(std::uint32_t string_index) const { return text_[string_index]; }
  std::string_view v8_string(std::uint32_t string_index) const { return b_.strings().view(text_[string_index]); }
  std::size_t v8_string_count() const { return text_.size(); }

  // The raw name, as DevTools' Name column shows it.
  StringId node_name(std::uint32_t node) {
    if (r_.detached.test(node)) return b_.intern("Detached " + std::string(v8_string(s_.node_name[node])));
    return text(s_.node_name[node]);
  }

  // The type heapscope groups by (docs/v8.md, "Types").
  StringId node_type(std::uint32_t node) {
    const std::uint8_t t = s_.node_type[node];
    const std::uint32_t name = s_.node_name[node];
    if (t == m_.t_object) return text(name);
    if (t == m_.t_closure) {
      StringId& id = closure_[name];
      if (id == kUnset) {
        const std::string_view fn = v8_string(name);
        id = b_.intern(fn.empty() ? std::string("(closure)") : "(closure) " + std::string(fn));
      }
      return id;
    }
    if (t == m_.t_native) return b_.intern(native_class(node));
    return fixed_type_[t];
  }

  // Edge labels as DevTools' retainer view prints them: elements as "[i]",
  // every other edge by its bare name.
  EdgeLabel edge_label(std::uint32_t e) {
    if (const auto label = known_edge_label(e)) return *label;
    return EdgeLabel::named(b_.intern(std::to_string(s_.edge_name[e])));
  }

  // The label when it needs no new string: all but hidden edges with an
  // index of kSmallNumbers or more (rare). Interns nothing, so it may run
  // on another thread while nodes are being named.
  std::optional<EdgeLabel> known_edge_label(std::uint32_t e) const {
    const std::uint8_t t = s_.edge_type[e];
    const std::uint32_t value = s_.edge_name[e];
    if (t == m_.e_element && value <= EdgeLabel::kMaxIndex) return EdgeLabel::index(value);
    if (m_.edge_has_index(t)) {
      if (value < kSmallNumbers) return EdgeLabel::named(numbers_[value]);
      return std::nullopt;
    }
    return EdgeLabel::named(text(value));
  }

  std::string label_text(std::uint32_t e) {
    const EdgeLabel label = edge_label(e);
    if (!label.is_index()) return std::string(b_.strings().view(label.name()));
    std::string text(1, '[');  // built stepwise: GCC 12 warns (-Wrestrict) on "[" + std::string
    text += std::to_string(label.index_value());
    text += ']';
    return text;
  }

 private:
  static constexpr std::uint32_t kSmallNumbers = 4096;

  // DevTools' class names for the types without a per-object name.
  static std::string fixed_type_name(const std::string& type) {
    if (type == "hidden") return "(system)";
    if (type == "code") return "(compiled code)";
    if (type == "regexp") return "RegExp";
    return "(" + type + ")";
  }

  // Embedder objects: "<div id=x>" groups as "<div>", detached ones as
  // "Detached <div>".
  std::string native_class(std::uint32_t node) const {
    std::string name(v8_string(s_.node_name[node]));
    if (!name.empty() && name.front() == '<') {
      const auto space = name.find(' ');
      if (space != std::string::npos) name = name.substr(0, space) + ">";
    }
    return r_.detached.test(node) ? "Detached " + name : name;
  }

  const v8::Snapshot& s_;
  const v8::Meta& m_;
  const v8::Retention& r_;
  GraphBuilder& b_;
  std::vector<StringId> text_, closure_, numbers_, fixed_type_;
};

// The node columns heapscope computes (types, allocation sites), zeroed,
// for n nodes and the super-root. Touching new memory the first time is the
// expensive part here (the kernel zeroes every page), so this runs on a
// second thread while the DevTools rules run on the first. (Names are
// written over the parsed names, in place.)
GraphColumns sized_node_columns(std::size_t n, bool with_sites) {
  GraphColumns c;
  c.type.resize(n + 1);
  if (with_sites) c.alloc_site.resize(n + 1);
  return c;
}

// A parsed per-node column as the graph's: slot 0, the super-root's, put in
// front (in place: the parser reserved room for it).
template <class Column>
Column with_super_root_slot(Column&& parsed) {
  parsed.insert(parsed.begin(), 0);
  return std::move(parsed);
}

// The node columns in the graph's layout (slot 0 is the super-root's): types
// filled into the column sized by sized_node_columns; names written over
// the parsed names (each node's read before it is overwritten); ids, self
// sizes and edge offsets adopted from the parse, not copied (80 MB less at
// the read's peak for 5M nodes). Nothing reads those parsed columns after.
GraphColumns node_columns(v8::Snapshot& s, Namer& namer, GraphColumns c) {
  const std::size_t n = s.node_count();
  for (std::uint32_t node = 0; node < n; ++node) {
    c.type[node + 1] = namer.node_type(node);
    s.node_name[node] = namer.node_name(node);
  }
  for (const v8::Location& loc : s.locations) {
    // V8 counts lines and columns from 0; editors and DevTools show them from 1.
    const std::string site = "script " + std::to_string(loc.script_id) + ":" + std::to_string(loc.line + 1ULL) +
                             ":" + std::to_string(loc.column + 1ULL);
    c.alloc_site[loc.node + 1] = namer.intern(site);
  }
  c.name = with_super_root_slot(std::move(s.node_name));
  c.object_id = U64Column(with_super_root_slot(std::move(s.node_id)));
  c.shallow_size = std::move(s.self_size);
  c.shallow_size.insert_front(0);
  c.out_begin = with_super_root_slot(std::move(s.first_edge));
  return c;
}

// The parsed edge columns become the graph's, rewritten in place: names to
// labels, types to retaining or not. V8 lists edges grouped by source in
// node order with ordinal targets, which is already the graph's CSR. Each
// edge is read before it is overwritten, and nothing reads the parsed edges
// afterwards. Interns nothing (it runs beside node_columns): returns the
// edges whose label is a number still to intern, their index left in place.
std::vector<std::uint32_t> label_edges_in_place(v8::Snapshot& s, const v8::Retention& r, const Namer& namer) {
  std::vector<std::uint32_t> unnamed;
  for (std::uint32_t e = 0; e < s.edge_count(); ++e) {
    const std::optional<EdgeLabel> label = namer.known_edge_label(e);
    if (label) {
      s.edge_name[e] = label->raw();
    } else {
      unnamed.push_back(e);
    }
    s.edge_type[e] = static_cast<std::uint8_t>(r.retaining.test(e) ? EdgeKind::Strong : EdgeKind::Weak);
  }
  return unnamed;
}

// The graph's columns: the nodes named on this thread while the edges are
// labelled on a second one (each side about half of the work).
GraphColumns graph_columns(v8::Snapshot& s, const v8::Retention& r, Namer& namer, GraphColumns sized) {
  std::future<std::vector<std::uint32_t>> labelled =
      std::async(std::launch::async, [&] { return label_edges_in_place(s, r, namer); });
  GraphColumns c = node_columns(s, namer, std::move(sized));  // if this throws, the future's destructor waits
  for (const std::uint32_t e : labelled.get()) {
    s.edge_name[e] = EdgeLabel::named(namer.intern(std::to_string(s.edge_name[e]))).raw();
  }
  c.edge_target = std::move(s.edge_to);
  c.edge_label = std::move(s.edge_name);
  c.edge_kind = std::move(s.edge_type);
  return c;
}

// heapscope's super-root stands for V8's synthetic root: its roots are the
// root node itself, the root's retaining children in edge order (what
// DevTools' DFS visits first), then the orphans and the unreached cliques.
void add_roots(const v8::Snapshot& s, const v8::Retention& r, Namer& namer, GraphBuilder& b) {
  const v8::Meta& m = s.meta;
  b.add_root(s.root, b.intern("(root)"), b.intern("synthetic"));
  v8::BitSet is_root(s.node_count());
  is_root.set(s.root);
  const StringId user = b.intern("user"), synthetic = b.intern("synthetic");
  for (std::uint32_t e = s.first_edge[s.root]; e < s.first_edge[s.root + 1]; ++e) {
    const std::uint32_t target = s.edge_to[e];
    if (!r.retaining.test(e) || is_root.test(target)) continue;
    is_root.set(target);
    const std::string_view target_name = namer.v8_string(s.node_name[target]);
    const StringId name = target_name.empty() ? b.intern(namer.label_text(e)) : namer.text(s.node_name[target]);
    b.add_root(target, name, s.node_type[target] == m.t_synthetic ? synthetic : user);
  }
  const StringId orphan = b.intern("(orphan)"), orphan_kind = b.intern("orphan");
  for (const std::uint32_t node : r.orphans) b.add_root(node, orphan, orphan_kind);
  const StringId unreached = b.intern("(unreached)"), unreached_kind = b.intern("unreached");
  for (const std::uint32_t node : r.cliques) b.add_root(node, unreached, unreached_kind);
}

void add_meta(const v8::Snapshot& s, const v8::Retention& r, const Namer& namer, GraphBuilder& b,
              std::vector<std::string>& warnings) {
  b.set_meta("producer", "V8 heap snapshot");
  if (!s.meta.title.empty()) b.set_meta("title", s.meta.title);
  b.set_meta("v8.nodes", std::to_string(s.node_count()));
  b.set_meta("v8.edges", std::to_string(s.edge_count()));
  b.set_meta("v8.strings", std::to_string(namer.v8_string_count()));
  b.set_meta("devtools.page_owned_nodes", std::to_string(r.page_owned));
  b.set_meta("devtools.moved_shallow_sizes", std::to_string(r.transferred_sizes));
  b.set_meta("devtools.orphans", std::to_string(r.orphans.size()));
  b.set_meta("devtools.unreached", std::to_string(r.cliques.size()));
  const std::size_t unreachable = r.orphans.size() + r.cliques.size();
  if (unreachable > 0) {
    std::string message = std::to_string(unreachable) + " nodes are unreachable from the root over retaining edges (" +
                          std::to_string(r.orphans.size()) + " with only non-retaining retainers, " +
                          std::to_string(r.cliques.size()) + " held only by those or by each other); " +
                          "as in DevTools they hang under the root";
    spdlog::info("{}", message);
    warnings.push_back(std::move(message));
  }
}

struct BuiltColumns {
  GraphBuilder builder{TargetNaming::ByOrdinal};  // strings, roots, meta
  GraphColumns columns;
};

BuiltColumns build_from_snapshot(const InputFile& input, std::vector<std::string>& warnings) {
  // Phase timings at --verbose: the bench reads the parse speed from them.
  PhaseClock clock;
  v8::Snapshot snapshot = v8::parse_snapshot(input);
  const double parse_seconds = clock.lap();
  spdlog::debug("v8: parsed {} bytes in {:.0f} ms ({:.0f} MB/s)", input.size(), parse_seconds * 1e3,
                static_cast<double>(input.size()) / 1e6 / std::max(parse_seconds, 1e-9));
  // The rules need one thread; the second meanwhile interns the strings and
  // faults in the graph's node columns (the builder is not touched here
  // until it is done; the rules write only self sizes, which it does not read).
  BuiltColumns built;
  GraphBuilder& builder = built.builder;
  struct Prepared {
    std::vector<StringId> text;
    GraphColumns columns;
  };
  std::future<Prepared> prepared = std::async(std::launch::async, [&snapshot, &builder] {
    Prepared p;
    p.text = intern_strings(snapshot, builder.strings());
    p.columns = sized_node_columns(snapshot.node_count(), !snapshot.locations.empty());
    return p;
  });
  const v8::Retention retention = v8::apply_devtools_rules(snapshot);  // if this throws, the future waits
  spdlog::debug("v8: DevTools rules in {:.0f} ms", clock.lap() * 1e3);
  Prepared ready = prepared.get();
  spdlog::debug("v8: {} strings interned and node columns made, {:.0f} ms more", snapshot.string_count(),
                clock.lap() * 1e3);
  snapshot.drop_strings();  // interned: the Namer reads them there (38 MB of the read's peak for 5M nodes)
  Namer namer(snapshot, retention, builder, std::move(ready.text));
  add_roots(snapshot, retention, namer, builder);  // reads the edges: before label_edges_in_place
  add_meta(snapshot, retention, namer, builder, warnings);  // counts the edges: before label_edges_in_place
  built.columns = graph_columns(snapshot, retention, namer, std::move(ready.columns));
  spdlog::debug("v8: graph columns in {:.0f} ms", clock.lap() * 1e3);
  return built;  // the parsed columns are freed here, before build()
}

class V8HeapSnapshotReader final : public Reader {
 public:
  std::string_view name() const override { return kFormatName; }
  std::string_view description() const override { return "V8 .heapsnapshot (Node, Chrome)"; }
  bool sniff(std::string_view head) const override { return looks_like_v8_heapsnapshot(head); }

  Snapshot read(const InputFile& input, const ReadOptions&) const override {
    Snapshot snapshot;
    snapshot.graph = read_v8_heapsnapshot(input, snapshot.warnings);
    return snapshot;
  }
};

}  // namespace

bool looks_like_v8_heapsnapshot(std::string_view head) {
  std::size_t i = 0;
  auto skip_ws = [&] {
    while (i < head.size() && (head[i] == ' ' || head[i] == '\n' || head[i] == '\r' || head[i] == '\t')) ++i;
  };
  auto take = [&](std::string_view token) {
    skip_ws();
    if (head.substr(i, token.size()) != token) return false;
    i += token.size();
    return true;
  };
  if (!take("{")) return false;
  // V8 writes "snapshot" first. A re-sorted file (jq -S) starts with one of
  // the arrays instead; it is still recognised, so the reader can say what
  // is wrong with it rather than the heapscope graph reader.
  if (take("\"snapshot\"")) return take(":") && take("{");
  // A heapscope graph ignores unknown keys, so the array must look like V8's
  // too: numbers (strings for "strings"), not empty. Its nodes are objects.
  auto first_item_is_number = [&] {
    skip_ws();
    return i < head.size() && head[i] >= '0' && head[i] <= '9';
  };
  for (const std::string_view key : {"\"edges\"", "\"locations\"", "\"nodes\"", "\"samples\"",
                                     "\"trace_function_infos\"", "\"trace_tree\""}) {
    if (take(key)) return take(":") && take("[") && first_item_is_number();
  }
  return take("\"strings\"") && take(":") && take("[") && take("\"");
}

HeapGraph read_v8_heapsnapshot(const InputFile& input, std::vector<std::string>& warnings) {
  BuiltColumns built = build_from_snapshot(input, warnings);
  return std::move(built.builder).build(std::move(built.columns));
}

std::unique_ptr<Reader> make_v8_heapsnapshot_reader() { return std::make_unique<V8HeapSnapshotReader>(); }

}  // namespace heapscope::readers
