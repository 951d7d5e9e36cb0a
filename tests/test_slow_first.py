"""tests/slow_first.py: the order of the run under ``-n 2 --dist worksteal`` (the longest tests first on each worker)."""

from __future__ import annotations

import re
import types
from pathlib import Path

import pytest

import slow_first

ROOT = Path(__file__).resolve().parent.parent


class Item:
    """What :func:`slow_first.order` reads of a pytest item."""

    def __init__(self, nodeid: str, module: types.SimpleNamespace | None = None, params: str | None = None):
        self.nodeid, self.name = nodeid, nodeid.split("::")[-1]
        self.originalname = self.name.split("[")[0]
        self.module = module
        if params is not None:
            self.callspec = types.SimpleNamespace(id=params, params={})


def _config(dist: str = "worksteal") -> types.SimpleNamespace:
    return types.SimpleNamespace(option=types.SimpleNamespace(dist=dist))


@pytest.fixture
def two_workers(monkeypatch):
    monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", "2")
    monkeypatch.setattr(slow_first, "SLOW", (("tests/a.py::test_long", 30.0), ("tests/b.py::test_mid", 20.0),
                                             ("tests/c.py::test_search[x]", 10.0)))


def test_the_longest_start_each_half_and_every_other_test_keeps_its_order(two_workers):
    shares = types.SimpleNamespace(shared_work=lambda item: ("search", item.callspec.id)
                                   if item.originalname.startswith("test_search") else None)
    items = [Item(f"tests/a.py::test_{i}") for i in range(6)] + [Item("tests/a.py::test_long")]
    items += [Item(f"tests/b.py::test_{i}") for i in range(5)] + [Item("tests/b.py::test_mid")]
    items += [Item("tests/c.py::test_search[x]", shares, "x"), Item("tests/c.py::test_search_too[x]", shares, "x"),
              Item("tests/c.py::test_search_too[y]", shares, "y")]
    before = [i.nodeid for i in items]
    slow_first.order(_config(), items)
    after = [i.nodeid for i in items]
    assert sorted(after) == sorted(before)
    half = len(items) // 2  # what worksteal hands the first worker
    # LPT: the 30 s test heads one half; the 20 s one and the 10 s search (with the test that reads it) the other
    assert after[0] == "tests/a.py::test_long"
    assert after[half:half + 3] == ["tests/b.py::test_mid", "tests/c.py::test_search[x]", "tests/c.py::test_search_too[x]"]
    rest = [n for n in after if n not in {"tests/a.py::test_long", "tests/b.py::test_mid", "tests/c.py::test_search[x]",
                                          "tests/c.py::test_search_too[x]"}]
    assert rest == [n for n in before if n in rest]


@pytest.mark.parametrize("dist, workers", [("load", "2"), ("worksteal", "1"), ("worksteal", "")])
def test_other_runs_keep_the_collection_order(monkeypatch, dist, workers):
    monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", workers)
    items = [Item(f"tests/a.py::test_{i}") for i in range(4)] + [Item(slow_first.SLOW[0][0])]
    before = list(items)
    slow_first.order(_config(dist), items)
    assert items == before


def test_a_worker_reads_the_dist_mode_from_the_controllers_command_line():
    worker = types.SimpleNamespace(option=types.SimpleNamespace(dist="no"))
    for argv, dist in ((["pytest", "-n", "2", "--dist", "worksteal"], "worksteal"), (["pytest", "--dist=load"], "load"),
                       (["pytest", "-n", "2"], None)):
        worker.workerinput = {"mainargv": argv}
        assert slow_first._dist(worker) == dist


def test_every_slow_test_named_is_in_the_suite():
    """The table names tests that exist (a renamed test would silently lose its place)."""
    for nodeid, seconds in slow_first.SLOW:
        path, name = nodeid.split("::", 1)
        function = name.split("[", 1)[0]
        assert seconds > 0 and re.search(rf"^(async )?def {function}\(", (ROOT / path).read_text(), re.M), nodeid
