#include "readers/core/python/cpython_graph.hpp"

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "heapscope/error.hpp"
#include "heapscope/id_index.hpp"
#include "readers/core/bytes.hpp"
#include "readers/core/python/pymalloc.hpp"

namespace heapscope::readers::core::python {

namespace {

// The source line of bytecode unit `index`, from a code object's location
// table in the format CPython 3.11 to 3.13 write (Objects/locations.md in
// CPython's source): entries of one header byte (bit 7 set, a 4-bit kind, a
// 3-bit length in code units minus one), then varints of 6 bits each (bit 6
// continues). Kinds: 15 no location; 14 long form (signed line delta, end
// line, column, end column); 13 line delta only; 10-12 line delta kind-10
// and two column bytes; 0-9 same line, one column byte. nullopt for an
// index with no location or past the table; every read is bounds-checked.
std::optional<std::int64_t> line_of_code_unit(const std::uint8_t* table, std::size_t size, std::int64_t first_line,
                                              std::uint64_t index) {
  std::size_t i = 0;
  bool ok = true;
  auto next_byte = [&]() -> std::uint8_t {
    if (i >= size) {
      ok = false;
      return 0;
    }
    return table[i++];
  };
  auto varint = [&]() -> std::uint64_t {
    std::uint8_t b = next_byte();
    std::uint64_t value = b & 63;
    for (int shift = 6; ok && (b & 64) && shift < 60; shift += 6) {
      b = next_byte();
      value |= std::uint64_t{b & 63u} << shift;
    }
    return value;
  };
  auto signed_varint = [&]() -> std::int64_t {
    const std::uint64_t v = varint();
    return (v & 1) ? -static_cast<std::int64_t>(v >> 1) : static_cast<std::int64_t>(v >> 1);
  };
  std::int64_t line = first_line;
  std::uint64_t unit = 0;
  while (ok && i < size) {
    const std::uint8_t header = next_byte();
    if ((header & 0x80) == 0) return std::nullopt;  // not an entry start: not a location table
    const unsigned kind = (header >> 3) & 15;
    const std::uint64_t length = (header & 7u) + 1;
    bool located = true;
    if (kind == 15) {
      located = false;
    } else if (kind == 14) {
      line += signed_varint();
      varint(), varint(), varint();
    } else if (kind == 13) {
      line += signed_varint();
    } else if (kind >= 10) {
      line += kind - 10;
      next_byte(), next_byte();
    } else {
      next_byte();
    }
    if (!ok) return std::nullopt;
    if (index < unit + length) return located ? std::optional<std::int64_t>(line) : std::nullopt;
    unit += length;
  }
  return std::nullopt;
}

// tp_flags bits (Include/object.h).
constexpr std::uint64_t kInlineValues = 1u << 2;  // 3.13
constexpr std::uint64_t kManagedWeakref = 1u << 3;
constexpr std::uint64_t kManagedDict = 1u << 4;
constexpr std::uint64_t kHeapType = 1u << 9;
constexpr std::uint64_t kReady = 1u << 12;
constexpr std::uint64_t kHaveGc = 1u << 14;
constexpr std::uint64_t kListSubclass = 1ull << 25;
constexpr std::uint64_t kTupleSubclass = 1ull << 26;
constexpr std::uint64_t kDictSubclass = 1ull << 29;
constexpr std::uint64_t kTypeSubclass = 1ull << 31;

// Sanity caps on counts read from the core, before they are used to read.
constexpr std::uint64_t kMaxItems = 1ull << 28;
constexpr std::uint64_t kMaxGcObjects = 1ull << 30;
constexpr std::size_t kMaxLabel = 40;

enum class Layout : std::uint8_t { Leaf, Str, Dict, List, Tuple, Set, Cell, Module, Type, Generic };

struct TypeInfo {
  bool valid = false;
  std::uint64_t flags = 0;
  std::uint64_t basicsize = 0;
  std::uint64_t itemsize = 0;
  std::uint64_t dictoffset = 0;
  Layout layout = Layout::Generic;
  StringId name = kNoString;
  std::string text;
};

struct PendingEdge {
  std::uint64_t target;
  StringId name;
};

class Walker {
 public:
  Walker(const CoreImage& image, const CpythonRuntime& rt, std::span<const Allocation> malloc_chunks,
         PythonGraphStats& stats)
      : image_(image), rt_(rt), l_(rt.layout), malloc_chunks_(malloc_chunks), stats_(stats) {
    if (const auto str = image.find_symbol("PyUnicode_Type", rt.module_file())) str_type_ = str->address;
    for (const Region& r : image.regions()) {
      if (r.readable()) readable_words_ += r.size() / 8;
    }
  }

  HeapGraph run(std::vector<std::string>& warnings) {
    collect_gc_objects(warnings);
    collect_static_type_dicts(warnings);
    add_named_roots(warnings);
    // The walk: objects are appended as they are found, so this loop also
    // reaches everything the first objects reference.
    for (std::size_t i = 0; i < objects_.size(); ++i) describe(i);
    collect_unreferenced_blocks(warnings);
    add_refcount_roots();
    if (!unreadable_dict_tables_.empty()) {
      warnings.push_back("CPython " + rt_.version + ": " + std::to_string(unreadable_dict_tables_.size()) +
                         " dict key tables (or their values) were unreadable (missing from the core, or damaged); " +
                         "the entries of the dicts using them are not in the graph");
    }
    return build(warnings);
  }

 private:
  // ---- reading the core ---------------------------------------------------
  std::uint64_t word(std::uint64_t address) const { return image_.u64(address).value_or(0); }
  std::uint8_t byte(std::uint64_t address) const {
    std::uint8_t b = 0;
    return image_.read(address, &b, 1) ? b : 0;
  }

  // ---- types ----------------------------------------------------------------
  const TypeInfo& type_info(std::uint64_t type) {
    auto [it, inserted] = types_.try_emplace(type);
    if (!inserted) return it->second;
    TypeInfo& t = it->second;
    const std::uint64_t metatype = word(type + 8);
    const bool is_type = metatype == rt_.type_type || (metatype != 0 && word(metatype + 8) == rt_.type_type);
    t.flags = word(type + l_.tp_flags);
    if (!is_type || !(t.flags & kReady)) return t;
    t.basicsize = word(type + l_.tp_basicsize);
    t.itemsize = word(type + l_.tp_itemsize);
    if (t.basicsize < 16 || t.basicsize > (1u << 20) || t.itemsize > 64) return t;
    t.dictoffset = word(type + 0x120);
    t.text = type_name(type, t.flags);
    if (t.text.empty()) return t;
    t.valid = true;
    t.name = builder_strings_.intern(t.text);
    t.layout = layout_of(t);
    return t;
  }

