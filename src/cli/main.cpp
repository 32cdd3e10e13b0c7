// heapscope: the command line. Parsing and dispatch only; every analysis is
// in the library, every format in the readers, every report in the writers.
#include <exception>
#include <iostream>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "cli/common.hpp"
#include "heapscope/error.hpp"

namespace {

constexpr const char* kDescription =
    "heapscope: find memory leaks offline in heap snapshots (heapscope JSON graphs, tracemalloc dumps,\n"
    "ELF core files, V8 .heapsnapshot files; gzip/zstd compressed or not; '-' reads stdin).\n"
    "Exit codes: 0 ok, 1 a --fail-on-... gate tripped, 2 usage or input error, 3 internal error.";

void configure_logging(bool quiet, bool verbose) {
  // Logs go to stderr so stdout holds nothing but the report.
  auto logger = spdlog::stderr_color_mt("heapscope");
  logger->set_pattern("heapscope: %l: %v");
  spdlog::set_default_logger(logger);
  spdlog::set_level(quiet ? spdlog::level::err : verbose ? spdlog::level::debug : spdlog::level::warn);
}

// Readers and analyses make big temporary arrays (a V8 read's DevTools
// rules, 20 MB for 5M nodes). glibc raises its mmap threshold each time a
// mapped block is freed, up to 32 MiB, after which blocks that size come
// from the heap instead, where freed memory mostly stays resident: a V8 read
// of 5M nodes left some 25 MB of freed temporaries in the heap for the whole
// analysis, its peak. A fixed threshold keeps every block of 1 MiB or more
// mapped on its own and handed back when freed.
void keep_big_blocks_mapped() {
#if defined(__GLIBC__)
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
#endif
}

void report_error(const std::string& message) {
  std::cerr << "heapscope: error: " << heapscope::printable(message) << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  namespace cli = heapscope::cli;
  keep_big_blocks_mapped();
  CLI::App app{kDescription, "heapscope"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "heapscope 0.1.0");
  bool quiet = false;
  bool verbose = false;
  app.add_flag("-q,--quiet", quiet, "Print errors only on stderr");
  app.add_flag("-v,--verbose", verbose, "Print progress and timings on stderr");

  cli::CommandRunner run;
  cli::add_analyze_command(app, run);
  cli::add_diff_command(app, run);
  cli::add_dominators_command(app, run);
  cli::add_paths_command(app, run);
  cli::add_info_command(app, run);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version are "errors" with exit code 0 in CLI11.
    if (e.get_exit_code() == 0) return app.exit(e);
    app.exit(e);
    return cli::kExitInput;
  }
  configure_logging(quiet, verbose);
  try {
    return run ? run() : cli::kExitInput;
  } catch (const heapscope::InputError& e) {
    report_error(e.what());
    return cli::kExitInput;
  } catch (const heapscope::UsageError& e) {
    report_error(e.what());
    return cli::kExitInput;
  } catch (const std::bad_alloc&) {
    report_error("out of memory");
    return cli::kExitInternal;
  } catch (const std::exception& e) {
    report_error(std::string("internal error: ") + e.what());
    return cli::kExitInternal;
  }
}
