// Times the phases of `analyze` / `diff` on tracemalloc dumps: reading the
// pickle, statistics(), compare_to(); and the memory the tables take.
// usage: bench_tracemalloc_phases BEFORE.pickle [AFTER.pickle]
#include <chrono>
#include <cstdio>
#include <sys/resource.h>

#include "heapscope/trace_stats.hpp"
#include "readers/input_file.hpp"
#include "readers/tracemalloc/tracemalloc_reader.hpp"

using namespace heapscope;

namespace {
double since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}
std::size_t table_bytes(const TraceTable& t) {
  std::size_t b = t.sizes.capacity() * 8 + t.domains.capacity() * 4 + t.tracebacks.capacity() * 4 +
                  t.total_nframes.capacity() * 2 + t.frames.capacity() * sizeof(TraceFrame) +
                  t.traceback_offsets.capacity() * 4 + t.traceback_frames.capacity() * 4;
  for (const auto& f : t.filenames) b += f.capacity() + sizeof f;
  return b;
}
long max_rss_kb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s BEFORE.pickle [AFTER.pickle]\n", argv[0]);
    return 2;
  }
  std::vector<TraceTable> tables;
  for (int i = 1; i < argc; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    const auto input = readers::InputFile::open(argv[i]);
    const double open_ms = since(t0);
    t0 = std::chrono::steady_clock::now();
    std::vector<std::string> warnings;
    tables.push_back(readers::read_tracemalloc_pickle(input.bytes(), {}, warnings));
    const double read_ms = since(t0);
    const TraceTable& t = tables.back();
    std::printf("%s: %zu bytes, %zu traces, %zu tracebacks; open %.1f ms, parse %.1f ms (%.0f MB/s); table %.1f bytes/trace\n",
                argv[i], input.size(), t.trace_count(), t.traceback_count(), open_ms, read_ms,
                static_cast<double>(input.size()) / 1e3 / read_ms,
                static_cast<double>(table_bytes(t)) / static_cast<double>(std::max<std::size_t>(1, t.trace_count())));
  }
  for (const char* group : {"lineno", "filename", "traceback"}) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto report = trace::statistics(tables[0], trace::parse_group_by(group), false, {});
    std::printf("statistics(%s): %.2f ms, %zu rows\n", group, since(t0), report.rows.size());
  }
  {
    const auto t0 = std::chrono::steady_clock::now();
    const auto report = trace::statistics(tables[0], trace::GroupBy::Lineno, true, {});
    std::printf("statistics(lineno, cumulative): %.2f ms, %zu rows\n", since(t0), report.rows.size());
  }
  if (tables.size() > 1) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto report = trace::compare_to(tables[1], tables[0], trace::GroupBy::Lineno, false, {});
    std::printf("compare_to(lineno): %.2f ms, %zu rows\n", since(t0), report.rows.size());
  }
  std::printf("max RSS %.1f MB\n", static_cast<double>(max_rss_kb()) / 1024.0);
  return 0;
}