  // "module.qualname" for classes, tp_name for static types.
  std::string type_name(std::uint64_t type, std::uint64_t flags) {
    if (flags & kHeapType) {
      std::string qualname = str_value(word(type + l_.ht_qualname));
      if (qualname.empty()) return {};
      const std::string module = str_value(dict_lookup(word(type + l_.tp_dict), "__module__"));
      return module.empty() || module == "builtins" ? qualname : module + "." + qualname;
    }
    return image_.c_string(word(type + l_.tp_name), 200).value_or("");
  }

  static Layout layout_of(const TypeInfo& t) {
    const std::string& n = t.text;
    if (n == "str") return Layout::Str;
    if (n == "int" || n == "float" || n == "bytes" || n == "bool" || n == "NoneType" || n == "complex" ||
        n == "bytearray" || n == "NotImplementedType" || n == "ellipsis") {
      return Layout::Leaf;
    }
    if (n == "dict" || (t.flags & kDictSubclass)) return Layout::Dict;
    if (n == "list" || (t.flags & kListSubclass)) return Layout::List;
    if (n == "tuple" || (t.flags & kTupleSubclass)) return Layout::Tuple;
    if (n == "set" || n == "frozenset") return Layout::Set;
    if (n == "cell") return Layout::Cell;
    if (n == "module") return Layout::Module;
    if (t.flags & kTypeSubclass) return Layout::Type;
    return Layout::Generic;
  }

  // ---- objects --------------------------------------------------------------
  // A pointer that looks like a live object: aligned, readable, a non-zero
  // reference count and a valid type.
  bool valid_object(std::uint64_t p) {
    if (p == 0 || (p & 7) != 0 || image_.pointer(p, 16) == nullptr) return false;
    const std::uint64_t refcnt = word(p);
    if ((refcnt & 0xffffffffu) == 0) return false;
    const TypeInfo& t = type_info(word(p + 8));
    if (!t.valid) return false;
    // Variable-size leaves end in a NUL their length says where to find.
    if (t.layout == Layout::Str) return str_is_sound(p);
    if (t.text == "bytes") {
      const std::uint64_t n = word(p + 0x10);
      return n < kMaxItems && byte(p + 0x20 + n) == 0 && image_.pointer(p, 0x21 + n) != nullptr;
    }
    return true;
  }

  // Index of the object at p, adding it (to be described later) when new;
  // -1 when p is not a valid object.
  std::int64_t object_index(std::uint64_t p) {
    if (const std::uint32_t known = index_.find(p, objects_.data()); known != IdIndex::kAbsent) return known;
    if (!valid_object(p)) {
      ++stats_.bad_pointers;
      return -1;
    }
    return add_object(p, false);
  }

  std::int64_t add_object(std::uint64_t p, bool tracked) {
    const auto index = static_cast<std::int64_t>(objects_.size());
    objects_.push_back(p);
    index_.insert(p, static_cast<std::uint32_t>(index), objects_.data());
    tracked ? ++stats_.gc_tracked : ++stats_.untracked;
    return index;
  }

  std::string str_value(std::uint64_t s) {
    if (s == 0) return {};
    if (str_type_ == 0 || word(s + 8) != str_type_) return {};
    const std::uint64_t length = word(s + 0x10);
    const std::uint32_t state = static_cast<std::uint32_t>(word(s + 0x20));
    const unsigned kind = (state >> 2) & 7, compact = (state >> 5) & 1, ascii = (state >> 6) & 1;
    if (!compact || length > 4096) return {};
    const std::uint64_t data = s + (ascii ? l_.ascii_data : l_.compact_data);
    std::string out;
    if (kind == 1) {
      std::string raw(length, '\0');
      if (!image_.read(data, raw.data(), length)) return {};
      if (ascii) return raw;
      for (const unsigned char c : raw) {  // Latin-1 to UTF-8
        if (c < 0x80) {
          out += static_cast<char>(c);
        } else {
          out += static_cast<char>(0xc0 | (c >> 6));
          out += static_cast<char>(0x80 | (c & 0x3f));
        }
      }
      return out;
    }
    return "<str>";  // UCS-2/UCS-4 text: not decoded
  }

  // Python's repr of a str key, as the dumper writes edge names.
  static std::string str_repr(const std::string& s) {
    const char quote = s.find('\'') != std::string::npos && s.find('"') == std::string::npos ? '"' : '\'';
    std::string out(1, quote);
    for (const char c : s) {
      if (c == '\\' || c == quote) {
        out += '\\';
        out += c;
      } else if (c == '\n') {
        out += "\\n";
      } else {
        out += c;
      }
    }
    return out + quote;
  }

  // The edge name of a dict value: the key's repr for str and small int
  // keys. Cached by the key's object number once the walk has one (a column,
  // not a map: a core holds hundreds of thousands of distinct keys).
  StringId key_label(std::uint64_t key) {
    const std::uint32_t k = index_.find(key, objects_.data());
    if (k != IdIndex::kAbsent && k < key_labels_.size() && key_labels_[k] != kNoLabelYet) return key_labels_[k];
    const StringId label = make_key_label(key);
    if (k != IdIndex::kAbsent) {
      if (k >= key_labels_.size()) key_labels_.resize(objects_.size(), kNoLabelYet);
      key_labels_[k] = label;
    }
    return label;
  }

  StringId make_key_label(std::uint64_t key) {
    const TypeInfo& t = type_info(word(key + 8));
    std::string text;
    if (t.valid && t.layout == Layout::Str) {
      text = str_value(key);
      if (text.size() > 60) text = text.substr(0, 57) + "...";
      text = str_repr(text);
    } else if (t.valid && t.text == "int") {
      text = int_text(key);
    }
    return text.empty() ? kNoString : builder_strings_.intern(text);
  }

  static std::string signed_text(bool negative, std::uint64_t value) {
    std::string text = negative ? "-" : "";  // appended, not "+": GCC 12 warns (-Wrestrict)
    text += std::to_string(value);
    return text;
  }

