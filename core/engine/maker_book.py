"""The Maker system of a network as the engine compiles it once: :class:`MakerBook`, built from the dataset's
``maker_ilks`` table (:data:`core.schema.MAKER_ILKS`) by :func:`compile_maker`, with each ilk's expected
auction life (:func:`auction_seconds`) on the Clipper's price curve.

The round that runs on it is :func:`core.engine.maker.vault_auctions` (module :mod:`core.engine.maker`,
which re-exports these names).

References
----------
* MakerDAO ``dss``: ``spot.sol`` (``mat``), ``dog.sol`` (``chop``, ``hole``, ``Hole``), ``vat.sol``
  (``dust``), ``clip.sol`` (``buf``, ``tail``, ``cusp``, ``chip``, ``tip``), ``abaci.sol`` (``step``,
  ``cut``), ``flap.sol`` (``lid``), ``vow.sol`` (``hump``, ``bump``, ``wait``); 2020: ``flip.sol``.
* https://docs.makerdao.com/smart-contract-modules/dog-and-clipper-detailed-documentation
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Callable, NamedTuple

import numpy as np

from ..mechanisms.maker_liquidations import IlkParameters
from .columns import column_index
from .known_zeros import all_zero
from .memo import per_network
from .oracle import oracle_prices

if TYPE_CHECKING:
    import pandas as pd

    from ..network import Network
    from .batch import ScenarioBatch
    from .compiled import Compiled
    from .grouping import Group
    from .state import CascadeState

#: Keepers take an auction at the first price at or below the market price less this share: their cost of
#: selling the collateral (DEX slippage and gas on a stressed day) [estimate; Liquidations 2.0 parameter
#: posts assume ~4% on-chain slippage for a $35M ETH sale (MakerDAO forum t/7628)].
KEEPER_MARGIN = 0.03


@dataclass(frozen=True, eq=False)
class MakerBook:
    """A network's Maker system, compiled from ``maker_ilks``: cohorts, ilks and contract parameters."""

    protocol: int                  # entity index of the system
    cohorts: np.ndarray            # (m,) indices of its maker cohorts
    cohort_mask: np.ndarray        # (c,) the same as a mask
    ilk: np.ndarray                # (m,) ilk of each cohort
    params: IlkParameters          # mat/chop/hole/dust per ilk; clip parameters per cohort
    flip: bool                     # flip.sol auctions (2020) instead of the Clipper
    mkr_supply0: float
    mkr_price0: float
    keeper_capacity: float         # DAI per day in normal markets (inf: the scenario's capacity only)
    ca: np.ndarray                 # (m,) collateral asset of each cohort
    da: int                        # the system's stablecoin
    named: np.ndarray              # (m,) cohorts with a named borrower
    by_asset: Group                # cohorts -> collateral asset (k groups)
    by_borrower: Group             # named cohorts -> borrower entity
    cycle_seconds: np.ndarray      # (ilks,) an auction's expected life (auction_seconds)
    hump: float = np.inf           # the Vow's surplus buffer before surplus auctions (inf: none)
    bump: float = 0.0              # their lot (DAI)
    lid: float = np.inf            # DAI under surplus auction at once (flap.sol lid)
    wait: float = 0.0              # vow.wait: seconds a deficit's sin waits before flop may sell against it
    hop: float = np.inf            # Splitter hop: seconds between two surplus lots (inf: no such limit)
    debt_auctions: bool = True     # vow.flop can start (False: sump = max uint256, Sky from 15 May 2025)

    @property
    def m(self) -> int:
        return len(self.cohorts)


