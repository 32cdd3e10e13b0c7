# Planted leak: an unbounded functools.lru_cache keeps every result.
import functools


class Record:
    def __init__(self, key):
        self.key = key
        self.body = bytearray(500)


@functools.lru_cache(maxsize=None)
def load(key):
    return Record(key)


for i in range(4000):
    load(i)
