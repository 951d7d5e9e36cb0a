"""Some scenarios of a state or batch, cut only where read (:class:`Rows`).

A step that computes a few of a batch's rows (the liquidation step's rows with a cohort due,
:mod:`core.engine.liquidate`) hands a function written for the whole state the rows it computes. Every array of a
:class:`~core.engine.state.CascadeState` or :class:`~core.engine.batch.ScenarioBatch` has the scenario axis first
and a row's figures never read another row's, so the rows' arrays give the rows' figures, to the last bit. Cutting
the whole state (:meth:`~core.engine.state.CascadeState.take`, some 20 ms for 273 rows of synthetic(1000, 10000):
its holdings alone are 17 MB) costs more than the function: a view takes the rows of a field the first time it is
read, and keeps them.
"""

from __future__ import annotations

from dataclasses import fields, is_dataclass, replace
from typing import Any, TypeVar, cast

import numpy as np

from .known_zeros import take_rows

T = TypeVar("T")


class Rows:
    """``whole`` (a state or a batch) seen through its rows ``idx``: an array field read is its rows (first axis),
    a dataclass of per-scenario arrays (the state's ``staking``) its arrays' rows, a list its items' rows, ``None``
    itself. Anything else (a batch's ``S``, ``horizon`` or summaries of all its rows) is no row's and fails, so a
    function that reads one cannot be handed a view by mistake."""

    def __init__(self, whole: Any, idx: np.ndarray) -> None:
        self._whole, self._idx = whole, idx

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # the view's own fields, not set yet (a copy being built)
            raise AttributeError(name)
        value = rows_of(getattr(self._whole, name), self._idx, name)
        object.__setattr__(self, name, value)  # kept: read again, the same arrays
        return value


def rows_view(whole: T, idx: np.ndarray) -> T:
    """:class:`Rows` of ``whole`` (typed as ``whole``: the functions handed it read it as one)."""
    return cast(T, Rows(whole, idx))


def rows_of(v: Any, idx: np.ndarray, name: str = "") -> Any:
    """Rows ``idx`` of a state's or batch's field ``name`` along its scenario axis: an array's rows (by
    ``ndarray.take``: the same elements as indexing by a mask, copied in about half the time), a list's items'
    rows, a dataclass of per-scenario arrays (the state's ``clearing``, ``staking``) its arrays' rows, ``None``
    itself. Anything else has no scenario rows and fails, naming the field. One cut serves a whole copy
    (:meth:`~core.engine.state.CascadeState.take`) and a lazy view (:class:`Rows`)."""
    if v is None:
        return None
    if isinstance(v, np.ndarray):
        return take_rows(v, idx)  # ndarray.take; a known all-zero array's rows are new zeros (core.engine.known_zeros)
    if isinstance(v, list):
        return [rows_of(x, idx, name) for x in v]
    if is_dataclass(v) and not isinstance(v, type):
        return replace(v, **{f.name: rows_of(getattr(v, f.name), idx, name) for f in fields(v)})
    raise AttributeError(f"{name!r} ({type(v).__name__}) has no scenario rows to cut")