def compile_maker(net: Network, c_proto: np.ndarray, c_ca: np.ndarray, c_da: np.ndarray, c_lt: np.ndarray,
                  c_borrower: np.ndarray, c_style: list[str], group: Callable[[np.ndarray, int], Group]) -> MakerBook | None:
    """The Maker system of ``net`` (None when it has no ``maker_ilks``). Validation has checked that each
    ``maker`` cohort of the system belongs to exactly one ilk (same collateral, threshold = 1/mat)."""
    mk: pd.DataFrame = net.maker_ilks
    if not len(mk):
        return None
    from ..validation import MAKER_ILK_TOLERANCE

    proto = int(net.entity_pos([mk["protocol"].iloc[0]])[0])
    mine = (c_proto == proto) & (np.asarray(c_style, dtype=object) == "maker")
    cohorts = np.flatnonzero(mine)
    ilk_ca = net.asset_pos(mk["collateral_asset"])
    mat = mk["liquidation_ratio"].to_numpy(dtype=float)
    match = (c_ca[cohorts, None] == ilk_ca[None]) & (np.abs(c_lt[cohorts, None] * mat[None] - 1.0) < MAKER_ILK_TOLERANCE)
    ilk = np.argmax(match, 1)

    def per_ilk(col: str, empty: float) -> np.ndarray:
        return mk[col].astype(float).fillna(empty).to_numpy()

    def per_cohort(col: str, empty: float) -> np.ndarray:
        return per_ilk(col, empty)[ilk]

    first = mk.iloc[0]
    params = IlkParameters(
        mat=mat, chop=per_ilk("chop", 1.0), hole=per_ilk("hole_usd", np.inf), dust=per_ilk("dust_usd", 0.0),
        buf=per_cohort("buf", 1.0), tail=per_cohort("tail_seconds", np.inf), cusp=per_cohort("cusp", 0.0),
        chip=per_cohort("chip", 0.0), tip=per_cohort("tip_usd", 0.0), step=per_cohort("step_seconds", 1.0),
        cut=per_cohort("cut", 1.0), Hole=float(np.inf if np.isnan(float(first["system_hole_usd"])) else first["system_hole_usd"]),
    )
    cap = float(first["keeper_capacity_usd"])

    def system(col: str, empty: float) -> float:
        v = float(first[col]) if col in mk.columns else np.nan
        return empty if np.isnan(v) else v
    named = c_borrower[cohorts] >= 0
    book = MakerBook(protocol=proto, cohorts=cohorts, cohort_mask=mine, ilk=ilk, params=params,
                     flip=first["auction"] == "flip", mkr_supply0=float(first["mkr_supply"]), mkr_price0=float(first["mkr_price_usd"]),
                     keeper_capacity=np.inf if np.isnan(cap) else cap, ca=c_ca[cohorts],
                     da=int(c_da[cohorts[0]]) if len(cohorts) else -1, named=named,
                     by_asset=group(c_ca[cohorts], len(net.asset_symbols)),
                     by_borrower=group(c_borrower[cohorts][named], len(net.entity_ids)), cycle_seconds=np.zeros(0),
                     hump=system("surplus_hump_usd", np.inf), bump=system("flap_bump_usd", 0.0),
                     lid=system("flap_lid_usd", np.inf), wait=system("vow_wait_seconds", 0.0),
                     hop=system("flap_hop_seconds", np.inf),
                     debt_auctions=bool(first["debt_auctions"]) if "debt_auctions" in mk.columns else True)
    return replace(book, cycle_seconds=auction_seconds(book))


def auction_seconds(mk: MakerBook) -> np.ndarray:
    r"""Expected life of an auction of each ilk, (ilks,): the time its price takes to fall from ``top = feed*buf``
    to what keepers pay, ``market*(1 - KEEPER_MARGIN)``, with the market at the feed (``abaci.sol``
    stairstep): :math:`\text{step}\cdot\lceil \ln((1-m)/\text{buf}) / \ln \text{cut} \rceil`, at least one step
    and at most ``tail``. For ETH-A's 2022 curve (buf 1.20, cut 0.99, step 90 s) 16 steps, 24 minutes
    (the parameter posts expected ~40 minutes, MakerDAO forum t/7628)."""
    p = mk.params
    first = np.zeros(len(p.mat), int)
    np.maximum.at(first, mk.ilk, np.arange(mk.m))  # a cohort of each ilk (the clip parameters are per cohort)
    buf, cut, step, tail = (np.broadcast_to(np.asarray(v, float), (mk.m,))[first] for v in (p.buf, p.cut, p.step, p.tail))
    with np.errstate(divide="ignore", invalid="ignore"):
        steps = np.where(cut < 1, np.ceil(np.log((1.0 - KEEPER_MARGIN) / buf) / np.log(cut)), np.inf)
    return np.clip(np.maximum(steps, 1.0) * step, step, tail)


