// `heapscope analyze` on a heap graph: the text report for people and the
// JSON document for scripts (docs/json-output.md).
#include <ostream>

#include "heapscope/units.hpp"
#include "output/writers.hpp"

namespace heapscope::output {
namespace {

void write_retainers_text(const AnalyzeReport& report, std::ostream& out) {
  out << "\nBiggest retainers (objects whose own dominated subtree is biggest)\n";
  if (report.top_retainers.empty()) out << "  none\n";
  for (std::size_t i = 0; i < report.top_retainers.size(); ++i) {
    const RetainerRow& row = report.top_retainers[i];
    out << "  " << (i + 1) << ". " << human_size(row.object.retained_size) << " ("
        << percent_text(row.percent_of_reachable) << ") " << object_text(row.object) << ", shallow "
        << human_size(row.object.shallow_size) << "\n"
        << "     chain: " << chain_text(row.chain) << "\n";
    if (!row.object.alloc_site.empty()) out << "     allocated at: " << row.object.alloc_site << "\n";
  }
}

void write_types_text(const AnalyzeReport& report, std::ostream& out) {
  out << "\nTypes (retained: of objects no same-type object dominates)";
  if (report.types_total > report.types.size()) {
    out << ", top " << report.types.size() << " of " << with_thousands(report.types_total);
  }
  out << "\n";
  out << "  " << std::string(12, ' ') << "count  " << std::string(7, ' ') << "shallow  "
      << std::string(6, ' ') << "retained  type\n";
  for (const TypeRow& row : report.types) {
    const std::string count = with_thousands(row.count);
    const std::string shallow = human_size(row.shallow_size);
    const std::string retained = human_size(row.retained_size);
    out << "  " << std::string(count.size() < 17 ? 17 - count.size() : 0, ' ') << count << "  "
        << std::string(shallow.size() < 14 ? 14 - shallow.size() : 0, ' ') << shallow << "  "
        << std::string(retained.size() < 14 ? 14 - retained.size() : 0, ' ') << retained << "  " << row.type
        << "\n";
  }
}

// The heading says what unreachable means for the producer.
const char* leaked_heading(const std::string& meaning) {
  if (meaning == "cyclic-garbage") {
    return "Cyclic garbage (reference cycles no root reaches: alive only until the gc collects them, "
           "if it runs)";
  }
  if (meaning == "leaked") return "Leaked allocations (in use, and nothing alive points at them)";
  return "Unreachable objects (no root reaches them: garbage awaiting collection, or leaked)";
}

void write_leaked_text(const LeakedSection& leaked, std::ostream& out) {
  out << "\n" << leaked_heading(leaked.meaning) << "\n";
  if (leaked.objects == 0) {
    out << "  none\n";
    return;
  }
  out << "  " << with_thousands(leaked.objects) << " objects, " << human_size(leaked.size) << "; "
      << with_thousands(leaked.unreferenced_objects) << " of them referenced by nothing\n";
  for (const LeakGroup& group : leaked.groups) {
    out << "    " << with_thousands(group.count) << " x `" << group.type << "`, " << human_size(group.shallow_size)
        << " (" << with_thousands(group.unreferenced) << " unreferenced)\n";
  }
  if (leaked.groups_total > leaked.groups.size()) {
    out << "    ... " << with_thousands(leaked.groups_total - leaked.groups.size()) << " more types\n";
  }
  if (!leaked.heads.empty()) out << "  unreferenced, biggest first (size = what each keeps unreachable):\n";
  for (const ObjectView& head : leaked.heads) {
    out << "    " << object_text(head) << ", " << human_size(head.retained_size) << "\n";
    if (!head.alloc_site.empty()) out << "      allocated at: " << head.alloc_site << "\n";
  }
}

// Shown for producers that check reference counts, and for any graph that
// has external roots.
void write_external_text(const ExternalSection& external, std::ostream& out) {
  if (!external.checked && external.objects == 0) return;
  out << "\nReference-count leak suspects (reference count above the references found, no other root: held "
         "by C code, or a leaked count)\n";
  if (external.objects == 0) {
    out << "  none\n";
    return;
  }
  out << "  " << with_thousands(external.objects) << " objects, keeping " << human_size(external.retained_size)
      << " alive\n";
  for (const AccumulatedType& group : external.groups) {
    out << "    " << with_thousands(group.count) << " x `" << group.type << "`, " << human_size(group.retained_size)
        << "\n";
  }
  if (external.groups_total > external.groups.size()) {
    out << "    ... " << with_thousands(external.groups_total - external.groups.size()) << " more types\n";
  }
  out << "  biggest first (size = what each keeps alive):\n";
  for (const ExternalRoot& root : external.biggest) {
    out << "    " << object_text(root.object) << ", " << human_size(root.object.retained_size) << ": "
        << root.root_name << "\n";
  }
}

Json external_json(const ExternalSection& external) {
  Json groups = Json::array();
  for (const AccumulatedType& g : external.groups) {
    groups.push_back({{"type", g.type}, {"count", g.count}, {"retained_size", g.retained_size}});
  }
  Json biggest = Json::array();
  for (const ExternalRoot& root : external.biggest) {
    Json r = to_json(root.object);
    r["root_name"] = root.root_name;
    biggest.push_back(std::move(r));
  }
  return Json{{"checked", external.checked},
              {"objects", external.objects},
              {"retained_size", external.retained_size},
              {"groups_total", external.groups_total},
              {"groups", std::move(groups)},
              {"biggest", std::move(biggest)}};
}

Json leaked_json(const LeakedSection& leaked) {
  Json groups = Json::array();
  for (const LeakGroup& g : leaked.groups) {
    groups.push_back({{"type", g.type},
                      {"count", g.count},
                      {"shallow_size", g.shallow_size},
                      {"unreferenced", g.unreferenced}});
  }
  Json heads = Json::array();
  for (const ObjectView& head : leaked.heads) heads.push_back(to_json(head));
  return Json{{"meaning", leaked.meaning},
              {"objects", leaked.objects},
              {"size", leaked.size},
              {"unreferenced_objects", leaked.unreferenced_objects},
              {"groups_total", leaked.groups_total},
              {"groups", std::move(groups)},
              {"heads", std::move(heads)}};
}

}  // namespace

void write_analyze_text(const AnalyzeReport& report, std::ostream& out) {
  write_summary_text(report.summary, out);
  write_retainers_text(report, out);
  write_types_text(report, out);
  write_suspects_text(report.suspects, report.suspect_threshold, out);
  write_external_text(report.external, out);
  write_leaked_text(report.leaked, out);
}

void write_analyze_json(const AnalyzeReport& report, std::ostream& out) {
  Json j = json_header("analyze");
  j["summary"] = to_json(report.summary);
  Json retainers = Json::array();
  for (const RetainerRow& row : report.top_retainers) {
    Json r = to_json(row.object);
    r["percent_of_reachable"] = row.percent_of_reachable;
    r["chain"] = to_json(row.chain);
    retainers.push_back(std::move(r));
  }
  j["top_retainers"] = std::move(retainers);
  Json types = Json::array();
  for (const TypeRow& row : report.types) {
    types.push_back({{"type", row.type},
                     {"count", row.count},
                     {"shallow_size", row.shallow_size},
                     {"retained_size", row.retained_size}});
  }
  j["types_total"] = report.types_total;
  j["types"] = std::move(types);
  j["suspect_threshold"] = report.suspect_threshold;
  Json suspects = Json::array();
  for (const SuspectRow& row : report.suspects) suspects.push_back(to_json(row));
  j["suspects"] = std::move(suspects);
  j["refcount_leak_suspects"] = external_json(report.external);
  j["leaked"] = leaked_json(report.leaked);
  j["warnings"] = report.warnings;
  write_json(j, out);
}

}  // namespace heapscope::output
