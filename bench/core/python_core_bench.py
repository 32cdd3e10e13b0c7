#!/usr/bin/env python3
"""Python-core bench (prints figures; not a test).

    python_core_bench.py HEAPSCOPE_BIN [N] [--python PYTHON]

Runs testdata/core/py_leaks.py with N sessions (default 300,000: about 1.7M
Python objects on 3.11, 0.7M of them gc-tracked) under PYTHON (default: the
newest pyenv 3.11), gcores it, and times `heapscope analyze` on the core:
wall time, peak RSS, and peak RSS beyond the core's own size per Python
object and per allocation (pymalloc blocks plus malloc chunks in use).
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.join(here, "..", "..")
parser = argparse.ArgumentParser()
parser.add_argument("heapscope")
parser.add_argument("n", nargs="?", type=int, default=300000)
parser.add_argument("--python", default=None)
parser.add_argument("--work", default="/tmp/heapscope-bench-pycore")
opts = parser.parse_args()
python = opts.python
if python is None:
    pyenv = subprocess.run(["pyenv", "root"], capture_output=True, text=True).stdout.strip() or os.path.expanduser("~/.pyenv")
    found = sorted(glob.glob(os.path.join(pyenv, "versions", "3.11.*", "bin", "python3")))
    if not found:
        sys.exit("no CPython 3.11 under pyenv: pass --python")
    python = found[-1]
made = subprocess.run([sys.executable, os.path.join(root, "testdata", "core", "make_core.py"), "--python", python,
                       "--timeout", "600", "--name", "bench-%d" % opts.n,
                       os.path.join(root, "testdata", "core", "py_leaks.py"), opts.work, str(opts.n)],
                      capture_output=True, text=True)
if made.returncode != 0:
    sys.exit("could not make the core: " + made.stderr)
core = made.stdout.strip()
start = time.perf_counter()
child = subprocess.Popen([opts.heapscope, "analyze", core, "-o", os.devnull])
_, status, usage = os.wait4(child.pid, 0)
seconds = time.perf_counter() - start
info = json.loads(subprocess.run([opts.heapscope, "info", core, "--format", "json"], capture_output=True,
                                 text=True).stdout)
objects = info["summary"]["objects"]
peak = usage.ru_maxrss * 1024
core_size = os.path.getsize(core)
# Allocations, the unit: pymalloc's used blocks plus glibc's in-use
# chunks (a Python object's item array or key table is an allocation of its
# own, so there are more allocations than objects).
meta = info["meta"]
allocations = int(meta.get("python.pymalloc_used_blocks", 0)) + int(meta.get("python.malloc_chunks", 0))
print("%s: %d Python objects (%s gc-tracked), %d allocations, core %.0f MB: analyze %.2f s, peak %.0f MB; "
      "beyond the core: %.0f bytes per object, %.0f per allocation" % (
          meta.get("producer"), objects, meta.get("python.gc_tracked_objects"), allocations, core_size / 1e6,
          seconds, peak / 1e6, (peak - core_size) / objects,
          (peak - core_size) / allocations if allocations else float("nan")))
