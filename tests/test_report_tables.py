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


@settings(max_examples=12, deadline=None)
@given(st.integers(60, 400), st.integers(0, 10_000), st.floats(0.05, 0.9), st.floats(0.0, 1.0), st.integers(0, 3))
def test_paths_targets_by_row_are_the_looked_up_ones(n, seed, depth, run, forced):
    """``paths_and_targets`` gives each path's target's entity row where it picked the target by row (market, default,
    liquidation and run paths; a fire sale's asset by its symbol's row) and looks the others up: the rows are what
    the lookup of every target string gives, and the nodes' causes built from them are the lookup's."""
    from core.engine.rounds import build_batch, run_batch
    from core.report import _id_index, build_result, rounds_storage
    import core.report as report

    net = datasets.synthetic(n, 6 * n, seed=seed)
    syms = list(net.assets["symbol"])
    sc = Scenario(price_shocks={syms[0]: -depth, syms[-1]: -depth / 2}, run_intensity=run, horizon=20,
                  forced_defaults=list(net.entities["id"][:forced]))
    c = compile_network(net)
    b = build_batch(c, [sc], net, True)
    block, into = rounds_storage(b.horizon, c.n)
    br = run_batch(c, b, record=True, record_into=into)
    kept = {}
    made = report.paths_and_targets

    def keep(*args, **kwargs):
        kept["paths"], kept["targets"] = made(*args, **kwargs)
        return kept["paths"], kept["targets"]

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(report, "paths_and_targets", keep)
        res = build_result(net, sc, br, c, block)
    looked_up = _id_index(c).get_indexer(res.paths["target"].to_numpy())
    assert kept["targets"] is not None and kept["targets"].dtype == looked_up.dtype
    np.testing.assert_array_equal(kept["targets"], looked_up)
    br2 = simulate_batch(net, [sc], record=True)
    cause, caused_by = _causes(c, br2.default_round[0], br2.history["channels_raw"][0], res.paths)
    assert res.nodes["cause"].tolist() == list(cause)
    assert res.nodes["caused_by"].tolist() == list(caused_by)


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
    """``rounds`` written once into one float block (no consolidation copy), its string columns taken from
    the entities' and statuses' string arrays and its index built from its structure is, to the bit, the
    table the dict of columns and ``MultiIndex.from_arrays`` gave: same values, dtypes, column order and index."""
    from core.report import _ROUND_FLOATS, _rounds_table
    from core.results import STATUSES

    rng = np.random.default_rng(seed)
    block = rng.normal(size=(len(_ROUND_FLOATS), R * n))
    status = rng.integers(0, len(STATUSES), size=(R, n))
    ids = np.array([f"E{i}" for i in rng.permutation(n)], dtype=object)  # not in sorted order
    names = np.array(STATUSES, dtype=object)
    reference = pd.DataFrame({
        "round": np.repeat(np.arange(R), n), "entity": np.tile(ids, R), "equity_usd": block[0],
        "status": names[status.ravel()], **{col: block[i] for i, col in enumerate(_ROUND_FLOATS) if i > 0}})
    reference = reference.set_axis(pd.MultiIndex.from_arrays([reference["round"].to_numpy(), reference["entity"].to_numpy()]))
    got = _rounds_table(R, ids, block, status)
    pd.testing.assert_frame_equal(got, reference, check_exact=True)
    pd.testing.assert_index_equal(got.index, reference.index, exact=True, check_exact=True)


# --- compact recording: the per-round arrays built when read are the ones a round used to record ------------------

def _dense_record(c, s):
    """The per-round arrays :func:`core.engine.recording.record` kept before it kept compact records (its code)."""
    from core.engine.books import unbooked_bad_debt  # noqa: F401  (the same module state as the engine's)
    from core.engine.outcome import final_losses, split_channels

    fin = final_losses(c, s.clearing, s.equity, s.shock_loss, s.liq_loss, s.run_loss, s.bad_net,
                       s.ik_left * s.lam[:, c.ik_debtor], s.outside_liab)
    split, raw = split_channels(fin["loss"], fin["parts"])
    units = s.H.copy()
    named = c.c_named
    if named.any():
        np.add.at(units, (slice(None), c.c_borrower[named], c.c_ca[named]), s.coll[:, named])
    short = 1 - s.clearing.paid_ratio
    return {"channels": split, "channels_raw": raw, "edge_loss": c.edge_amount[None] * short[:, c.edge_debtor],
            "hold_loss": np.clip(units * (c.P0[None, None] - s.P[:, None, :]), 0.0, None)}