  std::string int_text(std::uint64_t p) {
    // One 30-bit digit at most: enough for keys and labels.
    if (l_.minor >= 12) {
      const std::uint64_t tag = word(p + 0x10);
      const std::uint64_t digits = tag >> 3;
      if (digits > 1) return {};
      const std::uint64_t value = digits ? (word(p + 0x18) & 0x3fffffff) : 0;
      return signed_text((tag & 3) == 2, value);
    }
    const auto size = static_cast<std::int64_t>(word(p + 0x10));
    if (size < -1 || size > 1) return {};
    const std::uint64_t value = size ? (word(p + 0x18) & 0x3fffffff) : 0;
    return signed_text(size < 0, value);
  }

  // ---- dicts ----------------------------------------------------------------
  struct DictEntry {
    std::uint64_t key, value;
  };

  // Entries of a dict's key table; values from `values` for split tables.
  std::vector<DictEntry> dict_entries(std::uint64_t keys, std::uint64_t values) {
    std::vector<DictEntry> out;
    if (keys == 0) return out;
    auto unreadable = [&] {
      unreadable_dict_tables_.insert(keys);
      return out;
    };
    std::uint8_t header[32];
    if (!image_.read(keys, header, sizeof header)) return unreadable();
    const unsigned log2_size = header[8], log2_index_bytes = header[9], kind = header[10];
    const std::uint64_t nentries = load_u64(header + 24);
    // CPython fills at most two thirds of a table (USABLE_FRACTION).
    if (log2_size > 30 || log2_index_bytes > 33 || kind > 2 || nentries > (2ull << log2_size) / 3) {
      return unreadable();
    }
    const std::uint64_t entry_size = kind == 0 ? 24 : 16;
    const std::uint64_t entries = keys + 32 + (1ull << log2_index_bytes);
    const std::uint8_t* table = image_.pointer(entries, nentries * entry_size);
    if (table == nullptr) return unreadable();
    const std::uint8_t* vals = values ? image_.pointer(values + l_.dict_values_items, nentries * 8) : nullptr;
    if (values && vals == nullptr) return unreadable();
    out.reserve(nentries);
    for (std::uint64_t i = 0; i < nentries; ++i) {
      const std::uint8_t* e = table + i * entry_size + (kind == 0 ? 8 : 0);
      const std::uint64_t key = load_u64(e);
      const std::uint64_t value = vals ? load_u64(vals + 8 * i) : load_u64(e + 8);
      if (key != 0 && value != 0) out.push_back({key, value});
    }
    return out;
  }

  std::uint64_t dict_lookup(std::uint64_t dict, std::string_view name) {
    if (dict == 0) return 0;
    for (const DictEntry& e : dict_entries(word(dict + 0x20), word(dict + 0x28))) {
      if (str_value(e.key) == name) return e.value;
    }
    return 0;
  }

  void dict_edges(std::uint64_t dict, std::vector<PendingEdge>& edges) {
    for (const DictEntry& e : dict_entries(word(dict + 0x20), word(dict + 0x28))) {
      edges.push_back({e.key, key_name_});
      edges.push_back({e.value, key_label(e.key)});
    }
  }

  // ---- what an object references ---------------------------------------------
  void describe(std::size_t index) {
    const std::uint64_t p = objects_[index];
    const TypeInfo& t = type_info(word(p + 8));
    std::vector<PendingEdge> edges;
    std::uint64_t size = t.basicsize;
    const TypeInfo info = t;  // type_info() may rehash types_
    switch (info.layout) {
      case Layout::Leaf:
        size = leaf_size(p, info);
        break;
      case Layout::Str:
        size = str_size(p);
        break;
      case Layout::Dict:
        dict_edges(p, edges);
        size += dict_table_size(p);
        break;
      case Layout::List:
        size += sequence_edges(word(p + 0x18), word(p + 0x10), edges) ? 8 * std::min(word(p + 0x20), kMaxItems) : 0;
        break;
      case Layout::Tuple: {
        const std::uint64_t n = word(p + 0x10);
        sequence_edges(p + 0x18, n, edges);
        size += 8 * std::min(n, kMaxItems);
        break;
      }
      case Layout::Set:
        size += set_edges(p, edges);
        break;
      case Layout::Cell:
        edges.push_back({word(p + 0x10), cell_contents_});
        break;
      case Layout::Module:
        edges.push_back({word(p + 0x10), dict_name_});
        break;
      case Layout::Type:
        type_edges(p, info, edges);
        break;
      case Layout::Generic:
        scan_words(p + 16, info.basicsize - 16, edges);
        break;
    }
    if ((info.flags & kHeapType) && info.layout != Layout::Type) instance_edges(p, info, edges);
    if (info.flags & kHaveGc) size += 16 + ((info.flags & (kManagedDict | kManagedWeakref)) ? 16 : 0);
    // A size that runs past readable memory comes from a word that only
    // looked like an object (or a damaged one): keep the fixed part.
    if (size > info.basicsize && image_.pointer(p, size) == nullptr) size = info.basicsize;
    charge_references(edges.size());
    push_size(size);
    node_label_.push_back(label_of(p, info));
    node_type_.push_back(info.name);
    push_edge_begin();
    for (const PendingEdge& e : edges) {
      const std::int64_t target = object_index(e.target);
      if (target < 0) continue;
      edge_target_.push_back(static_cast<std::uint32_t>(target));
      edge_name_.push_back(EdgeLabel::named(e.name).raw());
    }
  }

  bool sequence_edges(std::uint64_t items, std::uint64_t n, std::vector<PendingEdge>& edges) {
    if (n == 0) return true;
    if (n > kMaxItems) return false;
    const std::uint8_t* data = image_.pointer(items, n * 8);
    if (data == nullptr) return false;
    for (std::uint64_t i = 0; i < n; ++i) edges.push_back({load_u64(data + 8 * i), index_label(i)});
    return true;
  }

  std::uint64_t set_edges(std::uint64_t p, std::vector<PendingEdge>& edges) {
    const std::uint64_t mask = word(p + 0x20), table = word(p + 0x28);
    if (mask >= kMaxItems) return 0;
    const std::uint8_t* data = image_.pointer(table, (mask + 1) * 16);
    if (data == nullptr) return 0;
    for (std::uint64_t i = 0; i <= mask; ++i) {
      const std::uint64_t key = load_u64(data + 16 * i);
      if (key != 0) edges.push_back({key, kNoString});
    }
    return table == p + 0x40 ? 0 : (mask + 1) * 16;  // the smalltable is inside the object
  }

