r"""An algorithmic stablecoin: the UST/LUNA mint-and-burn spiral and the reserve that defends its peg.

The mint-and-burn spiral
------------------------
Per round (e.g. a day), with UST supply :math:`U` (USD face), LUNA supply
:math:`L`, LUNA price :math:`P` and UST price :math:`q`:

.. math::

    w &= \mathrm{clip}(w_0 + \beta(1-q),\,0,\,w_{max}), \quad
    X = Q + w(U - Q) + R^{shock}_t, \quad R = \min(X, \bar R), \quad Q' = X - R,\\
    \Delta L &= R / P \quad\text{(1 USD of LUNA minted per UST burnt, oracle price)},\\
    y &= R / (\kappa P L), \qquad P' = P / (1+y)^2 \quad\text{(minted LUNA sold into depth }\kappa\,\text{MC)},\\
    q' &= \min\!\left(\frac{1}{1+y},\; \frac{P'(L+\Delta L)}{U-R},\; 1\right).

The depth law is a constant-product pool whose USD side is :math:`\kappa` times
LUNA's market cap (selling :math:`\Delta L = y\,\kappa L` moves the price by
:math:`(1+y)^{-2}` and realises :math:`1/(1+y)` of the oracle value).

The first term is the value a redeemer actually realises selling the minted
LUNA; the second caps the peg by LUNA's market cap per UST (backing).
:math:`\bar R` is the mint/burn capacity per round (Terra's market-module
pool limit); exit demand above it queues (:math:`Q`). Without a cap, fast
redemption shrinks UST as fast as LUNA's cap and the depeg stalls; with a cap,
UST outstanding stays large while LUNA is diluted, which is the spiral. Near the
peg :math:`1-q \approx y`, so the redemption rate evolves as
:math:`w' \approx \beta U w / (\kappa\,MC)`: the peg *restores* when
:math:`MC > \beta U/\kappa` (with the defaults, when LUNA's market cap exceeds
UST outstanding) and *spirals* otherwise. May 2022 magnitudes: UST ≈ $18.5bn, LUNA ≈ $77 × 350M
(MC ≈ $27bn); LUNA ended at $0.00014 and UST at ≈ $0.1. Defaults
:math:`\beta=1`, :math:`\kappa=1`, :math:`w_{max}=0.5` per day are
estimates (Anchor lost 38 % of deposits in 3 days at UST ≈ 0.7-0.9).

Peg-defence reserve
-------------------
A reserve (the Luna Foundation Guard for UST) that sees its token below the
calm band under its peg sells a share of what is left of it each round to buy
the token back, in proportion to the discount beyond the band up to twice the
band (:func:`reserve_defence`, decision 22); it stops once it is down to
:data:`RESERVE_EXHAUSTED` of its reference value.

References
----------
* Research notes §4.2, §5.7 (the UST episode, stablecoin run dynamics).
* Terra ``x/market`` module docs (mint/burn swap at the oracle price).
* LFG (@LFG_org), thread of 16 May 2022 on the use of its reserve, 8-12 May
  2022; J.S. Held, technical audit report for LFG (published 16 November 2022).
* J. Liu, I. Makarov, A. Schoar, "Anatomy of a run: the Terra Luna crash",
  NBER WP 31160 (2023).

Examples
--------
>>> r = algo_stable_spiral(18.5e9, 350e6, 38.5, 2e9, redemption_cap_usd=1e9)
>>> bool(r.collapsed)
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.mechanisms._checks import as_unit_array as _unit, as_amount_array as _arr

__all__ = [
    "AlgoSpiralResult",
    "algo_stable_spiral",
    "algo_stable_step",
    "holders_exit_share",
    "log_slippage",
    "reserve_defence",
    "ALGO_MAX_RATE",
    "ALGO_REDEMPTION_CAP",
    "PEG_CALM_BAND",
    "DEFENCE_RAMP",
    "RESERVE_EXHAUSTED",
]

#: Largest share of an algorithmic stablecoin's supply whose holders ask to redeem in one round [calibration,
#: sfm's estimate; what the market module can absorb is ALGO_REDEMPTION_CAP].
ALGO_MAX_RATE = 0.5
#: Mint/burn capacity per round as a share of the initial supply (Terra's market module: about $1bn a day,
#: of an $18.5bn supply) [estimate].
ALGO_REDEMPTION_CAP = 0.05
#: The calm band below an algorithmic stablecoin's peg, as a share of the peg (decision 21): inside it the coin
#: trades without anyone running and its reserve does not defend; its holders leave through the mint-and-burn,
#: and its reserve starts to buy, only on the discount beyond it (:func:`holders_exit_share`,
#: :func:`reserve_defence`). [estimate] 0.5 %, the reserve-defence trigger the model used before decision 21;
#: no source found stating UST's calm-market daily lows before 7 May 2022 (searched: CoinGecko/CoinDesk reports
#: of 7-8 May 2022, which call UST's fall to 0.987 on 7 May its first loss of peg since LFG's reserve was built;
#: Curve's UST-3CRV pool reports), so the figure is the model's, and one threshold serves both sides.
PEG_CALM_BAND = 0.005
#: How far beyond the calm band a reserve's defence grows to its full budget, as a share of the peg
#: (:func:`reserve_defence`, decision 22): full at a discount of twice the band. [estimate] No source states how
#: LFG's spending in May 2022 depended on UST's discount; the figure is the model's, the width of the band itself.
DEFENCE_RAMP = PEG_CALM_BAND
#: Share of its reference value below which a peg-defence reserve stops spending (LFG was empty by 10 May 2022).
RESERVE_EXHAUSTED = 0.01


@dataclass(frozen=True)
class AlgoSpiralResult:
    """Paths of the mint-and-burn spiral; round axis first, then the scenario shape.

    Attributes
    ----------
    ust_price, luna_price, ust_supply, luna_supply : ndarray, (T+1, ...)
        Row 0 is the initial state. Prices USD, supplies tokens.
    redeemed : ndarray, (T, ...)
        UST burnt per round (USD face).
    luna_minted : ndarray, (T, ...)
        LUNA minted per round (tokens).
    peg_restored : ndarray of bool, (...)
        Final UST price >= ``restored_level``.
    collapsed : ndarray of bool, (...)
        Final UST price < ``collapse_level``.

    Examples
    --------
    >>> r = algo_stable_spiral(18.5e9, 350e6, 77.0, 2e9)
    >>> bool(r.peg_restored), bool(r.collapsed)
    (True, False)
    """

    ust_price: np.ndarray
    luna_price: np.ndarray
    ust_supply: np.ndarray
    luna_supply: np.ndarray
    redeemed: np.ndarray
    luna_minted: np.ndarray
    peg_restored: np.ndarray
    collapsed: np.ndarray


def algo_stable_spiral(
    ust_supply, luna_supply, luna_price, shock_redemption_usd, *, rounds=30,
    base_rate=0.0, run_intensity=1.0, max_rate=0.5, depth_fraction=1.0,
    ust_price=1.0, redemption_cap_usd=np.inf, restored_level=0.99, collapse_level=0.5,
):
    """Simulate UST/LUNA mint-and-burn redemptions round by round (see module docstring).

    Parameters
    ----------
    ust_supply : array_like, shape (...)
        UST outstanding (USD face, > 0).
    luna_supply : array_like
        LUNA tokens (> 0).
    luna_price : array_like
        LUNA price in USD (> 0) — apply a LUNA price shock here.
    shock_redemption_usd : array_like
        Extra UST redeemed in round 0 (the initial attack/run, USD face).
    rounds : int, default 30
    base_rate : float, default 0.0
        Baseline redemption share per round (w0).
    run_intensity : float, default 1.0
        beta: extra redemption share per unit of depeg (1 - q).
    max_rate : float, default 0.5
        Cap on the redemption share per round.
    depth_fraction : float, default 1.0
        kappa: LUNA market depth as a share of its market cap.
    ust_price : array_like, default 1.0
        Initial UST price q.
    redemption_cap_usd : array_like, default inf
        Mint/burn capacity per round (Terra's market-module pool limit);
        exit demand above it waits in a queue for later rounds.
    restored_level, collapse_level : float
        Thresholds for the ``peg_restored`` / ``collapsed`` flags.

    Returns
    -------
    AlgoSpiralResult

    Examples
    --------
    May 2022 sizes, $2bn initial run: LUNA cap $27bn absorbs it.

    >>> r = algo_stable_spiral(18.5e9, 350e6, 77.0, 2e9)
    >>> bool(r.peg_restored), bool(r.collapsed)
    (True, False)

    Same run after LUNA halves (cap $13.5bn < UST), $1bn/day mint-burn cap:
    death spiral.

    >>> r = algo_stable_spiral(18.5e9, 350e6, 38.5, 2e9, redemption_cap_usd=1e9)
    >>> bool(r.collapsed), float(r.luna_price[-1]) < 0.01
    (True, True)
    """
    U = _arr(ust_supply, "ust_supply", positive=True)
    L = _arr(luna_supply, "luna_supply", positive=True)
    P = _arr(luna_price, "luna_price", positive=True)
    shock = _arr(shock_redemption_usd, "shock_redemption_usd")
    q = _arr(ust_price, "ust_price")
    w0, beta, wmax = _arr(base_rate, "base_rate"), _arr(run_intensity, "run_intensity"), _unit(max_rate, "max_rate")
    kappa = _arr(depth_fraction, "depth_fraction", positive=True)
    cap = _arr(redemption_cap_usd, "redemption_cap_usd")
    if int(rounds) < 1:
        raise ValueError("rounds must be >= 1")
    U, L, P, shock, q = (a.astype(float) for a in np.broadcast_arrays(U, L, P, shock, q))
    q = np.minimum(q, 1.0)
    hist = {k: [v.copy()] for k, v in (("q", q), ("P", P), ("U", U), ("L", L))}
    red, mint = [], []
    lP, lL = np.log(P), np.log(L)  # log space: LUNA hyperinflation overflows float64 otherwise
    queue = np.zeros_like(U)                       # exit demand not yet redeemed
    for t in range(int(rounds)):
        w = np.clip(w0 + beta * (1.0 - q), 0.0, wmax)
        X = np.minimum(queue + w * (U - queue) + (shock if t == 0 else 0.0), U)
        R = np.minimum(X, cap)
        queue = X - R
        U, lL, lP, q, dL = algo_stable_step(U, lL, lP, R, kappa)
        red.append(R)
        mint.append(dL)
        with np.errstate(over="ignore"):
            for k, v in (("q", q), ("P", np.exp(lP)), ("U", U), ("L", np.exp(lL))):
                hist[k].append(v.copy())
    return AlgoSpiralResult(
        ust_price=np.stack(hist["q"]), luna_price=np.stack(hist["P"]),
        ust_supply=np.stack(hist["U"]), luna_supply=np.stack(hist["L"]),
        redeemed=np.stack(red), luna_minted=np.stack(mint),
        peg_restored=q >= restored_level, collapsed=q < collapse_level,
    )


def algo_stable_step(ust_supply, log_luna_supply, log_luna_price, redeemed_usd, depth_fraction=1.0):
    """One round of mint-and-burn: ``redeemed_usd`` of UST burnt for freshly minted LUNA that is sold.

    The equations of the module docstring, in log space (LUNA supply and
    price span thirty orders of magnitude in a collapse).

    Parameters
    ----------
    ust_supply : array_like
        UST outstanding before the round (USD face).
    log_luna_supply, log_luna_price : array_like
        Natural logs of LUNA supply (tokens) and price (USD).
    redeemed_usd : array_like
        UST burnt this round (USD face, at most ``ust_supply``).
    depth_fraction : array_like, default 1.0
        kappa: LUNA market depth as a share of its market cap.

    Returns
    -------
    tuple of ndarray
        ``(ust_supply, log_luna_supply, log_luna_price, ust_price, luna_minted)``
        after the round; ``ust_price`` is the smaller of what a redeemer
        realises and LUNA's market cap per UST, capped at 1.

    Examples
    --------
    Redeeming $1bn against a $27bn LUNA market cap costs LUNA about 7 %:

    >>> U, lL, lP, q, dL = algo_stable_step(18.5e9, np.log(350e6), np.log(77.0), 1e9)
    >>> round(float(np.exp(lP)), 2), round(float(q), 4)
    (71.59, 0.9642)
    """
    U = _arr(ust_supply, "ust_supply")
    R = np.minimum(_arr(redeemed_usd, "redeemed_usd"), U)
    lL = np.asarray(log_luna_supply, dtype=float)
    lP = np.asarray(log_luna_price, dtype=float)
    lk = np.log(_arr(depth_fraction, "depth_fraction", positive=True))
    with np.errstate(divide="ignore"):
        lR = np.log(R)
    l1y = log_slippage(lR - lk - lP - lL)            # log(1 + y), y = R / (kappa * MC)
    realised = np.exp(-l1y)
    with np.errstate(over="ignore"):
        dL = np.exp(lR - lP)                         # R / P (oracle price)
    lL = np.logaddexp(lL, lR - lP)
    lP = lP - 2.0 * l1y
    U = U - R
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        cover = np.where(U > 0, np.exp(lP + lL - np.log(np.where(U > 0, U, 1.0))), np.inf)
    q = np.minimum(np.minimum(realised, cover), 1.0)
    return U, lL, lP, q, dL


def holders_exit_share(price_ratio, run_intensity, band=PEG_CALM_BAND):
    r"""Share of its holders who want out of an algorithmic stablecoin in a round when it trades at
    ``price_ratio`` of its peg (decision 21):

    .. math::

        w = \min\bigl(w_{max},\; (1 + \text{run}) \cdot \max(0,\; 1 - b - q)\bigr),

    ``q`` at most 1, ``b`` the calm band :data:`PEG_CALM_BAND` and ``w_max`` :data:`ALGO_MAX_RATE` (module
    docstring's ``w`` with ``w0 = 0``, ``beta = 1 + run`` and the discount measured beyond the band). The holders
    redeeming through the mint-and-burn (:func:`core.engine.defend.redeem_algorithmic`) and the depositors of an
    intermediary that holds the coin for them (:func:`core.engine.withdraw.coin_exit_share`) leave at this rate.

    Why a band: a holder who wants out at a 0.2 % discount sells in the market at 0.998 rather than redeem through
    a module that pays a dollar less its 2 % spread (:data:`core.engine.module_arbitrage.MODULE_SPREAD`); a run is
    the holders' loss of faith, which a discount inside the band where the coin traded for months does not signal.
    The reserve's defence starts at the same point (:func:`reserve_defence`'s ``trigger`` is the same band), so a
    run never starts where the reserve would not defend. The share is continuous in ``q`` and zero at the band's
    edge, so a discount one basis point beyond the band starts a run of ``1 + run`` basis points, not a jump. (Before, the
    share was ``(1 + run)(1 - q)``: a USDC dip of 0.31 % that put UST 0.2 % under its peg started an undefended
    run, UST 0.998 -> 0.700 in 12 rounds, $3,931.48M more loss than at a 3 % dip that LFG defended, session 37.)

    Examples
    --------
    UST at 0.70 with run intensity 0.8: 1.8 x 0.295 = 53.1 % want out, capped at half a round; at 0.95,
    1.8 x 0.045 = 8.1 %; at 0.998, inside the band, and at the peg, none; at 0.99, 1.8 x 0.005 = 0.9 %:

    >>> holders_exit_share(np.array([0.7, 0.95, 0.99, 0.998, 1.0]), 0.8).round(4).tolist()
    [0.5, 0.081, 0.009, 0.0, 0.0]
    """
    q = np.minimum(np.asarray(price_ratio, dtype=float), 1.0)
    # np.clip through its ufuncs: its wrapper costs more than the work on a cascade's small arrays
    discount = np.maximum(1.0 - band - q, 0.0)
    return np.minimum((1.0 + np.asarray(run_intensity, dtype=float)) * discount, ALGO_MAX_RATE)


def log_slippage(log_y):
    """``log(1 + y)`` from ``log y``, ``y = R / (kappa * MC)``: the LUNA minted for ``R`` redeemed dollars, sold
    into a depth of ``kappa`` times LUNA's market cap, realises ``1 / (1 + y)`` of its oracle value per dollar and
    moves LUNA's price by ``(1 + y)^-2`` (module docstring). In logs: the cap spans thirty orders of magnitude in
    a collapse.

    Examples
    --------
    A redeemer of $1bn against a $27bn LUNA market cap realises 96.4 cents a UST:

    >>> round(float(np.exp(-log_slippage(np.log(1e9 / 27e9)))), 4)
    0.9643
    """
    return np.logaddexp(0.0, log_y)


def reserve_defence(price, peg, reserve_usd, *, trigger=PEG_CALM_BAND, rate=0.5, ramp=DEFENCE_RAMP):
    r"""How much a peg-defence reserve may spend this round (USD), shape of ``price``: in proportion to the
    discount beyond the calm band (decision 22),

    .. math::

        B = \text{rate} \cdot V \cdot \mathrm{clip}\!\left(\frac{p^*(1 - b) - p}{p^* \rho},\; 0,\; 1\right),

    ``p`` the token's price, ``p*`` its peg, ``V`` what is left of the reserve, ``b`` the ``trigger`` (the calm band
    :data:`PEG_CALM_BAND`, the point where the coin's holders start to leave, :func:`holders_exit_share`,
    decision 21) and ``rho`` the ``ramp`` (:data:`DEFENCE_RAMP`): nothing at or inside the band, the share
    ``rate`` of the reserve from a discount of ``b + rho`` (twice the band) on, and in between a budget in
    proportion to the discount beyond the band. The engine spends of it only what lifts the pool to the peg
    (:func:`core.engine.defend.defend_pegs`): the target is the peg at every discount.

    The model: a reserve (the Luna Foundation Guard for UST) answers its token's fall below the calm band by
    selling a share of what is left, more the further the token has fallen. LFG began converting its reserve
    on 8 May 2022, once UST had fallen well below its dollar (its own account), first 26.28M USDT and
    23.56M USDC for 50.20M UST, then 52,189 BTC for 1,515.69M UST through a counterparty, and on 10 May a last
    33,206 BTC for 1,164.02M UST (LFG's thread of 16 May 2022; J.S. Held's audit for LFG,
    November 2022: $2.8bn, 80,081 BTC and $49.8M of stablecoins, 8-12 May); most of its 80,394 BTC went over
    8-10 May (three days, about half a day's reserve a round): the default ``rate = 0.5`` reproduces that pace
    [estimate]. Neither source states how the spending depended on the discount; the ramp is sfm's
    [estimate, decision 22]. It makes the budget continuous in the price: with a full budget from the first
    ulp beyond the band, a coin one ulp beyond the edge was lifted to the peg and one at the edge was not
    ($99.66M of loss between two depths one ulp apart, ``s40-crvust-2022-ftt-66-eth-3-wbtc-57-…``; Session 40
    (crvust)). ``ramp = 0`` is that step (the rule before decision 22).

    Examples
    --------
    At 0.95 the discount beyond the band is past the ramp: half of a $3.5bn reserve; at 0.9925, half the ramp:
    a quarter; at the band's edge and at the peg, nothing:

    >>> reserve_defence([0.95, 0.9925, 0.995, 1.0], 1.0, 3.5e9).round(0).tolist()
    [1750000000.0, 875000000.0, 0.0, 0.0]
    """
    p = _arr(price, "price")
    r = _arr(reserve_usd, "reserve_usd")
    pg = np.asarray(peg, dtype=float)
    edge = pg * (1.0 - trigger)
    if ramp > 0:  # np.clip through its ufuncs: its wrapper costs more than the work on a cascade's small arrays
        share = np.minimum(np.maximum((edge - p) / (pg * ramp), 0.0), 1.0)
    else:
        share = (p < edge).astype(float)
    return _unit(rate, "rate") * r * share
