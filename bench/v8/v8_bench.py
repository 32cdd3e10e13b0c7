#!/usr/bin/env python3
"""V8 bench: heapscope against memlab on the same Node snapshots (prints figures; not a test).

usage: v8_bench.py HEAPSCOPE_BIN [--sizes 1000000,5000000,10000000] [--work DIR]
                   [--memlab DIR] [--runs N] [--memlab-runs N] [--compare-retained]

For each size, writes WORK/snap-SIZE.heapsnapshot with gen_snapshot.js (kept
between runs), then measures wall time and peak RSS (of that process alone,
from wait4) of:
  heapscope analyze FILE            (and its JSON parse speed, from -v)
  memlab analyze object-size --snapshot FILE
and prints the ratios. heapscope runs --runs times (default 3) and its
median time, parse speed and peak are printed, with the range of times: on
a shared 2-core machine one run can take twice another. memlab, 20 times
slower, runs --memlab-runs times (default 1): one memlab run at 5M nodes has
taken anywhere from 12.5 to 19.9 s here, which moves the speed ratio more
than anything heapscope does, so pass 3 for figures worth writing down; its
median and range are printed the same way. memlab is looked for in DIR/node_modules/.bin/memlab
(default: ./node_modules, then /tmp/memlab); install it with
  PUPPETEER_SKIP_DOWNLOAD=1 npm install memlab
The bench says so and skips memlab when it is absent.

--compare-retained also compares every node's self and retained size on the
smallest snapshot with memlab's API (memlab_retained.js) and prints where
they disagree (docs/v8.md explains the differences).
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def measure(cmd, env=None):
    """(seconds, peak RSS in MB, stdout+stderr text) of one child process."""
    start = time.perf_counter()
    child = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        tail = output.decode(errors="replace")[-600:]
        raise RuntimeError(f"{cmd[0]} exited {child.returncode}: {tail}")
    return seconds, usage.ru_maxrss / 1024, output.decode(errors="replace")


def generate(node, size, work):
    path = os.path.join(work, f"snap-{size}.heapsnapshot")
    if not os.path.exists(path):
        print(f"generating a {size:,}-node snapshot ...", flush=True)
        tmp = path + ".tmp"
        subprocess.run([node, "--max-old-space-size=16000", os.path.join(HERE, "gen_snapshot.js"), str(size), tmp],
                       check=True, stdout=subprocess.DEVNULL)
        os.rename(tmp, path)
    return path


def find_memlab(option):
    for base in [option, os.getcwd(), "/tmp/memlab"]:
        if base and os.path.exists(os.path.join(base, "node_modules", ".bin", "memlab")):
            return os.path.join(base, "node_modules")
    return None


def snapshot_counts(heapscope, path):
    info = json.loads(subprocess.run([heapscope, "info", path, "--format", "json"], capture_output=True,
                                     check=True).stdout)
    return info["summary"]["objects"], info["summary"]["edges"]


def compare_retained(heapscope, node, modules, path):
    env = dict(os.environ, NODE_PATH=modules)
    mem = subprocess.run([node, "--max-old-space-size=16000", os.path.join(HERE, "memlab_retained.js"), path],
                         capture_output=True, text=True, check=True, env=env).stdout
    ours = subprocess.run([heapscope, "dominators", path, "--format", "jsonl"], capture_output=True, text=True,
                          check=True).stdout
    theirs = {row["id"]: row for row in map(json.loads, mem.splitlines())}
    same_self = same_retained = same_both = 0
    for row in map(json.loads, ours.splitlines()):
        other = theirs.get(row["id"])
        if other is None:
            continue
        s = other["self"] == row["shallow_size"]
        r = other["retained"] == row["retained_size"]
        same_self += s
        same_retained += r
        same_both += s and r
    n = len(theirs)
    print(f"retained sizes vs memlab's API on {os.path.basename(path)} ({n:,} nodes): "
          f"self equal {same_self / n:.1%}, retained equal {same_retained / n:.1%} "
          f"(differences: docs/v8.md 'heapscope, DevTools and memlab')")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("heapscope")
    parser.add_argument("--sizes", default="1000000,5000000,10000000")
    parser.add_argument("--work", default="/tmp/heapscope-bench-v8")
    parser.add_argument("--memlab", default=None, help="directory holding node_modules/.bin/memlab")
    parser.add_argument("--runs", type=int, default=3, help="heapscope runs per size (the median is printed)")
    parser.add_argument("--memlab-runs", type=int, default=1, help="memlab runs per size (the median is printed)")
    parser.add_argument("--compare-retained", action="store_true")
    args = parser.parse_args()
    node = shutil.which("node")
    if node is None:
        print("skipped: node is not on PATH")
        return
    os.makedirs(args.work, exist_ok=True)
    modules = find_memlab(args.memlab)
    if modules is None:
        print("memlab not found: only heapscope is measured "
              "(PUPPETEER_SKIP_DOWNLOAD=1 npm install memlab, then --memlab DIR)")
    sizes = [int(s) for s in args.sizes.split(",")]
    rows = []
    for size in sizes:
        path = generate(node, size, args.work)
        mb = os.path.getsize(path) / 1e6
        nodes, edges = snapshot_counts(args.heapscope, path)
        times, peaks, speeds = [], [], []
        for _ in range(max(1, args.runs)):
            seconds, peak, verbose = measure([args.heapscope, "-v", "analyze", path, "-o", os.devnull])
            speed = re.search(r"v8: parsed \d+ bytes in \d+ ms \((\d+) MB/s\)", verbose)
            times.append(seconds)
            peaks.append(peak)
            if speed:
                speeds.append(int(speed.group(1)))
        row = {"nodes": nodes, "edges": edges, "mb": mb, "hs_time": statistics.median(times),
               "hs_range": (min(times), max(times)), "hs_rss": statistics.median(peaks),
               "parse": int(statistics.median(speeds)) if speeds else None}
        if modules:
            memlab = os.path.join(modules, ".bin", "memlab")
            try:
                ml_times, ml_peaks = [], []
                for _ in range(max(1, args.memlab_runs)):
                    ml_time, ml_rss, _ = measure([memlab, "analyze", "object-size", "--snapshot", path])
                    ml_times.append(ml_time)
                    ml_peaks.append(ml_rss)
                row.update(ml_time=statistics.median(ml_times), ml_range=(min(ml_times), max(ml_times)),
                           ml_rss=statistics.median(ml_peaks))
            except RuntimeError as error:
                row.update(ml_error=str(error).splitlines()[0][:80])
        rows.append(row)
        print_row(row, flush=True)
    if args.compare_retained and modules:
        compare_retained(args.heapscope, node, modules, generate(node, sizes[0], args.work))


def print_row(r, flush=False):
    line = (f"{r['nodes']:>11,} nodes {r['edges']:>11,} edges {r['mb']:7.0f} MB | heapscope analyze "
            f"{r['hs_time']:6.2f} s ({r['hs_range'][0]:.2f}-{r['hs_range'][1]:.2f}) {r['hs_rss']:7.0f} MB peak, "
            f"parse {r['parse']} MB/s")
    if "ml_time" in r:
        spread = f" ({r['ml_range'][0]:.1f}-{r['ml_range'][1]:.1f})" if r["ml_range"][0] != r["ml_range"][1] else ""
        line += (f" | memlab object-size {r['ml_time']:6.1f} s{spread} {r['ml_rss']:6.0f} MB peak"
                 f" | {r['ml_time'] / r['hs_time']:.0f}x faster, {r['ml_rss'] / r['hs_rss']:.1f}x less memory")
    elif "ml_error" in r:
        line += f" | memlab failed: {r['ml_error']}"
    print(line, flush=flush)


if __name__ == "__main__":
    main()
