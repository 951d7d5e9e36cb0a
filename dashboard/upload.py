"""Bring your own data: upload CSV tables or one JSON network.

* CSV: any of ``entities.csv, assets.csv, holdings.csv, exposures.csv,
  cohorts.csv, correlations.csv, positions.csv, venues.csv`` (several at once). Tables not uploaded are
  taken from the network on screen, so uploading only ``exposures.csv`` swaps
  the exposures and keeps the rest.
* JSON: one file in the format of :func:`core.io.network_to_json`.

Everything is validated by :mod:`core.validation`; a problem is listed with its
file, line and column, and the network on screen stays as it was. A good
upload becomes the user's network (its JSON in the network store); the scenario
keeps every shock that still applies. The upload is cleared once read, so
the same file can be dropped again (after fixing it, say).
"""

from __future__ import annotations

from typing import Any

from dash import Input, Output, State, callback, ctx, html, no_update

from core import datasets
from core.io import network_from_json_text, parse_csv_text, table_to_csv_text
from core.network import Network
from core.scenario import Scenario, parse_scenario
from core.schema import MAX_FILE_BYTES, TABLES
from core.validation import DataValidationError, Origin, Problem, validate_tables

from . import controls, graph, ids, limits, venues
from .limits import MAX_UPLOAD_BYTES
from .state import (base_network, error_message, info_message, network_from_store, link_snapshot, network_store, snapshot_network,
                    snapshot_store)


def _decode(contents: str, name: str) -> str:
    """The text of one uploaded file: at most MAX_UPLOAD_BYTES of UTF-8 (a BOM is dropped)."""
    return limits.read_data_url(contents, name, min(MAX_UPLOAD_BYTES, MAX_FILE_BYTES), "a readable file")


def _check_rows(text: str, table: str, name: str) -> None:
    """Refuse a table with more data lines than the page draws, before parsing it (a line count is cheap)."""
    lines = text.count("\n") + (0 if text.endswith("\n") else 1) - 1  # minus the header
    if table in limits.MAX_ROWS and lines > limits.MAX_ROWS[table]:
        raise DataValidationError(limits.size_problems({table: lines}, name))


def network_from_uploads(contents: list[str], filenames: list[str], current: Network) -> Network:
    """Validate uploaded files into a network; raise DataValidationError naming file, row and column."""
    if not contents:
        raise DataValidationError([Problem("upload", None, None, None, "at least one file")])
    names = list(filenames or [f"file{i + 1}" for i in range(len(contents))])
    if len(names) != len(contents) or not all(isinstance(n, str) for n in names):
        raise DataValidationError([Problem("upload", None, None, None, "one file name per uploaded file")])
    jsons = [n for n in names if n.lower().endswith(".json")]
    if jsons:
        if len(names) > 1:
            raise DataValidationError([Problem(", ".join(names), None, None, None, "either one JSON network or CSV tables, not both")])
        text = _decode(contents[0], names[0])
        limits.check_json_size(text, names[0])
        network = network_from_json_text(text, file=names[0], default_name=names[0].rsplit(".", 1)[0])
        limits.check_network_size(network, names[0])
        return network
    if len(names) != len(set(n.rsplit("/", 1)[-1].lower() for n in names)):
        raise DataValidationError([Problem(", ".join(names), None, None, None, "each table once")])

    problems: list[Problem] = []
    raw: dict[str, Any] = {}
    origins: dict[str, Origin] = {}
    for c, name in zip(contents, names):
        table = name.rsplit("/", 1)[-1].lower().removesuffix(".csv")
        if not name.lower().endswith(".csv") or table not in TABLES:
            problems.append(Problem(name, None, None, None, "a file named " + ", ".join(f"{t}.csv" for t in TABLES) + " or one .json network"))
            continue
        try:
            text = _decode(c, name)
            _check_rows(text, table, name)
        except DataValidationError as exc:
            problems += exc.problems
            continue
        df, prob = parse_csv_text(text, name)
        if prob:
            problems.append(prob)
            continue
        raw[table] = df
        origins[table] = Origin(name, 2, "line")
    if problems:
        raise DataValidationError(problems)
    kept = [t for t in TABLES if t not in raw and not getattr(current, t).empty]
    for table in TABLES:  # tables not uploaded come from the network on screen
        if table not in raw:
            origin = f"{table}.csv (kept from {current.name or 'the current network'})"
            raw[table], _ = parse_csv_text(table_to_csv_text(table, getattr(current, table)), origin)
            origins[table] = Origin(origin, 2, "line")
    typed = validate_tables(raw, origins)
    name = ", ".join(names) + (f" over {current.name or 'the previous network'}" if kept else "")
    network = Network(**typed, name=name)
    limits.check_network_size(network, name)
    return network


def carry_scenario(scenario: dict[str, Any] | None, network: Network) -> Scenario:
    """The part of a scenario that still applies to another network."""
    sc = parse_scenario(scenario or {}, file="page")
    syms, ents = set(network.asset_symbols), set(network.entity_ids)
    pegged = set(network.assets.loc[network.assets["peg_target"].notna(), "symbol"])
    pooled = set(network.assets.loc[network.assets["amm_pool"] != "", "symbol"])
    venues, vaulted = network.names["venues"], network.names["vaulted"]
    sg = sc.safeguards.model_copy(update={
        "insurance_funds_usd": {k: v for k, v in sc.safeguards.insurance_funds_usd.items() if k in ents},
        "adl_rules": {k: v for k, v in sc.safeguards.adl_rules.items() if k in venues and (v != "backstop_vault" or k in vaulted)},
        "collateral_policies": {k: v for k, v in sc.safeguards.collateral_policies.items() if k in venues}})
    return sc.model_copy(update={
        "price_shocks": {k: v for k, v in sc.price_shocks.items() if k in syms},
        "depegs": {k: v for k, v in sc.depegs.items() if k in pegged},
        "pool_sales_usd": {k: v for k, v in sc.pool_sales_usd.items() if k in pooled},
        "forced_defaults": [e for e in sc.forced_defaults if e in ents],
        "forced_default_rounds": {e: r for e, r in sc.forced_default_rounds.items() if e in ents},
        "safeguards": sg,
        "date": sc.date if _dated_ok(network, sc.date) else None,  # a date's changes are the shipped snapshot's alone
    })


