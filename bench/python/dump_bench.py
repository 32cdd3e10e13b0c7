"""Dumper throughput: builds a process of about N objects (default 1M),
dumps it, prints objects/s, seconds and the dump's size.

    python3 bench/python/dump_bench.py [N] [OUT]
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
import heapscope_dump  # noqa: E402


class Row:
    def __init__(self, i):
        self.key = "k%d" % i
        self.value = i * 1.5


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000000
    out = sys.argv[2] if len(sys.argv) > 2 else "/tmp/heapscope-dump-bench.json"
    # About 4 objects per row (instance, its key str, its float, the list slot's
    # neighbours are shared): n // 4 rows make about n objects.
    table = {i: Row(i) for i in range(n // 4)}
    start = time.perf_counter()
    count = heapscope_dump.dump(out)
    seconds = time.perf_counter() - start
    print("python %s: %d objects in %.2f s = %.0f objects/s, %.1f MB written to %s"
          % (sys.version.split()[0], count, seconds, count / seconds, os.path.getsize(out) / 1e6, out))
    del table


if __name__ == "__main__":
    main()
