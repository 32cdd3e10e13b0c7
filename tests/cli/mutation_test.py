"""Random damage to real inputs, with a fixed seed (the same damage every
run): the checked-in demo graph (written by the project's dumper) and a V8
snapshot written by Node at test time (skipped without node). Every damaged
file must give exit 0 (the damage was harmless) or 2 with one line on stderr
naming the file, never a crash, a hang or another code. The targeted cases
are in bad_input_test.py and tests/v8/v8_bad_input_test.py; this one looks
for what nobody thought of (a campaign of a few thousand such runs by hand
found nothing; this keeps a sample of it running).

The V8 snapshot is over 1 MiB, so it takes the parallel parse (edges and
the strings read ahead on other threads) and its labels are read back from
the damaged file for the chains."""
import gzip
import os
import random
import shutil
import subprocess

from clitest import BIN, SOURCE_DIR, check, finish, work_path

SEED = 20261208
MUTATIONS = 300


def mutate(rng, data):
    """One random kind of damage: bytes changed, digits changed, a cut, a
    piece repeated or removed, or a number made huge."""
    data = bytearray(data)
    kind = rng.choice(["bytes", "digits", "cut", "repeat", "remove", "huge"])
    if kind == "bytes":
        for _ in range(rng.randint(1, 20)):
            i = rng.randrange(len(data))
            data[i] = rng.randrange(256)
    elif kind == "digits":
        for _ in range(rng.randint(1, 5)):
            i = rng.randrange(len(data))
            while i < len(data) and not 48 <= data[i] <= 57:
                i += 1
            if i < len(data):
                data[i] = rng.choice(b"0123456789-,]}[e.")
    elif kind == "cut":
        del data[rng.randrange(len(data)):]
    elif kind == "repeat":
        i = rng.randrange(len(data))
        data[i:i] = data[i:i + rng.randint(1, 200)]
    elif kind == "remove":
        i = rng.randrange(len(data))
        del data[i:i + rng.randint(1, 200)]
    else:
        i = rng.randrange(len(data))
        while i < len(data) and not 48 <= data[i] <= 57:
            i += 1
        data[i:i + 1] = rng.choice([b"4294967296", b"18446744073709551616", b"99999999999", b"-1", b"1e300"])
    return bytes(data), kind


def campaign(name, original, rng):
    path = work_path("mutation", name)
    survived = 0
    for n in range(MUTATIONS):
        data, kind = mutate(rng, original)
        with open(path, "wb") as f:
            f.write(data)
        try:
            result = subprocess.run([BIN, "analyze", path, "--format", "json"], stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE, timeout=120)
        except subprocess.TimeoutExpired:
            check(False, f"{name} #{n} ({kind}): no answer in 120 s")
            continue
        lines = result.stderr.decode(errors="replace").strip().splitlines()
        ok = result.returncode == 0 or (result.returncode == 2 and len(lines) == 1 and path in lines[0])
        if not ok:
            keep = work_path("mutation", f"failed-{name}-{n}")
            shutil.copy(path, keep)
            check(False, f"{name} #{n} ({kind}): exit {result.returncode}, stderr {lines[:3]} (kept as {keep})")
        survived += result.returncode == 0
    print(f"{name}: {MUTATIONS} damaged copies, {survived} still read, the rest refused with one line")


rng = random.Random(SEED)
with gzip.open(os.path.join(SOURCE_DIR, "testdata", "demo", "leaky-service.json.gz")) as f:
    campaign("demo-graph.json", f.read(), rng)

node = shutil.which("node")
if node is None:
    print("node is not on PATH: the V8 part is skipped")
else:
    snapshot = work_path("mutation", "map.heapsnapshot.original")
    subprocess.run([node, os.path.join(SOURCE_DIR, "testdata", "v8", "leaks.js"), "map", snapshot, "50"],
                   check=True, timeout=120)
    with open(snapshot, "rb") as f:
        campaign("map.heapsnapshot", f.read(), rng)
finish()
