// A data-only pickle machine for tracemalloc dumps. It accepts the opcodes
// real dumps use plus the few a careful reader expects (protocol 2..5
// writers), and refuses everything else: no REDUCE, no other global than
// tracemalloc.Snapshot / tracemalloc._Traces, so nothing can be executed.
//
// Values are 16-byte tagged records. The shapes a dump is made of are
// recognised when their tuple is built, so they never exist as generic
// tuples: (str, int) is a frame (interned), a tuple of frames a traceback
// (interned), and (int, int, traceback[, int]) a trace, whose fields go
// straight into flat arrays. Memory is therefore ~16 bytes per memo entry
// and list item plus the final 18 bytes per trace.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <sys/mman.h>
#include <string>
#include <unordered_map>

#include "heapscope/error.hpp"
#include "readers/tracemalloc/tracemalloc_reader.hpp"

namespace heapscope::readers {
namespace {

enum class Kind : std::uint8_t {
  Empty,  // an unset memo slot
  None,
  Bool,
  Int,      // payload: the value, 56-bit two's complement
  WideInt,  // fits 64 bits (signed or unsigned) but not 56: payload = index into wide_ints_
  BigInt,   // outside 64 bits
  Str,      // payload = string id
  Frame,    // payload = frame id
  Traceback,
  Trace3,   // payload = pool index; (domain, size, frames)
  Trace4,   // (domain, size, frames, total_nframe)
  Tuple,    // generic; payload = tuple id
  List,
  Dict,
  Set,
  Global,  // payload = 0 Snapshot, 1 _Traces
  Object,  // payload = object id
};

const char* kind_name(Kind kind) {
  switch (kind) {
    case Kind::Empty: return "nothing";
    case Kind::None: return "None";
    case Kind::Bool: return "a bool";
    case Kind::Int:
    case Kind::WideInt:
    case Kind::BigInt: return "an int";
    case Kind::Str: return "a str";
    case Kind::Frame: return "a frame tuple";
    case Kind::Traceback: return "a frames tuple";
    case Kind::Trace3:
    case Kind::Trace4: return "a trace tuple";
    case Kind::Tuple: return "a tuple";
    case Kind::List: return "a list";
    case Kind::Dict: return "a dict";
    case Kind::Set: return "a set";
    case Kind::Global: return "a class";
    case Kind::Object: return "an object";
  }
  return "?";
}

// 8 bytes: the kind in the top byte, a 56-bit payload below it. The memo,
// the stack and the traces list hold one per entry.
struct Value {
  std::uint64_t bits = 0;
  static constexpr std::uint64_t kPayloadMask = (1ULL << 56) - 1;
  static Value make(Kind kind, std::uint64_t payload) {
    return Value{(static_cast<std::uint64_t>(kind) << 56) | (payload & kPayloadMask)};
  }
  Kind kind() const { return static_cast<Kind>(bits >> 56); }
  std::uint64_t payload() const { return bits & kPayloadMask; }
  // Int payload as a signed value.
  std::int64_t small() const { return static_cast<std::int64_t>(bits << 8) >> 8; }
};
static_assert(sizeof(Value) == 8);

struct WideInt {
  std::uint64_t value = 0;  // two's complement when negative
  bool negative = false;
};

std::string opcode_name(std::uint8_t op) {
  static const std::unordered_map<int, const char*> names = {
      {'(', "MARK"}, {'.', "STOP"}, {'0', "POP"}, {'1', "POP_MARK"}, {'2', "DUP"}, {'F', "FLOAT"},
      {'I', "INT"}, {'J', "BININT"}, {'K', "BININT1"}, {'L', "LONG"}, {'M', "BININT2"}, {'N', "NONE"},
      {'P', "PERSID"}, {'Q', "BINPERSID"}, {'R', "REDUCE"}, {'S', "STRING"}, {'T', "BINSTRING"},
      {'U', "SHORT_BINSTRING"}, {'V', "UNICODE"}, {'X', "BINUNICODE"}, {'a', "APPEND"}, {'b', "BUILD"},
      {'c', "GLOBAL"}, {'d', "DICT"}, {'}', "EMPTY_DICT"}, {'e', "APPENDS"}, {'g', "GET"},
      {'h', "BINGET"}, {'i', "INST"}, {'j', "LONG_BINGET"}, {'l', "LIST"}, {']', "EMPTY_LIST"},
      {'o', "OBJ"}, {'p', "PUT"}, {'q', "BINPUT"}, {'r', "LONG_BINPUT"}, {'s', "SETITEM"}, {'t', "TUPLE"},
      {')', "EMPTY_TUPLE"}, {'u', "SETITEMS"}, {'G', "BINFLOAT"}, {0x80, "PROTO"}, {0x81, "NEWOBJ"},
      {0x82, "EXT1"}, {0x83, "EXT2"}, {0x84, "EXT4"}, {0x85, "TUPLE1"}, {0x86, "TUPLE2"},
      {0x87, "TUPLE3"}, {0x88, "NEWTRUE"}, {0x89, "NEWFALSE"}, {0x8a, "LONG1"}, {0x8b, "LONG4"},
      {'B', "BINBYTES"}, {'C', "SHORT_BINBYTES"}, {0x8c, "SHORT_BINUNICODE"}, {0x8d, "BINUNICODE8"},
      {0x8e, "BINBYTES8"}, {0x8f, "EMPTY_SET"}, {0x90, "ADDITEMS"}, {0x91, "FROZENSET"},
      {0x92, "NEWOBJ_EX"}, {0x93, "STACK_GLOBAL"}, {0x94, "MEMOIZE"}, {0x95, "FRAME"},
      {0x96, "BYTEARRAY8"}, {0x97, "NEXT_BUFFER"}, {0x98, "READONLY_BUFFER"}};
  char hex[8];
  std::snprintf(hex, sizeof hex, "0x%02x", op);
  const auto it = names.find(op);
  return it == names.end() ? std::string("unknown opcode ") + hex : std::string("opcode ") + it->second + " (" + hex + ")";
}

// Valid UTF-8 as CPython's "utf-8"/"surrogatepass" decoder accepts it.
bool valid_utf8_surrogatepass(std::string_view s) {
  std::size_t i = 0;
  const std::size_t n = s.size();
  while (i < n) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    int extra;
    std::uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
      extra = 1;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      extra = 2;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      extra = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + static_cast<std::size_t>(extra) >= n) return false;
    for (int k = 1; k <= extra; ++k) {
      const auto b = static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]);
      if ((b & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (b & 0x3F);
    }
    if ((extra == 2 && cp < 0x800) || (extra == 3 && (cp < 0x10000 || cp > 0x10FFFF))) return false;
    i += static_cast<std::size_t>(extra) + 1;
  }
  return true;
}