class VaultBooks(NamedTuple):
    """The Maker system's vaults at a round's opening, (S, m) each but ``feed``/``market``: what
    :func:`core.engine.maker.vault_auctions` and :func:`core.engine.maker_ask.keeper_ask` start from."""

    coll: np.ndarray         # the cohorts' collateral: locked, on auction and handed back
    debt: np.ndarray         # their debt, the auctions' outstanding tabs included
    outstanding: np.ndarray  # DAI the live auctions still have to raise, over each cohort's auctions
    free: np.ndarray         # collateral finished auctions handed back, not locked
    ink: np.ndarray          # the vaults' locked collateral
    vault_debt: np.ndarray   # the vaults' debt outside the auctions
    feed: np.ndarray         # the OSM's price of each cohort's collateral (lagged where the scenario lags)
    market: np.ndarray       # the market's


def vault_books(c: Compiled, s: CascadeState, b: ScenarioBatch) -> VaultBooks:
    """:class:`VaultBooks` of the network's Maker system (``c.maker``, which has vaults)."""
    mk = c.maker
    assert mk is not None
    M, ca = maker_columns(c), mk.ca
    coll, debt = s.coll[:, M].copy(), s.debt[:, M].copy()  # (copies: the caller may write them)
    # over each cohort's auctions; no auction in any row (every slot +0.0: the shipped 2022 network's Monte Carlo
    # draws, every round), sums of +0.0 alone, 0.0, without the slots' passes (the same bits)
    idle = unused_slots(s.maker_due) and unused_slots(s.maker_raised)
    outstanding = np.zeros(coll.shape) if idle else slot_sum(np.maximum(s.maker_due - s.maker_raised, 0.0))
    on_auction = np.zeros(coll.shape) if unused_slots(s.maker_lot) else slot_sum(s.maker_lot)
    # the vaults' collateral: neither the live auctions' lots nor what finished auctions handed back, which
    # clip.sol (``take``: ``vat.flux`` to ``usr``) and flip.sol (``deal``) return to the owner free, not locked
    free = np.minimum(s.maker_free, np.maximum(coll - on_auction, 0.0))
    ink = np.maximum(coll - on_auction - free, 0.0)
    Po = oracle_prices(s.price_history, b.lag, s.P) if b.any_lag else s.P
    return VaultBooks(coll, debt, outstanding, free, ink, np.maximum(debt - outstanding, 0.0), Po[:, ca], s.P[:, ca])


def securing_collateral(c: Compiled, s: CascadeState) -> np.ndarray:
    """Each cohort's collateral that secures its debt, (S, c) units: the state's ``coll`` less, for the Maker
    system's cohorts, the collateral finished auctions handed back to their owners (``maker_free``, as
    :func:`vault_books` takes it: at most what is not on auction). ``clip.take`` moves a lot's remainder to the
    vault's owner (``vat.flux(ilk, address(this), usr, lot)``) and ``flip.deal`` likewise: free collateral, in no
    urn, locked against no debt, while the bark already took the barked debt off the urn (``dog.bark``:
    ``vat.grab`` of ``dink``, ``dart``). So the cohort's debt (its vaults' and its live auctions') is secured by the
    vaults' ink and the lots alone: a loan book capped at ``coll`` counted the owners' free collateral against it
    (the clearing's marks, :func:`core.engine.books.marks`; the coin's claim on its vaults,
    :func:`core.engine.backing.backing_links`). The state itself keeps it in ``coll`` (module docstring of
    :mod:`core.engine.maker`). The state's ``coll`` where the Maker system has no free collateral.

    Three steps of a round read it (:func:`core.engine.backing.backing_links`, :func:`core.engine.insurance.insurance`,
    :func:`core.engine.clear.mark_and_clear`) and none between them writes its arrays: a step's changes are new
    arrays (:meth:`~core.engine.state.CascadeState.apply`), and none of these three is written in place. So it is
    computed once a state for the same three arrays (by identity, kept with the state while it lives: a weak
    reference to it) and handed out read-only (a caller writing into it would fail, not corrupt the next reader's)."""
    coll, free, lot = s.coll, s.maker_free, s.maker_lot
    kept = _SECURED.get(s)
    if kept is not None and kept[0] is coll and kept[1] is free and kept[2] is lot:
        return kept[3]
    out = secured_units(c, coll, free, lot)
    if out is not coll:
        out.flags.writeable = False
        _SECURED[s] = (coll, free, lot, out)
    return out


