"""The controls column's building blocks: a labelled field, a slider, a collapsible section and its count.

Every panel of the column (:mod:`dashboard.controls_shocks`, :mod:`dashboard.controls_market`,
:mod:`dashboard.controls_safeguards`) is made of these; a section's heading counts the inputs the
scenario sets in it (:func:`section_counts`), and the run callback rewrites those counts.
"""

from __future__ import annotations

from typing import Any

from dash import dcc, html

from core.scenario import Scenario


def field(label: str, control: Any, hint: str = "", wrap_id: str | None = None, note: Any = None) -> html.Div:
    """A control under its label, the hint (and a note, e.g. :func:`path_note`) on the label's line (one line less
    per control)."""
    head = [label, *([html.Small(hint, className="hint")] if hint else []), *([note] if note is not None else [])]
    return html.Div([html.Label(head if len(head) > 1 else label, className="field-label"), control],
                    className="field", **({"id": wrap_id} if wrap_id else {}))


def section(title: str, children: list[Any], open_: bool = True, id_: str | None = None, count: str = "") -> html.Details:
    """A collapsible group of controls; its heading counts the inputs the scenario sets in it (``id_ + "-count"``)."""
    head = [title, html.Span(count, className="section-count", **({"id": f"{id_}-count"} if id_ else {}))]
    return html.Details([html.Summary(head, className="section-title"), *children], open=open_, className="section",
                        **({"id": id_} if id_ else {}))


#: The sections whose headings count what the scenario sets in them.
SECTIONS = ("section-prices", "section-pegs", "section-market", "section-safeguards")


def section_counts(sc: Scenario) -> dict[str, str]:
    """`` · 2 set`` per section: how many of its inputs differ from the calm default."""
    d, sg = Scenario(), sc.safeguards
    n = {
        "section-prices": len(sc.price_shocks),
        "section-pegs": len(sc.depegs),
        "section-market": sum([bool(sc.forced_defaults), sc.run_intensity != d.run_intensity, sc.liquidity != d.liquidity,
                               sc.oracle_lag != d.oracle_lag, sc.horizon != d.horizon]),
        "section-safeguards": sum([sg.circuit_breaker is not None, sg.collateral_multiplier != 1.0, sg.insurance_multiplier != 1.0,
                                   not sg.psm_governance_halt])
        + len(sg.adl_rules) + len(sg.collateral_policies),
    }
    return {k: f" · {v} set" if v else "" for k, v in n.items()}


def slider(id_: Any, lo: float, hi: float, step: float, value: float, marks: dict[float, str]) -> dcc.Slider:
    return dcc.Slider(id=id_, min=lo, max=hi, step=step, value=value, marks={k: v for k, v in marks.items()},
                      updatemode="mouseup", className="slider")

