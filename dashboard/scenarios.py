"""Scenarios: presets, download and upload of scenario JSON, and the whole view in the URL.

The URL's query string reproduces a view: ``?s=<scenario>&cmp=1&r=<round>&e=<entity>``
where ``s`` is the scenario's non-default fields as zlib-compressed, base64url
JSON (:func:`dashboard.state.encode_scenario`). The page writes it with
``history.replaceState`` from a clientside callback as the view changes. The
first page is built from the link on the server (:func:`dashboard.app.page`);
only if that could not happen does ``sfm.checkLink`` hand the link to
:func:`on_scenario_source`. Loading a preset, uploading a file, such a link
and "Reset all" all go through :func:`apply_scenario`, which sets every
control; the run callback then does the rest. The preset menu keeps its selection
(cleared by "Reset all" or a file); the upload is cleared once applied, so choosing the
same file again applies it again.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from dash import ALL, ClientsideFunction, Input, Output, State, callback, clientside_callback, ctx, dcc, html, no_update

from core import datasets
from core.scenario import Scenario, load_scenario, parse_scenario
from core.validation import DataValidationError, Problem

from . import controls, ids
from .limits import MAX_SCENARIO_BYTES, read_data_url
from .state import error_message, guarded, info_message, network_from_store, parse_query

#: Controls set by a scenario, in output order.
CONTROL_IDS = (ids.DEFAULTS, ids.RUN, ids.LIQUIDITY, ids.ORACLE_LAG, ids.HORIZON, ids.CB_ON, ids.CB_THRESHOLD,
               ids.CB_ROUNDS, ids.COLLATERAL, ids.INSURANCE, ids.PSM_HALT)


# -- presets ---------------------------------------------------------------------

def preset_files(folder: Path | None = None) -> list[Path]:
    folder = folder or datasets.scenario_dir()
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*.json") if not p.name.endswith(".schema.json"))


@functools.lru_cache(maxsize=1)
def _presets(folder: str) -> tuple[tuple[str, Scenario], ...]:
    out = []
    for p in preset_files(Path(folder)):
        try:
            out.append((p.stem, load_scenario(p)))
        except DataValidationError:
            continue  # a broken preset file must not take the page down; `sfm validate` reports it
    return tuple(out)


def presets() -> dict[str, Scenario]:
    return dict(_presets(str(datasets.scenario_dir())))


def preset_options(current: str | None = None) -> list[dict[str, Any]]:
    """The preset menu: presets under the snapshot they belong to, ``current`` (the snapshot on screen) first."""
    from .snapshots import preset_options as grouped

    return grouped(current)


def preset_title(key: str, sc: Scenario) -> str:
    """A preset's name as the menu shows it (``tac_june_2022`` -> ``TAC June 2022``)."""
    return controls.pretty_name(sc.name if sc.name and sc.name != "custom" else key)


def preset_of(sc: Scenario, snapshot: str | None) -> str | None:
    """The preset ``sc`` is named after, when it belongs to ``snapshot`` (or to no snapshot); else None.

    The menu shows it for a scenario that came from a preset by a link or a file (the scenario panel says
    "modified from …" when the controls have moved away from it).
    """
    found = presets().get(sc.name) if sc.name else None
    if found is None or (found.snapshot and found.snapshot != snapshot):
        return None
    return sc.name


# -- applying a scenario -------------------------------------------------------------

def apply_scenario(sc: Scenario, price_ids: list[dict[str, str]], depeg_ids: list[dict[str, str]], compare: bool | None = None,
                   adl_ids: list[dict[str, str]] | None = None, policy_ids: list[dict[str, str]] | None = None,
                   network=None, round_ids: list[dict[str, str]] | None = None) -> list[Any]:
    """Outputs of :func:`on_scenario_source` that show ``sc`` (controls, then compare, then extras); the venues'
    dropdowns (``adl_ids``, ``policy_ids``) need the ``network`` for each venue's own setting. The boxes dating the
    forced failures (``round_ids``) on the page are set to ``sc``'s dates; the boxes of entities it adds to the forced
    list follow from the dropdown (:func:`dashboard.forced_rounds.on_forced_list`, from the extras' dates)."""
    values = controls.controls_from_scenario(sc, price_ids, depeg_ids, adl_ids, policy_ids, network, round_ids)
    return [values[ids.PRICE], values[ids.DEPEG], values[ids.ADL_RULE], values[ids.COLLATERAL_POLICY], values[ids.DEFAULT_ROUND],
            *[values[k] for k in CONTROL_IDS], no_update if compare is None else (["on"] if compare else []), controls.extras_of(sc)]


