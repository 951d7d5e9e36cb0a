"""Historical replay: the preset episodes a Monte Carlo with ``source="historical"`` draws from.

Each run picks one of ``data/scenarios/*.json`` uniformly and applies its
``price_shocks``, ``depegs`` and price paths. An episode is replayed only on the
system it happened to (:func:`select_episodes`); the others are left out and
listed with the reason.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence


from .network import Network
from .scenario import Scenario, load_scenario
from .validation import DataValidationError, Problem

def load_episodes(net: Network, names: Sequence[str] = ()) -> dict[str, Scenario]:
    """Preset episodes by name (``data/scenarios/<name>.json``) or path; all that fit ``net`` when ``names`` is empty.

    See :func:`select_episodes` for which presets fit a network.

    Parameters
    ----------
    net : Network
    names : sequence of str
        Preset keys or scenario file paths (empty: every preset that fits).

    Returns
    -------
    dict of str to Scenario

    Raises
    ------
    DataValidationError
        When an episode named explicitly does not fit ``net``.

    Examples
    --------
    >>> from core.datasets import load
    >>> sorted(load_episodes(load("crypto-2020-03")))
    ['black_thursday_2020']
    """
    return select_episodes(net, names)[0]


def select_episodes(net: Network, names: Sequence[str] = ()) -> tuple[dict[str, Scenario], dict[str, str]]:
    """The episodes to replay on ``net``, and those left out with the reason (preset key → reason).

    An episode is replayed on the system it happened to: a preset naming a shipped
    snapshot (its ``snapshot`` field, :mod:`core.datasets`) is replayed only on that
    snapshot. On a network that is no shipped snapshot (an edited copy, an upload), a
    preset is replayed when every asset and entity it names is in the network
    (:meth:`Scenario.check_against`). With ``names`` empty, the presets that do not
    fit are left out and listed with why; an episode named explicitly that does not
    fit is an error (it says on which snapshot to run it).

    Parameters
    ----------
    net : Network
    names : sequence of str
        Preset keys or scenario file paths (empty: every preset).

    Returns
    -------
    episodes : dict of str to Scenario
    skipped : dict of str to str
        Preset key → why it was left out.

    Raises
    ------
    DataValidationError
        When an episode named explicitly does not fit ``net``.

    Examples
    --------
    >>> from core.datasets import load
    >>> episodes, skipped = select_episodes(load("crypto-2020-03"))
    >>> sorted(episodes), sorted(skipped)[:2]
    (['black_thursday_2020'], ['black_thursday_eth_crash', 'ftx_nov_2022'])
    """
    from .datasets import scenario_dir, snapshot_of

    folder = scenario_dir()
    explicit = bool(names)
    paths = [Path(n) if (n.endswith(".json") or os.sep in n) else folder / f"{n}.json" for n in names] if names else \
        sorted(p for p in folder.glob("*.json") if not p.name.endswith(".schema.json"))
    if not paths:
        raise DataValidationError([Problem(str(folder), None, None, None, "preset scenario files (*.json) for historical replay")])
    own = snapshot_of(net)
    out: dict[str, Scenario] = {}
    skipped: dict[str, str] = {}
    problems: list[Problem] = []
    for p in paths:
        sc = load_scenario(p)
        if sc.snapshot and own is not None and sc.snapshot != own:
            reason = f"written for snapshot {sc.snapshot}, not {own} (replay it with --data {sc.snapshot})"
            problems.append(Problem(str(p), None, "snapshot", sc.snapshot, f"an episode of the network replayed, {own}: it is {reason}"))
            skipped[p.stem] = reason
            continue
        try:
            sc.check_against(net)
        except DataValidationError as exc:
            if explicit:
                raise
            skipped[p.stem] = f"names what {net.name or 'this network'} lacks ({'; '.join(str(q.value) for q in exc.problems[:3])})"
            continue
        out[p.stem] = sc
    if explicit and problems:
        raise DataValidationError(problems)
    if not out:
        raise DataValidationError([Problem(str(folder), None, None, net.name or None,
                                           "at least one preset episode of this network for historical replay; left out: "
                                           + "; ".join(f"{k}: {v}" for k, v in skipped.items()))])
    return out, skipped
