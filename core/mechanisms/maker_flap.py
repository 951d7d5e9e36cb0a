r"""Maker's surplus auctions: the Vow's DAI beyond its buffer sold for MKR that is burnt.

Surplus auction (``vow.flap``, ``flap.sol``)
--------------------------------------------
The other way: DAI in the Vow beyond its debt and the surplus buffer
``hump`` is sold in lots of ``bump`` DAI for MKR, which is burnt. ``vow.flap``
kicks one lot when ``vat.dai(vow) >= vat.sin(vow) + bump + hump`` and no
debt waits unqueued (``sin - Sin - Ash == 0``, i.e. no deficit), and the
lot leaves the Vow at the kick (``flapper.kick``: ``vat.move``). So a round
with surplus :math:`B` over the sin of the live auctions kicks

.. math:: k = \left\lfloor \max(B - \text{hump}, 0) / \text{bump} \right\rfloor

lots, at most what the flapper's ``lid`` (DAI under flap auction at once,
2022's ``flap.sol``) lets through in the round. Bidders bid MKR up
(``tend``) and the winning bid is burnt (``deal``); in reduced form they pay
MKR's market price :math:`p`, so :math:`k\,\text{bump}/p` MKR is burnt and
MKR's price does not move (a buyback at the market price: what leaves
Maker's books, ``k bump`` DAI, is what the sellers of the burnt MKR get).
The DAI goes to MKR holders: a transfer out of Maker, not value destroyed.

References
----------
* MakerDAO ``dss``: ``src/vow.sol`` (``flap``, ``hump``, ``bump``), ``src/flap.sol`` (``kick``, ``tend``, ``deal``;
  ``lid``/``fill`` in the 2022 Flapper).
* https://docs.makerdao.com/smart-contract-modules/system-stabilizer-module/flap-detailed-documentation
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.mechanisms._checks import as_amount_array as _arr

__all__ = ["FlapResult", "flap_auction"]


@dataclass(frozen=True)
class FlapResult:
    """Surplus auctions of one round.

    Attributes
    ----------
    paid : DAI that left the Vow to MKR bidders (USD)
    burnt : MKR burnt (tokens)
    surplus : surplus buffer left (USD)
    mkr_supply : MKR outstanding after the burn

    Examples
    --------
    >>> r = flap_auction(1.237e6, 0.5e6, 10e3, 1.0e6, 490.48)
    >>> float(r.paid), round(float(r.burnt), 2), float(r.surplus)
    (730000.0, 1488.34, 507000.0)
    """

    paid: np.ndarray
    burnt: np.ndarray
    surplus: np.ndarray
    mkr_supply: np.ndarray


def _whole_lots(amount: np.ndarray, lot: np.ndarray) -> np.ndarray:
    """``amount`` rounded down to whole ``lot``s (the amount itself where there is no lot size)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(lot > 0, np.floor(amount / np.where(lot > 0, lot, 1.0)) * lot, amount)


def flap_auction(surplus, hump, bump, mkr_supply, mkr_price, *, sin=0.0, capacity_usd=np.inf):
    """Sell the surplus beyond ``hump`` in ``bump`` lots for MKR that is burnt (``vow.flap``, ``flap.sol``;
    module docstring).

    Parameters
    ----------
    surplus : array_like
        The Vow's surplus buffer after the round's settlements (USD, no deficit left: ``vow.flap`` needs none).
    hump, bump : array_like
        Surplus buffer kept (DAI; inf: no surplus auction) and lot size (DAI; 0: the excess goes as one lot).
    mkr_supply, mkr_price : array_like
        MKR outstanding and its market price (USD; 0: no bidder, nothing sold).
    sin : array_like, default 0
        Debt of the live collateral auctions not raised yet (queued sin counts against the surplus).
    capacity_usd : array_like, default inf
        DAI the flapper's ``lid`` lets under auction this round (whole lots only).

    Examples
    --------
    Black Thursday's Vow (hump 500,000, bump 10,000 DAI) with 1,237,000 DAI of surplus: 73 lots go, 507,000
    DAI stay (one lot more would leave 497,000 < hump); with 300,000 DAI of live auctions' debt only 43 lots; a
    lid of 25,000 DAI lets 2 lots through. MKR at 490.48 (the 2020 snapshot's dated close): 730,000 / 490.48 =
    1,488.34 MKR burnt.

    >>> r = flap_auction(1.237e6, 0.5e6, 10e3, 1.0e6, 490.48)
    >>> float(r.paid), round(float(r.mkr_supply), 2)
    (730000.0, 998511.66)
    >>> float(flap_auction(1.237e6, 0.5e6, 10e3, 1.0e6, 490.48, sin=0.3e6).paid)
    430000.0
    >>> float(flap_auction(1.237e6, 0.5e6, 10e3, 1.0e6, 490.48, capacity_usd=25e3).paid)
    20000.0
    >>> float(flap_auction(1.237e6, np.inf, 10e3, 1.0e6, 490.48).paid)
    0.0
    """
    B = _arr(surplus, "surplus")
    H = _arr(hump, "hump")
    lot = _arr(bump, "bump")
    M = _arr(mkr_supply, "mkr_supply")
    p = _arr(mkr_price, "mkr_price")
    queued = _arr(sin, "sin")
    cap = _arr(capacity_usd, "capacity_usd")
    with np.errstate(invalid="ignore", divide="ignore"):
        excess = np.where(np.isfinite(H), np.maximum(B - queued - H, 0.0), 0.0)
        excess = np.minimum(excess, B)
        whole, room = _whole_lots(excess, lot), _whole_lots(cap, lot)
    paid = np.where(p > 0, np.minimum(whole, room), 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        burnt = np.where(paid > 0, paid / np.where(p > 0, p, 1.0), 0.0)
    return FlapResult(paid=paid, burnt=burnt, surplus=B - paid, mkr_supply=np.maximum(M - burnt, 0.0))
