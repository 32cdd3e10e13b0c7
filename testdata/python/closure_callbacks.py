# Planted leak: callbacks kept forever in a list that a closure holds.
class Payload:
    def __init__(self, i):
        self.data = bytearray(400)


def make_bus():
    callbacks = []

    def subscribe(callback):
        callbacks.append(callback)

    return subscribe


subscribe = make_bus()
for i in range(3000):
    payload = Payload(i)
    subscribe(lambda event, payload=payload: (event, payload))
del payload
