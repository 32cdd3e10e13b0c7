"""heapscope analyze/diff on tracemalloc dumps against Python's own answers.

usage: test_oracle.py MINOR   (3.MINOR must be a pyenv CPython, else skipped)

Dumps with planted patterns are written by that CPython at test time
(testdata/tracemalloc/make_dumps.py); the same CPython computes
statistics()/compare_to() (testdata/tracemalloc/oracle.py); heapscope's
text lines must be byte-identical and its JSON numbers equal.
"""
import json
import os
import subprocess
import sys

from tm_common import TESTDATA, WORK, fail, find_python, heapscope, make_dumps

minor = int(sys.argv[1])
python = find_python(minor)
if python is None:
    print("CPython 3.%d not installed under pyenv: skipped" % minor)
    sys.exit(77)

work = os.path.join(WORK, "tracemalloc-oracle-3.%d" % minor)
make_dumps(python, work)
subprocess.run([python, os.path.join(TESTDATA, "make_edge_dump.py"), work], check=True)
D = lambda name: os.path.join(work, name + ".pickle")

GROUPS = [("lineno", False), ("lineno", True), ("filename", False), ("filename", True), ("traceback", False)]
FILTERS = [
    {"include": ["*make_dumps.py"]},
    {"exclude": ["*long_*"]},
    {"include": ["*long_*"], "all_frames": True},
    {"exclude": ["*make_dumps.py"], "all_frames": True},
    {"include": ["*.pyc"]},
    {"include": ["*[!x]umps.py", "*tracemalloc*"], "exclude": ["*[a-c]*.py"]},
    {"domains": [389047]},
    {"exclude_domains": [0]},
    {"domains": [0, 4294967295]},
    {"domains": [389047, 0], "include": ["*make_dumps*"], "exclude": ["*long*"]},
]

cases = []
for name in ["main", "main2", "nframe1", "empty", "one", "proto2", "proto3", "edge", "edge2"]:
    for gb, cum in GROUPS:
        cases.append({"kind": "analyze", "files": [D(name)], "group_by": gb, "cumulative": cum})
for flt in FILTERS:
    for gb, cum in [("lineno", False), ("traceback", False), ("filename", True)]:
        cases.append(dict(flt, kind="analyze", files=[D("main2")], group_by=gb, cumulative=cum))
cases.append({"kind": "analyze", "files": [D("main")], "group_by": "traceback", "cumulative": True})
# fnmatch corners on the edge dump's filenames.
PATTERNS = ["tie_?.py", "tie_[a-c].py", "tie_[!a-c].py", "[!t]*", "*[z-a]*", "[]]*", "*[!]*", "tie_[\u00e0-\u00ff].py",
            "*\U0001F600*", "tie_[a-]*", "tie_[-z]*", "[a-c-e]*", "T*", "*.py", "?", "*<*>", "tie_[]-a]*",
            "[[]*", "*[*", "tie_*.pyc", "main.py"]
for pattern in PATTERNS:
    cases.append({"kind": "analyze", "files": [D("edge")], "group_by": "lineno", "cumulative": False,
                  "include": [pattern]})
    cases.append({"kind": "analyze", "files": [D("edge")], "group_by": "lineno", "cumulative": False,
                  "exclude": [pattern], "all_frames": True})
for before, after in [("edge", "edge2"), ("edge2", "edge"), ("main", "main2"), ("main2", "main"), ("empty", "one"), ("one", "empty"), ("nframe1", "main")]:
    for gb, cum in GROUPS:
        cases.append({"kind": "diff", "files": [D(before), D(after)], "group_by": gb, "cumulative": cum})
for flt in FILTERS[:4] + FILTERS[6:]:
    cases.append(dict(flt, kind="diff", files=[D("main"), D("main2")], group_by="lineno", cumulative=False))

cases_path = os.path.join(work, "cases.json")
answers_path = os.path.join(work, "answers.json")
json.dump(cases, open(cases_path, "w"))
subprocess.run([python, os.path.join(TESTDATA, "oracle.py"), cases_path, answers_path], check=True)
answers = json.load(open(answers_path))

