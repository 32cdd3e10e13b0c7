# Planted leak: a C-level reference (Py_IncRef through ctypes) is the only
# thing keeping a big list alive: the dump must root it as "external".
import ctypes


class Item:
    def __init__(self, i):
        self.blob = bytearray(300)


def build():
    items = [Item(i) for i in range(3000)]
    ctypes.pythonapi.Py_IncRef(ctypes.py_object(items))


build()
