// V8 heap snapshots into heapscope's graph: parse (v8_parse.cpp), apply
// DevTools' rules (devtools_rules.cpp), then name nodes and edges the way
// DevTools prints them, laying the parsed columns out as the graph's own
// (GraphColumns) so that no edge is copied.
#include "readers/v8/v8_reader.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_map>

#include <spdlog/spdlog.h>
#include <unistd.h>

#include "heapscope/error.hpp"
#include "readers/json/json_scanner.hpp"
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

// Edge labels as DevTools' retainer view prints them: elements as "[i]",
// every other edge by its bare name (hidden edges by their index, as a
// name). From V8's edge type and name_or_index field and the ids V8's
// strings were interned as. Shared by the read and, when the labels stay
// in the file (FileEdgeLabels), by the graph afterwards.
class EdgeLabeler {
 public:
  // text: the V8 strings' ids, from intern_strings.
  EdgeLabeler(const v8::Meta& m, std::vector<StringId> text, GraphBuilder& b)
      : element_(m.e_element), hidden_(m.e_hidden), text_(std::move(text)) {
    // The small numbers up front, so that labelling edges mostly interns nothing.
    numbers_.resize(kSmallNumbers);
    for (std::uint32_t i = 0; i < kSmallNumbers; ++i) numbers_[i] = b.intern(std::to_string(i));
  }

  StringId text(std::uint32_t string_index) const {
    return text_runs_.empty() ? text_[string_index] : static_cast<StringId>(text_runs_[string_index]);
  }
  std::size_t string_count() const { return text_runs_.empty() ? text_.size() : text_runs_.size(); }

  // Once the read is done, for a labeller kept beside the graph: the ids
  // as runs (IdColumn). V8's strings are distinct and interned in order, so
  // their ids mostly count up by one: ~0.2 bytes a string instead of 4 (8
  // MB of a 5M-node snapshot's analysis). Not beside other readers.
  void keep_text_as_runs() {
    if (!text_runs_.empty() || text_.empty()) return;
    IdColumn runs = IdColumn::runs();
    for (const StringId id : text_) runs.push_back(id);
    text_runs_ = std::move(runs);
    std::vector<StringId>().swap(text_);
  }

  // Whether an edge's label is a number with no string made up front: known()
  // has it only after add_number().
  static bool needs_number(const v8::Meta& m, std::uint8_t type, std::uint32_t value) {
    return kind_of(m.e_element, m.e_hidden, type, value) == Kind::BigNumber;
  }

  // The label when it needs no new string: all but hidden edges with an
  // index that add_number() has not seen. Reads only: safe beside other readers.
  std::optional<EdgeLabel> known(std::uint8_t type, std::uint32_t value) const {
    switch (kind_of(element_, hidden_, type, value)) {
      case Kind::Index: return EdgeLabel::index(value);
      case Kind::SmallNumber: return EdgeLabel::named(numbers_[value]);
      case Kind::BigNumber: {
        const auto it = big_numbers_.find(value);
        if (it == big_numbers_.end()) return std::nullopt;
        return EdgeLabel::named(it->second);
      }
      case Kind::String: break;
    }
    if (value >= string_count()) return std::nullopt;  // validated in a parse; not in a file read again
    return EdgeLabel::named(text(value));
  }
  // The label of an index edge whose index is not known yet, interned.
  EdgeLabel add_number(std::uint32_t value, GraphBuilder& b) {
    const StringId id = b.intern(std::to_string(value));
    big_numbers_.emplace(value, id);
    return EdgeLabel::named(id);
  }

 private:
  static constexpr std::uint32_t kSmallNumbers = 4096;
  // What an edge's label is: "[i]" (elements), a number as a name (hidden
  // edges, and elements past EdgeLabel's indices) made up front or not, or
  // a V8 string.
  enum class Kind { Index, SmallNumber, BigNumber, String };
  static Kind kind_of(std::uint8_t element, std::uint8_t hidden, std::uint8_t type, std::uint32_t value) {
    if (type == element && value <= EdgeLabel::kMaxIndex) return Kind::Index;
    if (type == element || type == hidden) return value < kSmallNumbers ? Kind::SmallNumber : Kind::BigNumber;
    return Kind::String;
  }
  std::uint8_t element_, hidden_;
  std::vector<StringId> text_, numbers_;
  IdColumn text_runs_;  // text_ once it is kept as runs (keep_text_as_runs)
  std::unordered_map<std::uint32_t, StringId> big_numbers_;
};

