"""The Python dumper end to end: a pyenv CPython runs a scenario with a
planted leak under `python -m heapscope_dump --at-exit`, heapscope analyzes
the dump, and the suspect, the accumulated type and count, and the chain's
edge names must be the planted ones.

usage: dumper_test.py MINOR   (3.MINOR from pyenv; absent: skipped, exit 77)
"""
import glob
import json
import os
import subprocess
import sys

BIN = os.environ["HEAPSCOPE_BIN"]
SOURCE = os.environ["HEAPSCOPE_SOURCE_DIR"]
WORK = os.path.join(os.environ["HEAPSCOPE_WORK_DIR"], "python-dumper-3.%s" % sys.argv[1])
SCENARIOS = os.path.join(SOURCE, "testdata", "python")
failures = []


def find_python(minor):
    root = subprocess.run(["pyenv", "root"], capture_output=True, text=True).stdout.strip() \
        if subprocess.run(["which", "pyenv"], capture_output=True).returncode == 0 else os.path.expanduser("~/.pyenv")
    found = sorted(glob.glob(os.path.join(root, "versions", "3.%d.*" % minor, "bin", "python3")))
    return found[-1] if found else None


def check(condition, what):
    if not condition:
        failures.append(what)
        print("FAIL: " + what)


def run_scenario(python, name, tracemalloc=False):
    out = os.path.join(WORK, name + ".json.gz")
    env = dict(os.environ, PYTHONPATH=os.path.join(SOURCE, "python"))
    cmd = [python] + (["-X", "tracemalloc=5"] if tracemalloc else []) + [
        "-m", "heapscope_dump", "--out", out, "--at-exit", os.path.join(SCENARIOS, name + ".py")]
    subprocess.run(cmd, check=True, env=env, capture_output=True)
    result = subprocess.run([BIN, "analyze", out, "--format", "json"], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit("analyze %s failed (%d): %s" % (out, result.returncode, result.stderr))
    return json.loads(result.stdout)


def edges(chain):
    return [step["edge"] for step in chain["steps"]]


def top_suspect(report, name):
    check(report["suspects"], name + ": no suspect")
    return report["suspects"][0] if report["suspects"] else None


def accumulated(suspect, type_name):
    for row in suspect["accumulated"]:
        if row["type"] == type_name:
            return row["count"]
    return 0


def expect_leak(report, name, type_name, count, chain_tail, root="module __main__"):
    suspect = top_suspect(report, name)
    if suspect is None:
        return None
    check(accumulated(suspect, type_name) == count,
          "%s: %d x %s accumulated, got %s" % (name, count, type_name, suspect["accumulated"][:3]))
    chain = edges(suspect["chain"])
    check(chain[0].startswith(root), "%s: chain starts at %r, got %s" % (name, root, chain))
    check(not chain_tail or chain[-len(chain_tail):] == chain_tail, "%s: chain ends %s, got %s" % (name, chain_tail, chain))
    check(report["summary"]["unreachable_objects"] == 0,
          "%s: %d objects unreachable" % (name, report["summary"]["unreachable_objects"]))
    return suspect


def main():
    python = find_python(int(sys.argv[1]))
    if python is None:
        print("CPython 3.%s not installed under pyenv: skipped" % sys.argv[1])
        sys.exit(77)
    os.makedirs(WORK, exist_ok=True)
    print("using " + python)

    report = run_scenario(python, "cache_dict", tracemalloc=True)
    suspect = expect_leak(report, "cache_dict", "__main__.Session", 5000, ["__dict__", "'SESSIONS'"])
    if suspect:
        # tracemalloc was tracing: the cache dict's allocation site is known.
        site = suspect["accumulation_point"]["alloc_site"]
        check(site.endswith("cache_dict.py:8"), "cache_dict: SESSIONS allocated at line 8, got %r" % site)

    expect_leak(run_scenario(python, "class_registry"), "class_registry", "__main__.Plugin", 3000,
                ["'Plugin'", "__dict__", "'registry'"])
    expect_leak(run_scenario(python, "closure_callbacks"), "closure_callbacks", "function", 3000,
                ["'subscribe'", "__closure__", "callbacks", "cell_contents"])
    # A dict held by an instance attribute: named by the attribute where the
    # attributes are inline values (3.11+), through __dict__ before.
    inline = int(sys.argv[1]) >= 11
    expect_leak(run_scenario(python, "attribute_dict"), "attribute_dict", "__main__.Request", 2000,
                ["'service'", "pending"] if inline else ["'service'", "__dict__", "'pending'"])
    lru = run_scenario(python, "lru_cache_leak")
    suspect = top_suspect(lru, "lru_cache_leak")
    if suspect:
        check(accumulated(suspect, "__main__.Record") == 4000, "lru_cache_leak: 4000 Record, got %s"
              % suspect["accumulated"][:3])
        check("'load'" in edges(suspect["chain"]), "lru_cache_leak: chain through 'load': %s" % edges(suspect["chain"]))

    # Cycles through __del__ objects dropped with the gc off: unreachable.
    garbage = run_scenario(python, "del_cycle")
    groups = {g["type"]: g for g in garbage["leaked"]["groups"]}
    check(groups.get("__main__.Node", {}).get("count") == 4000, "del_cycle: 4000 Node unreachable, got %s"
          % garbage["leaked"]["groups"][:3])
    check(groups.get("bytearray", {}).get("count") == 4000, "del_cycle: 4000 bytearray unreachable")
    check(garbage["leaked"]["unreferenced_objects"] == 0, "del_cycle: cycles have no unreferenced head")
    check(not garbage["suspects"] or accumulated(garbage["suspects"][0], "__main__.Node") == 0,
          "del_cycle: garbage must not be a reachable suspect")

    # Only a C-level reference holds the list: an external root.
    external = run_scenario(python, "external_ref")
    expect_leak(external, "external_ref", "__main__.Item", 3000, [], root="external (1 unseen reference) list")

    # One process dumped twice: diff finds the growth under 'SESSIONS' and
    # not the temporary spike.
    before, after = os.path.join(WORK, "before.json.gz"), os.path.join(WORK, "after.json.gz")
    env = dict(os.environ, PYTHONPATH=os.path.join(SOURCE, "python"))
    subprocess.run([python, os.path.join(SCENARIOS, "grow_twice.py"), before, after], check=True, env=env)
    result = subprocess.run([BIN, "diff", before, after, "--format", "json"], capture_output=True, text=True)
    check(result.returncode == 0, "diff exit %d: %s" % (result.returncode, result.stderr))
    diff = json.loads(result.stdout)
    group = diff["groups"][0]
    kinds = {t["type"]: t["count"] for t in group["types"]}
    check(kinds.get("__main__.Session") == 2000, "grow_twice: +2000 Session in the top group, got %s" % kinds)
    check(edges(group["chain"])[-2:] == ["__dict__", "'SESSIONS'"], "grow_twice: chain %s" % edges(group["chain"]))
    # The spike's 500 bytearrays died before the second dump: the new
    # survivors are the 2000 sessions' buffers (and a few of the runtime's).
    survivors = sum(t["count"] for g in diff["groups"] for t in g["types"] if t["type"] == "bytearray")
    check(2000 <= survivors < 2100, "grow_twice: 2000 new bytearrays survive, not the spike: got %d" % survivors)

    # A running function's local: a frame root, the local named on 3.13+
    # (f_locals is a transient proxy there); 3.11/3.12 hide a running
    # frame's locals from the gc and f_locals would create a dict: external.
    minor = int(sys.argv[1])
    local_dump = os.path.join(WORK, "frame_local.json.gz")
    subprocess.run([python, os.path.join(SCENARIOS, "frame_local.py"), local_dump], check=True, env=env)
    result = subprocess.run([BIN, "analyze", local_dump, "--format", "json"], capture_output=True, text=True)
    suspect = top_suspect(json.loads(result.stdout), "frame_local")
    if suspect:
        check(accumulated(suspect, "__main__.Job") == 2500, "frame_local: 2500 Job, got %s" % suspect["accumulated"][:3])
        chain = edges(suspect["chain"])
        check(chain[0].startswith("thread MainThread frame handle() at "), "frame_local: frame root, got %s" % chain)
        if minor >= 11:  # 3.8-3.10: the gc lists the locals, without names
            check(chain[-1] == "pending", "frame_local: local named 'pending', got %s" % chain)

    # The dump never describes itself: no dumper object, no dumper frame.
    import gzip
    with gzip.open(os.path.join(WORK, "cache_dict.json.gz"), "rt") as f:
        graph = json.load(f)
    own = [n["type"] for n in graph["nodes"] if n["type"].startswith("heapscope_dump._")]
    check(not own, "the dump lists its own objects: %s" % own[:5])
    own_frames = [r["name"] for r in graph["roots"] if "heapscope_dump.py" in r.get("name", "")]
    check(not own_frames, "the dump lists its own frames: %s" % own_frames[:3])

    # install_signal_handler: the signal writes heap-{pid}-{time}.json.gz.
    signal_dir = os.path.join(WORK, "signal")
    os.makedirs(signal_dir, exist_ok=True)
    for old in glob.glob(os.path.join(signal_dir, "*")):
        os.unlink(old)
    pid = subprocess.run([python, os.path.join(SCENARIOS, "signal_dump.py"), signal_dir], check=True, env=env,
                         capture_output=True, text=True).stdout.strip()
    dumps = glob.glob(os.path.join(signal_dir, "heap-%s-*.json.gz" % pid))
    check(len(dumps) == 1, "signal handler wrote %s" % os.listdir(signal_dir))
    if dumps:
        result = subprocess.run([BIN, "analyze", dumps[0], "--format", "json"], capture_output=True, text=True)
        suspect = top_suspect(json.loads(result.stdout), "signal_dump")
        if suspect:
            check(accumulated(suspect, "__main__.Job") == 2500, "signal_dump: 2500 Job, got %s" % suspect["accumulated"][:3])
            check(edges(suspect["chain"])[-1] == "'QUEUE'", "signal_dump: chain %s" % edges(suspect["chain"]))

    if failures:
        sys.exit("%d failure(s)" % len(failures))
    print("ok")


if __name__ == "__main__":
    main()
