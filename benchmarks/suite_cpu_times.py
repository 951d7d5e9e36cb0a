"""A pytest plugin that records each test's wall and CPU seconds (set-up, call and tear-down), one JSON file per worker.

Run: ``PYTHONPATH=.:benchmarks CPU_TIMES_OUT=/tmp/ct python -m pytest -n 2 --dist worksteal -p suite_cpu_times``
writes ``/tmp/ct.gw0.json``, ``/tmp/ct.gw1.json``: ``[[nodeid, cpu_s, wall_s, live_cpu_s], ...]``. ``cpu_s`` is the
worker's own (all threads) plus the children it reaped during the test, so a pool reaped later books its CPU on the
test that reaped it (a test can show more CPU than wall). ``live_cpu_s`` is the CPU the worker's live descendants
spent during the test, read from ``/proc`` (Linux; 0 elsewhere): user + system of each, and of the children each
reaped. It holds what ``cpu_s`` cannot see: Chromium's processes, which are never reaped into the worker's usage (a
browser test's ``cpu_s`` was 0.1-1 s where Chromium spent 3-22 s, session 41). The two add up to the process tree's
CPU in the test; a descendant that ends in a test takes its earlier CPU out of ``live_cpu_s`` (negative on the test
that closes the browser, at a worker's end), and one the worker reaps then books it again in ``cpu_s``.
``benchmarks/worksteal_replay.py`` replays the run's schedule from these figures.
"""

from __future__ import annotations

import json
import os
import resource
import time

import pytest

_ROWS: list[tuple[str, float, float, float]] = []


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _cpu() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _live_descendants_cpu() -> float:
    """utime + stime + cutime + cstime (proc(5), fields 14-17) summed over this process's live descendants."""
    if not os.path.isdir("/proc"):
        return 0.0
    children: dict[int, list[tuple[int, float]]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()  # from field 3 on (the name may hold spaces)
        children.setdefault(int(fields[1]), []).append((int(entry), sum(map(int, fields[11:15])) / _TICK))
    total, stack = 0.0, [os.getpid()]
    while stack:
        for pid, cpu in children.get(stack.pop(), ()):
            total += cpu
            stack.append(pid)
    return total


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    cpu, live, wall = _cpu(), _live_descendants_cpu(), time.perf_counter()
    yield
    _ROWS.append((item.nodeid, _cpu() - cpu, time.perf_counter() - wall, _live_descendants_cpu() - live))


def pytest_sessionfinish(session):
    out = os.environ.get("CPU_TIMES_OUT")
    if out:
        with open(f"{out}.{os.environ.get('PYTEST_XDIST_WORKER', 'main')}.json", "w") as f:
            json.dump(_ROWS, f)