  void type_edges(std::uint64_t p, const TypeInfo& info, std::vector<PendingEdge>& edges) {
    std::uint64_t dict = word(p + l_.tp_dict);
    if (const auto state = static_type_state_.find(p); state != static_type_state_.end()) {
      if (dict == 0) dict = state->second.first;
      edges.push_back({state->second.second, builder_strings_.intern("__subclasses__")});
    }
    edges.push_back({dict, dict_name_});
    edges.push_back({word(p + 0x158), builder_strings_.intern("__mro__")});
    edges.push_back({word(p + 0x150), builder_strings_.intern("__bases__")});
    // The rest (ht_name, ht_qualname, ht_module, slots...) unnamed.
    scan_words(p + 16, std::min<std::uint64_t>(info.basicsize, 0x400) - 16, edges, {dict});
  }

  // Attributes of a class instance: the managed dict or the values array of
  // a split table keyed by the class's cached keys (named by attribute, as
  // the dumper names inline values), and the instance's __class__.
  void instance_edges(std::uint64_t p, const TypeInfo& info, std::vector<PendingEdge>& edges) {
    edges.push_back({word(p + 8), class_name_});
    if (info.layout == Layout::Generic) {
      // __slots__ and a tp_dictoffset __dict__ are words of the object; the
      // generic scan has them, unnamed.
    }
    std::uint64_t dict = 0, values = 0;
    if (l_.minor == 11 && (info.flags & kManagedDict)) {
      values = word(p - 0x20);
      dict = word(p - 0x18);
    } else if (l_.minor == 12 && (info.flags & kManagedDict)) {
      const std::uint64_t stored = word(p - 0x18);
      if (stored & 1) {
        values = stored + 1;
      } else {
        dict = stored;
      }
    } else if (l_.minor >= 13) {
      if (info.flags & kManagedDict) dict = word(p - 0x18);
      if ((info.flags & kInlineValues) && dict == 0 && byte(p + info.basicsize + 3) != 0) values = p + info.basicsize;
    }
    if (dict != 0) {
      edges.push_back({dict, dict_name_});
    } else if (values != 0) {
      const std::uint64_t keys = word(word(p + 8) + l_.ht_cached_keys);
      for (const DictEntry& e : dict_entries(keys, values)) edges.push_back({e.value, attribute_label(e.key)});
    }
    if (info.layout != Layout::Generic && info.dictoffset > 0 && info.dictoffset < info.basicsize) {
      edges.push_back({word(p + info.dictoffset), dict_name_});
    }
  }

  StringId attribute_label(std::uint64_t key) {
    auto [it, inserted] = attribute_labels_.try_emplace(key, kNoString);
    if (inserted) {
      const std::string text = str_value(key);
      it->second = text.empty() ? kNoString : builder_strings_.intern(text);
    }
    return it->second;
  }

  // Words in [from, from + length) that point at objects (conservative).
  void scan_words(std::uint64_t from, std::uint64_t length, std::vector<PendingEdge>& edges,
                  std::initializer_list<std::uint64_t> skip = {}) {
    const std::uint8_t* data = image_.pointer(from, length);
    if (data == nullptr) return;
    for (std::uint64_t off = 0; off + 8 <= length; off += 8) {
      const std::uint64_t w = load_u64(data + off);
      if (w == 0 || (w & 7) != 0 || std::find(skip.begin(), skip.end(), w) != skip.end()) continue;
      if (index_.find(w, objects_.data()) != IdIndex::kAbsent || valid_object(w)) edges.push_back({w, kNoString});
    }
  }

  StringId index_label(std::uint64_t i) {
    auto text = [](std::uint64_t n) {
      std::string t(1, '[');  // built stepwise: GCC 12 warns (-Wrestrict) on "[" + std::string
      t += std::to_string(n);
      t += ']';
      return t;
    };
    while (index_labels_.size() <= i && index_labels_.size() < 100000) {
      index_labels_.push_back(builder_strings_.intern(text(index_labels_.size())));
    }
    return i < index_labels_.size() ? index_labels_[i] : builder_strings_.intern(text(i));
  }

  std::uint64_t leaf_size(std::uint64_t p, const TypeInfo& t) {
    if (t.text == "int") {
      const std::uint64_t digits = l_.minor >= 12 ? word(p + 0x10) >> 3 : static_cast<std::uint64_t>(std::abs(static_cast<std::int64_t>(word(p + 0x10))));
      return 0x18 + 4 * std::max<std::uint64_t>(std::min(digits, kMaxItems), l_.minor >= 12 ? 1 : 0);
    }
    if (t.itemsize > 0) return t.basicsize + t.itemsize * std::min(word(p + 0x10), kMaxItems);
    return t.basicsize;
  }

  bool str_is_sound(std::uint64_t p) {
    const std::uint64_t length = word(p + 0x10);
    const std::uint32_t state = static_cast<std::uint32_t>(word(p + 0x20));
    const unsigned kind = (state >> 2) & 7, compact = (state >> 5) & 1, ascii = (state >> 6) & 1;
    if (length >= kMaxItems || (kind != 1 && kind != 2 && kind != 4)) return false;
    if (!compact) return true;  // legacy strings: data elsewhere
    const std::uint64_t end = p + (ascii ? l_.ascii_data : l_.compact_data) + length * kind;
    return image_.pointer(p, end + kind - p) != nullptr && byte(end) == 0;
  }

  std::uint64_t str_size(std::uint64_t p) {
    const std::uint64_t length = std::min(word(p + 0x10), kMaxItems);
    const std::uint32_t state = static_cast<std::uint32_t>(word(p + 0x20));
    const unsigned kind = (state >> 2) & 7, ascii = (state >> 6) & 1;
    return (ascii ? l_.ascii_data : l_.compact_data) + (length + 1) * std::max(1u, kind);
  }

  std::uint64_t dict_table_size(std::uint64_t p) {
    if (word(p + 0x28) != 0) return 0;  // a split table's keys belong to the class
    std::uint8_t header[32];
    if (!image_.read(word(p + 0x20), header, sizeof header) || header[8] > 30 || header[9] > 33) return 0;
    const std::uint64_t slots = 1ull << header[8];
    return 32 + (1ull << header[9]) + (header[10] == 0 ? 24 : 16) * (slots * 2 / 3);
  }

