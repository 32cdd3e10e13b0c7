// Pieces every writer uses: JSON for the shared report structs, chain and
// object phrasing for text, CSV and JSON string quoting.
#include <cstdio>
#include <ostream>

#include "heapscope/units.hpp"
#include "output/writers.hpp"

namespace heapscope::output {

Json json_header(const std::string& command) {
  Json j;
  j["schema_version"] = kSchemaVersion;
  j["command"] = command;
  return j;
}

void write_json(const Json& document, std::ostream& out) {
  // Replace invalid UTF-8 rather than fail: names come from untrusted heaps.
  out << document.dump(1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
}

Json to_json(const Summary& s) {
  Json j;
  j["path"] = s.path;
  j["format"] = s.format;
  j["objects"] = s.objects;
  j["edges"] = s.edges;
  j["weak_edges"] = s.weak_edges;
  j["roots"] = s.roots;
  j["total_shallow_size"] = s.total_shallow_size;
  j["reachable_objects"] = s.reachable_objects;
  j["reachable_size"] = s.reachable_size;
  j["unreachable_objects"] = s.unreachable_objects;
  j["unreachable_size"] = s.unreachable_size;
  j["dropped_dangling_refs"] = s.dropped_dangling_refs;
  j["dropped_dangling_roots"] = s.dropped_dangling_roots;
  return j;
}

Json to_json(const ObjectView& o) {
  Json j;
  j["id"] = o.id;
  j["type"] = o.type;
  j["name"] = o.name;
  j["shallow_size"] = o.shallow_size;
  j["retained_size"] = o.retained_size;
  j["alloc_site"] = o.alloc_site;
  return j;
}

Json to_json(const Chain& chain) {
  Json steps = Json::array();
  for (const ChainStep& step : chain.steps) {
    Json s;
    s["edge"] = step.edge;
    s["weak"] = step.weak;
    s["id"] = step.id;
    s["type"] = step.type;
    s["name"] = step.name;
    s["repeat"] = step.repeat;
    steps.push_back(std::move(s));
  }
  Json j;
  j["root_kind"] = chain.root_kind;
  j["length"] = chain.length;
  j["steps"] = std::move(steps);
  return j;
}

Json to_json(const SuspectRow& row) {
  Json accumulated = Json::array();
  for (const AccumulatedType& t : row.accumulated) {
    accumulated.push_back({{"type", t.type}, {"count", t.count}, {"retained_size", t.retained_size}});
  }
  Json j;
  j["suspect"] = to_json(row.suspect);
  j["accumulation_point"] = to_json(row.accumulation_point);
  j["percent_of_reachable"] = row.percent_of_reachable;
  j["chain"] = to_json(row.chain);
  j["accumulated"] = std::move(accumulated);
  j["description"] = row.description;
  return j;
}

std::string percent_text(double percent) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f%%", percent);
  return buffer;
}

std::string object_text(const ObjectView& o) {
  char id[32];
  std::snprintf(id, sizeof id, "0x%llx", static_cast<unsigned long long>(o.id));
  std::string text = "`" + o.type + "`";
  if (!o.name.empty()) text += " " + o.name;
  return text + " @" + id;
}

std::string chain_text(const Chain& chain) {
  std::string text;
  for (std::size_t i = 0; i < chain.steps.size(); ++i) {
    const ChainStep& step = chain.steps[i];
    if (step.repeat > 0) {
      text += " -> (x " + with_thousands(step.repeat) + " more `" + step.type + "` via " + step.edge + ")";
      continue;
    }
    if (i == 0) {
      text += step.edge.empty() ? "root" : step.edge;
      text += " `" + step.type + "`";
    } else {
      // An unnamed reference shows as a bare arrow: "-> `B`".
      text += " -> " + (step.edge.empty() ? std::string() : step.edge + " ") + (step.weak ? "(weak) " : "") + "`" +
              step.type + "`";
    }
    // A root's name usually contains the object's ("module app" / "app").
    const bool named_by_root = i == 0 && step.edge.size() >= step.name.size() &&
                               step.edge.compare(step.edge.size() - step.name.size(), step.name.size(), step.name) == 0;
    if (!step.name.empty() && !named_by_root) text += " " + step.name;
  }
  return text;
}

void write_summary_text(const Summary& s, std::ostream& out) {
  out << s.path << " (" << s.format << ")\n"
      << "  objects      " << with_thousands(s.objects) << " (" << human_size(s.total_shallow_size) << ")\n"
      << "  references   " << with_thousands(s.edges) << " (" << with_thousands(s.weak_edges) << " weak)\n"
      << "  roots        " << with_thousands(s.roots) << "\n"
      << "  reachable    " << with_thousands(s.reachable_objects) << " objects, " << human_size(s.reachable_size)
      << "\n"
      << "  unreachable  " << with_thousands(s.unreachable_objects) << " objects, " << human_size(s.unreachable_size)
      << "\n";
  if (s.dropped_dangling_refs > 0 || s.dropped_dangling_roots > 0) {
    out << "  dropped      " << with_thousands(s.dropped_dangling_refs) << " references and "
        << with_thousands(s.dropped_dangling_roots) << " roots to ids that are not objects\n";
  }
}

void write_suspects_text(const std::vector<SuspectRow>& suspects, double threshold, std::ostream& out) {
  out << "\nLeak suspects (subtrees holding at least " << percent_text(threshold * 100) << " of the reachable heap)\n";
  if (suspects.empty()) out << "  none\n";
  for (std::size_t i = 0; i < suspects.size(); ++i) {
    const SuspectRow& row = suspects[i];
    out << "  " << (i + 1) << ". " << row.description << "\n"
        << "     suspect:            " << object_text(row.suspect) << ", retains "
        << human_size(row.suspect.retained_size) << "\n"
        << "     accumulation point: " << object_text(row.accumulation_point) << ", retains "
        << human_size(row.accumulation_point.retained_size) << "\n"
        << "     chain: " << chain_text(row.chain) << "\n";
    if (!row.accumulation_point.alloc_site.empty()) {
      out << "     allocated at: " << row.accumulation_point.alloc_site << "\n";
    }
    for (const AccumulatedType& t : row.accumulated) {
      out << "       " << with_thousands(t.count) << " x `" << t.type << "`, " << human_size(t.retained_size)
          << " retained\n";
    }
  }
}

std::string csv_field(std::string_view text) {
  if (text.find_first_of(",\"\n\r") == std::string_view::npos) return std::string(text);
  std::string quoted = "\"";
  for (const char c : text) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

std::string json_string(std::string_view text) {
  return Json(std::string(text)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace heapscope::output
