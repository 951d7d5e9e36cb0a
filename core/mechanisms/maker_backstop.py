r"""Maker's loss absorbers: the Vow's surplus buffer, then debt auctions that mint MKR.

Vow accounting (``vow.sol``)
----------------------------
A bark moves the vault's debt ``due`` to the Vow as *sin* (``fess``). Auction
proceeds ``owe`` arrive as DAI in the Vow; keepers' incentives ``tip + chip*tab``
are drawn from it (``vat.suck``). Per round, in USD:

.. math::

    \text{surplus}' = \text{surplus} + \text{proceeds} - \text{due}_{closed} - \text{incentives},

where ``due_closed`` is the debt of the auctions that finished. Proceeds above
their debt are the liquidation penalty (``chop``), which is how the penalty is
credited to Maker. ``heal`` cancels sin against DAI: a negative result is first
met by the surplus buffer; the rest is the *deficit* that ``flop`` covers.

Debt auction (``vow.flop``, ``flop.sol``)
-----------------------------------------
``flop`` offers newly minted MKR for a fixed DAI bid (``sump``); bidders
compete by accepting less MKR (``dent``), the lot grows by ``pad`` when nobody
bids (``tick``). In reduced form a round raises ``min(deficit, capacity)``
DAI by minting :math:`\Delta M` MKR. MKR holders' equity :math:`E = M p` first
absorbs the loss; new MKR is bought at a discount :math:`\delta` to its
post-auction value :math:`p'`:

.. math::

    (M + \Delta M)\,p' = E, \qquad \Delta M\, p' (1-\delta) = D
    \;\Rightarrow\; p' = \frac{E - D/(1-\delta)}{M}, \quad
    \Delta M = \frac{D}{p'(1-\delta)} .

The backstop fails (Maker defaults) when :math:`E \le D/(1-\delta)`: no finite
mint clears the auction. ``flop.sol`` has no failure state (``tick`` grows an unbid
lot by ``pad`` until it is bid), so the auctions then sell MKR's whole value: as the
mint grows without bound :math:`p' \to 0` and they raise :math:`(1-\delta)E`; the rest
of the deficit is Maker's default, borne by DAI holders. (Raising nothing there made
MKR holders' payment jump from :math:`(1-\delta)E` to 0 as the deficit crossed it:
on the shipped 2022 network with CIRCLE failed they paid $1.418bn at CEL -25.9%,
ETH -80.8%, stETH -83.9% and nothing a step deeper, $1.313bn less system loss at the
deeper shock, ``monotone-shipped-circle-failed-cel-eth-steth-mkr-backstop``; and the
recovery DAI trades at when Maker fails, :func:`flop_recovery`, already counts the
:math:`(1-\delta)E` these auctions raise.) Across rounds the market cap is MKR's franchise
value and dilution preserves it, :math:`(M+\Delta M)p' = E`, so later losses
fall on old and new holders alike; a round whose deficit exceeds what bidders
bring (``capacity_usd``) carries the rest to the next round.

Black Thursday (12-13 Mar 2020): a 5.67M DAI deficit (WhiteRabbit; other
tallies 6.65M); the debt auctions sold 20,980 MKR for 5.3M DAI (SmithCrown),
about 253 DAI per MKR. With about 1.0M MKR at roughly 300 USD (E ~ 300M USD)
that is :math:`\delta \approx 0.14` [calibration, estimate].

Debt-auction delay (``vow.wait``: ``fess``, ``flog``, ``flop``)
-------------------------------------------------------------------
A bark queues its debt in the Vow as sin of its era (``fess``: ``sin[now] += tab``,
``Sin += tab``). Queued sin can be neither healed nor auctioned: ``flog(era)``
releases an era's sin only once ``era + wait <= now``, and ``flop`` sells MKR only
against released sin (``sump <= vat.sin(vow) - Sin - Ash``) when the Vow holds no
DAI. So the part of a deficit that first showed at time :math:`t_q` waits until
:math:`t_q + \text{wait}`, and at time :math:`t` the debt auctions may raise at most

.. math:: R(t) = \max\Big(\sum_{q:\, t_q + \text{wait} \le t} a_q - F(t), 0\Big),

where :math:`a_q` is the deficit that showed in era :math:`q` and :math:`F` what
``flop`` has raised so far (:func:`flop_ready`; oldest sin first). Meanwhile the
penalties of later auctions heal the queued debt, and the deficit still waiting is
owed by MKR holders where their equity covers it (:func:`flop_pledge`): queued sin
is not a default. ``wait`` 0, the
contract's default (``vow.sol`` never sets it), releases a deficit at once. The
model stamps a deficit with the era of the round it shows in, not its bark's: an
auction's debt reaches the deficit within its life (at most ``tail``, 140 minutes for
2022's ETH-A) or, for ``flip.sol``, within the round, against a wait of days.

Values (MakerDAO executive spells, github.com/makerdao/spells-mainnet ``archive/``):
2 days at launch (dss-deploy-scripts ``config/main.json`` ``vow_wait`` 172800; the
2020-03-12 spell: "Existing wait: 2 days"), 156 hours (6.5 days) from that spell on,
still 156 hours in the spell tests of April-May 2022
(``archive/2022-04-29-DssSpell/test/config.sol``). Black Thursday's sin was queued on
12-13 March 2020; with the wait raised to 156 hours on 13 March the debt auctions
could start on 19 March, when they did (Smith+Crown: 19-21 March).

What the deficit owed does to MKR and to a failing Maker's DAI
-------------------------------------------------------------
MKR's market price prices the deficit its holders owe before the debt auctions run
(:func:`pledged_price`), and where the clearing finds Maker short beyond that backstop its DAI
trades at the recovery that counts what the debt auctions will still raise (:func:`flop_recovery`):
DAI holders lose only what is left beyond MKR's equity (``end.sol``'s ``gap``).

Surplus auctions (``vow.flap``, ``flap.sol``) are in :mod:`core.mechanisms.maker_flap` (re-exported here).

References
----------
* MakerDAO ``dss``: ``src/vow.sol`` (``fess``, ``flog``, ``heal``, ``flop``, ``flap``, ``wait``, ``hump``,
  ``bump``, ``sump``, ``dump``), ``src/flop.sol`` (``kick``, ``dent``, ``tick``, ``pad``),
  ``src/flap.sol`` (``kick``, ``tend``, ``deal``; ``lid``/``fill`` in the 2022 Flapper).
* https://docs.makerdao.com/smart-contract-modules/system-stabilizer-module/flap-detailed-documentation
* Research notes §4.1 (Black Thursday) and their sources.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.mechanisms._checks import checking, as_amount_array as _arr
from core.mechanisms.maker_flap import FlapResult, flap_auction  # re-exported: vow.flap's side
from core.mechanisms.maker_state import total_over_auctions

__all__ = ["VowRoundResult", "FlopResult", "FlapResult", "vow_round", "flop_ready", "flop_pledge", "pledged_price",
           "flop_recovery", "flop_auction", "flap_auction"]


@dataclass(frozen=True)
class VowRoundResult:
    """The Vow after one round (USD).

    Attributes
    ----------
    surplus : surplus buffer left (>= 0)
    deficit : debt not covered by the buffer, for ``flop`` (>= 0)
    penalty_income : proceeds above the debt of finished auctions (the chop collected)

    Examples
    --------
    >>> r = vow_round(20.0, 0.0, [113.0, 60.0], [100.0, 100.0], 1.0)
    >>> float(r.surplus), float(r.deficit), float(r.penalty_income)
    (0.0, 8.0, 13.0)
    """

    surplus: np.ndarray
    deficit: np.ndarray
    penalty_income: np.ndarray


def vow_round(surplus, deficit, proceeds, due_closed, incentives=0.0):
    """Settle a round in the Vow: penalties credited, losses met by the buffer first.

    Parameters
    ----------
    surplus : array_like
        Surplus buffer at the start of the round (USD).
    deficit : array_like
        Deficit carried from earlier rounds not yet covered by ``flop``.
    proceeds : array_like, shape (..., m)
        DAI raised by each auction that finished this round.
    due_closed : array_like, shape (..., m)
        Debt each of those auctions took over from its vault (``due``).
    incentives : array_like
        ``tip + chip*tab`` paid to keepers this round.

    Examples
    --------
    A vault with 100 DAI of debt auctioned for its full 113 DAI tab credits the
    13 DAI penalty; one that raised only 60 leaves a 40 DAI hole, of which the
    buffer (20 + 13 - 1) covers 32:

    >>> r = vow_round(20.0, 0.0, [113.0, 60.0], [100.0, 100.0], 1.0)
    >>> float(r.surplus), float(r.deficit), float(r.penalty_income)
    (0.0, 8.0, 13.0)
    """
    s, d = _arr(surplus, "surplus"), _arr(deficit, "deficit")
    p, due = _arr(proceeds, "proceeds"), _arr(due_closed, "due_closed")
    inc = _arr(incentives, "incentives")
    net = s - d + total_over_auctions(p - due, np.ndim(s)) - inc
    penalty = total_over_auctions(np.maximum(p - due, 0.0), np.ndim(s))
    return VowRoundResult(surplus=np.maximum(net, 0.0), deficit=np.maximum(-net, 0.0),
                          penalty_income=penalty)


def flop_ready(queued, queued_at, now, wait, flopped=0.0):
    """DAI of the Vow's deficit that ``flop`` may sell MKR against at ``now``: the deficit of the eras whose sin
    ``flog`` has released (``era + wait <= now``), less what the debt auctions raised so far (module docstring,
    "Debt-auction delay").

    Parameters
    ----------
    queued : array_like, shape (..., q)
        Deficit that first showed in each era (USD, >= 0).
    queued_at : array_like, broadcast to (..., q)
        Time of each era (seconds).
    now : array_like, shape (...)
        Time of the debt auctions (seconds).
    wait : array_like
        ``vow.wait`` (seconds, >= 0).
    flopped : array_like, shape (...)
        DAI the debt auctions have raised so far (against the oldest sin first).

    Examples
    --------
    Black Thursday: 5.67M DAI of deficit queued at hour 16 of 12 March 2020. With the launch wait of 2 days
    none of it can be auctioned at the end of 13 March (hour 48), all of it from hour 64; under the 156 hours
    the 12 March spell set, from hour 172 (19 March, 04:00 UTC), and after the first 5.3M DAI of debt
    auctions 0.37M DAI is left to sell:

    >>> h = 3600.0
    >>> float(flop_ready([5.67e6], [16 * h], 48 * h, 2 * 24 * h)), float(flop_ready([5.67e6], [16 * h], 64 * h, 2 * 24 * h))
    (0.0, 5670000.0)
    >>> float(flop_ready([5.67e6], [16 * h], 171 * h, 156 * h)), round(float(flop_ready([5.67e6], [16 * h], 172 * h, 156 * h, 5.3e6)))
    (0.0, 370000)

    Two eras, 4M at hour 10 and 2M at hour 30, a 24-hour wait, 1M already raised: at hour 40 only the first
    era is released, 3M left; at hour 54 both, 5M:

    >>> [float(flop_ready([4e6, 2e6], [10 * h, 30 * h], t * h, 24 * h, 1e6)) for t in (40, 54)]
    [3000000.0, 5000000.0]
    """
    a = _arr(queued, "queued")
    at = np.asarray(queued_at, dtype=float)
    t = np.asarray(now, dtype=float)
    w = _arr(wait, "wait")
    released = np.where(at + w <= t[..., None], a, 0.0).sum(axis=-1)
    return np.maximum(released - _arr(flopped, "flopped"), 0.0)


def flop_pledge(deficit, mkr_supply, mkr_price, *, auction_discount=0.14):
    """What MKR holders owe Maker for a deficit whose debt auctions wait (``vow.wait``), USD: the whole deficit
    where their equity covers it at the auctions' discount, :math:`E(1-\\delta) > D` (:func:`flop_auction` will
    not fail once the sin is released), else nothing (the backstop would fail: the claim is worth nothing).

    Queued sin is no default: ``vow.sol`` holds it until ``flog`` and then ``flop`` mints MKR for it, so until then
    Maker is owed its cover by MKR holders [model: a claim on them at face value, booked in Maker's other assets
    and turned into DAI as the debt auctions raise it].

    Examples
    --------
    Black Thursday's 5.67M DAI against ~1.0M MKR at ~300 USD is covered; 400M DAI is not:

    >>> float(flop_pledge(5.67e6, 1.0e6, 300.0)), float(flop_pledge(400e6, 1.0e6, 300.0))
    (5670000.0, 0.0)
    """
    D = _arr(deficit, "deficit")
    E = _arr(mkr_supply, "mkr_supply") * _arr(mkr_price, "mkr_price")
    d = _arr(auction_discount, "auction_discount")
    return np.where((D > 0) & (E * (1.0 - d) > D), D, 0.0)


def pledged_price(mkr_supply, mkr_price, pledge, *, auction_discount=0.14):
    r"""MKR's market price with the deficit its holders owe priced in: the price the debt auctions that will raise
    it leave, :math:`p_m = \max(p - \text{pledge} / ((1-\delta) M), 0)` (:func:`flop_auction`'s :math:`p'` for
    :math:`D` = ``pledge``).

    Model. The deficit waiting ``vow.wait`` (:func:`flop_pledge`) is owed by MKR holders: ``vow.flop`` will mint
    MKR for it once ``flog`` releases its sin, and the market prices the dilution it expects, not the day the
    auctions start. ``mkr_price`` is the price before those auctions (what :func:`flop_auction` dilutes when they
    run, so the dilution is counted once); the pledge moves the market price at once [model].

    Source and history. ``vow.sol`` (``fess``/``flog``/``flop``), ``flop.sol``. Black Thursday: the debt auction
    of ~5.67M DAI was announced on 14 March 2020 for 19 March (MakerDAO blog, "MKR Debt Auction Announcement and
    Details"; Glassnode Insights, "What The Upcoming Dilution Means For The Price Of MKR"). MKR went from $490.48
    on 11 March (the 2020 snapshot: Yahoo Finance's MKR-USD daily close; 216.41 on 12 March) to $252 on 13 March, -47% in a day (CoinGape, 13 March 2020), ~$245 when the
    auctions opened on 19 March and ~$265 an hour later (Cointelegraph, 19 March 2020), $282.79 as they ended,
    against an average auction price of $246.05 (Modern Consensus, March 2020; Smith+Crown: 20,980 MKR for 5.3M
    DAI, $296 average counting the later lots). The dilution the pledge prices is 1.5% of that fall (below):
    the rest is MKR's franchise value falling with the market and Maker's own crisis, which the model does not
    price (MKR moves only by the debt auctions' dilution) [limitation].

    Examples
    --------
    Black Thursday's 5.67M DAI owed by 1.0M MKR at $490.48: 490.48 - 5.67e6 / (0.86 x 1e6) = $483.89, not the
    $252 of 13 March; nothing owed leaves the price alone; a pledge beyond the equity at the discount floors it at 0:

    >>> [round(float(x), 2) for x in pledged_price(1.0e6, 490.48, [5.67e6, 0.0, 430e6])]
    [483.89, 490.48, 0.0]
    """
    M = _arr(mkr_supply, "mkr_supply")
    p = _arr(mkr_price, "mkr_price")
    owed = _arr(pledge, "pledge")
    d = _arr(auction_discount, "auction_discount")
    with np.errstate(divide="ignore", invalid="ignore"):
        fall = np.where(owed > 0, owed / ((1.0 - d) * np.where(M > 0, M, 1.0)), 0.0)
    return np.maximum(p - fall, 0.0)


def flop_recovery(paid, owed, mkr_supply, mkr_price, pledge=0.0, *, auction_discount=0.14):
    r"""Share of what it owes a failing Maker pays its DAI holders, counting the MKR its debt auctions will sell:

    .. math:: \rho = \min\Big(1,\ \frac{\text{paid} + \min(\text{owed} - \text{paid},\ (1-\delta)\,M\,p_m)}
              {\text{owed}}\Big),

    ``paid`` what its assets pay in the clearing (with the pledge already booked, :func:`flop_pledge`) and
    :math:`p_m` MKR's price with that pledge priced in (:func:`pledged_price`); 1 where nothing is owed.

    Model and source. A deficit of Maker is sin in the Vow and DAI holders are paid less only in an emergency
    shutdown (``end.sol``: ``cage`` -> ``vow.cage`` -> ``flopper.cage`` stops the debt auctions, and
    ``flow`` sets each ilk's ``fix = (collateral - gap) / debt``). Short of that ``vow.flop`` keeps selling MKR
    against the sin (``flop.sol`` has no failure state: ``tick`` grows an unbid lot by ``pad`` until it is bid),
    so the DAI they raise, up to MKR holders' equity at the auctions' discount (:func:`flop_auction`'s limit),
    is Maker's before its auctions run, ``vow.wait`` included (counted at face value, as :func:`flop_pledge`
    counts it). The engine runs those auctions after the clearing has found Maker short (a failed Maker's
    debt auctions raise their DAI rounds later): its DAI's price is the recovery with that DAI counted, and
    only what is left beyond MKR's equity falls on DAI holders (End's ``gap``). Where the backstop itself failed
    (:func:`flop_auction`: MKR's price 0) nothing more is counted.

    Examples
    --------
    The shipped 2022 network at MKR's dated close of 6 May 2022 (977,000 MKR at $1,338.70: the debt auctions can
    raise 0.86 x 977,000 x 1,338.70 = $1.124803bn), ETH -77.19% with WBTC 24.35% under BTC, as measured in the
    engine's clearings (``tests/test_maker_backstop_default.py``, the pair of ``monotone-shipped-eth-80-wbtc-depeg-
    maker-fails-earlier-dai`` scaled by 0.958): Maker owes $5.3bn of DAI; round 3's clearing pays $5.250259bn with
    MKR holders' pledge of $1.083240bn for the deficit waiting ``vow.wait`` booked in it, and MKR's equity left at
    the discount is 1.124803 - 1.083240 = $0.041563bn: (5.250259 + 0.041563) / 5.3 = 0.9985. With nothing pledged a
    clearing paying $3.860bn (0.7283) would recover (3.860 + 1.1248) / 5.3 = 0.9406; with the backstop failed (MKR
    at 0) the recovery is the clearing's:

    >>> rho = flop_recovery([5.25025883e9, 3.86013702e9, 3.86013702e9], 5.3e9, 977e3, [1338.7, 1338.7, 0.0],
    ...                     [1.0832395e9, 0.0, 0.0])
    >>> [round(float(x), 4) for x in rho]
    [0.9985, 0.9406, 0.7283]

    Nothing owed pays in full; a shortfall within the debt auctions' reach is paid in full:

    >>> flop_recovery([0.0, 90.0], [0.0, 100.0], 1.0, 100.0).tolist()
    [1.0, 1.0]
    """
    pd_ = _arr(paid, "paid")
    ow = _arr(owed, "owed")
    d = _arr(auction_discount, "auction_discount")
    equity = _arr(mkr_supply, "mkr_supply") * pledged_price(mkr_supply, mkr_price, pledge, auction_discount=d)
    raised = np.minimum(np.maximum(ow - pd_, 0.0), (1.0 - d) * equity)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(ow > 0, np.minimum((pd_ + raised) / np.where(ow > 0, ow, 1.0), 1.0), 1.0)


@dataclass(frozen=True)
class FlopResult:
    """Debt auctions of one round.

    Attributes
    ----------
    raised : DAI raised (USD): the deficit within the capacity, or MKR's whole value at the discount where the
        backstop failed
    minted : MKR minted (tokens; 0 where the backstop failed: the mint that takes MKR's price to 0 is unbounded)
    mkr_price : MKR price after the dilution (USD; 0 where the backstop failed)
    deficit : deficit left for later rounds (USD)
    failed : bool, MKR equity cannot cover the deficit (Maker defaults)

    Examples
    --------
    >>> r = flop_auction(5.3e6, 1.0e6, 300.0)
    >>> round(float(r.minted)), bool(r.failed)
    (20973, False)
    """

    raised: np.ndarray
    minted: np.ndarray
    mkr_price: np.ndarray
    deficit: np.ndarray
    failed: np.ndarray


def flop_auction(deficit, mkr_supply, mkr_price, *, auction_discount=0.14, capacity_usd=np.inf):
    """Cover a deficit by minting MKR (reduced form of ``vow.flop`` / ``flop.sol``; module docstring).

    Parameters
    ----------
    deficit : array_like
        Debt the surplus buffer did not cover (USD).
    mkr_supply : array_like
        MKR outstanding (> 0).
    mkr_price : array_like
        MKR market price before the auction (USD, >= 0).
    auction_discount : float, default 0.14
        Discount of the debt-auction price to MKR's post-auction value
        [estimate, Black Thursday calibration].
    capacity_usd : array_like, default inf
        DAI bidders bring to debt auctions this round; the rest waits.

    Examples
    --------
    Black Thursday: 5.3M DAI against ~1.0M MKR at ~300 USD mints about 20,973 MKR
    (history: 20,980) and moves MKR to about 293.8:

    >>> r = flop_auction(5.3e6, 1.0e6, 300.0)
    >>> round(float(r.minted)), round(float(r.mkr_price), 1), bool(r.failed)
    (20973, 293.8, False)

    A loss larger than MKR's market cap cannot be covered: the auctions sell MKR's whole value, 0.86 x $300M
    (the unbounded mint that takes MKR's price to 0 is not recorded: ``minted`` 0), and $142M is left:

    >>> r = flop_auction(400e6, 1.0e6, 300.0)
    >>> bool(r.failed), round(float(r.raised)), round(float(r.deficit)), float(r.mkr_price)
    (True, 258000000, 142000000, 0.0)
    """
    D = _arr(deficit, "deficit")
    M = _arr(mkr_supply, "mkr_supply", positive=True)
    p = _arr(mkr_price, "mkr_price")
    d = _arr(auction_discount, "auction_discount")
    if checking() and np.any(d >= 1):
        raise ValueError("auction_discount must be < 1")
    cap = _arr(capacity_usd, "capacity_usd")
    raised = np.minimum(D, cap)
    E = M * p
    need = raised / (1.0 - d)
    failed = (D > 0) & (E <= need)
    p_new = np.where(failed, 0.0, p - need / M)            # = (E - need) / M
    with np.errstate(divide="ignore", invalid="ignore"):
        minted = np.where(failed | (raised <= 0), 0.0, raised / np.where(p_new > 0, p_new * (1.0 - d), 1.0))
    # beyond the backstop the lot grows until bid: MKR's whole value sold, (1 - d) E (module docstring)
    raised = np.where(failed, np.minimum(raised, (1.0 - d) * E), raised)
    return FlopResult(raised=raised, minted=minted, mkr_price=p_new, deficit=D - raised, failed=failed)
