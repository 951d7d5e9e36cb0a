"""State arrays known to hold +0.0 in every element: found so once, frozen, and not read again.

Model. Some fields of a :class:`~core.engine.state.CascadeState` stay +0.0 in every row of most batches: the
Maker auction slots (``maker_tab`` ... ``maker_raised``, 7,440 bytes of a row's 35,186 on the shipped 2022
network) hold nothing until a vault is barked, and no default-spec Monte Carlo draw barks one; nor do a run's
withdrawals (``run_units``, ``run_out``), pooled collateral handed back or its owners' cover (``pooled_free``,
``pooled_cover``), a fiat issuer's redemptions (``redeemed_usd``), forced defaults' losses (``shock_loss``) or
auction cohorts' spreads (``auction_spread``: the network has none) appear there, nor, in most rows, liquidation
bonuses (``liq_loss``, kept as it is while none is added): 13,440 bytes a row in all. The slots' readers ask "is any slot in
use?" every round (:func:`core.engine.maker_book.unused_slots`, a pass over the whole array), and every compaction
and gather of a part's rows (:mod:`core.engine.staged`) and every row view copied them all. An array found to be
all +0.0 (its bits all zero: not -0.0) that owns its memory, or made so by :func:`zeros` (these fields'
start, :func:`~core.engine.state.initial_state`), is read-only and remembered by identity, so the question is
answered without a pass, and its rows are a new zeroed array (``np.zeros``: +0.0, the same bits as the rows
copied), itself known. Read-only makes the fact safe: a write into a remembered array fails loudly instead of
leaving a stale answer. None of these fields is written in place (each write is a new array,
:meth:`~core.engine.state.CascadeState.apply`) but ``run_out`` by a claw-back, which writes +0.0 and so leaves a
known array as it is (:func:`core.engine.preferences.claw_back`), and ``shock_loss``, written into a new array only
where the scenario forces a default (:func:`core.engine.exogenous.exogenous`).

The registry keeps weak references only (an array leaves it when it is freed); threads share it (one dict
lookup or store at a time, under the interpreter's lock).
"""

from __future__ import annotations

import functools
import weakref
from typing import Sequence

import numpy as np

_KNOWN: dict[int, weakref.ref] = {}


def _forget(ref: weakref.ref, key: int) -> None:
    if _KNOWN.get(key) is ref:
        del _KNOWN[key]


def known_zero(x: np.ndarray) -> bool:
    """Whether ``x`` is remembered as all +0.0 (no pass over it)."""
    ref = _KNOWN.get(id(x))
    return ref is not None and ref() is x


def remember(x: np.ndarray) -> np.ndarray:
    """``x``, all +0.0, frozen and remembered where it owns its memory (a view's base could still be written)."""
    if x.base is None:
        x.flags.writeable = False
        key = id(x)
        _KNOWN[key] = weakref.ref(x, functools.partial(_forget, key=key))
    return x


def all_zero(x: np.ndarray) -> bool:
    """Whether every element of ``x`` is +0.0 (its bits all zero), remembered once found; a float or integer array."""
    if known_zero(x):
        return True
    if np.ascontiguousarray(x).view(np.uint64 if x.itemsize == 8 else np.uint8).any():
        return False
    remember(x)
    return True


def zeros(shape: tuple[int, ...], dtype: np.dtype | type = float) -> np.ndarray:
    """A new array of +0.0, known so."""
    return remember(np.zeros(shape, dtype))


def repeated(row: np.ndarray, S: int) -> np.ndarray:
    """``np.repeat(row[None], S, 0)``: new known zeros where ``row`` is all +0.0 (a network with no such cohort)."""
    if not np.ascontiguousarray(row).view(np.uint8).any():
        return zeros((S,) + row.shape, row.dtype)
    return np.repeat(row[None], S, 0)


def take_rows(x: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """``x.take(idx, axis=0)``: a known array's rows are new known zeros (the same bits), not a copy."""
    if known_zero(x):
        return zeros((len(idx),) + x.shape[1:], x.dtype)
    return x.take(idx, axis=0)


def stacked_zeros(values: Sequence[np.ndarray], rows: int) -> np.ndarray | None:
    """``rows`` rows of known zeros shaped as ``values``' rows where every one of ``values`` is known, else None."""
    if all(known_zero(v) for v in values):
        return zeros((rows,) + values[0].shape[1:], values[0].dtype)
    return None
