"""Depths of a monotonicity counterexample: one list for every asset, or a list per asset.

An entry of ``tests/regressions/invariant_counterexamples.json`` with ``"invariant": "monotone.*"`` names the
shocked ``assets`` and their ``depths`` in one of two forms:

* ``"depths": [d1, d2]``: every asset of ``assets`` shocked to ``-d1``, then to ``-d2`` (mode ``"price"``; a
  depeg by ``d1``, then ``d2``, in mode ``"depeg"``);
* ``"depths": {"TOKEN": [a1, a2], "ETH": [b1, b2]}``: each asset by its own depths, the j-th depth of every asset
  together making the j-th scenario (the searches deepen a group of assets by one factor on their prices,
  :mod:`benchmarks.monotone_search`, so the assets move by different amounts). ``assets`` then lists the same
  assets as the keys.

Either way the depths are a sequence of points, each a mapping asset -> depth, ascending: every asset's depth
never falls from one point to the next (a deeper shock on each asset).
"""

from __future__ import annotations

import json
from typing import Any, Mapping, Sequence, Union

from core.scenario import Scenario

#: The two forms of an entry's ``depths``.
Depths = Union[Sequence[float], Mapping[str, Sequence[float]]]


def per_asset(depths: Depths) -> bool:
    """Whether ``depths`` gives each asset its own depths (a mapping)."""
    return isinstance(depths, Mapping)


def depth_points(assets: Sequence[str], depths: Depths) -> list[dict[str, float]]:
    """The scenarios' depths as points (asset -> depth), ascending.

    A list is sorted and applied to every asset of ``assets``; a mapping must name exactly ``assets``, give each
    the same number of depths, and never make an asset shallower from one point to the next (ValueError)."""
    if not per_asset(depths):
        return [{a: float(d) for a in assets} for d in sorted(depths)]  # type: ignore[arg-type]
    m: Mapping[str, Sequence[float]] = depths  # type: ignore[assignment]
    if set(m) != set(assets):
        raise ValueError(f"per-asset depths name {sorted(m)}, the entry's assets are {sorted(assets)}")
    lengths = {len(v) for v in m.values()}
    if len(lengths) != 1:
        raise ValueError(f"per-asset depths of different lengths: { {a: len(v) for a, v in m.items()} }")
    n = lengths.pop()
    for a, v in m.items():
        if any(v[j + 1] < v[j] for j in range(n - 1)):
            raise ValueError(f"depths of {a} are not ascending: {list(v)}")
    return [{a: float(m[a][j]) for a in assets} for j in range(n)]


def at_point(base: Scenario, point: Mapping[str, float], mode: str) -> Scenario:
    """``base`` with each asset of ``point`` shocked to ``-depth`` (mode ``"price"``) or depegged by ``depth``."""
    if mode == "price":
        return base.model_copy(update={"price_shocks": {**base.price_shocks, **{a: -d for a, d in point.items()}}})
    return base.model_copy(update={"depegs": {**base.depegs, **{a: d for a, d in point.items()}}})


def pair_depths(assets: Sequence[str], shallow: Mapping[str, float], deep: Mapping[str, float]) -> Depths:
    """An entry's ``depths`` for two points: a list where every asset has the same depth at each, else a mapping."""
    if len({shallow[a] for a in assets}) == 1 and len({deep[a] for a in assets}) == 1:
        return [shallow[assets[0]], deep[assets[0]]]
    return {a: [shallow[a], deep[a]] for a in assets}


def describe(point: Mapping[str, float]) -> str:
    """A point for a note: ``0.1687`` when every asset has one depth, else ``ETH 0.168731879, TOKEN 0.111637908``."""
    values = set(point.values())
    if len(values) == 1:
        return f"{values.pop():.4f}"
    return ", ".join(f"{a} {d:.9f}" for a, d in point.items())


def search_entry(network: str, base: Mapping[str, Any], shallow: Mapping[str, float], deep: Mapping[str, float],
                 measured: Mapping[str, Any], found: str, case_id: str = "monotone-CHANGE-ME") -> dict[str, Any]:
    """A candidate table entry for a pair of price shocks found by ``benchmarks/monotone_search.py``.

    ``base``: the search's base scenario (its ``price_shocks`` the assets moved at both depths); ``shallow`` and
    ``deep``: the deepened assets' price shocks (negative); ``measured``: what the search measured. The entry is a
    strict xfail (no ``fixed``) until its cause is traced and fixed; ``cause`` is left for whoever traces it."""
    assets = sorted(shallow)
    scenario = Scenario(**{k: v for k, v in base.items() if v is not None})
    doc = json.loads(scenario.model_dump_json(exclude_defaults=True))
    return {"id": case_id, "invariant": "monotone.usd", "network": network, "assets": assets, "mode": "price",
            "depths": pair_depths(assets, {a: -shallow[a] for a in assets}, {a: -deep[a] for a in assets}),
            "scenario": doc, "cause": "not traced (open)", "found": found, "measured": dict(measured)}
