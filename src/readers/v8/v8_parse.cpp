// Parsing a .heapsnapshot into the compact columns of v8::Snapshot.
//
// V8 writes the top-level keys in the order snapshot, nodes, edges, ...,
// strings, and DevTools' loader relies on that order too; heapscope needs
// the header before the nodes and the nodes before the edges (to check edge
// targets while the edges stream past), and accepts any order otherwise.
#include <algorithm>
#include <cstring>
#include <future>
#include <optional>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "heapscope/error.hpp"
#include "readers/json/json_scanner.hpp"
#include "readers/v8/v8_parse_internal.hpp"
#include "readers/v8/v8_snapshot.hpp"

namespace heapscope::readers::v8 {

namespace {

constexpr std::uint64_t kMaxU32 = 0xFFFFFFFFu;
// heapscope's node indices are 32-bit with two values reserved.
constexpr std::uint64_t kMaxNodes = 0xFFFFFFF0u;

std::string str(std::uint64_t v) { return std::to_string(v); }

struct RawLocation {
  std::uint64_t object_index;
  std::uint32_t script_id, line, column;
  std::uint64_t offset;
};

class Parser {
 public:
  explicit Parser(const InputFile& input)
      : input_(input), document_(input.bytes()), release_(input.is_mapped()), scan_(document_, release_) {}

  Snapshot run();

 private:
  // What a second parser read of the top-level members after the edges
  // (locations, strings), while the nodes and edges were being parsed.
  struct Tail {
    const char* start = nullptr;  // the key it began at
    const char* end = nullptr;    // the top-level object's closing '}'
    bool have_strings = false, have_locations = false;
    std::string string_bytes;
    BigVector<std::uint64_t> string_begin;
    std::vector<RawLocation> raw_locations;
  };
  // A parser for the tail only, from `start` (a top-level key), with the
  // header's meta already known.
  Parser(const InputFile& input, const char* start, const Meta& meta);

  // The top-level members from the scanner's position to the closing '}'
  // (not consumed).
  void members();
  void member(const std::string& key);
  void header();
  void nodes();
  // The nodes, and the edges array too when it follows them, as V8 writes
  // it: then the edges are parsed on a second thread meanwhile, and the
  // tail (tail_start()) on a third. Returns whether the edges were parsed.
  bool nodes_and_edges();
  // Where the edges array starts when `"edges":` follows the nodes array
  // that starts at `nodes`; nullptr otherwise.
  const char* edges_after_nodes(const char* nodes) const;
  // Where a tail parser can start: the `"locations"` key right before the
  // `"strings"` key at the end of the file, as V8 writes them, else that
  // `"strings"` key; nullptr when there is none.
  static const char* tail_start(std::string_view document);
  // The tail parser's work (on another thread: nothing of this parser is read).
  static std::optional<Tail> parse_tail(const InputFile& input, const Meta& meta);
  // Takes over the tail parser's work when the scanner has arrived at the
  // key it began at. Returns whether it did.
  bool adopt_tail();
  void edges();
  void strings();
  void locations();
  void validate();
  [[noreturn]] void fail(const std::string& problem) const { scan_.fail(problem); }

