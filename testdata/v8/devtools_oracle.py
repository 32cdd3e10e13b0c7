#!/usr/bin/env python3
"""A slow, independent model of Chrome DevTools' retained sizes for a V8
.heapsnapshot, used as the test oracle for heapscope's v8-heapsnapshot reader.

It follows the rules as written in docs/v8.md (and DevTools' heap snapshot
worker), one obvious step at a time, and shares no code or data structure
with the C++ reader:

1. Shallow sizes: a `hidden` or `array` node reachable (over non-weak edges,
   through other hidden/array nodes only) from exactly one other node gives
   its self size to that owner, unless the owner is synthetic or the root.
   Skipped when the root has no edge to a non-synthetic node.
2. Page-owned nodes: everything reachable over non-weak edges from the
   root's `shortcut` targets and its `(Document DOM trees)` element targets.
3. Essential (retaining) edges: not weak; not a self edge; not the WeakMap
   table's ephemeron edge (`... pair in WeakMap (table @T)` leaving node T);
   away from the root, not a shortcut and not an edge from a non-page-owned
   node into a page-owned one.
4. Reachability from the root over essential edges; then every unreached
   node without essential retainers (an orphan) gets a virtual edge from the
   root, in node order; whatever is still unreached (cliques) hangs directly
   under the root.
5. Dominators by the iterative Cooper-Harvey-Kennedy algorithm, then
   retained sizes by summing up the dominator tree.

Usage: devtools_oracle.py SNAPSHOT  -> JSON lines {"id","self","retained","idom"}
on stdout, and one summary line {"summary": {...}} first.
"""
import json
import re
import sys

EPHEMERON = re.compile(
    r'^\d+(?P<dup> / part of key \(.*? @\d+\) -> value \(.*? @\d+\) pair in WeakMap \(table @(?P<table>\d+)\))$')


