#!/usr/bin/env python3
"""Builds a test program of testdata/core, runs it to its "ready" point and
takes its core with gcore. Used by tests/core and bench/core.

    make_core.py SOURCE OUTDIR [--filter 0x33] [--name NAME] [--kernel] [-- PROGRAM ARGS]

SOURCE is a .c or .cpp file, or with --python PYTHON a Python script run by
that interpreter. The program is run as `PROGRAM ADDR_FILE [ARGS]`
and must print "ready <pid>" on stdout once its heap is in the state to
check. Writes OUTDIR/NAME (the binary), OUTDIR/NAME.addrs (what the program
recorded) and OUTDIR/NAME.core, prints the core's path, and exits 77 when
this machine cannot take a core (no gcore, or ptrace not permitted).

--kernel: the kernel writes the core instead of gcore. The program runs with
RLIMIT_CORE unlimited in a directory of its own and gets SIGABRT on its main
thread (tgkill), so the main thread dumps and its registers come first;
the other threads follow in the order they stopped, which the kernel does
not fix. Exits 77 when core_pattern sends cores elsewhere (a pipe to
systemd-coredump or apport, or another directory).
"""
import argparse
import ctypes
import os
import resource
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
    parser.add_argument("--kernel", action="store_true", help="let the kernel write the core (SIGABRT)")
    parser.add_argument("args", nargs="*")
    opts = parser.parse_args()

    if opts.kernel:
        kernel_core_name()  # skips early when the kernel would put the core elsewhere
    elif shutil.which("gcore") is None or shutil.which("gdb") is None:
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

    if opts.kernel:
        take_kernel_core(program + [addrs] + opts.args, binary + ".kdir", core, opts.filter)
        print(core)
        return
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


def kernel_core_name():
    """The file name the kernel gives a core in the dumping process's directory, minus the pid."""
    with open("/proc/sys/kernel/core_pattern") as f:
        pattern = f.read().strip()
    if not pattern or pattern.startswith("|") or "/" in pattern or "%" in pattern:
        skip("core_pattern is %r: the kernel does not write plain core files in the process's directory" % pattern)
    return pattern


def take_kernel_core(command, directory, core, coredump_filter):
    name = kernel_core_name()
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory)

    def allow_cores():
        resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))

    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=directory, preexec_fn=allow_cores)
    line = proc.stdout.readline().split()
    if len(line) != 2 or line[0] != "ready":
        proc.kill()
        proc.wait()
        sys.exit("%s did not get ready (said %r)" % (command[0], line))
    pid = int(line[1])
    if coredump_filter:
        with open("/proc/%d/coredump_filter" % pid, "w") as f:
            f.write(coredump_filter)
    libc = ctypes.CDLL(None, use_errno=True)
    sys_tgkill = 234  # x86_64
    if libc.syscall(sys_tgkill, pid, pid, signal.SIGABRT) != 0:
        proc.kill()
        proc.wait()
        sys.exit("tgkill failed: errno %d" % ctypes.get_errno())
    _, status = os.waitpid(pid, 0)
    proc.returncode = -signal.SIGABRT  # reaped above; keeps Popen from waiting again
    if not os.WCOREDUMP(status):
        skip("the kernel wrote no core (status %#x; RLIMIT_CORE or the container forbids it)" % status)
    with open("/proc/sys/kernel/core_uses_pid") as f:
        uses_pid = f.read().strip() == "1"
    made = os.path.join(directory, name + (".%d" % pid if uses_pid else ""))
    if not os.path.exists(made):
        made = os.path.join(directory, name)
    if not os.path.exists(made):
        sys.exit("the kernel reported a core but %s is not there: %s" % (made, os.listdir(directory)))
    os.replace(made, core)
    shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
