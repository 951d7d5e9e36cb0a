r"""Vault owners defend their vaults: they repay debt before the liquidation ratio is reached.

A Maker vault is barked only when its collateral ratio at the oracle price
falls below ``mat`` (``dog.bark``). Until then its owner may repay DAI
(``vat.frob`` with a negative ``dart``) or add collateral; both raise the
ratio, and the OSM announces the next price an hour ahead, so an owner who
watches can act before the Dog does. Owners do this at a rate, not all at once:
a vault below its owner's target ratio :math:`T` (the liquidation ratio plus a
margin) has the share

.. math:: a(h) = \min(1,\ a_{day}\,\ell\,h / 24)

of its gap :math:`\max(0,\ D - C/T)` repaid within a round of :math:`h` hours,
:math:`a_{day}` the share repaid in a day in normal markets and :math:`\ell`
the scenario's liquidity (the gas and congestion that slow keepers slow owners
too). Repayment is a flow, like the demand for the coin it makes
(:mod:`core.engine.backing`): a round of :math:`h` hours carries :math:`h/24`
of a day's, so the premium it sets does not depend on the round's length.
An owner repays at most the vault's equity :math:`C - D`, what the vault is
worth to them: nothing under water (walking away costs no more), and the
repayment falls continuously to zero at the water line, so a vault just above
it is not treated apart from one just below (a jump there made losses fall
one ulp deeper on crypto-2020-03: -$2.59M with USDC 11.6% off peg). Repayment is made in
the coin the vault owes, bought outside the network (the premium's demand,
:mod:`core.mechanisms.cdp_premium`); adding collateral has the same effect on
the ratio and is not told apart.

Calibration (:data:`DAILY_SHARE`, :data:`TARGET_MARGIN`)
---------------------------------------------------------
* June 2022: Maker's non-stable collateral fell from $3.3bn to $1.2bn in the
  month from 1 May while its liquidations earned 11.3M DAI of penalty (Risk
  Core Unit, Weekly Relay 19-25 July 2022); ETH locked fell from 2.2M to
  1.5M ETH in June as vaults repaid and "users covered positions", WBTC
  locked rose from 34K to 63K as vaults were protected (Financial Report
  2022-06, forum.makerdao.com t/16562). With 13% ``chop`` the penalty is
  ~87M DAI of debt liquidated, ~2.4% of the ~$3.6bn of ETH and WBTC vault
  debt (2022 snapshot) that a 67% fall would otherwise have put under
  ``mat``. Measured on the stETH June 2022 preset: 10.9M DAI of penalty at
  :data:`DAILY_SHARE` 0.25 (408.6M without the defence), and 40.5M at 0.22,
  15.7M at 0.24, 6.3M at 0.26, 3.8M at 0.27 a day: continuous and falling
  in the pace, since a cohort's vaults' ratios are spread about its own and
  its lowest are barked first (:func:`core.engine.maker.vault_spread`; with
  each cohort one vault, barked whole or not at all in the 26% fall of 12-15
  June, it jumped from 25.5M at 0.24 to 4.7M at 0.25). 0.25 is the repayment
  pace the CDP premium already assumed (:mod:`core.engine.backing`), not
  fitted to the 11.3M (reached at about 0.249).
* 21-22 January 2022: ETH -14% in hours; six of the seven largest ETH-A
  vaults at risk ($630M of collateral) were topped up in time, one ($65M of
  ETH) was auctioned (Forklog, 22 Jan 2022; "the protocol sends assets to
  auction with about a thirty-minute delay").
* 12-13 March 2020: gas 6x; "the extremely high gas prices made it very
  expensive for the borrowers to save their vaults" (Covalent, 18 Mar 2020),
  which the liquidity factor carries.

References
----------
* MakerDAO ``dss`` ``vat.sol`` (``frob``), ``dog.sol`` (``bark``), ``OSM.sol`` (the next price, one hop ahead).
* https://forum.makerdao.com/t/financial-report-2022-06/16562 ; Weekly Relay, 19-25 July 2022.
* https://forklog.com/en/makerdao-users-avert-liquidations-worth-more-than-600-million
* https://www.covalenthq.com/blog/makerdao-liquidation-notifications/
"""

