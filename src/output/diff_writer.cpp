// `heapscope diff` on heap graphs: text for people, JSON for scripts.
#include <ostream>

#include "heapscope/units.hpp"
#include "output/writers.hpp"

namespace heapscope::output {
namespace {

std::string percent_change(std::int64_t delta, std::uint64_t before) {
  if (before == 0) return "";
  return ", " + std::string(delta >= 0 ? "+" : "") +
         percent_text(100.0 * static_cast<double>(delta) / static_cast<double>(before));
}

std::string right(const std::string& text, std::size_t width) {
  return text.size() >= width ? text : std::string(width - text.size(), ' ') + text;
}

void write_groups_text(const DiffReport& report, std::ostream& out) {
  const bool three = report.snapshots.size() == 3;
  out << "\n" << (three ? "Leak candidates (new in TARGET, still alive in FINAL)" : "New objects that survived")
      << ": " << with_thousands(report.new_objects) << " objects, " << human_size(report.new_size) << "\n";
  out << "Where they accumulated (grouped under their nearest dominator that is not new)";
  if (report.groups_total > report.groups.size()) {
    out << ", top " << report.groups.size() << " of " << with_thousands(report.groups_total);
  }
  out << "\n";
  if (report.groups.empty()) out << "  none\n";
  for (std::size_t i = 0; i < report.groups.size(); ++i) {
    const GrowthGroup& g = report.groups[i];
    out << "  " << (i + 1) << ". +" << with_thousands(g.objects) << " objects (+" << human_size(g.size) << ") under "
        << (g.anchor_is_roots ? std::string("the roots themselves") : object_text(g.anchor)) << "\n";
    if (!g.anchor_is_roots) out << "     chain: " << chain_text(g.chain) << "\n";
    for (const AccumulatedType& t : g.types) {
      out << "       +" << with_thousands(t.count) << " x `" << t.type << "`, " << human_size(t.retained_size) << "\n";
    }
  }
}

void write_types_text(const DiffReport& report, std::ostream& out) {
  out << "\nTypes that changed (sorted by " << report.sort << " growth";
  if (report.types_changed > report.types.size()) {
    out << ", top " << report.types.size() << " of " << with_thousands(report.types_changed);
  }
  out << ")\n";
  out << right("count", 12) << right("before", 12) << right("shallow", 14) << right("retained", 14)
      << right("retained now", 16) << "  type\n";
  for (const TypeDiffRow& row : report.types) {
    out << right(with_thousands_signed(row.count_delta), 12) << right(with_thousands(row.before.count), 12)
        << right(human_size_signed(row.shallow_delta), 14) << right(human_size_signed(row.retained_delta), 14)
        << right(human_size(row.after.retained_size), 16) << "  " << row.type << "\n";
  }
}

void write_retainers_text(const DiffReport& report, std::ostream& out) {
  out << "\nRetainers that grew (objects in both snapshots)\n";
  if (report.grown_retainers.empty()) out << "  none\n";
  for (std::size_t i = 0; i < report.grown_retainers.size(); ++i) {
    const GrownRetainer& r = report.grown_retainers[i];
    out << "  " << (i + 1) << ". " << human_size_signed(r.retained_delta) << " " << object_text(r.object) << " ("
        << human_size(r.before_retained) << " -> " << human_size(r.object.retained_size) << ")\n"
        << "     chain: " << chain_text(r.chain) << "\n";
  }
}

Json figures_json(const TypeFigures& f) {
  return {{"count", f.count}, {"shallow_size", f.shallow_size}, {"retained_size", f.retained_size}};
}

}  // namespace

void write_diff_text(const DiffReport& report, std::ostream& out) {
  const Summary& first = report.snapshots.front();
  const Summary& last = report.snapshots.back();
  out << "heapscope diff (" << report.mode << ")\n";
  static const char* kRoles2[] = {"before", "after"};
  static const char* kRoles3[] = {"baseline", "target", "final"};
  for (std::size_t i = 0; i < report.snapshots.size(); ++i) {
    const Summary& s = report.snapshots[i];
    out << "  " << (report.snapshots.size() == 3 ? kRoles3[i] : kRoles2[i]) << ": " << s.path << " (" << s.format
        << "), " << with_thousands(s.reachable_objects) << " reachable objects, " << human_size(s.reachable_size)
        << "\n";
  }
  out << "  reachable heap grew " << human_size_signed(report.reachable_growth)
      << percent_change(report.reachable_growth, first.reachable_size) << " (objects "
      << with_thousands_signed(static_cast<std::int64_t>(last.reachable_objects) -
                               static_cast<std::int64_t>(first.reachable_objects))
      << ")\n"
      << "  matched objects " << with_thousands(report.matched_objects) << "; ids reused by another type or site "
      << with_thousands(report.ids_reused) << "\n";
  write_groups_text(report, out);
  write_types_text(report, out);
  write_retainers_text(report, out);
  if (!report.gate_threshold.empty()) {
    out << "\nGate --fail-on-growth " << report.gate_threshold << ": "
        << (report.gate_tripped ? "TRIPPED" : "passed") << "\n";
  }
}

void write_diff_json(const DiffReport& report, std::ostream& out) {
  Json j = json_header("diff");
  j["mode"] = report.mode;
  Json snapshots = Json::array();
  for (const Summary& s : report.snapshots) snapshots.push_back(to_json(s));
  j["snapshots"] = std::move(snapshots);
  j["reachable_growth"] = report.reachable_growth;
  j["matched_objects"] = report.matched_objects;
  j["ids_reused"] = report.ids_reused;
  j["new_objects"] = report.new_objects;
  j["new_size"] = report.new_size;
  j["groups_total"] = report.groups_total;
  Json groups = Json::array();
  for (const GrowthGroup& g : report.groups) {
    Json types = Json::array();
    for (const AccumulatedType& t : g.types) types.push_back({{"type", t.type}, {"count", t.count}, {"size", t.retained_size}});
    groups.push_back({{"anchor", to_json(g.anchor)},
                      {"anchor_is_roots", g.anchor_is_roots},
                      {"objects", g.objects},
                      {"size", g.size},
                      {"types", std::move(types)},
                      {"chain", to_json(g.chain)}});
  }
  j["groups"] = std::move(groups);
  j["sort"] = report.sort;
  j["types_changed"] = report.types_changed;
  Json types = Json::array();
  for (const TypeDiffRow& row : report.types) {
    types.push_back({{"type", row.type},
                     {"before", figures_json(row.before)},
                     {"after", figures_json(row.after)},
                     {"count_delta", row.count_delta},
                     {"shallow_delta", row.shallow_delta},
                     {"retained_delta", row.retained_delta}});
  }
  j["types"] = std::move(types);
  Json retainers = Json::array();
  for (const GrownRetainer& r : report.grown_retainers) {
    retainers.push_back({{"object", to_json(r.object)},
                         {"before_retained", r.before_retained},
                         {"retained_delta", r.retained_delta},
                         {"chain", to_json(r.chain)}});
  }
  j["grown_retainers"] = std::move(retainers);
  Json gate = nullptr;
  if (!report.gate_threshold.empty()) gate = {{"threshold", report.gate_threshold}, {"tripped", report.gate_tripped}};
  j["gate"] = std::move(gate);
  write_json(j, out);
}

}  // namespace heapscope::output
