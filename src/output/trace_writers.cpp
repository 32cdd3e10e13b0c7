#include "output/trace_writers.hpp"

#include <charconv>
#include <ostream>

#include "heapscope/units.hpp"
#include "output/writers.hpp"

namespace heapscope::output {
namespace {

std::size_t shown(std::size_t rows, std::size_t top) { return top == 0 ? rows : std::min(rows, top); }

const char* order_name(TracebackOrder order) {
  return order == TracebackOrder::OldestFirst ? "oldest_first" : "most_recent_first";
}

Json frames_json(const trace::KeyTable& keys, std::uint32_t key) {
  Json frames = Json::array();
  for (const auto& frame : keys.frames(key)) {
    frames.push_back(Json{{"filename", keys.filename(frame.filename)}, {"lineno", frame.lineno}});
  }
  return frames;
}

Json average_json(std::uint64_t size, std::uint64_t count) {
  if (count == 0) return nullptr;
  return trace::true_divide(size, count);
}

Json source_json(const TraceSource& source) {
  Json j;
  j["path"] = source.path;
  j["format"] = "tracemalloc";
  if (source.table != nullptr) {
    const TraceTable& t = *source.table;
    j["python"] = t.python_generation;
    j["traceback_order"] = order_name(t.order);
    j["traceback_order_assumed"] = t.order_assumed;
    j["pickle_protocol"] = t.pickle_protocol;
    j["trace_items"] = t.trace_arity;
    if (t.has_traceback_limit) {
      j["traceback_limit"] = t.traceback_limit;
    } else {
      j["traceback_limit"] = nullptr;
    }
    j["traces"] = t.trace_count();
    j["distinct_tracebacks"] = t.traceback_count();
  }
  return j;
}

Json filter_json(const trace::TraceFilter& filter) {
  return Json{{"include", filter.include},
              {"exclude", filter.exclude},
              {"all_frames", filter.all_frames},
              {"domains", filter.domains},
              {"exclude_domains", filter.exclude_domains}};
}

// Frames as one CSV field: "file:line" in Traceback order, joined by " | ".
std::string frames_field(const trace::KeyTable& keys, std::uint32_t key) {
  std::string text;
  for (const auto& frame : keys.frames(key)) {
    if (!text.empty()) text += " | ";
    text += trace::frame_text(keys, frame);
  }
  return text;
}

std::string average_field(std::uint64_t size, std::uint64_t count) {
  if (count == 0) return "";
  char buffer[64];
  // Shortest text that reads back as the same double (as Python's repr).
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, trace::true_divide(size, count));
  return std::string(buffer, result.ptr);
}

std::string totals_text(const trace::TraceTotals& totals) {
  return trace::format_size(static_cast<double>(totals.size), false) + " in " + with_thousands(totals.traces) + " traces";
}

}  // namespace

void write_trace_statistics_text(const trace::StatisticsReport& report, const TraceSource& source, std::size_t top,
                                 std::ostream& out) {
  const std::size_t n = shown(report.rows.size(), top);
  out << "tracemalloc " << source.path;
  if (source.table != nullptr) out << " (CPython " << source.table->python_generation << ")";
  out << ": " << totals_text(report.total) << "; top " << n << " of " << report.rows.size() << " grouped by "
      << trace::group_by_name(report.group_by) << (report.cumulative ? ", cumulative" : "") << '\n';
  for (std::size_t i = 0; i < n; ++i) out << trace::statistic_text(report.keys, report.rows[i]) << '\n';
}

void write_trace_statistics_json(const trace::StatisticsReport& report, const TraceSource& source,
                                 const trace::TraceFilter& filter, std::size_t top, std::ostream& out) {
  Json j = json_header("analyze");
  j["kind"] = "tracemalloc-statistics";
  j["input"] = source_json(source);
  j["group_by"] = trace::group_by_name(report.group_by);
  j["cumulative"] = report.cumulative;
  j["filters"] = filter_json(filter);
  j["total"] = Json{{"traces", report.total.traces}, {"size", report.total.size}};
  j["entries"] = report.rows.size();
  Json rows = Json::array();
  const std::size_t n = shown(report.rows.size(), top);
  for (std::size_t i = 0; i < n; ++i) {
    const auto& row = report.rows[i];
    rows.push_back(Json{{"frames", frames_json(report.keys, row.key)},
                        {"size", row.size},
                        {"count", row.count},
                        {"average", average_json(row.size, row.count)},
                        {"text", trace::statistic_text(report.keys, row)}});
  }
  j["rows"] = std::move(rows);
  write_json(j, out);
}

