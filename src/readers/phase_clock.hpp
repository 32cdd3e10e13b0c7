#pragma once
// Wall time of a reader's phases, logged at --verbose (the benches read the
// parse speed from these lines).
#include <chrono>

namespace heapscope::readers {

class PhaseClock {
 public:
  // Seconds since the previous lap (or since construction).
  double lap() {
    const auto now = std::chrono::steady_clock::now();
    const double seconds = std::chrono::duration<double>(now - last_).count();
    last_ = now;
    return seconds;
  }

 private:
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

}  // namespace heapscope::readers
