"""The Safeguards panel: circuit breaker, collateral requirement, insurance funds, governance's PSM halt, and each perpetuals venue's
ADL rule and collateral pricing (:mod:`dashboard.venues`).

They set ``safeguards`` of the scenario; "Compare with and without safeguards" runs the same shock
without them (:meth:`core.scenario.Scenario.without_safeguards`).
"""

from __future__ import annotations

from dash import dcc, html

from core.network import Network
from core.scenario import Scenario

from . import ids, venues
from .control_widgets import field, section, section_counts, slider


def safeguards_section(network: Network, sc: Scenario) -> html.Details:
    """The collapsible "Safeguards" section showing ``sc`` (open on the first page)."""
    sg = sc.safeguards
    cb = sg.circuit_breaker
    return section("Safeguards", [
        dcc.Checklist(id=ids.CB_ON, options=[{"label": " Circuit breaker", "value": "on"}], value=["on"] if cb else [], className="check"),
        field("Breaker trips at a price fall of", slider(ids.CB_THRESHOLD, 5, 50, 1, round(100 * (cb.threshold if cb else 0.2)),
                                                         {5: "5%", 20: "20%", 50: "50%"}), "in one round", wrap_id="wrap-cb-threshold"),
        field("Breaker halts liquidations for", slider(ids.CB_ROUNDS, 1, 10, 1, cb.rounds if cb else 2, {1: "1", 5: "5", 10: "10 rounds"}),
              wrap_id="wrap-cb-rounds"),
        field("Collateral requirement", slider(ids.COLLATERAL, 1, 3, 0.05, sg.collateral_multiplier, {1: "×1", 2: "×2", 3: "×3"}),
              "thresholds ÷ this", wrap_id="wrap-collateral"),
        field("Insurance funds", slider(ids.INSURANCE, 0, 10, 0.5, sg.insurance_multiplier, {0: "none", 1: "×1", 5: "×5", 10: "×10"}),
              "× each fund", wrap_id="wrap-insurance"),
        dcc.Checklist(id=ids.PSM_HALT, options=[{"label": " Governance halts PSMs against an impaired backing", "value": "on"}],
                      value=["on"] if sg.psm_governance_halt else [], className="check"),
        html.Div(venues.controls(network, sc), id=ids.VENUE_RULES),
    ], True, "section-safeguards", section_counts(sc)["section-safeguards"])
