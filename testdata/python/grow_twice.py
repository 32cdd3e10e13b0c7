# One process dumped twice: a cache that grows between the two dumps, and a
# temporary spike that is gone by the second. Usage: grow_twice.py BEFORE AFTER
import sys

import heapscope_dump


class Session:
    def __init__(self, i):
        self.user = "user-%d" % i
        self.payload = bytearray(256)


SESSIONS = {}


def serve(first, count):
    for i in range(first, first + count):
        SESSIONS["s%05d" % i] = Session(i)


serve(0, 1000)
heapscope_dump.dump(sys.argv[1])
spike = [bytearray(1000) for _ in range(500)]
serve(1000, 2000)
del spike
heapscope_dump.dump(sys.argv[2])
