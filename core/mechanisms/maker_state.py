"""Maker's liquidation system between rounds: the contracts' parameters per ilk, the state of vaults, auctions
and the Vow, and what a round returns.

The records that :func:`~core.mechanisms.maker_liquidations.maker_round` (Liquidations 2.0: ``dog.sol``,
``clip.sol``) and :func:`~core.mechanisms.maker_liquidations.maker_flip_round` (2020: ``cat.sol``,
``flip.sol``) read and write. State is per vault *cohort* (an aggregate of vaults of one ilk about one
collateral ratio, spread about it by ``spread``: :mod:`~core.mechanisms.cohort_spread`); each cohort holds up to
:data:`AUCTION_SLOTS` Clipper auctions at once, each with its own ``top`` and clock. All arrays carry a leading
scenario axis ``(S, c)`` for cohorts and ``(S, n_ilks)`` for ilks;
parameters are per ilk, named as the contracts name them.

References
----------
* MakerDAO ``dss`` ``spot.sol`` (``mat``), ``dog.sol`` (``chop``, ``hole``, ``Hole``, ``dirt``/``Dirt``),
  ``vat.sol`` (``dust``), ``clip.sol`` (``buf``, ``tail``, ``cusp``, ``chip``, ``tip``, ``tab``, ``lot``,
  ``top``), ``abaci.sol`` (``step``, ``cut``), ``vow.sol`` (surplus, deficit).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["AUCTION_SLOTS", "IlkParameters", "MakerState", "MakerRoundResult", "maker_initial_state",
           "total_over_auctions"]

#: Clipper auctions a cohort holds at once (:func:`maker_initial_state`): each ``dog.bark`` of a cohort kicks its
#: own (``clip.kick``, a new ``id``) in a free slot; a bark that finds every slot live joins the one latest kicked
#: or reset (``MakerRoundResult.overflow`` counts them). black_thursday_eth_crash has a cohort barked in five
#: successive two-hour rounds with all five auctions live (one overflow with four slots, none with five or more);
#: six leave a margin. The auction arrays are (S, slots, c): six times the memory of one slot per cohort.
AUCTION_SLOTS = 6


@dataclass(frozen=True)
class IlkParameters:
    """Per-ilk contract parameters, arrays of shape ``(n_ilks,)``; the auction parameters ``buf`` to ``cut``
    floats, or arrays per auction (broadcast against the cohort axis); ``Hole`` a float or one per scenario.

    ``mat`` liquidation ratio (spot.sol); ``chop`` penalty multiplier (dog.sol);
    ``hole`` DAI under auction per ilk and ``Hole`` globally; ``dust`` debt
    floor (vat.sol); ``buf``, ``tail`` (s), ``cusp``, ``chip``, ``tip``
    (clip.sol); ``step`` (s) and ``cut`` of the StairstepExponentialDecrease.

    Examples
    --------
    >>> p = IlkParameters(mat=np.array([1.45]), chop=np.array([1.13]), hole=np.array([40e6]),
    ...                   dust=np.array([15e3]), buf=1.2, tail=8400.0, cusp=0.4, chip=0.0,
    ...                   tip=0.0, step=90.0, cut=0.99, Hole=100e6)
    >>> p.mat.tolist(), p.step
    ([1.45], 90.0)
    """

    mat: np.ndarray
    chop: np.ndarray
    hole: np.ndarray
    dust: np.ndarray
    buf: float | np.ndarray
    tail: float | np.ndarray
    cusp: float | np.ndarray
    chip: float | np.ndarray
    tip: float | np.ndarray
    step: float | np.ndarray
    cut: float | np.ndarray
    Hole: float | np.ndarray


@dataclass(frozen=True)
class MakerState:
    """Vaults, live auctions and the Vow between rounds.

    ``ink``/``debt`` (S, c) vault collateral and debt (DAI, ``art*rate``);
    ``tab``/``lot``/``top``/``elapsed``/``due``/``raised`` (S, slots, c) the cohorts'
    auctions, one per slot (``tab`` 0: a free slot; (S, c) arrays are read as one slot); ``ilk_dirt`` (S, n_ilks), ``Dirt`` (S,); ``surplus``,
    ``deficit`` (S,) USD; ``mkr_supply``, ``mkr_price`` (S,); ``spread`` (S, c) or a scalar: the
    relative half-width of each cohort's vaults' collateral ratios about its own (0: one vault; module docstring).

    Examples
    --------
    >>> s = maker_initial_state(np.ones((2, 3)), np.full((2, 3), 5.0), 2, 1e6, 1e6, 1500.0)
    >>> s.debt.shape, s.surplus.tolist(), float(s.tab.sum())
    ((2, 3), [1000000.0, 1000000.0], 0.0)
    """

    ink: np.ndarray
    debt: np.ndarray
    tab: np.ndarray
    lot: np.ndarray
    top: np.ndarray
    elapsed: np.ndarray
    due: np.ndarray
    raised: np.ndarray
    ilk_dirt: np.ndarray
    Dirt: np.ndarray
    surplus: np.ndarray
    deficit: np.ndarray
    mkr_supply: np.ndarray
    mkr_price: np.ndarray
    spread: np.ndarray | float = 0.0


def maker_initial_state(ink, debt, n_ilks, surplus, mkr_supply, mkr_price, spread=0.0,
                        slots: int = AUCTION_SLOTS) -> MakerState:
    """Vaults with no live auction: the Maker state before the first round.

    Parameters
    ----------
    ink, debt : array_like, shape (S, c)
        Vault collateral (units) and debt (DAI) per scenario and cohort.
    n_ilks : int
        Number of collateral types.
    surplus, mkr_supply, mkr_price : array_like, shape (S,) or scalars
        The Vow's surplus buffer (USD), MKR supply and MKR price (USD).
    spread : array_like, shape (S, c) or (c,) or scalar, default 0
        Relative half-width of each cohort's vaults' ratios about its own (0: one vault).
    slots : int
        Auctions each cohort can hold at once (:data:`AUCTION_SLOTS`): the auction arrays are (S, slots, c).

    Returns
    -------
    MakerState
        Auction slots, dirt and deficit at zero.

    Examples
    --------
    >>> s = maker_initial_state(np.ones((2, 3)), np.full((2, 3), 5.0), 2, 1e6, 1e6, 1500.0)
    >>> s.surplus.tolist(), s.ilk_dirt.shape, float(s.tab.sum())
    ([1000000.0, 1000000.0], (2, 2), 0.0)
    """
    ink = np.asarray(ink, float)
    debt = np.asarray(debt, float)
    S = ink.shape[0]
    z = np.zeros((S, slots) + ink.shape[1:])
    full = lambda v: np.broadcast_to(np.asarray(v, float), (S,)).copy()  # noqa: E731
    return MakerState(ink=ink, debt=debt, tab=z, lot=z.copy(), top=z.copy(), elapsed=z.copy(), due=z.copy(),
                      raised=z.copy(), ilk_dirt=np.zeros((S, n_ilks)), Dirt=np.zeros(S), surplus=full(surplus),
                      deficit=np.zeros(S), mkr_supply=full(mkr_supply), mkr_price=full(mkr_price),
                      spread=np.broadcast_to(np.asarray(spread, float), ink.shape).copy())


@dataclass(frozen=True)
class MakerRoundResult:
    """The state after the round and the round's flows.

    ``barked_debt`` (S, c) debt moved to auction; ``collateral_sold`` (S, c)
    units sold to keepers (the engine sells them on the market);
    ``dai_raised`` (S, c); ``returned`` (S, c) collateral back to owners;
    ``bad_debt`` (S,) losses of auctions that closed short; ``penalty_income``
    (S,); ``incentives`` (S,); ``mkr_minted`` (S,) and ``flop_raised`` (S,)
    DAI the debt auctions raised; ``maker_failed`` (S,) bool; ``flap_paid`` (S,) DAI the surplus auctions
    paid out and ``mkr_burnt`` (S,) the MKR they burnt (``vow.flap``); ``overflow`` (S,) barks that found every
    auction slot of their cohort live and joined one (:data:`AUCTION_SLOTS`); ``exposed`` (S,) what the live
    auctions' collateral cannot raise at the keepers' price beyond the surplus buffer and the debt auctions'
    DAI of the round (``maker_liquidations._exposed``): sin no auction will heal, still waiting for ``flop``.

    Examples
    --------
    >>> p = IlkParameters(mat=np.array([1.45]), chop=np.array([1.13]), hole=np.array([40e6]),
    ...                   dust=np.array([15e3]), buf=1.2, tail=8400.0, cusp=0.4, chip=0.0,
    ...                   tip=0.0, step=90.0, cut=0.99, Hole=100e6)
    >>> s = maker_initial_state([[100.0]], [[100e3]], 1, 0.0, 1e6, 1000.0)
    >>> from core.mechanisms.maker_liquidations import maker_round
    >>> r = maker_round(s, [0], p, [[1300.0]], [[1300.0]], round_seconds=3600.0, keeper_margin=0.01)
    >>> round(float(r.dai_raised[0, 0])), round(float(r.penalty_income[0]))
    (113000, 13000)
    """

    state: MakerState
    barked_debt: np.ndarray
    collateral_sold: np.ndarray
    dai_raised: np.ndarray
    returned: np.ndarray
    bad_debt: np.ndarray
    penalty_income: np.ndarray
    incentives: np.ndarray
    mkr_minted: np.ndarray
    flop_raised: np.ndarray
    maker_failed: np.ndarray
    shortfall: np.ndarray
    flap_paid: np.ndarray | float = 0.0
    mkr_burnt: np.ndarray | float = 0.0
    overflow: np.ndarray | int = 0
    exposed: np.ndarray | float = 0.0


def total_over_auctions(x, ndim: int) -> np.ndarray:
    """``x`` added over its auction axes, the trailing ones beyond ``ndim`` (the Vow's own) and at least the last:
    over the cohorts of each auction slot first, then over the slots in order (an (S, slots, c) array adds its
    first slot's auctions as an (S, c) one would, and empty slots add exact zeros).

    Parameters
    ----------
    x : array_like
        An amount per auction, e.g. (S, c) or (S, slots, c).
    ndim : int
        Dimensions of the result (the Vow's: 1 for (S,), 0 for a scalar).

    Returns
    -------
    ndarray

    Examples
    --------
    >>> total_over_auctions(np.arange(12.0).reshape(1, 2, 6), 1).tolist()
    [66.0]
    """
    x = np.asarray(x)
    x = x.sum(axis=-1)
    while x.ndim > ndim:
        x = x.sum(axis=-1)
    return x
