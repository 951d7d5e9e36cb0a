"""Shipped datasets and reproducible synthetic networks.

The shipped snapshots are folders of ``data/`` (``SFM_DATA`` overrides it) that
carry a ``snapshot.json`` with their ``name``, ``date`` (the ``as_of`` of the
system they describe) and a one-paragraph ``description``:

* ``available()`` lists them, oldest first, as :class:`Snapshot` records;
* ``load(name)`` reads one (once per process; networks are immutable);
* ``default()`` is the newest of them (the crypto system on 2025-10-01, ``data/crypto-2025-10``);
* ``presets()`` lists the shipped scenario presets (``data/scenarios/*.json``), each
  with the snapshot it names (its ``snapshot`` field); ``presets_of(name)`` those of
  one snapshot; ``load_preset(key)`` a preset together with the network it runs on;
* ``synthetic(n_entities, n_exposures, seed)`` builds a random network with
  the same tables, for scale tests and benchmarks.

The snapshots are :mod:`core.snapshots` and the presets :mod:`core.presets`;
this module is where their public names are imported from.
"""

from __future__ import annotations

from .presets import Preset, load_preset, network_of, preset, preset_files, presets, presets_of, scenario_dir
from .snapshot_catalog import SHIPPED_DATA_DIR, SNAPSHOT_FILE, Snapshot, _read_snapshot, catalog_names, read_catalog  # noqa: F401
from .snapshots import (
    DATA_DIR,
    DEFAULT_DATASET,
    available,
    data_path,
    dated,
    default,
    load,
    resolve,
    snapshot_names,
    snapshot_of,
    sourced_counts,
)
from .synthetic_network import synthetic as synthetic

__all__ = [
    "DATA_DIR", "DEFAULT_DATASET", "Preset",
    "available", "data_path", "dated", "default", "load", "resolve", "snapshot_names", "snapshot_of", "sourced_counts",
    "load_preset", "network_of", "preset", "preset_files", "presets", "presets_of", "scenario_dir",
    "synthetic",
]
