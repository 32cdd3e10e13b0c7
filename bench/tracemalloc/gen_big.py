"""Writes two big tracemalloc dumps for the bench (any CPython 3.8+).

usage: python gen_big.py OUTDIR [TRACES]   (default 1,000,000 traces, nframe 10)

before.pickle holds about TRACES live blocks allocated from ~40 lines at
varied call depths (a few thousand distinct tracebacks); after.pickle is the
same process later with ~10% more and some freed.
"""
import os
import sys
import tracemalloc

out = sys.argv[1]
total = int(sys.argv[2]) if len(sys.argv) > 2 else 660_000
keep = []


def leaf(kind, n):
    if kind == 0:
        for i in range(n): keep.append(bytearray(8 + i % 50))
    elif kind == 1:
        for i in range(n): keep.append([i])
    elif kind == 2:
        for i in range(n): keep.append(str(i) * 3)
    else:
        for i in range(n): keep.append((i, n, kind))


# 16 relay functions spread over 4 files: each call path is a distinct
# traceback, and a few thousand paths are used (as in a real program).
F = []
for k in range(16):
    src = "\n" * k + "def f(path, kind, n):\n    if not path:\n        return leaf(kind, n)\n    return F[path[0]](path[1:], kind, n)\n"
    ns = {"leaf": leaf, "F": F}
    exec(compile(src, os.path.join(out, "relay_%d.py" % (k % 4)), "exec"), ns)
    F.append(ns["f"])


def run(budget):
    done = 0
    step = 0
    while done < budget:
        n = 20 + step % 100
        s = step % 4800
        path = tuple(((s * 7919) >> (4 * i)) % 16 for i in range(s % 8))
        F[s % 16](path, step % 4, n)
        done += n
        step += 1


tracemalloc.start(10)
run(total)
tracemalloc.take_snapshot().dump(os.path.join(out, "before.pickle"))
del keep[: len(keep) // 20]
run(total // 10)
tracemalloc.take_snapshot().dump(os.path.join(out, "after.pickle"))
