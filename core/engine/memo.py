"""Per-network constants the steps derive from the compiled network, built once and kept with it.

A step that derives an index set or lookup from fields of :class:`~core.engine.compiled.Compiled` alone (which
cohorts a pool prices, each cohort's pool, the distinct tokens its sales move) gets the same arrays every round;
:func:`per_network` builds them on the first call and keeps them in the instance's ``__dict__`` (the compiled
network is frozen: its fields never change once compiled, so neither do the constants). A view of some cohorts
(:class:`~core.engine.limits.Cohorts`) keeps its own. The constants are the same arrays the step built before,
so the results are the same to the last bit.
"""

from __future__ import annotations

from typing import Any, Callable, Hashable, TypeVar

T = TypeVar("T")


def per_network(c: Any, key: Hashable, build: Callable[[], T]) -> T:
    """``build()``, computed once per compiled network ``c`` (or cohort view) under ``key`` and kept."""
    kept = c.__dict__
    try:
        return kept[key]
    except KeyError:
        value = kept[key] = build()
        return value
