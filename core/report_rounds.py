"""The ``rounds`` table of :class:`core.results.CascadeResult` from its float block (``core.report``)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from .pages import prefault, small_pages, written_once
from .results import CHANNELS, STATUSES

#: The float columns of ``rounds``, in order: five recorded arrays (bad debt marked at the round's prices and its
#: units at reference prices, :mod:`core.engine.reference_bad_debt`), then the losses by channel.
_ROUND_FLOATS = ("equity_usd", "loss_usd", "liquidated_usd", "bad_debt_usd", "bad_debt_reference_usd",
                 *(f"loss_{name}_usd" for name in CHANNELS))
#: The row of the first channel's loss in the float block.
CHANNEL_ROW = _ROUND_FLOATS.index(f"loss_{CHANNELS[0]}_usd")


def _code_dtype(levels: int) -> np.dtype:
    """The smallest integer type pandas keeps a MultiIndex's codes in for ``levels`` values (built in it, the
    codes are not copied again)."""
    for t in (np.int8, np.int16, np.int32):
        if levels < np.iinfo(t).max:
            return np.dtype(t)
    return np.dtype(np.int64)


class EntityTerms(NamedTuple):
    """What the ``rounds`` table takes of a network's entity ids whatever the run (:func:`entity_terms`): the ids as a
    pandas string array and as its object array, the index's sorted level and each id's rank in it (the codes)."""

    names: pd.api.extensions.ExtensionArray
    objects: np.ndarray
    level: pd.Index
    rank: np.ndarray


def entity_terms(ids: np.ndarray) -> EntityTerms:
    """:class:`EntityTerms` of the entity ids ``ids`` (a string array's validation and the ids' sort: 3 ms at 100,000
    entities, kept per compiled network by ``core.report``)."""
    n = len(ids)
    names = pd.array(np.asarray(ids, dtype=object), dtype="str")
    order = _string_order(names.to_numpy(dtype=object))
    rank = np.empty(n, _code_dtype(n))
    rank[order] = np.arange(n)
    terms = EntityTerms(names, names.to_numpy(dtype=object), pd.Index(names).take(order), rank)
    for a in (terms.objects, terms.rank):
        a.flags.writeable = False
    return terms


def _rounds_table(R: int, ids: np.ndarray, block: np.ndarray, status: np.ndarray,
                  terms: EntityTerms | None = None) -> pd.DataFrame:
    """``rounds``: one row per (round, entity), keyed by (round, entity) (see "Index" in :mod:`core.results`).
    The float block (:func:`_rounds_block`) becomes the table's float columns as it is (a dict of columns was
    copied again by pandas' consolidation, and ``DataFrame.insert`` copies each column it inserts: the frame is
    put together by ``pd.concat`` of frames over the same arrays, which copies none); the string columns are the
    entities' and statuses' own string objects tiled and picked with numpy, wrapped as pandas strings without a
    second pass (:func:`_as_strings`); the index levels are the sorted rounds and entities, its codes their ranks tiled
    over the rounds: the index ``MultiIndex.from_arrays`` gives, without hashing every key. ``terms``: the ids'
    :func:`entity_terms`, when kept."""
    n = len(ids)
    terms = entity_terms(ids) if terms is None else terms
    names = terms.names
    # the object columns and the codes (42 MB at 100,000 entities and 20 rounds, fresh each call) in small pages
    # (core.pages.small_pages): in huge pages their first touch cost 16-51 ms of kernel time a call, in small pages
    # 10-12 ms (synthetic(100k), session 24)
    with small_pages():
        entity = _as_strings(np.tile(terms.objects, R), names.dtype)
        states = _as_strings(_status_objects(status.reshape(R, n)), names.dtype)
        codes = [np.repeat(np.arange(R, dtype=_code_dtype(R)), n), np.tile(terms.rank, R)]
    floats = block.T
    rounds = written_once((R, n), np.int64)  # np.repeat(np.arange(R), n), in small pages (core.pages)
    prefault(rounds)
    rounds[:] = np.arange(R)[:, None]
    out = pd.concat([pd.DataFrame({"round": rounds.ravel(), "entity": entity}, copy=False),
                     pd.DataFrame(floats[:, :1], columns=list(_ROUND_FLOATS[:1]), copy=False),
                     pd.DataFrame({"status": states}, copy=False),
                     pd.DataFrame(floats[:, 1:], columns=list(_ROUND_FLOATS[1:]), copy=False)], axis=1)
    index = pd.MultiIndex(levels=[pd.Index(np.arange(R)), terms.level],
                          codes=codes, verify_integrity=False)
    return out.set_axis(index, axis=0)


def _status_objects(status: np.ndarray) -> np.ndarray:
    """``np.array(STATUSES, dtype=object)[status.ravel()]``, the same str objects, for a (rounds, entities) array of
    codes: each round the last one's objects copied and the entities whose code moved picked again (a status moves
    in few entities a round: 30,381 then fewer, down to 2-16 from round 9 at synthetic(100k); 6.9 ms against 10.5 for
    the pick of all 2,000,000)."""
    R, n = status.shape
    names = np.array(STATUSES, dtype=object)
    out = np.empty(R * n, dtype=object)
    rows = out.reshape(R, n)
    if R:
        rows[0] = names[status[0]]
    for r in range(1, R):  # rounds (a handful), each a vectorised copy and pick
        rows[r] = rows[r - 1]
        moved = np.flatnonzero(status[r] != status[r - 1])
        rows[r, moved] = names[status[r, moved]]
    return out


def _as_strings(values: np.ndarray, dtype) -> pd.api.extensions.ExtensionArray:
    """A pandas string array of the str objects ``values``, not checked again element by element (pandas' private
    ``StringArray._simple_new``; public ``ExtensionArray.take`` gives the same array in 25.0 ms of CPU against 13.7
    at 100,000 entities x 20 rounds, 3.4 against 2.0 at 10,000; ``pd.array`` for other string storages)."""
    from pandas.core.arrays.string_ import StringArray

    if isinstance(dtype, pd.StringDtype) and dtype.storage == "python":
        return StringArray._simple_new(values, dtype)
    return pd.array(values, dtype=dtype)


def inferred_strings(values: np.ndarray):
    """The column pandas makes of an object array of str objects (``values``), without its pass inferring that they are
    all strings: a pandas string array when pandas infers strings (its default from 3.0), else ``values`` as they are.
    Three such columns of ``nodes`` cost 5.4 ms of inference at 100,000 entities, 2.8 ms wrapped (session 18)."""
    # "str" is a pandas string dtype exactly when pandas infers strings (pandas 2.x with ``future.infer_string``
    # on; every pandas 3), else numpy's: the option itself is deprecated in pandas 3 and not read
    dtype = pd.api.types.pandas_dtype("str")
    if not isinstance(dtype, pd.StringDtype):
        return values
    return _as_strings(values, dtype)


def _string_order(values: np.ndarray) -> np.ndarray:
    """The order that sorts the distinct str objects ``values`` (as ``Index.argsort``): the identity when they are
    sorted already (one comparison pass), else a sort of their fixed-width copy (code points compared as
    Python compares them; numpy drops trailing NULs, so names ending in one are sorted by pandas)."""
    n = len(values)
    if n < 2 or bool((values[1:] > values[:-1]).all()):
        return np.arange(n)
    if any(v.endswith("\0") for v in values):
        return pd.Index(values).argsort()
    return values.astype(str).argsort(kind="stable")
