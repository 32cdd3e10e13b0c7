# A "service" that installs the dumper's signal handler and is sent the
# signal: usage: signal_dump.py OUTDIR  (writes OUTDIR/heap-{pid}-{time}.json.gz)
import os
import signal
import sys

import heapscope_dump


class Job:
    def __init__(self, i):
        self.data = bytearray(256)


QUEUE = [Job(i) for i in range(2500)]
heapscope_dump.install_signal_handler(signal.SIGUSR2, os.path.join(sys.argv[1], "heap-{pid}-{time}.json.gz"))
os.kill(os.getpid(), signal.SIGUSR2)
print(os.getpid())