struct Hash64 {
  std::size_t operator()(std::uint64_t x) const noexcept {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return static_cast<std::size_t>(x);
  }
};

struct ObjectRecord {
  std::uint32_t cls = 0;
  std::uint64_t offset = 0;
  std::vector<std::uint32_t> states;  // dict ids, in BUILD order
};

struct Container {
  std::uint64_t offset = 0;
  std::vector<Value> items;  // lists, tuples; dicts as key, value pairs
};

// Asks for transparent huge pages on a big buffer (THP "madvise" mode):
// the parse writes ~35 MB per million traces, and 4 KiB page faults are
// otherwise a third of its time. Only whole 2 MiB pages inside the buffer
// are affected; failure is harmless.
void advise_huge(const void* data, std::size_t bytes) {
  constexpr std::uintptr_t kHuge = 2u << 20;
  if (bytes < 2 * kHuge) return;
  const auto begin = (reinterpret_cast<std::uintptr_t>(data) + kHuge - 1) & ~(kHuge - 1);
  const auto end = (reinterpret_cast<std::uintptr_t>(data) + bytes) & ~(kHuge - 1);
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
}

template <typename T>
void reserve_huge(std::vector<T>& v, std::size_t n) {
  v.reserve(n);
  advise_huge(v.data(), v.capacity() * sizeof(T));
}

// A growable array of Values with an inlined fast path (std::vector's
// push_back is not inlined in the opcode loop) that grows by realloc, which
// moves big blocks by remapping rather than copying, and never touches
// capacity it has not used.
class ValueArray {
 public:
  ValueArray() = default;
  ValueArray(const ValueArray&) = delete;
  ValueArray& operator=(const ValueArray&) = delete;
  ~ValueArray() { std::free(data_); }

  std::size_t size() const { return size_; }
  Value* data() { return data_; }
  const Value* data() const { return data_; }
  Value& operator[](std::size_t i) { return data_[i]; }
  const Value& operator[](std::size_t i) const { return data_[i]; }
  Value& back() { return data_[size_ - 1]; }
  void push(Value v) {
    if (__builtin_expect(size_ == capacity_, 0)) grow(size_ + 1);
    data_[size_++] = v;
  }
  void resize(std::size_t n) {
    if (n > capacity_) grow(n);
    for (std::size_t i = size_; i < n; ++i) data_[i] = Value{};
    size_ = n;
  }
  void shrink(std::size_t n) { size_ = n; }
  void reserve(std::size_t n) {
    if (n > capacity_) {
      realloc_to(n);
      advise_huge(data_, capacity_ * sizeof(Value));
    }
  }

 private:
  [[gnu::noinline]] void grow(std::size_t need) { realloc_to(std::max<std::size_t>({need, 1024, capacity_ * 2})); }
  void realloc_to(std::size_t n) {
    void* p = std::realloc(data_, n * sizeof(Value));
    if (p == nullptr) throw std::bad_alloc();
    data_ = static_cast<Value*>(p);
    capacity_ = n;
  }
  Value* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

class Machine {
 public:
  Machine(std::string_view bytes, TraceTable& table)
      : p_(reinterpret_cast<const std::uint8_t*>(bytes.data())), n_(bytes.size()), table_(table) {}

  void run();
  std::uint64_t end_offset() const { return pos_; }

 private:
  [[noreturn, gnu::cold, gnu::noinline]] void fail(const std::string& what, std::uint64_t at) const {
    throw InputError(what, at);
  }
  [[noreturn, gnu::cold, gnu::noinline]] void fail(const std::string& what) const { fail(what, op_at_); }
  [[noreturn, gnu::cold, gnu::noinline]] void fail_truncated(std::uint64_t count) const {
    fail("truncated: " + opcode_name(op_) + " needs " + std::to_string(count) + " more bytes, the file has " +
         std::to_string(n_ - pos_));
  }
  [[noreturn, gnu::cold, gnu::noinline]] void fail_underflow() const {
    fail(opcode_name(op_) + (marks_.empty() ? " on an empty stack" : " with nothing on the stack above the last MARK"));
  }

