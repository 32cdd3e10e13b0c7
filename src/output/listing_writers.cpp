// `dominators` (CSV / JSONL, one row per reachable object), `paths` and
// `info` writers.
#include <ostream>

#include "heapscope/units.hpp"
#include "output/writers.hpp"

namespace heapscope::output {

void write_dominators_csv(const std::vector<DominatorRow>& rows, std::ostream& out) {
  out << "id,type,shallow_size,retained_size,idom\n";
  for (const DominatorRow& row : rows) {
    out << row.id << ',' << csv_field(row.type) << ',' << row.shallow_size << ',' << row.retained_size << ','
        << row.idom << '\n';
  }
}

void write_dominators_jsonl(const std::vector<DominatorRow>& rows, std::ostream& out) {
  // Hand-formatted: millions of rows, and every field but the type is a number.
  for (const DominatorRow& row : rows) {
    out << "{\"id\":" << row.id << ",\"type\":" << json_string(row.type) << ",\"shallow_size\":" << row.shallow_size
        << ",\"retained_size\":" << row.retained_size << ",\"idom\":" << row.idom << "}\n";
  }
}

void write_paths_text(const PathsReport& report, std::ostream& out) {
  for (const PathsEntry& entry : report.entries) {
    out << object_text(entry.target) << ", retains " << human_size(entry.target.retained_size) << "\n";
    if (!entry.target.alloc_site.empty()) out << "  allocated at: " << entry.target.alloc_site << "\n";
    if (!entry.reachable) {
      out << "  unreachable: no root reaches it over strong references\n";
      continue;
    }
    for (std::size_t i = 0; i < entry.chains.size(); ++i) {
      const Chain& chain = entry.chains[i];
      out << "  " << (i + 1) << ". (" << chain.length << (chain.length == 1 ? " reference) " : " references) ")
          << chain_text(chain) << "\n";
    }
    if (entry.truncated) out << "  (search budget exhausted: there may be more chains of this length)\n";
  }
}

void write_paths_json(const PathsReport& report, std::ostream& out) {
  Json j = json_header("paths");
  j["path"] = report.path;
  Json entries = Json::array();
  for (const PathsEntry& entry : report.entries) {
    Json chains = Json::array();
    for (const Chain& chain : entry.chains) chains.push_back(to_json(chain));
    entries.push_back({{"target", to_json(entry.target)},
                       {"reachable", entry.reachable},
                       {"truncated", entry.truncated},
                       {"chains", std::move(chains)}});
  }
  j["entries"] = std::move(entries);
  write_json(j, out);
}

void write_info_text(const InfoReport& report, std::ostream& out) {
  if (report.trace_count > 0 || report.summary.objects == 0) {
    out << report.summary.path << " (" << report.summary.format << ")\n"
        << "  traces       " << with_thousands(report.trace_count) << "\n";
  } else {
    write_summary_text(report.summary, out);
  }
  out << "  file size    " << with_thousands(report.file_size) << " bytes";
  if (!report.compression.empty()) out << " (" << report.compression << ")";
  out << "\n";
  for (const auto& [key, value] : report.meta) out << "  meta " << key << ": " << value << "\n";
  for (const std::string& warning : report.warnings) out << "  warning: " << warning << "\n";
}

void write_info_json(const InfoReport& report, std::ostream& out) {
  Json j = json_header("info");
  j["summary"] = to_json(report.summary);
  j["compression"] = report.compression;
  j["file_size"] = report.file_size;
  j["trace_count"] = report.trace_count;
  Json meta = Json::object();
  for (const auto& [key, value] : report.meta) meta[key] = value;
  j["meta"] = std::move(meta);
  j["warnings"] = report.warnings;
  write_json(j, out);
}

}  // namespace heapscope::output
