#!/usr/bin/env python3
"""Writes the demo heap graph: a small web service's heap with a planted leak.

The shape is what the Python dumper writes for such a service: modules with
their dicts, a request handler's frame, a few caches. The leak: module
`app.cache` keeps every Session in the dict SESSIONS and never evicts them;
each Session holds its attribute dict, a user name and a 4 KiB payload. A
reference cycle nobody holds (garbage) and a few dangling references are
planted too, so every section of `heapscope analyze` has something to show.

Deterministic: the same arguments give the same bytes (the checked-in
testdata/demo/leaky-service.json.gz is this script's output, and a test checks
that). Usage: make_demo_graph.py [--sessions N] OUT.json[.gz]
"""
import argparse
import gzip
import json
import random

SESSIONS_DEFAULT = 2000


class Graph:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.nodes = []
        self.next_id = 0x7F3A00000000

    def add(self, type_, size, name=None):
        # Ids look like addresses: increasing with random gaps.
        self.next_id += 16 * self.rng.randint(2, 40)
        node = {"id": self.next_id, "type": type_, "size": size}
        if name:
            node["name"] = name
        self.nodes.append(node)
        return node

    @staticmethod
    def ref(source, target, name=None):
        source.setdefault("refs", []).append(target["id"])
        if name is not None:
            source.setdefault("ref_names", []).append(name)


def build(sessions):
    g = Graph(seed=42)
    roots = []

    def module(name, attributes):
        mod = g.add("module", 72, name)
        mod_dict = g.add("dict", 1184)
        g.ref(mod, mod_dict, "__dict__")
        for key, target in attributes:
            g.ref(mod_dict, target, repr(key))
        roots.append({"id": mod["id"], "name": "module " + name, "kind": "module"})
        return mod_dict

    # app.cache: the leak.
    sessions_dict = g.add("dict", 36960 + 24 * sessions)
    for i in range(sessions):
        session = g.add("app.models.Session", 56)
        attrs = g.add("dict", 296)
        user = g.add("str", 57, "'user%05d'" % i)
        payload = g.add("bytes", 4129)
        created = g.add("float", 24)
        g.ref(session, attrs, "__dict__")
        g.ref(attrs, user, "'user'")
        g.ref(attrs, payload, "'payload'")
        g.ref(attrs, created, "'created'")
        key = g.add("str", 65, "'sess-%06x'" % (i * 7919))
        g.ref(sessions_dict, key, "key")
        g.ref(sessions_dict, session, "'sess-%06x'" % (i * 7919))
    module("app.cache", [("SESSIONS", sessions_dict)])

    # app.config: a modest, legitimate structure.
    settings = g.add("dict", 4696)
    for i in range(40):
        g.ref(settings, g.add("str", 60, "'value%d'" % i), "'option%d'" % i)
    module("app.config", [("SETTINGS", settings)])

    # app.web: a handler frame with locals, and a request log list.
    log = g.add("list", 8056)
    for i in range(1000):
        g.ref(log, g.add("str", 90, "'GET /item/%d'" % i), "[%d]" % i)
    module("app.web", [("REQUEST_LOG", log)])
    frame = g.add("frame", 480, "handle()")
    request = g.add("app.web.Request", 56)
    g.ref(frame, request, "request")
    roots.append({"id": frame["id"], "name": "thread MainThread frame handle() at app/web.py:42", "kind": "frame"})

    # Garbage: a cycle of two objects no root reaches, and one with an
    # unreferenced head.
    a = g.add("app.models.Node", 56)
    b = g.add("app.models.Node", 56)
    g.ref(a, b, "next")
    g.ref(b, a, "prev")
    orphan = g.add("app.models.Report", 56)
    g.ref(orphan, g.add("bytes", 10033), "data")

    # A reference to something the dump never saw (dropped and counted).
    g.ref(request, {"id": 0x10}, "socket")

    return {
        "format": "heapscope-graph",
        "version": 1,
        "meta": {"producer": "testdata/demo/make_demo_graph.py", "scenario": "session cache never evicts"},
        "roots": roots,
        "nodes": g.nodes,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=SESSIONS_DEFAULT)
    parser.add_argument("out")
    args = parser.parse_args()
    text = json.dumps(build(args.sessions), separators=(",", ":")) + "\n"
    data = text.encode()
    if args.out.endswith(".gz"):
        data = gzip.compress(data, mtime=0)  # mtime 0: reproducible bytes
    with open(args.out, "wb") as f:
        f.write(data)


if __name__ == "__main__":
    main()