  void need(std::uint64_t count) const {
    if (__builtin_expect(count > n_ - pos_, 0)) fail_truncated(count);
  }
  std::uint64_t read_le(unsigned width) {
    need(width);
    std::uint64_t v = 0;
    std::memcpy(&v, p_ + pos_, width);  // little-endian host (x86-64, aarch64)
    pos_ += width;
    return v;
  }
  std::string_view read_bytes(std::uint64_t count) {
    need(count);
    std::string_view out(reinterpret_cast<const char*>(p_ + pos_), count);
    pos_ += count;
    return out;
  }

  void push(Value value) { stack_.push(value); }
  Value pop() {
    if (__builtin_expect(stack_.size() <= floor_, 0)) fail_underflow();
    const Value v = stack_.back();
    stack_.shrink(stack_.size() - 1);
    return v;
  }
  Value top() const {
    if (__builtin_expect(stack_.size() <= floor_, 0)) fail_underflow();
    return stack_[stack_.size() - 1];
  }
  std::size_t pop_mark() {
    if (marks_.empty()) fail(opcode_name(op_) + " without a MARK");
    const std::size_t m = marks_.back();
    marks_.pop_back();
    floor_ = marks_.empty() ? 0 : marks_.back();
    return m;
  }

  Value int_value(std::uint64_t bits, bool negative, bool wide_unsigned);
  Value make_int(std::string_view le_bytes);
  Value make_str(std::string_view utf8);
  Value make_tuple(const Value* items, std::size_t count);
  // A non-negative int below 2**64: its value; otherwise false.
  bool as_u64(Value value, std::uint64_t& out) const {
    if (value.kind() == Kind::Int) {
      if (value.small() < 0) return false;
      out = static_cast<std::uint64_t>(value.small());
      return true;
    }
    if (value.kind() == Kind::WideInt && !wide_ints_[value.payload()].negative) {
      out = wide_ints_[value.payload()].value;
      return true;
    }
    return false;
  }
  void memo_put(std::uint64_t index);
  Value memo_get(std::uint64_t index) {
    if (__builtin_expect(index >= memo_.size() || memo_[index].kind() == Kind::Empty, 0)) fail_memo(index);
    return memo_[index];
  }
  [[noreturn, gnu::cold, gnu::noinline]] void fail_memo(std::uint64_t index) const {
    fail("memo index " + std::to_string(index) + " was never stored (the memo has " + std::to_string(memo_.size()) +
         " entries)");
  }
  void global(std::string_view module, std::string_view name);
  void append_items(std::size_t from);
  void set_items(std::size_t from);
  void check_hashable(Value key) {
    if (key.kind() == Kind::List || key.kind() == Kind::Dict || key.kind() == Kind::Set) {
      fail(std::string("unhashable dict key: ") + kind_name(key.kind()));
    }
  }

  // The shape of almost every trace in a real dump, read without the
  // general machinery; false (and nothing consumed) when the bytes differ.
  bool fast_uint(const std::uint8_t*& q, std::uint64_t& out) const;
  bool fast_traceback(const std::uint8_t*& q, std::uint64_t& out) const;
  bool try_trace4();
  bool try_trace3();
  Value add_trace(std::uint64_t domain, std::uint64_t size, std::uint64_t traceback, std::uint64_t nframe, bool four) {
    const auto index = sizes_.size();
    domains_.push_back(static_cast<std::uint32_t>(domain));
    sizes_.push_back(size);
    tracebacks_.push_back(static_cast<std::uint32_t>(traceback));
    nframes_.push_back(static_cast<std::uint16_t>(nframe));
    return Value::make(four ? Kind::Trace4 : Kind::Trace3, index);
  }

  // Real dumps hold 3 lists/dicts, 2 objects and 1 empty tuple besides the
  // recognised shapes; a cap keeps hostile files from costing ~40 bytes of
  // memory per byte of input.
  static constexpr std::size_t kMaxContainers = 1'000'000;
  void count_container() {
    if (++containers_ > kMaxContainers) {
      fail("more than " + std::to_string(kMaxContainers) + " lists, dicts, sets, objects and tuples of other shapes: not a tracemalloc dump");
    }
  }
  std::size_t containers_ = 0;
  std::uint64_t empty_tuple_ = UINT64_MAX;

  void finish(Value root);
  const Value* attribute(const ObjectRecord& object, std::string_view name) const;

  const std::uint8_t* p_;
  std::uint64_t n_;
  std::uint64_t pos_ = 0;
  std::uint64_t op_at_ = 0;
  std::uint8_t op_ = 0;
  TraceTable& table_;

  ValueArray stack_;
  std::vector<std::size_t> marks_;
  std::size_t floor_ = 0;  // marks_.back(), or 0
  ValueArray memo_;

