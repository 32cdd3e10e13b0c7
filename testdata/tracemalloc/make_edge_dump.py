"""Writes tracemalloc dumps of chosen traces through Snapshot.dump() (CPython 3.6+).

usage: python make_edge_dump.py OUTDIR

edge.pickle / edge2.pickle hold traces picked to hit the corners of
Python's formatting and ordering: sizes at every _format_size unit boundary,
averages that round at .5, equal (size, count) pairs that only the traceback
breaks, filenames that sort by code point (non-ASCII, non-BMP), lineno 0 and
2**32-1, domain 2**32-1, total_nframe 65535, recursion, 25 frames, sizes
above 2**31 and up to 2**62. The tuples have the shape this CPython's C
code builds (4 items from 3.9 on, 3 before).
"""
import os
import sys
import tracemalloc

out = sys.argv[1]
four = sys.version_info >= (3, 9)


def trace(domain, size, frames, total=None):
    frames = tuple(frames)
    if four:
        return (domain, size, frames, total if total is not None else len(frames))
    return (domain, size, frames)


traces = []
KIB = 1024
boundaries = [0, 1, 99, 100, 101, 10 * KIB - 1, 10 * KIB, 10 * KIB + 1, 100 * KIB - 52, 100 * KIB - 51,
              100 * KIB - 1, 100 * KIB, 10 * KIB * KIB - 1, 10 * KIB * KIB, 100 * KIB * KIB - 1,
              99 * KIB ** 3 + 51 * KIB ** 2, 10 * KIB ** 4 - 1, 10 * KIB ** 4, 1000 * KIB ** 4 + 12345,
              2 ** 31, 2 ** 31 + 1, 2 ** 32 + 7, 2 ** 53 + 1, 2 ** 62]
for i, size in enumerate(boundaries):
    traces.append(trace(0, size, [("sizes.py", i + 1), ("main.py", 1)]))
# Averages: size / count with halves and long fractions.
for i, (size, count) in enumerate([(5, 2), (7, 2), (10 * KIB * 3 + 1, 3), (2 ** 61 + 3, 3), (1, 3), (205, 2)]):
    for k in range(count):
        part = size // count + (1 if k < size % count else 0)
        traces.append(trace(0, part, [("avg.py", i + 1), ("main.py", 2)]))
# Ties on (size, count): only the traceback orders them.
names = ["tie_b.py", "tie_a.py", "Tie.py", "tie_\u00e9.py", "tie_z.py", "tie_\U0001F600.py", "tie_\uffff.py", "t.py"]
for name in names:
    for lineno in (5, 2, 0, 2 ** 32 - 1):
        traces.append(trace(0, 4096, [(name, lineno), ("main.py", 3)]))
# Tracebacks that differ only in older frames (group_by traceback order).
for older in ("x.py", "a.py", "m.py"):
    for depth in (1, 2, 3):
        traces.append(trace(0, 777, [("same.py", 10)] + [(older, d) for d in range(depth)]))
# Recursion (the same frame many times), 25 frames, saturated total_nframe.
traces.append(trace(0, 3000, [("rec.py", 7)] * 20 + [("main.py", 4)] * 5, 65535))
traces.append(trace(0, 3000, [("rec.py", 7)] * 3, 3))
traces.append(trace(0, 3000, [("rec.py", 7)] * 3, 9))  # same frames, another total_nframe: one group
traces.append(trace(0, 1, [("deep.py", i) for i in range(25)], 400))
# Other domains.
traces.append(trace(2 ** 32 - 1, 2 ** 40, [("dom.py", 1)]))
traces.append(trace(389047, 123, [("dom.py", 2)]))
traces.append(trace(7, 0, [("<unknown>", 0)], 1))
tracemalloc.Snapshot(traces, 25).dump(os.path.join(out, "edge.pickle"))

# The "after" snapshot: some grown, some gone, some new, some equal.
after = []
for i, t in enumerate(traces):
    if i % 5 == 0:
        continue  # freed
    if i % 7 == 0:
        t = (t[0], t[1] * 2 + 1) + t[2:]
    after.append(t)
    if i % 3 == 0:
        after.append(t)
after.append(trace(0, 2 ** 34, [("new.py", 1), ("main.py", 9)]))
after.append(trace(0, 4096, [("tie_a.py", 3), ("main.py", 3)]))
tracemalloc.Snapshot(after, 25).dump(os.path.join(out, "edge2.pickle"))
