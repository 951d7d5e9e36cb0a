"""Dated forced failures on the page: under "Entities forced to fail", one "fails at round" box per entity.

A scenario's ``forced_default_rounds`` (:class:`core.scenario.Scenario`) dates the failure of an entity of
``forced_defaults`` to the start of a round; an entity it does not name fails at round 0, at the shock
(:func:`core.engine.exogenous.forced_later` books a later failure at that round's opening as round 0 books one).
Failures happen so: FTX halted withdrawals on 8 November 2022, days into the fall of FTT; Celsius paused them on
12 June 2022; the Stream/Elixir preset dates Stream's announcement of 4 November 2025 to round 1.

This module is the page's side of that and holds no model logic:

* :func:`panel` and :func:`rows`: one numeric box per forced entity, named in full (:func:`entity_label`) (pattern ids
  ``{"type": ids.DEFAULT_ROUND, "entity": id}``, in the dropdown's order), with the round's time from the
  scenario's ``round_hours`` beside it (:func:`round_time`: "round 3 = day 3" at 24-hour rounds);
* :func:`on_forced_list`: the boxes follow the dropdown's list: an entity added gets a box (showing the date the
  loaded scenario gives it, else 0), an entity removed loses its box and its date;
* :func:`values` and :func:`dates`: the two directions between the boxes and ``forced_default_rounds``. A box
  holding anything but a whole round of the run (0 to horizon − 1) is a problem naming the entity, the value and
  what was expected (:class:`core.validation.DataValidationError`): the run callback shows it and changes nothing,
  as it does for every bad input; lowering the horizon below a date is the same problem, named the same way.

Round 0 is not written into the scenario (it is the field's default): a box set to 0 and no box are the same run.
"""

from __future__ import annotations

from typing import Any, Mapping

from dash import ALL, MATCH, Input, Output, State, callback, dcc, html
from dash.exceptions import PreventUpdate

from core.network import Network
from core.scenario import Scenario
from core.validation import DataValidationError, Problem

from . import ids
from .state import network_from_store

#: What a box means, in its title (read on hover).
MEANING = ("The round at whose start the entity fails (0 = at the shock, with the price shocks). "
           "Later rounds date a failure days into a crisis, as FTX's halt of withdrawals on 8 November 2022.")


def round_time(r: int, round_hours: float) -> str:
    """When round ``r`` starts, in the scenario's time: ``at the shock``, ``day 3 (72 h after the shock)`` at 24-hour
    rounds, ``24 h after the shock`` at 8-hour rounds, ``30 min after the shock`` at 10-minute rounds.

    >>> round_time(0, 24.0), round_time(3, 24.0), round_time(3, 8.0), round_time(3, 1 / 6)
    ('at the shock', 'day 3 (72 h after the shock)', '24 h after the shock', '30 min after the shock')
    """
    if r <= 0:
        return "at the shock"
    hours = r * float(round_hours)
    if float(round_hours) % 24.0 == 0.0:
        return f"day {hours / 24.0:g} ({hours:g} h after the shock)"
    if round_hours < 1.0:
        return f"{hours * 60.0:.3g} min after the shock"
    return f"{hours:g} h after the shock"


def _whole(value: Any) -> int | None:
    """``value`` as a whole number (2 and 2.0; not True, 2.5, "2" or None)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and not value.is_integer():
        return None
    return int(value)


def hint(value: Any, horizon: Any, round_hours: float) -> tuple[str, str]:
    """The text beside a box and its class: the round's time and the rounds allowed, or what is wrong with it."""
    h = _horizon(horizon)
    r = _whole(value)
    allowed = f"rounds 0–{h - 1}"
    if r is None:
        return f"not a whole round ({allowed})", "hint forced-round-time bad"
    if not 0 <= r < h:
        return f"outside the run ({allowed})", "hint forced-round-time bad"
    return f"= {round_time(r, round_hours)}", "hint forced-round-time"


def _horizon(horizon: Any) -> int:
    try:
        return int(horizon) if horizon not in (None, "") else Scenario().horizon
    except (TypeError, ValueError):
        return Scenario().horizon


def entity_label(entity: str, name: str | None = None) -> str:
    """An entity as the forced-to-fail menu writes it and its boxes name it: "Alameda Research (ALAMEDA)" (its id
    alone where the network gives no name).

    >>> entity_label("ALAMEDA", "Alameda Research"), entity_label("X")
    ('Alameda Research (ALAMEDA)', 'X')
    """
    return f"{name} ({entity})" if name else entity


def rows(forced: list[str], shown: Mapping[str, Any], horizon: Any, round_hours: float,
         names: Mapping[str, str] | None = None) -> list[Any]:
    """One row per entity of ``forced``, in its order: the entity by its full name, as the menu writes it
    (:func:`entity_label`; was its id, "ALAMEDA fails at round"), on a line of its own, then "fails at round", its box
    showing ``shown[entity]`` (0 when absent) and the round's time."""
    out = []
    for e in forced:
        value = shown.get(e, 0)
        text, cls = hint(value, horizon, round_hours)
        label = entity_label(e, (names or {}).get(e))
        # the box inside its label (a pattern id cannot be a label's htmlFor): the entity, then "fails at round"
        out.append(html.Div([
            html.Label([html.Span(label, className="forced-round-entity", title=label),
                        html.Span("fails at round", className="forced-round-words"),
                        dcc.Input(id={"type": ids.DEFAULT_ROUND, "entity": e}, type="number", value=value, step=1, debounce=0.6,
                                  className="forced-round-input")], className="forced-round-label"),
            html.Small(text, id={"type": ids.DEFAULT_ROUND_TIME, "entity": e}, className=cls),
        ], className="forced-round-row", id=f"forced-round-row-{e}", title=MEANING))
    return out