  std::vector<WideInt> wide_ints_;
  std::vector<std::string_view> strings_;
  std::unordered_map<std::string_view, std::uint32_t> string_ids_;
  std::vector<TraceFrame> frames_;  // filename = string id
  std::unordered_map<std::uint64_t, std::uint32_t, Hash64> frame_ids_;
  std::unordered_map<std::uint64_t, std::uint32_t, Hash64> traceback_ids_;  // hash -> newest id
  std::vector<std::uint32_t> traceback_next_;                               // collision chains
  std::vector<Container> tuples_, lists_, dicts_;
  std::vector<std::uint64_t> sets_;  // offsets only: a set is never part of a valid dump
  std::vector<ObjectRecord> objects_;

  // Trace pool (every trace tuple built, in order).
  std::vector<std::uint64_t> sizes_;
  std::vector<std::uint32_t> domains_;
  std::vector<std::uint32_t> tracebacks_;
  std::vector<std::uint16_t> nframes_;
};

constexpr std::int64_t kSmallMin = -(1LL << 55), kSmallMax = (1LL << 55) - 1;

Value Machine::int_value(std::uint64_t bits, bool negative, bool wide_unsigned) {
  const auto s = static_cast<std::int64_t>(bits);
  if (!wide_unsigned && s >= kSmallMin && s <= kSmallMax) return Value::make(Kind::Int, bits);
  wide_ints_.push_back(WideInt{bits, negative});
  return Value::make(Kind::WideInt, wide_ints_.size() - 1);
}

Value Machine::make_int(std::string_view le) {
  // Two's complement little-endian, as LONG1/LONG4 store it.
  const std::size_t n = le.size();
  if (n == 0) return Value::make(Kind::Int, 0);
  const bool negative = (static_cast<unsigned char>(le[n - 1]) & 0x80) != 0;
  std::size_t significant = n;
  const unsigned char fill = negative ? 0xFF : 0x00;
  while (significant > 0 && static_cast<unsigned char>(le[significant - 1]) == fill) --significant;
  if (significant > 8) return Value::make(Kind::BigInt, negative);
  std::uint64_t v = negative ? ~0ULL : 0;
  for (std::size_t k = 0; k < std::min<std::size_t>(n, 8); ++k) {
    v &= ~(0xFFULL << (8 * k));
    v |= static_cast<std::uint64_t>(static_cast<unsigned char>(le[k])) << (8 * k);
  }
  if (negative) {
    // Fits int64 only when bit 63 is set (value >= -2**63).
    if ((v >> 63) == 0) return Value::make(Kind::BigInt, 1);
    return int_value(v, true, false);
  }
  return int_value(v, false, (v >> 63) != 0);
}

Value Machine::make_str(std::string_view text) {
  const auto it = string_ids_.find(text);
  if (it != string_ids_.end()) return Value::make(Kind::Str, it->second);
  if (!valid_utf8_surrogatepass(text)) fail("string is not valid UTF-8 in " + opcode_name(op_));
  const auto id = static_cast<std::uint32_t>(strings_.size());
  strings_.push_back(text);
  string_ids_.emplace(text, id);
  return Value::make(Kind::Str, id);
}

Value Machine::make_tuple(const Value* items, std::size_t count) {
  std::uint64_t a = 0, b = 0, c = 0;
  // (domain, size, frames[, total_nframe]): a trace. Checked first: it is
  // by far the most frequent tuple.
  if ((count == 4 || count == 3) && items[2].kind() == Kind::Traceback && as_u64(items[0], a) && a <= 0xFFFFFFFFULL &&
      as_u64(items[1], b) && (count == 3 || (as_u64(items[3], c) && c <= 0xFFFF))) {
    return add_trace(a, b, items[2].payload(), c, count == 4);
  }
  // (filename, lineno): a frame.
  if (count == 2 && items[0].kind() == Kind::Str && as_u64(items[1], a) && a <= 0xFFFFFFFFULL) {
    const std::uint64_t key = (items[0].payload() << 32) | a;
    auto [it, inserted] = frame_ids_.try_emplace(key, static_cast<std::uint32_t>(frames_.size()));
    if (inserted) frames_.push_back(TraceFrame{static_cast<std::uint32_t>(items[0].payload()), static_cast<std::uint32_t>(a)});
    return Value::make(Kind::Frame, it->second);
  }
  // A tuple of frames: a traceback.
  if (count >= 1 && std::all_of(items, items + count, [](Value v) { return v.kind() == Kind::Frame; })) {
    std::uint64_t h = 0x9E3779B97F4A7C15ULL ^ count;
    for (std::size_t k = 0; k < count; ++k) h = (h ^ items[k].payload()) * 0x100000001B3ULL + (h >> 29);
    const auto found = traceback_ids_.find(h);
    std::uint32_t id = found == traceback_ids_.end() ? UINT32_MAX : found->second;
    for (; id != UINT32_MAX; id = traceback_next_[id]) {
      const auto frames = table_.traceback(id);
      if (frames.size() != count) continue;
      bool same = true;
      for (std::size_t k = 0; k < count && same; ++k) same = frames[k] == items[k].payload();
      if (same) return Value::make(Kind::Traceback, id);
    }
    if (table_.traceback_frames.size() + count > 0xFFFFFFF0ULL) fail("too many frames");
    id = static_cast<std::uint32_t>(table_.traceback_count());
    for (std::size_t k = 0; k < count; ++k) table_.traceback_frames.push_back(static_cast<std::uint32_t>(items[k].payload()));
    table_.traceback_offsets.push_back(static_cast<std::uint32_t>(table_.traceback_frames.size()));
    traceback_next_.push_back(found == traceback_ids_.end() ? UINT32_MAX : found->second);
    traceback_ids_[h] = id;
    return Value::make(Kind::Traceback, id);
  }
  const auto id = tuples_.size();
  if (count == 0 && empty_tuple_ != UINT64_MAX) return Value::make(Kind::Tuple, empty_tuple_);  // immutable: share it
  count_container();
  tuples_.push_back(Container{op_at_, std::vector<Value>(items, items + count)});
  if (count == 0) empty_tuple_ = id;
  return Value::make(Kind::Tuple, id);
}

bool Machine::fast_uint(const std::uint8_t*& q, std::uint64_t& out) const {
  const std::uint8_t* end = p_ + n_;
  if (q >= end) return false;
  switch (*q) {
    case 'K':
      if (end - q < 2) return false;
      out = q[1];
      q += 2;
      return true;
    case 'M':
      if (end - q < 3) return false;
      out = static_cast<std::uint64_t>(q[1]) | static_cast<std::uint64_t>(q[2]) << 8;
      q += 3;
      return true;
    case 'J': {
      if (end - q < 5) return false;
      std::int32_t v;
      std::memcpy(&v, q + 1, 4);
      if (v < 0) return false;
      out = static_cast<std::uint64_t>(v);
      q += 5;
      return true;
    }
    default: return false;
  }
}

bool Machine::fast_traceback(const std::uint8_t*& q, std::uint64_t& out) const {
  const std::uint8_t* end = p_ + n_;
  std::uint64_t index;
  if (q < end && *q == 'h' && end - q >= 2) {
    index = q[1];
    q += 2;
  } else if (q < end && *q == 'j' && end - q >= 5) {
    std::uint32_t v;
    std::memcpy(&v, q + 1, 4);
    index = v;
    q += 5;
  } else {
    return false;
  }
  if (index >= memo_.size() || memo_[index].kind() != Kind::Traceback) return false;
  out = memo_[index].payload();
  return true;
}

// After a MARK: int int GET(traceback) int TUPLE [MEMOIZE]. The same
// effect as the general path: the trace pushed (and memoized), the mark gone.
bool Machine::try_trace4() {
  const std::uint8_t* q = p_ + pos_;
  std::uint64_t domain, size, traceback, nframe;
  if (!fast_uint(q, domain) || domain > 0xFFFFFFFFULL || !fast_uint(q, size) || !fast_traceback(q, traceback) ||
      !fast_uint(q, nframe) || nframe > 0xFFFF || q >= p_ + n_ || *q != 't') {
    return false;
  }
  ++q;
  const Value trace = add_trace(domain, size, traceback, nframe, true);
  stack_.push(trace);
  if (q < p_ + n_ && *q == 0x94) {
    memo_.push(trace);
    ++q;
  }
  pos_ = static_cast<std::uint64_t>(q - p_);
  return true;
}

// At an int opcode: int int GET(traceback) TUPLE3 [MEMOIZE] (CPython <= 3.8).
bool Machine::try_trace3() {
  const std::uint8_t* q = p_ + op_at_;
  std::uint64_t domain, size, traceback;
  if (!fast_uint(q, domain) || domain > 0xFFFFFFFFULL || !fast_uint(q, size) || !fast_traceback(q, traceback) ||
      q >= p_ + n_ || *q != 0x87) {
    return false;
  }
  ++q;
  const Value trace = add_trace(domain, size, traceback, 0, false);
  stack_.push(trace);
  if (q < p_ + n_ && *q == 0x94) {
    memo_.push(trace);
    ++q;
  }
  pos_ = static_cast<std::uint64_t>(q - p_);
  return true;
}

// Memo slots beyond the next free one are refused past this much slack, so
// a hostile LONG_BINPUT cannot make the memo huge.
constexpr std::uint64_t kMemoSlack = 1u << 16;

void Machine::memo_put(std::uint64_t index) {
  const Value value = top();
  if (index >= memo_.size()) {
    // An honest pickler's memo never has more entries than opcodes read.
    if (index > memo_.size() + kMemoSlack || index > pos_ + kMemoSlack) {
      fail("memo index " + std::to_string(index) + " out of bounds (the memo has " + std::to_string(memo_.size()) + " entries)");
    }
    memo_.resize(index + 1);
  }
  memo_[index] = value;
}

void Machine::global(std::string_view module, std::string_view name) {
  if (module == "tracemalloc" && name == "Snapshot") return push(Value::make(Kind::Global, 0));
  if (module == "tracemalloc" && name == "_Traces") return push(Value::make(Kind::Global, 1));
  // Control characters in the names are escaped by InputError.
  const std::string shown = std::string(module.substr(0, 80)) + "." + std::string(name.substr(0, 80));
  fail("global '" + shown + "' is not allowed (only tracemalloc.Snapshot and tracemalloc._Traces)");
}

void Machine::append_items(std::size_t from) {
  if (from == 0) fail(opcode_name(op_) + " without a list");
  const Value target = stack_[from - 1];
  if (target.kind() != Kind::List) fail(opcode_name(op_) + " to " + kind_name(target.kind()) + ", not a list");
  auto& items = lists_[target.payload()].items;
  items.insert(items.end(), stack_.data() + from, stack_.data() + stack_.size());
  stack_.shrink(from);
}

void Machine::set_items(std::size_t from) {
  if (from == 0) fail(opcode_name(op_) + " without a dict");
  if ((stack_.size() - from) % 2 != 0) fail(opcode_name(op_) + " with an odd number of items");
  const Value target = stack_[from - 1];
  if (target.kind() != Kind::Dict) fail(opcode_name(op_) + " to " + kind_name(target.kind()) + ", not a dict");
  auto& items = dicts_[target.payload()].items;
  for (std::size_t k = from; k < stack_.size(); k += 2) check_hashable(stack_[k]);
  items.insert(items.end(), stack_.data() + from, stack_.data() + stack_.size());
  stack_.shrink(from);
}

void Machine::run() {
  // Real dumps take ~14 bytes per trace and memoize each trace: reserving
  // address space is free until it is touched.
  const std::size_t expected = n_ / 13 + 16;
  memo_.reserve(expected + expected / 8);
  reserve_huge(sizes_, expected);
  reserve_huge(domains_, expected);
  reserve_huge(tracebacks_, expected);
  reserve_huge(nframes_, expected);
  bool stopped = false;
  while (!stopped) {
    if (__builtin_expect(pos_ >= n_, 0)) fail("truncated: the pickle ends without a STOP opcode", pos_);
    op_at_ = pos_;
    op_ = p_[pos_++];
    switch (op_) {
      case 0x80: {  // PROTO
        const auto version = read_le(1);
        if (version > 5) fail("pickle protocol " + std::to_string(version) + " is not supported");
        if (table_.pickle_protocol == 0) table_.pickle_protocol = static_cast<int>(version);
        break;
      }
      case 0x95: {  // FRAME: only a length; frames are not needed to read
        const auto length = read_le(8);
        if (length > n_ - pos_) {
          fail("truncated: a FRAME of " + std::to_string(length) + " bytes starts here but only " +
               std::to_string(n_ - pos_) + " bytes follow");
        }
        break;
      }
      case '.': stopped = true; break;
      case '(':
        if (try_trace4()) break;
        marks_.push_back(stack_.size());
        floor_ = stack_.size();
        break;
      case '0': pop(); break;
      case '1': stack_.shrink(pop_mark()); break;
      case 'N': push(Value::make(Kind::None, 0)); break;
      case 0x88: push(Value::make(Kind::Bool, 1)); break;
      case 0x89: push(Value::make(Kind::Bool, 0)); break;
      case 'K':
        if (try_trace3()) break;
        push(Value::make(Kind::Int, read_le(1)));
        break;
      case 'M':
        if (try_trace3()) break;
        push(Value::make(Kind::Int, read_le(2)));
        break;
      case 'J': {
        if (try_trace3()) break;
        const auto v = static_cast<std::int32_t>(static_cast<std::uint32_t>(read_le(4)));
        push(Value::make(Kind::Int, static_cast<std::uint64_t>(static_cast<std::int64_t>(v))));
        break;
      }
      case 0x8a: {  // LONG1
        const auto length = read_le(1);
        push(make_int(read_bytes(length)));
        break;
      }
      case 0x8b: {  // LONG4: signed length
        const auto length = static_cast<std::int32_t>(static_cast<std::uint32_t>(read_le(4)));
        if (length < 0) fail("LONG4 with a negative length");
        push(make_int(read_bytes(static_cast<std::uint64_t>(length))));
        break;
      }
      case 0x8c: push(make_str(read_bytes(read_le(1)))); break;  // SHORT_BINUNICODE
      case 'X': push(make_str(read_bytes(read_le(4)))); break;   // BINUNICODE
      case 0x8d: push(make_str(read_bytes(read_le(8)))); break;  // BINUNICODE8
      case ')': push(make_tuple(nullptr, 0)); break;
      case 0x85:
      case 0x86:
      case 0x87: {
        const std::size_t count = op_ - 0x84u;
        if (stack_.size() < floor_ + count) fail(opcode_name(op_) + " needs " + std::to_string(count) + " items on the stack");
        const Value tuple = make_tuple(stack_.data() + stack_.size() - count, count);
        stack_.shrink(stack_.size() - count);
        push(tuple);
        break;
      }
      case 't': {
        const std::size_t from = pop_mark();
        const Value tuple = make_tuple(stack_.data() + from, stack_.size() - from);
        stack_.shrink(from);
        push(tuple);
        break;
      }
      case ']':
        push(Value::make(Kind::List, lists_.size()));
        count_container();
        lists_.push_back(Container{op_at_, {}});
        if (lists_.size() == 1) reserve_huge(lists_.back().items, n_ / 13 + 16);  // the traces list, in a real dump
        break;
      case 'a': {
        if (stack_.size() < floor_ + 2) fail("APPEND needs a list and an item on the stack");
        append_items(stack_.size() - 1);
        break;
      }
      case 'e': append_items(pop_mark()); break;
      case '}':
        push(Value::make(Kind::Dict, dicts_.size()));
        count_container();
        dicts_.push_back(Container{op_at_, {}});
        break;
      case 's': {
        if (stack_.size() < floor_ + 3) fail("SETITEM needs a dict, a key and a value on the stack");
        set_items(stack_.size() - 2);
        break;
      }
      case 'u': set_items(pop_mark()); break;
      case 0x8f:
        push(Value::make(Kind::Set, sets_.size()));
        count_container();
        sets_.push_back(op_at_);
        break;
      case 0x90: {  // ADDITEMS
        const std::size_t from = pop_mark();
        if (from == 0 || stack_[from - 1].kind() != Kind::Set) fail("ADDITEMS to something that is not a set");
        for (std::size_t k = from; k < stack_.size(); ++k) check_hashable(stack_[k]);
        stack_.shrink(from);
        break;
      }
      case 0x94: {  // MEMOIZE
        const Value value = top();
        memo_.push(value);
        break;
      }
      case 'q': memo_put(read_le(1)); break;
      case 'r': memo_put(read_le(4)); break;
      case 'h': push(memo_get(read_le(1))); break;
      case 'j': push(memo_get(read_le(4))); break;
      case 0x93: {  // STACK_GLOBAL
        const Value name = pop();
        const Value module = pop();
        if (module.kind() != Kind::Str || name.kind() != Kind::Str) fail("STACK_GLOBAL needs two strings");
        global(strings_[module.payload()], strings_[name.payload()]);
        break;
      }
      case 'c': {  // GLOBAL "module\nname\n"
        std::string_view parts[2];
        for (auto& part : parts) {
          const auto* start = p_ + pos_;
          const auto* end = static_cast<const std::uint8_t*>(std::memchr(start, '\n', std::min<std::uint64_t>(n_ - pos_, 4096)));
          if (end == nullptr) fail("truncated or overlong GLOBAL name");
          part = std::string_view(reinterpret_cast<const char*>(start), static_cast<std::size_t>(end - start));
          pos_ += part.size() + 1;
        }
        global(parts[0], parts[1]);
        break;
      }
      case 0x81: {  // NEWOBJ: cls.__new__(cls, *args)
        const Value args = pop();
        const Value cls = pop();
        if (cls.kind() != Kind::Global) fail(std::string("NEWOBJ on ") + kind_name(cls.kind()) + ", not a class");
        if (args.kind() != Kind::Tuple) fail(std::string("NEWOBJ with ") + kind_name(args.kind()) + " as arguments");
        push(Value::make(Kind::Object, objects_.size()));
        count_container();
        objects_.push_back(ObjectRecord{static_cast<std::uint32_t>(cls.payload()), op_at_, {}});
        break;
      }
      case 'b': {  // BUILD: obj.__dict__.update(state)
        const Value state = pop();
        const Value object = top();
        if (object.kind() != Kind::Object) fail(std::string("BUILD on ") + kind_name(object.kind()) + ", not an object");
        if (state.kind() != Kind::Dict) fail(std::string("BUILD with ") + kind_name(state.kind()) + " as state, not a dict");
        objects_[object.payload()].states.push_back(static_cast<std::uint32_t>(state.payload()));
        break;
      }
      default: fail(opcode_name(op_) + " is not allowed in a tracemalloc dump");
    }
  }
  finish(top());
}

const Value* Machine::attribute(const ObjectRecord& object, std::string_view name) const {
  const Value* found = nullptr;
  for (const auto dict : object.states) {
    const auto& items = dicts_[dict].items;
    for (std::size_t k = 0; k + 1 < items.size(); k += 2) {
      if (items[k].kind() == Kind::Str && strings_[items[k].payload()] == name) found = &items[k + 1];
    }
  }
  return found;
}

void Machine::finish(Value root) {
  const std::uint64_t at = op_at_;
  if (root.kind() != Kind::Object || objects_[root.payload()].cls != 0) {
    fail(std::string("the pickle holds ") + kind_name(root.kind()) + ", not a tracemalloc.Snapshot", at);
  }
  const ObjectRecord& snapshot = objects_[root.payload()];
  const Value* traces = attribute(snapshot, "traces");
  if (traces == nullptr) fail("the Snapshot has no 'traces' attribute", snapshot.offset);
  if (traces->kind() != Kind::Object || objects_[traces->payload()].cls != 1) {
    fail(std::string("Snapshot.traces is ") + kind_name(traces->kind()) + ", not a tracemalloc._Traces", snapshot.offset);
  }
  const ObjectRecord& traces_object = objects_[traces->payload()];
  const Value* list = attribute(traces_object, "_traces");
  if (list == nullptr) fail("the _Traces object has no '_traces' attribute", traces_object.offset);
  if (list->kind() != Kind::List && list->kind() != Kind::Tuple) {
    fail(std::string("_Traces._traces is ") + kind_name(list->kind()) + ", not a list", traces_object.offset);
  }
  if (const Value* limit = attribute(snapshot, "traceback_limit")) {
    std::uint64_t value = 0;
    if (!as_u64(*limit, value)) {
      fail(std::string("Snapshot.traceback_limit is ") + kind_name(limit->kind()) + ", not an int >= 0", snapshot.offset);
    }
    table_.has_traceback_limit = true;
    table_.traceback_limit = value;
  }

  const Container& container = list->kind() == Kind::List ? lists_[list->payload()] : tuples_[list->payload()];
  const auto& items = container.items;
  bool in_order = items.size() == sizes_.size();
  Kind arity = Kind::Empty;
  for (std::size_t k = 0; k < items.size(); ++k) {
    const Value item = items[k];
    if (item.kind() != Kind::Trace3 && item.kind() != Kind::Trace4) {
      std::string what = "traces[" + std::to_string(k) + "] is " + kind_name(item.kind()) +
                         ", not a (domain, size, frames[, total_nframe]) tuple with a non-empty frames tuple of "
                         "(str, int) pairs and domain < 2**32, 0 <= size < 2**64, total_nframe < 2**16";
      fail(what, item.kind() == Kind::Tuple ? tuples_[item.payload()].offset : container.offset);
    }
    if (arity == Kind::Empty) arity = item.kind();
    if (item.kind() != arity) {
      fail("traces[" + std::to_string(k) + "] has " + (item.kind() == Kind::Trace4 ? "4" : "3") + " items where traces[0] has " +
               (arity == Kind::Trace4 ? "4" : "3") + " (no CPython writes both)",
           container.offset);
    }
    in_order = in_order && item.payload() == k;
  }
  table_.trace_arity = arity == Kind::Trace4 ? 4 : arity == Kind::Trace3 ? 3 : 0;
  if (in_order) {
    table_.sizes = std::move(sizes_);
    table_.domains = std::move(domains_);
    table_.tracebacks = std::move(tracebacks_);
    if (arity == Kind::Trace4) table_.total_nframes = std::move(nframes_);
    // The capacity reserved from the file size and not used was never
    // touched: it costs address space only, so no shrink_to_fit (a copy).
  } else {
    table_.sizes.reserve(items.size());
    table_.domains.reserve(items.size());
    table_.tracebacks.reserve(items.size());
    for (const auto item : items) {
      const auto i = item.payload();
      table_.sizes.push_back(sizes_[i]);
      table_.domains.push_back(domains_[i]);
      table_.tracebacks.push_back(tracebacks_[i]);
      if (arity == Kind::Trace4) table_.total_nframes.push_back(nframes_[i]);
    }
  }

  // Filenames: only the strings frames use, in first-use order.
  std::vector<std::uint32_t> filename_of(strings_.size(), UINT32_MAX);
  for (auto& frame : frames_) {
    auto& id = filename_of[frame.filename];
    if (id == UINT32_MAX) {
      id = static_cast<std::uint32_t>(table_.filenames.size());
      table_.filenames.emplace_back(strings_[frame.filename]);
    }
    frame.filename = id;
  }
  table_.frames = std::move(frames_);
}

}  // namespace

