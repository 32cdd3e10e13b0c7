# Planted garbage: reference cycles through objects with __del__, dropped
# while the collector is off (a service that disabled or froze the gc):
# nothing reaches them, they wait for a collection that never comes.
import gc

gc.disable()


class Node:
    def __init__(self):
        self.other = None
        self.buffer = bytearray(200)

    def __del__(self):
        pass


for i in range(2000):
    a, b = Node(), Node()
    a.other, b.other = b, a
del a, b
