"""A Python process with planted leaks, for cores (tests/core/python_core_test.py).

    python3 py_leaks.py RECORD N

RECORD: where the project's dumper (python/heapscope_dump.py, found through
PYTHONPATH) writes a graph of the same process at the same point, so a test
can compare the core with it; "-" (or the dumper not on PYTHONPATH) for none.

- cache: module-level CACHE list and INDEX dict holding N Session objects
  (each Session in both: list item i and dict key 'sNNNN');
- cyclic garbage: with the gc disabled, N // 2 Orphan pairs that point at
  each other, dropped;
- reference-count leaks: N // 4 Leaked objects given one extra reference with
  ctypes Py_IncRef, then dropped (nothing in the heap references them);
- the same for objects the gc does not track, as a C extension leaks them:
  N // 4 each of str ("leaked-str-NNNNNN"), bytes (200 zero bytes) and
  float, and N // 100 ints of about 1 KiB (too big for pymalloc: glibc
  malloc serves them). No gc list holds them and nothing references them:
  only a scan of pymalloc's blocks and malloc's chunks finds them.
Prints "ready <pid>" and waits to be cored.
"""
import ctypes
import gc
import os
import sys
import time


class Session:
    def __init__(self, i):
        self.number = i
        self.payload = bytearray(64)


class Orphan:
    def __init__(self):
        self.partner = None


class Leaked:
    def __init__(self, i):
        self.number = i


RECORD = sys.argv[1] if len(sys.argv) > 1 else "-"
N = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
CACHE = []
INDEX = {}


def plant():
    for i in range(N):
        session = Session(i)
        CACHE.append(session)
        INDEX["s%04d" % i] = session
    gc.disable()
    for _ in range(N // 2):
        a, b = Orphan(), Orphan()
        a.partner, b.partner = b, a
    for i in range(N // 4):
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(Leaked(i)))
        ctypes.pythonapi.Py_IncRef(ctypes.py_object("leaked-str-%06d" % i))
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(bytes(200 + i % 2)))
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(i + 0.5))
    for i in range(N // 100):
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(1 << (8000 + i)))


plant()
if RECORD != "-":
    try:
        import heapscope_dump
    except ImportError:
        print("py_leaks: heapscope_dump is not on PYTHONPATH: no graph written", file=sys.stderr)
    else:
        heapscope_dump.dump(RECORD)
print("ready %d" % os.getpid(), flush=True)
time.sleep(600)
