"""tracemalloc bench: heapscope against Python on ~1M-trace dumps (prints figures; not a test).

usage: run_bench.py HEAPSCOPE_BIN [WORKDIR] [PHASES_BIN]

Writes WORKDIR/before.pickle and after.pickle with the newest pyenv CPython
(gen_big.py, ~1M traces, nframe 10) unless they exist, then times, best of 3:
  Python:    Snapshot.load(before) + statistics('lineno')
  heapscope: analyze before --group-by lineno
  Python:    load both + after.compare_to(before, 'lineno')
  heapscope: diff before after --group-by lineno
and reports heapscope's peak RSS and what it costs per trace.
"""
import glob
import os
import resource
import subprocess
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
heapscope = sys.argv[1]
work = sys.argv[2] if len(sys.argv) > 2 else "/tmp/heapscope-bench-tracemalloc"
phases = sys.argv[3] if len(sys.argv) > 3 else None
os.makedirs(work, exist_ok=True)

root = subprocess.run(["pyenv", "root"], capture_output=True, text=True).stdout.strip() or os.path.expanduser("~/.pyenv")
pythons = sorted(glob.glob(os.path.join(root, "versions", "3.1[0-9].*", "bin", "python3")),
                 key=lambda p: [int(x) for x in p.split("/")[-3].split(".")])
python = pythons[-1] if pythons else sys.executable
before = os.path.join(work, "before.pickle")
after = os.path.join(work, "after.pickle")
if not (os.path.exists(before) and os.path.exists(after)):
    print("generating dumps with", python)
    subprocess.run([python, os.path.join(here, "gen_big.py"), work], check=True)

count = subprocess.run([python, "-c", "import tracemalloc,sys; print(len(tracemalloc.Snapshot.load(sys.argv[1]).traces))", before],
                       capture_output=True, text=True, check=True).stdout.strip()
print("dumps: %s traces, %.1f MB / %.1f MB; Python side: %s" % (
    count, os.path.getsize(before) / 1e6, os.path.getsize(after) / 1e6, python))

PY_ANALYZE = ("import tracemalloc,time,sys; t=time.perf_counter(); s=tracemalloc.Snapshot.load(sys.argv[1]); "
              "st=s.statistics('lineno'); print(time.perf_counter()-t)")
PY_DIFF = ("import tracemalloc,time,sys; t=time.perf_counter(); a=tracemalloc.Snapshot.load(sys.argv[1]); "
           "b=tracemalloc.Snapshot.load(sys.argv[2]); d=b.compare_to(a,'lineno'); print(time.perf_counter()-t)")


def best(fn, n=3):
    return min(fn() for _ in range(n))


def timed(cmd):
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t


def python_time(code, *files):
    return float(subprocess.run([python, "-c", code] + list(files), capture_output=True, text=True, check=True).stdout)


py_a = best(lambda: python_time(PY_ANALYZE, before))
hs_a = best(lambda: timed([heapscope, "analyze", before, "--group-by", "lineno"]))
py_d = best(lambda: python_time(PY_DIFF, before, after))
hs_d = best(lambda: timed([heapscope, "diff", before, after, "--group-by", "lineno"]))
print("analyze --group-by lineno: Python load+statistics %.3f s, heapscope %.3f s (whole process): %.1fx" % (py_a, hs_a, py_a / hs_a))
print("diff (lineno):             Python load x2+compare_to %.3f s, heapscope %.3f s (whole process): %.1fx" % (py_d, hs_d, py_d / hs_d))


def peak_rss_kb(cmd):
    # A fresh process per measurement: ru_maxrss of children is the max over all.
    code = ("import resource,subprocess,sys; subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True); "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    return int(subprocess.run([sys.executable, "-c", code] + cmd, capture_output=True, text=True, check=True).stdout)


empty = os.path.join(work, "empty.pickle")
subprocess.run([python, "-c", "import tracemalloc,sys; tracemalloc.Snapshot([], 10).dump(sys.argv[1])", empty], check=True)
base = peak_rss_kb([heapscope, "analyze", empty])
rss = peak_rss_kb([heapscope, "analyze", before])
file_kb = os.path.getsize(before) / 1024
print("heapscope analyze peak RSS %.1f MB (empty dump: %.1f MB; the mapped file: %.1f MB): %.0f bytes per trace "
      "with the file, %.0f without" % (rss / 1024, base / 1024, file_kb / 1024, (rss - base) * 1024 / int(count),
                                       (rss - base - file_kb) * 1024 / int(count)))
if phases:
    print(subprocess.run([phases, before, after], capture_output=True, text=True, check=True).stdout.rstrip())