  const InputFile& input_;
  std::string_view document_;
  bool release_;  // hand parsed pages of a mapped file back to the kernel
  json::Scanner scan_;
  Snapshot snap_;
  bool have_header_ = false, have_nodes_ = false, have_edges_ = false, have_strings_ = false,
       have_locations_ = false;
  std::vector<RawLocation> raw_locations_;
  bool tail_only_ = false;  // this is a tail parser
  std::future<std::optional<Tail>> tail_;  // the tail parser at work
  std::optional<Tail> tail_result_;        // its work, until the scanner arrives at its start
};

// Thrown by a tail parser that meets a key only the main parser may read.
struct NotATail {};

Snapshot Parser::run() {
  scan_.expect('{', "the top-level object");
  if (scan_.peek("the top-level object") == '}') fail("empty top-level object");
  members();
  scan_.expect('}', "the top-level object");
  scan_.skip_ws();
  if (!scan_.at_end()) fail("data after the end of the snapshot");
  if (!have_header_) fail("no \"snapshot\" header");
  if (!have_nodes_) fail("no \"nodes\" array");
  if (!have_edges_) fail("no \"edges\" array");
  if (!have_strings_) fail("no \"strings\" array");
  validate();
  // The scanners release pages 8 MiB at a time, so each one's last window
  // would stay resident through the rest of the read, its peak. Nothing
  // reads the file after the parse.
  if (release_) input_.release_pages();
  return std::move(snap_);
}

Parser::Parser(const InputFile& input, const char* start, const Meta& meta)
    : input_(input),
      document_(input.bytes()),
      release_(input.is_mapped()),
      scan_(document_, release_, static_cast<std::size_t>(start - input.bytes().data())),
      have_header_(true),
      tail_only_(true) {
  snap_.meta = meta;
}

void Parser::members() {
  for (;;) {
    if (!tail_only_ && adopt_tail()) return;
    const std::string key = scan_.read_string("a top-level key");
    scan_.expect(':', "the top-level object");
    member(key);
    const char sep = scan_.peek("the top-level object");
    if (sep == '}') return;
    if (sep != ',') fail("expected ',' or '}' after the value of \"" + key + "\"");
    scan_.expect(',', "the top-level object");
  }
}

void Parser::member(const std::string& key) {
  auto once = [&](bool& seen) {
    if (seen) fail("duplicate top-level key \"" + key + "\"");
    seen = true;
  };
  if (tail_only_ && (key == "snapshot" || key == "nodes" || key == "edges")) throw NotATail{};
  if (key == "snapshot") {
    once(have_header_);
    header();
  } else if (key == "nodes") {
    once(have_nodes_);
    if (!have_header_) {
      fail("\"nodes\" comes before the \"snapshot\" header, which V8 and DevTools write first (meta is needed to "
           "read the nodes; was the file re-sorted, as by jq -S?)");
    }
    if (nodes_and_edges()) once(have_edges_);
  } else if (key == "edges") {
    once(have_edges_);
    if (!have_nodes_) {
      fail("\"edges\" comes before \"nodes\", which V8 and DevTools write first (was the file re-sorted, as by "
           "jq -S?)");
    }
    edges();
  } else if (key == "strings") {
    once(have_strings_);
    strings();
  } else if (key == "locations" && have_header_ && snap_.meta.location_field_count > 0) {
    once(have_locations_);
    locations();
  } else {
    scan_.skip_value(key);
  }
}

const char* Parser::tail_start(std::string_view document) {
  const char* const begin = document.data();
  auto key_before = [begin](const char* bracket, std::string_view key) {
    // `"key":[`, as V8 writes it (no spaces).
    const std::size_t before = key.size() + 3;
    if (static_cast<std::size_t>(bracket - begin) < before) return false;
    const char* k = bracket - before;
    return k[0] == '"' && std::string_view(k + 1, key.size()) == key && k[key.size() + 1] == '"' &&
           k[key.size() + 2] == ':';
  };
  // The last `"strings":[`: strings may hold '[', never an unescaped '"'.
  const char* strings = nullptr;
  for (std::size_t length = document.size(); length > 0;) {
    const void* found = memrchr(begin, '[', length);
    if (found == nullptr) return nullptr;
    const char* bracket = static_cast<const char*>(found);
    if (key_before(bracket, "strings")) {
      strings = bracket - std::string_view("\"strings\":").size();
      break;
    }
    length = static_cast<std::size_t>(bracket - begin);
  }
  if (strings == nullptr) return nullptr;
  // The locations array holds numbers only: its '[' is the first one before.
  const void* found = memrchr(begin, '[', static_cast<std::size_t>(strings - begin));
  if (found != nullptr && key_before(static_cast<const char*>(found), "locations")) {
    return static_cast<const char*>(found) - std::string_view("\"locations\":").size();
  }
  return strings;
}

std::optional<Parser::Tail> Parser::parse_tail(const InputFile& input, const Meta& meta) {
  try {
    // Found on this thread: the search maps the strings' pages, which this
    // thread reads next.
    const char* const start = tail_start(input.bytes());
    if (start == nullptr) return std::nullopt;
    Parser tail(input, start, meta);  // its scanner releases only pages from `start` on
    tail.members();
    Tail t;
    t.start = start;
    t.end = tail.scan_.position();
    t.have_strings = tail.have_strings_;
    t.have_locations = tail.have_locations_;
    t.string_bytes = std::move(tail.snap_.string_bytes);
    t.string_begin = std::move(tail.snap_.string_begin);
    t.raw_locations = std::move(tail.raw_locations_);
    return t;
  } catch (const InputError&) {
    return std::nullopt;  // the main parser reports the problem exactly as it would alone
  } catch (const NotATail&) {
    return std::nullopt;
  } catch (const std::exception&) {
    return std::nullopt;  // out of memory, say: the main parser meets it itself, if at all
  }
}

bool Parser::adopt_tail() {
  if (tail_.valid()) tail_result_ = tail_.get();  // waits for the tail parser, once
  if (!tail_result_) return false;
  scan_.skip_ws();
  const char* const here = scan_.position();
  if (here < tail_result_->start) return false;  // the keys before it (trace_tree, samples, ...) are read here
  Tail tail = std::move(*tail_result_);
  tail_result_.reset();
  if (here != tail.start || (tail.have_strings && have_strings_) || (tail.have_locations && have_locations_)) {
    spdlog::debug("v8: the strings read ahead do not start where a top-level key does; reading them in order");
    return false;
  }
  have_strings_ = have_strings_ || tail.have_strings;
  have_locations_ = have_locations_ || tail.have_locations;
  if (tail.have_strings) {
    snap_.string_bytes = std::move(tail.string_bytes);
    snap_.string_begin = std::move(tail.string_begin);
  }
  if (tail.have_locations) raw_locations_ = std::move(tail.raw_locations);
  scan_.skip_to(tail.end);
  spdlog::debug("v8: locations and strings parsed meanwhile, on a third thread");
  return true;
}

void Parser::header() {
  scan_.skip_ws();
  const char* start = scan_.position();
  scan_.skip_value("the snapshot header");
  const std::string_view text(start, static_cast<std::size_t>(scan_.position() - start));
  snap_.meta = parse_header(text, scan_.offset_of(start));
}

void Parser::nodes() {
  const Meta& m = snap_.meta;
  const std::size_t fields = m.node_field_count;
  // Each node takes at least two bytes a field ("0,"): a declared count the
  // rest of the file cannot hold is not trusted for the reservation.
  if (m.node_count && *m.node_count <= scan_.remaining() / (2 * fields)) {
    const auto n = static_cast<std::size_t>(*m.node_count);
    snap_.node_type.reserve(n);
    snap_.node_name.reserve(n + 1);
    snap_.object_id.reserve(n + 1);
    snap_.self_size.reserve(n + 1);
    snap_.first_edge.reserve(n + 2);
    if (m.node_detachedness != kNoField) snap_.detachedness.reserve(n);
  }
  snap_.object_id.push_back(0);  // the super-root's slot
  std::vector<std::uint64_t> row(fields);
  const auto type_count = m.node_types.size();
  const bool detachedness = m.node_detachedness != kNoField;
  std::uint64_t edges = 0;
  // V8's rows are six or seven numbers: one call reads a row and its separator.
  auto fast_row = [&](bool& more) {
    if (fields == 7) return scan_.fast_row<7>(row.data(), more);
    if (fields == 6) return scan_.fast_row<6>(row.data(), more);
    return false;
  };
  for (bool more = scan_.begin_array("nodes"); more;) {
    const char* row_start = scan_.position();
    const std::size_t k = snap_.node_type.size();
    if (!fast_row(more)) {
      for (std::size_t f = 0;;) {
        row[f] = scan_.read_uint("nodes");
        if (++f == fields) break;
        if (!scan_.next("nodes")) {
          fail("the nodes array ends inside node #" + str(k) + ": its length is not a multiple of the " +
               str(fields) + " node fields");
        }
      }
      more = scan_.next("nodes");
    }
    auto bad = [&](const std::string& problem) { scan_.fail_at("node #" + str(k) + ": " + problem, row_start); };
    const std::uint64_t type = row[static_cast<std::size_t>(m.node_type)];
    if (type >= type_count) bad("type " + str(type) + " is not in meta.node_types (" + str(type_count) + " types)");
    const std::uint64_t name = row[static_cast<std::size_t>(m.node_name)];
    if (name > kMaxU32) bad("name index " + str(name) + " is too large");
    const std::uint64_t id = row[static_cast<std::size_t>(m.node_id)];
    if (id > kMaxU32) bad("id " + str(id) + " does not fit 32 bits");
    const std::uint64_t edge_count = row[static_cast<std::size_t>(m.node_edge_count)];
    snap_.first_edge.push_back(static_cast<std::uint32_t>(edges));
    edges += edge_count;
    if (edges > kMaxU32) bad("the edge counts add up to more than 4,294,967,295 edges");
    if (k >= kMaxNodes) bad("too many nodes");
    snap_.node_type.push_back(static_cast<std::uint8_t>(type));
    snap_.node_name.push_back(static_cast<std::uint32_t>(name));
    snap_.object_id.push_back(id);
    snap_.self_size.push_back(row[static_cast<std::size_t>(m.node_self_size)]);
    if (detachedness) {
      const std::uint64_t d = row[static_cast<std::size_t>(m.node_detachedness)];
      snap_.detachedness.push_back(d <= 2 ? static_cast<std::uint8_t>(d) : 0);
    }
    scan_.maybe_release();
  }
  snap_.first_edge.push_back(static_cast<std::uint32_t>(edges));
}

// The edges array, parsed into columns by parse_edges(). With `bounds`,
// every check is made as the rows go (and fails with the row's offset);
// without (a parse running while the nodes are still being read), the
// checks that need the nodes are left to the caller: the row count, and
// the largest to_node seen.
struct EdgeBounds {
  std::uint64_t expected;      // the nodes' edge_count fields, summed
  std::uint64_t nodes_length;  // numbers in the nodes array
};

struct ParsedEdges {
  BigVector<std::uint8_t> type;
  BigVector<std::uint32_t> name;
  BigVector<std::uint32_t> to;  // node ordinals
  std::vector<std::uint64_t> row_offsets;  // see Snapshot::edge_row_offsets
  std::vector<std::uint64_t> block_sums;   // see Snapshot::edge_block_sums
  std::uint64_t max_to = 0;     // the largest to_node field
  const char* end = nullptr;    // just past the array
};

template <std::size_t kNodeFields>
ParsedEdges parse_edge_rows(json::Scanner& scan, const Meta& m, const std::optional<EdgeBounds>& bounds,
                            std::uint64_t capacity) {
  const std::size_t node_fields = kNodeFields != 0 ? kNodeFields : m.node_field_count;
  const std::size_t fields = m.edge_field_count;
  ParsedEdges out;
  // Bounded by the bytes when the nodes are not known yet: up to 4 times
  // what is used, so address space only, never a freed block (resident).
  reserve_address_space(out.type, capacity);
  reserve_address_space(out.name, capacity);
  reserve_address_space(out.to, capacity);
  std::vector<std::uint64_t> row(fields);
  const auto type_count = m.edge_types.size();
  const auto type_at = static_cast<std::size_t>(m.edge_type);
  const auto name_at = static_cast<std::size_t>(m.edge_name);
  const auto to_at = static_cast<std::size_t>(m.edge_to);
  std::uint64_t count = 0;
  for (bool more = scan.begin_array("edges"); more;) {
    const char* row_start = scan.position();
    if (count % kEdgeRowsPerOffset == 0) {
      out.row_offsets.push_back(scan.offset_of(row_start));
      out.block_sums.push_back(0);
    }
    // V8's rows are three numbers: one call reads a row and its separator.
    if (fields != 3 || !scan.fast_row<3>(row.data(), more)) {
      for (std::size_t f = 0;;) {
        row[f] = scan.read_uint("edges");
        if (++f == fields) break;
        if (!scan.next("edges")) {
          scan.fail("the edges array ends inside edge #" + str(count) + ": its length is not a multiple of the " +
                    str(fields) + " edge fields");
        }
      }
      more = scan.next("edges");
    }
    auto bad = [&](const std::string& problem) { scan.fail_at("edge #" + str(count) + ": " + problem, row_start); };
    if (bounds && count == bounds->expected) {
      bad("more edges than the nodes' edge_count fields add up to (" + str(bounds->expected) + ")");
    }
    const std::uint64_t type = row[type_at];
    if (type >= type_count) bad("type " + str(type) + " is not in meta.edge_types (" + str(type_count) + " types)");
    const std::uint64_t name = row[name_at];
    if (name > kMaxU32) bad("name_or_index " + str(name) + " is too large");
    const std::uint64_t to = row[to_at];
    if (to % node_fields != 0) {
      bad("to_node " + str(to) + " is not a multiple of the " + str(node_fields) + " node fields");
    }
    if (bounds && to >= bounds->nodes_length) {
      bad("to_node " + str(to) + " is past the last node (the nodes array has " + str(bounds->nodes_length) +
          " numbers)");
    }
    if (to / node_fields > kMaxNodes) bad("to_node " + str(to) + " is past any node heapscope can hold");
    out.max_to = std::max(out.max_to, to);
    out.block_sums.back() += type + name + to;
    out.type.push_back(static_cast<std::uint8_t>(type));
    out.name.push_back(static_cast<std::uint32_t>(name));
    out.to.push_back(static_cast<std::uint32_t>(to / node_fields));
    ++count;
    scan.maybe_release();
  }
  out.end = scan.position();
  return out;
}

// Constant divisors for the to_node checks in the usual layouts.
ParsedEdges parse_edges(json::Scanner& scan, const Meta& m, const std::optional<EdgeBounds>& bounds,
                        std::uint64_t capacity) {
  switch (m.node_field_count) {
    case 6: return parse_edge_rows<6>(scan, m, bounds, capacity);
    case 7: return parse_edge_rows<7>(scan, m, bounds, capacity);
    default: return parse_edge_rows<0>(scan, m, bounds, capacity);
  }
}

void Parser::edges() {
  const Meta& m = snap_.meta;
  const std::uint64_t expected = snap_.first_edge.back();
  const std::size_t fields = m.edge_field_count;
  if (expected > scan_.remaining() / (2 * fields)) {
    fail("the nodes' edge_count fields add up to " + str(expected) + " edges, more than the " +
         str(scan_.remaining()) + " bytes left can hold (truncated file?)");
  }
  // Room for the graph's root edges, which go in front of these columns
  // when the graph adopts them (at most one root per node). Reserving big
  // arrays only maps address space, so the spare room costs no memory.
  const std::uint64_t capacity = expected + snap_.node_count();
  const EdgeBounds bounds{expected, std::uint64_t{snap_.node_count()} * m.node_field_count};
  ParsedEdges parsed = parse_edges(scan_, m, bounds, capacity);
  if (parsed.type.size() != expected) {
    fail("the edges array holds " + str(parsed.type.size()) + " edges but the nodes' edge_count fields add up to " +
         str(expected));
  }
  snap_.edge_type = std::move(parsed.type);
  snap_.edge_name = std::move(parsed.name);
  snap_.edge_to = std::move(parsed.to);
  snap_.edge_row_offsets = std::move(parsed.row_offsets);
  snap_.edge_block_sums = std::move(parsed.block_sums);
  snap_.edge_rows_end = scan_.offset_of(parsed.end);
}

namespace {

bool is_ws(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

// Past `, "edges" :` when those tokens start at p (whitespace allowed), else nullptr.
const char* past_edges_key(const char* p, const char* end) {
  auto skip_ws = [&] {
    while (p < end && is_ws(*p)) ++p;
  };
  skip_ws();
  if (p == end || *p++ != ',') return nullptr;
  skip_ws();
  constexpr std::string_view kKey = "\"edges\"";
  if (static_cast<std::size_t>(end - p) < kKey.size() || std::string_view(p, kKey.size()) != kKey) return nullptr;
  p += kKey.size();
  skip_ws();
  if (p == end || *p++ != ':') return nullptr;
  return p;
}

}  // namespace

const char* Parser::edges_after_nodes(const char* nodes) const {
  // The nodes array holds only numbers, so its first ']' ends it (if it
  // holds anything else, the nodes parse fails on it anyway).
  const char* const end = document_.data() + document_.size();
  const char* p = nodes;
  while (p < end && is_ws(*p)) ++p;
  if (p == end || *p != '[') return nullptr;
  p = static_cast<const char*>(std::memchr(p, ']', static_cast<std::size_t>(end - p)));
  return p == nullptr ? nullptr : past_edges_key(p + 1, end);
}

bool Parser::nodes_and_edges() {
  // A thread starts in tens of microseconds; a megabyte parses in about two milliseconds.
  constexpr std::uint64_t kParallelFromBytes = std::uint64_t{1} << 20;
  if (scan_.remaining() < kParallelFromBytes) {
    nodes();
    return false;
  }
  // The second thread finds where the nodes end (memchr, which also maps
  // the pages the nodes parse is about to read) and parses the edges from
  // there; nothing when the edges do not follow the nodes.
  const char* const nodes_start = scan_.position();
  // The tail (locations, strings: a fifth of V8's file) on a third thread:
  // on two cores the three parts take less time together than the tail
  // after the others (5M nodes: the parse 240 -> 175 ms; the tail alone
  // takes 80).
  tail_ = std::async(std::launch::async, [&input = input_, meta = snap_.meta] { return parse_tail(input, meta); });
  std::future<std::optional<ParsedEdges>> ahead =
      std::async(std::launch::async, [this, nodes_start]() -> std::optional<ParsedEdges> {
        const char* const edges_start = edges_after_nodes(nodes_start);
        if (edges_start == nullptr) return std::nullopt;
        const auto start = static_cast<std::size_t>(edges_start - document_.data());
        // Without the nodes yet, the counts are bounded by the bytes (two a
        // field at least): room for the edges, and one root edge per node.
        const std::uint64_t capacity =
            (document_.size() - start) / (2 * snap_.meta.edge_field_count) +
            static_cast<std::uint64_t>(edges_start - nodes_start) / (2 * snap_.meta.node_field_count) + 1;
        json::Scanner scan(document_, release_, start);
        return parse_edges(scan, snap_.meta, std::nullopt, capacity);
      });
  nodes();  // if this throws, the future's destructor waits for the thread
  std::optional<ParsedEdges> parsed;
  bool failed = false;
  try {
    parsed = ahead.get();
  } catch (const InputError&) {
    failed = true;  // the careful parse below reports the problem exactly as it would alone
  }
  if (past_edges_key(scan_.position(), document_.data() + document_.size()) == nullptr) return false;
  scan_.expect(',', "the top-level object");
  if (scan_.read_string("a top-level key") != "edges") fail("expected the \"edges\" key");
  scan_.expect(':', "the top-level object");
  const std::uint64_t nodes_length = std::uint64_t{snap_.node_count()} * snap_.meta.node_field_count;
  if (failed || !parsed || parsed->type.size() != snap_.first_edge.back() ||
      (!parsed->type.empty() && parsed->max_to >= nodes_length)) {
    spdlog::debug("v8: the edges parsed alongside the nodes do not fit them; parsing them again to say why");
    parsed.reset();  // frees the columns before the careful parse makes its own
    edges();
    return true;
  }
  spdlog::debug("v8: edges parsed alongside the nodes, on a second thread");
  snap_.edge_type = std::move(parsed->type);
  snap_.edge_name = std::move(parsed->name);
  snap_.edge_to = std::move(parsed->to);
  snap_.edge_row_offsets = std::move(parsed->row_offsets);
  snap_.edge_block_sums = std::move(parsed->block_sums);
  snap_.edge_rows_end = scan_.offset_of(parsed->end);
  scan_.skip_to(parsed->end);
  return true;
}

void Parser::strings() {
  snap_.string_bytes.reserve(static_cast<std::size_t>(scan_.remaining()));
  if (scan_.begin_array("strings")) {
    for (;;) {
      if (snap_.string_begin.size() >= kMaxU32) fail("more than 4,294,967,295 strings");
      snap_.string_begin.push_back(snap_.string_bytes.size());
      scan_.read_string_into(snap_.string_bytes, "strings");
      scan_.maybe_release();
      if (!scan_.next("strings")) break;
    }
  }
  snap_.string_begin.push_back(snap_.string_bytes.size());
  snap_.string_bytes.shrink_to_fit();
}

void Parser::locations() {
  const Meta& m = snap_.meta;
  const std::size_t fields = m.location_field_count;
  std::vector<std::uint64_t> row(fields);
  if (!scan_.begin_array("locations")) return;
  // Each location takes at least two bytes a field; reserved up to a
  // million (32 MB, address space until used), beyond that regrown: the
  // bound alone is 16 times the bytes left, for one-field rows.
  raw_locations_.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(scan_.remaining() / (2 * fields), 1 << 20)));
  auto column = [&](int at) -> std::uint64_t { return at == kNoField ? 0 : row[static_cast<std::size_t>(at)]; };
  for (bool more = true; more;) {
    const char* row_start = scan_.position();
    // V8's rows are four numbers: one call reads a row and its separator.
    if (fields != 4 || !scan_.fast_row<4>(row.data(), more)) {
      for (std::size_t f = 0;;) {
        row[f] = scan_.read_uint("locations");
        if (++f == fields) break;
        if (!scan_.next("locations")) fail("the locations array's length is not a multiple of its fields");
      }
      more = scan_.next("locations");
    }
    const std::uint64_t script = column(m.location_script), line = column(m.location_line),
                        col = column(m.location_column);
    if (script > kMaxU32 || line > kMaxU32 || col > kMaxU32) {
      scan_.fail_at("location #" + str(raw_locations_.size()) + ": number too large", row_start);
    }
    if (m.location_object != kNoField) {
      raw_locations_.push_back({column(m.location_object), static_cast<std::uint32_t>(script),
                                static_cast<std::uint32_t>(line), static_cast<std::uint32_t>(col),
                                scan_.offset_of(row_start)});
    }
    scan_.maybe_release();
  }
}

void Parser::validate() {
  const Meta& m = snap_.meta;
  const std::uint64_t n = snap_.node_count();
  if (n == 0) throw InputError("the nodes array is empty (a snapshot has at least its synthetic root)");
  if (m.node_count && *m.node_count != n) {
    throw InputError("snapshot.node_count says " + str(*m.node_count) + " but the nodes array holds " + str(n) +
                     " nodes");
  }
  if (m.edge_count && *m.edge_count != snap_.edge_count()) {
    throw InputError("snapshot.edge_count says " + str(*m.edge_count) + " but the edges array holds " +
                     str(snap_.edge_count()) + " edges");
  }
  // Each check is a pass without branches over the whole column first (it
  // vectorises; validate() for 5M nodes went from 15-18 to 10-14 ms), and a
  // search for the first offender only when there is one.
  const std::uint64_t strings = snap_.string_count();
  std::uint32_t largest_name = 0;
  for (std::size_t k = 0; k < n; ++k) largest_name = std::max(largest_name, snap_.node_name[k]);
  for (std::size_t k = 0; largest_name >= strings && k < n; ++k) {
    if (snap_.node_name[k] >= strings) {
      throw InputError("node #" + str(k) + ": name index " + str(snap_.node_name[k]) + " is past the " +
                       str(strings) + " strings");
    }
  }
  // Names of edges that carry an index are not string indices: 0 here.
  const auto string_name = [&m, this](std::size_t e) {
    const std::uint8_t t = snap_.edge_type[e];
    const std::uint32_t carries_string = t != m.e_element && t != m.e_hidden ? 0xFFFFFFFFu : 0;
    return snap_.edge_name[e] & carries_string;
  };
  std::uint32_t largest_edge_name = 0;
  for (std::size_t e = 0; e < snap_.edge_count(); ++e) largest_edge_name = std::max(largest_edge_name, string_name(e));
  for (std::size_t e = 0; largest_edge_name >= strings && e < snap_.edge_count(); ++e) {
    if (!m.edge_has_index(snap_.edge_type[e]) && snap_.edge_name[e] >= strings) {
      throw InputError("edge #" + str(e) + ": name index " + str(snap_.edge_name[e]) + " is past the " +
                       str(strings) + " strings");
    }
  }
  const std::uint64_t nodes_length = n * m.node_field_count;
  if (m.root_index) {
    if (*m.root_index % m.node_field_count != 0 || *m.root_index >= nodes_length) {
      throw InputError("snapshot.root_index " + str(*m.root_index) + " is not the index of a node");
    }
    snap_.root = static_cast<std::uint32_t>(*m.root_index / m.node_field_count);
  }
  snap_.locations.reserve(raw_locations_.size());
  for (const RawLocation& raw : raw_locations_) {
    if (raw.object_index % m.node_field_count != 0 || raw.object_index >= nodes_length) {
      throw InputError("location object_index " + str(raw.object_index) + " is not the index of a node",
                       raw.offset);
    }
    snap_.locations.push_back({static_cast<std::uint32_t>(raw.object_index / m.node_field_count), raw.script_id,
                               raw.line, raw.column});
  }
}

}  // namespace

Snapshot parse_snapshot(const InputFile& input) { return Parser(input).run(); }

}  // namespace heapscope::readers::v8
