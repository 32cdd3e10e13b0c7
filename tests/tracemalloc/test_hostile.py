"""Corrupt and hostile tracemalloc dumps: exit 2 with one line, never a crash or hang.

The inputs are made at test time by mutating real dumps written by the newest
pyenv CPython (and, for the forbidden globals, real pickles of other objects).
"""
import os
import pickletools
import struct
import subprocess
import sys
import time

from tm_common import MINORS, WORK, fail, find_python, heapscope, make_dumps

python = next((find_python(m) for m in reversed(MINORS) if find_python(m)), None)
if python is None:
    print("no pyenv CPython: skipped")
    sys.exit(77)
work = os.path.join(WORK, "tracemalloc-hostile")
make_dumps(python, work)
one = open(os.path.join(work, "one.pickle"), "rb").read()
main = open(os.path.join(work, "main.pickle"), "rb").read()
n = 0


def expect_input_error(data, label, must_contain=None, name="case"):
    global n
    n += 1
    path = os.path.join(work, "%s.pickle" % name)
    with open(path, "wb") as fp:
        fp.write(data)
    start = time.time()
    r = heapscope("analyze", path, timeout=20)
    err = r.stderr.decode("utf-8", "replace").strip()
    if r.returncode != 2:
        fail("%s: exit %d, expected 2 (stderr %r)" % (label, r.returncode, err))
    if len(err.splitlines()) != 1:
        fail("%s: expected a one-line message, got %r" % (label, err))
    if must_contain and must_contain not in err:
        fail("%s: message %r does not mention %r" % (label, err, must_contain))
    if time.time() - start > 10:
        fail(label + ": too slow")
    return err


def ops(data):
    return [(op.name, arg, pos) for op, arg, pos in pickletools.genops(data)]


# 1. Truncation at every byte of a small dump, and at many of a bigger one.
for cut in range(len(one)):
    expect_input_error(one[:cut], "one.pickle cut at %d" % cut)