  StringId label_of(std::uint64_t p, const TypeInfo& t) {
    if (t.layout == Layout::Str) {
      std::string s = str_value(p);
      if (s.size() > kMaxLabel) s = s.substr(0, kMaxLabel - 3) + "...";
      return builder_strings_.intern(str_repr(s));
    }
    if (t.text == "int") {
      const std::string text = int_text(p);
      return text.empty() ? kNoString : builder_strings_.intern(text);
    }
    if (t.layout == Layout::Type) {
      const std::string name = str_value(word(p + l_.ht_qualname));
      return name.empty() ? kNoString : builder_strings_.intern(name);
    }
    return kNoString;
  }

  // ---- objects that only C code holds -----------------------------------------
  // After the walk every object the heap references is known; what else
  // lives in pymalloc's used blocks or in glibc's in-use chunks (objects of
  // more than 512 bytes, or everything under PYTHONMALLOC=malloc) is held
  // from outside the heap (a count leaked by C code, a C static). Each such
  // object is added (and described, so what it holds follows);
  // add_refcount_roots() then makes it an "external" root, since no
  // reference to it was found.
  void collect_unreferenced_blocks(std::vector<std::string>& warnings) {
    auto take = [&](std::uint64_t object) {
      if (object == 0) return;
      add_object(object, false);
      ++stats_.found_in_blocks;
    };
    const PymallocScan scan = for_each_pymalloc_block(image_, rt_, warnings, [&](std::uint64_t block, std::uint32_t size) {
      // pymalloc serves a request from the class it rounds up to.
      take(object_in_allocation(block, size, [size](std::uint64_t request) { return align_up(request, 16) == size; }));
    });
    stats_.pymalloc_blocks = scan.used_blocks;
    stats_.pymalloc_scanned = scan.found;
    for (const Allocation& chunk : malloc_chunks_) {
      take(object_in_allocation(chunk.user, chunk.usable,
                                [&chunk](std::uint64_t request) { return malloc_serves(request, chunk.usable); }));
    }
    stats_.malloc_chunks = malloc_chunks_.size();
  }

  // Whether glibc malloc could have answered `request` bytes with a chunk
  // of `usable` bytes: a heap chunk is the request plus its 8-byte size
  // word rounded up to 16 (at least 32), or up to 16 more when the rest of
  // the free chunk it came from was too small to split off; an mmapped one
  // (usable a multiple of 16) is rounded up to a page.
  static bool malloc_serves(std::uint64_t request, std::uint64_t usable) {
    if (usable % 16 == 0) return request <= usable && usable - request < 4096 + 32;
    const std::uint64_t chunk = usable + 8, needed = std::max<std::uint64_t>(32, align_up(request + 8, 16));
    return chunk >= needed && chunk - needed <= 16;
  }

  // The object an allocation holds and the walk has not found, or 0. The
  // object starts after the allocation's gc header and pre-header, which
  // its type says it has: 0, 16 (gc) or 32 (gc and a managed dict or
  // weakref list) bytes in. Only types already seen qualify (every live
  // type has other instances or a module that names it), the count must be
  // a plausible one (pointers, as free-list links are, are not), a gc
  // object must be untracked (tracked ones are in the gc lists), and the
  // allocation must be one the allocator would give for the object's size
  // (`serves`: the headers plus the object's own size).
  template <typename Serves>
  std::uint64_t object_in_allocation(std::uint64_t start, std::uint64_t usable, const Serves& serves) {
    // An object is at least 16 bytes (a count and a type): the candidates
    // stay inside the allocation, a small block's neighbour is not looked at.
    const std::size_t candidates = usable >= 48 ? 3 : usable >= 32 ? 2 : usable >= 16 ? 1 : 0;
    constexpr std::uint64_t kHeaders[] = {0, 16, 32};
    for (std::size_t i = 0; i < candidates; ++i) {
      if (index_.find(start + kHeaders[i], objects_.data()) != IdIndex::kAbsent) return 0;
    }
    for (std::size_t i = 0; i < candidates; ++i) {
      const std::uint64_t header = kHeaders[i], p = start + header;
      const std::uint64_t refcnt = word(p);
      if ((refcnt & 0xffffffffu) == 0 || (refcnt >> 32) != 0) continue;
      const auto known = types_.find(word(p + 8));
      if (known == types_.end() || !known->second.valid) continue;
      const TypeInfo& t = known->second;
      if (header_size(t) != header || (header != 0 && word(p - 16) != 0)) continue;
      if (!valid_object(p)) continue;
      const std::uint64_t own = allocated_size(p, t);
      if (own == 0 || !serves(header + own)) continue;
      return p;
    }
    return 0;
  }

  // The gc header and pre-header in front of an object of type t
  // (_PyType_PreHeaderSize).
  static std::uint64_t header_size(const TypeInfo& t) {
    if (!(t.flags & kHaveGc)) return 0;
    return 16 + ((t.flags & (kManagedDict | kManagedWeakref)) ? 16 : 0);
  }

  // What CPython asked the allocator for, after the headers: the leaves'
  // and tuples' true sizes; a fixed-size type's tp_basicsize. Other
  // variable-size types are not taken from blocks (0 fails every class).
  std::uint64_t allocated_size(std::uint64_t p, const TypeInfo& t) {
    if (t.layout == Layout::Str) return str_size(p);
    if (t.layout == Layout::Leaf) return leaf_size(p, t);
    if (t.layout == Layout::Tuple) return t.basicsize + 8 * std::min(word(p + 0x10), kMaxItems);
    return t.itemsize == 0 ? t.basicsize : 0;
  }

  // ---- the gc lists ----------------------------------------------------------
  void collect_gc_objects(std::vector<std::string>& warnings) {
    const std::uint64_t gc = rt_.interp + l_.interp_gc;
    std::vector<std::uint64_t> heads;
    for (int i = 0; i < 3; ++i) heads.push_back(gc + 0x18 + 0x18 * static_cast<std::uint64_t>(i));
    heads.push_back(gc + 0x68);  // the permanent generation
    for (const std::uint64_t head : heads) {
      std::uint64_t node = word(head) & ~std::uint64_t{3};
      std::uint64_t previous = head;
      std::uint64_t count = 0;
      bool told_back_link = false;
      while (node != head) {
        if (node == 0 || image_.pointer(node, 32) == nullptr || count > kMaxGcObjects) {
          warnings.push_back("CPython gc list at " + hex(head) + " is broken after " + std::to_string(count) +
                             " objects (link " + hex(node) + "); the rest of that generation is not read");
          break;
        }
        if ((word(node + 8) & ~std::uint64_t{3}) != previous && !told_back_link) {
          told_back_link = true;
          warnings.push_back("CPython gc list at " + hex(head) + ": object " + hex(node + 16) +
                             " does not link back to the one before it");
        }
        const std::uint64_t object = node + 16;
        if (index_.find(object, objects_.data()) != IdIndex::kAbsent) {
          warnings.push_back("CPython gc list at " + hex(head) + " loops at " + hex(object));
          break;
        }
        if (valid_object(object)) {
          add_object(object, true);
        } else {
          ++stats_.bad_pointers;
        }
        previous = node;
        node = word(node) & ~std::uint64_t{3};
        ++count;
      }
    }
    if (stats_.gc_tracked == 0) {
      throw InputError("CPython " + rt_.version + " in this core: the gc lists hold no readable object "
                       "(the interpreter layout does not match this build)",
                       std::nullopt, "", "elf-core");
    }
  }

