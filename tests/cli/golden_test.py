"""CLI golden tests on small graphs whose answers are worked out by hand here."""
import json
import re

from clitest import check, check_equal, finish, run, run_json, write_json, write_text

# root "module app" -> app(50) -__dict__-> d(10) -'SESSIONS'-> sessions(20) -[i]-> 5 x Session(100)
#                                           d -'CONFIG'-> config(30)
#                 frame(40) -'req'-> config  (config is held twice: idom = super-root)
# garbage: g1(7) -> g2(3), a cycle c1(5) <-> c2(5)
GRAPH = {
    "format": "heapscope-graph", "version": 1, "meta": {"producer": "golden_test"},
    "roots": [{"id": 1, "name": "module app", "kind": "module"},
              {"id": 9, "name": "thread main frame f()", "kind": "frame"}],
    "nodes": [
        {"id": 1, "type": "module", "size": 50, "name": "app", "refs": [2], "ref_names": ["__dict__"]},
        {"id": 2, "type": "dict", "size": 10, "refs": [3, 4], "ref_names": ["'SESSIONS'", "'CONFIG'"]},
        {"id": 3, "type": "list", "size": 20, "refs": [100, 101, 102, 103, 104],
         "ref_names": ["[0]", "[1]", "[2]", "[3]", "[4]"]},
        {"id": 4, "type": "Config", "size": 30},
        {"id": 9, "type": "frame", "size": 40, "refs": [4], "ref_names": ["req"], "weak_refs": [3]},
    ] + [{"id": 100 + i, "type": "Session", "size": 100} for i in range(5)] + [
        {"id": 200, "type": "Garbage", "size": 7, "refs": [201]},
        {"id": 201, "type": "GarbageChild", "size": 3},
        {"id": 300, "type": "Cycle", "size": 5, "refs": [301]},
        {"id": 301, "type": "Cycle", "size": 5, "refs": [300]},
    ],
}
# Reachable: 50+10+20+30+40+500 = 650. Total 650 + 20 = 670.
path = write_json("golden.json", GRAPH)

report = run_json("analyze", path, "--top", "4")
check_equal(report["schema_version"], 1, "schema_version")
check_equal(report["command"], "analyze", "command")
s = report["summary"]
check_equal((s["objects"], s["edges"], s["weak_edges"], s["roots"]), (14, 13, 1, 2), "counts")  # 13 references, one of them weak
check_equal((s["total_shallow_size"], s["reachable_size"], s["unreachable_objects"], s["unreachable_size"]),
            (670, 650, 4, 20), "sizes")
retainers = [(r["id"], r["retained_size"]) for r in report["top_retainers"]]
# app retains 50+10+20+500 = 580 (config is shared with the frame).
check_equal(retainers, [(1, 580), (2, 530), (3, 520), (100, 100)], "top retainers")
chain = report["top_retainers"][2]["chain"]
check_equal([step["edge"] for step in chain["steps"]], ["module app", "__dict__", "'SESSIONS'"], "chain edges")
check_equal(chain["length"], 2, "chain length")
check(abs(report["top_retainers"][0]["percent_of_reachable"] - 580 / 650 * 100) < 1e-9, "percent")
types = {t["type"]: (t["count"], t["shallow_size"], t["retained_size"]) for t in report["types"]}
check_equal(types["Session"], (5, 500, 500), "Session type row")
check_equal(report["types_total"], 9, "types_total")
suspects = report["suspects"]
check_equal(len(suspects), 1, "one suspect")
if suspects:
    check_equal(suspects[0]["suspect"]["id"], 1, "suspect")
    check_equal(suspects[0]["accumulation_point"]["id"], 3, "accumulation point")
    check_equal(suspects[0]["accumulated"][0], {"type": "Session", "count": 5, "retained_size": 500}, "accumulated")
leaked = report["leaked"]
check_equal((leaked["objects"], leaked["size"], leaked["unreferenced_objects"]), (4, 20, 1), "leaked")
check_equal([(h["id"], h["retained_size"]) for h in leaked["heads"]], [(200, 10)], "leak heads")

code, text, err = run("analyze", path)
check(code == 0, "text analyze exit 0")
check("holds 5 `Session` objects (500 B), 80.0% of the reachable heap" in text, "suspect sentence:\n" + text)
check("module app `module` -> __dict__ `dict` -> 'SESSIONS' `list`" in text, "chain text:\n" + text)
check(err == "", f"no warnings expected, got {err!r}")

# dominators: every reachable object, retained desc then id, idom 0 = super-root.
code, csv, err = run("dominators", path)
check(code == 0, f"dominators exit {code}: {err}")
expected_csv = """id,type,shallow_size,retained_size,idom
1,module,50,580,0
2,dict,10,530,1
3,list,20,520,2
100,Session,100,100,3
101,Session,100,100,3
102,Session,100,100,3
103,Session,100,100,3
104,Session,100,100,3
9,frame,40,40,0
4,Config,30,30,0
"""
check_equal(csv, expected_csv, "dominators csv")
code, jsonl, err = run("dominators", path, "--format", "jsonl")
rows = [json.loads(line) for line in jsonl.splitlines()]
check_equal(rows[3], {"id": 100, "type": "Session", "shallow_size": 100, "retained_size": 100, "idom": 3}, "jsonl row")
check_equal(len(rows), 10, "jsonl rows")