for cut in range(0, len(main), max(1, len(main) // 300)):
    expect_input_error(main[:cut], "main.pickle cut at %d" % cut)
expect_input_error(one[:len(one) - 1], "cut before STOP", "truncated")
expect_input_error(proto2_cut := open(os.path.join(work, "proto2.pickle"), "rb").read()[:-1], "proto2 cut before STOP", "STOP")

# 2. Every opcode of one.pickle replaced by opcodes a dump may not use.
forbidden = {b"R": "REDUCE", b"i": "INST", b"o": "OBJ", b"\x92": "NEWOBJ_EX", b"P": "PERSID",
             b"Q": "BINPERSID", b"\x82": "EXT1", b"F": "FLOAT", b"\x97": "NEXT_BUFFER"}
for name, arg, pos in ops(one)[1:]:  # [0] is PROTO: without it the file is no pickle
    for byte, opname in forbidden.items():
        data = one[:pos] + byte + one[pos + 1:]
        err = expect_input_error(data, "%s at %d -> %s" % (name, pos, opname))
        if opname not in err and "truncated" not in err and "byte" not in err:
            fail("%s at %d -> %s: %r" % (name, pos, opname, err))
    if "at byte %d" % pos not in expect_input_error(one[:pos] + b"R" + one[pos + 1:], "REDUCE at %d" % pos, "REDUCE"):
        fail("REDUCE at %d: the message does not give the opcode's byte offset" % pos)

# Every single byte flipped: exit 0 or 2, never anything else.
for pos in range(len(one)):
    for mask in (0x01, 0x80, 0xFF):
        data = bytearray(one)
        data[pos] ^= mask
        path = os.path.join(work, "flip.pickle")
        open(path, "wb").write(bytes(data))
        r = heapscope("analyze", path, timeout=20)
        if r.returncode not in (0, 2):
            fail("byte %d ^ 0x%02x: exit %d %r" % (pos, mask, r.returncode, r.stderr))
        if r.returncode == 2 and len(r.stderr.decode("utf-8", "replace").strip().splitlines()) != 1:
            fail("byte %d ^ 0x%02x: not one line: %r" % (pos, mask, r.stderr))

# 3. Forbidden globals: real pickles of other things, and a renamed class.
code = "import pickle, os, sys, collections; " \
       "sys.stdout.buffer.write(pickle.dumps(%s, pickle.HIGHEST_PROTOCOL))"
for expr, name in [("os.system", "system"), ("collections.OrderedDict(a=1)", "OrderedDict"),
                   ("[1, 2, 3]", None), ("('a', 1)", None)]:
    data = subprocess.run([python, "-c", code % expr], capture_output=True, check=True).stdout
    err = expect_input_error(data, "pickle of " + expr, name)
    if name and "not allowed" not in err:
        fail("global %s: %r" % (name, err))
for old, new in [(b"\x08Snapshot", b"\x08Snapshoz"), (b"\x0btracemalloc", b"\x0btracemallop"),
                 (b"\x07_Traces", b"\x07builtin")]:
    if old not in one:
        fail("mutation anchor %r not in one.pickle" % old)
    expect_input_error(one.replace(old, new, 1), "renamed %r" % new, "not allowed")
proto2 = open(os.path.join(work, "proto2.pickle"), "rb").read()
if b"ctracemalloc\nSnapshot\n" not in proto2:
    fail("protocol 2 dump has no GLOBAL opcode")
expect_input_error(proto2.replace(b"ctracemalloc\nSnapshot\n", b"cposix\nsystem\n\n\n\n\n\n\n\n", 1),
                   "GLOBAL posix.system", "posix.system")

# 4. Huge claimed lengths, memo and stack out of bounds.
listing = ops(one)
def first(opname):
    return next(pos for name, arg, pos in listing if name == opname)
frame = first("FRAME")
expect_input_error(one[:frame + 1] + struct.pack("<Q", 2 ** 63) + one[frame + 9:], "FRAME 2**63", "FRAME")
s = first("SHORT_BINUNICODE")
for length in (0xFFFFFFFF, len(one)):
    expect_input_error(one[:s] + b"X" + struct.pack("<I", length) + one[s + 2:], "BINUNICODE %d" % length, "BINUNICODE")
expect_input_error(one[:s] + b"\x8d" + struct.pack("<Q", 2 ** 64 - 1) + one[s + 2:], "BINUNICODE8 2**64-1",
                   "BINUNICODE8")
g = first("BINGET")
expect_input_error(one[:g] + b"h\xfa" + one[g + 2:], "BINGET 250", "memo")
expect_input_error(one[:g] + b"j\xff\xff\xff\xff" + one[g + 2:], "LONG_BINGET 2**32-1", "memo")
m = first("MEMOIZE")
expect_input_error(one[:m] + b"r\xff\xff\xff\x7f" + one[m + 1:], "LONG_BINPUT 2**31-1", "memo")
i = first("BININT1")
expect_input_error(one[:i] + b"\x8b\xff\xff\xff\x7f" + one[i + 2:], "LONG4 2**31-1", "LONG4")
expect_input_error(one[:i] + b"\x8a\xff" + one[i + 2:], "LONG1 255", None)
expect_input_error(b"\x80\x05" + b"0" * 10 + b".", "POP on empty stack", "empty stack")
expect_input_error(b"\x80\x05" + b"e" + b".", "APPENDS without MARK", "MARK")
expect_input_error(b"\x80\x05" + b"(" * 5000000 + b".", "5M MARKs", None)
expect_input_error(b"\x80\x05" + b")" * 3000000 + b".", "3M empty tuples", "not a tracemalloc.Snapshot")
expect_input_error(b"\x80\x05" + b"]" * 3000000 + b".", "3M lists", "not a tracemalloc dump")
# Memo jumps: each LONG_BINPUT 64K slots further would need 30 GB.
jumps = b"".join(b"r" + struct.pack("<I", (k + 1) * 65536) for k in range(60000))
expect_input_error(b"\x80\x05N" + jumps + b".", "LONG_BINPUT jumps", "memo")
expect_input_error(b"\x80\x06.", "protocol 6", "protocol")
# Wrong shapes: a negative size, a trace without frames.
neg = subprocess.run([python, "-c", "import tracemalloc, sys, pickle; "
                      "sys.stdout.buffer.write(pickle.dumps(tracemalloc.Snapshot([(0, -5, (('a.py', 1),), 1)], 1), 5))"],
                     capture_output=True, check=True).stdout
expect_input_error(neg, "negative size", "traces[0]")
nof = subprocess.run([python, "-c", "import tracemalloc, sys, pickle; "
                      "sys.stdout.buffer.write(pickle.dumps(tracemalloc.Snapshot([(0, 5, (), 1)], 1), 5))"],
                     capture_output=True, check=True).stdout
expect_input_error(nof, "empty frames", "traces[0]")
mixed = subprocess.run([python, "-c", "import tracemalloc, sys, pickle; sys.stdout.buffer.write(pickle.dumps("
                        "tracemalloc.Snapshot([(0, 5, (('a.py', 1),), 1), (0, 5, (('a.py', 1),))], 1), 5))"],
                       capture_output=True, check=True).stdout
expect_input_error(mixed, "mixed arity", "items")

# dominators / paths on a dump: a clear error.
for command in (["dominators"], ["paths", "1"]):
    r = heapscope(*(command + [os.path.join(work, "main.pickle")]))
    if r.returncode != 2 or b"tracemalloc" not in r.stderr:
        fail("%s on a tracemalloc dump: exit %d %r" % (command[0], r.returncode, r.stderr))
print("%d hostile inputs refused with one line; %d flips survived" % (n, 3 * len(one)))