def _dated_ok(network: Network, date: str | None) -> bool:
    """Whether ``network`` can be put at ``date`` (:func:`core.snapshots.dated`): a shipped snapshot can, an upload cannot."""
    try:
        datasets.dated(network, date)
    except DataValidationError:
        return False
    return True


def linked_network(search: str | None) -> tuple[Network, dict[str, Any]]:
    """The network the page's link names (``?snapshot=``) and its store value, else the served one."""
    name = link_snapshot(search)
    if name and name != datasets.snapshot_of(base_network()):
        return snapshot_network(name), snapshot_store(name)
    return base_network(), network_store(None)


def describe(network: Network) -> str:
    d = network.describe()
    return f"{d['name'] or 'network'}: {d['entities']} entities, {d['assets']} assets, {d['exposures']} exposures, {d['cohorts']} cohorts"


#: What :func:`on_upload` returns, in order (tests read its results by "component_id.property").
OUTPUTS = [
    Output(ids.NETWORK, "data"),
    Output(ids.GRAPH, "elements"),
    Output(ids.GRAPH, "stylesheet"),
    Output(ids.SHOCK_SLIDERS, "children"),
    Output(ids.VENUE_RULES, "children"),
    Output(ids.DEFAULTS, "options"),
    Output(ids.DEFAULTS, "value", allow_duplicate=True),
    Output(ids.SCENARIO_EXTRAS, "data", allow_duplicate=True),
    Output(ids.DATASET_NAME, "children"),
    Output(ids.DATA_STATUS, "children"),
    Output(ids.DATA_UPLOAD, "contents"),
]
_N = len(OUTPUTS)


@callback(
    *OUTPUTS,
    Input(ids.DATA_UPLOAD, "contents"),
    Input(ids.DATA_RESET, "n_clicks"),
    State(ids.DATA_UPLOAD, "filename"),
    State(ids.NETWORK, "data"),
    State(ids.SCENARIO, "data"),
    State(ids.URL, "search"),
    prevent_initial_call=True,
)
def on_upload(contents, _reset, filenames, store, scenario, search=None):
    try:
        if ctx.triggered_id == ids.DATA_RESET:
            network, new_store = linked_network(search)
            note = f"Back to {network.name or 'the shipped dataset'}."
        else:
            if isinstance(contents, str):
                contents, filenames = [contents], [filenames]
            if not isinstance(contents, list) or not all(isinstance(c, str) for c in contents):
                raise DataValidationError([Problem("upload", None, None, None, "files dropped on the upload area")])
            network = network_from_uploads(contents, filenames, network_from_store(store))
            new_store = network_store(network)
            note = f"Loaded {describe(network)}."
        sc = carry_scenario(scenario, network)
        was = parse_scenario(scenario or {}, file="page").date
        if was and sc.date is None:
            note += f" The scenario's date ({was}) is dropped: its dated parameter changes are a shipped snapshot's."
    except Exception as exc:  # noqa: BLE001 - bad input must show a message and keep the old network
        out: list[Any] = [no_update] * _N
        out[-2] = error_message(exc)
        out[-1] = None if contents else no_update  # cleared, so the same file can be dropped again
        return out
    return (
        new_store,
        graph.elements(network),
        graph.stylesheet(network.n_entities),
        controls.shock_sliders(network, sc),
        venues.controls(network, sc),
        controls.entity_options(network),
        list(sc.forced_defaults),
        controls.extras_of(sc),
        describe(network),
        info_message(note),
        None if contents else no_update,
    )


def panel() -> html.Div:
    from dash import dcc

    return html.Div([
        html.H3("Bring your own data", className="section-title"),
        html.P(["Upload CSV tables named ", html.Code("entities.csv"), ", ", html.Code("exposures.csv"), ", ",
                html.Code("assets.csv"), ", ", html.Code("holdings.csv"), ", ", html.Code("cohorts.csv"),
                " (several at once; tables you leave out are kept from the network on screen), or one JSON network. "
                "Columns are described in the README's data model. ",
                f"The page takes files of up to {MAX_UPLOAD_BYTES // 2**20} MiB (a larger one is not sent) and networks of up to "
                f"{limits.MAX_ROWS['entities']:,} entities and {limits.MAX_ROWS['exposures']:,} exposures; "
                "for larger ones use the command line (sfm validate, sfm simulate, sfm rank)."], className="muted"),
        dcc.Upload(html.Div(["Drop files here or ", html.A("choose files")]), id=ids.DATA_UPLOAD, multiple=True,
                   accept=".csv,.json,text/csv,application/json", className="dropzone", max_size=MAX_UPLOAD_BYTES),
        html.Button("Back to the shipped snapshot", id=ids.DATA_RESET, className="btn btn-small"),
        html.Div(id=ids.DATA_STATUS, className="data-status"),
    ], className="data-panel")
