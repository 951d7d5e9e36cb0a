"""The caps a failed issuer's recovery puts on its coins' prices: from the last clearing
(:func:`recovery_capped`, called by :func:`core.engine.defend.issuer_effects` after each round's peg channels,
and by :func:`core.engine.exogenous.forced_issuer_prices` at round 0's opening for an issuer the scenario forces
to fail), and through round 0 (:func:`forced_opening_kept`) or the round a forced failure is dated to
(:func:`forced_now_kept`)."""

from __future__ import annotations

import numpy as np

from ..mechanisms.market import PRICE_FLOOR
from .compiled import Compiled
from .state import CascadeState, Changes


def forced_opening_kept(c: Compiled, s: CascadeState) -> Changes:
    """Round 0's coins of an issuer the scenario forces to fail, kept at the recovery they opened at, whatever
    factor round 0's peg channels composed into their price since (as :func:`issuer_effects` keeps them after
    every later round's channels): ``min(P / issuer_cap, P_open)`` where the opening cap bound (``issuer_cap``
    < 1), ``P_open`` the opening price (the last entry of the price history, which
    :func:`~core.engine.exogenous.exogenous` wrote after :func:`~core.engine.exogenous.forced_issuer_prices`).
    Before, the PSM's factor multiplied a forced Maker's DAI after its cap: with the vaults paying 0.8667 and the
    PSM's USDY 10% off peg, DAI closed round 0 at 0.88 x 0.96 = 0.8448 and every later round at 0.88
    (``tests/test_two_issuers.py``). Reads ``P, issuer_cap, price_history``; writes ``P, issuer_cap``."""
    capped = c.issued_stable[None] & (s.issuer_cap < 1.0)
    capped[:, c.pool_asset] = False  # a pool coin keeps min(P, target) with cap 1: never recorded here
    if not capped.any():
        return {}
    free = s.P / s.issuer_cap
    opening = s.price_history[-1]
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        cap = np.where(capped, np.minimum(1.0, opening / free), s.issuer_cap)
    cap = np.where(np.isfinite(cap), cap, s.issuer_cap)
    return dict(P=np.where(capped, free * cap, s.P), issuer_cap=cap)


def forced_now_kept(c: Compiled, s: CascadeState, now: np.ndarray, P: np.ndarray,
                    cap: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Prices ``P`` and caps ``cap`` (S, k) of a round after round 0 with every coin and exchange token of an issuer
    the scenario forces to fail at that round's opening (``now`` (S, n), ``forced_default_rounds``) as round 0
    keeps them (:func:`forced_opening_kept`'s coins; a token or a pool coin as the round's other steps left it):
    the opening clearing's recovery (:func:`~core.engine.exogenous.forced_issuer_prices`) holds through the round
    of the failure, and the clearings price them from the next, as from round 1 after a failure at round 0. (The
    last clearing, before the failure, would put them back at par within the round.)"""
    hit = (c.issuer >= 0)[None] & now[:, np.maximum(c.issuer, 0)] & (c.issued_stable | c.exchange_token)[None]
    if not hit.any():
        return P, cap
    kept = forced_opening_kept(c, s)
    return np.where(hit, kept.get("P", s.P), P), np.where(hit, kept.get("issuer_cap", s.issuer_cap), cap)


def recovery_capped(c: Compiled, P: np.ndarray, issuer_cap: np.ndarray, ratio: np.ndarray,
                    issuer_failed: np.ndarray, coin_ratio: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Prices with every stablecoin of a failed issuer at most at its issuer's recovery, and the caps applied,
    (S, k) each (:func:`issuer_effects`'s rule): ``ratio`` (S, n) the issuers' paid ratios, ``issuer_failed``
    (S, k) whether each token's issuer has failed, ``issuer_cap`` the caps the prices carry. A coin moved by
    factors trades at ``min(P_free, peg * ratio)``, ``P_free = P / issuer_cap``, and its cap is recorded; a coin
    priced by a pool at ``min(P, peg * ratio)`` (the pool step sets its price), cap 1. ``coin_ratio`` (S, k): each
    coin's recovery where it is not its issuer's ratio alone (DAI owed by Maker's vaults and its PSM, the blend of
    :func:`~core.engine.maker_co_issued.coin_recoveries`); None: the issuer's."""
    recovery = ratio[:, np.maximum(c.issuer, 0)] if coin_ratio is None else coin_ratio
    # at the floor floor_prices keeps every price at (a recovery of 0 would leave no price to divide by)
    target = np.maximum(c.peg1[None] * recovery, PRICE_FLOOR * c.P0[None])
    failed = c.issued_stable[None] & issuer_failed
    by_factors = np.ones(c.k, bool)
    by_factors[c.pool_asset] = False
    free = P / issuer_cap  # issuer_cap > 0: target > 0 and free is finite
    with np.errstate(divide="ignore", over="ignore"):  # a price the round took to ~0 (floored later): cap 1
        cap = np.where(failed & by_factors[None], np.minimum(1.0, target / free), 1.0)
    return np.where(failed, np.where(by_factors[None], free * cap, np.minimum(P, target)), P), cap