#: :func:`securing_collateral`'s last result for each live state, with the arrays it was computed from.
_SECURED: weakref.WeakKeyDictionary[CascadeState, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = \
    weakref.WeakKeyDictionary()


def secured_units(c: Compiled, coll: np.ndarray, maker_free: np.ndarray, maker_lot: np.ndarray) -> np.ndarray:
    """:func:`securing_collateral` of the state's arrays ``coll`` (S, c), ``maker_free`` (S, m) and ``maker_lot``
    (S, slots, m), for some of its rows (each row's own arithmetic: the rows given keep their bits)."""
    mk = c.maker
    if mk is None or not mk.m or not maker_free.any():
        return coll
    out = coll.copy()
    vaults = out[:, maker_columns(c)]  # (a view where the cohorts are contiguous: written in place)
    # no lot on auction in any row (every slot +0.0): ``vaults - 0.0`` is ``vaults``, to the last bit (-0.0 too)
    free = np.maximum(vaults if unused_slots(maker_lot) else vaults - slot_sum(maker_lot), 0.0)
    np.minimum(maker_free, free, out=free)
    if isinstance(maker_columns(c), slice):
        vaults -= free
    else:
        out[:, mk.cohorts] = vaults - free  # (``out[:, M] -= free``'s arithmetic)
    return out


def maker_columns(c: Compiled) -> slice | np.ndarray:
    """The Maker system's cohorts as an index of the (S, c) arrays' columns: a slice where they are contiguous
    (the shipped networks: a cohort table lists an ilk's cohorts together), whose reads are views and whose
    writes are in place, else their indices (``c.maker.cohorts``): the same elements either way, once per network."""
    return per_network(c, "maker_columns", lambda: column_index(c.maker.cohorts if c.maker is not None else np.zeros(0, int)))


def unused_slots(x: np.ndarray) -> bool:
    """Whether every element of the auction slots ``x`` is +0.0 (its bits all zero: not -0.0, which a sum of
    -0.0 alone keeps), read as integers in one pass without a temporary; an array found so is frozen and
    remembered (:mod:`core.engine.known_zeros`), so the next question about it reads nothing."""
    return all_zero(x)


#: Fewest rows from which :func:`slot_sum` adds the slots one by one (fewer: ``x.sum(1)``, the same bits).
SLOT_SUM_ROWS = 128


def slot_sum(x: np.ndarray) -> np.ndarray:
    """``x.sum(1)`` of an (S, slots, m) array of the auctions' slots, to the last bit: on a C-contiguous array with
    ``m >= 2`` numpy reduces the middle axis from 0.0 adding the slots in order (so ``-0.0`` sums to ``0.0``; with
    ``m == 1`` the slots are the contiguous axis and numpy sums them pairwise, so that case, as any other layout,
    is left to it), which this does with one add per slot on (S, m) views (1,667 x 6 x 31: 270 -> 165 us; from :data:`SLOT_SUM_ROWS` rows, below which numpy's own reduction
    is the faster: 40 rows, 7 against 11 us)."""
    if x.ndim != 3 or x.shape[2] < 2 or not x.flags.c_contiguous or len(x) < SLOT_SUM_ROWS:
        return x.sum(1)
    out = x[:, 0] + 0.0
    for k in range(1, x.shape[1]):
        np.add(out, x[:, k], out=out)
    return out