// The objects' edge labels of a memory-mapped snapshot, read back from the
// file when a chain asks for them, instead of a column of 4 bytes an edge:
// the block of kEdgeRowsPerOffset rows holding an edge is read with pread
// (from the offset the parse recorded) and parsed again. pread, not the
// map: a file cut short meanwhile reads short (an error) where the map
// would raise SIGBUS. A block must add up to the sum the parse recorded,
// and the edge must still lead to the node the graph holds; else the file
// changed after it was read, and the lookup says so.
class FileEdgeLabels final : public EdgeLabelSource {
 public:
  FileEdgeLabels(std::shared_ptr<const FileMapping> file, std::string path, const v8::Snapshot& s,
                 std::shared_ptr<const EdgeLabeler> labeler)
      : file_(std::move(file)), path_(std::move(path)), fields_(s.meta.edge_field_count),
        type_at_(static_cast<std::size_t>(s.meta.edge_type)), name_at_(static_cast<std::size_t>(s.meta.edge_name)),
        to_at_(static_cast<std::size_t>(s.meta.edge_to)), node_fields_(s.meta.node_field_count),
        edge_count_(s.edge_count()), rows_end_(s.edge_rows_end), row_offsets_(s.edge_row_offsets),
        block_sums_(s.edge_block_sums), labeler_(std::move(labeler)) {}

  EdgeLabel label(EdgeIndex object_edge, NodeIndex target) const override {
    EdgeLabel out;
    labels({&object_edge, 1}, {&target, 1}, {&out, 1});
    return out;
  }

  void labels(std::span<const EdgeIndex> object_edges, std::span<const NodeIndex> targets,
              std::span<EdgeLabel> out) const override {
    // By block, each block read once.
    std::vector<std::size_t> order(object_edges.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return object_edges[a] < object_edges[b]; });
    std::vector<Row> rows;
    std::uint64_t block_read = ~std::uint64_t{0};
    for (const std::size_t i : order) {
      const EdgeIndex e = object_edges[i];
      const std::uint64_t block = e / v8::kEdgeRowsPerOffset;
      if (block >= row_offsets_.size()) throw std::logic_error("FileEdgeLabels: an edge past the edges read");
      if (block != block_read) {
        rows = read_block(block);
        block_read = block;
      }
      const Row& row = rows[e - block * v8::kEdgeRowsPerOffset];
      const std::optional<EdgeLabel> label =
          row.to % node_fields_ == 0 && row.to / node_fields_ + 1 == targets[i] ? labeler_->known(row.type, row.name)
                                                                                : std::nullopt;
      if (!label) changed(e, e);
      out[i] = *label;
    }
  }

 private:
  struct Row {
    std::uint8_t type;
    std::uint32_t name;
    std::uint64_t to;
  };

  // The rows of one block, parsed from the file again.
  std::vector<Row> read_block(std::uint64_t block) const {
    const std::uint64_t first = block * v8::kEdgeRowsPerOffset;
    const std::uint64_t count = std::min<std::uint64_t>(v8::kEdgeRowsPerOffset, edge_count_ - first);
    const std::uint64_t from = row_offsets_[block];
    const std::uint64_t to = block + 1 < row_offsets_.size() ? row_offsets_[block + 1] : rows_end_;
    const auto block_changed = [&] { changed(first, first + count - 1); };
    std::string bytes(to - from, '\0');
    for (std::size_t done = 0; done < bytes.size();) {
      const ssize_t got = pread(file_->fd(), bytes.data() + done, bytes.size() - done, static_cast<off_t>(from + done));
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) block_changed();  // cut short (or unreadable) since
      done += static_cast<std::size_t>(got);
    }
    std::vector<Row> rows;
    std::vector<std::uint64_t> values(fields_);
    std::uint64_t sum = 0;
    try {
      json::Scanner scan(bytes, false);
      for (std::uint64_t r = 0; r < count; ++r) {
        if (r > 0 && !scan.next("edges")) block_changed();
        for (std::size_t f = 0; f < fields_; ++f) {
          if (f > 0 && !scan.next("edges")) block_changed();
          values[f] = scan.read_uint("edges");
        }
        const std::uint64_t type = values[type_at_], name = values[name_at_], target = values[to_at_];
        if (type > 0xFF || name > 0xFFFFFFFFu) block_changed();
        sum += type + name + target;
        rows.push_back({static_cast<std::uint8_t>(type), static_cast<std::uint32_t>(name), target});
      }
    } catch (const InputError&) {
      block_changed();
    }
    if (sum != block_sums_[block]) block_changed();
    return rows;
  }

  [[noreturn]] void changed(EdgeIndex first, EdgeIndex last) const {
    const std::string edges = first == last ? "edge #" + std::to_string(first) + " is no longer the edge it was"
                                            : "edges #" + std::to_string(first) + "-#" + std::to_string(last) +
                                                  " are no longer the edges they were";
    throw InputError("the file changed after it was read: " + edges, std::nullopt, path_, std::string(kFormatName));
  }

  std::shared_ptr<const FileMapping> file_;
  std::string path_;
  std::size_t fields_, type_at_, name_at_, to_at_, node_fields_;
  std::uint64_t edge_count_, rows_end_;
  std::vector<std::uint64_t> row_offsets_, block_sums_;
  std::shared_ptr<const EdgeLabeler> labeler_;
};

