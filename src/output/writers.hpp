#pragma once
// Writers turn report models into text for people and JSON / JSONL / CSV
// for scripts. They never compute anything about the heap.
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "heapscope/report.hpp"

namespace heapscope::output {

inline constexpr int kSchemaVersion = 1;
using Json = nlohmann::ordered_json;

// Building blocks shared by every JSON writer.
Json to_json(const Summary& summary);
Json to_json(const ObjectView& object);
Json to_json(const Chain& chain);
Json to_json(const SuspectRow& suspect);
// {"schema_version": 1, "command": command}
Json json_header(const std::string& command);
void write_json(const Json& document, std::ostream& out);

// Text building blocks.
std::string chain_text(const Chain& chain);
std::string object_text(const ObjectView& object);  // "`type` name (id 0x...)"
std::string percent_text(double percent);
void write_summary_text(const Summary& summary, std::ostream& out);
void write_suspects_text(const std::vector<SuspectRow>& suspects, double threshold, std::ostream& out);
// Quotes a CSV field when it needs it (RFC 4180).
std::string csv_field(std::string_view text);
std::string json_string(std::string_view text);

void write_analyze_text(const AnalyzeReport& report, std::ostream& out);
void write_analyze_json(const AnalyzeReport& report, std::ostream& out);

void write_dominators_csv(const std::vector<DominatorRow>& rows, std::ostream& out);
void write_dominators_jsonl(const std::vector<DominatorRow>& rows, std::ostream& out);

void write_paths_text(const PathsReport& report, std::ostream& out);
void write_paths_json(const PathsReport& report, std::ostream& out);

void write_diff_text(const DiffReport& report, std::ostream& out);
void write_diff_json(const DiffReport& report, std::ostream& out);

void write_info_text(const InfoReport& report, std::ostream& out);
void write_info_json(const InfoReport& report, std::ostream& out);

}  // namespace heapscope::output
