"""The planted leaks of testdata/v8/leaks.js, found in real Node snapshots:
the suspect, the chain with DevTools' edge names, the accumulated objects and
the retained sizes (equal to the oracle's); gzip and zstd copies read the
same; diff over three snapshots of a growing Map names the leak."""
import gzip
import shutil
import subprocess

from v8test import check, check_equal, finish, oracle, require_node, run, run_json, scratch, snapshot

COUNT = 2000
require_node()


def chain_edges(chain):
    return [step["edge"] for step in chain["steps"]]


def suspect_holding(report, type_name):
    """The suspect whose accumulated objects are mostly TYPE_NAME, or None."""
    for suspect in report["suspects"]:
        if suspect["accumulated"] and suspect["accumulated"][0]["type"] == type_name:
            return suspect
    return None


def type_row(report, type_name):
    return next((row for row in report["types"] if row["type"] == type_name), None)


def retained_by_oracle(path, node_id):
    _, rows = oracle(path)
    return rows[node_id]["retained"]


def check_suspect(scenario, path, report, type_name, count, edges):
    suspect = suspect_holding(report, type_name)
    check(suspect is not None, f"{scenario}: a suspect accumulating {type_name}; suspects: "
          + str([s["description"] for s in report["suspects"]]))
    if suspect is None:
        return None
    check_equal(suspect["accumulated"][0]["count"], count, f"{scenario}: {type_name} objects under the suspect")
    check_equal(chain_edges(suspect["chain"]), edges, f"{scenario}: chain to the accumulation point")
    point = suspect["accumulation_point"]
    check_equal(point["retained_size"], retained_by_oracle(path, point["id"]),
                f"{scenario}: accumulation point's retained size = DevTools'")
    return suspect


# A global Map of Items: global -> cache -> table holds the 2,000 Items.
path = snapshot("leaks", "map", COUNT)
report = run_json("analyze", path, "--top", "20")
suspect = check_suspect("map", path, report, "Item", COUNT, ["global", "cache", "table"])
if suspect:
    check_equal(suspect["suspect"]["type"], "Map", "map: the suspect is the Map")
    # Each Item: the object, its name string, payload array and meta object.
    per_item = suspect["accumulated"][0]["retained_size"] / COUNT
    check(100 <= per_item <= 400, f"map: an Item retains 100..400 bytes, got {per_item}")
check_equal(type_row(report, "Item")["count"], COUNT, "map: Item count in the types table")

# gzip and zstd copies give the same report as the plain file: its edge
# labels are read back from the mapped file for the chains, the copies'
# are kept in memory.
code, plain, err = run("-v", "analyze", path, "--format", "json")
check("edge labels left in the file" in err, "map: the plain file's edge labels are left in the file")
gz_path = scratch("leaks", "map.heapsnapshot.gz")
with open(path, "rb") as src, gzip.open(gz_path, "wb") as dst:
    shutil.copyfileobj(src, dst)
zstd = shutil.which("zstd")
copies = [gz_path]
if zstd:
    zst_path = scratch("leaks", "map.heapsnapshot.zst")
    subprocess.run([zstd, "-q", "-f", "-3", path, "-o", zst_path], check=True)
    copies.append(zst_path)
else:
    check(False, "zstd is not installed (scripts/setup.sh installs it)")
for copy in copies:
    code, out, err = run("-v", "analyze", copy, "--format", "json")
    check_equal(code, 0, f"analyze {copy}: exit code (stderr {err[-300:]!r})")
    check("edge labels left in the file" not in err, f"{copy}: edge labels kept in memory")
    check(out.replace(copy, path) == plain, f"{copy}: same report as the uncompressed snapshot")

# A closure capturing a big array: onTick -> context -> big.
path = snapshot("leaks", "closure")
report = run_json("analyze", path, "--top", "20")
handler = next((r for r in report["top_retainers"] if r["type"] == "(closure) handler"), None)
check(handler is not None, "closure: `(closure) handler` is among the biggest retainers")
if handler:
    check_equal(chain_edges(handler["chain"]), ["global", "onTick"], "closure: chain to the handler")
    check(handler["retained_size"] >= 300000 * 8, f"closure: handler retains the 300,000-double array: {handler}")
    check_equal(handler["retained_size"], retained_by_oracle(path, handler["id"]), "closure: retained = DevTools'")
big = next((r for r in report["top_retainers"] if chain_edges(r["chain"])[-1:] == ["big"]), None)
check(big is not None and chain_edges(big["chain"]) == ["global", "onTick", "context", "big"],
      f"closure: the array is reached via global -> onTick -> context -> big: {big and chain_edges(big['chain'])}")

# Dropped widgets still listening: the bus's listener array holds 2,000
# anonymous closures, and each closure's context holds its Widget.
path = snapshot("leaks", "listeners", COUNT)
report = run_json("analyze", path, "--top", "20")
check_suspect("listeners", path, report, "(closure)", COUNT, ["global", "bus", "_events", "data"])
check_equal(type_row(report, "Widget")["count"], COUNT, "listeners: Widget count")

# WeakMap values are held through their keys, not by the WeakMap: the keys
# array retains the values; the WeakMap retains almost nothing.
path = snapshot("leaks", "weakmap", COUNT)
report = run_json("analyze", path, "--top", "20")
suspect = check_suspect("weakmap", path, report, "Key", COUNT, ["global", "keys"])
values = type_row(report, "Value")
check_equal(values["count"], COUNT, "weakmap: Value count")
if suspect:
    check(suspect["accumulation_point"]["retained_size"] >= values["retained_size"],
          "weakmap: the keys array retains every Value")
weakmap = next((r for r in report["types"] if r["type"] == "WeakMap"), None)
check(weakmap is not None and weakmap["retained_size"] < values["retained_size"] / 10,
      f"weakmap: the WeakMap itself retains little: {weakmap}")

# Values whose keys only the stack held: unreachable over retaining edges,
# hung under the root as DevTools does, and said so.
path = snapshot("leaks", "orphans", COUNT)
code, out, err = run("info", path, "--format", "json")
check_equal(code, 0, "orphans: info exit code")
check("unreachable from the root over retaining edges" in err + out, f"orphans: the warning says so: {err!r}")

# Three snapshots of a growing Map: the 2,000 Items added between the first
# and the second are still alive in the third, under global -> cache -> table.
files = snapshot("leaks", "series", COUNT)
diff = run_json("diff", *files)
groups = diff.get("groups", [])
check(len(groups) >= 1, f"series: at least one growth group: {diff.keys()}")
if groups:
    top = groups[0]
    check_equal(chain_edges(top["chain"]), ["global", "cache", "table"], "series: chain of the top group")
    item = next((t for t in top["types"] if t["type"] == "Item"), None)
    check(item is not None and item["count"] == COUNT, f"series: +{COUNT} Item in the top group: {top['types'][:5]}")
code, _, err = run("diff", files[0], files[2], "--fail-on-growth", "100KB")
check_equal(code, 1, f"series: --fail-on-growth 100KB trips (stderr {err!r})")
finish()
