"""An asset a falls-only scenario does not shock never closes a round above its reference price, but by a mechanism
that buys it (session 30, s30-btc; docs/invariants.md, "Session 30 (s30-btc)").

Two mechanisms lift a price in a scenario of falls, and each is bounded by what it buys:

* **short covering**: a perpetual short closed by its venue's liquidation (or by ADL) is a purchase of its
  market's asset, and the signed square-root law lifts the price as a sale of the same size lowers it
  (:func:`core.engine.sell.sale_impact`). On the 2025 network ABC's one margin account on Hyperliquid is long ALTS
  and HYPE and short 384.6 BTC: an ALTS fall liquidates it and its short is bought back (session 26 (owed): a
  short squeeze, the mirror of a fire sale). The bound: an order-book asset closes no round above
  ``P0 * exp(sigma * sqrt(Q_bought / (liquidity * adv)))``, ``Q_bought`` the units bought in the rounds so far
  (recorded ``sold`` below 0) at the reference price;
* **the CDP premium**: a CDP coin's supply squeeze puts it at most ``MAX_PREMIUM`` above its peg
  (:mod:`core.mechanisms.cdp_premium`).

A wrapped token follows its underlying at its peg times the snapshot's own basis (:func:`core.engine.sell.
reference_basis`). Before session 30 the 2025 network's stETH, priced at 0.999 ETH in the snapshot and pegged at
1, rose 0.1% to par at round 0 of every scenario, whatever it shocked.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.engine import simulate_batch
from core.engine.compiled import compile_network
from core.engine.sell import reference_basis
from core.mechanisms.cdp_premium import MAX_PREMIUM
from core.scenario import Scenario
from invariants_support import network, tables

NETWORKS = ("crypto-2020-03", "shipped", "crypto-2025-10")


def test_the_snapshots_stETH_discount_is_kept():
    """2025: stETH at $4,345.65 against ETH's $4,350 (0.999, peg 1); every other wrapped token at its peg."""
    net = network("crypto-2025-10")
    c = compile_network(net)
    basis = dict(zip((c.symbols[i] for i in c.wrapped_idx), reference_basis(c)))
    assert basis["stETH"] == 4345.65 / 4350.0
    assert all(v == 1.0 for k, v in basis.items() if k != "stETH")
    runs = [Scenario(price_shocks={"BNB": -0.1}), Scenario(price_shocks={"stETH": -0.13}),
            Scenario(depegs={"stETH": 0.0005}), Scenario(depegs={"stETH": 0.01})]
    P = simulate_batch(net, runs, record=True).history["prices"]  # (S, rounds, k)
    st_eth, eth = list(c.symbols).index("stETH"), list(c.symbols).index("ETH")
    # nothing touches ETH or stETH: the discount stays, every round (was $4,350 from round 0)
    assert np.all(P[0, :, st_eth] == 4345.65)
    # stETH's own shock moves it from its reference: 4,345.65 x 0.87 = 3,780.72 at the exogenous step; the round's
    # sales then press ETH (its stETH-ETH loops' seized stETH) and it follows at 0.999 of ETH
    assert math.isclose(P[1, 0, st_eth] / P[1, 0, eth], 0.87 * 4345.65 / 4350.0, rel_tol=1e-12)
    # a depeg shallower than the snapshot's discount leaves it there; a deeper one puts it at (1 - depeg) of ETH
    assert np.all(P[2, :, st_eth] == 4345.65)
    assert math.isclose(P[3, 0, st_eth] / P[3, 0, eth], 0.99, rel_tol=1e-12)


def test_btc_rises_by_the_impact_of_abcs_short_bought_back():
    """ALTS -80% alone on the 2025 network: ABC's Hyperliquid account (long ALTS and HYPE, short 384.615385 BTC,
    cross margin) is liquidated in round 0 and its short bought back. BTC: 117,000 x exp(0.0274 x sqrt(384.615385
    x 117,000 / (liquidity x $60bn))) = 117,087.83 at liquidity 1 and 117,136.29 at 0.415452 (the ledger pair
    monotone-2025-jitosol-36-37-wbtc-35-36-...-sparklend-fixed-dai's liquidity: its BTC at round 0 at both depths).
    WBTC and cbBTC follow; no other BTC trades, so BTC stays there to the end."""
    net = network("crypto-2025-10")
    liq = (1.0, 0.415452019364567)
    br = simulate_batch(net, [Scenario(price_shocks={"ALTS": -0.8}, liquidity=x) for x in liq], record=True)
    sy = list(br.asset_symbols)
    btc = sy.index("BTC")
    bought = -br.history["sold"][:, 0, btc] / br.history["prices"][:, 0, btc]
    assert np.allclose(bought, 384.615385, rtol=1e-6)
    for s, x in enumerate(liq):
        expected = 117_000.0 * math.exp(0.0274 * math.sqrt(384.615385 * 117_000.0 / (x * 60e9)))
        assert math.isclose(br.history["prices"][s, 0, btc], expected, rel_tol=1e-6)
        assert np.all(br.history["prices"][s, :, btc] == br.history["prices"][s, 0, btc])
        for w in ("WBTC", "CBBTC"):
            assert np.all(br.history["prices"][s, :, sy.index(w)] == br.history["prices"][s, :, btc])
    assert math.isclose(br.history["prices"][0, 0, btc], 117_087.83, abs_tol=0.01)
    assert math.isclose(br.history["prices"][1, 0, btc], 117_136.29, abs_tol=0.01)