def _old_market_and_default_paths(c, dense, thr):
    """The market and network-default path rows as the report built them from the dense arrays."""
    def deltas(arr):
        d = np.empty_like(arr)
        d[0] = arr[0]
        np.subtract(arr[1:], arr[:-1], out=d[1:])
        return d
    hl = deltas(dense["hold_loss"])
    r_, i_, a_ = np.nonzero(hl >= thr)
    el = deltas(dense["edge_loss"])
    er, ej = np.nonzero(el >= thr)
    return (r_, i_, a_, hl[r_, i_, a_]), hl.sum(1), dense["hold_loss"][0].sum(0), (er, ej, el[er, ej])


@settings(max_examples=10, deadline=None)
@given(name=st.sampled_from(["crypto-2022-05", "crypto-2025-10", "synthetic"]), seed=st.integers(0, 10_000),
       depth=st.floats(0.05, 0.9), run=st.floats(0.0, 1.0), forced=st.booleans())
def test_compact_recording_gives_the_bits_of_per_round_arrays(name, seed, depth, run, forced):
    """Recorded runs keep per round the loss and its parts, each debtor's unpaid share and the holdings that
    changed; ``channels``, ``channels_raw``, ``edge_loss`` and ``hold_loss`` built from them when read are
    bit-identical to the arrays a round recorded before, and so are the report's market and default paths
    and its price losses per asset (the same rows, in the same order)."""
    import core.engine.rounds as rounds
    from core.engine import run_batch, scenario_batch
    from core.report_paths import edge_writedowns, price_loss_paths

    net = datasets.synthetic(150, 900, seed=seed % 7) if name == "synthetic" else datasets.load(name)
    rng = np.random.default_rng(seed)
    syms = list(net.assets["symbol"])
    shocked = rng.choice(len(syms), size=min(3, len(syms)), replace=False)
    sc = Scenario(price_shocks={syms[i]: -depth * (j + 1) / 3 for j, i in enumerate(shocked)}, run_intensity=run,
                  forced_defaults=[str(net.entities["id"].iloc[int(rng.integers(net.n_entities))])] if forced else [])
    c = compile_network(net)
    kept: list[dict] = []
    record = rounds.record

    def both(hist, c_, s):
        record(hist, c_, s)
        kept.append(_dense_record(c_, s))

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(rounds, "record", both)
        br = run_batch(c, scenario_batch(net, [sc, sc.model_copy(update={"run_intensity": 1 - run})]), record=True)
    dense = {k: np.stack([d[k] for d in kept], 1) for k in kept[0]}
    for k, v in dense.items():
        np.testing.assert_array_equal(br.history[k], v, err_msg=k)
    thr = 1.0
    market, by_asset, hold0, edges = _old_market_and_default_paths(c, {k: v[0] for k, v in dense.items()}, thr)
    r_, entity, asset, amount, new_by_asset = price_loss_paths(c, br.history, 0, thr)
    for got, want in zip((r_, entity, asset, amount), market):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(new_by_asset, by_asset)
    np.testing.assert_array_equal(new_by_asset[0], hold0)
    for got, want in zip(edge_writedowns(c, br.history, 0, thr), edges):
        np.testing.assert_array_equal(got, want)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 12), R=st.integers(1, 5), seed=st.integers(0, 10_000), pick=st.integers(0, 10_000))
