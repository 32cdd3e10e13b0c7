"""The tracemalloc oracle needs at least two pyenv CPythons in 3.6..3.13."""
from tm_common import MINORS, fail, find_python

present = ["3.%d" % m for m in MINORS if find_python(m)]
print("CPythons for the tracemalloc oracle:", ", ".join(present) or "none")
if len(present) < 2:
    fail("at least two pyenv CPythons between 3.6 and 3.13 are needed, found %d" % len(present))