def price_ceilings(key: str, sc: Scenario, P: np.ndarray, sold_usd: np.ndarray) -> np.ndarray:
    """The highest price each asset may close each round at in a falls-only scenario, (rounds, k): its reference,
    lifted by the purchases recorded so far for an order-book asset (wrapped tokens' purchases unwrapped at their
    peg), at most ``MAX_PREMIUM`` over its peg for a CDP coin, its underlying's ceiling times its peg and the
    snapshot's basis for a wrapped token; infinite for an asset the scenario itself moves (or whose underlying it
    moves)."""
    net, t = network(key), tables(key)
    a = net.assets
    P0 = a["price_usd"].to_numpy(dtype=float)
    kind = a["kind"].to_numpy(dtype=object)
    pos = {s: i for i, s in enumerate(t.symbols)}
    units = np.where(P > 0, sold_usd / np.where(P > 0, P, 1.0), 0.0)  # recorded USD at the round's price -> units
    wrapped = {pos[tok]: (pos[und], ratio) for tok, und, ratio in t.wrapped}
    bought = np.maximum(-units, 0.0)
    for w, (u, _) in wrapped.items():
        bought[:, u] += bought[:, w] * t.peg_target[w]
    q = np.cumsum(bought, axis=0) * P0[None]
    lift = a["daily_vol"].to_numpy(dtype=float)[None] * np.sqrt(q / (sc.liquidity * a["adv_usd"].to_numpy(dtype=float)[None]))
    ceiling = P0[None] * np.exp(lift)
    cdp = kind == "cdp_stable"
    ceiling[:, cdp] = (t.peg_target[cdp] * (1.0 + MAX_PREMIUM))[None]
    moved = {pos[s] for s in (*sc.price_shocks, *sc.depegs)}
    for w, (u, ratio) in wrapped.items():
        ceiling[:, w] = ratio * ceiling[:, u]
        if u in moved:
            moved.add(w)
    ceiling[:, sorted(moved)] = np.inf
    return ceiling


@st.composite
def falls_only(draw, key: str) -> Scenario:
    t = tables(key)
    shocked = draw(st.lists(st.sampled_from(t.shockable), min_size=1, max_size=3, unique=True))
    depegged = draw(st.lists(st.sampled_from(t.usd_pegged), max_size=2, unique=True))
    return Scenario(
        price_shocks={a: draw(st.floats(-0.95, -0.01).map(lambda x: round(x, 4))) for a in shocked},
        depegs={a: draw(st.floats(0.0, 0.5).map(lambda x: round(x, 4))) for a in depegged},
        forced_defaults=draw(st.lists(st.sampled_from(t.entity_ids), max_size=2, unique=True)),
        run_intensity=draw(st.sampled_from([0.0, 0.5, 1.0])),
        oracle_lag=draw(st.integers(0, 2)),
        liquidity=draw(st.sampled_from([0.1, 0.42, 1.0, 2.0])),
        liquidator_capacity_usd=draw(st.sampled_from([None, 5e7, 5e8])),
    )


@st.composite
def network_and_falls(draw):
    key = draw(st.sampled_from(NETWORKS))
    return key, draw(falls_only(key))


@settings(max_examples=90, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(network_and_falls())
def test_an_unshocked_asset_closes_no_round_above_what_buys_it(case):
    key, sc = case
    h = simulate_batch(network(key), [sc], record=True).history
    P, sold = h["prices"][0], h["sold"][0]
    ceiling = price_ceilings(key, sc, P, sold)
    over = P / ceiling - 1.0
    r, k = np.unravel_index(int(np.argmax(over)), over.shape)
    assert over[r, k] <= 1e-9, (f"{key}: {tables(key).symbols[k]} at {P[r, k]:.8g} in round {r}, ceiling "
                                f"{ceiling[r, k]:.8g}; scenario {sc.model_dump(exclude_defaults=True)}")
