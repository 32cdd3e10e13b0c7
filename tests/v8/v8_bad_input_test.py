"""Malformed V8 snapshots, made by damaging a real one written by Node: each
gets exit code 2 and one line on stderr naming the file, the format and what
is wrong; none crashes or gives a report."""
import gzip
import json
import shutil
import subprocess

from v8test import check, check_equal, finish, require_node, run, scratch, snapshot

require_node()
original = snapshot("bad_input", "map", 50)
with open(original, "rb") as f:
    raw = f.read()
doc = json.loads(raw)
meta = doc["snapshot"]["meta"]
node_fields = len(meta["node_fields"])
edge_fields = len(meta["edge_fields"])
to_node = meta["edge_fields"].index("to_node")
edge_count_field = meta["node_fields"].index("edge_count")
name_field = meta["node_fields"].index("name")
type_field = meta["node_fields"].index("type")


def damaged(name, mutate, sort_keys=False):
    """Write a copy of the snapshot with MUTATE applied to a deep copy."""
    copy = json.loads(raw)
    mutate(copy)
    path = scratch("bad_input", name + ".heapsnapshot")
    with open(path, "w") as f:
        json.dump(copy, f, sort_keys=sort_keys)
    return path


def write_bytes(name, data):
    path = scratch("bad_input", name)
    with open(path, "wb") as f:
        f.write(data)
    return path


def set_edge_target(copy, value):
    copy["edges"][3 * edge_fields + to_node] = value


def drop_last_edge(copy):
    del copy["edges"][-edge_fields:]


def add_edge_to_first_node(copy):
    copy["nodes"][edge_count_field] += 1


cases = {
    # Meta that does not describe the arrays.
    "meta-no-node-fields": (lambda c: c["snapshot"]["meta"].pop("node_fields"), "node_fields"),
    "meta-no-to-node": (lambda c: c["snapshot"]["meta"]["edge_fields"].remove("to_node"), "to_node"),
    "meta-node-types-not-list": (lambda c: c["snapshot"]["meta"].__setitem__("node_types", 7), "node_types"),
    "node-count-mismatch": (lambda c: c["snapshot"].__setitem__("node_count", c["snapshot"]["node_count"] + 1),
                            "node_count"),
    "edge-count-mismatch": (lambda c: c["snapshot"].__setitem__("edge_count", c["snapshot"]["edge_count"] - 1),
                            "edge_count"),
    # Per-node edge counts that do not add up to the edges array.
    "edges-missing": (drop_last_edge, "edge"),
    "edge-counts-too-big": (add_edge_to_first_node, "edge"),
    # Edge targets outside the nodes array or not at a node's start.
    "to-node-out-of-range": (lambda c: set_edge_target(c, len(c["nodes"]) + node_fields), "to_node"),
    "to-node-misaligned": (lambda c: set_edge_target(c, node_fields + 1), "to_node"),
    "to-node-negative": (lambda c: set_edge_target(c, -node_fields), "negative"),
    # Indices into the strings and the type tables.
    "name-out-of-range": (lambda c: c["nodes"].__setitem__(name_field, len(c["strings"]) + 5), "string"),
    "node-type-out-of-range": (lambda c: c["nodes"].__setitem__(type_field, 99), "type"),
    "nodes-not-integers": (lambda c: c["nodes"].__setitem__(0, "x"), "nodes"),
    "strings-missing": (lambda c: c.pop("strings"), "strings"),
}

paths = {name: (damaged(name, mutate), word) for name, (mutate, word) in cases.items()}
# Cut files: in the meta, in the nodes, in the strings, one byte short.
for fraction in (0.001, 0.3, 0.95):
    cut = int(len(raw) * fraction)
    paths[f"truncated-{fraction}"] = (write_bytes(f"truncated-{fraction}.heapsnapshot", raw[:cut]), "")
