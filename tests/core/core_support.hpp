#pragma once
// Shared by the core tests: take a core of a testdata/core program at test
// time (testdata/core/make_core.py) and read what the program recorded.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <sys/wait.h>

#ifndef HEAPSCOPE_SOURCE_DIR
#error "HEAPSCOPE_SOURCE_DIR must be defined"
#endif

namespace core_test {

// One line of the program's ADDR_FILE: "<kind> <hex address> <tag> <usable>".
struct Planted {
  std::string kind;  // anchored | leaked | free
  std::uint64_t address = 0;
  std::string tag;
  std::uint64_t usable = 0;
};

struct TakenCore {
  std::string program;  // the binary's name, as root names show it
  std::string core;
  std::vector<Planted> planted;
  bool by_kernel = false;  // written by the kernel (threads after the first in no fixed order)
};

inline std::string work_dir() {
  const char* w = std::getenv("HEAPSCOPE_WORK_DIR");
  return std::string(w && *w ? w : "/tmp") + "/core";
}

enum class CoreWriter { Gcore, Kernel };

// Runs make_core.py; exits the test process with 77 (ctest: skipped) when
// this machine cannot take cores.
inline TakenCore take_core(const std::string& source, const std::string& name, const std::string& filter = "",
                           CoreWriter writer = CoreWriter::Gcore) {
  const std::string src = std::string(HEAPSCOPE_SOURCE_DIR) + "/testdata/core/" + source;
  std::string cmd = "python3 " + std::string(HEAPSCOPE_SOURCE_DIR) + "/testdata/core/make_core.py " + src + " " +
                    work_dir() + " --name " + name;
  if (!filter.empty()) cmd += " --filter " + filter;
  if (writer == CoreWriter::Kernel) cmd += " --kernel";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) throw std::runtime_error("cannot run " + cmd);
  std::string out;
  char buffer[4096];
  while (std::fgets(buffer, sizeof buffer, p)) out += buffer;
  const int status = pclose(p);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
    std::fprintf(stderr, "skipped: cannot take a core here (see above)\n");
    std::exit(77);
  }
  if (status != 0) throw std::runtime_error("make_core.py failed: " + cmd);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  TakenCore taken;
  taken.program = name;
  taken.core = out;
  taken.by_kernel = writer == CoreWriter::Kernel;
  std::ifstream addrs(work_dir() + "/" + name + ".addrs");
  std::string line;
  while (std::getline(addrs, line)) {
    std::istringstream in(line);
    Planted planted;
    std::string hex_address;
    in >> planted.kind >> hex_address >> planted.tag >> planted.usable;
    planted.address = std::stoull(hex_address, nullptr, 16);
    taken.planted.push_back(planted);
  }
  return taken;
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace core_test