void write_trace_statistics_csv(const trace::StatisticsReport& report, std::size_t top, std::ostream& out) {
  out << "rank,size,count,average,filename,lineno,frames\n";
  const std::size_t n = shown(report.rows.size(), top);
  for (std::size_t i = 0; i < n; ++i) {
    const auto& row = report.rows[i];
    const auto& first = report.keys.frames(row.key)[0];
    out << i + 1 << ',' << row.size << ',' << row.count << ',' << average_field(row.size, row.count) << ','
        << csv_field(report.keys.filename(first.filename)) << ',' << first.lineno << ','
        << csv_field(frames_field(report.keys, row.key)) << '\n';
  }
}

void write_trace_diff_text(const trace::DiffReport& report, const TraceSource& before, const TraceSource& after,
                           std::size_t top, std::ostream& out) {
  const std::size_t n = shown(report.rows.size(), top);
  out << "tracemalloc diff " << before.path << " -> " << after.path;
  if (after.table != nullptr) out << " (CPython " << after.table->python_generation << ")";
  out << ": " << totals_text(report.before) << " -> " << totals_text(report.after) << " ("
      << trace::format_size(static_cast<double>(report.size_growth()), true) << "); top " << n << " of "
      << report.rows.size() << " grouped by " << trace::group_by_name(report.group_by)
      << (report.cumulative ? ", cumulative" : "") << '\n';
  for (std::size_t i = 0; i < n; ++i) out << trace::statistic_diff_text(report.keys, report.rows[i]) << '\n';
}

void write_trace_diff_json(const trace::DiffReport& report, const TraceSource& before, const TraceSource& after,
                           const trace::TraceFilter& filter, std::size_t top, const std::optional<TraceGate>& gate,
                           std::ostream& out) {
  Json j = json_header("diff");
  j["kind"] = "tracemalloc-compare";
  j["before"] = source_json(before);
  j["after"] = source_json(after);
  j["group_by"] = trace::group_by_name(report.group_by);
  j["cumulative"] = report.cumulative;
  j["filters"] = filter_json(filter);
  j["before_total"] = Json{{"traces", report.before.traces}, {"size", report.before.size}};
  j["after_total"] = Json{{"traces", report.after.traces}, {"size", report.after.size}};
  j["size_growth"] = report.size_growth();
  if (gate) {
    j["fail_on_growth"] = Json{{"threshold", gate->threshold}, {"described", gate->described}, {"exceeded", gate->exceeded}};
  }
  j["entries"] = report.rows.size();
  Json rows = Json::array();
  const std::size_t n = shown(report.rows.size(), top);
  for (std::size_t i = 0; i < n; ++i) {
    const auto& row = report.rows[i];
    rows.push_back(Json{{"frames", frames_json(report.keys, row.key)},
                        {"size", row.size},
                        {"size_diff", row.size_diff},
                        {"count", row.count},
                        {"count_diff", row.count_diff},
                        {"average", average_json(row.size, row.count)},
                        {"text", trace::statistic_diff_text(report.keys, row)}});
  }
  j["rows"] = std::move(rows);
  write_json(j, out);
}

void write_trace_diff_csv(const trace::DiffReport& report, std::size_t top, std::ostream& out) {
  out << "rank,size,size_diff,count,count_diff,average,filename,lineno,frames\n";
  const std::size_t n = shown(report.rows.size(), top);
  for (std::size_t i = 0; i < n; ++i) {
    const auto& row = report.rows[i];
    const auto& first = report.keys.frames(row.key)[0];
    out << i + 1 << ',' << row.size << ',' << row.size_diff << ',' << row.count << ',' << row.count_diff << ','
        << average_field(row.size, row.count) << ',' << csv_field(report.keys.filename(first.filename)) << ','
        << first.lineno << ',' << csv_field(frames_field(report.keys, row.key)) << '\n';
  }
}

}  // namespace heapscope::output
