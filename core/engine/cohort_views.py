"""A compiled network seen through some of its cohorts (:class:`Cohorts`), and the few such views kept with it.

The liquidation step weighs liquidators' limit (:func:`core.engine.limits.liquidator_limit`), water-fills a scarce
capital (:mod:`core.engine.capital`) and runs the liquidation rules (:mod:`core.engine.cohort_rules`) on the
cohorts due only: a view cuts the cohort arrays those read to them and leaves every other field the network's. The
same cohorts come due round after round (synthetic(100k), one scenario: 5 distinct sets over 39 calls, each hit the
set of the call before), so a view and the per-network terms built on it (:mod:`core.engine.memo`) are kept with
the network, keyed by the cohorts' indices. The most recently used :data:`VIEWS_KEPT` are kept and the least
recently used dropped first: a Monte Carlo run meets new due sets chunk after chunk (the 2025 default network: 63
sets in 2,000 runs, each set met again within 2 calls), and a cache that only cleared at 256 views held every set
met so far, its traced peak growing 68 B a run from 2,000 to 8,000 runs.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import cast

import numpy as np

from .compiled import Compiled
from .memo import per_network

#: Most cohort views (:meth:`Cohorts.of`) kept with a compiled network, the least recently used dropped first.
VIEWS_KEPT = 8


class Cohorts:
    """The compiled network seen through some of its cohorts, ``cols``: the cohort arrays
    :func:`~core.engine.limits.liquidator_limit` and the liquidation rules
    (:func:`core.engine.cohort_rules.liquidate_cohorts`) read, cut to them; every other field is the network's.
    Every term of the limit is a cohort's own but the pool's fill (:func:`~core.mechanisms.liquidators.fill_by_margin`),
    whose running sums a cohort left out with nothing asked of it never changed, and which reads them alone (not
    ``cumsum - demand`` at a tie's first cohort, which moved by an ulp with an idle cohort starting the tie until
    session 44 (batchdep)), so each of ``cols`` gets the same units as on the whole network."""

    def __init__(self, c: Compiled, cols: np.ndarray) -> None:
        self._c = c
        self.c_ca, self.c_da, self.c_style = c.c_ca[cols], c.c_da[cols], c.c_style[cols]
        # and those the liquidation rules read (core.engine.cohort_rules)
        self.c_spread, self.c_full_close, self.c_named = c.c_spread[cols], c.c_full_close[cols], c.c_named[cols]
        self.c_safe_ratio = c.c_safe_ratio[cols]
        # and the fixed-price oracles of those (core.engine.oracle; a stand-in network may have no such field)
        fixed = getattr(c, "fixed_oracle", None)
        self.fixed_oracle = None if fixed is None else fixed.take(cols)

    @classmethod
    def of(cls, c: Compiled, cols: np.ndarray) -> Compiled:
        """The view of ``cols``, kept with ``c``: its per-network terms (:mod:`core.engine.memo`) are built once
        while it is among the :data:`VIEWS_KEPT` most recently used. (Each call on the ordered dict is one
        operation, so chunks on threads sharing it at most build a view twice.)"""
        views: OrderedDict[bytes, Cohorts] = per_network(c, "cohort_views", OrderedDict)
        key = np.asarray(cols, np.int64).tobytes()
        view = views.get(key)
        if view is None:
            view = views[key] = cls(c, cols)
            while len(views) > VIEWS_KEPT:
                try:
                    views.popitem(last=False)
                except KeyError:  # emptied by another thread
                    break
        else:
            try:
                views.move_to_end(key)
            except KeyError:  # dropped by another thread meanwhile: this call keeps its view
                pass
        return cast(Compiled, view)

    def __getattr__(self, name: str):
        if name == "_c" or name.startswith("__"):  # not set yet (a copy or an unpickled view being built)
            raise AttributeError(name)
        return getattr(self._c, name)


def any_spread(c: Compiled) -> bool:
    """Whether any cohort of ``c`` (a network or a view of some cohorts) has its positions spread about its health
    factor: the close-factor rule's branch (:func:`~core.mechanisms.lending.liquidate_aave`), once per network."""
    return per_network(c, "any_spread", lambda: bool((c.c_spread > 0).any()))
