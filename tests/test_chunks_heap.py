"""core.chunks.keep_freed_heap: the engine's freed arrays stay in the C heap for the next round."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux") or os.confstr("CS_GNU_LIBC_VERSION") is None,
                                reason="glibc's malloc only")

_ROUNDS = """
import resource, sys
import numpy as np
import core.chunks
if sys.argv[1] == "keep":
    assert core.chunks.keep_freed_heap()
if sys.argv[1] == "lean":
    assert core.chunks.leave_heap_lean() and not core.chunks.keep_freed_heap()
faults = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(3):  # warm-up: the heap reaches its size
    a = [np.ones((273, 1000)) for _ in range(3)]; del a
f = faults()
for _ in range(100):  # a round's arrays: three of 273 x 1,000 floats (2.2 MB), allocated, written, freed
    a = [np.ones((273, 1000)) for _ in range(3)]; del a
print(faults() - f)
"""


def _faults(mode: str, env: dict[str, str] | None = None) -> int:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_") and k != "GLIBC_TUNABLES"} | (env or {})
    out = subprocess.run([sys.executable, "-c", _ROUNDS, mode], capture_output=True, text=True, check=True, env=env)
    return int(out.stdout.split()[-1])


def test_freed_arrays_are_not_faulted_in_again():
    # glibc's default gives back the top of the heap (more than twice the largest freed block free there) and
    # faults it in again: measured 103,400 faults over the 100 rounds (~1,000 a round, two arrays' pages);
    # with the settings 0
    assert _faults("default") > 30_000
    assert _faults("keep") < 1_000


def test_settings_are_left_alone_where_the_process_set_its_own():
    env = os.environ | {"MALLOC_TRIM_THRESHOLD_": "4194304"}
    out = subprocess.run([sys.executable, "-c", "import core.chunks; print(core.chunks.keep_freed_heap())"],
                         capture_output=True, text=True, check=True, env=env)
    assert out.stdout.strip() == "False"


def test_a_lean_heap_gives_freed_arrays_back():
    # the dashboard's setting (core.chunks.leave_heap_lean): each 2.2 MB array a mapping of its own, returned at
    # free and faulted in again, ~540 pages each: more faults than glibc's sliding default, none kept
    assert _faults("lean") > 100_000


def test_a_lean_heap_comes_too_late_once_the_heap_is_kept():
    script = "import core.chunks as c; print(c.keep_freed_heap(), c.leave_heap_lean(), c.keep_freed_heap())"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                         env={k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")})
    assert out.stdout.split() == ["True", "False", "True"]