class Snapshot:
    def __init__(self, doc):
        meta = doc['snapshot']['meta']
        nf = meta['node_fields']
        ef = meta['edge_fields']
        self.nfc = len(nf)
        self.efc = len(ef)
        self.n_type = nf.index('type')
        self.n_name = nf.index('name')
        self.n_id = nf.index('id')
        self.n_size = nf.index('self_size')
        self.n_edges = nf.index('edge_count')
        self.e_type = ef.index('type')
        self.e_name = ef.index('name_or_index')
        self.e_to = ef.index('to_node')
        self.node_types = meta['node_types'][self.n_type]
        self.edge_types = meta['edge_types'][self.e_type]
        self.strings = doc['strings']
        nodes = doc['nodes']
        edges = doc['edges']
        self.count = len(nodes) // self.nfc
        n = self.count
        self.type = [self.node_types[nodes[i * self.nfc + self.n_type]] for i in range(n)]
        self.name = [self.strings[nodes[i * self.nfc + self.n_name]] for i in range(n)]
        self.id = [nodes[i * self.nfc + self.n_id] for i in range(n)]
        self.size = [nodes[i * self.nfc + self.n_size] for i in range(n)]
        self.root = doc['snapshot'].get('root_index', 0) // self.nfc
        # Out-edges per node as (type name, name, target ordinal) tuples.
        self.out = []
        pos = 0
        for i in range(n):
            count = nodes[i * self.nfc + self.n_edges]
            lst = []
            for e in range(pos, pos + count):
                base = e * self.efc
                t = self.edge_types[edges[base + self.e_type]]
                raw = edges[base + self.e_name]
                name = raw if t in ('element', 'hidden') else self.strings[raw]
                lst.append((t, name, edges[base + self.e_to] // self.nfc))
            self.out.append(lst)
            pos += count


def transfer_shallow_sizes(s):
    size = list(s.size)
    has_user_roots = any(s.type[t] != 'synthetic' for (_, _, t) in s.out[s.root])
    if not has_user_roots:
        return size
    UNVISITED, MULTIPLE = -1, -2
    owner = [UNVISITED] * s.count
    work = []
    for i in range(s.count):
        if s.type[i] not in ('hidden', 'array'):
            owner[i] = i
            work.append(i)
    while work:
        src = work.pop()
        o = owner[src]
        for (t, _, dst) in s.out[src]:
            if t == 'weak':
                continue
            cur = owner[dst]
            if cur == UNVISITED:
                owner[dst] = o
                work.append(dst)
            elif cur == dst or cur == o or cur == MULTIPLE:
                pass
            else:
                owner[dst] = MULTIPLE
                work.append(dst)
    for i in range(s.count):
        o = owner[i]
        if o in (UNVISITED, MULTIPLE) or o == i:
            continue
        if s.type[o] == 'synthetic' or o == s.root:
            continue
        size[o] += size[i]
        size[i] = 0
    return size


def page_owned(s):
    flag = [False] * s.count
    stack = []
    for (t, _, dst) in s.out[s.root]:
        entry = t == 'shortcut' or (t == 'element' and s.type[dst] == 'synthetic'
                                    and s.name[dst] == '(Document DOM trees)')
        if entry:
            flag[dst] = True
            stack.append(dst)
    while stack:
        src = stack.pop()
        for (t, _, dst) in s.out[src]:
            if t == 'weak' or flag[dst]:
                continue
            flag[dst] = True
            stack.append(dst)
    return flag


def essential_edges(s, flag):
    """Per node, the list of targets over essential edges (duplicates kept)."""
    result = []
    for src in range(s.count):
        lst = []
        for (t, name, dst) in s.out[src]:
            if t == 'internal':
                m = EPHEMERON.match(name)
                if m and int(m.group('table')) == s.id[src]:
                    continue
            if t == 'weak' or dst == src:
                continue
            if src != s.root:
                if t == 'shortcut':
                    continue
                if flag[dst] and not flag[src]:
                    continue
            lst.append(dst)
        result.append(lst)
    return result


def reach(start, succ, seen):
    stack = [start]
    seen[start] = True
    while stack:
        v = stack.pop()
        for w in succ[v]:
            if not seen[w]:
                seen[w] = True
                stack.append(w)


def dominators(s, succ):
    n = s.count
    r = s.root
    has_retainer = [False] * n
    for v in range(n):
        for w in succ[v]:
            has_retainer[w] = True
    seen = [False] * n
    reach(r, succ, seen)
    orphans = []
    for v in range(n):
        if not seen[v] and not has_retainer[v]:
            orphans.append(v)
            reach(v, succ, seen)
    cliques = [v for v in range(n) if not seen[v]]
    in_flow = seen  # the flowgraph: everything but the cliques

    # The flowgraph's successor lists: essential edges among flowgraph
    # nodes, plus the root's virtual edges to the orphans.
    flow_succ = [[w for w in succ[v] if in_flow[w]] if in_flow[v] else [] for v in range(n)]
    flow_succ[r] = flow_succ[r] + orphans
    preds = [[] for _ in range(n)]
    for v in range(n):
        for w in flow_succ[v]:
            preds[w].append(v)

    # Postorder by an iterative DFS.
    order = []
    post = [-1] * n
    visited = [False] * n
    stack = [(r, 0)]
    visited[r] = True
    while stack:
        v, i = stack.pop()
        if i < len(flow_succ[v]):
            stack.append((v, i + 1))
            w = flow_succ[v][i]
            if not visited[w]:
                visited[w] = True
                stack.append((w, 0))
        else:
            post[v] = len(order)
            order.append(v)
    idom = [-1] * n
    idom[r] = r

    def intersect(a, b):
        while a != b:
            while post[a] < post[b]:
                a = idom[a]
            while post[b] < post[a]:
                b = idom[b]
        return a

    changed = True
    while changed:
        changed = False
        for v in reversed(order):
            if v == r:
                continue
            new = -1
            for p in preds[v]:
                if idom[p] == -1:
                    continue
                new = p if new == -1 else intersect(p, new)
            if new != idom[v]:
                idom[v] = new
                changed = True
    for c in cliques:
        idom[c] = r
    return idom, order, orphans, cliques


def compute(path):
    with open(path, 'rb') as f:
        doc = json.load(f)
    s = Snapshot(doc)
    size = transfer_shallow_sizes(s)
    flag = page_owned(s)
    succ = essential_edges(s, flag)
    idom, order, orphans, cliques = dominators(s, succ)
    retained = list(size)
    # Postorder visits children before parents in the DFS tree, and every
    # dominator is a DFS ancestor, so summing in postorder is complete.
    for v in order:
        if v != s.root:
            retained[idom[v]] += retained[v]
    for c in cliques:
        if c != s.root:
            retained[s.root] += retained[c]
    return s, size, retained, idom, orphans, cliques


def main():
    s, size, retained, idom, orphans, cliques = compute(sys.argv[1])
    out = sys.stdout
    out.write(json.dumps({'summary': {
        'nodes': s.count, 'root_id': s.id[s.root], 'total_size': sum(size),
        'root_retained': retained[s.root], 'orphans': len(orphans), 'cliques': len(cliques)}}) + '\n')
    for v in range(s.count):
        out.write(json.dumps({'id': s.id[v], 'type': s.type[v], 'name': s.name[v][:80], 'self': size[v],
                              'retained': retained[v], 'idom': s.id[idom[v]] if v != s.root else 0}) + '\n')


if __name__ == '__main__':
    main()
