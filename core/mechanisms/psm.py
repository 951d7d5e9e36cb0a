r"""Backing links between stablecoins: Maker's PSM, and partly-collateralised coins (FRAX).

Peg Stability Module (``dss-psm``, ``DssPsm.sol``)
--------------------------------------------------
The PSM swaps a backing coin (USDC) and DAI 1:1 with fees: ``sellGem``
deposits :math:`x` USDC and mints :math:`x(1-\text{tin})` DAI; ``buyGem``
burns :math:`x(1+\text{tout})` DAI for :math:`x` USDC. Minting is capped by
the PSM ilk's debt ceiling (``line``), raised by its autoline at most ``gap`` a
``ttl`` (:func:`autoline_ceiling`); redemption by the USDC it holds.
Arbitrage therefore bounds DAI's market price :math:`p` by the backing coin's
price :math:`p_b`:

.. math::

    \frac{p_b}{1+\text{tout}} \;\le\; p \;\le\; \frac{p_b}{1-\text{tin}}
    \qquad\text{while the PSM has balance (lower) or room (upper).}

Arbitrage against a market of depth :math:`K` (USD of flow per unit log price
move, as in :func:`core.mechanisms.pegs.cdp_stable_price`): minting and selling
:math:`x` DAI moves the price to :math:`p_0 e^{-x/K}`, so

.. math::

    x^* = \min\!\Big(\text{room},\ K\ln\frac{p_0(1-\text{tin})}{p_b}\Big)^+,
    \qquad
    y^* = \min\!\Big(\text{balance}\cdot(1+\text{tout}),\ K\ln\frac{p_b}{p_0(1+\text{tout})}\Big)^+

for the inflow (backing coin cheap: the PSM fills with it) and the outflow
(DAI cheap: the PSM is drained). The PSM's holdings and share of DAI supply
move with :math:`x^*` and :math:`y^*`; the supply by the PSM's urn debt,
:math:`x^*/(1-\text{tin})` and :math:`y^*/(1+\text{tout})` (the fees stay DAI,
at the Vow).

Governance halts ``sellGem`` against a backing that trades below the sell pin for long enough
(:mod:`core.mechanisms.psm_halt`: Maker's executive of 11 March 2023, Sky's LitePSM halt spell): ``sell_open``.

After Emergency Shutdown nothing is swapped (``live``): ``end.cage`` cages the
Vat, and both swaps call ``vat.frob``, which requires ``live == 1``. A DAI is
then a claim on ``end.cash``'s share of every ilk's collateral, the PSM's
included (:func:`two_issuer_recovery`).

Backed value (what a DAI is a claim on)
--------------------------------------
.. math:: V = s\,p_b + (1-s)\min(1, B),

:math:`s` the PSM share of DAI supply, :math:`B` vault collateral value per
vault-backed DAI. In March 2023 (USDC at 0.878 after SVB) with
:math:`s \approx 0.5` this gives 0.939; DAI traded down to 0.897 because the
PSM inflow above pushes the market price toward :math:`p_b/(1-\text{tin})`
while room lasts, and the share :math:`s` rises as it fills.

Partly-collateralised stablecoins (FRAX v2)
-------------------------------------------
Redeeming 1 FRAX returns ``collateral_ratio`` of a dollar in collateral
(USDC) and the rest in FXS minted at the oracle price, so

.. math:: V = \text{CR}\cdot p_c + (1-\text{CR})\cdot a,

:math:`a` what a dollar of freshly minted FXS realises (1 when FXS is liquid).
FRAX in March 2023: CR about 0.92 [estimate], USDC 0.878 gives 0.888 (observed
low 0.885, research notes §2 SVB overlay).

References
----------
* MakerDAO ``dss-psm`` ``src/psm.sol`` (``sellGem``, ``buyGem``, ``tin``, ``tout``).
* Frax v2 docs, "Fractional-algorithmic stablecoin" (mint and redeem at the
  collateral ratio).
* Research notes §5.3 (PSM), §2 (2023 SVB overlay: DAI 0.897, FRAX 0.885, USDC 0.878).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.mechanisms._checks import as_unit_array as _unit, as_amount_array as _arr
from core.mechanisms.psm_halt import halted_backing_price

__all__ = ["PSMArbitrageResult", "psm_backed_value", "psm_arbitrage", "sell_gem", "fractional_stable_value",
           "two_issuer_recovery"]


def psm_backed_value(psm_share, backing_price, vault_backing_ratio=np.inf):
    """Value a DAI is a claim on: ``s * p_b + (1 - s) * min(1, B)``.

    Examples
    --------
    >>> round(float(psm_backed_value(0.5, 0.878)), 3)
    0.939
    >>> round(float(psm_backed_value(0.5, 1.0, 0.8)), 3)  # vaults under water, USDC fine
    0.9
    """
    s = _unit(psm_share, "psm_share")
    return s * _arr(backing_price, "backing_price") + (1.0 - s) * np.minimum(1.0, _arr(vault_backing_ratio, "vault_backing_ratio"))


def two_issuer_recovery(vault_dai, vault_recovery, psm_dai, psm_paid):
    r"""What a DAI of a failed Maker recovers, owed partly by its vaults and partly by its PSM:

    .. math:: \rho_{DAI} = \frac{D_v\,\rho_v + D_p\,\pi_p}{D_v + D_p},

    :math:`D_v` the DAI the vaults' side owes (face), :math:`\rho_v` what it pays per DAI (its collateral net
    of bad debt after the surplus buffer and the debt auctions), :math:`D_p` the DAI minted through the PSM and
    :math:`\pi_p` what the PSM's backing pays per such DAI (its USDC at USDC's price: ``sellGem`` locks one
    USDC per DAI minted in the PSM's urn, ``vat.frob(ilk, psm, psm, psm, gemAmt18, gemAmt18)``).

    Model. Maker failing is its emergency shutdown (``end.sol``): ``end.cage`` cages the Vat (``vat.frob``
    requires ``live``, so ``sellGem``/``buyGem`` stop) and fixes each ilk's collateral per DAI, ``end.flow``:
    ``fix[ilk] = (debt_ilk * tag[ilk] - gap[ilk]) / debt`` (the ilk's collateral left after its bad debt,
    ``gap``, per DAI of the whole supply); ``end.cash`` pays every DAI holder ``fix[ilk]`` of every ilk's
    collateral, pro rata. The PSM's ilk has no gap (its urn holds one USDC per DAI), so a DAI redeems for
    :math:`D_p/(D_v + D_p)` USDC and the vaults' share of their recovery: every holder bears both issuers'
    shortfalls in proportion, and the write-downs add up to what both issuers fail to pay.

    Source: MakerDAO ``dss`` ``end.sol`` (``cage``, ``skim``, ``flow``, ``cash``), ``vat.sol`` (``frob``:
    ``require(live == 1)``); ``dss-psm`` ``src/psm.sol`` (``sellGem``, ``buyGem``); Maker docs, "Emergency
    Shutdown Module" and "Peg Stability Module".

    Examples
    --------
    The 2022 network's $5.3bn of vault DAI paying 0.9 and the PSM's $3.2bn of USDC at its March 2023 low of
    0.878: a DAI recovers (5.3 x 0.9 + 3.2 x 0.878) / 8.5 = 0.891718.

    >>> round(float(two_issuer_recovery(5.3e9, 0.9, 3.2e9, 0.878)), 6)
    0.891718
    """
    dv, dp = _arr(vault_dai, "vault_dai"), _arr(psm_dai, "psm_dai")
    total = dv + dp
    blend = (dv * _arr(vault_recovery, "vault_recovery") + dp * _arr(psm_paid, "psm_paid")) / np.where(total > 0, total, 1.0)
    return np.where(total > 0, blend, _arr(vault_recovery, "vault_recovery"))


def autoline_ceiling(psm_balance, line, gap, ttl_hours, round_hours):
    r"""The PSM's debt ceiling for a round under its ilk's autoline: what ``sellGem`` may mint up to,

    .. math:: L_r = \min\big(L_{max},\ A + g\,h/T\big),

    :math:`A` the PSM's urn debt at the round's start (its backing coin held, ``psm_balance``), :math:`g` the
    autoline's ``gap``, :math:`T` its ``ttl`` (hours) and :math:`h` the round's hours; an empty gap (inf) leaves
    :math:`L_{max}` (``psm_line_usd``).

    Model. ``DssAutoLine.exec(ilk)`` sets the ilk's ``line`` to ``min(maxLine, debt + gap)``, and raises it at most
    once a ``ttl`` (``if (lineNew > line && block.timestamp < lastInc + ttl) return line``); anyone may call it,
    so arbitrageurs draining a PSM's room call it as soon as it is due: over :math:`h` hours they mint at most
    :math:`g\,h/T` beyond the debt, at the rate (the model's rounds are not cut to the ``ttl``'s calls). Without
    it a USDC at zero fills the whole ceiling in a round: on the 2022 network with CIRCLE failed, 3.73bn DAI in
    round 0 and 3.08bn in round 1 up to the 10bn line, where PSM-USDC-A's autoline let ~950M a day through
    (``monotone-shipped-eth-cel-steth-circle-failed-lag1-capital-50m``, docs/invariants.md).

    Source: ``makerdao/dss-auto-line`` ``src/DssAutoLine.sol`` (``exec``, ``setIlk(ilk, line, gap, ttl)``);
    PSM-USDC-A's values on 10 May 2022, ``makerdao/spells-mainnet`` at d8081a1, ``src/test/config.sol``:
    ``aL_line 10 * BILLION, aL_gap 950 * MILLION, aL_ttl 24 hours`` (cut to 250M on 11 March 2023 "to prevent
    excessive dumping of USDC", :mod:`core.mechanisms.psm_halt`); LITE-PSM-USDC-A's on 18 September 2025,
    ``sky-ecosystem/spells-mainnet`` at 6b64ae31: ``10 * BILLION, 400 * MILLION, 12 hours``.

    Examples
    --------
    PSM-USDC-A holding 3.2bn USDC, a daily round: 4.15bn, not the 10bn line; a 12-hour round mints half the gap.

    >>> float(autoline_ceiling(3.2e9, 10e9, 950e6, 24.0, 24.0)) / 1e9
    4.15
    >>> float(autoline_ceiling(3.2e9, 10e9, 950e6, 24.0, 12.0)) / 1e9
    3.675
    >>> float(autoline_ceiling(9.5e9, 10e9, 950e6, 24.0, 24.0)) / 1e9, float(autoline_ceiling(3.2e9, 10e9, np.inf, 24.0, 24.0)) / 1e9
    (10.0, 10.0)
    """
    gap = np.asarray(gap, dtype=float)
    step = np.where(np.isfinite(gap), gap * np.asarray(round_hours, dtype=float) / np.asarray(ttl_hours, dtype=float), np.inf)
    return np.minimum(np.asarray(line, dtype=float), np.asarray(psm_balance, dtype=float) + step)


def fractional_stable_value(collateral_ratio, collateral_price, algorithmic_value=1.0):
    """Value of a partly-collateralised coin: ``CR * p_c + (1 - CR) * a`` (FRAX v2 redemption).

    Examples
    --------
    >>> round(float(fractional_stable_value(0.92, 0.878)), 3)
    0.888
    """
    cr = _unit(collateral_ratio, "collateral_ratio")
    return cr * _arr(collateral_price, "collateral_price") + (1.0 - cr) * _arr(algorithmic_value, "algorithmic_value")


@dataclass(frozen=True)
class PSMArbitrageResult:
    """PSM arbitrage in one round (USD, backing coin counted at face).

    Attributes
    ----------
    price : DAI market price after arbitrage
    minted : DAI minted through the PSM (backing coin deposited), >= 0
    redeemed : DAI burnt through the PSM (backing coin withdrawn), >= 0
    psm_balance : backing coin the PSM holds afterwards
    dai_supply : DAI supply afterwards: it moves with the PSM's balance, fees included (``sellGem`` frobs
        ``gemAmt18`` of debt and moves the ``tin`` fee to the Vow, ``vat.move(address(this), vow, mul(fee, RAY))``,
        where it stays DAI; ``buyGem`` burns ``gemAmt18`` and moves the ``tout`` fee to the Vow likewise)
    psm_share : ``psm_balance / dai_supply``

    Examples
    --------
    >>> r = psm_arbitrage(0.939, 0.878, 2.5e9, 5e9, 1e9)
    >>> round(float(r.price), 3), round(float(r.minted) / 1e6)
    (0.878, 67)
    """

    price: np.ndarray
    minted: np.ndarray
    redeemed: np.ndarray
    psm_balance: np.ndarray
    dai_supply: np.ndarray
    psm_share: np.ndarray


def psm_arbitrage(market_price, backing_price, psm_balance, dai_supply, market_depth_usd, *,
                  line=np.inf, tin=0.0, tout=0.0, arbitrage_capacity_usd=np.inf, live=True, sell_open=1.0):
    """Arbitrage through the PSM for one round (module docstring).

    Parameters
    ----------
    market_price : array_like
        DAI price before arbitrage (p0), e.g. from :func:`core.mechanisms.pegs.cdp_stable_price`.
    backing_price : array_like
        Market price of the backing coin (USDC).
    psm_balance : array_like
        Backing coin held by the PSM (units).
    dai_supply : array_like
        DAI outstanding (> 0).
    market_depth_usd : array_like
        Depth K (> 0).
    line : array_like, default inf
        PSM debt ceiling (DAI of urn debt, one per backing coin held): the balance never exceeds it, so the room
        in DAI minted is ``(line - psm_balance) * (1 - tin)`` (``vat.frob`` checks the ilk's debt against its
        ``line``, and ``sellGem`` frobs ``gemAmt18`` while minting ``gemAmt18 - fee``).
    tin, tout : float
        PSM fees (fractions).
    arbitrage_capacity_usd : array_like, default inf
        DAI arbitrageurs can route through the PSM this round, either way
        (their capital, gas, the hours in the round) [estimate where used].
    live : array_like of bool, default True
        Whether the system is live. After Emergency Shutdown the PSM swaps
        nothing: ``end.cage`` calls ``vat.cage`` (dss ``src/end.sol``:
        ``live = 0; ... vat.cage();``), which sets the Vat's ``live = 0``
        (``src/vat.sol``: ``function cage() external auth { live = 0; }``), and
        both swaps frob the PSM's urn (dss-psm ``src/psm.sol``, ``sellGem``:
        ``vat.frob(ilk, address(this), address(this), address(this),
        int256(gemAmt18), int256(gemAmt18));``, ``buyGem`` the same with
        ``-int256``), which the Vat refuses (``frob``: ``require(live == 1,
        "Vat/not-live");``). Where not live: nothing minted or redeemed, the
        price stays ``market_price``, the holdings and supply where they were.
    sell_open : array_like, default 1
        Share of the round during which governance has not yet halted ``sellGem`` against an impaired backing
        (:func:`core.mechanisms.psm_halt.sell_open_share`). For the rest of the round the inflow is the one
        against the halted pin ``max(p_b/(1-tin), 1)`` (:func:`~core.mechanisms.psm_halt.halted_backing_price`):
        none while the coin trades at or below par. ``buyGem`` is not halted.

    Examples
    --------
    USDC at 0.878, DAI at the 0.939 blend, PSM half of a 5bn supply, depth
    1bn: arbitrage mints 67M DAI and takes DAI to USDC's price.

    >>> r = psm_arbitrage(0.939, 0.878, 2.5e9, 5e9, 1e9)
    >>> round(float(r.price), 3), round(float(r.minted) / 1e6)
    (0.878, 67)

    With the room capped at 20M the price stays above USDC:

    >>> round(float(psm_arbitrage(0.939, 0.878, 2.5e9, 5e9, 1e9, line=2.52e9).price), 3)
    0.92

    DAI at 0.98 with USDC at par: buyers redeem through the PSM until DAI is back at par.

    >>> r = psm_arbitrage(0.98, 1.0, 2.5e9, 5e9, 1e9)
    >>> round(float(r.price), 6), round(float(r.redeemed) / 1e6, 1)
    (1.0, 20.2)

    The same after Emergency Shutdown: the caged Vat refuses the swap, DAI stays at 0.98.

    >>> r = psm_arbitrage(0.98, 1.0, 2.5e9, 5e9, 1e9, live=False)
    >>> float(r.price), float(r.redeemed), float(r.psm_balance)
    (0.98, 0.0, 2500000000.0)

    The first example with ``sellGem`` halted by governance for the whole round: nothing minted, DAI stays at
    its backed value, and half-way through the round half the inflow:

    >>> r = psm_arbitrage(0.939, 0.878, 2.5e9, 5e9, 1e9, sell_open=0.0)
    >>> float(r.price), float(r.minted), float(r.psm_balance)
    (0.939, 0.0, 2500000000.0)
    >>> round(float(psm_arbitrage(0.939, 0.878, 2.5e9, 5e9, 1e9, sell_open=0.5).minted) / 1e6, 1)
    33.6

    USDC at 0.5 against a 10bn line with tin 0.1%, depth 10bn: the PSM fills to its line, not over it (1bn of
    USDC in), minting 999M DAI for it.

    >>> r = psm_arbitrage(1.0, 0.5, 9e9, 20e9, 10e9, line=10e9, tin=0.001)
    >>> round(float(r.minted) / 1e6, 6), float(r.psm_balance) / 1e9
    (999.0, 10.0)
    """
    p0 = _arr(market_price, "market_price", positive=True)
    pb = _arr(backing_price, "backing_price", positive=True)
    bal = _arr(psm_balance, "psm_balance")
    S = _arr(dai_supply, "dai_supply", positive=True)
    K = _arr(market_depth_usd, "market_depth_usd", positive=True)
    line = _arr(line, "line")
    tin, tout = _unit(tin, "tin"), _unit(tout, "tout")
    cap = _arr(arbitrage_capacity_usd, "arbitrage_capacity_usd")
    live = np.asarray(live, dtype=bool)
    # the ceiling bounds the PSM's urn debt, its balance, which grows by the DAI minted over 1 - tin (sellGem frobs
    # gemAmt18 and hands out gemAmt18 - fee): the room in DAI minted is (line - balance)(1 - tin)
    room = np.where(live, np.minimum(np.maximum(line - bal, 0.0) * (1.0 - tin), cap), 0.0)
    out = np.where(live, np.minimum(bal * (1.0 + tout), cap), 0.0)
    x = np.clip(K * np.log(p0 * (1.0 - tin) / pb), 0.0, room)          # inflow, DAI minted
    sell_open = _unit(sell_open, "sell_open")
    if np.any(sell_open < 1.0):  # governance's halt for the rest of the round: the sell pin floored at par
        halted = np.clip(K * np.log(p0 * (1.0 - tin) / halted_backing_price(pb, tin)), 0.0, room)
        x = sell_open * x + (1.0 - sell_open) * halted
    y = np.clip(K * np.log(pb / (p0 * (1.0 + tout))), 0.0, out)        # outflow, DAI burnt
    price = p0 * np.exp((y - x) / K)
    new_bal = bal + x / (1.0 - tin) - y / (1.0 + tout)
    new_S = S + x / (1.0 - tin) - y / (1.0 + tout)  # the fees stay DAI, at the Vow: supply follows the balance
    return PSMArbitrageResult(price=price, minted=x, redeemed=y, psm_balance=new_bal, dai_supply=new_S,
                              psm_share=_share(new_bal, new_S))


def _share(balance: np.ndarray, supply: np.ndarray) -> np.ndarray:
    """The PSM's share of the coin's supply, ``balance / supply`` at most 1. Every DAI redeemed (the PSM was the
    whole supply): none left to back, the share is 1 while the PSM holds any backing (as the ratio's limit from
    above), 0 where it holds none."""
    return np.where(supply > 0, np.minimum(balance / np.where(supply > 0, supply, 1.0), 1.0),
                    np.where(balance > 0, 1.0, 0.0))


def sell_gem(swaps: PSMArbitrageResult, dai_out, tin=0.0) -> PSMArbitrageResult:
    r"""The PSM's books after a round's ``swaps`` and then ``sellGem`` calls that hand their sellers ``dai_out`` DAI.

    Model. ``sellGem(usr, gemAmt)`` takes in :math:`G` = ``gemAmt`` of the backing coin, frobs the PSM's urn by
    :math:`G` of collateral and :math:`G` of debt (:math:`G` DAI minted), pays the seller :math:`G(1-\text{tin})`
    and moves the fee :math:`G\,\text{tin}` to the Vow, where it stays DAI. For :math:`Y` DAI handed out,

    .. math:: G = \frac{Y}{1-\text{tin}}, \qquad \text{balance} \mathrel{+}= G, \qquad
       \text{supply} \mathrel{+}= G, \qquad \text{fee} = G\,\text{tin},

    the same books as :func:`psm_arbitrage`'s inflow, whose ``minted`` is the DAI handed out: the result's
    ``minted`` grows by :math:`Y`, its balance and supply by :math:`G`, its share is taken again, its price is
    left as it was. It is the PSM's side of the CDP squeeze's re-mint (:func:`core.mechanisms.cdp_premium.remint`:
    above peg, arbitrageurs sell the backing coin into the PSM at par up to its room and sell the DAI to the
    holders the auctions left short). The caller keeps :math:`G` within the ceiling (``line``, the autoline's:
    :func:`autoline_ceiling`) and calls it only while the Vat is live.

    Source: MakerDAO ``dss-psm`` ``src/psm.sol``, ``sellGem``: ``fee = mul(gemAmt18, tin) / WAD; daiAmt =
    sub(gemAmt18, fee); ... vat.frob(ilk, address(this), address(this), address(this), int256(gemAmt18),
    int256(gemAmt18)); vat.move(address(this), vow, mul(fee, RAY)); daiJoin.exit(usr, daiAmt)``.

    Parameters
    ----------
    swaps : PSMArbitrageResult
        The round's arbitrage (:func:`psm_arbitrage`).
    dai_out : array_like
        DAI handed to the sellers, :math:`Y` (>= 0).
    tin : array_like
        The PSM's fee on ``sellGem`` (fraction, < 1).

    Examples
    --------
    PSM-USDC-A holding 3.2bn USDC of an 8.5bn DAI supply, its autoline's room in a two-hour round (950M x 2/24 of
    USDC, 79,087,500 DAI handed out at tin 0.1%): 79,166,667 USDC in, the balance 3.279bn, the supply up as much,
    79,167 DAI of fees to the Vow, the PSM 38.22% of the supply (from 37.65%).

    >>> arb = psm_arbitrage(1.0, 1.0, 3.2e9, 8.5e9, 1e8, tin=0.001)
    >>> r = sell_gem(arb, 950e6 * 2 / 24 * 0.999, tin=0.001)
    >>> round(float(r.psm_balance - 3.2e9)), round(float(r.dai_supply - 8.5e9)), round(float(r.minted))
    (79166667, 79166667, 79087500)
    >>> round(float(r.psm_share), 4), float(r.price)
    (0.3822, 1.0)
    """
    y = _arr(dai_out, "dai_out")
    tin = _unit(tin, "tin")
    gem = y / (1.0 - tin)
    balance, supply = swaps.psm_balance + gem, swaps.dai_supply + gem
    return PSMArbitrageResult(price=swaps.price, minted=swaps.minted + y, redeemed=swaps.redeemed, psm_balance=balance,
                              dai_supply=supply, psm_share=_share(balance, supply))
