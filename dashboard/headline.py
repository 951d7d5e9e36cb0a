"""The headline cards: the run's system loss, defaults, liquidations and bad debt at the round on screen.

The headline follows the round on screen. The server sends one *spec* per run (per-round values of each figure, in
the frames store); :func:`headline_at` draws it for a round on the first page and ``sfm.headlineAt``
(assets/sfm.js) draws the same spec in the browser as the round moves, with the same text (a node test compares
the two). The final figure stands beside, labelled final. The system loss and the bad debt are marked to the round's
prices (``CascadeResult.totals``: the bad debt is what was booked plus the loans still under water at the round's
prices), so they can fall as prices recover: their running peak (:func:`running_peak`, also the loss chart's second line) says where they
stood at their worst.

The bad-debt card shows bad debt at reference prices (``totals.bad_debt_reference_usd``: each shortfall's units of
its debt token at the token's reference price, a stablecoin at its peg, any other token at its snapshot price;
:mod:`core.engine.reference_bad_debt`; Maker's with what End, caged at a tag above the market, leaves DAI's holders
short, decision 23), labelled "at par" (:data:`MARKED_NOTES`), and the same shortfalls marked
at the round's prices on a line beneath, "at market" (:data:`COMPANIONS`): a lender short UST while UST falls sees the marked
figure shrink though it is owed as many UST as before, so the marked figure alone read as losses falling. The
chart's "Bad debt at par" and "Bad debt at market" lines are the same two series.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from dash import html

from core.network import Network

from .state import pct, usd


def running_peak(values) -> list[float]:
    """The largest value so far at each round (``max(v[0..r])``): where a marked-to-market loss stood at its worst."""
    return [float(v) for v in np.maximum.accumulate(np.asarray(values, dtype=float))] if len(values) else []


#: (key in result.totals, label, format) of each headline figure, in order.
HEADLINE_FIGURES = (("total_loss_usd", "System loss", "usd"), ("defaults", "Defaults", "count"),
                    ("liquidated_usd", "Liquidated", "usd"), ("bad_debt_reference_usd", "Bad debt", "usd"))

#: The figures that can fall as prices move (marked to the round's prices, or a shortfall at reference prices that
#: shrinks as collateral recovers): each card draws its running peak (:func:`peak_line`).
MARKED = ("total_loss_usd", "bad_debt_reference_usd")

#: What a card says of its figure beside the label, when it is not the system loss (whose share of equity changes
#: with the round): the same text in the browser (``sfm.headlineAt`` reads it from the spec).
MARKED_NOTES = {"bad_debt_reference_usd": " · at par"}

#: A second measure of a card's figure, on a line of its own under the value: (key in result.totals, words after it).
#: "at market" beside the label's "at par" (was "marked": "$16.2M marked" under "$166.1M", Terra May 2022, read as
#: two figures of one thing); the chart's "Bad debt at market" line is the same series.
COMPANIONS = {"bad_debt_reference_usd": ("bad_debt_usd", "at market")}

#: The card's hover text, saying what its figures are: one line per figure, in the card's words
#: (:mod:`core.engine.reference_bad_debt`: the same units of the debt token owed, valued two ways).
CARD_TITLES = {"bad_debt_reference_usd": "At par: the debt left unpaid, each token owed at its par (a stablecoin at its peg, "
                                         "any other token at its price on the snapshot date), with what DAI's holders are "
                                         "left short when Maker's shutdown (End) values its collateral above the market.\n"
                                         "At market: the same tokens owed at this round's market prices, less where the "
                                         "token owed has itself fallen (without that shortfall to DAI's holders)."}


def headline_values(result, round_: int | None = None) -> dict[str, float]:
    """Headline figures at ``round_`` (default: the final round)."""
    t = result.totals
    if not len(t):
        return {k: 0.0 for k in ("total_loss_usd", "loss_share", "defaults", "liquidated_usd", "bad_debt_usd",
                                 "bad_debt_reference_usd")} | {"rounds": 0.0}
    row = t.iloc[-1] if round_ is None else t.iloc[max(0, min(int(round_), len(t) - 1))]
    return {
        "total_loss_usd": float(row.get("total_loss_usd", 0.0)),
        "loss_share": float(row.get("loss_share", 0.0)),
        "defaults": float(row.get("defaults", 0.0)),
        "liquidated_usd": float(row.get("liquidated_usd", 0.0)),
        "bad_debt_usd": float(row.get("bad_debt_usd", 0.0)),
        "bad_debt_reference_usd": float(row.get("bad_debt_reference_usd", 0.0)),
        "rounds": float(result.n_rounds),
    }


def _series(result, key: str) -> list[float]:
    t = result.totals
    return [round(float(v), 2) for v in t[key]] if key in t else [0.0] * max(len(t), 1)


def headline_spec(result, network: Network, baseline=None, note: str = "") -> dict[str, Any]:
    """Per-round values of the headline figures (and of the run without safeguards), for :func:`headline_at`.

    The figures of :data:`MARKED` are marked to the round's prices, so they can fall; their running peak (``peak``)
    and the round that set it (``peak_round``) ride with them, from the same rounded values the card shows, for the
    card's "peak" line; ``sub`` is the text beside a card's label (:data:`MARKED_NOTES`), ``also`` a second measure
    of the figure drawn under it (:data:`COMPANIONS`), ``title`` the card's hover text (:data:`CARD_TITLES`)."""
    figures = []
    for k, label, fmt in HEADLINE_FIGURES:
        f: dict[str, Any] = {"key": k, "label": label, "fmt": fmt, "values": _series(result, k),
                             "base": _series(baseline, k) if baseline is not None else None}
        if k in MARKED_NOTES:
            f["sub"] = MARKED_NOTES[k]
        if k in COMPANIONS:
            key, word = COMPANIONS[k]
            f["also"] = {"key": key, "word": word, "values": _series(result, key)}
        if k in CARD_TITLES:
            f["title"] = CARD_TITLES[k]
        if k in MARKED:
            peak = running_peak(f["values"])
            f["peak"] = peak
            f["peak_round"] = [int(np.argmax(np.asarray(f["values"][: r + 1]) >= p)) for r, p in enumerate(peak)]
        figures.append(f)
    return {
        "n": int(network.n_entities),
        "note": note,
        "share": [round(float(v), 6) for v in result.totals["loss_share"]] if len(result.totals) else [0.0],
        "figures": figures,
    }


