// fresh_pages [MiB]
//
// Maps, touches and unmaps a block again and again, waiting longer and
// longer in between, and prints how long touching it took each time. On the
// virtual machines this project is measured on, memory the process hands
// back is reclaimed by the host a second or two later, and touching it again
// costs as much as touching memory never used (about 2 ms a MiB, against 0.1
// ms a MiB for memory freed a moment before). That is why a phase's time in
// bench/ depends on when the memory it takes was last freed (README,
// "Performance"), and why the figures compare phases measured the same way.
#include <sys/mman.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <thread>

namespace {

constexpr std::size_t kHugePage = std::size_t{2} << 20;

// Touches every 4 KiB page of a fresh 2 MiB-aligned block marked for huge
// pages (as BigVector maps its arrays); returns the milliseconds it took.
double touch_fresh_block(std::size_t bytes) {
  void* raw = mmap(nullptr, bytes + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) {
    std::perror("mmap");
    std::exit(2);
  }
  const auto start = reinterpret_cast<std::uintptr_t>(raw);
  auto* block = reinterpret_cast<volatile char*>((start + kHugePage - 1) & ~(kHugePage - 1));
  madvise(const_cast<char*>(block), bytes, MADV_HUGEPAGE);
  const auto began = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < bytes; i += 4096) block[i] = 1;
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - began).count();
  munmap(raw, bytes + kHugePage);
  return ms;
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t mib = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 256;
  if (mib == 0) {
    std::fprintf(stderr, "usage: fresh_pages [MiB]\n");
    return 2;
  }
  const std::size_t bytes = mib << 20;
  auto report = [mib](const char* when, double ms) {
    std::printf("%zu MiB %-40s %6.0f ms (%.2f ms a MiB)\n", mib, when, ms, ms / static_cast<double>(mib));
  };
  report("never used by this process:", touch_fresh_block(bytes));
  for (const double pause : {0.0, 0.5, 1.0, 2.0, 5.0, 0.0}) {
    std::this_thread::sleep_for(std::chrono::duration<double>(pause));
    char when[64];
    std::snprintf(when, sizeof when, "%.1f s after the last one was freed:", pause);
    report(when, touch_fresh_block(bytes));
  }
  return 0;
}
