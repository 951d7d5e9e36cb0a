"""Systemic-impact charts (the headline cards above them: :mod:`dashboard.headline`).

Figures are built as plain plotly dicts (no validation pass: a redraw costs
microseconds), with a constant ``uirevision`` so a user's zoom survives a new
run. The four time charts share the x axis "round", labelled in hours or days from the
scenario's ``round_hours``, and carry a dotted marker at the round on screen; the clientside animation moves it (``sfm.renderRound``).
With *compare* on, the run without safeguards is overlaid as dashed lines and
the headline shows the difference the safeguards make.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from dash import dcc, html

from core.network import Network

from . import ids
from .chart_svg import data_uri, figure_svg
from .graph_animation import MAX_MARKS, round_marks
from .graph_frames import round_hours_of, round_times, time_axis_title
from .graph_legend import STATUS_COLOURS
from .headline import headline_values, running_peak
from .state import usd

#: Who bears losses, as keyed in the result summary.
BEARERS = ("suppliers", "insurance_funds", "depositors", "token_holders", "creditors", "equity_holders")
OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000")
TOP_ENTITIES = 15
#: The loss chart's title: what its line is (a marked loss falls when prices recover; a cumulative one could not).
LOSS_TITLE = "System loss, marked to market"
LOSS_PEAK_COLOUR = "#8c8c8c"
_FONT = {"family": "Inter, system-ui, sans-serif", "size": 11, "color": "#222"}


def _layout(title: str, x_title: str, y_title: str, **extra: Any) -> dict[str, Any]:
    return {
        "title": {"text": title, "font": {"size": 13}, "x": 0.01, "xanchor": "left"},
        "margin": {"l": 56, "r": 16, "t": 30, "b": 70},
        "height": 270,
        "font": _FONT,
        "paper_bgcolor": "#fff", "plot_bgcolor": "#fff",
        "xaxis": {"title": {"text": x_title}, "gridcolor": "#eee", "zeroline": False},
        "yaxis": {"title": {"text": y_title}, "gridcolor": "#eee", "zeroline": False},
        "legend": {"orientation": "h", "y": -0.3, "yanchor": "top", "x": 0, "font": {"size": 10}},
        "hovermode": "x unified",
        "uirevision": "sfm",
        **extra,
    }


def round_marker(r: int) -> dict[str, Any]:
    return {"type": "line", "xref": "x", "yref": "paper", "x0": r, "x1": r, "y0": 0, "y1": 1,
            "line": {"color": "#000", "width": 1.5, "dash": "dot"}}


#: Characters of tick labels a chart's time axis holds at 1366 px (its plot is ~430 px wide at 10 px type:
#: fourteen "10 d" labels ran together as "9 d10 d11 d").
TICK_CHARACTERS = 60


def _x_axis(result) -> dict[str, Any]:
    """The time axis: rounds as x (the round marker and the animation work in rounds), labelled with the time
    since the shock from the scenario's ``round_hours`` (:func:`graph_frames.round_times`)."""
    n = max(result.n_rounds, 1)
    times = round_times(n, round_hours_of(result))
    most = max(MAX_MARKS, TICK_CHARACTERS // (max(map(len, times)) + 2))
    ticks = sorted(round_marks(n - 1, most)) if n > most else list(range(n))
    return {"title": {"text": _x_title(result), "standoff": 4, "font": {"size": 10}}, "gridcolor": "#eee", "zeroline": False,
            "tickmode": "array", "tickvals": ticks, "ticktext": [times[r] for r in ticks],
            "range": [-0.3, max(result.n_rounds - 1, 1) + 0.3]}


def _x_title(result) -> str:
    h = int(result.scenario.get("horizon", result.n_rounds)) if result.scenario else result.n_rounds
    return time_axis_title(round_hours_of(result), max(result.n_rounds, 1), h)


def _line(x, y, name: str, colour: str, dashed: bool = False, **extra: Any) -> dict[str, Any]:
    return {"type": "scatter", "mode": "lines+markers", "x": list(map(int, x)), "y": [float(v) for v in y], "name": name,
            "line": {"color": colour, "width": 2, "dash": "dash" if dashed else "solid", "shape": "hv"},
            "marker": {"size": 4}, **extra}


def _runs(result, baseline) -> list[tuple[Any, str, bool]]:
    runs = [(result, "", False)]
    if baseline is not None:
        runs = [(result, " (safeguards)", False), (baseline, " (no safeguards)", True)]
    return runs


def _floor_range(lay: dict[str, Any], values, axis: str = "yaxis", floor: float = 1e-3) -> None:
    """A range of [0, 1] when every value is below ``floor`` (no axis of pico-dollars at zero loss)."""
    vals = [abs(float(v)) for v in values if v is not None]
    if not vals or max(vals) < floor:
        lay[axis]["range"] = [0, 1]


def loss_figure(result, baseline=None, round_: int = 0) -> dict[str, Any]:
    """System loss in USD bn, marked to market, and its running peak beside it.

    The engine marks every loss at the round's prices (``CascadeResult.totals["total_loss_usd"]``), so when prices
    recover the loss falls (the October 2025 preset: $75.5bn at round 4, $51.1bn at the end); the chart says so
    and draws the worst point so far as a second line, the one a "cumulative" loss would follow. The share of the
    system's initial equity is in the hover (one axis, not two lines of the same shape on two axes). The marked line
    is each run's first trace."""
    data = []
    for res, suffix, dashed in _runs(result, baseline):
        t = res.totals
        loss = t["total_loss_usd"] / 1e9
        data.append(_line(t["round"], loss, "Marked to market" + suffix, OKABE_ITO[1], dashed,
                          customdata=[round(100 * float(v), 3) for v in t["loss_share"]],
                          hovertemplate="%{y:,.3f} bn USD (%{customdata:.2f}% of system equity)"))
        data.append(_line(t["round"], running_peak(loss), "Peak so far" + suffix, LOSS_PEAK_COLOUR, dashed,
                          hovertemplate="peak so far %{y:,.3f} bn USD", line={"color": LOSS_PEAK_COLOUR, "width": 1.5,
                                                                             "dash": "dash" if dashed else "dot", "shape": "hv"}))
    lay = _layout(LOSS_TITLE, _x_title(result), "Loss (USD bn)", shapes=[round_marker(round_)], xaxis=_x_axis(result))
    lay["yaxis"]["rangemode"] = "tozero"
    _floor_range(lay, [v for tr in data for v in tr["y"]])
    return {"data": data, "layout": lay}


def defaults_figure(result, baseline=None, round_: int = 0) -> dict[str, Any]:
    data = []
    for res, suffix, dashed in _runs(result, baseline):
        t = res.totals
        for col, colour in (("defaults", "defaulted"), ("liquidating", "liquidating"), ("distressed", "distressed")):
            if col in t:
                c = STATUS_COLOURS[colour] if colour != "distressed" else "#B8A800"
                data.append(_line(t["round"], t[col], f"{col.capitalize()}{suffix}", c, dashed))
    lay = _layout("Entities defaulted, liquidating, distressed", _x_title(result), "Entities (count)", shapes=[round_marker(round_)], xaxis=_x_axis(result))
    lay["yaxis"]["rangemode"] = "tozero"
    return {"data": data, "layout": lay}


def liquidations_figure(result, baseline=None, round_: int = 0) -> dict[str, Any]:
    """Liquidated volume (cumulative, USD bn, left axis) and bad debt (USD M, right axis: tens of millions beside
    billions of liquidations drew as a flat line at zero on one axis), at par and marked.

    Liquidations only add up; bad debt is what was booked plus loans still under water at the round's prices
    (``CascadeResult.totals``), so it can fall when prices recover: "marked", like the system loss. "At par" is the
    same shortfalls' units of their debt tokens at reference prices (``bad_debt_reference_usd``,
    :mod:`core.engine.reference_bad_debt`), which the debt token's own fall does not shrink."""
    data = []
    bad_debt = []
    for res, suffix, dashed in _runs(result, baseline):
        t = res.totals
        data.append(_line(t["round"], t["liquidated_usd"] / 1e9, "Liquidated (cumulative)" + suffix, OKABE_ITO[4], dashed,
                          hovertemplate="%{y:,.3f} bn USD"))
        if "bad_debt_reference_usd" in t:
            bad_debt.append(_line(t["round"], t["bad_debt_reference_usd"] / 1e6, "Bad debt at par" + suffix, OKABE_ITO[0], dashed,
                                  hovertemplate="%{y:,.2f} M USD at par", yaxis="y2"))
        bad_debt.append(_line(t["round"], t["bad_debt_usd"] / 1e6, "Bad debt at market" + suffix, OKABE_ITO[3], dashed,
                              hovertemplate="%{y:,.2f} M USD at market", yaxis="y2"))
    lay = _layout("Liquidated volume (cumulative) and bad debt", _x_title(result), "Liquidated (USD bn)",
                  shapes=[round_marker(round_)], xaxis=_x_axis(result))
    lay["margin"] = {**lay["margin"], "r": 44}
    lay["xaxis"]["tickangle"] = 0  # the right-hand axis narrows the plot: keep the times level, as on the other charts
    lay["yaxis"]["rangemode"] = "tozero"
    # its own ticks (not synced to the left axis' grid: 8.9, 17.7, 26.6), its title close to them
    lay["yaxis2"] = {"title": {"text": "Bad debt (USD M)", "standoff": 2}, "overlaying": "y", "side": "right",
                     "rangemode": "tozero", "tickmode": "auto", "nticks": 5, "showgrid": False, "zeroline": False}
    _floor_range(lay, [v for tr in data for v in tr["y"]])
    _floor_range(lay, [v for tr in bad_debt for v in tr["y"]], "yaxis2")
    return {"data": data + bad_debt, "layout": lay}


def shocked_assets(result, network: Network) -> list[str]:
    sc = result.scenario or {}
    named = list(dict.fromkeys([*sc.get("price_shocks", {}), *sc.get("depegs", {}), *sc.get("pool_sales_usd", {})]))
    if not named:
        p = result.prices.drop(columns=["round"], errors="ignore")
        ref = network.prices.reindex(p.columns)
        moved = (p.iloc[-1] / ref - 1).abs().sort_values(ascending=False) if len(p) else pd.Series(dtype=float)
        named = [a for a, v in moved.items() if v > 1e-6][:4]
    return [a for a in named if a in result.prices.columns][:8]


def prices_figure(result, network: Network, baseline=None, round_: int = 0) -> dict[str, Any]:
    assets = shocked_assets(result, network)
    ref = network.prices
    data = []
    for res, suffix, dashed in _runs(result, baseline):
        p = res.prices
        for k, a in enumerate(assets):
            data.append(_line(p["round"], 100 * p[a] / float(ref[a]), a + suffix, OKABE_ITO[k % len(OKABE_ITO)], dashed,
                              hovertemplate="%{y:.1f}% of reference"))
    as_of = network.dates["as_of"]  # the snapshot's date (its latest row's read 2025-11-07 on the 2025 snapshot)
    title = "Prices of the shocked assets" if assets else "Prices (no asset moved)"
    # the reference date rides in the title: a y-axis title longer than the plot's ~170 px height is clipped
    title += f" (% of the price on {as_of})" if as_of else " (% of the reference price)"
    dated = network.meta.get("parameters_as_of")
    if dated and as_of:  # a dated scenario: the snapshot's prices, another day's parameters (short: the side column)
        title = ("Prices" if assets else "Prices, no asset moved") + f" (% of the price on {as_of}; parameters of {dated})"
    lay = _layout(title, _x_title(result), "% of reference", shapes=[round_marker(round_)], xaxis=_x_axis(result))
    return {"data": data, "layout": lay}


#: Longest entity name on a bar chart's axis (the whole name is in the hover).
NAME_CHARS = 24


def _short(name: str) -> str:
    return name if len(name) <= NAME_CHARS else name[: NAME_CHARS - 1] + "…"


def entities_figure(result, baseline=None) -> dict[str, Any]:
    """The largest final losses, coloured by final status, with a key for the colours."""
    n = result.nodes.sort_values("loss_usd", ascending=False).head(TOP_ENTITIES).iloc[::-1]
    names = n["name"].astype(str).tolist()
    data = [{
        "type": "bar", "orientation": "h", "x": (n["loss_usd"] / 1e6).round(3).tolist(), "y": [_short(x) for x in names],
        "marker": {"color": [STATUS_COLOURS.get(s, "#999") for s in n["status"]], "line": {"color": "#444", "width": 0.5}},
        "customdata": list(zip(n["status"].astype(str), (100 * n["loss_share"]).round(1), names)),
        "hovertemplate": "%{customdata[2]}: %{x:,.1f}M USD (%{customdata[1]}% of equity), ends %{customdata[0]}<extra></extra>",
        "name": "equity lost", "showlegend": False,
    }]
    # the key: one empty trace per status on the chart
    data += [{"type": "bar", "orientation": "h", "x": [None], "y": [None], "name": f"ends {s}",
              "marker": {"color": STATUS_COLOURS[s], "line": {"color": "#444", "width": 0.5}}, "hoverinfo": "skip"}
             for s in STATUS_COLOURS if s in set(n["status"].astype(str))]
    if baseline is not None:
        b = baseline.nodes.set_index("entity").reindex(n["entity"])
        data.append({"type": "scatter", "mode": "markers", "x": (b["loss_usd"] / 1e6).round(3).tolist(), "y": [_short(x) for x in names],
                     "marker": {"symbol": "line-ns-open", "size": 14, "color": "#000", "line": {"width": 2}},
                     "name": "no safeguards", "hovertemplate": "no safeguards: %{x:,.1f}M USD<extra></extra>"})
    lay = _layout(f"Largest equity losses by entity (top {TOP_ENTITIES}, final round)", "Equity lost (USD M)", "", height=400,
                  hovermode="closest", showlegend=True)
    lay["margin"]["l"] = 150
    lay["yaxis"]["automargin"] = True
    lay["legend"]["y"] = -0.18
    _floor_range(lay, data[0]["x"], "xaxis")
    return {"data": data, "layout": lay}


def bearer_losses(result) -> pd.Series:
    """Final losses by who bore them (summary metric ``loss_by_bearer_usd``), in USD."""
    s = result.summary
    rows = s[s["metric"].astype(str).str.contains("bearer")]
    if rows.empty:
        rows = s[s["key"].isin(BEARERS)]
    if rows.empty:
        return pd.Series(dtype=float)
    rows = rows[rows["metric"] == rows["metric"].iloc[0]]
    out = pd.Series(rows["value"].to_numpy(dtype=float), index=rows["key"].astype(str).to_numpy())
    return out.reindex([*[b for b in BEARERS if b in out.index], *[k for k in out.index if k not in BEARERS]])


def bearers_figure(result, baseline=None) -> dict[str, Any]:
    data = []
    for res, suffix, dashed in _runs(result, baseline):
        b = bearer_losses(res)
        data.append({"type": "bar", "x": [k.replace("_", " ") for k in b.index], "y": (b / 1e9).round(4).tolist(),
                     "name": ("with safeguards" if suffix == " (safeguards)" else "no safeguards") if baseline is not None else "loss",
                     "marker": {"color": OKABE_ITO[0] if not dashed else "#bbb", "line": {"color": "#444", "width": 0.5}},
                     "hovertemplate": "%{x}: %{y:,.3f} bn USD<extra></extra>"})
    lay = _layout("Who bore the losses (final round)", "", "Loss (USD bn)", hovermode="closest", showlegend=baseline is not None,
                  barmode="group")
    lay["xaxis"]["automargin"] = True
    lay["yaxis"]["rangemode"] = "tozero"
    _floor_range(lay, [v for tr in data for v in tr["y"]])
    return {"data": data, "layout": lay}


def safeguard_notes(scenario, result, baseline) -> list[str]:
    """One line on each safeguard result that looks paradoxical: why a safeguard made a figure worse.

    * a stricter collateral requirement divides liquidation thresholds, so positions that were safe are
      liquidatable from round 0: more collateral is sold, which can also push prices down further;
    * a circuit breaker halts liquidations while prices fall: positions are closed later, at lower
      prices, so bad debt can be larger when it lifts;
    * caps on the liquidation bonus or close factor slow liquidations the same way.
    """
    if baseline is None or scenario is None:
        return []
    v, b = headline_values(result), headline_values(baseline)
    sg = scenario.safeguards
    out = []
    if v["liquidated_usd"] > b["liquidated_usd"] * 1.001 + 1 and sg.collateral_multiplier > 1:
        out.append(f"Liquidations rise ({usd(b['liquidated_usd'])} → {usd(v['liquidated_usd'])}) because a collateral requirement "
                   f"of ×{sg.collateral_multiplier:g} lowers every liquidation threshold: positions that were safe are liquidated "
                   "at once, before losses grow.")
    slow = [name for name, on in (("the circuit breaker", sg.circuit_breaker is not None), ("the cap on the liquidation bonus", sg.max_liquidation_bonus is not None),
                                  ("the cap on the close factor", sg.max_close_factor is not None)) if on]
    if v["bad_debt_usd"] > b["bad_debt_usd"] * 1.001 + 1 and slow:
        out.append(f"Bad debt rises ({usd(b['bad_debt_usd'])} → {usd(v['bad_debt_usd'])}) because {' and '.join(slow)} "
                   "slow liquidations while prices fall: positions are closed later, at lower prices.")
    if v["total_loss_usd"] > b["total_loss_usd"] * 1.001 + 1 and not out:
        why = (f"{' and '.join(slow)} slow liquidations while prices fall: positions are closed later, at lower prices, and the "
               "loss lands elsewhere") if slow else "the safeguards move the loss to another channel"
        out.append(f"System loss rises ({usd(b['total_loss_usd'])} → {usd(v['total_loss_usd'])}) because {why}.")
    return out


def figures(result, network: Network, baseline=None, round_: int = 0) -> dict[str, dict[str, Any]]:
    """Every chart, keyed by its component id."""
    return {
        ids.CHART_LOSS: loss_figure(result, baseline, round_),
        ids.CHART_DEFAULTS: defaults_figure(result, baseline, round_),
        ids.CHART_LIQ: liquidations_figure(result, baseline, round_),
        ids.CHART_PRICES: prices_figure(result, network, baseline, round_),
        ids.CHART_ENTITIES: entities_figure(result, baseline),
        ids.CHART_BEARERS: bearers_figure(result, baseline),
    }


def panel(figs: dict[str, dict[str, Any]] | None = None) -> html.Div:
    """The six charts; ``figs`` (from :func:`figures`) draws a run at once, without a callback.

    With ``figs``, each chart also carries a static picture of itself (:mod:`dashboard.chart_svg`),
    shown until plotly.js, which loads after the rest of the page, has drawn the live chart.
    """
    cfg = {"displaylogo": False, "toImageButtonOptions": {"format": "svg"}, "responsive": True}
    empty = {"data": [], "layout": {"height": 250, "uirevision": "sfm"}}
    figs = figs or {}
    charts = []
    for c in (ids.CHART_LOSS, ids.CHART_DEFAULTS, ids.CHART_LIQ, ids.CHART_PRICES, ids.CHART_ENTITIES, ids.CHART_BEARERS):
        box = [dcc.Graph(id=c, figure=figs.get(c, empty), config=cfg, className="chart")]
        if c in figs:  # the first page: a picture of the chart until plotly.js has drawn it (assets/sfm.css swaps them)
            fig = figs[c]
            box.append(html.Img(src=data_uri(figure_svg(fig)), className="chart-static", alt="",
                                style={"height": f"{fig['layout'].get('height', 270)}px"}))
        charts.append(html.Div(box, className="chart-box"))
    return html.Div(charts, className="charts-panel")
