"""Presentation mode: a contagion path told one hop at a time, on screen and as an offline HTML story.

The hops are :func:`core.metrics.contagion_path` (from the entity, the largest incoming contagion edge no
later than the current round, walked back to the scenario's shock, then read forwards); each hop gets one
sentence, and the last slide is :func:`core.metrics.narrative` of the entity. Every slide carries its own
picture of the graph at the hop's round (:func:`dashboard.graph_svg.graph_svg`, the page's stylesheet, the
path drawn up to that hop), the legend, the scenario's name, the round and the time since the shock from
the scenario's ``round_hours`` (:func:`dashboard.graph_frames.round_times`), so that any one picture shown
alone still says what it is.

The story is one self-contained HTML file (no network access; the pictures are inline SVG). With scripts it
is a deck (← → or the buttons step through it, large type); without them every slide is shown in order.
The page shows the same file in its presentation overlay, so what is presented is what is exported.
"""

from __future__ import annotations

from html import escape
from typing import Any

import pandas as pd
from dash import Input, Output, State, callback, dcc, html

from core import metrics
from core.network import Network
from core.scenario import Scenario, parse_scenario

from . import controls, graph, graph_frames, ids
from .graph_legend import legend_items
from .detail import highlight
from .graph_svg import graph_svg
from .state import dated, guarded, network_from_store, simulate, usd

#: Words for the channel a loss travelled by (as core.metrics.narrative writes them).
CHANNEL_WORDS = {"shock": "the scenario's shock", "market": "a price fall", "liquidation": "liquidations", "bad_debt": "bad debt",
                 "default": "a default", "run": "withdrawals", "fire_sale": "forced sales"}


#: A loss below this (USD) is rounding in the balance sheets, not a story (a calm network shows cents).
MATERIAL_USD = 1.0


def story_entity(result, entity: str | None) -> str | None:
    """The entity the story is about: the one selected, else the one with the largest loss (None when nobody lost
    as much as :data:`MATERIAL_USD`)."""
    if entity and entity in set(result.nodes["entity"].astype(str)):
        return entity
    lost = result.nodes[result.nodes["loss_usd"] >= MATERIAL_USD]
    return None if lost.empty else str(lost.sort_values(["loss_usd", "entity"], ascending=[False, True])["entity"].iloc[0])


def hops(network: Network, result, entity: str) -> pd.DataFrame:
    """The path to ``entity`` one hop a row: ``source, target, round, channel, amount_usd, time, sentence``."""
    path = metrics.contagion_path(result, entity).reset_index(drop=True)
    names = dict(zip(network.entities["id"].astype(str), network.entities["name"].astype(str)))
    times = graph_frames.round_times(max(result.n_rounds, 1), graph_frames.round_hours_of(result))

    def name(x: str) -> str:
        return "The shock" if x == "SHOCK" else names.get(x, x)

    rows = []
    for e in path.itertuples(index=False):
        r = min(max(int(e.round), 0), len(times) - 1)
        words = CHANNEL_WORDS.get(str(e.channel), str(e.channel).replace("_", " "))
        rows.append({"source": str(e.source), "target": str(e.target), "round": r, "channel": str(e.channel),
                     "amount_usd": float(e.amount_usd), "time": times[r],
                     "sentence": f"{name(str(e.source))} hits {name(str(e.target))} through {words}: {usd(float(e.amount_usd))} "
                                 f"in round {r} (t = {times[r]})."})
    return pd.DataFrame(rows, columns=["source", "target", "round", "channel", "amount_usd", "time", "sentence"])


def _legend() -> str:
    items = legend_items()
    return '<div class="legend">' + "".join(f'<span><i style="background:{c}"></i>{escape(s)}</span>' for c, s in items) + "</div>"


def _picture(network: Network, frames: dict[str, Any], entity: str, path: pd.DataFrame, round_: int, caption: str) -> str:
    hl = highlight(network, entity, path[["source", "target", "round", "channel", "amount_usd"]], frames.get("labels"))
    classes = graph_frames.round_classes(frames, round_, hl)
    els = graph.elements(network, classes, frames.get("labels")) + hl["extras"]
    return graph_svg(els, graph.stylesheet(network.n_entities), title=caption, heading=caption, legend=legend_items())


CSS = """
body { font-family: Inter, system-ui, sans-serif; margin: 0; color: #222; background: #fff; }
.slide { padding: 24px 40px; border-bottom: 1px solid #ddd; }
.deck .slide { display: none; border: 0; min-height: calc(100vh - 70px); }
.deck .slide.on { display: block; }
.where { font-size: 18px; color: #555; margin: 0 0 6px; }
.where b { color: #222; }
.say { font-size: 30px; line-height: 1.3; margin: 8px 0 14px; max-width: 1400px; }
.graph svg { width: 100%; height: auto; max-height: 62vh; }
.legend { font-size: 16px; margin: 6px 0; }
.legend span { margin-right: 18px; white-space: nowrap; }
.legend i { display: inline-block; width: 14px; height: 14px; border-radius: 7px; margin-right: 5px; vertical-align: -1px; }
nav { display: none; position: fixed; bottom: 0; left: 0; right: 0; padding: 10px 40px; background: #f3f5f7; font-size: 18px; }
.deck nav { display: flex; gap: 16px; align-items: center; }
nav button { font-size: 18px; padding: 6px 16px; }
"""

