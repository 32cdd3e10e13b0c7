"""The demo graph: the checked-in file is the generator's output, and analyze finds the planted leak."""
import os
import subprocess
import sys

from clitest import SOURCE_DIR, check, check_equal, finish, run, run_json, work_path

demo_dir = os.path.join(SOURCE_DIR, "testdata", "demo")
checked_in = os.path.join(demo_dir, "leaky-service.json.gz")
regenerated = work_path("demo", "leaky-service.json.gz")
subprocess.run([sys.executable, os.path.join(demo_dir, "make_demo_graph.py"), regenerated], check=True)
with open(checked_in, "rb") as a, open(regenerated, "rb") as b:
    check(a.read() == b.read(), "testdata/demo/leaky-service.json.gz is not make_demo_graph.py's output: regenerate it")

report = run_json("analyze", checked_in)
check_equal(report["summary"]["objects"], 13055, "objects")
check_equal(report["summary"]["dropped_dangling_refs"], 1, "the planted dangling reference")
suspect = report["suspects"][0]
check_equal(suspect["suspect"]["name"], "app.cache", "top suspect is module app.cache")
check_equal([s["edge"] for s in suspect["chain"]["steps"]], ["module app.cache", "__dict__", "'SESSIONS'"], "chain")
check_equal(suspect["accumulated"][0]["type"], "app.models.Session", "what accumulates")
check_equal(suspect["accumulated"][0]["count"], 2000, "how many")
# Each session retains 56 + 296 + 57 + 4129 + 24 = 4562 bytes.
check_equal(suspect["accumulated"][0]["retained_size"], 2000 * 4562, "their retained size")
check_equal(report["leaked"]["objects"], 4, "planted garbage")
code, text, err = run("analyze", checked_in)
check("holds 2,000 `app.models.Session` objects" in text, "text sentence")
finish()
