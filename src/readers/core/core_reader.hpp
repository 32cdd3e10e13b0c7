#pragma once
#include <memory>

#include "readers/reader.hpp"

namespace heapscope::readers {

// ELF core files (gcore, kernel) of x86-64 Linux processes using glibc
// malloc: the heap graph of their malloc allocations (docs/cores.md).
std::unique_ptr<Reader> make_core_reader();

}  // namespace heapscope::readers
