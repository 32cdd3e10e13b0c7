"""Python's own answers for heapscope's tracemalloc tests (any CPython 3.6+).

usage: python oracle.py CASES.json OUT.json

CASES.json is a list of {"kind": "analyze"|"diff", "files": [path] or
[before, after], "group_by", "cumulative", "include", "exclude",
"all_frames", "domains", "exclude_domains"}. OUT.json gets, per case,
{"lines": [str(stat) ...], "rows": [...numbers and frames...],
"total": {...}} or {"error": "..."} when Python refuses the case.
The filters are applied as heapscope documents it (docs/tracemalloc.md):
domain filters in one filter_traces() call, then pattern filters in another.
"""
import json
import sys
import tracemalloc

cases = json.load(open(sys.argv[1]))
loaded = {}


def load(path):
    if path not in loaded:
        loaded[path] = tracemalloc.Snapshot.load(path)
    return loaded[path]


def filtered(snap, case):
    doms = [tracemalloc.DomainFilter(True, d) for d in case.get("domains", [])]
    doms += [tracemalloc.DomainFilter(False, d) for d in case.get("exclude_domains", [])]
    if doms:
        snap = snap.filter_traces(doms)
    af = case.get("all_frames", False)
    pats = [tracemalloc.Filter(True, p, all_frames=af) for p in case.get("include", [])]
    pats += [tracemalloc.Filter(False, p, all_frames=af) for p in case.get("exclude", [])]
    if pats:
        snap = snap.filter_traces(pats)
    return snap


def frames(tb):
    return [{"filename": f.filename, "lineno": f.lineno} for f in tb]


def total(snap):
    return {"traces": len(snap.traces), "size": sum(t.size for t in snap.traces)}


out = []
for case in cases:
    try:
        snaps = [filtered(load(p), case) for p in case["files"]]
        gb, cum = case["group_by"], case["cumulative"]
        if case["kind"] == "analyze":
            stats = snaps[0].statistics(gb, cum)
            rows = [{"frames": frames(s.traceback), "size": s.size, "count": s.count,
                     "average": s.size / s.count if s.count else None} for s in stats]
            res = {"total": total(snaps[0])}
        else:
            stats = snaps[1].compare_to(snaps[0], gb, cum)
            rows = [{"frames": frames(s.traceback), "size": s.size, "size_diff": s.size_diff,
                     "count": s.count, "count_diff": s.count_diff,
                     "average": s.size / s.count if s.count else None} for s in stats]
            res = {"before_total": total(snaps[0]), "after_total": total(snaps[1])}
        res["lines"] = [str(s) for s in stats]
        res["rows"] = rows
    except Exception as e:  # Python refuses: heapscope must refuse too
        res = {"error": "%s: %s" % (type(e).__name__, e)}
    out.append(res)
with open(sys.argv[2], "w", encoding="utf-8", errors="surrogatepass") as fp:
    json.dump(out, fp)