from __future__ import annotations

import numpy as np

from core.mechanisms._checks import as_float_array

__all__ = ["DAILY_SHARE", "TARGET_MARGIN", "acting_share", "defence_repayment"]

#: Owners aim this far above their liquidation ratio when they repay: in March 2022 about 2% of Maker's debt
#: was at risk from a 28% fall (Block Analitica, State of Dai 15-21 March 2022), so owners kept their vaults
#: 1/(1 - 0.28) = 1.39 times ``mat`` or more.
TARGET_MARGIN = 0.39
#: Share of the gap to their target that owners repay in a day in normal markets [calibration, module docstring].
DAILY_SHARE = 0.25


def acting_share(round_hours, liquidity=1.0, daily_share=DAILY_SHARE):
    r"""Share of their gap owners repay within a round: :math:`\min(1,\ a_{day}\,\ell\,h/24)`.

    A day at full liquidity repays ``daily_share``; a round of ``h`` hours ``h/24`` of that, never more than the gap.

    Examples
    --------
    >>> round(float(acting_share(24.0)), 4), round(float(acting_share(72.0)), 4), float(acting_share(240.0))
    (0.25, 0.75, 1.0)
    >>> round(float(acting_share(1.0, liquidity=0.1)), 6)
    0.001042
    """
    h = as_float_array(round_hours, "round_hours", nonneg=True)
    liq = as_float_array(liquidity, "liquidity", nonneg=True)
    a = as_float_array(daily_share, "daily_share", nonneg=True)
    return np.minimum(a * liq * h / 24.0, 1.0)


def defence_repayment(collateral_value, debt, target_ratio, share):
    r"""Debt each vault repays this round: ``share * min(max(0, D - C/T), max(0, C - D))``: at most its equity.

    Parameters
    ----------
    collateral_value, debt : array_like
        Vault collateral at the price the owner defends against, and debt (coin units at par).
    target_ratio : array_like
        The owner's target collateral ratio ``T`` (> 1).
    share : array_like
        :func:`acting_share` of the round.

    Examples
    --------
    An ETH-A vault (mat 1.45, target 1.595) of 100,000 DAI on 80 ETH after ETH falls from 2,000 to 1,500
    (ratio 1.20): the gap to target is 24,765 DAI, more than the vault's 20,000 of equity; in a 72-hour round
    75% of that is repaid and the ratio is back to 1.412; in a day 25%, ratio 1.263. At ETH 1,800 (ratio 1.44)
    the gap, 9,718, is the smaller. Under water (ETH at 1,200, ratio 0.96) nothing is repaid.

    >>> r = defence_repayment(120e3, 100e3, 1.595, acting_share(72.0))
    >>> round(float(r)), round(120e3 / (100e3 - float(r)), 3)
    (15000, 1.412)
    >>> round(120e3 / (100e3 - float(defence_repayment(120e3, 100e3, 1.595, 0.25))), 3)
    1.263
    >>> round(float(defence_repayment(144e3, 100e3, 1.595, 1.0)))
    9718
    >>> float(defence_repayment(96e3, 100e3, 1.595, 1.0))
    0.0
    """
    C = as_float_array(collateral_value, "collateral_value", nonneg=True)
    D = as_float_array(debt, "debt", nonneg=True)
    T = as_float_array(target_ratio, "target_ratio", positive=True)
    a = as_float_array(share, "share", nonneg=True)
    gap = np.maximum(D - C / T, 0.0)
    return np.minimum(a, 1.0) * np.minimum(gap, np.maximum(C - D, 0.0))