  // 3.12+: the interpreter's table of static builtin types (int, str, ...)
  // and their dicts, which the type objects do not point at. Without it the
  // dicts' counts look unexplained: C-held "reference-count leak suspects".
  void collect_static_type_dicts(std::vector<std::string>& warnings) {
    if (l_.interp_static_types == 0) return;
    const std::uint64_t table = rt_.interp + l_.interp_static_types;
    const std::uint64_t count = word(table);
    constexpr std::uint64_t kMaxStaticTypes = 200;  // _Py_MAX_STATIC_BUILTIN_TYPES
    if (count > kMaxStaticTypes) {
      warnings.push_back("CPython " + rt_.version + ": the static type table at " + hex(table) + " claims " +
                         std::to_string(count) + " types; not read (their dicts may show as reference-count leak suspects)");
      return;
    }
    for (std::uint64_t i = 0; i < count; ++i) {
      const std::uint64_t entry = table + 8 + i * l_.static_type_state_size;
      const std::uint64_t type = word(entry), dict = word(entry + l_.static_type_state_dict);
      const std::uint64_t metatype = word(type + 8);
      const bool is_type = type != 0 && (metatype == rt_.type_type || word(metatype + 8) == rt_.type_type);
      if (!is_type || object_index(type) < 0 || (dict != 0 && !is_dict(dict))) {
        warnings.push_back("CPython " + rt_.version + ": static type table entry " + std::to_string(i) + " at " +
                           hex(entry) + " does not check out; the rest of the table is not read");
        return;
      }
      static_type_state_[type] = {dict, word(entry + l_.static_type_state_subclasses)};
    }
  }

  bool is_dict(std::uint64_t p) {
    return valid_object(p) && type_info(word(p + 8)).layout == Layout::Dict;
  }

  // ---- roots -----------------------------------------------------------------
  struct NamedRoot {
    std::int64_t node;  // object index, or -(frame number + 2) for a frame node
    StringId name, kind;
  };

  void add_named_roots(std::vector<std::string>& warnings) {
    const StringId module_kind = builder_strings_.intern("module");
    const std::uint64_t modules = word(rt_.interp + l_.interp_modules);
    for (const DictEntry& e : dict_entries(word(modules + 0x20), word(modules + 0x28))) {
      const std::int64_t node = object_index(e.value);
      if (node < 0) continue;
      roots_.push_back({node, builder_strings_.intern("module " + str_value(e.key)), module_kind});
    }
    if (roots_.empty()) warnings.push_back("CPython " + rt_.version + ": sys.modules is empty or unreadable");
    const StringId interp_kind = builder_strings_.intern("interpreter");
    if (const std::int64_t b = object_index(word(rt_.interp + l_.interp_builtins)); b >= 0) {
      roots_.push_back({b, builder_strings_.intern("builtins"), interp_kind});
    }
    if (const std::int64_t s = object_index(word(rt_.interp + l_.interp_sysdict)); s >= 0) {
      roots_.push_back({s, builder_strings_.intern("sys"), interp_kind});
    }
    add_interned_strings_root(interp_kind, warnings);
    add_thread_roots();
  }

  // The interned-string dict: held from C, so without this root it was the
  // biggest "reference-count leak suspect" of every core.
  void add_interned_strings_root(StringId kind, std::vector<std::string>& warnings) {
    std::uint64_t dict = 0;
    if (l_.interp_interned != 0) {
      dict = word(rt_.interp + l_.interp_interned);
    } else if (const auto symbol = image_.find_symbol("interned", rt_.module_file())) {
      dict = word(symbol->address);
    }
    if (dict == 0) return;  // not made yet, or a stripped 3.11
    if (!is_dict(dict)) {
      warnings.push_back("CPython " + rt_.version + ": the interned-string table at " + hex(dict) +
                         " is not a dict; it may show as a reference-count leak suspect");
      return;
    }
    roots_.push_back({object_index(dict), builder_strings_.intern("interned strings"), kind});
  }

  void add_thread_roots() {
    const StringId frame_kind = builder_strings_.intern("frame");
    std::uint64_t tstate = word(rt_.interp + l_.interp_threads_head);
    for (int thread = 1; tstate != 0 && thread <= 4096; ++thread, tstate = word(tstate + l_.tstate_next)) {
      std::uint64_t frame = l_.tstate_cframe ? word(word(tstate + l_.tstate_cframe) + l_.cframe_current_frame)
                                             : word(tstate + l_.tstate_current_frame);
      for (int depth = 0; frame != 0 && depth < 100000; ++depth, frame = word(frame + l_.iframe_previous)) {
        const std::uint64_t code = word(frame + l_.iframe_code);
        const TypeInfo& ct = type_info(word(code + 8));
        if (!ct.valid || ct.text != "code") continue;  // a C-stack shim frame
        const std::string name = str_value(word(code + l_.code_qualname));
        const std::string file = str_value(word(code + l_.code_filename));
        std::string root = "thread " + std::to_string(thread) + " frame " + name + "() at " + file;
        if (const auto line = frame_line(frame, code)) root.append(":").append(std::to_string(*line));
        frames_.push_back({frame, code});
        roots_.push_back({-static_cast<std::int64_t>(frames_.size()) - 1, builder_strings_.intern(root), frame_kind});
      }
    }
    stats_.frames = frames_.size();
  }

