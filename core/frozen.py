"""Read-only tables: an edit of a :class:`core.network.Network`'s table fails loudly.

A network caches what is derived from its tables (the engine's compiled
arrays, the entity index), so an edit in place would be silently ignored by
later runs. :func:`freeze` returns a :class:`FrozenFrame` over the same
arrays, marked read-only:

* replacing, adding or deleting a column (``df["x"] = ...``, ``df["x"] *= 10``,
  ``del df["x"]``, ``df.insert``), an in-place method (``inplace=True``) or a
  new ``index``/``columns`` raises :class:`TypeError`;
* writing cells through ``.loc``, ``.iloc``, ``.at`` or ``.iat`` raises
  :class:`TypeError` too, and writing into the array of ``to_numpy()`` raises
  numpy's ``ValueError: assignment destination is read-only``.

Every derived frame (a selection, ``copy()``, ``assign``, ``merge``) is an
ordinary, writable :class:`pandas.DataFrame`: edit a copy and build a new
network from it (:meth:`core.network.Network.from_frames`).

Examples
--------
>>> import pandas as pd
>>> t = freeze(pd.DataFrame({"amount_usd": [1.0, 2.0]}))
>>> t["amount_usd"] *= 10
Traceback (most recent call last):
...
TypeError: this table is read-only (a Network's tables are immutable): edit a copy (table.copy()) and build a new Network from it
>>> t.loc[0, "amount_usd"] = 5.0
Traceback (most recent call last):
...
TypeError: this table is read-only (a Network's tables are immutable): edit a copy (table.copy()) and build a new Network from it
>>> t["amount_usd"].to_numpy()[0] = 5.0
Traceback (most recent call last):
...
ValueError: assignment destination is read-only
>>> edited = t.copy()
>>> edited["amount_usd"] *= 10
>>> edited["amount_usd"].tolist()
[10.0, 20.0]
"""

from __future__ import annotations

from typing import Any, NoReturn

import numpy as np
import pandas as pd

MESSAGE = ("this table is read-only (a Network's tables are immutable): edit a copy (table.copy()) and build a new "
           "Network from it")


def _refuse(*_: Any, **__: Any) -> NoReturn:
    raise TypeError(MESSAGE)


class _ReadOnlyIndexer:
    """``.loc``/``.iloc``/``.at``/``.iat`` of a :class:`FrozenFrame`: reads as pandas', refuses writes."""

    __slots__ = ("_indexer",)

    def __init__(self, indexer: Any) -> None:
        self._indexer = indexer

    def __getitem__(self, key: Any) -> Any:
        return self._indexer[key]

    def __setitem__(self, key: Any, value: Any) -> NoReturn:
        _refuse()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._indexer, name)


class FrozenFrame(pd.DataFrame):
    """A DataFrame whose columns cannot be replaced and whose cells cannot be written (see the module docstring)."""

    @property
    def _constructor(self):  # derived frames are ordinary DataFrames
        return pd.DataFrame

    __setitem__ = _refuse
    __delitem__ = _refuse
    insert = _refuse
    isetitem = _refuse
    _update_inplace = _refuse
    _set_item = _refuse
    _iset_item = _refuse

    @property
    def loc(self) -> Any:
        return _ReadOnlyIndexer(super().loc)

    @property
    def iloc(self) -> Any:
        return _ReadOnlyIndexer(super().iloc)

    @property
    def at(self) -> Any:
        return _ReadOnlyIndexer(super().at)

    @property
    def iat(self) -> Any:
        return _ReadOnlyIndexer(super().iat)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in ("index", "columns") or (not name.startswith("_") and name in self.columns):
            _refuse()
        super().__setattr__(name, value)


def _lock(array: Any) -> None:
    """Mark a column's storage read-only (numpy arrays, and the numpy array under pandas' string arrays)."""
    for a in (array, getattr(array, "_ndarray", None)):
        if isinstance(a, np.ndarray):
            a.flags.writeable = False


def freeze(df: pd.DataFrame) -> FrozenFrame:
    """A read-only :class:`FrozenFrame` over ``df``'s data (``df`` itself is left writable)."""
    out = FrozenFrame(df.copy(deep=True))
    for block_values in out._mgr.arrays:  # the storage pandas writes cells into (one array per block)
        _lock(block_values)
    return out
