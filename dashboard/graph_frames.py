"""The graph's state per round, computed once per run and sent to the page: the *frames*.

A run of the engine becomes, per round, one status digit per entity (an index into
:data:`core.results.STATUSES`, the vocabulary the page receives in :func:`page_config`), the edges
that carried a loss in that round and each entity's equity; ``sfm.renderRound`` (``assets/sfm.js``)
decodes them in the browser. :func:`round_classes` and :func:`round_label` are the same decoding in
Python, for the first page and the pictures the server draws.

How an element's classes and the round label are *written* is defined once, here (:data:`CLASS_RULES`,
:data:`ROUND_LABEL`), and sent to the page in :func:`page_config`: ``sfm.renderRound`` only works out the facts
of each element (its status, whether it is on the selected path, its default-probability bucket) and writes them
with these rules, so the browser holds no copy of a class name or of the label's wording.
``tests/test_dashboard_views.py`` runs renderRound in node with the rules changed and checks it follows them,
and that both sides give the same classes and label for every round.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import numpy as np
import pandas as pd

from core.network import Network
from core.results import STATUSES

from . import ids

# -- time of a round ----------------------------------------------------------------

#: Spans of at least this many hours are written in days (when a round is a whole number of half days).
DAYS_FROM_HOURS = 72.0


def _in_days(n_rounds: int, round_hours: float) -> bool:
    return n_rounds * round_hours >= DAYS_FROM_HOURS and float(round_hours) % 12.0 == 0.0


def _in_minutes(n_rounds: int, round_hours: float) -> bool:
    """Rounds shorter than an hour spanning at most three hours are written in minutes (not ``0.17 h``)."""
    return float(round_hours) < 1.0 and n_rounds * round_hours <= 3.0


def round_hours_of(result) -> float:
    """What one round of ``result`` stands for, in hours (the scenario's ``round_hours``; 24 when it says nothing)."""
    return float((result.scenario or {}).get("round_hours", 24.0) or 24.0)


def round_times(n_rounds: int, round_hours: float) -> list[str]:
    """The time at the end of each round since the shock, ``(r + 1) × round_hours`` (as ``core.report`` dates a
    round's row), written in one unit for the run: days when the rounds span 72 h or more, minutes for rounds
    under an hour spanning three hours or less, else hours.

    >>> round_times(3, 24.0)
    ['1 d', '2 d', '3 d']
    >>> round_times(3, 8.0)
    ['8 h', '16 h', '24 h']
    >>> round_times(3, 1 / 6)
    ['10 min', '20 min', '30 min']
    """
    hours = (np.arange(n_rounds) + 1) * float(round_hours)
    values, unit = ((hours / 24.0, "d") if _in_days(n_rounds, round_hours)
                    else (hours * 60.0, "min") if _in_minutes(n_rounds, round_hours) else (hours, "h"))
    return [f"{round(float(v), 2):g} {unit}" for v in values]


def time_axis_title(round_hours: float, n_rounds: int, horizon: int) -> str:
    """The title of a time axis: its unit, what a round stands for and the scenario's horizon.

    A cascade that settles before its horizon records fewer rounds than the horizon; the title says where it
    settled, so that "Round 4 of 13" beside "horizon 18 rounds" does not read as a contradiction.
    """
    unit = "days" if _in_days(n_rounds, round_hours) else "minutes" if _in_minutes(n_rounds, round_hours) else "hours"
    # short enough for a chart at 1366 px ("Time since the shock, minutes (…; horizon 18 rounds)" was cut there)
    rounds = f"horizon {horizon}, settled at round {n_rounds - 1}" if n_rounds < horizon else f"horizon {horizon} rounds"
    return f"{unit.capitalize()} since the shock (1 round = {round_length(round_hours)}; {rounds})"


def round_length(round_hours: float) -> str:
    """One round's length as people say it: ``10 min`` below an hour (``0.166667 h`` before), else ``2 h``."""
    return f"{round_hours * 60:.3g} min" if round_hours < 1.0 else f"{round_hours:g} h"

#: Halo for the Monte Carlo probability of default: bucket k >= 1 when PD >= PD_BUCKETS[k - 1].
PD_BUCKETS = (0.001, 0.01, 0.05, 0.20)
STATUS_CODE = {s: str(i) for i, s in enumerate(STATUSES)}


@functools.lru_cache(maxsize=16)
def edge_table(network: Network) -> pd.DataFrame:
    """Exposures summed per (creditor, debtor) pair: one drawn edge per pair, in a fixed order."""
    ex = network.exposures
    if ex.empty:
        return pd.DataFrame(columns=["creditor", "debtor", "amount_usd", "n"])
    g = ex.groupby(["creditor", "debtor"], sort=True)["amount_usd"].agg(["sum", "count"]).reset_index()
    return g.rename(columns={"sum": "amount_usd", "count": "n"})


def affected(frames: dict[str, Any]) -> np.ndarray:
    """Each entity's worst status code over the run (0 healthy ... 3 defaulted): labels go to the worst first."""
    n = frames["n"]
    if not frames.get("status"):
        return np.zeros(n, dtype=np.int8)
    codes = np.frombuffer("".join(frames["status"]).encode("ascii"), dtype=np.uint8).reshape(-1, n) - ord("0")
    return codes.max(axis=0).astype(np.int8)


#: How the classes of an element are written from its facts, in order: ``[fact, template]``; a fact that is false
#: ("", 0, False) adds nothing, else the template with ``{}`` replaced by the fact's value. Node facts: ``status``
#: (a name of STATUSES), ``path`` (on the selected entity's contagion path), ``selected`` (the selected entity),
#: ``pd`` (Monte Carlo default-probability bucket, "" below the first); edge facts: ``lit`` (carried a loss in the
#: round), ``path``. The stylesheet (``graph.stylesheet``) styles these classes.
CLASS_RULES: dict[str, list[list[str]]] = {
    "node": [["status", "st-{}"], ["path", "path"], ["selected", "hl"], ["pd", "pd-{}"]],
    "edge": [["lit", "lit"], ["path", "path"]],
}
#: The round label's wording; ``when`` is WHEN with the round's time, or "" when the run has no times.
ROUND_LABEL = "Round {round} of {last}{when} · {defaulted} defaulted · {liquidating} liquidating · {distressed} distressed"
WHEN = " (t = {time})"


def write_classes(kind: str, facts: dict[str, Any], rules: dict[str, list[list[str]]] | None = None) -> str:
    """The class string of one element of ``kind`` ("node" or "edge") with ``facts``, by :data:`CLASS_RULES`.

    >>> write_classes("node", {"status": "defaulted", "path": True, "selected": False, "pd": "2"})
    'st-defaulted path pd-2'
    """
    return " ".join(t.replace("{}", str(v)) for f, t in (rules or CLASS_RULES)[kind] if (v := facts.get(f)))


def fill(template: str, values: dict[str, Any]) -> str:
    """``template`` with each ``{name}`` replaced by ``values[name]`` (what sfm.js's ``fill`` does)."""
    return re.sub(r"\{(\w+)\}", lambda m: str(values[m.group(1)]), template)


#: The charts and tables of a run that ``sfm.renderRound`` draws from the run view (cascade.view_store), by
#: "component_id.property", in its output order: the time charts first (their round marker is set to the round drawn).
VIEW_OUTPUTS = (*[f"{c}.figure" for c in (*ids.TIME_CHARTS, ids.CHART_ENTITIES, ids.CHART_BEARERS)],
                f"{ids.PERPS_TABLE}.children", f"{ids.ROUNDS_TABLE}.children")


#: The panels a server callback of their own fills once the run's frames are drawn (the entity card, the critical-nodes
#: grid), by component id, with their class: ``sfm.renderRound`` writes each one's class in the output set that draws
#: the frames, with :data:`COMPUTING` added while the panel is of another run than the frames (assets/sfm.css hides it).
RUN_PANELS = {ids.DETAIL: "entity-card", ids.CRITICAL_ROWS: "critical-rows"}
COMPUTING = "computing"

#: What ``sfm.renderRound`` draws after the view's charts and tables, by "component_id.property", in its output order:
#: the round slider's value, range and marks (of the frames' run), then the class of each of :data:`RUN_PANELS`.
RUN_OUTPUTS = (f"{ids.ROUND}.value", f"{ids.ROUND}.max", f"{ids.ROUND}.marks", *[f"{p}.className" for p in RUN_PANELS])


def panel_class(panel: str, panel_run: str | None, frames_run: str | None) -> str:
    """The class of one of :data:`RUN_PANELS` beside frames of run ``frames_run`` (what sfm.renderRound writes).

    >>> panel_class(ids.DETAIL, "a1", "b2")
    'entity-card computing'
    """
    return RUN_PANELS[panel] + ("" if panel_run == frames_run else f" {COMPUTING}")


def grid_run(rows_run: str | None, shown: list[str] | None) -> str | None:
    """The run the critical-nodes grid is of, for :func:`panel_class` (what sfm.js's ``gridRun`` works out): the run of
    its cells on screen (``shown``, :data:`~dashboard.ids.CRITICAL_SHOWN`, written by the page once they are drawn),
    None while they are of several runs, and, with no such cell on screen (no rows, or none drawn yet), the run of the
    rows it was handed (``rows_run``, :data:`~dashboard.ids.CRITICAL_RUN`), whose empty grid shows no other run's.

    >>> grid_run("b2", ["a1"]), grid_run("b2", ["a1", "b2"]), grid_run("b2", ["b2"]), grid_run("b2", [])
    ('a1', None, 'b2', 'b2')
    """
    if not shown:
        return rows_run
    return shown[0] if len(shown) == 1 else None


#: The Play button's two faces, ``[icon class, text]``: the icon is a CSS shape (assets/sfm.css), not a character —
#: "⏸" has no glyph in the fonts of many systems (Debian's Chromium drew an empty box) — and the text is the button's
#: accessible name. :func:`dashboard.graph_animation.play_label` and sfm.js's ``animate`` both write the button from these.
PLAY_FACES = {"play": ["icon icon-play", "Play"], "pause": ["icon icon-pause", "Pause"]}


def of_run(highlight: dict[str, Any] | None, frames: dict[str, Any]) -> dict[str, Any] | None:
    """``highlight`` when it is of the frames' run (or either has no run id), else None: a path found in another run
    is never drawn on this one's graph."""
    if highlight and highlight.get("run") and frames.get("run") and highlight["run"] != frames["run"]:
        return None
    return highlight


def page_config() -> dict[str, Any]:
    """What ``assets/sfm.js`` must agree on with the server, sent from here (never hard-coded there): the status
    vocabulary (a status code is an index into it), how classes and the round label are written (:data:`CLASS_RULES`,
    :data:`ROUND_LABEL`), the time charts renderRound moves the round marker of (in its
    output order), the classes of the panels drawn after the run (:data:`RUN_PANELS`), the Play button's faces
    (:data:`PLAY_FACES`), and the component ids the animation reads."""
    return {"statuses": list(STATUSES), "classes": CLASS_RULES, "round_label": ROUND_LABEL, "when": WHEN,
            "time_charts": list(ids.TIME_CHARTS), "view_outputs": len(VIEW_OUTPUTS),
            "run_panels": list(RUN_PANELS.values()), "computing": COMPUTING, "play_faces": PLAY_FACES,
            "ids": {"play": ids.PLAY, "back": ids.STEP_BACK, "step": ids.STEP_FWD, "tick": ids.TICK, "graph": ids.GRAPH,
                    "run_view": ids.RUN_VIEW, "frames": ids.FRAMES, "highlight": ids.HIGHLIGHT, "critical_run": ids.CRITICAL_RUN}}


def equity_dollars(equity_usd) -> np.ndarray:
    """Equity in whole dollars, as the frames send it to the page (the hover box reads it): the entity card's
    round-by-round equity is drawn from the same figure, so the two never round differently (ANCHOR's $3,824,937 in
    the Terra preset read $3.82M in the card and $3.83M in the box when both read whole thousands, $3,825k, in one
    place and the exact figure in another). Whole dollars, not thousands: the page writes at most four significant
    figures (``core.formatting.usd``, ``usd`` in ``assets/sfm.js``) and whole dollars below $1k, so no figure it
    writes is coarser than a dollar; whole thousands showed through below $10M (ANCHOR's final $969,416 read
    "$969.0k" in the card's round table beside "$969.4k" in its loss table)."""
    return np.round(np.nan_to_num(np.asarray(equity_usd, dtype=float))).astype(np.int64)


def frames(network: Network, result, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Per-round classes of the graph, for the clientside animation.

    ``status[r]`` is a string with one digit per node (index into STATUSES),
    ``lit[r]`` the indices (among edges) of the edges that carried a loss in
    round r, ``equity[r]`` each node's equity in whole USD.
    """
    n_rounds = result.n_rounds
    ent_ids = network.entity_ids
    r = result.rounds
    # one (round, entity) cell per row of result.rounds; a round an entity is missing from repeats its last
    # state (healthy and no equity before its first row)
    row = r["round"].to_numpy()
    col = pd.Index(ent_ids).get_indexer(r["entity"])
    keep = (col >= 0) & (row >= 0) & (row < n_rounds)
    row, col = row[keep], col[keep]
    seen = np.zeros((n_rounds, len(ent_ids)), dtype=bool)
    seen[row, col] = True
    last = np.maximum.accumulate(np.where(seen, np.arange(n_rounds)[:, None], -1), axis=0)  # row of the last state
    has = last >= 0
    cols = np.broadcast_to(np.arange(len(ent_ids)), last.shape)

    def carried(values: np.ndarray, fill) -> np.ndarray:
        grid = np.full((n_rounds, len(ent_ids)), fill, dtype=values.dtype)
        grid[row, col] = values[keep]
        return np.where(has, grid[np.maximum(last, 0), cols], fill)

    codes = np.maximum(pd.Categorical(r["status"], categories=list(STATUSES)).codes.astype(np.int8), 0)
    status_rows = [line.tobytes().decode("ascii") for line in (carried(codes, np.int8(0)) + ord("0")).astype(np.uint8)]
    equity = carried(r["equity_usd"].to_numpy(dtype=float), np.nan)
    equity_rows = equity_dollars(equity).tolist()
    return {
        "n": len(ent_ids),
        "m": len(edge_table(network)),
        "rounds": n_rounds,
        "horizon": int(result.scenario.get("horizon", n_rounds)) if result.scenario else n_rounds,
        "times": round_times(n_rounds, round_hours_of(result)),
        "status": status_rows,
        "lit": lit_edges(network, result.paths, n_rounds),
        "equity": equity_rows,
        "page": page_config(),
        **(extra or {}),
    }


@functools.lru_cache(maxsize=16)
def _edge_index(network: Network) -> dict[tuple[str, str], list[int]]:
    """Unordered entity pair -> indices (among edges) of the drawn edges between them."""
    et = edge_table(network)
    out: dict[tuple[str, str], list[int]] = {}
    for j, (c, d) in enumerate(zip(et["creditor"], et["debtor"])):
        out.setdefault((c, d) if c <= d else (d, c), []).append(j)
    return out


def edges_between(network: Network, pairs: pd.DataFrame) -> list[list[int]]:
    """For each (source, target) row, the drawn edges joining the two entities (either direction)."""
    idx = _edge_index(network)
    return [idx.get((s, t) if s <= t else (t, s), []) for s, t in zip(pairs["source"].astype(str), pairs["target"].astype(str))]


def lit_edges(network: Network, paths: pd.DataFrame, n_rounds: int) -> list[list[int]]:
    lit: list[set[int]] = [set() for _ in range(n_rounds)]
    if len(paths):
        for rnd, js in zip(paths["round"].to_numpy(), edges_between(network, paths)):
            if 0 <= int(rnd) < n_rounds:
                lit[int(rnd)].update(js)
    return [sorted(s) for s in lit]


def pd_buckets(probabilities) -> str:
    """One digit per entity: 0 below PD_BUCKETS[0], k when the probability of default is >= PD_BUCKETS[k - 1]."""
    p = np.nan_to_num(np.asarray(probabilities, dtype=float))
    return "".join(str(int(b)) for b in np.searchsorted(np.asarray(PD_BUCKETS), p, side="right"))


def round_classes(frames: dict[str, Any], round_: int, highlight: dict[str, Any] | None = None,
                  pd_overlay: dict[str, Any] | None = None) -> list[str]:
    """Class of every element at ``round_`` (nodes, then edges), written by :data:`CLASS_RULES` from each
    element's facts: what ``sfm.renderRound`` (assets/sfm.js) draws in the browser."""
    n, m = frames["n"], frames["m"]
    rules = (frames.get("page") or {}).get("classes") or CLASS_RULES
    r = max(0, min(int(round_ or 0), frames["rounds"] - 1))
    status = frames["status"][r] if frames["status"] else "0" * n
    lit = set(frames["lit"][r]) if frames["lit"] else set()
    hl = of_run(highlight, frames) or {}
    path_nodes, path_edges, sel = set(hl.get("nodes") or []), set(hl.get("edges") or []), hl.get("entity")
    pdb = pd_overlay["buckets"] if pd_overlay and len(pd_overlay.get("buckets") or "") == n else ""
    nodes = [write_classes("node", {"status": STATUSES[int(status[i])], "path": i in path_nodes, "selected": i == sel,
                                    "pd": pdb[i] if pdb and pdb[i] != "0" else ""}, rules) for i in range(n)]
    edges = [write_classes("edge", {"lit": j in lit, "path": j in path_edges}, rules) for j in range(m)]
    return nodes + edges


def round_label(frames: dict[str, Any], round_: int) -> str:
    """``Round r of R (t = 4 d) · d defaulted · l liquidating · s distressed``, by :data:`ROUND_LABEL` (as
    ``sfm.renderRound`` writes it)."""
    page = frames.get("page") or {}
    R = frames["rounds"]
    r = max(0, min(int(round_ or 0), R - 1))
    status = frames["status"][r] if frames["status"] else ""
    counts = {s: status.count(str(k)) for k, s in enumerate(STATUSES)}
    times = frames.get("times") or []
    when = fill(page.get("when", WHEN), {"time": times[r]}) if r < len(times) else ""
    return fill(page.get("round_label", ROUND_LABEL), {"round": r, "last": R - 1, "when": when, **counts})
