// Test helper: prints what the glibc heap walk found in a core, one line
// per chunk, for the script tests to compare with what the planted program
// says it allocated and freed.
//   core_chunks CORE
//   in-use <user hex> <usable>
//   free <user hex> <chunk size> <kind>
//   arena <address> main|thread heaps=<n> system_mem=<n>
//   issue <address> <text>
//   main_arena <how it was found>
#include <cstdio>
#include <exception>

#include "heapscope/error.hpp"
#include "readers/core/core_image.hpp"
#include "readers/core/malloc_heap.hpp"
#include "readers/input_file.hpp"

using namespace heapscope::readers;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: core_chunks CORE\n");
    return 2;
  }
  try {
    const InputFile input = InputFile::open(argv[1]);
    const core::CoreImage image(core::Bytes(input.data(), input.size()));
    const core::MallocHeap heap = core::MallocHeap::walk(image);
    std::printf("main_arena %s\n", heap.main_arena_source().c_str());
    for (const auto& a : heap.arenas()) {
      std::printf("arena %#llx %s heaps=%zu system_mem=%llu\n", (unsigned long long)a.address,
                  a.is_main ? "main" : "thread", a.heaps.size(), (unsigned long long)a.system_mem);
    }
    for (const auto& a : heap.allocations()) {
      std::printf("in-use %#llx %llu\n", (unsigned long long)a.user, (unsigned long long)a.usable);
    }
    for (const auto& f : heap.free_chunks()) {
      std::printf("free %#llx %llu %s\n", (unsigned long long)(f.chunk + 16), (unsigned long long)f.size,
                  core::free_kind_name(f.kind));
    }
    for (auto t : heap.tcache_structs()) std::printf("tcache %#llx\n", (unsigned long long)t);
    for (const auto& i : heap.issues()) std::printf("issue %#llx %s\n", (unsigned long long)i.address, i.problem.c_str());
    for (const auto& w : image.warnings()) std::printf("warning %s\n", w.c_str());
    std::printf("mmapped %zu\n", heap.mmapped_count());
  } catch (const heapscope::InputError& e) {
    std::fprintf(stderr, "heapscope: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "internal error: %s\n", e.what());
    return 3;
  }
  return 0;
}
