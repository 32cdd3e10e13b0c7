// The Reader for tracemalloc dumps (pickle_machine.cpp does the work).
#include "readers/tracemalloc/tracemalloc_reader.hpp"

namespace heapscope::readers {
namespace {

class TracemallocReader final : public Reader {
 public:
  std::string_view name() const override { return "tracemalloc"; }
  std::string_view description() const override { return "tracemalloc dump (Snapshot.dump() pickle)"; }
  // Any pickle of protocol 2 or later (PROTO first): every pickle is a
  // candidate, and the machine says precisely what is wrong with one that is
  // not a Snapshot (or of a protocol it does not know).
  bool sniff(std::string_view head) const override {
    return head.size() >= 2 && static_cast<unsigned char>(head[0]) == 0x80 && static_cast<unsigned char>(head[1]) >= 2;
  }
  Snapshot read(const InputFile& input, const ReadOptions& options) const override {
    Snapshot snapshot;
    snapshot.traces = read_tracemalloc_pickle(input.bytes(), options, snapshot.warnings);
    return snapshot;
  }
};

}  // namespace

std::unique_ptr<Reader> make_tracemalloc_reader() { return std::make_unique<TracemallocReader>(); }

}  // namespace heapscope::readers