def test_edge_writedowns_skip_no_edge_at_the_threshold(n, R, seed, pick):
    """The per-edge write-downs visit only debtors whose largest edge times their change can reach the
    threshold; with the threshold set to one of the increments themselves (the boundary case), they are the
    dense (rounds, edges) increments of at least it, the same rows in the same order, to the bit."""
    from types import SimpleNamespace

    from core.report_paths import edge_writedowns

    rng = np.random.default_rng(seed)
    m = int(rng.integers(1, 4 * n + 1))
    debtor = np.sort(rng.integers(0, n, m))
    amount = rng.pareto(1.5, m) * 10 ** rng.uniform(0, 6, m)
    short = np.clip(rng.choice([0.0, 0.3, 1.0, np.nan], size=(R, n), p=[0.4, 0.1, 0.1, 0.4]), 0, 1)
    short = np.where(np.isnan(short), rng.uniform(0, 1, (R, n)), short)
    short = np.maximum.accumulate(short, axis=0) * rng.choice([1.0, 1 - 1e-15], size=(R, n))
    el = amount[None] * short[:, debtor]
    dense = el.copy()
    dense[1:] = el[1:] - el[:-1]
    candidates = np.concatenate([dense[dense > 0], [1.0]])
    thr = float(candidates[pick % len(candidates)])
    r_, e_ = np.nonzero(dense >= thr)
    c = SimpleNamespace(n=n, edge_debtor=debtor, edge_amount=amount)
    h = SimpleNamespace(arrays={"short": short[None]})
    got = edge_writedowns(c, h, 0, thr)
    for g, w in zip(got, (r_, e_, dense[r_, e_])):
        np.testing.assert_array_equal(g, w)


# --- the final split read from the rounds block ---------------------------------------------------------------------

def _recorded_into_rounds_block(n, seed, depth, run, forced, horizon, exposures=6):
    """A single scenario on ``synthetic(n, exposures * n)`` recorded into the ``rounds`` block as ``core.simulate``
    records it (:func:`core.report.rounds_storage`): the compiled network, its batch, the block and the run."""
    from core.engine.batch import build_batch
    from core.engine.rounds import run_batch
    from core.report import rounds_storage

    net = datasets.synthetic(n, exposures * n, seed=seed)
    syms = list(net.assets["symbol"])
    sc = Scenario(price_shocks={syms[0]: -depth, syms[-1]: -depth / 2}, run_intensity=run, horizon=horizon,
                  forced_defaults=list(net.entities["id"][:forced]))
    c = compile_network(net)
    b = build_batch(c, [sc], net, True)
    block, into = rounds_storage(b.horizon, c.n)
    return c, b, block, run_batch(c, b, record=True, record_into=into)


@settings(max_examples=10, deadline=None)
@given(n=st.integers(40, 300), seed=st.integers(0, 10_000), depth=st.floats(0.05, 0.9), run=st.floats(0.0, 1.0),
       forced=st.integers(0, 3), horizon=st.integers(1, 25))
def test_final_split_from_the_rounds_block_is_loss_by_channel_to_the_bit(n, seed, depth, run, forced, horizon):
    """``core.report`` reads each entity's final loss by channel from the last round's row of the ``rounds`` block
    when the final state is that round's: the same bits as :attr:`BatchResult.loss_by_channel`. A run ending on its
    horizon or settled, with forced defaults or none, is always such a run (a single scenario's result is stored
    the round it stops)."""
    from core.report import _final_is_last_round, _rounds_block
    from core.report_rounds import CHANNEL_ROW

    c, b, block, br = _recorded_into_rounds_block(n, seed, depth, run, forced, horizon)
    want = br.loss_by_channel[0].copy()
    h = br.history
    R = h["equity"].shape[1]
    assert _final_is_last_round(br, h, 0)
    got = _rounds_block(h, 0, R, c.n, block)[CHANNEL_ROW:, (R - 1) * c.n:R * c.n].T
    assert got.shape == want.shape
    assert np.ascontiguousarray(got).tobytes() == want.tobytes()


def _assert_same_history(got, want):
    """Every array of a recorded history (:data:`core.engine.recording.HISTORY`), ``channels`` and ``channels_raw``
    included, the same bits in both (the status codes, 0-3, as ``got``'s dtype: one byte each in the ``rounds``
    block's recording, :func:`core.report.rounds_storage`)."""
    from core.engine.recording import HISTORY

    assert set(got) == set(want) == set(HISTORY)
    for key in HISTORY:
        a, b = np.asarray(got[key]), np.asarray(want[key])
        if key == "status":
            assert np.array_equal(b, b.astype(a.dtype)), key  # the codes fit the narrower dtype
            b = b.astype(a.dtype)
        assert a.shape == b.shape and a.dtype == b.dtype, key
        assert np.ascontiguousarray(a).tobytes() == np.ascontiguousarray(b).tobytes(), key