paths["truncated-last-byte"] = (write_bytes("truncated-last-byte.heapsnapshot", raw.rstrip()[:-1]), "")
# Keys re-sorted (as jq -S does): "edges" then comes first. It is still
# recognised as V8, and the error says why it cannot be read.
paths["keys-sorted"] = (damaged("keys-sorted", lambda c: None, sort_keys=True), "re-sorted")
# An unknown key with a newline and a terminal escape in it, followed by a
# syntax error: the message quotes the key, escaped, on one line.
hostile_key = b',"x\\ny\\u001b[31mRED":1 2}'
paths["control-chars-in-key"] = (write_bytes("hostile-key.heapsnapshot", raw.rstrip()[:-1] + hostile_key), "\\x1b")
paths["garbage-after-head"] = (write_bytes("garbage.heapsnapshot", raw[:40] + b"\x00\xff garbage"), "")
# Damage in the locations and strings, which a third thread parses from the
# "locations" key it finds from the end of V8's own layout (the copies above
# are re-serialized with spaces, so they are parsed in order): whatever it
# meets there, the error is the one the in-order parse gives.
strings_key = raw.rindex(b'"strings":[')
locations_key = raw.rindex(b'"locations":[')
check(locations_key < strings_key, "Node wrote locations before the strings")
first_string = strings_key + len(b'"strings":["')
paths["tail-bad-escape"] = (write_bytes("tail-bad-escape.heapsnapshot",
                                        raw[:first_string] + b"\\q" + raw[first_string:]), "escape")
first_location = locations_key + len(b'"locations":[')
paths["tail-location-misaligned"] = (write_bytes("tail-location-misaligned.heapsnapshot",
                                                 raw[:first_location] + b"1" + raw[first_location:]), "location")
paths["tail-truncated-in-locations"] = (write_bytes("tail-cut.heapsnapshot", raw[:first_location + 100]), "")
# A second "strings" key at the end: the third thread reads only that one;
# the in-order parse meets both and says so.
closing = raw.rindex(b"}")
paths["tail-duplicate-strings"] = (write_bytes("tail-duplicate.heapsnapshot",
                                               raw[:closing] + b',"strings":["x"]' + raw[closing:]), "duplicate")
# Compressed copies cut short: the decoder says so.
compressed = gzip.compress(raw)
paths["gzip-truncated"] = (write_bytes("cut.heapsnapshot.gz", compressed[: len(compressed) // 2]), "gzip")
zstd = shutil.which("zstd")
if zstd:
    whole = subprocess.run([zstd, "-q", "-c", original], capture_output=True, check=True).stdout
    paths["zstd-truncated"] = (write_bytes("cut.heapsnapshot.zst", whole[: len(whole) // 2]), "zstd")
    paths["zstd-corrupt"] = (write_bytes("bad.heapsnapshot.zst", whole[:8] + b"\x55" * 64 + whole[72:]), "zstd")
else:
    check(False, "zstd is not installed (scripts/setup.sh installs it)")

for name, (path, word) in paths.items():
    for command in ("analyze", "dominators"):
        code, out, err = run(command, path)
        lines = err.strip().splitlines()
        check_equal(code, 2, f"{name}: {command} exit code (stderr {err.strip()!r})")
        check(len(lines) == 1, f"{name}: {command}: one line on stderr, got {lines}")
        check(not any(ord(ch) < 0x20 for ch in err.rstrip("\n")), f"{name}: no control characters in {err!r}")
        check(out == "", f"{name}: {command}: no report on stdout")
        line = lines[0] if lines else ""
        check(path in line, f"{name}: the error names the file: {line!r}")
        check("v8-heapsnapshot" in line or word in ("gzip", "zstd") or "format" in line,
              f"{name}: the error names the format: {line!r}")
        check(word.lower() in line.lower(), f"{name}: the error says what is wrong ({word!r}): {line!r}")
    print(f"{name}: {lines[0] if lines else '?'}")

# The undamaged file and a re-serialized copy still read, to the same
# report: the original's locations and strings on a third thread, the
# copy's (spaces after its colons) in order.
check_equal(run("info", original)[0], 0, "the original snapshot reads")
reserialized = damaged("reserialized", lambda c: None)
check_equal(run("info", reserialized)[0], 0, "a re-serialized copy reads")
reports = {}
for name, path in (("original", original), ("re-serialized", reserialized)):
    code, out, err = run("-v", "analyze", path, "--format", "json")
    check_equal(code, 0, f"{name}: analyze exit code ({err[-300:]!r})")
    tail_thread = "locations and strings parsed meanwhile, on a third thread" in err
    check_equal(tail_thread, name == "original", f"{name}: tail parsed ahead")
    report = json.loads(out)
    report["summary"].pop("path")
    reports[name] = report
check(reports["original"] == reports["re-serialized"], "the same report from both parses")
finish()
