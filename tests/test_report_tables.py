"""The result tables built in one pass give what the per-entity filters gave.

``_nodes_reference`` is the original per-defaulted-entity pandas filter (O(n × defaults)),
kept here as the reference the one-pass :func:`core.report._causes` is checked against.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

import core
from core import datasets
from core.engine import compile_network, simulate_batch
from core.report import _causes
from core.results import CHANNELS
from core.scenario import Scenario


def _causes_reference(c, dr, channels_raw, paths):
    cause, caused_by = [], []
    for i in range(c.n):
        if dr[i] < 0:
            cause.append(""), caused_by.append("")
            continue
        chans = channels_raw[dr[i], i]
        ch = CHANNELS[int(np.argmax(chans))] if chans.sum() > 0 else "shock"
        inc = paths[(paths["target"] == c.ids[i]) & (paths["round"] <= dr[i]) & (paths["channel"] == ch)]
        if inc.empty:
            inc = paths[(paths["target"] == c.ids[i]) & (paths["round"] <= dr[i])]
        cause.append(ch)
        # the largest amount; ties go to the row listed last
        caused_by.append(str(inc.iloc[np.flatnonzero(inc["amount_usd"].to_numpy() == inc["amount_usd"].max())[-1]]["source"])
                         if len(inc) else "SHOCK")
    return cause, caused_by


@settings(max_examples=12, deadline=None)
@given(st.integers(60, 400), st.integers(0, 10_000), st.floats(0.05, 0.9), st.floats(0.0, 1.0))
def test_one_pass_causes_equal_the_per_entity_filters(n, seed, depth, run):
    net = datasets.synthetic(n, 6 * n, seed=seed)
    syms = list(net.assets["symbol"])
    sc = Scenario(price_shocks={syms[0]: -depth, syms[-1]: -depth / 2}, run_intensity=run, horizon=20)
    res = core.simulate(net, sc)
    br = simulate_batch(net, [sc], record=True)
    c = compile_network(net)
    cause, caused_by = _causes(c, br.default_round[0], br.history["channels_raw"][0], res.paths)
    ref_cause, ref_by = _causes_reference(c, br.default_round[0], br.history["channels_raw"][0], res.paths)
    assert list(cause) == ref_cause
    assert list(caused_by) == ref_by


@pytest.mark.parametrize("preset", ["terra_may_2022", "ftx_nov_2022", "tac_june_2022", "steth_june_2022",
                                    "black_thursday_eth_crash"])
def test_shipped_presets_causes_equal_the_per_entity_filters(preset):
    from core.scenario import parse_scenario
    from pathlib import Path
    net = datasets.load("crypto-2022-05")
    path = Path(__file__).resolve().parent.parent / "data" / "scenarios" / f"{preset}.json"
    sc = parse_scenario(path.read_text())
    res = core.simulate(net, sc)
    br = simulate_batch(net, [sc], record=True)
    c = compile_network(net)
    cause, caused_by = _causes(c, br.default_round[0], br.history["channels_raw"][0], res.paths)
    assert (list(cause), list(caused_by)) == _causes_reference(c, br.default_round[0], br.history["channels_raw"][0], res.paths)
    assert (res.nodes["default_round"] >= 0).sum() == (pd.Series(caused_by) != "").sum()


@settings(max_examples=25, deadline=None)
@given(R=st.integers(1, 6), n=st.integers(1, 9), seed=st.integers(0, 10_000))
def test_rounds_table_from_one_block_equals_the_column_construction(R, n, seed):
    """``rounds`` written once into one float block (no consolidation copy) is, to the bit, the table the
    dict of columns gave: same values, dtypes, column order and index."""
    from core.report import _rounds_table
    from core.results import STATUSES

    rng = np.random.default_rng(seed)
    h = {k: rng.normal(size=(1, R, n)) for k in ("equity", "loss", "liquidated", "bad_debt")}
    h["channels"] = rng.normal(size=(1, R, n, len(CHANNELS)))
    h["status"] = rng.integers(0, len(STATUSES), size=(1, R, n))
    ids = np.array([f"E{i}" for i in range(n)], dtype=object)
    names = np.array(STATUSES, dtype=object)
    ch = h["channels"][0]
    reference = pd.DataFrame({
        "round": np.repeat(np.arange(R), n), "entity": np.tile(ids, R), "equity_usd": h["equity"][0].ravel(),
        "status": names[h["status"][0].ravel()], "loss_usd": h["loss"][0].ravel(),
        "liquidated_usd": h["liquidated"][0].ravel(), "bad_debt_usd": h["bad_debt"][0].ravel(),
        **{f"loss_{name}_usd": ch[:, :, i].ravel() for i, name in enumerate(CHANNELS)}})
    pd.testing.assert_frame_equal(_rounds_table(R, ids, h, names, 0), reference, check_exact=True)
