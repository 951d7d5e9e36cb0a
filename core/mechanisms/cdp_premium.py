r"""CDP stablecoin premium: vault owners must buy the coin back to deleverage (a short squeeze).

When collateral prices fall, vault owners below their target collateral ratio
repay debt to avoid liquidation, and keepers need the coin to bid in
auctions. Both must *buy* the stablecoin; when that demand is larger than what
the market and the PSM can supply, the coin trades above peg (Klages-Mundt &
Minca's deleveraging spiral). Black Thursday (12-13 Mar 2020, no PSM yet):
DAI traded at 1.06-1.12 (research notes §4.1).

Repayment demand
----------------
A vault with collateral value :math:`C` and debt :math:`D` below its target
ratio :math:`T` (e.g. the liquidation ratio plus a safety margin) must repay
:math:`D - C/T` to get back to it; a share :math:`\alpha` of owners act within
the round:

.. math:: \text{demand} = \alpha \sum_v \max(0,\ D_v - C_v/T_v) + \text{keeper demand}.

Price
-----
The demand is net buying in :func:`core.mechanisms.pegs.cdp_stable_price`:
the PSM mints against its backing coin up to its room (price held at the
PSM's bound, :func:`core.mechanisms.psm.psm_arbitrage`); the rest moves the
price against market depth :math:`K` up to the premium cap :math:`\pi_{max}`:

.. math:: p = V\,[1 + \pi_{max}(1 - e^{-u/K})], \quad u = \max(0, \text{demand} - \text{sell} - \text{room}).

Supply squeeze (the DAI liquidations burn)
------------------------------------------
The DAI a collateral auction raises is burnt: keepers bid DAI for the debt
(``flip.sol`` ``tend``/``dent``, ``clip.sol`` ``take``: the bid moves from the
keeper to the Vow) and the Vow annihilates it against the system's debt
(``vow.sol`` ``heal``: ``vat.heal``); a debt auction's DAI (``flop.sol``) is
burnt the same way. Keepers must buy that DAI in the market (or spend their
inventory, which they then restock), so the coin's supply shrinks by the DAI
the auctions raised. Klages-Mundt & Minca clear the stablecoin market with a
fixed dollar demand :math:`x` of its holders against the supply the
speculators (vault owners) leave outstanding, :math:`p = x / (\eta + \Delta L)`
(their ``DStablecoin.clear_stblc_market``; :math:`\Delta L < 0` when vaults
deleverage). With the holders' demand at reference :math:`x = S_0` (the coin
at par) and :math:`b` the DAI burnt so far, the holders sell
:math:`S_0(1 - 1/p)` at a premium and the price is

.. math:: p / V = \min\left(\frac{S_0}{S_0 - u},\ 1 + \pi_{max}\right),
   \qquad u = \max(0,\ b - \text{room}),

where a PSM with minting room re-mints what was burnt at par (``dss-psm``
``sellGem``), so with a PSM ``u`` stays 0 while its room lasts. The squeeze
is a stock (supply gone), not a flow: it lasts while the supply stays short.

The PSM's room is its autoline's in the round, what is left under the ceiling its arbitrage mints up to
(:func:`core.mechanisms.psm.autoline_ceiling`; ``DssAutoLine``: ``line = min(maxLine, debt + gap)`` raised at
most once a ``ttl``): the same PSM mints at most the gap's share of the round in both steps. What it re-mints
adds to the stock re-minted so far (:func:`remint`), so over a day it brings back at most the gap, not its whole
line at once. The engine books the PSM's part where it happens, the backing coin in and the DAI minted against
it (:func:`core.mechanisms.psm.sell_gem`, :func:`core.engine.backing.backing_links`); the vault owners' part
stays a stock.

The coin's pools (the stock AMMs sell first)
--------------------------------------------
The buyers of the burnt supply buy first where the coin is cheapest: the AMM pools holding it (Curve's 3pool,
Uniswap's ETH/DAI pool) sell it along their curve, so the missing supply clears where the pools' marginal price
and the holders' clearing price meet (:func:`squeeze_curve`, :func:`squeeze_clearing`):

.. math:: u = \sum_k Q_k(p) + (S_0 - X)\left(1 - \frac{1}{p}\right), \qquad p \le 1 + \pi_{max},

:math:`X` the coin the pools hold (on their curves, not in the holders' fixed dollar demand), :math:`Q_k(p)`
the coin pool :math:`k` gives up to buyers paying in its counter coin until its marginal price is :math:`p`
times its reference price (:func:`pool_coin_sold`): on Curve's invariant
:math:`A n^n \sum x_i + D = A D n^n + D^{n+1}/(n^n \prod x_i)` with :math:`D` fixed, the price the ratio of its
partial derivatives (:mod:`core.mechanisms.stableswap`, Egorov's StableSwap paper, ``StableSwap3Pool.vy``
``get_y``), or on Uniswap's :math:`xy = k`, where :math:`Q = x_0 (1 - p^{-1/2})`. A deep stableswap pool gives
up nearly all its coin within a fraction of a percent of par; once the pools are drained the rest clears as
Klages-Mundt & Minca's market does. The pools are taken at their reference reserves [model: the squeeze is a
price effect and books no swap, as the holders' sales are not booked either].

Supply recovery (the premium's fade)
------------------------------------
Above peg, vault owners with room draw new coin and sell it at the premium
(``vat.frob`` with a positive ``dart``; Klages-Mundt & Minca's speculators
lever up when the coin is dear), so the supply burnt grows back: the part
still missing relaxes towards zero at a rate :math:`\rho` a day,

.. math:: m' = m_t + \min(\text{room}_t,\ \max(0,\ b_t - m_t)), \qquad
   m_{t+1} = m' + (1 - e^{-\rho d})\,\max(0,\ b_t - m'),

:math:`m` the coin re-minted so far (the PSM's at par first, up to its room in the round, then the vault
owners'), :math:`b` the coin burnt and :math:`d` the round's days; the squeeze then clears on
:math:`u = b - m` (:func:`remint`). New vaults are fully
collateralised: they leave the issuer's equity as it was and are not among
the network's cohorts [model]. :data:`REMINT_RATE` comes from DAI's re-peg
after Black Thursday: 1.06 on 12 March 2020 (Coinbase Pro daily), within
0.3% of peg two and a half months later (ethereumprice.org, "DAI supply
reaches all-time high as peg returns"), :math:`\rho = \ln(0.06/0.003)/77`
= 0.039 a day, 1.02 after about four weeks (that period also had USDC-A from
16 March and rate cuts to 0%, so it bounds the market's own pace from below).

References
----------
* A. Klages-Mundt, A. Minca, "(In)Stability for the blockchain: deleveraging
  spirals and stablecoin attacks", arXiv 1906.02152 (2020), §2.3 (market
  clearing), §3.3 (deleveraging and liquidity); code
  ``aklamun/stablecoin_deleveraging``, ``simple_agent_model.py``.
* MakerDAO ``dss``: ``flip.sol``, ``clip.sol``, ``flop.sol``, ``vow.sol``; ``dss-psm``; ``dss-auto-line``.
* M. Egorov, "StableSwap - efficient mechanism for Stablecoin liquidity" (2019); Curve ``StableSwap3Pool.vy``
  (``get_D``, ``get_y``); Uniswap v1/v2's constant product.
* Research notes §4.1 (DAI 1.06-1.12 on Black Thursday: Coinbase Pro DAI/USDC
  1.06 daily, 1.12 intraday, Kraken 1.10 [S:Longhash-DAI]), §5.7.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.mechanisms import pegs, stableswap
from core.mechanisms._checks import as_float_array

__all__ = ["MAX_PREMIUM", "REMINT_RATE", "CLEARING_TOLERANCE", "repay_demand", "cdp_premium_price",
           "supply_squeeze_factor", "remint", "pool_coin_sold", "SqueezeCurve", "squeeze_curve", "squeeze_clearing"]

#: Cap on the premium above the coin's backing value: DAI's highest print on Black Thursday (1.12 intraday on
#: Coinbase Pro, research notes §4.1).
MAX_PREMIUM = 0.12
#: Rate a day at which vault owners re-mint the coin burnt while it trades above peg (module docstring: DAI's
#: premium from 6% on 12 March 2020 to 0.3% in 77 days, ln(20)/77).
REMINT_RATE = float(np.log(20.0) / 77.0)
#: What :func:`squeeze_clearing` states on :func:`squeeze_curve`'s default grid (4097 prices): within this of the
#: exact root of the clearing with pools (largest measured: 2.7e-8 with Curve's 3pool in 2022's 8.5bn of DAI,
#: 5e-10 with Uniswap v1's 5M in 2020's 104M, 2.7e-7 with a 1-amplification pool holding 3bn of 3.6bn, 4.2e-7
#: over 60 random pools; the holders' own clearing is exact to rounding). p linear in the supply on 1025 prices
#: was 1.3e-6 off without any pool and 6.8e-6 with the random pools.
CLEARING_TOLERANCE = 1e-6


def repay_demand(collateral_value, debt, target_ratio, acting_share=1.0):
    """DAI vault owners buy to restore ``target_ratio``: ``acting_share * sum max(0, D - C/T)`` over the last axis.

    Examples
    --------
    Two vaults at a 1.75 target: one at 1.5 must repay 14.29 of its 100, the
    other is fine.

    >>> round(float(repay_demand([150.0, 300.0], [100.0, 100.0], 1.75)), 2)
    14.29
    """
    C = as_float_array(collateral_value, "collateral_value", nonneg=True)
    D = as_float_array(debt, "debt", nonneg=True)
    T = as_float_array(target_ratio, "target_ratio", positive=True)
    a = as_float_array(acting_share, "acting_share", nonneg=True)
    return a * np.maximum(D - C / T, 0.0).sum(axis=-1)


def cdp_premium_price(backing_ratio, buy_demand_usd, market_depth_usd, *, net_sell_usd=0.0,
                      psm_share=0.0, psm_price=1.0, psm_balance_usd=0.0, psm_mint_room_usd=0.0,
                      max_premium=MAX_PREMIUM):
    """CDP stablecoin price under deleveraging demand, bounded by the PSM while it has room.

    Parameters
    ----------
    backing_ratio : array_like
        Vault collateral value per vault-backed coin (B).
    buy_demand_usd : array_like
        From :func:`repay_demand` plus keepers' demand (USD).
    market_depth_usd : array_like
        Depth K (> 0).
    net_sell_usd : array_like
        Other net selling of the coin this round (USD).
    psm_share, psm_price, psm_balance_usd, psm_mint_room_usd, max_premium
        As in :func:`core.mechanisms.pegs.cdp_stable_price`.

    Examples
    --------
    Black Thursday (no PSM): buying equal to the market depth gives
    1 + 0.12 (1 - 1/e) = 1.076, inside the observed 1.06-1.12; with a PSM
    that can mint it all the price stays at par.

    >>> round(float(cdp_premium_price(1.5, 100e6, 100e6)), 4)
    1.0759
    >>> float(cdp_premium_price(1.5, 100e6, 100e6, psm_mint_room_usd=2e9))
    1.0
    """
    demand = as_float_array(buy_demand_usd, "buy_demand_usd", nonneg=True)
    sell = as_float_array(net_sell_usd, "net_sell_usd")
    return pegs.cdp_stable_price(backing_ratio, sell - demand, psm_balance_usd, market_depth_usd,
                                 psm_share=psm_share, psm_price=psm_price,
                                 psm_mint_room_usd=psm_mint_room_usd, max_premium=max_premium)


def supply_squeeze_factor(burnt_usd, supply0_usd, psm_mint_room_usd=0.0, max_premium=MAX_PREMIUM, curve=None):
    """Price over backing value after burns shrink the coin's supply: ``min(S0 / (S0 - u), 1 + max_premium)``,
    ``u = max(0, burnt - room)`` (module docstring, Klages-Mundt & Minca's market clearing).

    Parameters
    ----------
    burnt_usd : array_like
        Coin burnt so far by auctions and repayments (USD face, >= 0).
    supply0_usd : array_like
        The coin's supply at reference (> 0): its holders' dollar demand.
    psm_mint_room_usd : array_like
        What a PSM can still mint at par to replace it.
    max_premium : float
        Cap on the premium (:data:`MAX_PREMIUM`).
    curve : SqueezeCurve, optional
        The coin's supply to the squeeze's buyers with its pools (:func:`squeeze_curve`, built for this
        ``supply0_usd`` and ``max_premium``): the price is :func:`squeeze_clearing`'s. None: no pool holds the
        coin, the holders' clearing alone.

    Examples
    --------
    Black Thursday's supply (104M DAI) after auctions burnt 9.55M DAI: holders give it up at 1.101; at 24.1M
    burnt the clearing price (1.302) is above the cap, which holds it at 1.12; a PSM with room mints it back:

    >>> round(float(supply_squeeze_factor(9.55e6, 104e6)), 3)
    1.101
    >>> round(float(supply_squeeze_factor(24.1e6, 104e6)), 3)
    1.12
    >>> float(supply_squeeze_factor(24.1e6, 104e6, psm_mint_room_usd=6.8e9))
    1.0
    """
    b = as_float_array(burnt_usd, "burnt_usd", nonneg=True)
    S0 = as_float_array(supply0_usd, "supply0_usd", positive=True)
    room = as_float_array(psm_mint_room_usd, "psm_mint_room_usd", nonneg=True)
    cap = 1.0 + as_float_array(max_premium, "max_premium", nonneg=True)
    u = np.maximum(b - room, 0.0)
    if curve is not None:
        if not (np.all(S0 == curve.supply0) and np.all(cap == curve.price[-1])):
            raise ValueError(f"supply_squeeze_factor: the curve was built for a supply of {curve.supply0} and a cap of "
                             f"{curve.price[-1]}, not {S0} and {cap}")
        return squeeze_clearing(u, curve)
    left = S0 - u
    # the clearing price exceeds the cap once the supply left is below S0 / cap (also where none is left)
    return np.where(left * cap > S0, S0 / np.where(left * cap > S0, left, 1.0), cap)


def pool_coin_sold(price_ratio, balances, amplification=np.nan):
    r"""Coin a pool gives up to buyers paying in its counter coin until the coin's marginal price is ``price_ratio``
    times its reference price (module docstring, "The coin's pools"); 0 where ``price_ratio <= 1``, never below 0
    nor above its balance.

    Parameters
    ----------
    price_ratio : array_like
        The coin's marginal price over the pool's reference one (>= 1 to sell).
    balances : array_like, shape (n,)
        The pool's reserves, USD at reference: the coin first, the coin buyers pay in second, the rest after.
    amplification : float
        Stableswap ``A`` (the whitepaper's, :mod:`core.mechanisms.stableswap`: a Curve contract's ``A()`` over
        :math:`n^{n-1}`); nan: a constant-product pool of the coin against the rest summed,
        :math:`Q = x_0 (1 - p^{-1/2})`.

    The stableswap's coin balance :math:`x` at the target price is found by bisection on :math:`\ln x` (the coin's
    price falls as its balance grows; the counter coin's balance from the invariant with :math:`D` fixed,
    :func:`~core.mechanisms.stableswap.stableswap_y`), to float resolution.

    Examples
    --------
    Uniswap v1's ETH/DAI pool on 11 March 2020 (5M DAI against $5M of ETH) at a 6% premium gives up 143.6k DAI;
    Curve's 3pool (3 x 1.0667bn, contract A 2000, whitepaper 2000/9) gives up 560M of its 1.067bn DAI before the
    coin is 0.1% dear and 899M before it is 1% dear:

    >>> round(float(pool_coin_sold(1.06, [5e6, 5e6])) / 1e3, 1)
    143.6
    >>> b = [1.0667e9] * 3
    >>> [round(float(q) / 1e6) for q in pool_coin_sold([1.001, 1.01], b, 2000 / 9)]
    [560, 899]
    """
    p = as_float_array(price_ratio, "price_ratio", positive=True)
    b = as_float_array(balances, "balances", positive=True)
    x0 = b[0]
    if not np.isfinite(amplification):
        return x0 * (1.0 - 1.0 / np.sqrt(np.maximum(p, 1.0)))
    A = float(amplification)
    D = stableswap.stableswap_D(b, A)
    target = p * stableswap.stableswap_price(b, A, 0, 1, D=D)
    lo = np.full(p.shape, np.log(x0) + np.log(1e-15))  # price above target (coin nearly gone)
    hi = np.full(p.shape, np.log(x0))                    # price at reference: at or below target
    grid = np.broadcast_to(b, p.shape + b.shape).copy()
    for _ in range(100):  # bisection on ln x: 100 halvings of a 34.5-wide bracket reach float resolution
        mid = 0.5 * (lo + hi)
        grid[..., 0] = np.exp(mid)
        grid[..., 1] = stableswap.stableswap_y(grid, A, 0, 1, grid[..., 0], D=D)
        dear = stableswap.stableswap_price(grid, A, 0, 1, D=D) >= target
        lo, hi = np.where(dear, mid, lo), np.where(dear, hi, mid)
    # exp(ln x0) may round an ulp above x0 (the bisection never leaves its top an ulp over par): never a negative sale
    return np.where(p > 1.0, x0 - np.minimum(np.exp(hi), x0), 0.0)


@dataclass(frozen=True, eq=False)
class SqueezeCurve:
    """The coin's supply to the squeeze's buyers at each price (:func:`squeeze_curve`): ``supplied[i]`` at
    ``price[i]`` (over backing value), increasing, ``price[-1]`` the cap.

    Examples
    --------
    104M of DAI held outside pools: nothing at par, :math:`S_0(1 - 1/1.12)` = 11.14M at the 12% cap:

    >>> c = squeeze_curve(104e6)
    >>> float(c.price[0]), float(c.supplied[0]), float(c.price[-1]), round(float(c.supplied[-1]) / 1e6, 2)
    (1.0, 0.0, 1.12, 11.14)
    """

    supply0: float
    price: np.ndarray
    supplied: np.ndarray


def squeeze_curve(supply0_usd, pools=(), max_premium=MAX_PREMIUM, points=4097):
    r"""What the coin's holders and pools give up at each price from par to the cap:
    :math:`(S_0 - X)(1 - 1/p) + \sum_k Q_k(p)` (module docstring), :math:`X` the coin the pools hold (which
    trades on their curves, not in the holders' fixed dollar demand), on ``points`` prices, :math:`p - 1` geometric from
    :math:`10^{-9}` of the cap's premium to all of it (and par). ``pools``: ``(balances, amplification)`` pairs as
    :func:`pool_coin_sold` takes them. Between the prices :func:`squeeze_clearing` interpolates :math:`1/p` linearly
    in the supply: exact (to float rounding) for the holders, whose supply is linear in :math:`1/p`; the pools' curves
    bend between the prices, by less than :data:`CLEARING_TOLERANCE` in the price on the default grid (measured).

    Examples
    --------
    No pool: the holders alone, K-M's clearing (104M of DAI give up 9.55M at 1.101):

    >>> c = squeeze_curve(104e6)
    >>> round(float(squeeze_clearing(9.55e6, c)), 4), round(float(104e6 / (104e6 - 9.55e6)), 4)
    (1.1011, 1.1011)
    """
    S0 = float(supply0_usd)
    cap = 1.0 + float(max_premium)
    price = 1.0 + (cap - 1.0) * np.concatenate([[0.0], np.geomspace(1e-9, 1.0, points - 1)])
    price[-1] = cap
    pools = [(as_float_array(b, "balances", positive=True), a) for b, a in pools]
    held = sum(float(b[0]) for b, _ in pools)  # the pools' coin: on their curves, not in the holders' fixed demand
    supplied = max(S0 - held, 0.0) * (1.0 - 1.0 / price)
    for balances, amplification in pools:
        supplied = supplied + pool_coin_sold(price, balances, amplification)
    return SqueezeCurve(supply0=S0, price=price, supplied=supplied)


def squeeze_clearing(missing_usd, curve):
    """Price (over backing value) at which ``missing_usd`` of the coin's supply clears on ``curve``
    (:func:`squeeze_curve`, whose docstring states its accuracy): where holders and pools give it up, the cap once
    they give up less.

    Examples
    --------
    The 2022 network's DAI (8.5bn) with Curve's 3pool (1.0667bn of DAI in 3.2bn): 500M missing clears at 1.0008
    with the pool, at 1.0625 without (8.5 / 8.0); 1bn at 1.0119 with it, at the cap without (8.5 / 7.5 = 1.133):

    >>> S0, pool = 8.5e9, ([1.0667e9] * 3, 2000 / 9)
    >>> with_pool, without = squeeze_curve(S0, [pool]), squeeze_curve(S0)
    >>> [round(float(squeeze_clearing(u, with_pool)), 4) for u in (0.5e9, 1e9)]
    [1.0008, 1.0119]
    >>> [round(float(squeeze_clearing(u, without)), 4) for u in (0.5e9, 1e9)]
    [1.0625, 1.12]
    """
    u = as_float_array(missing_usd, "missing_usd", nonneg=True)
    inverse = np.interp(u, curve.supplied, 1.0 / curve.price)
    return np.where(u >= curve.supplied[-1], curve.price[-1], 1.0 / inverse)  # the cap exactly where it binds


def remint(missing_usd, reminted_usd, days, rate=REMINT_RATE, psm_mint_room_usd=0.0):
    """Coin re-minted after a round of ``days``: the PSM first, at par, up to its room in the round,
    ``m' = m + min(room, max(0, u - m))``, then vault owners against the premium, ``m' + (1 - exp(-rate d))
    max(0, u - m')`` (module docstring).

    Parameters
    ----------
    missing_usd : array_like
        Supply burnt, ``u`` (USD face, >= 0).
    reminted_usd : array_like
        Re-minted so far, ``m`` (>= 0).
    days : array_like
        Days the round stands for.
    rate : float
        Vault owners' pace, a day (:data:`REMINT_RATE`).
    psm_mint_room_usd : array_like
        What a PSM may mint this round (its autoline's room, :func:`core.mechanisms.psm.autoline_ceiling`).

    Examples
    --------
    24.1M DAI burnt and nothing re-minted: a day brings back 0.92M, four weeks 16.0M, after which the squeeze
    clears at 104 / (104 - 8.1) = 1.085, below the 12% cap:

    >>> round(float(remint(24.1e6, 0.0, 1.0)) / 1e6, 2), round(float(remint(24.1e6, 0.0, 28.0)) / 1e6, 1)
    (0.92, 16.0)
    >>> round(float(supply_squeeze_factor(24.1e6 - remint(24.1e6, 0.0, 28.0), 104e6)), 3)
    1.085

    1bn of DAI burnt in 2022 with PSM-USDC-A's autoline (950M a day) in two-hour rounds: the PSM re-mints
    79.2M a round, vault owners 0.32% of the rest; twelve such rounds (a day) bring back 968M, 32M still missing:

    >>> m = 0.0
    >>> for _ in range(12):
    ...     m = float(remint(1e9, m, 2 / 24, psm_mint_room_usd=950e6 / 12))
    >>> round(m / 1e6, 1)
    968.4
    """
    u = as_float_array(missing_usd, "missing_usd", nonneg=True)
    m = as_float_array(reminted_usd, "reminted_usd", nonneg=True)
    d = as_float_array(days, "days", nonneg=True)
    r = as_float_array(rate, "rate", nonneg=True)
    room = as_float_array(psm_mint_room_usd, "psm_mint_room_usd", nonneg=True)
    m = m + np.minimum(room, np.maximum(u - m, 0.0))  # the PSM's sellGem at par, the autoline's share of the round
    return m + (1.0 - np.exp(-r * d)) * np.maximum(u - m, 0.0)
