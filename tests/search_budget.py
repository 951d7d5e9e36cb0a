"""The bookkeeping of the adversarial searches: their time budget, the worst violation each saw, and the report.

Under CI a searched property runs its hypothesis search once (the derandomized profile, tests/conftest.py);
under ``SFM_SEARCH=long`` it runs again and again for ``SFM_SEARCH_SECONDS`` and appends its worst example to
``SFM_SEARCH_REPORT`` (JSON lines), which ``benchmarks/monotone_search.py`` reads.
"""

from __future__ import annotations

import json
import os
import time
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from invariants_support import Violation


def long_search() -> bool:
    return os.environ.get("SFM_SEARCH", "") == "long"


def search_seconds() -> float:
    """Wall-clock budget of one searched property in the long profile (SFM_SEARCH_SECONDS, default 200)."""
    return float(os.environ.get("SFM_SEARCH_SECONDS", "200"))


class Worst:
    """The worst violation seen by a search (and how many examples it tried)."""

    def __init__(self) -> None:
        self.v: Violation | None = None
        self.examples = 0

    def see(self, v: Violation) -> None:
        self.examples += 1
        if self.v is None or v.size > self.v.size:
            self.v = v

    @property
    def size(self) -> float:
        return 0.0 if self.v is None else self.v.size


def run_search(run_once: Callable[[], None], budget_s: float | None) -> None:
    """Run a hypothesis-decorated search once (CI), or again and again until ``budget_s`` (long profile)."""
    if budget_s is None:
        run_once()
        return
    end = time.monotonic() + budget_s
    while time.monotonic() < end:
        run_once()


def report(name: str, worst: Worst, elapsed: float) -> None:
    """Append the worst example of a search to ``SFM_SEARCH_REPORT`` (JSON lines), when set."""
    path = os.environ.get("SFM_SEARCH_REPORT")
    if not path:
        return
    row = {"search": name, "examples": worst.examples, "seconds": round(elapsed, 1),
           "worst": None if worst.v is None else worst.v.case(name) | {"detail": worst.v.detail}}
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(row, default=float) + "\n")
