"""The graph's legend: the status colours, the entity shapes, the exposure threshold and the Monte Carlo halo's key.

The colours and shapes here are the ones :func:`dashboard.graph.stylesheet` draws with, so the legend and the graph
cannot disagree; :func:`legend_items` is the legend a picture of the graph carries (:mod:`dashboard.export`,
:mod:`dashboard.story`). The exposure threshold chosen here hides the exposures below it by a rule the clientside
callback ``sfm.edgeThreshold`` (``assets/sfm.js``) adds to the graph's stylesheet.
"""

from __future__ import annotations

from dash import ClientsideFunction, Input, Output, State, clientside_callback, dcc, html

from core.schema import ENTITY_TYPES

from . import ids

#: Okabe–Ito colours (colour-blind safe), one per status.
STATUS_COLOURS: dict[str, str] = {
    "healthy": "#56B4E9",      # sky blue
    "distressed": "#F0E442",   # yellow
    "liquidating": "#E69F00",  # orange
    "defaulted": "#D55E00",    # vermillion (also drawn with a thick black border)
}
LIT_COLOUR = "#D55E00"
PATH_COLOUR = "#0072B2"
PD_COLOUR = "#CC79A7"   # Okabe–Ito reddish purple: distinct from every status colour
PD_LABELS = ("≥ 0.1%", "≥ 1%", "≥ 5%", "≥ 20%")

TYPE_SHAPES: dict[str, str] = {
    "lending_protocol": "round-rectangle",
    "cdp_protocol": "cut-rectangle",
    "amm_pool": "hexagon",
    "liquid_staking": "triangle",
    "stablecoin_issuer": "diamond",
    "centralised_exchange": "star",
    "perpetuals_venue": "vee",
    "cefi_lender": "ellipse",
    "fund": "pentagon",
    "bridge": "rhomboid",
    "reserve": "octagon",
    "depositor_aggregate": "barrel",
}


#: Words written in their own case in type labels.
_TYPE_WORDS = {"cdp": "CDP", "amm": "AMM", "cefi": "CeFi", "defi": "DeFi"}


def _type_label(t: str) -> str:
    """``cdp_protocol`` -> ``CDP protocol``, ``cefi_lender`` -> ``CeFi lender``, ``fund`` -> ``Fund``."""
    words = t.split("_")
    return " ".join(_TYPE_WORDS.get(w, w.capitalize() if k == 0 else w) for k, w in enumerate(words))


def kind_label(type_: str, chain: str) -> str:
    """What an entity is and where, as the entity card and the graph's hover box say it: its type as the legend names
    it and its chain (DeFi) or jurisdiction (CeFi): ``Stablecoin issuer · Terra``, ``CeFi lender · United States``.
    (They said ``stablecoin issuer · terra · Terra``: the ``region`` column's code, which the graph no longer draws
    by, beside the chain it repeated.)"""
    where = chain.strip() if isinstance(chain, str) else ""  # (an uploaded table may leave it empty)
    return f"{_type_label(type_)} · {where}" if where else _type_label(type_)



#: Choices of the edge threshold: exposures below it are hidden (edges that carry a loss or a path stay).
EDGE_OPTIONS = [{"label": "all", "value": 0}, {"label": "≥ $10M", "value": 1e7}, {"label": "≥ $100M", "value": 1e8},
                {"label": "≥ $1bn", "value": 1e9}]


def legend_items() -> list[tuple[str, str]]:
    """(colour, label) of each status and of the contagion path: the legend a picture of the graph carries."""
    return [(c, s) for s, c in STATUS_COLOURS.items()] + [(PATH_COLOUR, "contagion path")]


def legend() -> html.Div:
    """The key under the graph, every line of it shown, in one paragraph that wraps where the panel's width needs it:
    the exposure threshold, the status colours, the entity types' shapes, the edge colours and how size, width and
    arrows read; then the Monte Carlo halo's key once a Monte Carlo run has drawn it. (The type key sat under a closed "Shapes" summary, a bare word on the legend's last
    line that read as a line cut off. Shown, it must leave the graph the box its labels are sized for at 1366 × 768,
    ``graph_layout.BOX_1366``: in rows of their own, key and note took 30 px from the graph, and its labels fell
    below the 9.5 and 10 px the label tests ask for. As one paragraph the legend is 81 px high at 1366 × 768, 91
    before.)"""
    swatches = [
        html.Span([html.Span(className="swatch", style={"background": c, "border": "3px solid #000" if s == "defaulted" else "1px solid #444"}), s],
                  className="legend-item")
        for s, c in STATUS_COLOURS.items()
    ]
    shapes = [html.Span([html.Span(className=f"shape shape-{TYPE_SHAPES[t]}"), _type_label(t)], className="legend-item") for t in ENTITY_TYPES]
    return html.Div(
        [
            html.Div([html.Label(["Exposures shown ", dcc.Dropdown(id=ids.EDGE_MIN, options=EDGE_OPTIONS, value=0, clearable=False,
                                                                   searchable=False, className="edge-min")], className="edge-min-label"),
                      *swatches,
                      html.Span([html.B("Type"), shapes[0]], className="legend-group"),  # "Type" never ends a line alone
                      *shapes[1:],
                      html.Span([html.Span("orange edge", style={"color": LIT_COLOUR, "fontWeight": 600}), " = carried a loss this round · ",
                                 html.Span("blue", style={"color": PATH_COLOUR, "fontWeight": 600}), " = the selected entity's contagion "
                                 "path · size = total assets · edge width ∝ log exposure · arrow = debtor → creditor"],
                                className="legend-note")],
                     className="legend-row legend-key"),
            html.Div([html.B("Monte Carlo probability of default "),
                      *[html.Span([html.Span(className=f"swatch pd-swatch pd-swatch-{k}"), lab], className="legend-item")
                        for k, lab in enumerate(PD_LABELS, start=1)]],
                     className="legend-row legend-pd", id=ids.PD_LEGEND, hidden=True),
        ],
        className="legend",
    )



# Hide the exposures below the threshold chosen under the graph (a rule added to the stylesheet).
clientside_callback(
    ClientsideFunction("sfm", "edgeThreshold"),
    Output(ids.GRAPH, "stylesheet", allow_duplicate=True),
    Input(ids.EDGE_MIN, "value"),
    State(ids.GRAPH, "stylesheet"),
    prevent_initial_call=True,
)
