"""The controls column: the panels that make a :class:`core.scenario.Scenario`, and the mapping both ways.

Units on the page are the analyst's: price shocks and depegs in percent, run
intensity in percent, liquidity and collateral as multipliers, durations in
rounds. :func:`scenario_from_controls` and :func:`controls_from_scenario` are
the two directions of that mapping; the first validates through
:func:`core.scenario.parse_scenario`, so a bad value becomes a message, never a
traceback.

One module per panel of the column, top to bottom:

* :mod:`dashboard.controls_scenario`: the scenario on screen, its changes and its other inputs;
* :mod:`dashboard.controls_shocks`: price shocks and pegs;
* :mod:`dashboard.controls_market`: failures and market;
* :mod:`dashboard.controls_safeguards`: safeguards, with each perpetuals venue's ADL-rule and
  collateral-policy dropdowns (:mod:`dashboard.venues`; ``safeguards.adl_rules`` and
  ``safeguards.collateral_policies``);

their building blocks are in :mod:`dashboard.control_widgets`. This module puts them together
(:func:`panel`) and keeps the names the rest of the dashboard reads from it.

Scenario fields with no control of their own (name, description, pool sales,
per-entity insurance funds, caps on liquidation bonus and close factor) ride in
the *extras* store (:func:`extras_of`), so a preset loaded and saved again loses nothing;
so do the loaded scenario's shocks, venue overrides and dated failures, for the assets,
venues and entities that have no control of their own on screen (yet).
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from dash import dcc, html

from core.network import Network
from core.scenario import Safeguards, Scenario, parse_scenario

from . import forced_rounds, ids, venues
from .control_widgets import SECTIONS, section, section_counts
from .controls_market import entity_options, market_section
from .controls_safeguards import safeguards_section
from .controls_scenario import changes, label_changes, other_inputs, pretty_name, scenario_info, scenario_title
from .controls_shocks import DEPEG_MAX, MAJOR_ASSETS, PRICE_MAX, PRICE_MIN, SHOWN_PRICES, peg_assets, price_assets, shock_sliders

#: What the rest of the dashboard reads from here (the panels' names included, so ``controls.X`` stays the one place).
__all__ = ["CONTROLLED_FIELDS", "CONTROLLED_SAFEGUARDS", "DEPEG_MAX", "EXTRA_FIELDS", "EXTRA_SAFEGUARDS", "MAJOR_ASSETS",
           "PRICE_MAX", "PRICE_MIN", "SECTIONS", "SHOWN_PRICES", "changes", "controls_from_scenario", "entity_options",
           "extras_of", "label_changes", "other_inputs", "panel", "peg_assets", "pretty_name", "price_assets",
           "scenario_from_controls", "scenario_info", "scenario_title", "section", "section_counts", "shock_sliders"]

#: Scenario fields the controls set; every other field rides in the extras store untouched.
CONTROLLED_FIELDS = ("price_shocks", "depegs", "forced_defaults", "forced_default_rounds", "run_intensity", "liquidity", "oracle_lag", "horizon", "safeguards")
CONTROLLED_SAFEGUARDS = ("circuit_breaker", "collateral_multiplier", "insurance_multiplier", "adl_rules", "collateral_policies")
EXTRA_FIELDS = tuple(f for f in Scenario.model_fields if f not in CONTROLLED_FIELDS)
EXTRA_SAFEGUARDS = tuple(f for f in Safeguards.model_fields if f not in CONTROLLED_SAFEGUARDS)


def panel(network: Network, scenario: Scenario | None = None, compare: bool = False) -> html.Div:
    """The whole column showing ``scenario`` (the calm default without one): the panels top to bottom, the compare
    switch and "Reset all"."""
    sc = scenario or Scenario()
    return html.Div(
        [
            html.Div(scenario_info(sc, network), id=ids.SCENARIO_INFO, className="scenario-info"),
            html.Div(shock_sliders(network, sc), id=ids.SHOCK_SLIDERS),
            market_section(network, sc),
            safeguards_section(network, sc),
            dcc.Checklist(id=ids.COMPARE, options=[{"label": " Compare with and without safeguards", "value": "on"}],
                          value=["on"] if compare else [],
                          className="check compare"),
            html.Button("Reset all", id=ids.RESET, className="btn btn-small"),
        ],
        className="controls-panel",
    )


# -- the mapping ------------------------------------------------------------------

def _pattern_values(values: Iterable[Any], pattern_ids: Iterable[dict[str, str]]) -> dict[str, float]:
    return {i["asset"]: float(v) for v, i in zip(values, pattern_ids) if v not in (None, 0, 0.0)}


def scenario_from_controls(
    price_values: list[Any], price_ids: list[dict[str, str]],
    depeg_values: list[Any], depeg_ids: list[dict[str, str]],
    forced: list[str] | None, run: Any, liquidity: Any, oracle_lag: Any, horizon: Any,
    cb_on: list[str] | None, cb_threshold: Any, cb_rounds: Any, collateral: Any, insurance: Any,
    extras: dict[str, Any] | None = None,
    adl_values: list[Any] | None = None, adl_ids: list[dict[str, str]] | None = None,
    policy_values: list[Any] | None = None, policy_ids: list[dict[str, str]] | None = None,
    psm_halt: list[str] | None = None,
    round_values: list[Any] | None = None, round_ids: list[dict[str, str]] | None = None,
    names: Mapping[str, str] | None = None,
) -> Scenario:
    """Build and validate the scenario the controls describe (percent → fractions); the per-venue dropdowns
    (``adl_*``, ``policy_*``: values and pattern ids, :mod:`dashboard.venues`) give the venues' overrides; the
    checkbox ``psm_halt`` sets ``safeguards.psm_governance_halt`` (None: the loaded scenario's value, in ``extras``);
    the boxes ``round_*`` (values and pattern ids, :mod:`dashboard.forced_rounds`) date the forced failures (a forced
    entity without a box keeps the loaded scenario's date; a bad round is a validation error naming the entity, by its
    name in ``names`` (id -> name) as its box does)."""
    extras = extras or {}
    # shocks on assets with no slider of their own (e.g. a preset's price shock on a pegged token) are kept
    shown_p = {i["asset"] for i in price_ids}
    shown_d = {i["asset"] for i in depeg_ids}
    prices = {k: v for k, v in (extras.get("price_shocks") or {}).items() if k not in shown_p}
    depegs = {k: v for k, v in (extras.get("depegs") or {}).items() if k not in shown_d}
    prices.update({k: max(v / 100.0, -0.999) for k, v in _pattern_values(price_values, price_ids).items()})
    depegs.update({k: min(v / 100.0, DEPEG_MAX / 100.0) for k, v in _pattern_values(depeg_values, depeg_ids).items()})
    # the same for venue overrides: those of venues without a dropdown (no positions) are kept
    shown_v = {i["venue"] for i in [*(adl_ids or []), *(policy_ids or [])]}
    adl = {k: v for k, v in (extras.get("adl_rules") or {}).items() if k not in shown_v}
    policies = {k: v for k, v in (extras.get("collateral_policies") or {}).items() if k not in shown_v}
    adl.update(venues.overrides(adl_values, adl_ids))
    policies.update(venues.overrides(policy_values, policy_ids))
    doc: dict[str, Any] = {k: extras[k] for k in EXTRA_FIELDS if k in extras}
    # an asset moved by a path (no control of its own) whose slider is set: the slider's shock replaces the path
    # (an asset may not have both, core.scenario)
    if doc.get("price_paths"):
        doc["price_paths"] = {k: v for k, v in doc["price_paths"].items() if k not in prices and k not in depegs}
    # an entity taken off the forced list takes its dated failure with it
    dates = forced_rounds.dates(round_values, round_ids, list(forced or []), extras.get("forced_default_rounds"), horizon, names)
    doc.update(
        price_shocks=prices, depegs=depegs, forced_defaults=list(forced or []), forced_default_rounds=dates,
        run_intensity=_num(run, 0) / 100.0, liquidity=_num(liquidity, 1.0), oracle_lag=int(_num(oracle_lag, 0)),
        horizon=int(_num(horizon, 12)),
        safeguards={
            "circuit_breaker": {"threshold": _num(cb_threshold, 20) / 100.0, "rounds": int(_num(cb_rounds, 2))} if cb_on else None,
            "collateral_multiplier": _num(collateral, 1.0), "insurance_multiplier": _num(insurance, 1.0),
            "adl_rules": adl, "collateral_policies": policies,
            **{k: extras[k] for k in EXTRA_SAFEGUARDS if extras.get(k) is not None},
            **({} if psm_halt is None else {"psm_governance_halt": "on" in psm_halt}),
        },
    )
    return parse_scenario(doc, file="controls")


def controls_from_scenario(sc: Scenario, price_ids: list[dict[str, str]], depeg_ids: list[dict[str, str]],
                           adl_ids: list[dict[str, str]] | None = None, policy_ids: list[dict[str, str]] | None = None,
                           network: Network | None = None, round_ids: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """Control values showing a scenario, keyed by component id (pattern controls as lists; the venues' dropdowns,
    ``adl_ids`` and ``policy_ids``, need the ``network`` for each venue's own setting; ``round_ids``: the boxes
    dating the forced failures on the page, :mod:`dashboard.forced_rounds`)."""
    sg = sc.safeguards
    cb = sg.circuit_breaker
    return {
        ids.PRICE: [round(100 * sc.price_shocks.get(i["asset"], 0.0)) for i in price_ids],
        ids.DEPEG: [round(100 * sc.depegs.get(i["asset"], 0.0)) for i in depeg_ids],
        ids.DEFAULTS: list(sc.forced_defaults),
        ids.DEFAULT_ROUND: forced_rounds.values(sc.forced_default_rounds, round_ids),
        ids.RUN: round(100 * sc.run_intensity),
        ids.LIQUIDITY: sc.liquidity,
        ids.ORACLE_LAG: sc.oracle_lag,
        ids.HORIZON: sc.horizon,
        ids.CB_ON: ["on"] if cb else [],
        ids.CB_THRESHOLD: round(100 * cb.threshold) if cb else 20,
        ids.CB_ROUNDS: cb.rounds if cb else 2,
        ids.COLLATERAL: sg.collateral_multiplier,
        ids.INSURANCE: sg.insurance_multiplier,
        ids.PSM_HALT: ["on"] if sg.psm_governance_halt else [],
        ids.ADL_RULE: venues.values(sg.adl_rules, adl_ids, network, "adl_rule") if network is not None else [],
        ids.COLLATERAL_POLICY: venues.values(sg.collateral_policies, policy_ids, network, "collateral_policy") if network is not None else [],
    }


def extras_of(sc: Scenario) -> dict[str, Any]:
    """The scenario fields no control shows, and the whole scenario as loaded (``origin``)."""
    doc = sc.model_dump(mode="json")
    out: dict[str, Any] = {k: doc[k] for k in EXTRA_FIELDS}
    out.update(price_shocks=doc["price_shocks"], depegs=doc["depegs"], adl_rules=doc["safeguards"]["adl_rules"],
               collateral_policies=doc["safeguards"]["collateral_policies"], forced_default_rounds=doc["forced_default_rounds"])
    out.update({k: doc["safeguards"][k] for k in EXTRA_SAFEGUARDS})
    out["origin"] = doc
    return out


def _num(x: Any, default: float) -> float:
    try:
        return default if x is None or x == "" else float(x)
    except (TypeError, ValueError):
        return default
