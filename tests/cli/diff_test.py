"""diff of heap graphs with planted growth, id reuse, and memlab's three-snapshot mode.

Answers worked out by hand from the graphs built here."""
import json
import subprocess
import sys

from clitest import check, check_equal, finish, run, run_json, work_path, write_json


def graph(sessions, extra_nodes=(), cache_refs=(), name_refs=()):
    """module app -> dict(D, id 2) -'SESSIONS'-> list(id 3) -> sessions; module -> 'OTHER' -> dict(id 4)."""
    nodes = [
        {"id": 1, "type": "module", "size": 50, "name": "app", "refs": [2], "ref_names": ["__dict__"]},
        {"id": 2, "type": "dict", "size": 100, "refs": [3, 4], "ref_names": ["'SESSIONS'", "'OTHER'"]},
        {"id": 3, "type": "list", "size": 40, "refs": [s for s in sessions] + list(cache_refs)},
        {"id": 4, "type": "dict", "size": 30, "refs": list(name_refs)},
    ]
    for s in sessions:
        nodes.append({"id": s, "type": "Session", "size": 100, "refs": [s + 1], "ref_names": ["'data'"]})
        nodes.append({"id": s + 1, "type": "bytes", "size": 1000})
    nodes.extend(extra_nodes)
    return {"roots": [{"id": 1, "name": "module app", "kind": "module"}], "nodes": nodes}


old = [1000, 1010, 1020]
new = [5000 + 10 * i for i in range(50)]
# In the after graph, id 9000 (a Buffer before, now freed) is reused by a Token:
# a different type, so it is a new object, not a match.
before = write_json("diff-before.json", graph(old, extra_nodes=[{"id": 9000, "type": "Buffer", "size": 77}],
                                               name_refs=[9000]))
after = write_json("diff-after.json", graph(old + new, extra_nodes=[{"id": 9000, "type": "Token", "size": 8}],
                                             name_refs=[9000]))

report = run_json("diff", before, after)
check_equal(report["mode"], "before-after", "mode")
# before reachable: 50+100+40+30 + 3*1100 + 77 = 3597; after: 220 + 53*1100 + 8 = 58528.
check_equal([s["reachable_size"] for s in report["snapshots"]], [3597, 58528], "reachable sizes")
check_equal(report["reachable_growth"], 58528 - 3597, "growth")
check_equal(report["ids_reused"], 1, "the reused id is counted")
check_equal(report["new_objects"], 101, "50 sessions + 50 bytes + the Token")
check_equal(report["new_size"], 50 * 1100 + 8, "new size")
groups = report["groups"]
check_equal(groups[0]["anchor"]["id"], 3, "the growth lives under the list")
check_equal((groups[0]["objects"], groups[0]["size"]), (100, 55000), "group figures")
check_equal([s["edge"] for s in groups[0]["chain"]["steps"]], ["module app", "__dict__", "'SESSIONS'"], "chain")
check_equal({t["type"]: t["count"] for t in groups[0]["types"]}, {"Session": 50, "bytes": 50}, "group types")
check_equal(groups[1]["anchor"]["id"], 4, "the Token is under the OTHER dict")
types = {t["type"]: t for t in report["types"]}
check_equal(types["Session"]["count_delta"], 50, "Session count delta")
check_equal(types["Session"]["retained_delta"], 55000, "Session retained delta")
check_equal(types["Buffer"]["count_delta"], -1, "Buffer gone")
check_equal(report["types"][0]["type"], "Session", "sorted by retained growth")
sorted_by_count = run_json("diff", before, after, "--sort", "count")
check_equal(sorted_by_count["types"][0]["count_delta"], 50, "sorted by count growth")
# The list grew by 55,000; the module and its dict by 54,931 (the 77-byte
# Buffer under OTHER was replaced by an 8-byte Token), tied, so by id.
check_equal([r["object"]["id"] for r in report["grown_retainers"][:3]], [3, 1, 2], "retainers that grew most")
check_equal(report["grown_retainers"][0]["retained_delta"], 55000, "list retained delta")
check_equal(report["grown_retainers"][1]["retained_delta"], 54931, "module retained delta")
check(report["gate"] is None, "no gate unless asked")

code, text, err = run("diff", before, after)
check(code == 0 and "+100 objects (+53.7 KiB) under `list` @0x3" in text, f"text group line:\n{text}")

# The gate: growth is 54,931 bytes.
code, out, err = run("diff", before, after, "--fail-on-growth", "50KB")
check_equal(code, 1, "gate trips at 50KB")
check("--fail-on-growth 50KB" in err and "54931" in err, f"reason on stderr: {err!r}")
check("TRIPPED" in out, "the report is still printed")
code, out, err = run("diff", before, after, "--fail-on-growth", "60KB")
check_equal(code, 0, "gate passes at 60KB")
code, out, err = run("diff", before, after, "--fail-on-growth", "2000%")
check_equal(code, 0, "+1527% is under 2000%")
code, out, err = run("diff", before, after, "--fail-on-growth", "1000%", "--format", "json")
check(code == 1 and json.loads(out)["gate"] == {"threshold": "1000%", "tripped": True}, "percent gate in JSON")
code, out, err = run("diff", before, after, "--fail-on-growth", "lots")
check_equal(code, 2, "a bad threshold is a usage error")
code, out, err = run("diff", before)
check_equal(code, 2, "one snapshot is not a diff")

# Three snapshots: the leak (10 sessions added in TARGET) survives in FINAL;
# the spike (20 sessions added in TARGET) is gone; 5 sessions new in FINAL are
# not candidates (they may be the last action's working set).
leak = [20000 + 10 * i for i in range(10)]
spike = [30000 + 10 * i for i in range(20)]
late = [40000 + 10 * i for i in range(5)]
baseline = write_json("diff3-baseline.json", graph(old))
target = write_json("diff3-target.json", graph(old + leak + spike))
final = write_json("diff3-final.json", graph(old + leak + late))
report = run_json("diff", baseline, target, final)
check_equal(report["mode"], "baseline-target-final", "three-snapshot mode")
check_equal(report["new_objects"], 20, "10 leaked sessions and their bytes")
check_equal(report["groups"][0]["anchor"]["id"], 3, "candidates under the list")
check_equal(report["groups"][0]["types"], [{"type": "bytes", "count": 10, "size": 10000},
                                           {"type": "Session", "count": 10, "size": 1000}], "candidate types")

code, out, err = run("diff", before, after, final, before)
check_equal(code, 2, "four snapshots is a usage error")

# Different formats cannot be diffed: a graph against a real tracemalloc dump.
dump = work_path("cli", "diff-tracemalloc.pickle")
subprocess.run([sys.executable, "-c", "import tracemalloc, sys; tracemalloc.start(); x = [bytes(64) for _ in range(10)]; "
                "tracemalloc.take_snapshot().dump(sys.argv[1])", dump], check=True)
code, out, err = run("diff", before, dump)
check_equal(code, 2, "graph vs tracemalloc dump exits 2")
check("heapscope-graph" in err and "tracemalloc" in err and "same format" in err, f"mixed formats message: {err!r}")
finish()
