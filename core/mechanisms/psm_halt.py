r"""Governance halts a PSM's ``sellGem`` against an impaired backing coin.

Model
-----
While a CDP coin's issuer is live its PSM swaps the backing coin for the coin at the sell pin
:math:`p_b/(1-\text{tin})` (:func:`core.mechanisms.psm.psm_arbitrage`): when the backing trades below it,
arbitrageurs sell the cheap backing into the PSM for fresh coin and sell the coin, so the coin is pinned to the
backing's price and diluted with it for as long as the PSM has room. Governance does not let that run:

* Maker, 11 March 2023 (USDC 0.878 after SVB): an emergency executive cut PSM-USDC-A's daily mint limit
  (DC-IAM ``gap``) 950M -> 250M DAI and raised its ``tin`` 0% -> 1% "to prevent excessive dumping of USDC"
  (forum post of 11 March, the proposal "expected to be posted in the next ~12 hours or less"; spell
  ``archive/2023-03-11-DssSpell`` of ``makerdao/spells-mainnet``: ``setIlkAutoLineParameters("PSM-USDC-A",
  10 * BILLION, 250 * MILLION, 24 hours)``, ``setValue(MCD_PSM_USDC_A, "tin", PSM_HUNDRED_BASIS_POINTS)``, deployed
  12:57 UTC 11 March, cast after the GSM pause delay then in force, 48 hours: ``src/test/config.sol``
  ``pause_delay: 48 hours``, the same as in May 2022). The proposal kept enough minting "to prevent DAI from
  trading significantly above $1 if conditions change". Nothing faster reached a PSM then: the GSM exceptions of
  2022 (``OSM_MOM``, ``CLIPPER_MOM``, ``DIRECT_MOM``, the autoline's own ``exec``) did not cover a PSM's ``line`` or
  ``tin``. The Debt Ceiling Breaker ``LINE_MOM`` (a passed vote sets a listed ilk's ``line`` to 0 with no delay;
  PSM-USDC-A, PSM-PAX-A, PSM-GUSD-A) came with the spell of 14 March 2023 (``archive/2023-03-14-DssSpell``),
  because "the market has a large lead on Governance ... due to the GSM Pause Delay" (``makerdao/governance-manual``,
  ``governance/gsm-exceptions.md``, 13 March 2023). Timed on that case (USDC already below $1 at 02:54 UTC on 11
  March, CoinDesk; the spell deployed 10 h later or more), a halt by spell takes at least 58 hours plus the vote.
* Sky's LitePSM (2025): a pre-deployed emergency spell (``makerdao/dss-emergency-spells``,
  ``src/lite-psm-halt/SingleLitePsmHaltSpell.sol``, flows ``SELL``/``BUY``/``BOTH``) calls
  ``LitePsmMom.halt(psm, flow)``, which sets ``tin`` (``SELL``) to ``HALTED`` (max uint256): ``sellGem`` reverts.
  It takes effect when scheduled (``eta = 0``: "For emergency spells, the GSM delay is not applicable"), that
  is once it is the hat of the vote; ``LITE-PSM-USDC-A``'s ``SELL`` spell is deployed at
  ``0x1573C9Cb707e3031115b6b7cD1cd4ED34906b7A3`` (the repository's README).

The model: each PSM row has a reaction time :math:`H` (hours; ``psm_halt_hours`` of the pegs table, empty:
governance does not act within the horizon). Governance's clock runs while the backing trades below the
sell pin, :math:`p_b/(1-\text{tin}) < 1` (counted by the rounds' ``round_hours``); once it has run :math:`H`
hours, ``sellGem`` is halted for the inflow the backing's discount draws. In a round of :math:`h` hours whose
clock starts at :math:`t`, the swap is open for the share

.. math:: o = \min\!\Big(1, \max\big(0, (H - t)/h\big)\Big)

of the round. Halted, the PSM's sell pin is floored at the coin's par, :math:`\max(p_b/(1-\text{tin}), 1)`:
no more backing for coin while the coin trades at or below par, so its supply and the PSM's balance stay where
the halt found them on the sell side; ``buyGem`` (coin -> backing) stays open at ``tout``, so the coin is
still floored by :math:`p_b/(1+\text{tout})` while the PSM holds backing. The coin then trades at its backed
value :math:`V = s\,p_b + (1-s)\min(1, B)` (:func:`~core.mechanisms.psm.psm_backed_value`), the share
:math:`s` frozen at the halt, instead of at the backing's price.

Why the floor at par, not a halt of every sale [model choice, for continuity]: a halt triggered by "any
depeg below the pin" that also stopped the minting a premium above par draws would change the coin's price
by a finite amount (its premium uncapped) for a backing an epsilon below the pin; with the floor, halting
changes the inflow by :math:`K\ln(\max(p_b, 1-\text{tin})/p_b)`, zero at the pin and :math:`O(d)` for a depeg
:math:`d` below it, so every result stays continuous in the depeg's depth (issue 11's invariant "losses never
fall as a shock deepens" is searched adversarially). It is also what Maker did in March 2023: it limited the
sale of USDC and kept minting against a DAI premium. A fixed threshold (halt at a 3% depeg) would make the
loss jump at the threshold. The clock is not reset when the backing recovers (a spell stays cast until
another vote), but a halted PSM whose backing is back at the pin swaps as an open one (the floor is then
the pin). Residual: the clock starts in the first round the backing is below the pin, so a path that grazes
the pin one round earlier moves the halt a round earlier.

After Emergency Shutdown nothing swaps anyway (``vat.frob`` requires ``live``): the halt matters only while
the issuer is live.

References
----------
* ``makerdao/dss-emergency-spells``: ``src/lite-psm-halt/SingleLitePsmHaltSpell.sol``,
  ``src/DssEmergencySpell.sol`` (``eta = 0``), README (deployments; the 24 h SLA of bespoke emergency spells).
* ``makerdao/spells-mainnet``: ``archive/2023-03-11-DssSpell/DssSpell.sol``; ``src/test/config.sol``
  (``pause_delay``: 48 hours on 10 May 2022 and before the 11 March 2023 spell, which cut it to 16 hours).
* ``makerdao/spells-mainnet``: ``archive/2023-03-11-DssSpell/test/config.sol`` (``deployed_spell_created``
  1678539431: 12:57:11 UTC, 11 March 2023); ``archive/2023-03-14-DssSpell/DssSpell.sol`` (``LINE_MOM``).
* ``makerdao/governance-manual``, ``governance/gsm-exceptions.md`` (the list of December 2022; the Debt Ceiling
  Breaker added 13 March 2023).
* CoinDesk, "USDC Stablecoin Depegs From $1; Circle Says Operations Are Normal", 11 March 2023 (updated 02:54 UTC).
* MakerDAO forum, urgent executive proposal of 11 March 2023 (reported by Cointelegraph, "MakerDAO files
  emergency proposal addressing 3.1B USDC exposure").
"""

