// The core reader end to end on real cores of testdata/core programs,
// taken with gcore at test time. The program is the oracle: it records
// every planted allocation (anchored, leaked, freed) with its usable size,
// and the graph must agree exactly.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <set>

#include <sys/stat.h>
#include <unistd.h>

#include "core/core_support.hpp"
#include "heapscope/analyze.hpp"
#include "heapscope/error.hpp"
#include "readers/core/core_image.hpp"
#include "readers/core/elf_core.hpp"
#include "readers/core/malloc_heap.hpp"
#include "readers/input_file.hpp"
#include "readers/reader.hpp"

using namespace heapscope;
using core_test::Planted;
namespace core = heapscope::readers::core;

namespace {

std::string root_of(const GraphAnalysis& a, NodeIndex n) {
  const Chain c = a.chain_to(n);
  return c.steps.empty() ? std::string() : c.steps.front().edge;
}

std::uint64_t count_kind(const std::vector<Planted>& planted, const std::string& kind) {
  return static_cast<std::uint64_t>(
      std::count_if(planted.begin(), planted.end(), [&](const Planted& p) { return p.kind == kind; }));
}

std::uint64_t bytes_of(const std::vector<Planted>& planted, const std::string& kind) {
  std::uint64_t sum = 0;
  for (const Planted& p : planted) sum += p.kind == kind ? p.usable : 0;
  return sum;
}

const LeakGroup* group(const LeakedSection& s, const std::string& type) {
  for (const LeakGroup& g : s.groups) {
    if (g.type == type) return &g;
  }
  return nullptr;
}

// The checks every planted program shares: every anchored and leaked
// allocation is a node of the size the program saw, every freed one is
// not, leaked ones are exactly the unreachable ones.
void check_planted(const HeapGraph& g, const GraphAnalysis& a, const std::vector<Planted>& planted) {
  std::set<std::uint64_t> leaked;
  for (const Planted& p : planted) {
    const NodeIndex n = g.find(p.address);
    if (p.kind == "free") {
      CHECK_MESSAGE(n == kNoNode, "freed chunk is a node: " << p.tag);
      continue;
    }
    REQUIRE_MESSAGE(n != kNoNode, "planted allocation missing: " << p.tag);
    CHECK_MESSAGE(g.shallow_size(n) == p.usable, p.tag);
    if (p.kind == "leaked") {
      leaked.insert(p.address);
      CHECK_MESSAGE(!a.tree.reachable(n), "planted leak is reachable: " << p.tag << " via "
                                                                         << root_of(a, n));
    } else {
      CHECK_MESSAGE(a.tree.reachable(n), "anchored allocation unreachable: " << p.tag);
    }
  }
  // No false leaks: what is unreachable was planted as a leak.
  std::uint64_t unplanted = 0;
  for (NodeIndex n = 1; n < g.node_count(); ++n) {
    if (!a.tree.reachable(n) && !leaked.count(g.object_id(n))) {
      ++unplanted;
      MESSAGE("unreachable but not planted: " << core::hex(g.object_id(n)) << " " << g.text(g.type(n)));
    }
  }
  CHECK(unplanted == 0);
}

readers::Snapshot read_core(const std::string& path) {
  readers::Snapshot snap = readers::read_snapshot(path);
  REQUIRE(snap.graph);
  CHECK(snap.format == "elf-core");
  for (const auto& w : snap.warnings) MESSAGE("warning: " << w);
  return snap;
}

void check_leaky_c(const core_test::TakenCore& taken) {
  const readers::Snapshot snap = read_core(taken.core);
  CHECK(snap.warnings.empty());
  const HeapGraph& g = *snap.graph;
  const GraphAnalysis a(g);
  check_planted(g, a, taken.planted);

  const AnalyzeReport report = analyze_graph(a, AnalyzeOptions{}, taken.core, snap.format);
  CHECK(report.leaked.meaning == "leaked");  // malloc has no collector
  CHECK(report.external.objects == 0);
  CHECK_FALSE(report.external.checked);
  CHECK(report.leaked.objects == count_kind(taken.planted, "leaked"));
  CHECK(report.leaked.size == bytes_of(taken.planted, "leaked"));
  CHECK(report.summary.unreachable_objects == count_kind(taken.planted, "leaked"));
  // Heads: the singletons, the big lost buffer, the first node of each of
  // the three dropped chains; the ring has none.
  std::map<std::string, std::uint64_t> per_tag;
  for (const Planted& p : taken.planted) per_tag[p.kind + " " + p.tag]++;
  CHECK(per_tag["leaked cycle"] == 3);
  CHECK(report.leaked.unreferenced_objects ==
        per_tag["leaked singleton"] + per_tag["leaked big-mmapped-lost"] + 3);
  const LeakGroup* singles = group(report.leaked, "malloc[200]");
  REQUIRE(singles);
  CHECK(singles->count == per_tag["leaked singleton"]);
  CHECK(singles->unreferenced == singles->count);
  const LeakGroup* nodes = group(report.leaked, "malloc[24]");
  REQUIRE(nodes);
  CHECK(nodes->count == per_tag["leaked chain"] + per_tag["leaked thread1-leak"] + per_tag["leaked thread2-leak"] +
                            per_tag["leaked cycle"]);
  CHECK(nodes->unreferenced == 3);

  // Named roots.
  const std::string bss = " (" + taken.program + " .bss)";
  std::map<std::string, std::set<std::string>> stack_roots;  // kernel cores: tag -> the stack roots seen
  for (const Planted& p : taken.planted) {
    const NodeIndex n = g.find(p.address);
    if (p.tag == "session") CHECK(root_of(a, n) == "static g_sessions" + bss);
    if (p.tag == "register-rbx") CHECK(root_of(a, n) == "register rbx of thread 1");
    // Threads are numbered in the core's order. gcore lists them as they
    // were created; the kernel lists the dumping (main) thread first, then
    // the others in the order they stopped, which varies.
    if (taken.by_kernel && (p.tag == "thread1-stack" || p.tag == "thread2-stack")) {
      const std::string root = root_of(a, n);
      CHECK((root == "thread 2 stack" || root == "thread 3 stack"));
      stack_roots[p.tag].insert(root);
    }
    if (!taken.by_kernel && p.tag == "thread1-stack") CHECK(root_of(a, n) == "thread 2 stack");
    if (!taken.by_kernel && p.tag == "thread2-stack") CHECK(root_of(a, n) == "thread 3 stack");
    if (p.tag == "main-keep-array") CHECK(root_of(a, n) == "static g_big_refs" + bss);
    if (p.tag == "held-by-big") {
      const Chain c = a.chain_to(n);
      REQUIRE(c.steps.size() == 2);
      CHECK(c.steps[0].edge == "static g_big" + bss);
      for (const Planted& big : taken.planted) {
        if (big.tag == "big-mmapped") CHECK(c.steps[0].type == "malloc[" + std::to_string(big.usable) + "]");
      }
    }
  }

  if (taken.by_kernel) {
    // Each thread's planted objects under one stack, the two threads' under different ones.
    CHECK(stack_roots["thread1-stack"].size() == 1);
    CHECK(stack_roots["thread2-stack"].size() == 1);
    CHECK(stack_roots["thread1-stack"] != stack_roots["thread2-stack"]);
  }

  // The free lists: each freed chunk on the list its size sends it to.
  const readers::InputFile input = readers::InputFile::open(taken.core);
  const core::CoreImage image(core::Bytes(input.data(), input.size()));
  const core::MallocHeap heap = core::MallocHeap::walk(image);
  CHECK(heap.issues().empty());
  CHECK(heap.safe_linking());
  CHECK(heap.arenas().size() == 3);
  CHECK(heap.mmapped_count() == 2);
  std::map<std::uint64_t, core::FreeKind> kind_of;
  for (const core::FreeChunk& f : heap.free_chunks()) kind_of[f.chunk + 16] = f.kind;
  std::map<std::string, std::map<std::string, int>> seen;
  for (const Planted& p : taken.planted) {
    if (p.kind != "free" || p.tag == "freed-mmapped") continue;
    const auto it = kind_of.find(p.address);
    REQUIRE_MESSAGE(it != kind_of.end(), "freed chunk not found free: " << p.tag);
    const std::string tag = p.tag.substr(p.tag.find('-') + 1);
    seen[tag][core::free_kind_name(it->second)]++;
  }
  // Per arena (3): tcache bins hold 7; the rest of 12 fast frees go to the
  // fastbin, of 10 small ones to the small bin.
  CHECK(seen["tcache-24"]["tcache"] == 9);
  CHECK(seen["tcache-1000"]["tcache"] == 9);
  CHECK(seen["fast-40"]["tcache"] == 21);
  CHECK(seen["fast-40"]["fastbin"] == 15);
  CHECK(seen["small-256"]["tcache"] == 21);
  CHECK(seen["small-256"]["small bin"] == 9);
  CHECK(seen["large-3000"]["large bin"] == 12);
  CHECK(seen["unsorted-2000"]["unsorted bin"] == 6);
  CHECK(seen["block"]["unsorted bin"] == 110);
}

}  // namespace