TraceTable read_tracemalloc_pickle(std::string_view bytes, const ReadOptions& options, std::vector<std::string>& warnings) {
  TraceTable table;
  Machine machine(bytes, table);
  machine.run();
  if (machine.end_offset() < bytes.size()) {
    warnings.push_back(std::to_string(bytes.size() - machine.end_offset()) +
                       " bytes after the pickle's STOP opcode were ignored (as pickle.load does)");
  }
  apply_tracemalloc_python(table, options.tracemalloc_python, warnings);
  // Checked here, where the error can name the file: the statistics sum them.
  std::uint64_t total = 0;
  for (const std::uint64_t size : table.sizes) total = add_to_total(total, size, "the traces' sizes");
  return table;
}

void apply_tracemalloc_python(TraceTable& table, std::string_view python, std::vector<std::string>& warnings) {
  const bool four = table.trace_arity == 4, three = table.trace_arity == 3;
  // What the file says.
  if (four) {
    table.python_generation = "3.9+";
  } else if (table.pickle_protocol == 5) {
    table.python_generation = three ? "3.8" : "3.8+";
  } else if (table.pickle_protocol == 4) {
    table.python_generation = three ? "3.6 or 3.7" : "3.6+";
  } else {
    table.python_generation = three ? "3.6..3.8" : "3.6+";
  }
  table.order = TracebackOrder::OldestFirst;
  table.order_assumed = false;
  if (python.empty()) {
    // Only 3.6 keeps the most-recent-first order; it cannot be told from
    // 3.7 (same protocol, same 3-item traces): assume 3.7 and say so.
    table.order_assumed = three && table.pickle_protocol <= 4;
    return;
  }
  std::string_view text = python;
  if (!text.empty() && text.back() == '+') text.remove_suffix(1);
  unsigned major = 0, minor = 0;
  bool ok = text.size() >= 3 && text.substr(0, 2) == "3.";
  for (std::size_t k = 2; ok && k < text.size(); ++k) {
    ok = text[k] >= '0' && text[k] <= '9' && k < 5;
    minor = minor * 10 + static_cast<unsigned>(text[k] - '0');
  }
  major = 3;
  if (!ok || minor < 6) {
    throw UsageError("--python: expected the CPython that wrote the dump, 3.6 or later (e.g. 3.6, 3.7+, 3.12), not '" +
                     std::string(python) + "'");
  }
  (void)major;
  table.order = minor == 6 ? TracebackOrder::MostRecentFirst : TracebackOrder::OldestFirst;
  table.python_generation = "3." + std::to_string(minor) + (python.back() == '+' ? "+" : "") + " (stated)";
  if ((four && minor < 9) || (three && minor >= 9)) {
    warnings.push_back("--python " + std::string(python) + " does not fit the dump (" + std::to_string(table.trace_arity) +
                       "-item traces); using its traceback order anyway");
  }
}

}  // namespace heapscope::readers
