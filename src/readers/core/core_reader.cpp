#include "readers/core/core_reader.hpp"

#include "heapscope/error.hpp"
#include "readers/core/core_graph.hpp"
#include "readers/core/core_image.hpp"
#include "readers/core/malloc_heap.hpp"
#include "readers/core/python/cpython_graph.hpp"

namespace heapscope::readers {

namespace {

constexpr std::size_t kListedIssues = 20;

class CoreReader final : public Reader {
 public:
  std::string_view name() const override { return "elf-core"; }
  std::string_view description() const override { return "ELF core dump (x86-64, glibc malloc)"; }

  bool sniff(std::string_view head) const override {
    return core::looks_like_elf_core(core::Bytes(reinterpret_cast<const std::uint8_t*>(head.data()), head.size()));
  }

  Snapshot read(const InputFile& input, const ReadOptions& /*options*/) const override {
    const core::CoreImage image(core::Bytes(input.data(), input.size()));
    Snapshot snapshot;
    for (const std::string& w : image.warnings()) snapshot.warnings.push_back(w);
    std::vector<std::string> graph_warnings;
    // A Python process: its objects are what the user asks about (glibc's
    // chunks are scanned only for objects nothing references); else the
    // native heap.
    const auto cpython = core::python::find_cpython(image);
    core::MallocHeap heap = core::MallocHeap::walk(image);
    add_heap_issues(heap, snapshot.warnings);
    if (cpython) {
      snapshot.graph = core::python::build_python_graph(image, *cpython, heap.allocations(), graph_warnings);
    } else {
      const auto release = [&input](const std::uint8_t* from, const std::uint8_t* to) { input.release_pages(from, to); };
      snapshot.graph = core::build_core_graph(image, heap, graph_warnings, nullptr, release);
    }
    snapshot.warnings.insert(snapshot.warnings.end(), graph_warnings.begin(), graph_warnings.end());
    return snapshot;
  }

 private:
  static void add_heap_issues(const core::MallocHeap& heap, std::vector<std::string>& warnings) {
    std::size_t listed = 0;
    for (const core::HeapIssue& issue : heap.issues()) {
      if (listed++ == kListedIssues) {
        warnings.push_back(std::to_string(heap.issues().size() - kListedIssues) + " more heap problems");
        break;
      }
      warnings.push_back("heap " + (issue.address ? core::hex(issue.address) + ": " : std::string()) + issue.problem);
    }
  }
};

}  // namespace

std::unique_ptr<Reader> make_core_reader() { return std::make_unique<CoreReader>(); }

}  // namespace heapscope::readers
