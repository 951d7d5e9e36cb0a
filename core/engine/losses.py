"""How a cascade's final state becomes each entity's loss, traced to its channels.

:func:`final_losses` is the loss split of :mod:`core.engine.outcome` (read there for the accounting: limited
liability, outside creditors' write-downs, insurance draws, tokens of a failed issuer held in the network);
:func:`split_channels` traces a loss to the named channels and "market"; :func:`supplier_haircuts` is what
a pass-through entity's owners bear (:mod:`core.mechanisms.pass_through`).
"""

from __future__ import annotations

import numpy as np

from ..mechanisms.clearing import ClearingStep
from ..results import CHANNELS
from .compiled import Compiled
from .liquidate import pooled_value
from .maker_co_issued import dai_holders_outside
from .maker_vow import debt_auction_ratio, held_dai_cover
from .token_holders import fractional_holders_outside, held_liabilities_and_units, held_units

_CH = {c: i for i, c in enumerate(CHANNELS)}


def supplier_haircuts(c: Compiled, clearing: ClearingStep, pooled_cover: np.ndarray, P: np.ndarray,
                      coll: np.ndarray, free: np.ndarray | None = None,
                      run_haircut: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """What each pass-through entity's owners bear, USD, and the base of its haircut, (S, n) each
    (:mod:`core.mechanisms.pass_through`): a lending pool's shortfall at the clearing ``clearing`` and what
    it owes, with the haircut its runners took and the claims they gave up for it (``run_haircut``, USD each: they
    are paid their claims' value, :func:`core.engine.withdraw.claims_value`, so that part of the haircut and of
    the claims has left its books); the cover paid in by the owners of a pooled collateral (``pooled_cover``) and the pool's value
    at prices ``P``, the units handed back to barked vaults' owners (``free``) included (Sai: the dilution of
    PETH, cover / pie)."""
    owed = np.broadcast_to(clearing.total_liabilities, clearing.payments.shape)
    pool = np.where(c.pass_through, np.maximum(owed - clearing.payments, 0.0), 0.0)
    base = np.where(c.pass_through, owed, 0.0) + pooled_value(c, P, coll, free)
    if run_haircut is not None and run_haircut[0].any():
        return pool + pooled_cover + run_haircut[0], base + run_haircut[1]
    return pool + pooled_cover, base


#: Channels a loss is traced to; "market" is what remains of a loss once they are counted.
NAMED_CHANNELS = ("shock", "liquidation", "bad_debt", "default", "run")


def split_channels(loss: np.ndarray, parts: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Each entity's loss split over the channels, (S, n, channels), and the unscaled parts with "market".

    The named channels' losses are scaled so that they and "market" (the loss
    none of them explains: prices) add up to the limited-liability loss.
    """
    named = sum(parts.values())
    market = np.maximum(loss - named, 0.0)
    tot = named + market
    scale = np.divide(loss, tot, out=np.zeros_like(loss), where=tot > 0)
    raw = np.zeros(loss.shape + (len(CHANNELS),))
    for ch, v in parts.items():
        raw[..., _CH[ch]] = v
    raw[..., _CH["market"]] = market
    return raw * scale[..., None], raw


def split_in_place(loss: np.ndarray, market: np.ndarray, parts: list[np.ndarray], named: np.ndarray,
                   positive: np.ndarray) -> None:
    """:func:`split_channels` written in place, element by element the same operations: ``market`` becomes the loss
    none of ``parts`` (the named channels, in :data:`NAMED_CHANNELS` order) explains, and it and each part are
    scaled so that they add up to ``loss``. ``named`` (float) and ``positive`` (bool), of ``loss``'s shape, are
    working space. :func:`core.report._rounds_block` splits a recorded history a few rounds at a time."""
    np.add(parts[0], 0, out=named)  # sum(parts), as split_channels adds them (0 + the first, then each in turn)
    for p in parts[1:]:
        np.add(named, p, out=named)
    np.subtract(loss, named, out=market)
    np.maximum(market, 0.0, out=market)
    tot = np.add(named, market, out=named)
    np.greater(tot, 0, out=positive)
    scale = np.divide(loss, tot, out=tot, where=positive)
    np.copyto(scale, 0.0, where=~positive)
    for p in (market, *parts):
        np.multiply(p, scale, out=p)


def final_losses(c, clearing, equity, shock_loss, liq_loss, run_loss, bad_net, ik_val, xl, holders=None, totals=True,
                 maker_recovery=None, issuer_cap=None, psm=None, scratch=None, shut=None):
    """Limited-liability losses per entity and their named channels; write-downs and shortfalls.

    ``holders`` = ``(P, H, coll, defaulted)``: a defaulted issuer's tokens held in the network are written
    down once, through their price in their holders' equity, not again as outside creditors' loss
    (:mod:`core.engine.token_holders`); ``None``: every outside liability is an outside creditor's.
    ``maker_recovery`` (S,): the recovery a defaulted Maker's DAI trades at, counting its debt auctions
    (:func:`~core.engine.maker_vow.clearing_recovery`); the part of its network-held DAI's shortfall those
    auctions will pay is MKR holders' loss, kept in the outside loss as before the default
    (:func:`~core.engine.maker_vow.held_dai_cover`). ``None``: not counted. ``issuer_cap`` (S, k): the caps the
    coins' prices carry (:func:`~core.engine.issuer_caps.recovery_capped`), with which a coin owed by two issuers (DAI:
    Maker's vaults and its PSM) is written down as its price carries it
    (:func:`~core.engine.maker_co_issued.dai_holders_outside`; its PSM's pass-through live too, so ``holders`` must carry
    the holdings wherever the network has such a coin); ``None``: by the one-issuer rule. ``psm``: the state's
    ``(psm_balance, psm_paid_in, psm_value)``, what the PSMs swapped before a shutdown and the coins' backing
    after the last swaps (None: nothing).
    ``totals=False`` leaves out ``writedowns`` and ``shortfall`` (a recorded round keeps neither: a product
    with every network claim saved per round; :func:`with_totals` adds them to the last round's values, from the
    unpaid shares ``short`` and the outside liabilities ``outside_owed`` kept for it); the other values are the same
    operations either way. ``scratch``: two arrays of ``ik_val``'s shape the depositors' losses are written into
    (``dep_loss`` is the second: a recorded run reuses them round after round, :mod:`core.engine.recording`).
    ``shut`` (S, n): the issuers in default, where ``holders``' mask also holds a live issuer whose coin trades at
    its deficit (a governed Maker short in the clearing, :func:`~core.engine.maker_governance.priced_at_recovery`):
    its PSM is still live (:func:`~core.engine.maker_co_issued.dai_holders_outside`); None: ``holders``' mask."""
    short = 1 - clearing.paid_ratio
    # np.take: the same gather as short[:, c.ik_debtor], without fancy indexing's iterator (a tenth of its time
    # at synthetic(100k)'s 324,315 claims: a recorded run takes it every round)
    if scratch is None:
        dep_loss = ik_val * np.take(short, c.ik_debtor, axis=1)
    else:  # the same gather and products, into the buffers ("clip": no buffered output; the debtors are in range)
        dep_loss = np.multiply(ik_val, np.take(short, c.ik_debtor, axis=1, out=scratch[0], mode="clip"), out=scratch[1])
    credit = c.claims_received(short) + c.by_ik_creditor(dep_loss)
    # Outside liabilities other than depositors' claims go unpaid in the same proportion.
    outside_owed = xl - c.by_ik_debtor(ik_val)
    held = units = None
    if holders is not None:
        P, H, coll, defaulted = holders
        held, units = held_liabilities_and_units(c, P, H, coll, defaulted, outside_owed)
    written = outside_written(outside_owed, short) if held is None else None
    outside = written if held is None else ((outside_owed - held) * short).sum(1)
    if held is not None and maker_recovery is not None:
        outside = outside + held_dai_cover(c, clearing.paid_ratio, held, maker_recovery)
    if held is not None:
        assert units is not None  # read with held
        # a failed fractional issuer's outside holders: the backing's fall on their coins
        outside = outside + fractional_holders_outside(c, P, units, defaulted)
    if holders is not None and issuer_cap is not None and H.shape[0]:
        # the PSM's pass-through counts whether its issuer is live or not (maker_co_issued.dai_holders_outside)
        if units is None:  # no issuer has defaulted: held_liabilities_and_units read none
            units = held_units(c, H, coll)
        recovery = clearing.paid_ratio if maker_recovery is None else debt_auction_ratio(c, clearing.paid_ratio, maker_recovery)
        outside = outside + dai_holders_outside(c, P, issuer_cap, units,
                                                np.zeros_like(outside_owed) if held is None else held, recovery,
                                                defaulted, outside_owed, psm, shut=shut)
    loss = np.maximum(c.E0[None] - np.maximum(equity, 0.0), 0.0)
    loss = np.where(c.E0[None] > 0, np.minimum(loss, np.maximum(c.E0[None], 0) + credit), loss)
    parts = dict(zip(NAMED_CHANNELS, (shock_loss, liq_loss, bad_net, credit, run_loss)))
    out = {"loss": loss, "parts": parts, "outside": outside, "dep_loss": dep_loss, "credit": credit,
           "short": short, "outside_owed": outside_owed}
    if written is not None:
        out["written"] = written
    return with_totals(c, clearing, out) if totals else out


def outside_written(outside_owed: np.ndarray, short: np.ndarray) -> np.ndarray:
    """Outside creditors' write-downs, (S,): each debtor's outside liabilities (depositors' claims aside) times
    its unpaid share."""
    return (outside_owed * short).sum(1)


def with_totals(c: Compiled, clearing: ClearingStep, losses: dict) -> dict:
    """:func:`final_losses`' values ``losses`` (``totals=False``, at the clearing ``clearing``) with the totals
    added: ``writedowns``, creditors' write-downs (network claims, depositors' and outside creditors', network
    holders' tokens included), and ``shortfall``, debtors' unpaid obligations, (S,) each. A recorded run's
    last round is finished with them once it is known to be the last (:func:`core.engine.outcome.store`), not
    computed again."""
    short, dep_loss = losses["short"], losses["dep_loss"]
    written = losses["written"] if "written" in losses else outside_written(losses["outside_owed"], short)
    # sums per row, not a matrix-vector product: numpy's (S, n) @ (n,) takes a BLAS kernel chosen by the batch's
    # size, whose rounding then depends on the batch (a row's writedowns $3.8e-6 apart alone and in a batch of four:
    # tests/test_forced_default_rounds.py's row-independence property)
    return losses | {"writedowns": (short * c.owed_network).sum(1) + dep_loss.sum(1) + written,
                     "shortfall": (clearing.total_liabilities - clearing.payments).sum(1)}
