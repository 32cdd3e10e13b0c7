"""Bad inputs: each exits 2 with one line naming the file, the format and the problem."""
import gzip

from clitest import check, check_equal, finish, run, write_text

GOOD = '{"nodes":[{"id":1,"type":"A","size":10,"refs":[2]},{"id":2,"type":"B","size":5}],"roots":[1]}'

CASES = [
    # (name, content, words the message must contain)
    ("empty.json", "", ["empty file"]),
    ("truncated.json", GOOD[: len(GOOD) // 2], ["heapscope-graph", "truncated"]),
    ("not-json.json", "hello world", ["unrecognised format"]),
    ("array.json", "[1, 2, 3]", ["unrecognised format"]),
    ("string-size.json", '{"nodes":[{"id":1,"type":"A","size":"10"}],"roots":[1]}', ['"size"', "node #0"]),
    ("negative-size.json", '{"nodes":[{"id":1,"type":"A","size":-1}],"roots":[1]}', ['"size"', "non-negative"]),
    ("float-size.json", '{"nodes":[{"id":1,"type":"A","size":1.5}],"roots":[1]}', ['"size"']),
    ("negative-id.json", '{"nodes":[{"id":-1,"type":"A","size":1}],"roots":[1]}', ['"id"']),
    ("huge-id.json", '{"nodes":[{"id":18446744073709551616,"type":"A","size":1}],"roots":[1]}', ['"id"']),
    ("type-number.json", '{"nodes":[{"id":1,"type":5,"size":1}],"roots":[1]}', ['"type"']),
    ("duplicate.json", '{"nodes":[{"id":1,"type":"A","size":1},{"id":1,"type":"B","size":1}],"roots":[1]}',
     ["duplicate node id 1"]),
    ("ref-names.json", '{"nodes":[{"id":1,"type":"A","size":1,"refs":[1,1],"ref_names":["a"]}],"roots":[1]}',
     ["ref_names", "refs"]),
    ("no-roots.json", '{"nodes":[{"id":1,"type":"A","size":1}]}', ["roots"]),
    ("empty-roots.json", '{"nodes":[{"id":1,"type":"A","size":1}],"roots":[]}', ["roots"]),
    ("dangling-roots.json", '{"nodes":[{"id":1,"type":"A","size":1}],"roots":[7,8]}', ["roots"]),
    ("no-nodes.json", '{"roots":[1]}', ["nodes"]),
    ("wrong-format.json", '{"format":"other","nodes":[],"roots":[1]}', ["format"]),
    ("future-version.json", '{"format":"heapscope-graph","version":9,"nodes":[],"roots":[1]}', ["version 9"]),
    # Sizes whose sum wraps 64 bits (found by fuzzing: totals said "1 B", 200%).
    ("size-wrap.json", '{"nodes":[{"id":1,"type":"A","size":18446744073709551615,"refs":[2]},'
     '{"id":2,"type":"B","size":2}],"roots":[1]}', ["2^63 - 1"]),
    ("refs-not-array.json", '{"nodes":[{"id":1,"type":"A","size":1,"refs":2}],"roots":[1]}', ['"refs"']),
]

for name, content, words in CASES:
    path = write_text(name, content)
    code, out, err = run("analyze", path)
    check_equal(code, 2, f"{name}: exit code")
    lines = err.strip().splitlines()
    check(len(lines) == 1, f"{name}: one line on stderr, got {lines}")
    check(name in err, f"{name}: message names the file: {err!r}")
    for word in words:
        check(word in err, f"{name}: message mentions {word!r}: {err!r}")
    check(out == "", f"{name}: nothing on stdout")

# Truncated gzip.
data = gzip.compress(GOOD.encode())
path = write_text("cut.json.gz", data[: len(data) - 10])
code, out, err = run("analyze", path)
check_equal(code, 2, "truncated gzip exit code")
check("gzip" in err and "cut.json.gz" in err, f"truncated gzip message: {err!r}")

# Missing file, directory, bad usage.
code, out, err = run("analyze", "/nonexistent/dump.json")
check(code == 2 and "/nonexistent/dump.json" in err, f"missing file: {code} {err!r}")
code, out, err = run("analyze", "/")
check_equal(code, 2, "a directory is an input error")
code, out, err = run("analyze")
check_equal(code, 2, "missing FILE is a usage error")
code, out, err = run("frobnicate")
check_equal(code, 2, "unknown subcommand is a usage error")
good = write_text("good.json", GOOD)
code, out, err = run("analyze", good, "--format", "xml")
check(code == 2 and "xml" in err, f"bad --format: {err!r}")
code, out, err = run("dominators", good, "--format", "text")
check_equal(code, 2, "dominators does not write text")
code, out, err = run("analyze", good, "--top", "lots")
check_equal(code, 2, "--top must be a number")
code, out, err = run("--help")
check(code == 0 and "analyze" in out, "--help exits 0")
code, out, err = run("analyze", "--help")
check(code == 0 and "--suspect-threshold" in out, "analyze --help lists its options")

finish()
