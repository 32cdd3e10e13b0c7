# Planted leak: every instance registers itself in a class attribute.
class Plugin:
    registry = []

    def __init__(self, i):
        self.config = {"index": i, "blob": bytearray(300)}
        Plugin.registry.append(self)


for i in range(3000):
    Plugin(i)
