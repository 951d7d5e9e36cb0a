"""``benchmarks/rank_cluster.py`` on a small network: a ranking's tasks on a real Dask cluster of worker processes
(127.0.0.1) against this process. No time is asserted; what is asserted is the script's verdict, bit for bit."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytest.importorskip("distributed")


def test_a_rankings_tasks_on_dask_workers_are_bit_identical(capsys):
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import rank_cluster
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    assert rank_cluster.main(["--entities", "300", "--tasks", "1", "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert "identical to this process, bit for bit: yes" in out, out
    assert re.search(r"worker tcp://127\.0\.0\.1:\d+: resident \d+ MB", out), out
    assert not re.search(r"\b(nan|inf|infinity)\b", out, re.IGNORECASE), out