// Node types and edge labels, interned once per distinct V8 string. Reads
// V8's strings from the string table they were interned into, not from the
// parsed snapshot's (which is freed before the nodes are named).
class Namer {
 public:
  // text: the V8 strings' ids, from intern_strings.
  Namer(const v8::Snapshot& s, const v8::Retention& r, GraphBuilder& b, std::vector<StringId> text)
      : s_(s), m_(s.meta), r_(r), b_(b), labeler_(std::make_shared<EdgeLabeler>(s.meta, std::move(text), b)),
        closure_(labeler_->string_count(), kUnset) {
    for (const std::string& type : m_.node_types) {
      fixed_type_.push_back(b_.intern(fixed_type_name(type)));
    }
  }

  StringId intern(std::string_view text) { return b_.intern(text); }

  StringId text(std::uint32_t string_index) const { return labeler_->text(string_index); }
  std::string_view v8_string(std::uint32_t string_index) const { return b_.strings().view(text(string_index)); }
  std::size_t v8_string_count() const { return labeler_->string_count(); }
  // The edge labeller, for a graph that reads its labels later
  // (FileEdgeLabels): the Namer's work is done, and it is compacted for
  // the rest of the run.
  std::shared_ptr<const EdgeLabeler> labeler_for_graph() {
    labeler_->keep_text_as_runs();
    return labeler_;
  }

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

  // Edge e's label (EdgeLabeler), interning its number if it needs one.
  EdgeLabel edge_label(std::uint32_t e) {
    if (const auto label = known_edge_label(e)) return *label;
    return number_label(s_.edge_name[e]);
  }
  // The label of an index edge that known_edge_label() had no string for.
  EdgeLabel number_label(std::uint32_t value) { return labeler_->add_number(value, b_); }

