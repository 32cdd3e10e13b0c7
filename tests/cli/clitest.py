"""Helpers for the CLI script tests: run heapscope, check results, fail loudly.

Environment (set by tests/CMakeLists.txt): HEAPSCOPE_BIN, HEAPSCOPE_SOURCE_DIR,
HEAPSCOPE_WORK_DIR.
"""
import json
import os
import subprocess
import sys

BIN = os.environ["HEAPSCOPE_BIN"]
SOURCE_DIR = os.environ["HEAPSCOPE_SOURCE_DIR"]
WORK_DIR = os.environ["HEAPSCOPE_WORK_DIR"]
failures = []


def work_path(*parts):
    path = os.path.join(WORK_DIR, *parts)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    return path


def write_json(name, document):
    path = work_path("cli", name)
    with open(path, "w") as f:
        json.dump(document, f)
    return path


def write_text(name, text):
    path = work_path("cli", name)
    with open(path, "wb") as f:
        f.write(text if isinstance(text, bytes) else text.encode())
    return path


def run(*args, stdin=None, timeout=300):
    result = subprocess.run([BIN, *args], input=stdin, capture_output=True, timeout=timeout)
    return result.returncode, result.stdout.decode(errors="replace"), result.stderr.decode(errors="replace")


def run_json(*args):
    code, out, err = run(*args, "--format", "json")
    check(code == 0, f"{args}: exit {code}, stderr: {err}")
    return json.loads(out) if code == 0 else {}


def check(condition, message):
    if not condition:
        failures.append(message)
        print("FAIL:", message, file=sys.stderr)


def check_equal(actual, expected, what):
    check(actual == expected, f"{what}: got {actual!r}, expected {expected!r}")


def finish():
    if failures:
        print(f"{len(failures)} check(s) failed", file=sys.stderr)
        sys.exit(1)
    print("ok")
