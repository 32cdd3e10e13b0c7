# Planted: a running function's local variable holds the growth when the
# dump is taken (usage: frame_local.py OUT).
import sys

import heapscope_dump


class Job:
    def __init__(self, i):
        self.data = bytearray(256)


def handle(out):
    pending = [Job(i) for i in range(2500)]
    heapscope_dump.dump(out)
    return len(pending)


handle(sys.argv[1])
