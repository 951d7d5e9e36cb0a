"""The hint beside each price slider: the asset's name, or, when the scenario moves the asset by a price path, where
the path takes it (a slider left at 0 % would otherwise read as "no move").

The path's end is :func:`core.paths.final_fall`; the hint follows the scenario that ran, so a slider that replaced
the path (``controls.scenario_from_controls``) takes the note away.
"""

from __future__ import annotations

from dash import ALL, Input, Output, State, callback, html

from core.paths import final_fall
from core.scenario import Scenario, parse_scenario
from core.validation import DataValidationError

from . import ids


def path_note(scenario: Scenario | None, asset: str) -> str:
    """What a price slider left at 0 cannot say: the asset moves by the scenario's price path, and where it ends
    (:func:`core.paths.final_fall`); empty when it has no path."""
    path = (scenario.price_paths if scenario else {}).get(asset)
    if not path:
        return ""
    return f"path: {-100 * final_fall(path):+.0f}% by round {len(path) - 1}".replace("-", "−")


PATH_HINT = "The scenario moves this asset by a price path; moving the slider replaces the path"


def _hint_props(scenario: Scenario | None, asset: str, name: str) -> tuple[str, str, str]:
    """(text, class, tooltip) of the hint beside a price slider: the path's note in place of the asset's name when the
    asset moves by a path (one line per slider either way)."""
    note = path_note(scenario, asset)
    return (note, "hint path-note", PATH_HINT) if note else (name, "hint", name)


def price_hint(scenario: Scenario | None, asset: str, name: str) -> html.Small:
    text, cls, title = _hint_props(scenario, asset, name)
    return html.Small(text, id={"type": ids.PRICE_PATH, "asset": asset}, className=cls, title=title)


@callback(
    Output({"type": ids.PRICE_PATH, "asset": ALL}, "children"),
    Output({"type": ids.PRICE_PATH, "asset": ALL}, "className"),
    Output({"type": ids.PRICE_PATH, "asset": ALL}, "title"),
    Input(ids.SCENARIO, "data"),
    State({"type": ids.PRICE_PATH, "asset": ALL}, "id"),
    State(ids.NETWORK, "data"),
    prevent_initial_call=True,
)
def on_path_notes(scenario, note_ids, network_store=None):
    """The hint beside each price slider follows the scenario that ran: a path that a slider replaced is gone."""
    from .state import network_from_store

    try:
        sc = parse_scenario(scenario or {}, file="page")
    except DataValidationError:  # the run callback says what is wrong with it (cascade.on_controls)
        sc = None
    assets = network_from_store(network_store).assets
    names = dict(zip(assets["symbol"].astype(str), assets["name"].astype(str)))
    props = [_hint_props(sc, i["asset"], names.get(i["asset"], "")) for i in note_ids]
    return [p[0] for p in props], [p[1] for p in props], [p[2] for p in props]
