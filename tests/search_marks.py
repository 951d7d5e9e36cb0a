"""Marks for the adversarial searches whose space holds open counterexamples.

Under the CI profile (``derandomize=True``, tests/conftest.py) a search draws the same examples on
every run, so its outcome is fixed by the code under test:

* a search that finds no violation there runs as a plain test: a change that makes it find one fails;
* a search that finds a known open violation there is a strict xfail: it fails when the violation is
  gone, so the mark must then be removed.

Under random draws (the dev profile) a search may or may not reach the open counterexamples kept in
``tests/regressions/invariant_counterexamples.json`` and the OPEN lists, so there the mark is a
non-strict xfail. Either way CI, which runs the derandomized profile, can fail.
"""

from __future__ import annotations

import pytest
from hypothesis import settings

DERANDOMIZED = bool(settings().derandomize)


def open_search(reason: str, *, finds_under_ci: bool) -> pytest.MarkDecorator:
    """The mark for a search over a space with open counterexamples (see the module docstring).

    ``finds_under_ci`` records what the derandomized search measures on the current code. (It no longer
    depends on the tests run before it in the same process: tests/conftest.py imports every project module
    first, since hypothesis draws constants from the project modules already imported.)
    """
    if not DERANDOMIZED:
        return pytest.mark.xfail(strict=False, reason="random draws may reach an open case: " + reason)
    if finds_under_ci:
        return pytest.mark.xfail(strict=True, reason="the derandomized search finds it: " + reason)
    return pytest.mark.search