from __future__ import annotations

import numpy as np

from core.mechanisms._checks import as_amount_array as _arr, as_unit_array as _unit

__all__ = ["sell_open_share", "halted_backing_price"]


def sell_open_share(impaired_hours, round_hours, halt_hours):
    """Share of a round during which ``sellGem`` is still open: ``min(1, max(0, (H - t) / h))``.

    Parameters
    ----------
    impaired_hours : array_like
        Hours governance's clock has run at the round's start (``t``): the hours the backing traded below the
        sell pin before this round.
    round_hours : array_like
        Hours the round stands for (``h``, > 0).
    halt_hours : array_like
        Reaction time ``H`` (hours); ``inf``: governance does not act.

    Examples
    --------
    Sky's emergency spell within 12 hours, daily rounds: open half of the first round below the pin, closed
    from the second.

    >>> [float(sell_open_share(t, 24.0, 12.0)) for t in (0.0, 24.0)]
    [0.5, 0.0]

    Maker in May 2022, 60 hours (12 to draft and vote, the 48 h GSM delay): two full rounds, half the third.

    >>> [float(sell_open_share(t, 24.0, 60.0)) for t in (0.0, 24.0, 48.0, 72.0)]
    [1.0, 1.0, 0.5, 0.0]
    >>> float(sell_open_share(1e3, 24.0, np.inf))
    1.0
    """
    t = _arr(impaired_hours, "impaired_hours")
    h = _arr(round_hours, "round_hours", positive=True)
    H = _arr(halt_hours, "halt_hours")
    with np.errstate(invalid="ignore"):
        left = np.where(np.isinf(H), np.inf, H - t)
    return np.clip(left / h, 0.0, 1.0)


def halted_backing_price(backing_price, tin):
    """The backing price a halted ``sellGem`` arbitrages against: ``max(p_b, 1 - tin)``, so the sell pin is
    ``max(p_b / (1 - tin), 1)`` (module docstring: no inflow while the coin trades at or below par).

    Examples
    --------
    >>> float(halted_backing_price(0.878, 0.0)), float(halted_backing_price(1.0, 0.001))
    (1.0, 1.0)
    >>> round(float(halted_backing_price(0.9985, 0.001)), 4)
    0.999
    """
    return np.maximum(_arr(backing_price, "backing_price", positive=True), 1.0 - _unit(tin, "tin"))
