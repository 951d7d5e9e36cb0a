"""Competing liquidators: who is served first when a depth or a capital is shared.

Liquidations are permissionless and competitive: searchers watch every position and race for the most
profitable liquidations first; a liquidation whose bonus, net of the gap between the protocol's oracle and the
market, is larger is taken before one whose margin is thin [Qin et al., "An Empirical Study of DeFi
Liquidations: Incentives, Risks, and Instabilities" (IMC 2021), sections 4-5: liquidators' profits and
gas-price bidding for the most profitable opportunities; Daian et al., "Flash Boys 2.0" (IEEE S&P 2020):
priority gas auctions]. So where a shared resource binds (the depth of a pool the seized collateral is sold
into), it goes to the cohorts in order of decreasing margin, and cohorts of equal margin share it pro rata.
(The engine shares the liquidators' capital by water-filling instead, :mod:`core.engine.capital`: served
strictly in order, the order of two cohorts whose margins differed by rounding decided which collateral was
sold.)
"""

from __future__ import annotations

import numpy as np

from core.mechanisms._checks import as_amount_array as _arr


def fill_by_margin(room: np.ndarray, demand: np.ndarray, margin: np.ndarray, group: np.ndarray) -> np.ndarray:
    r"""What each cohort gets of a resource its group shares, served in order of decreasing margin, (S, m).

    Model (module docstring). A cohort takes what its own limit ``room`` leaves once the cohorts of larger
    margin in its group are served:
    :math:`\min(\text{demand}, \max(0, \text{room} - D_{>}))` with :math:`D_{>}` their demand, and cohorts
    of equal margin share that pro rata to their demand (so the result does not depend on the cohorts'
    order). Liquidators of one pool's token sell into the same pool in the same round and see each other's
    sales: there ``room`` is the units whose sale takes the pool to each cohort's break-even (its price falls
    by ``exp(-margin)``, :func:`core.engine.pool_solves.units_to_price`), ``demand`` the units the close factor
    asks, ``group`` the pool (:func:`core.engine.limits.liquidator_limit`). With a capital per round,
    ``room`` is the capital, ``demand`` the debt each cohort's close factor repays, one group
    (:func:`core.mechanisms.lending.liquidate_aave`'s ``priority``; the engine shares its capital by
    water-filling instead, :mod:`core.engine.capital`, which moves continuously with the margins). ``room`` (S, m) or broadcastable,
    ``demand`` and ``margin`` (S, m), ``group`` (m,).

    Examples
    --------
    >>> fill_by_margin(np.array([[10.0]]), np.array([[4.0, 8.0, 2.0]]), np.array([[0.05, 0.01, 0.05]]),
    ...                np.zeros(3, int)).tolist()
    [[4.0, 4.0, 2.0]]
    """
    S, m = demand.shape
    room = _to(room, (S, m))  # (np.broadcast_to only where the shapes differ: a Python call of some 4 us)
    margin = _to(margin, (S, m))
    if m and _one_tie(margin, group):
        return _fill_one_tie(room, demand)
    rows = np.arange(S)[:, None]
    in_order = _sorted_already(-margin, group[None])  # (each row against the one group row: the same answer)
    if in_order:  # the stable sort's order is the cohorts' own: no sort, no gathers (the same bits)
        d, g, mg = demand, group[None], margin
    else:
        order = np.lexsort((-margin, np.broadcast_to(group[None], (S, m))), axis=-1)
        d, g, mg = demand[rows, order], group[order], margin[rows, order]
    new_group = np.ones((S, m), bool)
    new_group[:, 1:] = g[:, 1:] != g[:, :-1]  # (one row of groups in order: each row set from it)
    new_tie = new_group.copy()
    new_tie[:, 1:] |= mg[:, 1:] != mg[:, :-1]
    cs = np.cumsum(d, axis=1)
    # the demand of the cohorts sorted before each: the running sum at the cohort before it (0.0 at the first), not
    # ``cs - d``, whose rounding is the cohort's own: a tie or a group starting at a cohort asking nothing read
    # ``(a + 0) - 0 = a`` where, that cohort left out, the next read ``(a + d) - d``, one ulp from ``a``, so a
    # cohort's fill moved with the idle cohorts beside it (session 44, batchdep). Adding 0.0 leaves a running sum
    # as it is: each cohort's fill reads the sums of the cohorts asking something alone, whoever else is present.
    before = np.zeros((S, m))
    before[:, 1:] = cs[:, :-1]
    idx = np.arange(m)[None]  # each row's positions (np.where broadcasts it)
    tie_start = np.maximum.accumulate(np.where(new_tie, idx, 0), axis=1)
    group_start = np.maximum.accumulate(np.where(new_group, idx, 0), axis=1)
    last = np.ones((S, m), bool)
    last[:, :-1] = new_tie[:, 1:]
    tie_end = np.minimum.accumulate(np.where(last, idx, m - 1)[:, ::-1], axis=1)[:, ::-1]
    above = before[rows, tie_start] - before[rows, group_start]
    tie = cs[rows, tie_end] - before[rows, tie_start]
    left = np.clip((room if in_order else room[rows, order]) - above, 0.0, None)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        # (a tie's demand as a difference of running sums may round to 0 after large ones: served if room is left; a
        # tiny tie overflows left / tie to inf, which the cap at 1 takes)
        share = np.where(tie > 0, np.minimum(left / tie, 1.0), (left > 0).astype(float))
    taken = np.where(np.isinf(left), d, d * share)
    if in_order:
        return taken
    out = np.empty((S, m))
    out[rows, order] = taken
    return out


