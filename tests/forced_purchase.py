"""Decision 13 (docs/invariants.md, Session 31 (lead)): a price a forced purchase lifts, and what it explains.

A named account short a perpetual that its venue liquidates is closed by a purchase of the market's asset
(:mod:`core.engine.perps`: "a liquidated short a purchase"), which enters the round's ``sold`` negative and lifts
the price in :func:`core.engine.sell.price_impact` by the square-root law, permanently, as a fire sale lowers it.
Its holders' marks are real gains, not value created, but only as far as that purchase explains them:

* **what was bought** is read from the run: a recorded run's ``history["sold"]`` is each round's net units sold on
  each book times the closing price (:func:`core.engine.recording.record`), so ``-sold / prices`` where negative
  is a round's net purchase (the perps step is the engine's one buyer on a book). It counts as far as named short
  positions (the network's ``positions``, ``Tables.short_units`` by account) closed whole add up to it, each
  position once over the run (:func:`closed_shorts`): the engine keeps no per-position record in its results, and
  a liquidated account's short closes whole (ABC's 384.615385 BTC is round 0's purchase to the unit). A purchase
  no such set explains (an anonymous bucket's buy-back, a short closed in part, a buyer other than the perps
  step) explains nothing; ``B_a`` is the units so explained of asset ``a``;
* **the rise it explains** is recomputed from the engine's impact function, not read back from the price: the
  book's log-impact is path-free in the cumulative units sold, ``I(Q)`` with ``Q`` valued at reference prices
  (:func:`core.engine.sell.sale_impact`; :func:`core.mechanisms.market.log_sqrt_impact`), and the net sold never
  falls below ``-B_a``, so the log-price the run's purchases add is at most ``-I(-B_a P0_a) = sigma_a
  sqrt(B_a P0_a / (liquidity adv_a))``: the price at most ``P0_a exp(that)``. A token wrapped on ``a`` or priced
  by its pool against ``a`` follows ``a`` (:func:`core.engine.defend.follow_underlying`), so it may rise by the
  same factor of its own reference. A price set elsewhere (a stablecoin, a pool's token) takes no impact
  (``price_set_elsewhere``): no purchase explains its rise. The supply's growth, which scales ``Q`` for a token
  minted or burnt (LUNA), is taken as none: no perpetual's market on the networks is such a token;
* **what a holder may gain** is that rise, at most the price's own rise above its reference, times its units
  held, its own and through its in-kind claims (``Tables.claim_units``), in :func:`invariants_support.allowed_gain`.

A rise from anything else, or beyond what the recorded purchases give, stays a violation of invariant 2.
Worked numbers (``tests/test_squeeze_allowance.py``): ABC's 384.615 BTC short on Hyperliquid closed in round 0 of
``value-2025-alts-94-liquidity-009-abc-btc-squeeze``, $45.0M at BTC's 117,000, lifts BTC 0.2522% at liquidity
0.0887, and that is all BTC moves.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from core.engine import simulate_batch
from core.mechanisms.market import log_sqrt_impact
from core.scenario import Scenario
import invariants_support as inv
from invariants_support import Tables

#: Relative rise above a reference price below which a price has not risen (float rounding of the follow steps).
RISE_TOLERANCE = 1e-12


def book_priced(key: str) -> np.ndarray:
    """(k,) assets priced on their own order book (not a stablecoin, not a pool's token, not pegged to another
    asset): where a purchase moves the price (:class:`core.engine.compiled.Compiled`'s ``price_set_elsewhere``)."""
    a = inv.network(key).assets
    return (a["amm_pool"].fillna("").eq("") & a["peg_unit"].fillna("").eq("")
            & ~a["kind"].isin(("fiat_stable", "cdp_stable", "algorithmic_stable"))).to_numpy()


def named_shorts(key: str, without: Sequence[str] = ()) -> list[tuple[str, str, float]]:
    """The named short positions on the network's perpetuals venues, (account, market, units), one per position
    (an account short a market on several venues has one each: ETHENA's hedge on five), but those of the accounts
    in ``without``."""
    pos = inv.network(key).positions
    if not len(pos):
        return []
    named = pos[(pos["account"] != "") & (pos["side"] == "short") & ~pos["account"].isin(list(without))]
    return [(str(a), str(m), float(u)) for a, m, u in zip(named["account"], named["market"], named["size"])]


def closed_shorts(bought: float, open_units: list[float]) -> tuple[float, list[float]]:
    """What of a round's purchase ``bought`` (units) named shorts closed whole can explain: the largest sum of a
    set of the shorts still open not above it (relative 1e-9), and the shorts left open. A purchase no such set
    adds up to (an anonymous bucket's buy-back, a named short closed in part) is explained only as far as a set
    does."""
    if bought <= 0 or not open_units:
        return 0.0, open_units
    if len(open_units) > MAX_SHORTS:
        raise ValueError(f"{len(open_units)} named shorts on one market: more than {MAX_SHORTS}")
    best, pick = 0.0, 0
    for subset in range(1, 1 << len(open_units)):
        total = sum(u for j, u in enumerate(open_units) if subset >> j & 1)
        if best < total <= bought * (1 + 1e-9):
            best, pick = total, subset
    return best, [u for j, u in enumerate(open_units) if not pick >> j & 1]


#: Most named shorts on one market :func:`closed_shorts` looks through (2**n sets).
MAX_SHORTS = 16


def forced_purchases(key: str, t: Tables, scenarios: Sequence[Scenario], br, without: Sequence[str] = ()
                     ) -> np.ndarray:
    """Units of each asset the run bought to close named shorts, (S, k). Read from a recorded run of the
    scenarios whose price of a market named accounts are short (or of a token following it) ends above its
    reference; the others bought nothing that lifted a price. Each round's net purchase of an asset
    (``history["sold"]`` negative) counts as far as named shorts closed whole explain it
    (:func:`closed_shorts`), each short once; the shorts of the accounts in ``without`` explain nothing. The
    recorded run must end where ``br`` ended (a scenario's result never depends on its batch-mates)."""
    shorts = named_shorts(key, without)
    S, k = br.prices.shape
    out = np.zeros((S, k))
    pos = {s: i for i, s in enumerate(t.symbols)}
    markets = {pos[m] for _, m, _ in shorts}
    follows = markets | {pos[w] for w, u, _ in t.wrapped + t.pool_pegged if pos[u] in markets}
    rose = br.prices > t.P0[None] * (1 + RISE_TOLERANCE)
    rows = np.flatnonzero(rose[:, sorted(follows)].any(1)) if follows else np.zeros(0, int)
    if not len(rows):
        return out
    rec = simulate_batch(inv.network(key), [scenarios[i] for i in rows], record=True)
    assert np.allclose(rec.prices, br.prices[rows], rtol=1e-12, atol=0.0), "the recorded run ended elsewhere"
    sold, prices = rec.history["sold"], rec.history["prices"]  # (S', rounds, k): USD at the close, the closes
    bought = np.where(sold < 0, -sold / np.where(prices > 0, prices, 1.0), 0.0)
    for row, i in enumerate(rows):  # the few scenarios where such a price rose
        for a in markets:
            open_units = [u for _, m, u in shorts if pos[m] == a]
            for r in range(int(rec.rounds_run[row])):
                explained, open_units = closed_shorts(float(bought[row, r, a]), open_units)
                out[i, a] += explained
    return out


def explained_rise(key: str, t: Tables, bought: np.ndarray, liquidity: np.ndarray) -> np.ndarray:
    """USD per unit of each asset's price above its reference that purchases of ``bought`` units (S, k) explain at
    the scenarios' ``liquidity`` (S,): ``P0 (exp(sigma sqrt(B P0 / (liquidity adv))) - 1)`` on a book-priced asset,
    its underlying's factor on a token following it, 0 elsewhere (the module docstring)."""
    a = inv.network(key).assets
    adv, vol = a["adv_usd"].to_numpy(dtype=float), a["daily_vol"].to_numpy(dtype=float)
    own = book_priced(key)
    log_up = np.where(own[None], -log_sqrt_impact(-bought * t.P0[None], np.where(own, adv, 1.0)[None], vol[None], 1.0,
                                                  np.asarray(liquidity, dtype=float)[:, None]), 0.0)
    pos = {s: i for i, s in enumerate(t.symbols)}
    for token, underlying, _ in t.wrapped + t.pool_pegged:
        log_up[:, pos[token]] = log_up[:, pos[underlying]]
    return t.P0[None] * np.expm1(log_up)


def lifted(key: str, t: Tables, scenarios: Sequence[Scenario], br, without: Sequence[str] = ()) -> np.ndarray:
    """USD per unit of each asset's rise above its reference that the run's forced purchases explain, (S, k): the
    price's own rise ``(P - P0)^+``, at most :func:`explained_rise` of :func:`forced_purchases`."""
    bought = forced_purchases(key, t, scenarios, br, without)
    rise = np.maximum(br.prices - t.P0[None], 0.0)
    if not bought.any():
        return np.zeros_like(rise)
    return np.minimum(rise, explained_rise(key, t, bought, np.array([sc.liquidity for sc in scenarios])))