  // The label when it needs no new string (EdgeLabeler::known). Interns
  // nothing, so it may run on another thread while nodes are being named.
  std::optional<EdgeLabel> known_edge_label(std::uint32_t e) const {
    return labeler_->known(s_.edge_type[e], s_.edge_name[e]);
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
  // Shared (not const) with a FileEdgeLabels: add_number() runs only during the read.
  std::shared_ptr<EdgeLabeler> labeler_;
  std::vector<StringId> closure_, fixed_type_;
};

// The node column heapscope computes (types), zeroed, for n nodes and the
// super-root. Made once the parsed strings are freed, whose memory it then
// mostly reuses (BigVector): made beside the DevTools rules instead, it was
// 20 MB of the read's peak for 5M nodes. (Names are written over the parsed
// names, in place; allocation sites go straight into a sparse column.)
GraphColumns sized_node_columns(std::size_t n) {
  GraphColumns c;
  c.type.resize(n + 1);
  return c;
}

// Allocation sites ("script 12:3:7") by node, as the graph's sparse column.
// V8 lists locations in node order; any other order is sorted first, and a
// node located twice keeps its last location.
SparseIdColumn allocation_sites(const v8::Snapshot& s, Namer& namer) {
  std::vector<std::pair<NodeIndex, StringId>> sites;
  sites.reserve(s.locations.size());
  for (const v8::Location& loc : s.locations) {
    // V8 counts lines and columns from 0; editors and DevTools show them from 1.
    const std::string site = "script " + std::to_string(loc.script_id) + ":" + std::to_string(loc.line + 1ULL) +
                             ":" + std::to_string(loc.column + 1ULL);
    sites.emplace_back(loc.node + 1, namer.intern(site));
  }
  auto node_before = [](const auto& a, const auto& b) { return a.first < b.first; };
  auto strictly_increasing = [&] {
    return std::adjacent_find(sites.begin(), sites.end(), [](const auto& a, const auto& b) { return a.first >= b.first; }) ==
           sites.end();
  };
  if (!strictly_increasing()) {
    std::stable_sort(sites.begin(), sites.end(), node_before);
    // Of equal nodes (now neighbours, in file order) the last one stays.
    std::vector<std::pair<NodeIndex, StringId>> last;
    for (std::size_t i = 0; i < sites.size(); ++i) {
      if (i + 1 < sites.size() && sites[i + 1].first == sites[i].first) continue;
      last.push_back(sites[i]);
    }
    sites.swap(last);
  }
  return SparseIdColumn(s.node_count() + 1, sites);
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
  if (!s.locations.empty()) c.alloc_site = allocation_sites(s, namer);
  c.name = with_super_root_slot(std::move(s.node_name));
  c.object_id = std::move(s.object_id);  // the super-root's slot already in front
  c.shallow_size = std::move(s.self_size);
  c.shallow_size.insert_front(0);
  c.out_begin = with_super_root_slot(std::move(s.first_edge));
  return c;
}

// The parsed edge columns become the graph's, rewritten in place: names to
// labels (unless the labels stay in the file), types to retaining or not.
// V8 lists edges grouped by source in node order with ordinal targets,
// which is already the graph's CSR. Each edge is read before it is
// overwritten, and nothing reads the parsed edges afterwards. Interns
// nothing (it runs beside node_columns): returns the edges whose label is a
// number still to intern, their index left in place.
std::vector<std::uint32_t> label_edges_in_place(v8::Snapshot& s, const v8::Retention& r, const Namer& namer,
                                                bool write_labels) {
  std::vector<std::uint32_t> unnamed;
  for (std::uint32_t e = 0; e < s.edge_count(); ++e) {
    if (write_labels) {  // else the names are gone already (drop_edge_names)
      const std::optional<EdgeLabel> label = namer.known_edge_label(e);
      if (label) {
        s.edge_name[e] = label->raw();
      } else {
        unnamed.push_back(e);
      }
    }
    s.edge_type[e] = static_cast<std::uint8_t>(r.retaining.test(e) ? EdgeKind::Strong : EdgeKind::Weak);
  }
  return unnamed;
}

// For labels left in the file, once the DevTools rules have read the parsed
// edge names: the numbers among them that will need a string (interned
// later, when the builder is free), and the names freed but for the root's
// edges, which add_roots() reads (48 MB of the read's peak for 12M edges).
std::vector<std::uint32_t> drop_edge_names(v8::Snapshot& s) {
  std::vector<std::uint32_t> numbers;
  for (std::uint32_t e = 0; e < s.edge_count(); ++e) {
    if (EdgeLabeler::needs_number(s.meta, s.edge_type[e], s.edge_name[e])) numbers.push_back(s.edge_name[e]);
  }
  std::sort(numbers.begin(), numbers.end());
  numbers.erase(std::unique(numbers.begin(), numbers.end()), numbers.end());
  {
    BigVector<std::uint32_t> kept(s.edge_name.begin(), s.edge_name.begin() + s.first_edge[s.root + 1]);
    s.edge_name.swap(kept);
  }
  // Returned now, not kept for the next big allocation: the rest of the
  // rules and the strings' interning, the read's peak, come first.
  big_memory::release_freed();
  return numbers;
}

// The graph's columns: the nodes named on this thread while the edges are
// labelled on a second one (each side about half of the work). With
// `labels_in` (a memory-mapped file), the objects' edge labels are not
// kept: the graph reads each one back from the file when a chain needs it.
GraphColumns graph_columns(v8::Snapshot& s, const v8::Retention& r, Namer& namer, GraphColumns sized,
                           const InputFile* labels_in, const std::vector<std::uint32_t>& numbers_to_intern) {
  const bool write_labels = labels_in == nullptr;
  std::future<std::vector<std::uint32_t>> labelled =
      std::async(std::launch::async, [&] { return label_edges_in_place(s, r, namer, write_labels); });
  GraphColumns c = node_columns(s, namer, std::move(sized));  // if this throws, the future's destructor waits
  for (const std::uint32_t e : labelled.get()) s.edge_name[e] = namer.number_label(s.edge_name[e]).raw();
  for (const std::uint32_t number : numbers_to_intern) namer.number_label(number);  // for the file's labels
  c.edge_target = std::move(s.edge_to);
  if (write_labels) {
    c.edge_label = std::move(s.edge_name);
  } else {
    BigVector<std::uint32_t>().swap(s.edge_name);
    c.edge_labels =
        std::make_shared<FileEdgeLabels>(labels_in->shared_mapping(), labels_in->path(), s, namer.labeler_for_graph());
  }
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
  // The rules need one thread; the second meanwhile interns the strings
  // (the builder is not touched here until it is done; the rules write only
  // self sizes, which it does not read).
  BuiltColumns built;
  GraphBuilder& builder = built.builder;
  std::future<std::vector<StringId>> interned =
      std::async(std::launch::async, [&snapshot, &builder] { return intern_strings(snapshot, builder.strings()); });
  // Labels stay in the file when it is mapped (a decompressed copy would
  // cost the whole file, not 4 bytes an edge) and every edge row was found;
  // then the parsed names go as soon as the rules have read them.
  const bool labels_in_file =
      input.is_mapped() && snapshot.edge_row_offsets.size() ==
                               (snapshot.edge_count() + v8::kEdgeRowsPerOffset - 1) / v8::kEdgeRowsPerOffset;
  std::vector<std::uint32_t> numbers_to_intern;
  const v8::Retention retention = v8::apply_devtools_rules(snapshot, [&] {
    if (labels_in_file) numbers_to_intern = drop_edge_names(snapshot);
  });  // if this throws, the future waits
  spdlog::debug("v8: DevTools rules in {:.0f} ms", clock.lap() * 1e3);
  std::vector<StringId> text = interned.get();
  spdlog::debug("v8: {} strings interned, {:.0f} ms more", snapshot.string_count(), clock.lap() * 1e3);
  snapshot.drop_strings();  // interned: the Namer reads them there (38 MB of the read's peak for 5M nodes)
  GraphColumns sized = sized_node_columns(snapshot.node_count());
  Namer namer(snapshot, retention, builder, std::move(text));
  add_roots(snapshot, retention, namer, builder);  // reads the edges: before label_edges_in_place
  add_meta(snapshot, retention, namer, builder, warnings);  // counts the edges: before label_edges_in_place
  built.columns = graph_columns(snapshot, retention, namer, std::move(sized), labels_in_file ? &input : nullptr,
                                numbers_to_intern);
  if (labels_in_file) spdlog::debug("v8: edge labels left in the file, read back for chains");
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