version_args = ["--python", "3.6"] if minor == 6 else []
checked = 0
for case, answer in zip(cases, answers):
    args = [case["kind"]] + case["files"] + ["--top", "0", "--group-by", case["group_by"]] + version_args
    if case["cumulative"]:
        args.append("--cumulative")
    for p in case.get("include", []):
        args += ["--include", p]
    for p in case.get("exclude", []):
        args += ["--exclude", p]
    if case.get("all_frames"):
        args.append("--all-frames")
    for d in case.get("domains", []):
        args += ["--domain", d]
    for d in case.get("exclude_domains", []):
        args += ["--exclude-domain", d]
    text = heapscope(*args)
    where = " ".join(str(a) for a in args)
    if "error" in answer and "bad character range" in answer["error"] and minor < 10:
        # CPython < 3.10 cannot compile such a pattern; heapscope follows
        # 3.10+ (docs/tracemalloc.md, "Filters").
        continue
    if "error" in answer:
        if text.returncode != 2 or len(text.stderr.decode().strip().splitlines()) != 1:
            fail("%s: Python refuses (%s) but heapscope exit %d: %r" % (where, answer["error"], text.returncode, text.stderr))
        checked += 1
        continue
    if text.returncode != 0:
        fail("%s: exit %d: %s" % (where, text.returncode, text.stderr.decode()))
    lines = text.stdout.decode("utf-8").split("\n")
    if lines[-1] != "":
        fail(where + ": text does not end with a newline")
    got = lines[1:-1]
    if got != answer["lines"]:
        for k, (g, w) in enumerate(zip(got + ["<none>"] * 9999, answer["lines"] + ["<none>"] * 9999)):
            if g != w:
                fail("%s: text line %d differs:\n  heapscope: %s\n  python:    %s" % (where, k, g, w))
    js = heapscope(*(args + ["--format", "json"]))
    if js.returncode != 0:
        fail("%s --format json: exit %d: %s" % (where, js.returncode, js.stderr.decode()))
    doc = json.loads(js.stdout)
    keys = ["frames", "size", "count", "average"] + (["size_diff", "count_diff"] if case["kind"] == "diff" else [])
    got_rows = [{k: r[k] for k in keys} for r in doc["rows"]]
    want_rows = [{k: r[k] for k in keys} for r in answer["rows"]]
    if got_rows != want_rows:
        for k, (g, w) in enumerate(zip(got_rows, want_rows)):
            if g != w:
                fail("%s: JSON row %d differs:\n  heapscope: %s\n  python:    %s" % (where, k, g, w))
        fail("%s: JSON has %d rows, Python %d" % (where, len(got_rows), len(want_rows)))
    if doc["entries"] != len(want_rows):
        fail(where + ": entries")
    if [r["text"] for r in doc["rows"]] != answer["lines"]:
        fail(where + ": JSON text fields")
    if case["kind"] == "analyze":
        if doc["total"] != answer["total"]:
            fail("%s: total %s, Python %s" % (where, doc["total"], answer["total"]))
    else:
        if doc["before_total"] != answer["before_total"] or doc["after_total"] != answer["after_total"]:
            fail(where + ": totals differ")
        if doc["size_growth"] != answer["after_total"]["size"] - answer["before_total"]["size"]:
            fail(where + ": size_growth")
    checked += 1

# --top N is Python's first N rows.
top = heapscope("analyze", D("main"), "--top", "3", *version_args)
if top.stdout.decode().split("\n")[1:-1] != answers[0]["lines"][:3]:
    fail("--top 3 is not Python's first 3 rows")

# What the dump says about its CPython (docs/tracemalloc.md, "Which CPython").
expect = {6: "3.6 or 3.7", 7: "3.6 or 3.7", 8: "3.8"}.get(minor, "3.9+")
for name in ["main", "one", "proto2"]:
    doc = json.loads(heapscope("analyze", D(name), "--format", "json").stdout)
    want = expect if name != "proto2" else ("3.9+" if minor >= 9 else "3.6..3.8")
    if doc["input"]["python"] != want:
        fail("%s: detected CPython %r, expected %r" % (name, doc["input"]["python"], want))
    if doc["input"]["traceback_limit"] != 25:
        fail("traceback_limit")

print("CPython 3.%d: %d cases agree with Python" % (minor, checked))
