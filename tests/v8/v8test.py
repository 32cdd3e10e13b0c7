"""Helpers for the V8 script tests: write real snapshots with Node, run the
oracle. Reuses tests/cli/clitest.py for running heapscope and checking."""
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli"))
from clitest import SOURCE_DIR, WORK_DIR, check, check_equal, failures, finish, run, run_json  # noqa: E402,F401

LEAKS_JS = os.path.join(SOURCE_DIR, "testdata", "v8", "leaks.js")
ORACLE = os.path.join(SOURCE_DIR, "testdata", "v8", "devtools_oracle.py")
SCENARIOS = ["map", "closure", "listeners", "weakmap", "orphans"]


def require_node():
    node = shutil.which("node")
    if node is None:
        print("skipped: node is not on PATH")
        sys.exit(77)
    return node


def scratch(test, name):
    """A path in this test's own scratch directory (tests may run in parallel)."""
    directory = os.path.join(WORK_DIR, "v8", test)
    os.makedirs(directory, exist_ok=True)
    return os.path.join(directory, name)


def snapshot(test, scenario, count=None):
    """Write a snapshot of SCENARIO with Node; for 'series' return the three files."""
    node = require_node()
    out = scratch(test, scenario if scenario == "series" else f"{scenario}.heapsnapshot")
    args = [node, LEAKS_JS, scenario, out] + ([str(count)] if count is not None else [])
    subprocess.run(args, check=True, timeout=120)
    if scenario == "series":
        return [f"{out}-{step}.heapsnapshot" for step in (1, 2, 3)]
    return out


def oracle(path):
    """(summary, {id: {"id","type","name","self","retained","idom"}}) from the oracle."""
    result = subprocess.run([sys.executable, ORACLE, path], capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        raise RuntimeError(f"oracle failed on {path}: {result.stderr}")
    lines = result.stdout.splitlines()
    summary = json.loads(lines[0])["summary"]
    rows = {}
    for line in lines[1:]:
        row = json.loads(line)
        rows[row["id"]] = row
    return summary, rows


def dominators(path):
    """{id: row} from `heapscope dominators FILE --format jsonl`."""
    code, out, err = run("dominators", path, "--format", "jsonl")
    check_equal(code, 0, f"dominators {path}: exit code (stderr {err!r})")
    rows = {}
    for line in out.splitlines():
        row = json.loads(line)
        rows[row["id"]] = row
    return rows
