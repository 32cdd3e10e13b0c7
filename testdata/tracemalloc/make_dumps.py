"""Writes tracemalloc dumps with planted allocation patterns (run by any CPython 3.6+).

usage: python make_dumps.py OUTDIR

Writes into OUTDIR:
  main.pickle      nframe 25: several lines, recursion, a long filename, an
                   extra domain with a size above 2**31, a domain 2**32-1
  main2.pickle     the same program a little later (more, fewer, freed)
  nframe1.pickle   nframe 1
  empty.pickle     a snapshot with no traces
  one.pickle       a snapshot with one trace
  proto2.pickle / proto3.pickle  main's snapshot pickled with protocols 2 / 3
Every file is written by Snapshot.dump() (or pickle.dump for the protocol files).
"""
import ctypes
import os
import pickle
import sys
import tracemalloc

out = sys.argv[1]
keep = []


def track(domain, ptr, size):
    api = ctypes.pythonapi
    fn = getattr(api, "PyTraceMalloc_Track", None) or getattr(api, "_PyTraceMalloc_Track")
    fn.argtypes = [ctypes.c_uint, ctypes.c_size_t, ctypes.c_size_t]
    fn.restype = ctypes.c_int
    if fn(domain, ptr, size) != 0:
        raise SystemExit("PyTraceMalloc_Track failed")


def site_a(n):
    for i in range(n):
        keep.append(bytearray(64 + i % 7))


def site_b(n):
    for i in range(n):
        keep.append("b" * (200 + i))


def recurse(depth, n):
    if depth == 0:
        for i in range(n):
            keep.append([i] * 10)
        return
    recurse(depth - 1, n)


def site_equal(n):
    # Two lines with exactly the same size and count: Python breaks the tie
    # on the traceback.
    for i in range(n):
        keep.append(bytearray(1000)); keep.append(bytearray(1000))
    for i in range(n):
        keep.append(bytearray(1000))
    for i in range(n):
        keep.append(bytearray(1000))


LONG = os.path.join(out, "d" * 150, "long_" + "x" * 200 + "_\u00e9\u4e2d.py")
long_code = compile("def long_site(n):\n    for i in range(n):\n        keep.append(bytes(300 + i))\n",
                    LONG, "exec")
ns = {"keep": keep}
exec(long_code, ns)


def program(phase):
    site_a(300 if phase == 0 else 500)
    site_b(50)
    recurse(30, 20 if phase == 0 else 5)
    site_equal(7)
    ns["long_site"](10 if phase == 0 else 0)
    if phase == 0:
        track(389047, 0x10000, 2 ** 31 + 5)
        track(389047, 0x20000, 123)
        track(2 ** 32 - 1, 0x30000, 2 ** 33)
    else:
        track(389047, 0x40000, 4096)


tracemalloc.start(25)
program(0)
snap = tracemalloc.take_snapshot()
snap.dump(os.path.join(out, "main.pickle"))
with open(os.path.join(out, "proto2.pickle"), "wb") as fp:
    pickle.dump(snap, fp, 2)
with open(os.path.join(out, "proto3.pickle"), "wb") as fp:
    pickle.dump(snap, fp, 3)
del keep[: len(keep) // 3]
program(1)
tracemalloc.take_snapshot().dump(os.path.join(out, "main2.pickle"))
one = tracemalloc.Snapshot(snap.traces._traces[:1], snap.traceback_limit)
one.dump(os.path.join(out, "one.pickle"))
tracemalloc.Snapshot([], snap.traceback_limit).dump(os.path.join(out, "empty.pickle"))
tracemalloc.stop()

tracemalloc.start(1)
site_a(100)
recurse(5, 10)
tracemalloc.take_snapshot().dump(os.path.join(out, "nframe1.pickle"))
tracemalloc.stop()