  // The line a frame is at: its instruction's offset in the code object's
  // bytecode, looked up in the code's location table. nullopt when the
  // layout does not say where these are or the core does not hold them.
  std::optional<std::int64_t> frame_line(std::uint64_t frame, std::uint64_t code) {
    if (l_.code_adaptive == 0 || l_.code_linetable == 0 || l_.iframe_instr == 0) return std::nullopt;
    const std::uint64_t instr = word(frame + l_.iframe_instr);
    const std::uint64_t bytecode = code + l_.code_adaptive;
    if (instr < bytecode || (instr - bytecode) % 2 != 0) return std::nullopt;
    std::int32_t first_line = 0;
    if (!image_.read(code + l_.code_firstlineno, &first_line, sizeof first_line)) return std::nullopt;
    // co_linetable is a bytes object: ob_size at 0x10, the bytes at 0x20.
    const std::uint64_t table = word(code + l_.code_linetable);
    const TypeInfo& tt = type_info(word(table + 8));
    if (!tt.valid || tt.text != "bytes") return std::nullopt;
    const std::uint64_t size = word(table + 0x10);
    constexpr std::uint64_t kMaxTable = std::uint64_t{1} << 24;
    const std::uint8_t* bytes = size <= kMaxTable ? image_.pointer(table + 0x20, size) : nullptr;
    if (bytes == nullptr) return std::nullopt;
    return line_of_code_unit(bytes, size, first_line, (instr - bytecode) / 2);
  }

  // A frame's locals, named; the frame becomes a node of type "frame".
  void describe_frame(const std::pair<std::uint64_t, std::uint64_t>& f, std::vector<PendingEdge>& edges) {
    const std::uint64_t names = word(f.second + l_.code_localsplusnames);
    const std::uint64_t n = std::min(word(names + 0x10), std::uint64_t{100000});
    const std::uint8_t* slots = image_.pointer(f.first + l_.iframe_localsplus, n * 8);
    const std::uint8_t* name_items = image_.pointer(names + 0x18, n * 8);
    if (slots == nullptr || name_items == nullptr) return;
    for (std::uint64_t i = 0; i < n; ++i) {
      const std::uint64_t value = load_u64(slots + 8 * i);
      if (value != 0) edges.push_back({value, attribute_label(load_u64(name_items + 8 * i))});
    }
  }

  // CPython's collector logic: references found vs reference counts.
  void add_refcount_roots() {
    // Frames first: their locals are objects too (appended to the walk).
    frame_edges_.resize(frames_.size());
    for (std::size_t i = 0; i < frames_.size(); ++i) {
      std::vector<PendingEdge> edges;
      describe_frame(frames_[i], edges);
      for (const PendingEdge& e : edges) {
        const std::int64_t target = object_index(e.target);
        if (target >= 0) frame_edges_[i].push_back({static_cast<std::uint32_t>(target), e.name});
      }
    }
    for (std::size_t i = node_type_.size(); i < objects_.size(); ++i) describe(i);
    push_edge_begin();

    const std::size_t n = objects_.size();
    std::vector<std::uint32_t> found(n, 0);
    for (const std::uint32_t t : edge_target_) ++found[t];
    for (const auto& fe : frame_edges_) {
      for (const auto& [t, name] : fe) ++found[t];
    }
    std::vector<std::uint8_t> reached(n, 0);
    std::vector<std::uint32_t> stack;
    auto push = [&](std::uint32_t v) {
      if (!reached[v]) reached[v] = 1, stack.push_back(v);
    };
    for (const NamedRoot& r : roots_) {
      if (r.node >= 0) push(static_cast<std::uint32_t>(r.node));
    }
    for (const auto& fe : frame_edges_) {
      for (const auto& [t, name] : fe) push(t);
    }
    auto drain = [&] {
      while (!stack.empty()) {
        const std::uint32_t v = stack.back();
        stack.pop_back();
        for (std::uint64_t e = edge_begin_[v]; e < edge_begin_[v + 1]; ++e) push(edge_target_[e]);
      }
    };
    drain();
    const StringId external = builder_strings_.intern("external"), immortal = builder_strings_.intern("immortal");
    for (std::uint32_t v = 0; v < n; ++v) {
      if (reached[v]) continue;
      const std::uint64_t refcnt = word(objects_[v]);
      const bool is_immortal = l_.immortal_refcounts && (refcnt & 0xffffffffu) == 0xffffffffu;
      const std::uint64_t count = l_.immortal_refcounts ? (refcnt & 0xffffffffu) : refcnt;
      if (!is_immortal && count <= found[v]) continue;
      const std::string type = std::string(builder_strings_.view(node_type_[v]));
      const std::string name = is_immortal ? "immortal " + type
                                           : "external (" + std::to_string(count - found[v]) + " unseen reference" +
                                                 (count - found[v] == 1 ? "" : "s") + ") " + type;
      roots_.push_back({v, builder_strings_.intern(name), is_immortal ? immortal : external});
      is_immortal ? ++stats_.immortal_roots : ++stats_.external_roots;
      push(v);
      drain();
    }
  }

