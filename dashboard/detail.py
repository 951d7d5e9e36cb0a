"""Entity detail: balance sheet, exposures in and out, state per round, and why it failed.

Selecting an entity (a click on its node, a row of the critical-nodes table, or
``e=`` in the link) shows its card and draws its contagion path, from the shock
to the entity (:func:`core.metrics.contagion_path`), on the graph, with the
story told by :func:`core.metrics.narrative`. The run is not stored in the page:
it is recomputed from the scenario (memoised, so this costs nothing after the
first time).

The card and the path are of one run, named by its id (:data:`~dashboard.ids.RUN_ID`, which the run callback
sends with the frames): they are computed again for each new run, and the highlight carries that id, so that
``sfm.renderRound`` draws the path only on that run's graph and marks the card computing beside another run's
frames (the round trip after a scenario change): an old run's card or path is never shown beside a new run.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from dash import ClientsideFunction, Input, Output, State, callback, clientside_callback, ctx, html, no_update

from core.network import Network
from core.formatting import equity_share
from core.results import EQUITY_FLOOR_USD
from core.scenario import parse_scenario

from . import graph, graph_frames, graph_labels, ids
from .graph_legend import kind_label
from .state import dated, error_message, network_from_store, simulate, usd

TOP_EXPOSURES = 10

#: The card's "× Clear selection" button: shown only while an entity is selected (:func:`panel`, and the browser as the
#: selection changes).
CLEAR = "detail-clear"


def _table(header: list[str], rows: list[list[Any]], cls: str = "") -> html.Table:
    return html.Table(
        [html.Thead(html.Tr([html.Th(h) for h in header])), html.Tbody([html.Tr([html.Td(c) for c in r]) for r in rows])],
        className=f"mini-table {cls}".strip(),
    )


def _status_chip(status: str) -> html.Span:
    return html.Span(status, className=f"chip chip-{status}")


def path_extras(network: Network, path: pd.DataFrame, labelled: dict[str, Any] | None = None,
                entity: str | None = None) -> list[dict[str, Any]]:
    """Graph elements for the hops of a path through something that is not an entity: the shock and the assets
    (Shock → LUNA → 3AC), drawn as small labelled tags beside what they lead to, with the path's edges; placed
    clear of the nodes, titles and the run's labels (``labelled``, :func:`dashboard.graph.labels`; default: the
    calm network's) and ``entity``'s name, which the page shows in full (:func:`graph_labels.place_tags`).

    Without them a path through an asset would draw nothing (assets are not nodes of the network graph).
    """
    if not len(path):
        return []
    from .graph_layout import layout

    font = layout(network)["font"]
    entities = set(network.entity_ids)
    src, tgt = path["source"].astype(str).tolist(), path["target"].astype(str).tolist()
    chain = [src[0], *tgt]  # the path in forward order: each step's target is the next one's source
    where = graph_labels.place_tags(network, chain, labelled or graph.labels(network), entity)

    def node_id(name: str) -> str:
        return name if name in entities else f"asset:{name}"

    names = dict(zip(network.assets["symbol"].astype(str), network.assets["name"].astype(str)))
    out: list[dict[str, Any]] = []
    for a, (x, y) in where.items():
        text = graph_labels.tag_text(a)
        w, h = graph_labels.tag_size(text, font)
        out.append({"data": {"id": node_id(a), "label": text, "name": "the scenario's shock" if a == "SHOCK" else names.get(a, a),
                             "fs": font, "w": w, "h": h},
                    "position": {"x": round(x, 1), "y": round(y, 1)}, "classes": "extra asset path", "selectable": False, "grabbable": False})
    out += [{"data": {"id": f"p:{s}>{t}", "source": node_id(s), "target": node_id(t), "w": 5}, "classes": "extra path"}
            for s, t in zip(src, tgt) if s not in entities or t not in entities]
    return out


def highlight(network: Network, entity: str, path: pd.DataFrame, labelled: dict[str, Any] | None = None) -> dict[str, Any]:
    """What the graph should draw for a selected entity: the node, the path's nodes and edges, and its hops through
    assets (:func:`path_extras`, clear of the run's labels ``labelled``)."""
    pos = {e: i for i, e in enumerate(network.entity_ids)}
    nodes = sorted({pos[x] for x in pd.concat([path["source"], path["target"]]).astype(str) if x in pos}) if len(path) else []
    edges = sorted({j for js in graph_frames.edges_between(network, path) for j in js}) if len(path) else []
    return {"entity": pos.get(entity), "nodes": nodes, "edges": edges, "extras": path_extras(network, path, labelled, entity)}


def balance_sheet_rows(network: Network, entity: str) -> list[list[Any]]:
    bs = network.balance_sheet().loc[entity]
    items = [
        ("Token holdings", "holdings_usd"), ("Claims on other entities", "claims_usd"), ("Other assets", "other_assets_usd"),
        ("Collateral locked in protocols", "locked_collateral_usd"), ("Total assets", "total_assets_usd"),
        ("Debts to other entities", "debts_usd"), ("Protocol borrowing", "protocol_debt_usd"),
        ("Other liabilities", "other_liabilities_usd"), ("Total liabilities", "total_liabilities_usd"),
        ("Equity (assets − liabilities)", "derived_equity_usd"), ("Equity as reported", "reported_equity_usd"),
    ]
    return [[label, usd(bs[col])] for label, col in items]


def exposure_rows(network: Network, entity: str, side: str) -> list[list[Any]]:
    """Top exposures where ``entity`` is the creditor (side='out': claims) or the debtor (side='in': debts)."""
    ex = network.exposures
    mine, other = ("creditor", "debtor") if side == "out" else ("debtor", "creditor")
    e = ex[ex[mine] == entity].groupby([other, "kind"], as_index=False)["amount_usd"].sum().sort_values("amount_usd", ascending=False)
    names = dict(zip(network.entities["id"], network.entities["name"]))
    rows = [[names.get(o, o), k.replace("_", " "), usd(a)] for o, k, a in e.head(TOP_EXPOSURES).itertuples(index=False, name=None)]
    if len(e) > TOP_EXPOSURES:
        rows.append([f"… {len(e) - TOP_EXPOSURES} more", "", usd(e["amount_usd"].iloc[TOP_EXPOSURES:].sum())])
    return rows


def loss_split(result, entity: str, equity_floor: float = EQUITY_FLOOR_USD) -> dict[str, Any]:
    """An entity's losses, from the same rows as the contagion paths (``result.paths``) and its node row.

    * ``received``: the path rows into the entity (by channel), the losses that reached it;
    * ``equity_lost``: the engine's loss of the entity's own equity (``nodes.loss_usd``, at most its equity);
    * ``passed``: the ``default`` path rows out of it, the loss its creditors took when it failed;
    * ``equity_before`` / ``equity_after``: initial and final equity;
    * ``equity_floor``: the initial equity below which it had none to lose a share of
      (:func:`core.metrics.equity_floors`, given by the card).
    """
    p = result.paths
    node = result.nodes.set_index("entity").loc[entity]
    into = p[p["target"] == entity]
    out = p[(p["source"] == entity) & (p["channel"] == "default")]
    return {
        "received": float(into["amount_usd"].sum()),
        "received_by_channel": {str(k): float(v) for k, v in into.groupby("channel")["amount_usd"].sum().sort_values(ascending=False).items()},
        "equity_lost": float(node["loss_usd"]),
        "equity_before": float(node["initial_equity_usd"]),
        "equity_after": float(node["final_equity_usd"]),
        "passed": float(out["amount_usd"].sum()),
        "creditors": int(out["target"].nunique()),
        "equity_floor": float(equity_floor),
    }


def loss_rows(split: dict[str, Any]) -> list[list[Any]]:
    """The loss table of the entity card: what reached it, what its equity absorbed, what it passed on.

    The path rows into an entity and the fall of its equity need not agree, and the card says by how much, in the
    direction it goes, without naming a cause it cannot see. The path rows count a price fall on the entity's whole
    holdings, a protocol's holdings included, so a lending protocol receives more than its own equity loses (Terra,
    May 2022: $9.83bn of path rows into Anchor, equity $176.0M to $15.5M); and some falls reach the equity on no path
    row (Celsius: $4.61bn of fall, $1.66bn of rows; Terraform Labs: $200.7M of fall, no row). Neither gap is the
    rows below the paths' size threshold (``core.report.PATH_MIN_SHARE``): with every row kept, the rows into each of
    the three move by at most 0.6% (Anchor's to $9.835bn, Celsius's to $1.668bn, Terraform Labs's none).
    """
    rest = split["equity_before"] - split["equity_after"] - split["received"]
    by = ", ".join(f"{k.replace('_', ' ')} {usd(v)}" for k, v in split["received_by_channel"].items())
    before = split["equity_before"]
    # one wording with the WHY sentence above it (core.formatting.equity_share: "29.8% of its $750.0M of equity"), and
    # "it had no equity" below the entity's floor (core.metrics.equity_floors): an equity that writes as $0 ("24.3% of
    # its $0": Jito on October 2025, $0.00031 left by floating point where its assets and claims cancel), or a dollar
    # of a $1bn pool (the data's rounding)
    share = f" ({equity_share(split['equity_lost'], before, split.get('equity_floor', EQUITY_FLOOR_USD))})"
    return [
        ["Loss received (path rows into it)", usd(split["received"]) + (f": {by}" if by else "")],
        ["Equity lost", usd(split["equity_lost"]) + share],
        ["Loss passed to creditors (default rows out of it)",
         usd(split["passed"]) + (f" to {split['creditors']} creditor{'s' if split['creditors'] != 1 else ''}" if split["creditors"] else "")],
        ["Equity before → final", f"{usd(before)} → {usd(split['equity_after'])}"],
    ] + ([["Equity fall beyond the loss received" if rest > 0 else "Loss received beyond the equity fall", usd(abs(rest))]]
         if abs(rest) >= 1.0 else [])


def card(network: Network, result, entity: str, labelled: dict[str, Any] | None = None) -> tuple[list[Any], dict[str, Any]]:
    """The detail panel for one entity, and the highlight to draw (its path's tags clear of the run's labels:
    ``labelled``, else those :func:`dashboard.graph.labels` gives ``result``)."""
    from core import metrics

    if entity not in set(network.entity_ids):
        return [html.P(f"No entity '{entity}' in this network.", className="muted")], {"entity": None, "nodes": [], "edges": []}
    ent = network.entities.set_index("id").loc[entity]
    node = result.nodes.set_index("entity").loc[entity]
    names = dict(zip(network.entities["id"], network.entities["name"]))
    path = metrics.contagion_path(result, entity)
    story = metrics.narrative(result, entity, network)
    per_round = result.rounds[result.rounds["entity"] == entity].sort_values("round")

    status = str(node["status"])
    split = loss_split(result, entity, float(metrics.equity_floors(network)[entity]))
    head = html.Div([
        html.H3([ent["name"], html.Small(f"  {entity}")]),
        html.Div([f"{kind_label(ent['type'], ent['chain'])} · ends ", _status_chip(status),
                  f" · equity lost {usd(split['equity_lost'])} · passed to creditors {usd(split['passed'])}"
                  + (f" · defaulted in round {int(node['default_round'])}" if int(node["default_round"]) >= 0 else "")],
                 className="muted"),
    ])
    named = {**names, "SHOCK": "the scenario's shock"}  # (the path's first row read "SHOCK", the engine's id for it)
    path_rows = [
        [int(r), named.get(str(s), str(s)), "→", named.get(str(t), str(t)), str(c).replace("_", " "), usd(a)]
        for s, t, r, c, a in path[["source", "target", "round", "channel", "amount_usd"]].itertuples(index=False, name=None)
    ]
    body = [
        head,
        html.H4("Why"),
        html.P(story, className="narrative"),
        html.H4("Losses (final round)"),
        _table(["", "USD"], loss_rows(split), "losses"),
        html.H4("Contagion path (drawn in blue on the graph)"),
        _table(["round", "from", "", "to", "channel", "loss"], path_rows) if path_rows
        else html.P("No contagion path reaches this entity in this scenario.", className="muted"),
        html.H4("State per round"),
        _state_per_round(per_round),
        html.Div([
            html.Div([html.H4("Balance sheet (reference prices)"), _table(["item", "USD"], balance_sheet_rows(network, entity))]),
            html.Div([
                html.H4("Exposures out: claims on others"),
                _table(["debtor", "kind", "USD"], exposure_rows(network, entity, "out")),
                html.H4("Exposures in: owed to others"),
                _table(["creditor", "kind", "USD"], exposure_rows(network, entity, "in")),
            ]),
        ], className="detail-grid"),
    ]
    return body, highlight(network, entity, path, labelled or graph.labels(network, graph_frames.frames(network, result)))


def _state_per_round(per_round) -> html.Table:
    """The entity's state round by round; its bad debt at par (its debt tokens' units at reference prices,
    :mod:`core.engine.reference_bad_debt`) beside the same marked at the round's prices, for an entity with any."""
    rows = list(per_round.itertuples(index=False))
    both = "bad_debt_reference_usd" in per_round and bool((per_round[["bad_debt_usd", "bad_debt_reference_usd"]] != 0).any(axis=None))
    head = ["round", "status", "equity", "cumulative loss", "liquidated", *(("bad debt at par", "at market") if both else ("bad debt",))]
    equity = per_round["equity_usd"].to_numpy(dtype=float)
    equity_shown = np.where(np.isnan(equity), np.nan, graph_frames.equity_dollars(equity).astype(float))  # the hover box's figure
    return _table(head, [[int(r.round), _status_chip(str(r.status)), usd(e), usd(r.loss_usd), usd(r.liquidated_usd),
                          *((usd(r.bad_debt_reference_usd), usd(r.bad_debt_usd)) if both else (usd(r.bad_debt_usd),))]
                         for r, e in zip(rows, equity_shown)], "rounds")


def empty_card() -> list[Any]:
    return [html.P("Click a node on the graph, or a row of the critical-nodes table, to see its balance sheet, "
                   "exposures, state per round and the contagion path that reached it.", className="muted")]


@callback(
    Output(ids.SELECTED, "data"),
    Output(ids.TABS, "value"),
    Input(ids.GRAPH, "tapNodeData"),
    Input(ids.CRITICAL_TABLE, "cellClicked"),
    Input(CLEAR, "n_clicks"),
    prevent_initial_call=True,
)
def on_select(node, cell, _clear):
    trigger = ctx.triggered_id
    if trigger == ids.GRAPH and node and not str(node.get("id", "")).startswith(("asset:", "sector:")):
        return node["id"], "detail"
    if trigger == ids.CRITICAL_TABLE and cell and cell.get("rowId") and cell.get("colId") != "fail":
        return cell["rowId"], no_update
    if trigger == CLEAR:
        return None, no_update
    return no_update, no_update


def no_highlight(run: str | None) -> dict[str, Any]:
    """The highlight of no entity, in run ``run``."""
    return {"run": run, "entity": None, "nodes": [], "edges": []}


@callback(
    Output(ids.DETAIL, "children"),
    Output(ids.HIGHLIGHT, "data"),
    Input(ids.SELECTED, "data"),
    Input(ids.RUN_ID, "data"),
    State(ids.SCENARIO, "data"),
    State(ids.NETWORK, "data"),
    prevent_initial_call=True,
)
def on_entity(entity, run, scenario, network_store):
    """The card and the contagion path of ``entity`` in the run ``run`` (the scenario store's, sent with it).

    Both carry the run id, also when the entity or the scenario is bad (the message takes the card's place): a
    card left of another run would stay marked computing.
    """
    if not entity or not scenario:
        return empty_card(), no_highlight(run)
    try:
        sc = parse_scenario(scenario, file="page")
        network = dated(network_from_store(network_store), sc)  # the card's balance sheet on the run's parameters
        result = simulate(network, sc)
        body, hl = card(network, result, entity)
    except Exception as exc:  # noqa: BLE001 - a message in the card's place, never a traceback
        return [error_message(exc)], no_highlight(run)
    return body, {"run": run, **hl}


def panel(body: list[Any] | None = None) -> html.Div:
    """The Entity tab's card: ``body`` (the card of the entity the link selects) or the hint; "Clear selection" only
    beside a card (no entity selected: nothing to clear)."""
    return html.Div([html.Button("× Clear selection", id=CLEAR, className="btn btn-small clear", hidden=not body),
                     html.Div(body or empty_card(), id=ids.DETAIL, className=graph_frames.RUN_PANELS[ids.DETAIL])],
                    className="detail-panel")


# "Clear selection" follows the selection, in the browser (no round trip): hidden while nothing is selected. A named
# function in assets/ (not an inline string: Dash hands a module's inline scripts to the first app made in a process,
# so a second app, as in the test suite, had none and the renderer failed reading it)
clientside_callback(ClientsideFunction("sfm", "hiddenWithoutSelection"), Output(CLEAR, "hidden"), Input(ids.SELECTED, "data"))
