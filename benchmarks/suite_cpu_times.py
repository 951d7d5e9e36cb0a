"""A pytest plugin that records each test's wall and CPU seconds (set-up, call and tear-down), one JSON file per worker.

Run: ``PYTHONPATH=.:benchmarks CPU_TIMES_OUT=/tmp/ct python -m pytest -n 2 --dist worksteal -p suite_cpu_times``
writes ``/tmp/ct.gw0.json``, ``/tmp/ct.gw1.json``: ``[[nodeid, cpu_s, wall_s], ...]``. CPU is the worker's own
(all threads) plus the children it reaped during the test, so a pool or browser reaped later books its CPU on the
test that reaped it (a test can show more CPU than wall). ``benchmarks/worksteal_replay.py`` replays the run's
schedule from these figures.
"""

from __future__ import annotations

import json
import os
import resource
import time

import pytest

_ROWS: list[tuple[str, float, float]] = []


def _cpu() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    cpu, wall = _cpu(), time.perf_counter()
    yield
    _ROWS.append((item.nodeid, _cpu() - cpu, time.perf_counter() - wall))


def pytest_sessionfinish(session):
    out = os.environ.get("CPU_TIMES_OUT")
    if out:
        with open(f"{out}.{os.environ.get('PYTEST_XDIST_WORKER', 'main')}.json", "w") as f:
            json.dump(_ROWS, f)