TEST_CASE("leaky.c, default coredump_filter 0x33: exact leaks, free lists, named roots") {
  check_leaky_c(core_test::take_core("leaky.c", "leaky-33", "0x33"));
}

TEST_CASE("leaky.c, coredump_filter 0x37: the same answers") {
  const auto taken = core_test::take_core("leaky.c", "leaky-37", "0x37");
  check_leaky_c(taken);
  const readers::Snapshot snap = readers::read_snapshot(taken.core);
  CHECK(snap.graph->meta().at("bytes missing") == "0");
}

TEST_CASE("leaky.c, core written by the kernel (SIGABRT, coredump_filter 0x33): the same answers") {
  check_leaky_c(core_test::take_core("leaky.c", "leaky-kernel", "0x33", core_test::CoreWriter::Kernel));
}

TEST_CASE("leaky.cpp: classes from vtable symbols, leaked objects by class") {
  const auto taken = core_test::take_core("leaky.cpp", "leaky-cpp");
  const readers::Snapshot snap = read_core(taken.core);
  CHECK(snap.warnings.empty());
  const HeapGraph& g = *snap.graph;
  const GraphAnalysis a(g);
  check_planted(g, a, taken.planted);
  std::map<std::string, std::uint64_t> leaked_by_tag;
  for (const Planted& p : taken.planted) {
    if (p.kind == "free") continue;
    const NodeIndex n = g.find(p.address);
    if ((p.tag[0] >= 'A' && p.tag[0] <= 'Z') || p.tag.rfind("app::", 0) == 0) CHECK(g.text(g.type(n)) == p.tag);
    if (p.kind == "leaked") leaked_by_tag[p.tag]++;
    if (p.kind == "anchored" && p.tag == "Session") CHECK(root_of(a, n) == "static g_sessions (leaky-cpp .bss)");
    if (p.tag == "registry-array") CHECK(root_of(a, n) == "static g_registry (leaky-cpp .bss)");
  }
  const AnalyzeReport report = analyze_graph(a, AnalyzeOptions{}, taken.core, snap.format);
  CHECK(report.leaked.objects == count_kind(taken.planted, "leaked"));
  CHECK(report.leaked.size == bytes_of(taken.planted, "leaked"));
  for (const char* type : {"Session", "Peer", "app::Widget", "Connection"}) {
    const LeakGroup* grp = group(report.leaked, type);
    REQUIRE_MESSAGE(grp, type);
    CHECK_MESSAGE(grp->count == leaked_by_tag[type], type);
  }
  CHECK(group(report.leaked, "Peer")->unreferenced == 0);  // pairs point at each other
  CHECK(group(report.leaked, "Session")->unreferenced == leaked_by_tag["Session"]);
  CHECK(group(report.leaked, "malloc[104]")->unreferenced == 0);  // payloads: their session holds them
}