def decode_upload(contents: str, filename: str | None) -> Scenario:
    """A scenario from a dcc.Upload ``contents`` data URL (at most MAX_SCENARIO_BYTES of UTF-8 JSON; a BOM is dropped)."""
    name = filename if isinstance(filename, str) and filename else "scenario.json"
    return parse_scenario(read_data_url(contents, name, MAX_SCENARIO_BYTES, "a UTF-8 JSON scenario file"), file=name)


def preset_scenario(key: Any) -> Scenario:
    """The preset named ``key``; a name not in the menu is a validation error (never a KeyError on the page)."""
    found = presets().get(key) if isinstance(key, str) else None
    if found is None:
        shown = key if isinstance(key, str) and len(key) <= 60 else (key[:60] + "…" if isinstance(key, str) else type(key).__name__)
        raise DataValidationError([Problem("preset menu", None, None, shown, "one of the presets: " + ", ".join(presets()))])
    return found


#: What :func:`on_scenario_source` returns, in order: the values of :func:`scenario_source`, then the preset menu
#: and the scenario upload (tests read its results by "component_id.property").
SOURCE_OUTPUTS = [
    Output({"type": ids.PRICE, "asset": ALL}, "value"),
    Output({"type": ids.DEPEG, "asset": ALL}, "value"),
    Output({"type": ids.ADL_RULE, "venue": ALL}, "value"),
    Output({"type": ids.COLLATERAL_POLICY, "venue": ALL}, "value"),
    Output({"type": ids.DEFAULT_ROUND, "entity": ALL}, "value"),
    *[Output(c, "value") for c in CONTROL_IDS],
    Output(ids.COMPARE, "value"),
    Output(ids.SCENARIO_EXTRAS, "data"),
    Output(ids.PENDING, "data"),
    Output(ids.SELECTED, "data", allow_duplicate=True),
    Output(ids.TABS, "value", allow_duplicate=True),
    Output(ids.MESSAGE, "children", allow_duplicate=True),
    Output(ids.PRESET, "value"),
    Output(ids.SCENARIO_UPLOAD, "contents"),
]
_N_APPLY = len(SOURCE_OUTPUTS) - 2


@callback(
    *SOURCE_OUTPUTS,
    Input(ids.LINK, "data"),
    Input(ids.PRESET, "value"),
    Input(ids.SCENARIO_UPLOAD, "contents"),
    Input(ids.RESET, "n_clicks"),
    State(ids.SCENARIO_UPLOAD, "filename"),
    State({"type": ids.PRICE, "asset": ALL}, "id"),
    State({"type": ids.DEPEG, "asset": ALL}, "id"),
    State(ids.NETWORK, "data"),
    State({"type": ids.ADL_RULE, "venue": ALL}, "id"),
    State({"type": ids.COLLATERAL_POLICY, "venue": ALL}, "id"),
    State({"type": ids.DEFAULT_ROUND, "entity": ALL}, "id"),
    prevent_initial_call=True,
)
def on_scenario_source(href, preset, upload, _reset, filename, price_ids, depeg_ids, network_store, adl_ids=None, policy_ids=None,
                       round_ids=None):
    trigger = ctx.triggered_id
    try:
        out = scenario_source(trigger, href, preset, upload, filename, price_ids, depeg_ids, network_store, adl_ids, policy_ids,
                              round_ids)
    except Exception as exc:  # noqa: BLE001 - a bad file or link shows a message; the controls stay as they were
        out = None
        message = error_message(exc)
    else:
        message = no_update
    # the preset menu keeps its selection (the scenario panel says when the controls have moved away from it),
    # until "Reset all" or a file replaces the scenario; a file, once applied (or refused), is cleared:
    # choosing the same one again fires again
    cleared = [None if trigger == ids.RESET or (trigger == ids.SCENARIO_UPLOAD and out is not None) else no_update,
               None if trigger == ids.SCENARIO_UPLOAD and upload else no_update]
    if out is None:  # nothing to apply: leave every control as it is
        return [[no_update] * len(price_ids), [no_update] * len(depeg_ids), [no_update] * len(adl_ids or []),
                [no_update] * len(policy_ids or []), [no_update] * len(round_ids or []), *[no_update] * (_N_APPLY - 6), message,
                *cleared]
    return [*out, *cleared]


