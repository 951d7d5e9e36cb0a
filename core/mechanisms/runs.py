r"""Depositor runs on CeFi lenders and exchanges, and pro-rata recovery.

Withdrawal intensity (reduced form)
-----------------------------------
Diamond & Dybvig (1983) show that a bank with liquid claims and illiquid
assets has a run equilibrium; global-games refinements (Morris & Shin 1998,
Goldstein & Pauzner 2005) make the run a *smooth, increasing* function of
fundamentals: the share of depositors who withdraw switches from a baseline to
a panic level around a distress threshold. We use that shape

.. math::

    w(d) = w_0 + (w_{max} - w_0)\,\Phi\!\left(\frac{d - \theta}{\sigma}\right),

with :math:`d` a distress index (:func:`run_distress`: loss share of equity,
peer-default share, discount of the entity's own token/stable), :math:`\Phi`
the standard normal CDF. Calibration anchors (research notes §4.2, §4.4): Anchor
lost 38 % of deposits in 3 days (≈15 %/day), FTX ≈ $6bn in 72 h; Celsius and
Voyager paused withdrawals days after the trigger. The run is a share of the
depositors, not a rate without end: at panic :data:`RUN_SHARE` of them
withdraw in all (Anchor's 38 %, FTX's 40 %), at a lower distress the same
fraction of it as :math:`w(d)` is of the panic rate.

One round of a run (research notes §5.9)
----------------------------------------
Withdrawals :math:`W = w D` are paid from liquid assets :math:`\ell` first,
then by selling illiquid assets (book value :math:`I`) at a fire-sale
discount :math:`\delta`. Both are stocks the caller carries from round to
round (:mod:`core.engine.withdraw`): what is paid or sold this round is gone
the next:

.. math::

    \text{paid} = \min(W, \ell + (1-\delta) I), \quad
    \text{sold} = \min\!\left(\frac{(W-\ell)^+}{1-\delta}, I\right), \quad
    \text{haircut} = \delta\,\text{sold}.

*Liquidity default*: :math:`W > \ell + (1-\delta) I`. *Solvency default*:
equity after the haircut loss :math:`< 0`.

Recovery (absolute priority, pro rata within a class)
-----------------------------------------------------
Assets net of bankruptcy costs go to seniority classes in order; within a
class every claim recovers the same fraction

.. math:: \rho_i = \min\!\left(1, \frac{(A - \sum_{s_j < s_i} c_j)^+}{\sum_{s_j = s_i} c_j}\right).

Anchor: 3AC creditors ≈ 45.74 % ($1.16bn vs $2.7bn admitted claims).

References
----------
* D. Diamond, P. Dybvig, "Bank runs, deposit insurance, and liquidity",
  JPE 91 (1983).
* S. Morris, H. S. Shin, "Unique equilibrium in a model of self-fulfilling
  currency attacks", AER 88 (1998); I. Goldstein, A. Pauzner, "Demand-deposit
  contracts and the probability of bank runs", JF 60 (2005).
* M. Egan, A. Hortaçsu, G. Matvos, "Deposit competition and financial
  fragility", AER 107 (2017).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr

from core.mechanisms._checks import checking, as_amount_array as _arr

__all__ = ["RunStepResult", "RecoveryResult", "run_distress", "withdrawal_rate", "run_step", "recovery_rate", "RUN_SHARE"]

#: Share of an entity's depositors who withdraw in a panic run, in all (the run stops once they have; a distress
#: short of panic runs the same fraction of it as of the panic rate) [calibration, research notes §4.2, §4.4:
#: Anchor lost 38% of its deposits in 3 days, $14bn -> $8.7bn, 6-9 May 2022; FTX paid ~$6bn of ~$15bn of customer
#: balances (40%) in the 72 hours before it paused withdrawals, 6-8 November 2022; 0.4 is sfm's round figure].
#: With liquid assets a stock (core.engine.withdraw), a run at the per-round panic rate with no end took every
#: depositor (97% in ten rounds) and failed lenders that met their 2022 runs (Blockchain.com's lending arm).
RUN_SHARE = 0.4


def run_distress(loss_share=0.0, peer_default_share=0.0, token_discount=0.0, *, weights=(1.0, 1.0, 1.0)):
    """Distress index ``d = w1*loss_share + w2*peer_default_share + w3*token_discount`` (>= 0).

    Parameters
    ----------
    loss_share : array_like
        Cumulative loss as a share of initial equity (clipped to >= 0).
    peer_default_share : array_like
        Share of counterparties/peers in default, in [0, 1].
    token_discount : array_like
        Discount of the entity's own token or stablecoin to fair value (1 - price).
    weights : tuple of 3 floats

    Examples
    --------
    >>> float(run_distress(0.2, 0.1, 0.0))
    0.30000000000000004
    """
    l = np.maximum(_arr(loss_share, "loss_share", nonneg=False), 0.0)
    p = _arr(peer_default_share, "peer_default_share")
    t = np.maximum(_arr(token_discount, "token_discount", nonneg=False), 0.0)
    w = _arr(weights, "weights")
    if w.shape != (3,):
        raise ValueError("weights must have 3 entries")
    return w[0] * l + w[1] * p + w[2] * t


def withdrawal_rate(distress, base=0.01, max_rate=0.3, threshold=0.2, width=0.1, *, gated=False):
    """Share of deposits withdrawn this round: ``base + (max_rate - base) * Phi((d - threshold)/width)``.

    Parameters
    ----------
    distress : array_like
        Distress index (>= 0).
    base : float, default 0.01
        Withdrawals in calm conditions per round.
    max_rate : float, default 0.3
        Panic withdrawal share per round (<= 1).
    threshold, width : float
        Distress level at the midpoint of the switch, and its width (> 0).
    gated : bool or array_like of bool, default False
        Withdrawals paused by the platform: rate 0.

    Returns
    -------
    ndarray in [0, 1]

    Examples
    --------
    >>> round(float(withdrawal_rate(0.2)), 3)
    0.155
    >>> float(withdrawal_rate(1.0, gated=True))
    0.0
    """
    d = _arr(distress, "distress")
    b, m = _arr(base, "base"), _arr(max_rate, "max_rate")
    th, wd = _arr(threshold, "threshold", nonneg=False), _arr(width, "width")
    if checking() and (np.any(m > 1) or np.any(b > m)):
        raise ValueError("need 0 <= base <= max_rate <= 1")
    if checking() and np.any(wd <= 0):
        raise ValueError("width must be > 0")
    w = b + (m - b) * ndtr((d - th) / wd)
    return np.where(np.asarray(gated, dtype=bool), 0.0, w)


@dataclass(frozen=True)
class RunStepResult:
    """One round of withdrawals (USD; shapes = broadcast of the inputs).

    Attributes
    ----------
    withdrawals_demanded, withdrawals_paid : ndarray
    liquid_used : ndarray
        Liquid assets paid out.
    illiquid_sold : ndarray
        Book value of illiquid assets sold.
    fire_sale_proceeds : ndarray
        Cash raised, ``(1 - discount) * illiquid_sold``.
    haircut_loss : ndarray
        ``discount * illiquid_sold``.
    deposits_after, liquid_after, illiquid_after, equity_after : ndarray
    liquidity_default, solvency_default : ndarray of bool

    Examples
    --------
    >>> r = run_step(100.0, 10.0, 100.0, 0.5, 0.3)
    >>> float(r.withdrawals_paid), float(r.illiquid_sold), bool(r.solvency_default)
    (30.0, 40.0, True)
    """

    withdrawals_demanded: np.ndarray
    withdrawals_paid: np.ndarray
    liquid_used: np.ndarray
    illiquid_sold: np.ndarray
    fire_sale_proceeds: np.ndarray
    haircut_loss: np.ndarray
    deposits_after: np.ndarray
    liquid_after: np.ndarray
    illiquid_after: np.ndarray
    equity_after: np.ndarray
    liquidity_default: np.ndarray
    solvency_default: np.ndarray


def run_step(deposits, liquid_assets, illiquid_assets, fire_sale_discount, withdrawal_rate, equity=None, *, other_liabilities=0.0):
    """Pay one round of withdrawals from liquid assets, then fire sales.

    Parameters
    ----------
    deposits : array_like
        Customer deposits (USD).
    liquid_assets : array_like
        Cash and cash-like assets (USD).
    illiquid_assets : array_like
        Book value of other assets (USD).
    fire_sale_discount : array_like
        Discount in [0, 1] on illiquid assets sold this round.
    withdrawal_rate : array_like
        Share of deposits demanded this round, in [0, 1].
    equity : array_like, optional
        Equity before the round (USD); default
        ``liquid + illiquid - deposits - other_liabilities``.
    other_liabilities : array_like, default 0

    Returns
    -------
    RunStepResult

    Examples
    --------
    >>> r = run_step(100.0, 10.0, 100.0, 0.5, 0.3)
    >>> float(r.withdrawals_paid), float(r.illiquid_sold), float(r.haircut_loss), bool(r.solvency_default)
    (30.0, 40.0, 20.0, True)
    """
    D = _arr(deposits, "deposits")
    ell = _arr(liquid_assets, "liquid_assets")
    I = _arr(illiquid_assets, "illiquid_assets")
    d = _arr(fire_sale_discount, "fire_sale_discount")
    w = _arr(withdrawal_rate, "withdrawal_rate")
    if checking() and (np.any(d > 1) or np.any(w > 1)):
        raise ValueError("fire_sale_discount and withdrawal_rate must lie in [0, 1]")
    OL = _arr(other_liabilities, "other_liabilities")
    E = ell + I - D - OL if equity is None else _arr(equity, "equity", nonneg=False)
    W = w * D
    used = np.minimum(W, ell)
    short = W - used
    unit = 1.0 - d
    capacity = unit * I
    with np.errstate(divide="ignore", invalid="ignore"):
        need = np.where(unit > 0, short / np.where(unit > 0, unit, 1.0), np.where(short > 0, np.inf, 0.0))
    sold = np.minimum(need, I)
    proceeds = unit * sold
    paid = used + proceeds
    haircut = d * sold
    E_after = E - haircut
    return RunStepResult(
        withdrawals_demanded=W, withdrawals_paid=paid, liquid_used=used, illiquid_sold=sold,
        fire_sale_proceeds=proceeds, haircut_loss=haircut, deposits_after=D - paid,
        liquid_after=ell - used, illiquid_after=I - sold, equity_after=E_after,
        liquidity_default=W > ell + capacity, solvency_default=E_after < 0,
    )


@dataclass(frozen=True)
class RecoveryResult:
    """Creditor recovery.

    Attributes
    ----------
    recovery_rate : ndarray, (..., n)
        Fraction of each claim recovered, in [0, 1].
    recovered : ndarray, (..., n)
        USD recovered per claim.
    loss : ndarray, (..., n)
        ``claims - recovered`` (USD), i.e. exposure x LGD.

    Examples
    --------
    >>> recovery_rate(60.0, [50.0, 50.0], seniority=[0, 1]).recovery_rate.tolist()
    [1.0, 0.2]
    """

    recovery_rate: np.ndarray
    recovered: np.ndarray
    loss: np.ndarray


def recovery_rate(assets_value, claims, seniority=None, *, bankruptcy_cost=0.0):
    """Recovery per claim under absolute priority, pro rata within a class.

    Parameters
    ----------
    assets_value : array_like, shape (...)
        Value of the estate (USD, >= 0).
    claims : array_like, shape (..., n)
        Claims by creditor/exposure (USD, >= 0).
    seniority : array_like of int, shape (n,), optional
        Lower = more senior; default all equal (pure pro rata).
    bankruptcy_cost : float, default 0.0
        Share of assets lost in the proceedings.

    Returns
    -------
    RecoveryResult

    Examples
    --------
    3AC: $1.16bn for $2.7bn of claims (pro rata 42.96 % here; the reported
    45.74 % nets some claims):

    >>> round(float(recovery_rate(1.16, [2.36, 0.34]).recovery_rate[0]), 4)
    0.4296
    >>> recovery_rate(60.0, [50.0, 50.0], seniority=[0, 1]).recovery_rate.tolist()
    [1.0, 0.2]
    """
    A = _arr(assets_value, "assets_value")
    C = _arr(claims, "claims")
    if C.ndim < 1:
        raise ValueError("claims must have shape (..., n)")
    bc = _arr(bankruptcy_cost, "bankruptcy_cost")
    if checking() and np.any(bc > 1):
        raise ValueError("bankruptcy_cost must lie in [0, 1]")
    n = C.shape[-1]
    s = np.zeros(n) if seniority is None else np.asarray(seniority, dtype=float)
    if s.shape != (n,):
        raise ValueError(f"seniority must have shape ({n},)")
    A = (A * (1.0 - bc))[..., None]
    senior = (s[None, :] < s[:, None]).astype(float)     # [i, j]: j strictly senior to i
    same = (s[None, :] == s[:, None]).astype(float)
    ahead = C @ senior.T                                  # (..., n)
    cls = C @ same.T
    avail = np.maximum(A - ahead, 0.0)
    # a class owed a subnormal amount overflows the ratio to inf, whose minimum with 1 is the full recovery it gets
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        rho = np.where(cls > 0, np.minimum(1.0, avail / np.where(cls > 0, cls, 1.0)), 1.0)
    rec = rho * C
    return RecoveryResult(recovery_rate=rho, recovered=rec, loss=C - rec)