// Damaged cores made from a real one: every one is an input error (exit 2)
// with one line naming the problem; nothing crashes.
TEST_CASE("truncated, foreign and random cores are input errors") {
  const auto taken = core_test::take_core("leaky.cpp", "leaky-damage");
  const std::string bytes = core_test::read_file(taken.core);
  REQUIRE(bytes.size() > 1u << 20);
  const core::ElfCore parsed =
      core::ElfCore::parse(core::Bytes(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
  REQUIRE(!parsed.loads.empty());
  std::vector<std::pair<std::string, std::string>> cases;  // name, bytes
  cases.reserve(16);  // also spares GCC 12 a false -Warray-bounds on the first emplace
  cases.emplace_back("header cut", bytes.substr(0, 40));
  cases.emplace_back("program headers cut", bytes.substr(0, 64 + 56 * 3 + 10));
  cases.emplace_back("notes cut", bytes.substr(0, parsed.loads.front().file_offset / 2));
  cases.emplace_back("segments cut", bytes.substr(0, bytes.size() / 2));
  cases.emplace_back("last byte cut", bytes.substr(0, bytes.size() - 1));
  std::string arm = bytes;
  arm[18] = static_cast<char>(183);  // e_machine = EM_AARCH64
  arm[19] = 0;
  cases.emplace_back("aarch64", arm);
  std::string elf32 = bytes.substr(0, 4096);
  elf32[4] = 1;  // ELFCLASS32
  cases.emplace_back("32-bit", elf32);
  std::string random(1 << 16, '\0');
  std::uint64_t x = 0x9e3779b97f4a7c15ull;
  for (char& c : random) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    c = static_cast<char>(x);
  }
  cases.emplace_back("random bytes", random);
  std::string random_core = bytes.substr(0, 64) + random;  // a core header, then noise
  cases.emplace_back("core header and random bytes", random_core);
  for (const auto& [name, data] : cases) {
    const std::string path = core_test::work_dir() + "/damaged.core";
    core_test::write_file(path, data);
    bool threw = false;
    try {
      readers::read_snapshot(path);
    } catch (const InputError& e) {
      threw = true;
      const std::string what = e.what();
      MESSAGE(name << ": " << what);
      CHECK(what.find('\n') == std::string::npos);
      CHECK(!e.problem().empty());
    }
    CHECK_MESSAGE(threw, name);
  }
}

// The core's file notes name the files the process had mapped; heapscope
// opens them for pages the core left out. One that is now a FIFO must be
// turned away, not opened and waited on (found by fuzzing: the read hung).
TEST_CASE("a mapped file that is now a FIFO: a warning, no wait") {
  const std::string binary = core_test::work_dir() + "/leaky-fifo";
  ::unlink(binary.c_str());  // a FIFO left by an earlier failed run
  const auto taken = core_test::take_core("leaky.c", "leaky-fifo");
  REQUIRE(::unlink(binary.c_str()) == 0);
  REQUIRE(::mkfifo(binary.c_str(), 0600) == 0);
  ::alarm(120);  // a hang ends the test (SIGALRM) instead of the suite's timeout
  const readers::Snapshot snapshot = readers::read_snapshot(taken.core);
  ::alarm(0);
  ::unlink(binary.c_str());
  bool warned = false;
  for (const std::string& w : snapshot.warnings) warned |= w.find("not a regular file") != std::string::npos;
  CHECK(warned);
  CHECK(snapshot.graph.has_value());
}

// Where the NT_FILE note's description starts in a core, read from its
// program headers and note headers (0 when there is none).
std::size_t nt_file_desc_offset(const std::string& core) {
  auto u16 = [&](std::size_t at) { std::uint16_t v; std::memcpy(&v, core.data() + at, 2); return v; };
  auto u32 = [&](std::size_t at) { std::uint32_t v; std::memcpy(&v, core.data() + at, 4); return v; };
  auto u64 = [&](std::size_t at) { std::uint64_t v; std::memcpy(&v, core.data() + at, 8); return std::size_t(v); };
  const std::size_t phoff = u64(32), phentsize = u16(54), phnum = u16(56);
  for (std::size_t i = 0; i < phnum; ++i) {
    const std::size_t ph = phoff + i * phentsize;
    if (u32(ph) != 4) continue;  // PT_NOTE
    const std::size_t begin = u64(ph + 8), end = begin + u64(ph + 32);
    for (std::size_t at = begin; at + 12 <= end;) {
      const std::size_t namesz = u32(at), descsz = u32(at + 4), type = u32(at + 8);
      const std::size_t desc = at + 12 + ((namesz + 3) & ~std::size_t{3});
      if (type == 0x46494c45) return desc;  // NT_FILE
      at = desc + ((descsz + 3) & ~std::size_t{3});
    }
  }
  return 0;
}

// The kernel's file notes never overlap. A core whose notes repeat an entry
// used to make heapscope open and read the file again for each repeat (found
// by fuzzing: a 1.2 MB core cost 689 MB); repeats are now dropped, with a
// warning, and the rest reads as before.
TEST_CASE("overlapping file-note entries: dropped with a warning") {
  const auto taken = core_test::take_core("leaky.c", "leaky-dup-files");
  std::string bytes = core_test::read_file(taken.core);
  const auto as_bytes = [](const std::string& b) {
    return core::Bytes(reinterpret_cast<const std::uint8_t*>(b.data()), b.size());
  };
  const core::ElfCore original = core::ElfCore::parse(as_bytes(bytes));
  REQUIRE(original.files.size() >= 3);
  const std::size_t desc = nt_file_desc_offset(bytes);
  REQUIRE(desc != 0);
  // Entry 1 gets entry 0's range: {start, end, page offset} are 24 bytes
  // each after the count and the page size.
  std::memcpy(&bytes[desc + 16 + 24], &bytes[desc + 16], 16);
  const core::ElfCore damaged = core::ElfCore::parse(as_bytes(bytes));
  CHECK(damaged.files.size() == original.files.size() - 1);
  for (std::size_t i = 1; i < damaged.files.size(); ++i) CHECK(damaged.files[i - 1].end <= damaged.files[i].start);
  bool warned = false;
  for (const std::string& w : damaged.warnings) warned |= w.find("overlap earlier ones") != std::string::npos;
  CHECK(warned);
  const std::string path = core_test::work_dir() + "/dup-files.core";
  core_test::write_file(path, bytes);
  const readers::Snapshot snapshot = readers::read_snapshot(path);
  CHECK(snapshot.graph.has_value());
}

// Heap corruption is reported, and the walk goes on past it.
TEST_CASE("smashed chunk headers: reported, the rest of the heap still walked") {
  const auto taken = core_test::take_core("leaky.c", "leaky-smash");
  std::string bytes = core_test::read_file(taken.core);
  const core::ElfCore parsed =
      core::ElfCore::parse(core::Bytes(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
  auto file_offset = [&](std::uint64_t address) -> std::uint64_t {
    for (const core::LoadSegment& s : parsed.loads) {
      if (address >= s.vaddr && address - s.vaddr < s.filesz) return s.file_offset + (address - s.vaddr);
    }
    FAIL("address not in the core");
    return 0;
  };
  // Smash the size field of the 10th and 11th sessions of the main arena.
  std::vector<Planted> sessions;
  for (const Planted& p : taken.planted) {
    if (p.tag == "session") sessions.push_back(p);
  }
  REQUIRE(sessions.size() == 50);
  std::set<std::uint64_t> smashed;
  for (int i : {10, 11}) {
    const std::uint64_t at = file_offset(sessions[i].address - 8);
    std::memcpy(&bytes[at], "\x13\x37\x13\x37\x13\x37\x13\x37", 8);
    smashed.insert(sessions[i].address);
  }
  const std::string path = core_test::work_dir() + "/smashed.core";
  core_test::write_file(path, bytes);
  const readers::Snapshot snap = readers::read_snapshot(path);
  REQUIRE(snap.graph);
  bool reported = false;
  for (const auto& w : snap.warnings) reported |= w.find("bad size") != std::string::npos;
  CHECK(reported);
  // Everything planted away from the smashed chunks is still found.
  std::uint64_t found = 0, expected = 0;
  for (const Planted& p : taken.planted) {
    if (p.kind == "free" || smashed.count(p.address)) continue;
    ++expected;
    found += snap.graph->find(p.address) != kNoNode;
  }
  MESSAGE("found " << found << " of " << expected);
  CHECK(found >= expected - 4);
}