SCRIPT = """
(function () {
  var slides = document.querySelectorAll('.slide'), k = 0, at = document.getElementById('at');
  document.body.classList.add('deck');
  function show(i) { k = Math.max(0, Math.min(slides.length - 1, i));
    slides.forEach(function (s, j) { s.classList.toggle('on', j === k); });
    at.textContent = (k + 1) + ' of ' + slides.length; }
  document.getElementById('prev').onclick = function () { show(k - 1); };
  document.getElementById('next').onclick = function () { show(k + 1); };
  document.addEventListener('keydown', function (e) {
    if (e.key === 'ArrowRight' || e.key === ' ') show(k + 1); else if (e.key === 'ArrowLeft') show(k - 1); });
  show(0);
})();
"""


def story_html(network: Network, scenario: Scenario, result, entity: str | None = None) -> str:
    """The offline HTML story of how the cascade reached ``entity`` (see the module docstring)."""
    who = story_entity(result, entity)
    frames = graph_frames.frames(network, result)
    frames["labels"] = graph.labels(network, frames)
    last = max(result.n_rounds - 1, 0)
    name = controls.scenario_title(scenario)  # the name the page shows (was the raw name: "terra_may_2022")
    steps = hops(network, result, who) if who else pd.DataFrame(columns=["round"])
    slides = []

    def slide(k: int, say: str, round_: int, path: pd.DataFrame) -> str:
        when = frames["times"][round_] if round_ < len(frames["times"]) else ""
        where = f"{escape(name)} · round {round_} of {last} (t = {escape(when)} after the shock)"
        caption = f"{name}: round {round_} of {last}, t = {when}"
        pic = _picture(network, frames, who or "", path, round_, caption) if who else ""
        return (f'<section class="slide" id="slide-{k}"><p class="where"><b>{where}</b> · {escape(network.name or "network")}</p>'
                f'<p class="say">{escape(say)}</p>{_legend()}<div class="graph">{pic}</div></section>')

    for k, row in enumerate(steps.itertuples(index=False)):
        slides.append(slide(k, row.sentence, int(row.round), steps.iloc[: k + 1]))
    if who:
        end = int(steps["round"].max()) if len(steps) else last
        slides.append(slide(len(slides), metrics.narrative(result, who, network) + ".", end, steps))
    else:
        slides.append(slide(0, "Nobody lost anything in this scenario: there is no contagion path to tell.", last, pd.DataFrame()))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>sfm story: {escape(name)}</title><style>{CSS}</style></head><body>
{''.join(slides)}
<nav><button id="prev">‹ Back</button><button id="next">Next ›</button><span id="at"></span>
<span>{escape(name)}</span></nav>
<script>{SCRIPT}</script>
</body></html>
"""


def panel() -> html.Div:
    """The buttons (in the entity tab), the presentation overlay (hidden until "Present") and the story's download."""
    return html.Div([
        html.Button("Present the path", id=ids.PRESENT_BTN, className="btn btn-small btn-primary",
                    title="The contagion path of the selected entity (or the worst hit), one hop at a time, in large type"),
        html.Button("Story (HTML)", id=ids.STORY_BTN, className="btn btn-small",
                    title="The same presentation as one HTML file that opens offline"),
        html.Div([html.Button("Close ×", id=ids.PRESENT_CLOSE, className="btn btn-small present-close"),
                  html.Iframe(id=ids.PRESENT_FRAME, className="present-frame", title="Presentation of the contagion path")],
                 id=ids.PRESENT, className="present-overlay", hidden=True),
        dcc.Download(id=ids.STORY_DOWNLOAD),
    ], className="story-bar")


def _story(scenario, network_store, entity) -> tuple[str, str]:
    sc = parse_scenario(scenario or {}, file="page")
    network = dated(network_from_store(network_store), sc)
    return story_html(network, sc, simulate(network, sc), entity or None), sc.name or "scenario"


@callback(
    Output(ids.PRESENT_FRAME, "srcDoc"),
    Output(ids.PRESENT, "hidden"),
    Output(ids.MESSAGE, "children", allow_duplicate=True),
    Input(ids.PRESENT_BTN, "n_clicks"),
    State(ids.SCENARIO, "data"),
    State(ids.NETWORK, "data"),
    State(ids.SELECTED, "data"),
    prevent_initial_call=True,
)
@guarded(3, 2)
def on_present(_n, scenario, network_store, entity):
    """Presentation mode: the story of the selected entity (or the worst hit), one hop a slide, over the page."""
    text, _ = _story(scenario, network_store, entity)
    return text, False, None


@callback(Output(ids.PRESENT, "hidden", allow_duplicate=True), Input(ids.PRESENT_CLOSE, "n_clicks"), prevent_initial_call=True)
def on_close(_n):
    return True


@callback(
    Output(ids.STORY_DOWNLOAD, "data"),
    Output(ids.MESSAGE, "children", allow_duplicate=True),
    Input(ids.STORY_BTN, "n_clicks"),
    State(ids.SCENARIO, "data"),
    State(ids.NETWORK, "data"),
    State(ids.SELECTED, "data"),
    prevent_initial_call=True,
)
@guarded(2, 1)
def on_story(_n, scenario, network_store, entity):
    text, name = _story(scenario, network_store, entity)
    stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in name)
    return {"content": text, "filename": f"sfm-story-{stem}.html", "type": "text/html"}, None
