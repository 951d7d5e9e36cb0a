"""What the tables of :class:`core.results.CascadeResult` take of a network's entities whatever the run, once per
compiled network (a network is immutable, :mod:`core.frozen`): the ids' index, the rows of strings among the ids,
the entities' own string columns of ``nodes``."""

from __future__ import annotations

import weakref

import numpy as np
import pandas as pd

from .network import Network

#: :func:`_id_index` by compiled network.
_ID_INDEXES: "weakref.WeakKeyDictionary[object, pd.Index]" = weakref.WeakKeyDictionary()


def _id_index(c) -> pd.Index:
    """The entities' ids as a pandas index (their hash table built on the first lookup), once per compiled network."""
    index = _ID_INDEXES.get(c)
    if index is None:
        index = _ID_INDEXES[c] = pd.Index(np.asarray(c.ids))
    return index


def entity_rows(c, names: np.ndarray) -> np.ndarray:
    """Each of the strings ``names``' row among the entities, -1 where no entity has that id."""
    return _id_index(c).get_indexer(names)


#: :func:`entity_columns` by compiled network.
_ENTITY_COLUMNS: "weakref.WeakKeyDictionary[object, dict[str, object]]" = weakref.WeakKeyDictionary()


def entity_columns(net: Network, c) -> dict[str, object]:
    """The entities' own ``name``, ``type`` and ``region`` as ``nodes`` holds them, once per compiled network (a network
    is immutable, :mod:`core.frozen`): a string column as it is; an object column as the string array pandas infers
    from it (made once: inferring three such columns of 100,000 entities cost 3.7 ms CPU a run, measured at load ~12),
    or as it is where pandas infers none. The table copies them, as it copied the inferred ones."""
    cols = _ENTITY_COLUMNS.get(c)
    if cols is None:
        ent = net.entities
        raw = {k: ent[k].array if isinstance(ent[k].dtype, pd.StringDtype) else ent[k].to_numpy() for k in ("name", "type", "region")}
        made = pd.DataFrame(raw)
        cols = _ENTITY_COLUMNS[c] = {k: made[k].array if isinstance(made[k].dtype, pd.StringDtype) else v for k, v in raw.items()}
    return cols
