"""CLI behaviour on tracemalloc dumps: CSV, --top, --fail-on-growth, --python, option errors."""
import csv
import io
import json
import os
import sys

from tm_common import MINORS, WORK, fail, find_python, heapscope, make_dumps

minor = next((m for m in reversed(MINORS) if find_python(m)), None)
if minor is None:
    print("no pyenv CPython: skipped")
    sys.exit(77)
work = os.path.join(WORK, "tracemalloc-cli")
make_dumps(find_python(minor), work)
D = lambda name: os.path.join(work, name + ".pickle")


def run_json(*args):
    r = heapscope(*(list(args) + ["--format", "json"]))
    if r.returncode != 0:
        fail("%s: exit %d %r" % (args, r.returncode, r.stderr))
    return json.loads(r.stdout)


# CSV rows carry the JSON numbers; averages read back as the same double.
for kind, files in (("analyze", [D("main")]), ("diff", [D("main"), D("main2")])):
    for group in ("lineno", "traceback"):
        doc = run_json(kind, *files, "--top", "0", "--group-by", group)
        r = heapscope(kind, *files, "--top", "0", "--group-by", group, "--format", "csv")
        rows = list(csv.DictReader(io.StringIO(r.stdout.decode("utf-8"))))
        if len(rows) != len(doc["rows"]):
            fail("%s csv: %d rows, json %d" % (kind, len(rows), len(doc["rows"])))
        for row, want in zip(rows, doc["rows"]):
            fields = ["size", "count"] + (["size_diff", "count_diff"] if kind == "diff" else [])
            for f in fields:
                if int(row[f]) != want[f]:
                    fail("%s csv %s: %s vs %s" % (kind, f, row[f], want[f]))
            if (float(row["average"]) if row["average"] else None) != want["average"]:
                fail("%s csv average %r vs %r" % (kind, row["average"], want["average"]))
            if row["filename"] != want["frames"][0]["filename"] or int(row["lineno"]) != want["frames"][0]["lineno"]:
                fail(kind + " csv first frame")
            if row["frames"] != " | ".join("%s:%d" % (f["filename"], f["lineno"]) for f in want["frames"]):
                fail(kind + " csv frames")

# --top: the default is 20 rows, 0 is all, N is N.
full = run_json("analyze", D("main2"), "--top", "0", "--group-by", "traceback")
if full["entries"] <= 20 or len(full["rows"]) != full["entries"]:
    fail("--top 0 must give every row (%d of %d)" % (len(full["rows"]), full["entries"]))
if len(run_json("analyze", D("main2"), "--group-by", "traceback")["rows"]) != 20:
    fail("default --top is not 20")
if run_json("analyze", D("main2"), "--group-by", "traceback", "--top", "4")["rows"] != full["rows"][:4]:
    fail("--top 4 is not the first 4 rows")

# --fail-on-growth: exit 1 when the traced total grew past SIZE or PERCENT.
doc = run_json("diff", D("main"), D("main2"))
growth = doc["size_growth"]
before = doc["before_total"]["size"]
if growth <= 0:
    fail("the planted growth is not positive")
for threshold, code in [(str(growth - 1), 1), (str(growth), 0), ("%dB" % (growth + 1), 0),
                        ("%.6f%%" % (growth * 100.0 / before * 0.99), 1), ("%.6f%%" % (growth * 100.0 / before * 1.01), 0)]:
    r = heapscope("diff", D("main"), D("main2"), "--fail-on-growth", threshold)
    if r.returncode != code:
        fail("--fail-on-growth %s with growth %d: exit %d, expected %d" % (threshold, growth, r.returncode, code))
    if code == 1 and b"fail-on-growth" not in r.stderr:
        fail("a tripped gate must say so on stderr")
    j = heapscope("diff", D("main"), D("main2"), "--fail-on-growth", threshold, "--format", "json")
    if j.returncode != code or json.loads(j.stdout)["fail_on_growth"]["exceeded"] != (code == 1):
        fail("--fail-on-growth in JSON")
if heapscope("diff", D("main2"), D("main"), "--fail-on-growth", "0").returncode != 0:
    fail("shrinking must not trip the gate")
if heapscope("diff", D("main"), D("main2"), "--fail-on-growth", "lots").returncode != 2:
    fail("a bad threshold is a usage error")

# --python: 3.6's order changes traceback keys; a bad version is a usage error.
a = run_json("analyze", D("main"), "--group-by", "traceback", "--top", "0")
b = run_json("analyze", D("main"), "--group-by", "traceback", "--top", "0", "--python", "3.6")
if b["input"]["traceback_order"] != "most_recent_first" or a["input"]["traceback_order"] != "oldest_first":
    fail("--python 3.6 must select the most-recent-first order")
if [r["frames"] for r in a["rows"]] == [r["frames"] for r in b["rows"]]:
    fail("--python 3.6 did not change the traceback keys")
if sorted(json.dumps(list(reversed(r["frames"]))) for r in b["rows"]) != sorted(json.dumps(r["frames"]) for r in a["rows"]):
    fail("--python 3.6 keys are not the reversed 3.7+ keys")
for bad in ("2.7", "3", "python", "3.x"):
    r = heapscope("analyze", D("main"), "--python", bad)
    if r.returncode != 2:
        fail("--python %s: exit %d" % (bad, r.returncode))

# Option errors on a dump: exit 2, one line.
for args in (["--group-by", "traceback", "--cumulative"], ["--format", "jsonl"], ["--group-by", "function"],
             ["--domain", "x"]):
    r = heapscope("analyze", D("main"), *args)
    if r.returncode != 2:
        fail("%s: exit %d" % (args, r.returncode))
# Diffing a tracemalloc dump with a heap graph is refused.
graph = os.path.join(work, "g.json")
open(graph, "w").write('{"nodes":[{"id":1,"type":"A","size":10,"refs":[2]},{"id":2,"type":"B","size":5}],"roots":[1]}')
if heapscope("analyze", graph).returncode != 0:
    fail("the graph for the mixed diff is not valid")
r = heapscope("diff", D("main"), graph)
if r.returncode != 2 or b"same format" not in r.stderr:
    fail("diff of a dump with a graph: exit %d %r" % (r.returncode, r.stderr))
print("CLI behaviour on tracemalloc dumps: ok")
