# Planted leak: a module-level cache dict that only grows.
class Session:
    def __init__(self, i):
        self.user = "user-%d" % i
        self.payload = bytearray(256)


SESSIONS = {}
for i in range(5000):
    SESSIONS["s%05d" % i] = Session(i)
