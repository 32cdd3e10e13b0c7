"""Shared helpers for the tracemalloc script tests."""
import glob
import os
import subprocess
import sys

SOURCE = os.environ.get("HEAPSCOPE_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("HEAPSCOPE_BIN", "heapscope")
WORK = os.environ.get("HEAPSCOPE_WORK_DIR", "/tmp")
TESTDATA = os.path.join(SOURCE, "testdata", "tracemalloc")
MINORS = range(6, 14)


def pyenv_root():
    try:
        return subprocess.run(["pyenv", "root"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return os.path.expanduser("~/.pyenv")


def find_python(minor):
    """The newest pyenv CPython 3.<minor>.x, or None."""
    found = []
    for path in glob.glob(os.path.join(pyenv_root(), "versions", "3.%d.*" % minor)):
        name = os.path.basename(path)
        parts = name.split(".")
        exe = os.path.join(path, "bin", "python3")
        if len(parts) == 3 and parts[2].isdigit() and os.access(exe, os.X_OK):
            found.append((int(parts[2]), exe))
    return max(found)[1] if found else None


def make_dumps(python, outdir):
    os.makedirs(outdir, exist_ok=True)
    env = dict(os.environ, PYTHONHASHSEED="0")
    subprocess.run([python, os.path.join(TESTDATA, "make_dumps.py"), outdir], check=True, env=env)


def heapscope(*args, timeout=60):
    return subprocess.run([BIN] + [str(a) for a in args], capture_output=True, timeout=timeout)


def fail(message):
    print("FAIL:", message)
    sys.exit(1)
