"""Retained and self sizes of every node of real Node snapshots equal those of
testdata/v8/devtools_oracle.py, an independent model of Chrome DevTools.

`heapscope dominators --format jsonl` prints one row per node:
{"id","type","shallow_size","retained_size","idom"}, idom 0 for nodes that
only the virtual root dominates (the snapshot's synthetic root itself, the
oracle's idom = root id). The oracle prints {"id","self","retained","idom"}."""
import json

from v8test import SCENARIOS, check, check_equal, dominators, finish, oracle, require_node, run, run_json, scratch, snapshot

require_node()
files = [(s, snapshot("oracle", s)) for s in SCENARIOS]
files.append(("series-3", snapshot("oracle", "series")[2]))

for scenario, path in files:
    summary, expected = oracle(path)
    actual = dominators(path)
    root = summary["root_id"]
    check_equal(len(actual), summary["nodes"], f"{scenario}: one dominators row per node")
    missing = [i for i in expected if i not in actual]
    extra = [i for i in actual if i not in expected]
    check(not missing and not extra, f"{scenario}: ids differ: missing {missing[:5]}, extra {extra[:5]}")
    mismatches = []
    for node_id, want in expected.items():
        got = actual.get(node_id)
        if got is None:
            continue
        got_idom = got["idom"] if got["idom"] != 0 else root
        want_retained = want["retained"]
        if node_id == root:
            want_idom = root  # the oracle writes 0 for the root itself
            # heapscope's virtual super-root plays the synthetic root's part
            # (its figure is `info`'s reachable size, checked below); the
            # root node itself dominates nothing (docs/v8.md).
            want_retained = 0
        else:
            want_idom = want["idom"]
        if (got["shallow_size"], got["retained_size"], got_idom) != (want["self"], want_retained, want_idom):
            mismatches.append(f"@{node_id} {want['type']} {want['name'][:30]!r}: heapscope self/retained/idom "
                              f"{got['shallow_size']}/{got['retained_size']}/{got_idom}, oracle "
                              f"{want['self']}/{want['retained']}/{want_idom}")
    check(not mismatches, f"{scenario}: {len(mismatches)} of {len(expected)} nodes differ; first: "
          + "; ".join(mismatches[:5]))

    # The totals and the DevTools counters the reader reports agree too.
    info = run_json("info", path)
    check_equal(info["summary"]["total_shallow_size"], summary["total_size"], f"{scenario}: total shallow size")
    check_equal(info["summary"]["reachable_size"], summary["root_retained"],
                f"{scenario}: reachable size (the super-root's retained size) = DevTools' root retained size")
    check_equal(info["meta"].get("devtools.orphans"), str(summary["orphans"]), f"{scenario}: orphan count")
    check_equal(info["meta"].get("devtools.unreached"), str(summary["cliques"]), f"{scenario}: clique count")
    print(f"{scenario}: {len(expected)} nodes, {len(mismatches)} mismatches, "
          f"{summary['orphans']} orphans, {summary['cliques']} in cliques")

# Both ways of reading the edges give the same graph: alongside the nodes on
# a second thread (V8's key order, the usual case), and after them on one
# thread (any other key order; here the strings moved between them).
map_path = dict(files)["map"]
code, _, err = run("--verbose", "info", map_path)
check("edges parsed alongside the nodes" in err, f"map: the edges were parsed on a second thread ({err[-300:]!r})")
with open(map_path) as f:
    document = json.load(f)
reordered_path = scratch("oracle", "map-reordered.heapsnapshot")
with open(reordered_path, "w") as f:
    f.write("{" + ",".join(f"{json.dumps(k)}:{json.dumps(document[k], separators=(',', ':'))}"
                           for k in ["snapshot", "nodes", "strings"] + [k for k in document
                                                                      if k not in ("snapshot", "nodes", "strings")]) + "}")
code, _, err = run("--verbose", "info", reordered_path)
check(code == 0 and "edges parsed alongside the nodes" not in err,
      f"reordered map: read in one thread (exit {code}, {err[-300:]!r})")
check(dominators(reordered_path) == dominators(map_path), "reordered map: the same dominators as the original")

# The orphans scenario really exercises the orphan and clique rules.
summary, _ = oracle(dict(files)["orphans"])
check(summary["orphans"] > 0 and summary["cliques"] > 0, f"orphans scenario has orphans and cliques: {summary}")
finish()