def peak_line(f: dict[str, Any], r: int) -> str:
    """``peak $75.5bn at round 4``: the figure's worst point so far, when the figure at round ``r`` is below it
    (a marked loss that prices have since eased); '' otherwise."""
    if "peak" not in f or f["peak"][r] <= f["values"][r]:
        return ""
    return f"peak {usd(f['peak'][r])} at round {f['peak_round'][r]}"


def figure_text(fmt: str, x: float, n: int) -> str:
    """A headline figure as the cards write it: ``4 of 70`` for a count, ``$51.1bn`` for USD."""
    return f"{int(round(x))} of {n}" if fmt == "count" else usd(x)


def _delta(fmt: str, x: float) -> str:
    return f"{int(round(x))}" if fmt == "count" else usd(x)


def _at(values: list[float], r: int) -> float:
    return values[max(0, min(r, len(values) - 1))]


def headline_at(spec: dict[str, Any], round_: int) -> list[Any]:
    """The headline cards at ``round_``: the figure at that round, the final one beside it (``sfm.headlineAt``)."""
    out: list[Any] = []
    n = spec["n"]
    for f in spec["figures"]:
        vals = f["values"]
        last = len(vals) - 1
        r = max(0, min(int(round_ or 0), last))
        v = vals[r]
        sub = f" · marked, {pct(_at(spec['share'], r))} of equity" if f["key"] == "total_loss_usd" else f.get("sub", "")
        when = f"final, round {last}" if r == last else f"at round {r} · final {figure_text(f['fmt'], vals[last], n)}"
        body = [html.Div([f["label"], html.Span(sub, className="kpi-sub")], className="kpi-label"),
                html.Div(figure_text(f["fmt"], v, n), className="kpi-value", id=f"kpi-{f['key']}")]
        if f.get("also"):
            also = f["also"]
            body.append(html.Div(f"{figure_text(f['fmt'], _at(also['values'], r), n)} {also['word']}", className="kpi-also",
                                 id=f"kpi-{also['key']}"))
        body.append(html.Div(when, className="kpi-when"))
        peak = peak_line(f, r)
        if peak:
            body.append(html.Div(peak, className="kpi-peak"))
        if f["base"] is not None:
            b = _at(f["base"], r)
            d = v - b
            cls = "better" if d < 0 else "worse" if d > 0 else "same"
            body.append(html.Div(f"{'−' if d < 0 else '+'}{_delta(f['fmt'], abs(d))} vs no safeguards ({_delta(f['fmt'], b)})",
                                 className="kpi-delta " + cls))
        out.append(html.Div(body, className="kpi", title=f["title"]) if f.get("title") else html.Div(body, className="kpi"))
    if spec.get("note"):
        out.append(html.Div(spec["note"], className="kpi-foot"))
    return out


def headline(result, network: Network, baseline=None, round_: int | None = None) -> list[Any]:
    """The headline cards of a run at ``round_`` (default: the final round)."""
    spec = headline_spec(result, network, baseline)
    return headline_at(spec, result.n_rounds - 1 if round_ is None else round_)
