#pragma once
// Options shared by every subcommand, and the hooks by which a subcommand
// hands a snapshot of one kind or another to the code that reports on it.
#include <cstddef>
#include <iosfwd>
#include <string>

#include "readers/reader.hpp"

namespace heapscope::cli {

// Exit codes (README "Exit codes").
inline constexpr int kExitOk = 0;
inline constexpr int kExitGate = 1;
inline constexpr int kExitInput = 2;
inline constexpr int kExitInternal = 3;

struct CommonOptions {
  std::string format = "text";  // text | json | csv | jsonl, as each command allows
  std::size_t top = 20;
  std::string fail_on_growth;   // "" = no gate
  std::string output_path;      // "" = stdout
  readers::ReadOptions read;
};

// Reads one snapshot, logging its warnings (spdlog, stderr).
readers::Snapshot load_snapshot(const std::string& path, const readers::ReadOptions& options);

// Throws UsageError unless format is one of the allowed (e.g. {"text","json"}).
void require_format(const std::string& format, std::initializer_list<const char*> allowed,
                    const std::string& command);

}  // namespace heapscope::cli