  // ---- the graph ---------------------------------------------------------------
  // The walk's columns are already the graph's layout (nodes in order,
  // each one's edges together, targets as ordinals), so the graph adopts
  // them (GraphColumns) instead of a builder copying them: the copy was a
  // third of the read's peak. Frames come after the objects.
  HeapGraph build(std::vector<std::string>& /*warnings*/) {
    GraphBuilder& b = builder_;
    const std::size_t n = objects_.size();
    const std::size_t frames = frames_.size();
    release_lookups();  // first: the 64-bit columns below are made while the walk's 32-bit ones still exist
    GraphColumns c;
    // The sizes and edge offsets, 32-bit during the walk, widened to the
    // graph's 64 bits one column at a time.
    c.shallow_size.resize(n + 1);
    for (std::size_t v = 0; v < n; ++v) c.shallow_size.set(v + 1, size_of(v));
    release(node_size_);
    release(big_sizes_);
    c.out_begin.resize(n + 2);
    for (std::size_t v = 0; v <= n; ++v) c.out_begin[v + 1] = edge_begin_[v];
    release(edge_begin_);
    objects_.insert(objects_.begin(), 0);  // slot 0 of the node columns is the super-root's
    c.object_id = IdColumn(U64Column(std::move(objects_)));
    c.type = std::move(node_type_);
    c.name = std::move(node_label_);
    c.edge_target = std::move(edge_target_);
    c.edge_label = std::move(edge_name_);  // EdgeLabel::named(id).raw() is the id itself
    // Slot 0 of the node columns is the super-root's.
    c.type.insert(c.type.begin(), kNoString);
    c.name.insert(c.name.begin(), kNoString);
    const StringId frame_type = b.intern("frame");
    for (std::size_t i = 0; i < frames; ++i) {
      c.object_id.push_back(frames_[i].first);
      c.shallow_size.push_back(0);
      c.type.push_back(frame_type);
      c.name.push_back(kNoString);
      for (const auto& [t, name] : frame_edges_[i]) {
        c.edge_target.push_back(t);
        c.edge_label.push_back(EdgeLabel::named(name).raw());
      }
      c.push_edges_end();
    }
    // No edge_kind column: every edge is strong.
    for (const NamedRoot& r : roots_) {
      const std::uint64_t ordinal = r.node >= 0 ? static_cast<std::uint64_t>(r.node) : n + static_cast<std::uint64_t>(-r.node - 2);
      b.add_root(ordinal, r.name, r.kind);
    }
    b.set_meta("producer", "CPython " + rt_.version + " core (" + rt_.module + ")");
    b.set_meta("python.version", rt_.version);
    b.set_meta("python.gc_tracked_objects", std::to_string(stats_.gc_tracked));
    b.set_meta("python.untracked_objects", std::to_string(stats_.untracked));
    b.set_meta("python.frames", std::to_string(stats_.frames));
    b.set_meta("python.refcount_leak_suspects", std::to_string(stats_.external_roots));
    b.set_meta("python.immortal_roots", std::to_string(stats_.immortal_roots));
    if (stats_.pymalloc_scanned) b.set_meta("python.pymalloc_used_blocks", std::to_string(stats_.pymalloc_blocks));
    b.set_meta("python.malloc_chunks", std::to_string(stats_.malloc_chunks));
    b.set_meta("python.unreferenced_objects_in_allocations", std::to_string(stats_.found_in_blocks));
    // Reference counting frees everything but cycles; the rest is rooted.
    b.set_meta("unreachable_means", "cyclic-garbage");
    release_walk();
    return std::move(b).build(std::move(c));
  }

  template <typename T>
  static void release(T& container) {
    T().swap(container);
  }
  // What only the walk needed.
  void release_lookups() {
    index_.clear();
    release(key_labels_);
    release(attribute_labels_);
  }
  void release_walk() { release(frame_edges_); }

  // Sizes fit 32 bits for nearly every object; the rare bigger ones (a huge
  // bytes or list) are kept on the side.
  static constexpr std::uint32_t kBigSize = 0xFFFFFFFFu;
  void push_size(std::uint64_t size) {
    if (size >= kBigSize) big_sizes_[node_size_.size()] = size;
    node_size_.push_back(size >= kBigSize ? kBigSize : static_cast<std::uint32_t>(size));
  }
  std::uint64_t size_of(std::size_t v) const { return node_size_[v] == kBigSize ? big_sizes_.at(v) : node_size_[v]; }
  // Every reference is a pointer stored somewhere in the core, so honest
  // objects cannot hold more references than the core has words; only the
  // key of a split dict's entry is shared, once per value: twice the words,
  // then. Objects that claim more overlap each other (a damaged or hostile
  // core), and reading them would cost objects x core size.
  void charge_references(std::size_t count) {
    references_read_ += count;
    const std::uint64_t budget = 2 * readable_words_ + 4 * objects_.size() + (1u << 20);
    if (references_read_ > budget) {
      throw InputError("the Python objects claim more references (" + std::to_string(references_read_) +
                       " so far) than the core's " + std::to_string(readable_words_) +
                       " readable words can hold: containers overlap each other (a damaged core)");
    }
  }
  void push_edge_begin() {
    if (edge_target_.size() > 0xFFFFFFFFu) throw InputError("more than 4,294,967,295 references between Python objects");
    edge_begin_.push_back(static_cast<std::uint32_t>(edge_target_.size()));
  }

  const CoreImage& image_;
  const CpythonRuntime& rt_;
  const CpythonLayout& l_;
  std::span<const Allocation> malloc_chunks_;  // glibc's in-use chunks
  PythonGraphStats& stats_;
  GraphBuilder builder_{TargetNaming::ByOrdinal};
  StringTable& builder_strings_ = builder_.strings();
  StringId key_name_ = builder_strings_.intern("<key>");
  StringId dict_name_ = builder_strings_.intern("__dict__");
  StringId class_name_ = builder_strings_.intern("__class__");
  StringId cell_contents_ = builder_strings_.intern("cell_contents");
  std::unordered_map<std::uint64_t, TypeInfo> types_;
  // static builtin type -> (its dict, its subclasses), from the interpreter (3.12+)
  std::unordered_map<std::uint64_t, std::pair<std::uint64_t, std::uint64_t>> static_type_state_;
  static constexpr StringId kNoLabelYet = 0xFFFFFFFFu;
  BigVector<StringId> key_labels_;  // by object number: a dict key's label, kNoLabelYet
  std::unordered_map<std::uint64_t, StringId> attribute_labels_;
  std::vector<StringId> index_labels_;
  std::uint64_t str_type_ = 0;
  std::uint64_t readable_words_ = 0;    // 8-byte words in the core's readable regions
  std::uint64_t references_read_ = 0;   // references the walk has read, kept or not
  std::unordered_set<std::uint64_t> unreadable_dict_tables_;  // key tables (addresses) a read failed on

  IdIndex index_;
  // The graph's columns as the walk finds them (moved into GraphColumns).
  BigVector<std::uint64_t> objects_;
  BigVector<std::uint32_t> node_size_;  // kBigSize: in big_sizes_
  std::unordered_map<std::size_t, std::uint64_t> big_sizes_;
  BigVector<StringId> node_type_, node_label_;
  BigVector<std::uint32_t> edge_begin_;  // per object, then the end: widened at build()
  BigVector<NodeIndex> edge_target_;
  BigVector<std::uint32_t> edge_name_;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> frames_;  // (interpreter frame, code)
  std::vector<std::vector<std::pair<std::uint32_t, StringId>>> frame_edges_;
  std::vector<NamedRoot> roots_;
};

}  // namespace

HeapGraph build_python_graph(const CoreImage& image, const CpythonRuntime& runtime,
                             std::span<const Allocation> malloc_chunks, std::vector<std::string>& warnings,
                             PythonGraphStats* stats) {
  PythonGraphStats local;
  Walker walker(image, runtime, malloc_chunks, stats ? *stats : local);
  return walker.run(warnings);
}

}  // namespace heapscope::readers::core::python
