"""The animation bar under the graph: previous / play / next, the speed, the round slider and its label.

The round is owned in the browser while a cascade plays: the clientside callback ``sfm.animate`` (``assets/sfm.js``)
advances the slider on the interval's ticks and on the buttons, and ``sfm.renderRound`` (:mod:`dashboard.graph`) draws
the round the slider shows, so playing never calls the server.
"""

from __future__ import annotations

from typing import Any

from dash import ClientsideFunction, Input, Output, State, clientside_callback, dcc, html

from . import graph_frames, ids
from .graph_frames import page_config
from .graph_legend import legend_items

#: At most this many round marks under the slider (more collide at 1366 px: "91011").
MAX_MARKS = 6


def round_marks(last: int, most: int = MAX_MARKS) -> dict[int, str]:
    """Marks at 0, the last round and a few round steps between (1, 2, 5, 10, 20 ... rounds apart), at most about
    ``most`` of them."""
    steps = [k * 10 ** e for e in range(0, 4) for k in (1, 2, 5)]
    step = next((s for s in steps if last / s <= most - 1), steps[-1])
    marks = {r: str(r) for r in range(0, last + 1, step)}
    if last - max(marks) <= step / 2 and max(marks) != last and max(marks) > 0:
        marks.pop(max(marks))
    marks[last] = str(last)
    return marks


def play_label(face: str = "play") -> list[Any]:
    """The Play button's children for ``face`` ("play" or "pause", :data:`~dashboard.graph_frames.PLAY_FACES`): a CSS
    icon hidden from screen readers, and the word, which is the button's accessible name."""
    icon, text = graph_frames.PLAY_FACES[face]
    return [html.Span(className=icon, **{"aria-hidden": "true"}), text]


def animation_bar(round_: int = 0, last: int = 1, label: str = "Round 0") -> html.Div:
    return html.Div(
        [
            html.Button("‹ Prev", id=ids.STEP_BACK, title="Previous round", className="btn btn-icon", **{"aria-label": "previous round"}),
            html.Button(play_label(), id=ids.PLAY, title="Play / pause the cascade", className="btn btn-primary btn-play"),
            html.Button("Next ›", id=ids.STEP_FWD, title="Next round", className="btn btn-icon", **{"aria-label": "next round"}),
            dcc.Dropdown(
                id=ids.SPEED, clearable=False, searchable=False, value=700, className="speed",
                options=[{"label": f"{v}", "value": ms} for v, ms in (("0.5×", 1400), ("1×", 700), ("2×", 350), ("4×", 175))],
            ),
            html.Div(dcc.Slider(id=ids.ROUND, min=0, max=last, step=1, value=round_, marks=round_marks(last),
                                allow_direct_input=False, tooltip={"placement": "top"}), className="round-slider"),
            html.Span(label, id=ids.ROUND_LABEL, className="round-label"),
            dcc.Interval(id=ids.TICK, interval=700, disabled=True),
            dcc.Store(id=ids.PAGE_CONFIG, data={**page_config(), "legend": legend_items()}),
        ],
        className="animation-bar",
    )



# Play / pause, step, and the interval's ticks: one callback owns the round while animating.
clientside_callback(
    ClientsideFunction("sfm", "animate"),
    Output(ids.ROUND, "value", allow_duplicate=True),
    Output(ids.TICK, "disabled"),
    Output(ids.PLAY, "children"),
    Input(ids.PLAY, "n_clicks"),
    Input(ids.STEP_BACK, "n_clicks"),
    Input(ids.STEP_FWD, "n_clicks"),
    Input(ids.TICK, "n_intervals"),
    State(ids.TICK, "disabled"),
    State(ids.ROUND, "value"),
    State(ids.ROUND, "max"),
    State(ids.PAGE_CONFIG, "data"),
    prevent_initial_call=True,
)

clientside_callback(
    ClientsideFunction("sfm", "speed"),
    Output(ids.TICK, "interval"),
    Input(ids.SPEED, "value"),
)
