"""The Failures and market panel: entities forced to fail (each dated to a round, :mod:`dashboard.forced_rounds`), the
withdrawal run, market liquidity, oracle lag, horizon.

Units are the analyst's: run intensity in percent of runnable CeFi funding, liquidity as a multiplier of
book depth and liquidators, oracle lag and horizon in rounds (:func:`dashboard.controls.scenario_from_controls`
maps them back to the scenario).
"""

from __future__ import annotations

from dash import dcc, html

from core.network import Network
from core.scenario import Scenario

from . import forced_rounds, ids
from .control_widgets import field, section, section_counts, slider


def entity_options(network: Network) -> list[dict[str, str]]:
    """The forced-to-fail menu's options, "Alameda Research (ALAMEDA)", each with its label as tooltip (``title``: Dash
    draws it on the option and on the chosen value)."""
    ent = network.entities.sort_values("name")
    return [{"label": forced_rounds.entity_label(i, n), "value": i, "title": forced_rounds.entity_label(i, n)}
            for i, n in zip(ent["id"], ent["name"])]


def market_section(network: Network, sc: Scenario) -> html.Details:
    """The collapsible "Failures and market" section showing ``sc`` (closed on the first page, unless ``sc`` forces a
    failure: then open, so that the forced entities and their dates are in view, as the Pegs section is for a depeg)."""
    return section("Failures and market", [
        field("Entities forced to fail", dcc.Dropdown(id=ids.DEFAULTS, options=entity_options(network), value=list(sc.forced_defaults),
                                                      multi=True, placeholder="none", className="forced-dropdown")),
        forced_rounds.panel(network, sc),
        field("Withdrawal-run intensity", slider(ids.RUN, 0, 100, 5, round(100 * sc.run_intensity), {0: "none", 50: "50%", 100: "panic"}),
              "share of runnable CeFi funding that leaves", wrap_id="wrap-run"),
        field("Market liquidity", slider(ids.LIQUIDITY, 0.1, 3, 0.1, sc.liquidity, {0.1: "×0.1", 1: "×1", 2: "×2", 3: "×3"}),
              "× book depth and liquidators", wrap_id="wrap-liquidity"),
        field("Oracle lag", slider(ids.ORACLE_LAG, 0, 10, 1, sc.oracle_lag, {0: "0", 5: "5", 10: "10 rounds"}), wrap_id="wrap-oracle"),
        field("Horizon", slider(ids.HORIZON, 1, 50, 1, sc.horizon, {1: "1", 12: "12", 25: "25", 50: "50 rounds"}), wrap_id="wrap-horizon"),
    ], bool(sc.forced_defaults), "section-market", section_counts(sc)["section-market"])