def scenario_source(trigger, href, preset, upload, filename, price_ids, depeg_ids, network_store,
                    adl_ids=None, policy_ids=None, round_ids=None) -> list[Any] | None:
    """Outputs of :func:`on_scenario_source` for what triggered it (None: nothing to apply)."""
    pending, selected, message, compare = no_update, no_update, None, None
    if trigger == ids.PRESET:
        from .snapshots import HEADING, other_snapshot

        if not preset or (isinstance(preset, str) and preset.startswith(HEADING)) or other_snapshot(preset, network_store):
            return None  # nothing chosen, a heading, or a preset of another snapshot: snapshots.on_snapshot loads that page
        sc = preset_scenario(preset)
        dated = f" Runs on the snapshot's parameters in force on {sc.date}." if sc.date else ""
        message = info_message(f"Preset loaded: {preset_title(preset, sc)}.{dated} {sc.description}".strip())
    elif trigger == ids.SCENARIO_UPLOAD:
        sc = decode_upload(upload, filename)
        message = info_message(f"Scenario loaded from {filename}.")
    elif trigger == ids.RESET:
        sc = Scenario()
        compare = False
        selected = ""  # "Reset all" also clears the selected entity
    else:  # the page loaded: read the link
        query = parse_query(href.split("?", 1)[1] if isinstance(href, str) and "?" in href else "")
        if not query:
            return None
        sc = query.get("scenario", Scenario())
        compare = query.get("compare")
        pending = {"round": query.get("round")}
        selected = query.get("entity", no_update)
    network = network_from_store(network_store)
    sc.check_against(network)
    tab = "detail" if selected is not no_update and selected else no_update
    return [*apply_scenario(sc, price_ids, depeg_ids, compare, adl_ids, policy_ids, network, round_ids), pending, selected, tab,
            message]


@callback(
    Output(ids.SCENARIO_DOWNLOAD, "data"),
    Output(ids.MESSAGE, "children", allow_duplicate=True),
    Input(ids.SCENARIO_DOWNLOAD_BTN, "n_clicks"),
    State(ids.SCENARIO, "data"),
    prevent_initial_call=True,
)
@guarded(2, 1)
def on_download(_n, scenario):
    sc = parse_scenario(scenario or {}, file="page")
    stem = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in (sc.name or "scenario")) or "scenario"
    return {"content": sc.to_json(), "filename": f"{stem}.json", "type": "application/json"}, no_update


# A link the first page was not built from (no Referer on the layout request) goes to on_scenario_source.
clientside_callback(
    ClientsideFunction("sfm", "checkLink"),
    Output(ids.LINK, "data"),
    Input(ids.URL, "search"),
    State(ids.VIEW_QUERY, "data"),
)

# The view into the address bar (no navigation, no server call).
clientside_callback(
    ClientsideFunction("sfm", "writeUrl"),
    Output(ids.URL_SINK, "data"),
    Input(ids.URL_SCENARIO, "data"),
    Input(ids.COMPARE, "value"),
    Input(ids.ROUND, "value"),
    Input(ids.SELECTED, "data"),
    prevent_initial_call=True,
)

clientside_callback(
    ClientsideFunction("sfm", "copyLink"),
    Output(ids.COPY_LINK, "title"),
    Input(ids.COPY_LINK, "n_clicks"),
    prevent_initial_call=True,
)


def panel(current: str | None = None, preset: str | None = None) -> html.Div:
    """The scenario bar; the preset menu groups the presets by snapshot (``current``: the one on screen) and shows ``preset``."""
    return html.Div(
        [
            dcc.Dropdown(id=ids.PRESET, options=preset_options(current), value=preset, placeholder="Load a preset scenario…",
                         className="preset", clearable=True, searchable=False),
            html.Button("Save scenario", id=ids.SCENARIO_DOWNLOAD_BTN, className="btn btn-small", title="Download the scenario as JSON"),
            # no ``accept``: a file of another type would be dropped by the browser without a word, under the message
            # of the file before; sent, it is refused with a message naming it (decode_upload)
            dcc.Upload(html.Button("Open scenario", className="btn btn-small", title="Load a scenario JSON file"),
                       id=ids.SCENARIO_UPLOAD, multiple=False, max_size=MAX_SCENARIO_BYTES),
            html.Button("Copy link", id=ids.COPY_LINK, className="btn btn-small", title="Copy a link that reproduces this view"),
            dcc.Download(id=ids.SCENARIO_DOWNLOAD),
        ],
        className="scenario-bar",
    )