def _to(x: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """``np.broadcast_to(x, shape)``, ``x`` itself where it has the shape (the same elements)."""
    return x if getattr(x, "shape", None) == shape else np.broadcast_to(x, shape)


def _one_tie(margin: np.ndarray, group: np.ndarray) -> bool:
    """Whether each row's cohorts are one group of one margin (no NaN, which ties with nothing): one pool's
    cohorts of one margin, as synthetic(100k)'s 9,894 a round (:func:`_fill_one_tie`)."""
    margin = _to(margin, (margin.shape[0] if margin.ndim == 2 else 1, len(group)))
    return bool((group[1:] == group[:-1]).all()) and bool((margin[:, 1:] == margin[:, :-1]).all())


def _fill_one_tie(room: np.ndarray, demand: np.ndarray) -> np.ndarray:
    """:func:`fill_by_margin` where each row is one group of one margin (:func:`_one_tie`): the sorted order is
    the cohorts' own, every cohort's tie and group start at the row's first and its tie ends at the row's last,
    so the gathered running sums are the row's first and last, each used as it is there (the same operations on
    the same numbers, so the same bits, in a third of the passes)."""
    tie = np.cumsum(demand, axis=1)[:, -1:]  # nothing is sorted before the row's first cohort: the room is whole
    left = np.clip(room, 0.0, None)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        share = np.where(tie > 0, np.minimum(left / tie, 1.0), (left > 0).astype(float))
    return np.where(np.isinf(left), demand, demand * share)


def _sorted_already(margin_key: np.ndarray, group_key: np.ndarray) -> bool:
    """Whether every row of the keys is in ``np.lexsort((margin_key, group_key))``'s order already: groups
    non-decreasing, and within a group the margin keys non-decreasing (no NaN, which sorts last): the stable sort
    then leaves each row as it is (one pool's cohorts of one margin, synthetic(100k)'s 9,894 a round: the sort
    was half of the fill's time)."""
    if margin_key.shape[1] < 2:
        return True
    g0, g1 = group_key[:, :-1], group_key[:, 1:]
    m0, m1 = margin_key[:, :-1], margin_key[:, 1:]
    return bool(((g0 < g1) | ((g0 == g1) & (m0 <= m1))).all())


def capacity_pro_rata(repay_usd, capacity_usd):
    """Pro-rata factor so that the per-scenario total repaid <= capacity (Aave's and Compound's close-factor
    liquidations sharing one capital, :func:`core.mechanisms.lending.liquidate_aave`); 1 without a capacity.

    Examples
    --------
    Two cohorts asking $300 and $100 of $200 of capital get half each; a scenario with ample capital, all:

    >>> capacity_pro_rata(np.array([[300.0, 100.0], [10.0, 20.0]]), np.array([200.0, 200.0])).ravel().tolist()
    [0.5, 1.0]
    """
    if capacity_usd is None:
        return np.ones_like(repay_usd)
    cap = _arr(capacity_usd, "capacity_usd")
    total = repay_usd.sum(axis=-1) if repay_usd.ndim else repay_usd
    with np.errstate(over="ignore"):
        scale = np.where(total > cap, cap / np.where(total > 0, total, 1.0), 1.0)
    return np.asarray(scale)[..., None] if repay_usd.ndim else scale  # broadcasts against the cohorts


def capacity_by_margin(repay_usd, capacity_usd, priority):
    """Share of its close factor each cohort gets of the liquidators' capital, (S, c): the capital goes to the
    cohorts in order of decreasing ``priority`` (their margin), cohorts of equal priority pro rata
    (:func:`fill_by_margin`); 1 where the capital covers every cohort.

    Examples
    --------
    $200 of capital, asks of $150 and $100 at margins 8% and 5%: the wider margin is served whole, the other gets
    the $50 left:

    >>> capacity_by_margin(np.array([[150.0, 100.0]]), 200.0, np.array([0.08, 0.05])).tolist()
    [[1.0, 0.5]]
    """
    cap = np.broadcast_to(np.asarray(_arr(capacity_usd, "capacity_usd"), float).reshape(-1, 1), (repay_usd.shape[0], 1))
    pr = np.broadcast_to(np.asarray(priority, float), repay_usd.shape)
    tight = repay_usd.sum(axis=-1) > cap[:, 0]
    scale = np.ones_like(repay_usd)
    if tight.any():
        rows = np.flatnonzero(tight)
        dem = repay_usd[rows]
        taken = fill_by_margin(cap[rows], dem, pr[rows], np.zeros(dem.shape[1], int))
        with np.errstate(divide="ignore", invalid="ignore"):
            scale[rows] = np.where(dem > 0, taken / np.where(dem > 0, dem, 1.0), 1.0)
    return scale