def panel(network: Network, sc: Scenario) -> html.Div:
    """The boxes of ``sc``'s forced entities, each showing its date (the box under the forced-to-fail dropdown)."""
    names = dict(zip(network.entities["id"], network.entities["name"]))
    return html.Div(rows(list(sc.forced_defaults), sc.forced_default_rounds, sc.horizon, sc.round_hours, names),
                    id=ids.DEFAULT_ROUNDS, className="forced-rounds")


#: Every box, as a callback names them all (pattern id).
BOXES = {"type": ids.DEFAULT_ROUND, "entity": ALL}


def read_boxes(value_as: type[Input] | type[State] = State) -> tuple[Input | State, State]:
    """What a callback reads of the boxes: their values (an ``Input`` where a box's change fires it) and their ids, in
    that order, the order :func:`dates` and :func:`by_entity` take them in. The run callback
    (:func:`dashboard.cascade.on_controls`) and :func:`on_forced_list` read them so."""
    return value_as(BOXES, "value"), State(BOXES, "id")


def by_entity(round_values: list[Any] | None, round_ids: list[dict[str, str]] | None) -> dict[str, Any]:
    """The boxes' values by entity, from what :func:`read_boxes` reads."""
    return {i["entity"]: v for v, i in zip(round_values or [], round_ids or [])}


def values(forced_default_rounds: Mapping[str, int], round_ids: list[dict[str, str]] | None) -> list[int]:
    """The boxes' values showing a scenario's dates, in the order of ``round_ids`` (0 for an undated entity)."""
    return [int(forced_default_rounds.get(i["entity"], 0)) for i in round_ids or []]


def _problem(entity: str, value: Any, horizon: int) -> Problem:
    expected = (f"a whole round from 0 to {horizon - 1} (0 = at the shock; the horizon is {horizon} "
                f"round{'s' if horizon != 1 else ''})")
    if value is None or value == "":
        return Problem(f"{entity} fails at round (the box is empty or holds no whole number)", None, None, None, expected)
    shown = value if not isinstance(value, str) or len(value) <= 40 else value[:40] + "…"
    return Problem(f"{entity} fails at round", None, None, shown, expected)


def dates(round_values: list[Any] | None, round_ids: list[dict[str, str]] | None, forced: list[str],
          file_dates: Mapping[str, Any] | None, horizon: Any) -> dict[str, int]:
    """The scenario's ``forced_default_rounds`` from the boxes: entity -> round, for the forced entities (round 0 left
    out). A forced entity without a box (the moment before the boxes follow the dropdown) keeps the loaded scenario's
    date, ``file_dates``. Raises :class:`DataValidationError` naming each entity whose round is not a whole round of
    the run, its value and the rounds allowed."""
    h = _horizon(horizon)
    boxes = by_entity(round_values, round_ids)
    out: dict[str, int] = {}
    problems = []
    for e in forced:
        if e in boxes:
            value = boxes[e]
        elif (file_dates or {}).get(e) is not None:
            value = (file_dates or {})[e]
        else:
            continue  # no date: round 0
        r = _whole(value)
        if r is None or not 0 <= r < h:
            problems.append(_problem(e, value, h))
        elif r:
            out[e] = r
    if problems:
        raise DataValidationError(problems)
    return out


@callback(
    Output(ids.DEFAULT_ROUNDS, "children"),
    Input(ids.DEFAULTS, "value"),
    *read_boxes(),
    State(ids.HORIZON, "value"),
    State(ids.SCENARIO_EXTRAS, "data"),
    State(ids.NETWORK, "data"),
    prevent_initial_call=True,
)
def on_forced_list(forced, round_values, round_ids, horizon, extras, network_store):
    """The boxes follow the dropdown: rebuilt when its list changes (kept as they are otherwise, so that a box being
    typed in is not replaced)."""
    forced = list(forced or [])
    if [i["entity"] for i in round_ids or []] == forced:
        raise PreventUpdate
    shown = {e: v for e, v in ((extras or {}).get("forced_default_rounds") or {}).items()}
    shown.update(by_entity(round_values, round_ids))
    try:
        network = network_from_store(network_store)
        names = dict(zip(network.entities["id"], network.entities["name"]))
    except DataValidationError:  # the names are a tooltip; the run callback reports a bad store
        names = {}
    return rows(forced, shown, horizon, float((extras or {}).get("round_hours") or Scenario().round_hours), names)


@callback(
    Output({"type": ids.DEFAULT_ROUND_TIME, "entity": MATCH}, "children"),
    Output({"type": ids.DEFAULT_ROUND_TIME, "entity": MATCH}, "className"),
    Input({"type": ids.DEFAULT_ROUND, "entity": MATCH}, "value"),
    Input(ids.HORIZON, "value"),
    State(ids.SCENARIO_EXTRAS, "data"),
    prevent_initial_call=True,
)
def on_round_value(value, horizon, extras):
    """The time beside a box, as its value or the horizon changes."""
    return hint(value, horizon, float((extras or {}).get("round_hours") or Scenario().round_hours))
