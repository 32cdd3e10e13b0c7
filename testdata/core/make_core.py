#!/usr/bin/env python3
"""Builds a test program of testdata/core, runs it to its "ready" point and
takes its core with gcore. Used by tests/core and bench/core.

    make_core.py SOURCE OUTDIR [--filter 0x33] [--name NAME] [-- PROGRAM ARGS]

SOURCE is a .c or .cpp file, or with --python PYTHON a Python script run by
that interpreter. The program is run as `PROGRAM ADDR_FILE [ARGS]`
and must print "ready <pid>" on stdout once its heap is in the state to
check. Writes OUTDIR/NAME (the binary), OUTDIR/NAME.addrs (what the program
recorded) and OUTDIR/NAME.core, prints the core's path, and exits 77 when
this machine cannot take a core (no gcore, or ptrace not permitted).
"""
import argparse
import os
import shutil
import signal
import subprocess
import sys
import time


def skip(message):
    print("SKIP: " + message, file=sys.stderr)
    sys.exit(77)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("source")
    parser.add_argument("outdir")
    parser.add_argument("--filter", default=None, help="coredump_filter to set before gcore (hex)")
    parser.add_argument("--name", default=None)
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--python", default=None, help="run SOURCE (a .py script) with this interpreter")
    parser.add_argument("args", nargs="*")
    opts = parser.parse_args()

    if shutil.which("gcore") is None or shutil.which("gdb") is None:
        skip("gcore (gdb) is not installed")
    os.makedirs(opts.outdir, exist_ok=True)
    base = opts.name or os.path.splitext(os.path.basename(opts.source))[0]
    binary = os.path.join(opts.outdir, base)
    addrs = binary + ".addrs"
    core = binary + ".core"
    if opts.python:
        program = [opts.python, opts.source]
    else:
        program = [binary]
        cpp = opts.source.endswith(".cpp")
        compiler = os.environ.get("CXX" if cpp else "CC", "c++" if cpp else "cc")
        cmd = [compiler, "-O1", "-g", "-fno-omit-frame-pointer", "-pthread", "-o", binary, opts.source]
        if cpp:
            cmd.insert(1, "-std=c++17")
        build = subprocess.run(cmd, capture_output=True, text=True)
        if build.returncode != 0:
            sys.exit("compiling %s failed:\n%s" % (opts.source, build.stderr))

    proc = subprocess.Popen(program + [addrs] + opts.args, stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline().split()
        if len(line) != 2 or line[0] != "ready":
            sys.exit("%s did not get ready (said %r, exit %s)" % (program[-1], line, proc.poll()))
        pid = int(line[1])
        if opts.filter:
            with open("/proc/%d/coredump_filter" % pid, "w") as f:
                f.write(opts.filter)
        if os.path.exists(core):
            os.unlink(core)
        # gcore -o PREFIX writes PREFIX.PID.
        prefix = binary + ".gcore"
        took = subprocess.run(["gcore", "-o", prefix, str(pid)], capture_output=True, text=True,
                              timeout=opts.timeout)
        made = "%s.%d" % (prefix, pid)
        if took.returncode != 0 or not os.path.exists(made):
            text = took.stdout + took.stderr
            if "ptrace" in text or "Operation not permitted" in text:
                skip("gcore cannot attach here (ptrace not permitted): " + text.strip().splitlines()[-1])
            sys.exit("gcore failed (exit %d): %s" % (took.returncode, text.strip()))
        os.rename(made, core)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait()
    print(core)


if __name__ == "__main__":
    main()
