"""The units of its token that move an AMM pool's marginal price down to a target, along the pool's invariant.

Liquidators selling a pool-priced token take what lowers its price to their break-even
(:mod:`core.engine.limits`), and a coin's queued holders sell into its pool until its price is down to what a unit
is worth (:mod:`core.engine.queue_sales`): each asks how many units bring the pool there (:func:`units_to_price`), fee-less along Curve's stableswap invariant or the constant product
(:mod:`core.mechanisms.amm`), the stableswap pools' invariants and prices computed once per reserves
(:func:`pool_invariants`). The swaps themselves are :mod:`core.engine.pools`'.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import numpy as np

from ..mechanisms import amm
from ..mechanisms._checks import checking
from ..mechanisms._stableswap_floats import FLOAT_POOLS, OnePool, moved_to_price
from .grouping import distinct_pairs
from .memo import per_network

if TYPE_CHECKING:
    from .compiled import Compiled


def pool_invariants(c: Compiled, res: np.ndarray, pools: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """What :func:`units_to_price` computes of the reserves ``res`` (S, m, 2) of ``pools`` (m,) before the
    target: each stableswap pool's invariant and its price, with the coins' roles swapped, (S, m) each (NaN at
    a constant-product pool); None where no pool is a stableswap pool. A search over targets computes these
    once (:func:`core.engine.limits.limit_terms`); each pool's are its own, so they are the same to the last bit.

    The answer is a function of ``res`` and ``pools`` alone (and the network's amplifications): the last
    :data:`INVARIANTS_KEPT` answers are kept with the compiled network, keyed by those arrays' bytes, and
    returned read-only. A round asks again for the same reserves (the liquidators' limit, then the capital's
    search over the cohorts due, then the limit at the level it found: 20 of 31 calls on the Black Thursday
    preset), and gets the same arrays, so the same bits."""
    # kept with the compiled network itself, whichever view of its cohorts asks (core.engine.limits.Cohorts)
    kept: dict[tuple, tuple[np.ndarray, np.ndarray] | None] = per_network(c.__dict__.get("_c", c), "pool_invariants", dict)
    key = (res.shape, np.ascontiguousarray(res).tobytes(), np.asarray(pools, np.int64).tobytes())
    hit = kept.get(key, _NOT_KEPT)  # one lookup: chunks on threads share the dict
    if hit is not _NOT_KEPT:
        return cast("tuple[np.ndarray, np.ndarray] | None", hit)
    out = _pool_invariants(c, res, pools)
    if out is not None:
        for a in out:
            a.setflags(write=False)
    if len(kept) >= INVARIANTS_KEPT:
        kept.clear()
    kept[key] = out
    return out


#: Most answers of :func:`pool_invariants` kept with a compiled network (a round's reserves, a few rows of them).
INVARIANTS_KEPT = 8
_NOT_KEPT = object()


def _pool_invariants(c: Compiled, res: np.ndarray, pools: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """:func:`pool_invariants`, computed. One stableswap pool in one row (the engine's single run) takes the
    same steps on Python floats (:class:`~core.mechanisms._stableswap_floats.OnePool`: the steps of
    ``stableswap_D`` and ``stableswap_price`` on one pool, so the same bits) without the arrays around them."""
    A = c.pool_A[pools]
    ss = np.isfinite(A)
    if not ss.any():
        return None
    D, price = np.full(res.shape[:2], np.nan), np.full(res.shape[:2], np.nan)
    if len(res) == 1 and np.count_nonzero(ss) == 1:
        j = int(np.flatnonzero(ss)[0])
        b1, b0 = (float(v) for v in res[0, j])  # the coins' roles swapped
        both = OnePool((b0, b1), A[j], np.nan, 0.0).invariant_and_price(b0, b1)
        if both is not None:  # else the arrays' path, which raises or gives what numpy gives
            D[0, j], price[0, j] = both
            return D, price
    swapped = res[:, ss, ::-1]
    A_ss = np.broadcast_to(A[ss][None], swapped.shape[:2])
    D[:, ss] = amm.stableswap_D(swapped, A_ss)
    price[:, ss] = amm.stableswap_price(swapped, A_ss, 0, 1, D=D[:, ss])
    return D, price


#: Cohorts of one pool with one target in one row share one solve in :func:`units_to_price` (off: one solve
#: each; tests compare the two, to the last bit).
SHARE_SOLVES = True
#: A few stableswap solves of :func:`units_to_price` given the pools' invariants go straight to the float steps
#: (:func:`_few_on_floats`; off: through the arrays' path, which takes the same steps; tests compare the two).
FEW_ON_FLOATS = True
#: The Newton steps the arrays' path allows a solve (stableswap_balances_for_price's ``max_iter``).
_SOLVE_STEPS = int((amm.stableswap_balances_for_price.__kwdefaults__ or {})["max_iter"])


def units_to_price(c: Compiled, res: np.ndarray, pools: np.ndarray, target: np.ndarray,
                   invariant: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Units of its token to swap into each pool of ``pools`` (m,) to lower its marginal price to ``target``
    (S, m) counter units, ``res`` (S, m, 2) their reserves; 0 where the price is at or below ``target``, ``inf``
    where ``target`` is 0. ``invariant``: :func:`pool_invariants` of ``res``, when the caller has it.

    Fee-less along the pool's invariant, as :func:`~core.engine.pools.arbitrage_pools` moves it: lowering the token's price to
    ``target`` is lifting the counter coin's price in token units to ``1 / target``
    (:func:`~core.mechanisms.amm.stableswap_balances_for_price` with the coins' roles swapped;
    :func:`~core.mechanisms.amm.cp_amount_in_for_price` for a constant-product pool). The swap
    :func:`~core.engine.pools.pool_sell` makes keeps the fee in the pool, so the same units leave the price a little above
    ``target``. Cohorts of one pool with the same target in the same row (their reserves the pool's) are solved
    once: each pool's solve is its own, to the last bit (:func:`~core.mechanisms.amm.stableswap_balances_for_price`)."""
    out = np.zeros(target.shape)
    if not len(pools):
        return out
    A = c.pool_A[pools]
    zero = target <= 0.0
    inv = 1.0 / np.where(zero, 1.0, target)
    ss = np.isfinite(A)
    if ss.any():
        if invariant is None and target.size <= FLOAT_POOLS and FEW_ON_FLOATS and not checking():
            # a few solves: their invariants first (the arrays' path computes the same ones, to the last bit:
            # pool_invariants), so that they take the float steps of _few_on_floats
            invariant = _pool_invariants(c, res, pools)
        # every pool a stableswap (a synthetic network's one pool): the solves on floats read the arrays as they
        # are (views), not copies of their stableswap columns
        every = bool(ss.all())
        cut = slice(None) if every else ss
        few = (None if invariant is None or checking() or not FEW_ON_FLOATS
               else _few_on_floats(c, res[:, cut], pools[cut], inv[:, cut], invariant[0][:, cut], invariant[1][:, cut]))
        swapped: np.ndarray | None = None
        if few is not None:  # the few solves on floats, without the arrays around them
            out[:, cut] = np.maximum(few - res[:, cut, 0], 0.0)
        else:
            swapped = res[:, ss, ::-1]
            t = inv[:, ss]
            A_ss = np.broadcast_to(A[ss][None], t.shape)
            D, price = (None, None) if invariant is None else (invariant[0][:, ss], invariant[1][:, ss])
        # cohorts of one pool with one target in one row share one solve (with one column, every row is its
        # own: no pair repeats, and the solve is the batch's as it is)
        if swapped is not None and t.size > FLOAT_POOLS and SHARE_SOLVES and t.shape[1] > 1:
            first, back = distinct_pairs(np.repeat(np.arange(len(t)), t.shape[1]) * len(c.pool_A) + np.tile(pools[ss], len(t)),
                                    np.ascontiguousarray(t).ravel().view(np.int64))
            if len(first) < t.size:
                def flat(a):
                    return None if a is None else np.ascontiguousarray(a).reshape(-1, *a.shape[2:])[first]
                moved_u = amm.stableswap_balances_for_price(flat(swapped), flat(A_ss), flat(t), D=flat(D), price=flat(price))
                moved = moved_u[back].reshape(res[:, ss].shape)[..., ::-1]
                out[:, ss] = np.maximum(moved[..., 0] - res[:, ss, 0], 0.0)
                swapped = None
        if swapped is not None:
            moved = amm.stableswap_balances_for_price(swapped, A_ss, t, D=D, price=price)[..., ::-1]
            out[:, ss] = np.maximum(moved[..., 0] - res[:, ss, 0], 0.0)
    if (~ss).any():
        out[:, ~ss] = amm.cp_amount_in_for_price(res[:, ~ss, 1], res[:, ~ss, 0], inv[:, ~ss])
    return np.where(zero, np.inf, out)


def units_where(c: Compiled, res: np.ndarray, pools: np.ndarray, target: np.ndarray, need: np.ndarray,
                invariant: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """:func:`units_to_price` at the elements ``need`` (S, m) (bool), which the caller reads alone
    (:func:`core.engine.limits.pool_rooms`: a cohort's room where its margin is positive): the rows and columns
    with an element needed are solved (each of their elements), the others are 0.0, and no pool is solved where
    none is needed. Each element's solve is its own (a pool's reserves, invariant and target in its row: shared
    only by equal keys), so those solved have the same bits.
    (The liquidators' limit at the capital's level on afafd7b's Black Thursday preset solved 18 pools in rounds
    0-2 where no cohort's margin was left above the level.)"""
    if need.all():
        return units_to_price(c, res, pools, target, invariant)
    out = np.zeros(target.shape)
    rows, cols = np.flatnonzero(need.any(1)), np.flatnonzero(need.any(0))
    if len(rows):
        def cut(x: np.ndarray) -> np.ndarray:
            return x.take(rows, axis=0).take(cols, axis=1)
        inv = None if invariant is None else (cut(invariant[0]), cut(invariant[1]))
        out[np.ix_(rows, cols)] = units_to_price(c, cut(res), pools[cols], cut(target), inv)
    return out


def _few_on_floats(c: Compiled, res: np.ndarray, pools: np.ndarray, t: np.ndarray, D: np.ndarray,
                   price: np.ndarray) -> np.ndarray | None:
    """:func:`units_to_price`'s stableswap solves where they are few, (S, m): each pool's token balance once its
    price is down to its target, the reserves ``res`` (S, m, 2) of stableswap ``pools`` (m,), the targets ``t``
    (S, m) of the counter coin's price (the coins' roles swapped), with the invariants ``D`` and prices ``price``
    of :func:`pool_invariants`. None where the arrays' path would solve more than
    :data:`~core.mechanisms._stableswap_floats.FLOAT_POOLS` pools on numpy arrays.

    The same solves as that path's (cohorts of one pool with one target in one row share one, or each is its
    own where there are at most ``FLOAT_POOLS``), each taking the steps it takes on floats there
    (:func:`~core.mechanisms.stableswap_price_target.stableswap_balances_for_price`:
    :func:`~core.mechanisms._stableswap_floats.moved_to_price` on the pool's balances, target, invariant, its
    cube ``D * D * D`` and ``4 A``, below the target where its price is), so the same bits."""
    S, m = t.shape
    few = t.size <= FLOAT_POOLS  # each its own solve on floats; else shared ones, if at most FLOAT_POOLS
    if not few and (S > FLOAT_POOLS or not (SHARE_SOLVES and m > 1)):  # each row its own solve at least
        return None
    targets = np.ascontiguousarray(t).ravel()
    group = (np.arange(S)[:, None] * len(c.pool_A) + pools[None]).ravel()
    # the distinct (row and pool, target) keys, found by sorting (the first of each in the given order), each
    # solved once on floats and read back by every cohort with its key (a pure function of the key: the same bits
    # whichever of its cohorts is solved; before, a Python loop over every cohort found them)
    first, back = distinct_pairs(group, targets.view(np.int64))
    if not few and len(first) > FLOAT_POOLS:
        return None
    row, col = np.divmod(first, m)  # each key's first cohort: its own elements, read alone
    A4 = (4.0 * c.pool_A[pools[col]]).tolist()
    Dl, pl = D[row, col].tolist(), price[row, col].tolist()
    r0, r1 = res[row, col, 0].tolist(), res[row, col, 1].tolist()
    tl = targets[first].tolist()
    solved = []
    for j in range(len(first)):
        d, tt = Dl[j], tl[j]
        # the swapped pool: coin 0 the counter coin, coin 1 the token (whose balance is kept)
        solved.append(moved_to_price(r1[j], r0[j], tt, pl[j] < tt, d, d * d * d, A4[j], _SOLVE_STEPS)[1])
    return np.array(solved)[back].reshape(S, m)

