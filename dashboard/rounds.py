"""The headline figures round by round: a table under the charts, from the same spec as the cards.

The system loss (and bad debt marked) are marked to market at each round's prices, so they can fall when prices
recover (bad debt at par, its debt tokens' units at reference prices, does not fall with the debt token); the table shows the loss beside its running peak (:func:`dashboard.headline.running_peak`), with the same
rounding and formats as the cards (:func:`dashboard.headline.headline_at`) and the values of the charts' lines.
"""

from __future__ import annotations

from typing import Any

from dash import html

from . import ids
from .headline import figure_text


#: Columns of :func:`rounds_table` after round and time: (heading, headline figure key or "peak").
ROUND_COLUMNS = (("System loss (marked)", "total_loss_usd"), ("Peak so far", "peak"), ("Defaults", "defaults"),
                 ("Liquidated", "liquidated_usd"), ("Bad debt at par", "bad_debt_reference_usd"),
                 ("Bad debt at market", "bad_debt_usd"))


def rounds_table(spec: dict[str, Any], times: list[str] | None = None) -> list[Any]:
    """The headline figures round by round, from the same spec (and the same rounding and formats) as the cards
    and the charts' lines: row ``r`` (``#round-row-r``) says what the cards say at round ``r``."""
    figs = {f["key"]: f for f in spec["figures"]}
    loss = figs["total_loss_usd"]
    cols = {**{k: (f["fmt"], f["values"]) for k, f in figs.items()}, "peak": ("usd", loss["peak"]),
            **{f["also"]["key"]: (f["fmt"], f["also"]["values"]) for f in figs.values() if f.get("also")}}
    n = spec["n"]
    rows = []
    for r in range(len(loss["values"])):
        cells = [html.Td(str(r)), html.Td(times[r] if times and r < len(times) else "")]
        cells += [html.Td(figure_text(cols[k][0], cols[k][1][r], n) if cols[k][0] == "usd" else str(int(round(cols[k][1][r]))),
                          className=f"rt-{k}") for _, k in ROUND_COLUMNS]
        rows.append(html.Tr(cells, id=f"round-row-{r}"))
    head = html.Tr([html.Th("Round"), html.Th("Time"), *[html.Th(h) for h, _ in ROUND_COLUMNS]])
    return [html.Summary(f"Round by round ({len(rows)} rounds)"),
            html.Table([html.Thead(head), html.Tbody(rows)], className="diff-table rounds-table"),
            html.Small("System loss is marked to market at each round's prices: it falls when prices recover; "
                       "the peak so far is its worst point up to that round. Bad debt at par: the debt left unpaid, each "
                       "token owed at its par (a stablecoin at its peg, any other token at its price on the snapshot "
                       "date), with what DAI's holders are left short when Maker's shutdown (End) values its "
                       "collateral above the market; Bad debt at market: the same tokens owed at the round's prices "
                       "(without that shortfall to DAI's holders).",
                       className="muted")]


def rounds_panel(content: list[Any] | None = None) -> html.Details:
    """The box the run callback fills with :func:`rounds_table` (shut until asked for)."""
    return html.Details(content or [html.Summary("Round by round")], id=ids.ROUNDS_TABLE, className="rounds-panel")

