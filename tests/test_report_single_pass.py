"""Every table of ``core.simulate`` equals, to the bit, the one the old report built from the dense history.

``report_reference.reference_tables`` is the report as it was before its tables were built in one pass
per round (channels straight into the ``rounds`` block, price losses and per-edge write-downs round by
round from what changed, the ``rounds`` index from its known structure). The comparison is exact
(``check_exact``, same dtypes, same index, same row order) on every shipped preset and on random shocks
of the snapshots and of synthetic networks (2025's with its perpetuals venues).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

import core
from core import datasets
from core.engine import compile_network, run_batch, scenario_batch
from core.scenario import Scenario

from report_reference import reference_tables

TABLES = ("rounds", "prices", "totals", "nodes", "paths", "summary", "perps")
SCENARIOS = Path(__file__).resolve().parent.parent / "data" / "scenarios"


def assert_same_tables(net: core.Network, sc: Scenario) -> None:
    res = core.simulate(net, sc)
    c = compile_network(net)
    ref = reference_tables(net, sc, run_batch(c, scenario_batch(net, [sc]), record=True), c)
    for name in TABLES:
        got, want = getattr(res, name), ref[name]
        pd.testing.assert_frame_equal(got, want, check_exact=True, obj=name)
        pd.testing.assert_index_equal(got.index, want.index, exact=True, check_exact=True, obj=f"{name}.index")


@pytest.mark.parametrize("preset", sorted(p.stem for p in SCENARIOS.glob("*.json") if p.stem != "scenario.schema"))
def test_presets_tables_equal_the_dense_report(preset):
    sc = core.load_scenario(SCENARIOS / f"{preset}.json")
    assert_same_tables(datasets.network_of(sc), sc)


@settings(max_examples=12, deadline=None)
@given(name=st.sampled_from(["crypto-2022-05", "crypto-2025-10", "crypto-2020-03", "synthetic"]),
       seed=st.integers(0, 10_000), depth=st.floats(0.05, 0.9), run=st.floats(0.0, 1.0), forced=st.integers(0, 3))
def test_random_shocks_tables_equal_the_dense_report(name, seed, depth, run, forced):
    if name == "synthetic":
        net = datasets.synthetic(120 + seed % 200, 900, seed=seed % 7)
    else:
        net = datasets.load(name)
    rng = np.random.default_rng(seed)
    syms = list(net.assets["symbol"])
    shocked = rng.choice(len(syms), size=min(3, len(syms)), replace=False)
    ids = net.entities["id"].astype(str).tolist()
    sc = Scenario(price_shocks={syms[i]: -depth * (j + 1) / 3 for j, i in enumerate(shocked)}, run_intensity=run,
                  forced_defaults=[ids[int(i)] for i in rng.choice(len(ids), size=forced, replace=False)])
    assert_same_tables(net, sc)



@pytest.mark.parametrize("n", [1_000, 10_000])
def test_synthetic_storm_tables_equal_the_dense_report(n):
    # the benchmark's storm (benchmarks/bench_scale.py): at 10,000 entities the channel split runs in chunks of
    # rounds (core.report.SPLIT_CHUNK) and the rounds block is taken from a mapping (core.pages)
    net = datasets.synthetic(n, 10 * n, seed=1)
    seeds = list(net.entities["id"][: max(1, n // 1000)])
    assert_same_tables(net, Scenario(forced_defaults=seeds, price_shocks={"ETH": -0.3, "BTC": -0.2},
                                     run_intensity=0.5, horizon=20))