# paths: config has two chains (via the frame, 1 edge; via the module, 3 edges).
paths = run_json("paths", path, "4", "0x64", "--max", "5")
entries = paths["entries"]
check_equal(len(entries), 2, "two entries")
config_chains = [[step["edge"] for step in c["steps"]] for c in entries[0]["chains"]]
check_equal(config_chains, [["thread main frame f()", "req"], ["module app", "__dict__", "'CONFIG'"]], "config chains")
check_equal([c["length"] for c in entries[1]["chains"]], [3], "Session 100: one chain of 3 (the weak ref does not count)")
code, out, err = run("paths", path, "200")
check(code == 0 and "unreachable" in out, f"paths to garbage says unreachable: {out}")
code, out, err = run("paths", path, "777")
check_equal(code, 2, "paths to unknown id exits 2")
check("no object with id 777" in err and "golden.json" in err, f"unknown id message: {err}")
code, out, err = run("paths", path, "zz")
check_equal(code, 2, "paths with a non-number id exits 2")

info = run_json("info", path)
check_equal(info["summary"]["objects"], 14, "info objects")
check_equal(info["meta"], {"producer": "golden_test"}, "info meta")

# The minimal form from the issue.
minimal = write_text("minimal.json", '{"nodes":[{"id":1,"type":"A","size":10,"refs":[2]},'
                                     '{"id":2,"type":"B","size":5}],"roots":[1]}')
report = run_json("analyze", minimal)
check_equal(report["summary"]["reachable_size"], 15, "minimal reachable size")

# stdin, and --output.
with open(path, "rb") as f:
    code, out, err = run("analyze", "-", "--format", "json", stdin=f.read())
check(code == 0 and json.loads(out)["summary"]["objects"] == 14, f"stdin: {code} {err}")
out_path = path + ".report.json"
code, out, err = run("analyze", path, "--format", "json", "--output", out_path)
check(code == 0 and out == "", "--output leaves stdout empty")
with open(out_path) as f:
    check_equal(json.load(f)["summary"]["objects"], 14, "--output file")

# Dangling references: dropped, counted, one warning.
dangling = write_json("dangling.json", {"roots": [1, 55], "nodes": [
    {"id": 1, "type": "A", "size": 1, "refs": [2, 3, 4]}, {"id": 2, "type": "B", "size": 1}]})
code, out, err = run("analyze", dangling, "--format", "json")
check(code == 0, "dangling refs are not fatal")
s = json.loads(out)["summary"]
check_equal((s["dropped_dangling_refs"], s["dropped_dangling_roots"]), (2, 1), "dropped counts")
check_equal(len([l for l in err.splitlines() if "warning" in l]), 1 if "roots" not in err else err.count("warning"),
            "warnings on stderr")
check("2 references" in err, f"warning names the count: {err}")
code, out, err = run("--quiet", "analyze", dangling)
check(code == 0 and err == "", f"--quiet silences warnings: {err!r}")
# diff reads both files before warning: when the second is bad, the error is
# the only line on stderr (not the first file's warning, then the error).
bad = write_text("bad.json", '{"nodes": [{"id": 1, "type": "A", "size": -4}]}')
code, out, err = run("diff", dangling, bad)
check_equal(code, 2, f"diff with a bad second file: exit code ({err!r})")
check_equal(len(err.splitlines()), 1, f"diff with a bad second file: one line on stderr: {err!r}")
check(bad in err and "warning" not in err, f"the one line is the bad file's error: {err!r}")

# --verbose logs each step of the analysis on stderr; the report stays alone on stdout.
code, out, err = run("--verbose", "analyze", path, "--format", "json")
check(code == 0 and json.loads(out)["schema_version"] >= 1, "verbose analyze still writes the report to stdout")
check(re.search(r"dominators: walk records \d+ ms, walk \d+ ms, predecessors \d+ ms, semi-dominators \d+ ms", err)
      is not None, f"verbose names the dominators' steps: {err}")
check("chains' BFS" in err, f"verbose names the chains' BFS: {err}")

# A long repeated run is folded.
chain_nodes = [{"id": i, "type": "Node", "size": 1, "refs": [i + 1], "ref_names": ["'next'"]} for i in range(1, 1000)]
chain_nodes.append({"id": 1000, "type": "Node", "size": 1})
long = write_json("long.json", {"roots": [{"id": 1, "name": "head"}], "nodes": chain_nodes})
code, out, err = run("paths", long, "1000")
check("(x 997 more `Node` via 'next')" in out, f"folded chain: {out}")

finish()