@settings(max_examples=10, deadline=None)
@given(n=st.integers(40, 300), seed=st.integers(0, 10_000), depth=st.floats(0.05, 0.9), run=st.floats(0.0, 1.0),
       forced=st.integers(0, 3), horizon=st.integers(1, 25))
def test_a_run_recorded_into_the_rounds_block_has_the_history_of_any_recorded_run(n, seed, depth, run, forced, horizon):
    """A run recorded into the ``rounds`` block (``core.simulate``'s recording, :func:`core.report.rounds_storage`)
    has the history of the same run recorded into buffers of its own (``record=True``): every array, to the bit,
    the channels built from the unscaled parts included, until the report splits the block in place."""
    from core.engine.rounds import run_batch

    c, b, block, br = _recorded_into_rounds_block(n, seed, depth, run, forced, horizon)
    _assert_same_history(br.history, run_batch(c, b, record=True).history)


@pytest.mark.slow
def test_a_run_of_65536_entities_recorded_into_the_rounds_block_has_its_channels():
    """From 65,536 entities ``core.simulate`` once split each round over the channels as it recorded it, and the
    run's history then raised ``KeyError`` for ``channels`` and ``channels_raw``: at that size the history recorded
    into the ``rounds`` block is, every array, the history of the run recorded on its own (a short horizon, a sparse
    network: some 10 s)."""
    from core.engine.rounds import run_batch

    c, b, block, br = _recorded_into_rounds_block(65_536, 1, 0.5, 0.5, 60, 3, exposures=2)
    assert c.n == 65_536 and br.history["equity"].shape[1] == 3
    assert br.defaulted.sum() > 0 and br.history["channels"].any()  # a cascade, with losses by channel
    _assert_same_history(br.history, run_batch(c, b, record=True).history)


def test_final_split_is_split_again_when_the_final_state_is_not_the_last_round():
    """When the final loss is not the last recorded round's (checked bit by bit), the split is not read from the
    block."""
    from core.report import _final_is_last_round

    net = datasets.synthetic(80, 480, seed=3)
    sc = Scenario(price_shocks={str(net.assets["symbol"].iloc[0]): -0.5}, horizon=5)
    br = simulate_batch(net, [sc], record=True)
    assert _final_is_last_round(br, br.history, 0)
    br.loss[0, 0] = np.nextafter(br.loss[0, 0], np.inf)
    assert not _final_is_last_round(br, br.history, 0)


@pytest.mark.parametrize("preset", ["terra_may_2022", "ftx_nov_2022", "steth_june_2022"])
def test_final_losses_without_totals_gives_the_same_losses(preset):
    """A recorded round's ``final_losses(..., totals=False)`` leaves out write-downs and shortfall only: every other
    value is the same array, to the bit, as with them."""
    from pathlib import Path

    from core.engine.batch import build_batch
    from core.engine.losses import final_losses
    from core.engine.rounds import run_round
    from core.engine.state import initial_state
    from core.scenario import parse_scenario

    net = datasets.load("crypto-2022-05")
    sc = parse_scenario((Path(__file__).resolve().parent.parent / "data" / "scenarios" / f"{preset}.json").read_text())
    c = compile_network(net)
    b = build_batch(c, [sc], net, True)
    s = initial_state(c, b)
    for r in range(min(b.horizon, 6)):
        run_round(c, s, b, r)
        args = (c, s.clearing, s.equity, s.shock_loss, s.liq_loss, s.run_loss, s.bad_net,
                s.ik_left * s.lam[:, c.ik_debtor], s.outside_liab)
        holders = (s.P, s.H, s.coll, s.defaulted)
        full, lean = final_losses(*args, holders=holders), final_losses(*args, holders=holders, totals=False)
        assert set(full) - set(lean) == {"writedowns", "shortfall"}
        for k in lean:
            vals = lean[k].items() if k == "parts" else [(k, lean[k])]
            ref = full[k] if k == "parts" else {k: full[k]}
            for name, v in vals:
                assert np.asarray(v).tobytes() == np.asarray(ref[name]).tobytes(), (r, k, name)
