"""Perpetuals venues on the page: their ADL rule and collateral policy as safeguards, and what the run did on each.

Issue 13, item 5: a scenario may replace a venue's rule for the loss its liquidations leave
(``safeguards.adl_rules``: ``adl``, ``socialised``, or ``backstop_vault`` for a venue with a vault)
and the price at which it marks collateral tokens (``safeguards.collateral_policies``:
``order_book``, ``index``, ``redemption_value``); :mod:`core.positions` reads them
(:func:`core.positions.venue_rules`) and the perpetuals step of the engine runs them. Because
they are safeguards, "Compare with and without safeguards" runs the same shock under the venues'
own rules (:meth:`core.scenario.Scenario.without_safeguards`).

This module is the page's side of that and holds no model logic:

* :func:`controls`: for each perpetuals venue that holds positions an ADL-rule dropdown and a
  collateral-policy dropdown (two collapsible groups), each showing the venue's own setting as
  "venue rule (X)" (the value :data:`OWN`: no override). ``backstop_vault`` is offered only where the venue has a
  vault. A group opens whenever one of its venues is set away from its own setting, however it was set (a link,
  a preset, a file, the dropdown itself: :func:`open_groups`), so that what the run does is in view. A network without positions shows nothing (its venues settle nothing, so their rules
  change nothing); an override a scenario sets for a venue without a dropdown rides along
  unchanged (:func:`dashboard.controls.scenario_from_controls`) and is listed among its other inputs.
* :func:`overrides` and :func:`values`: the two directions between the dropdowns and the
  scenario's ``adl_rules`` / ``collateral_policies``. An override equal to the venue's own
  setting shows as "venue rule" (the run is the same).
* :func:`table`: per venue, the run's totals of the perpetuals waterfall
  (``CascadeResult.summary_dict()["perps"]``: liquidated, deficit, and what covered it), with the
  run without safeguards beside each figure in compare mode.
"""

from __future__ import annotations

import functools
from typing import Any, Mapping

import pandas as pd
from dash import ALL, Input, Output, State, callback, dcc, html, no_update

from core.frozen import freeze
from core.network import Network
from core.positions import venue_rules
from core.scenario import Scenario
from core.schema import ADL_RULES, COLLATERAL_POLICIES

from . import ids
from .state import usd

#: The dropdown value meaning "the venue's own setting" (no override in the scenario).
OWN = "venue"

#: How each setting reads on the page (short: a dropdown in the controls column is ~170 px wide); :data:`MEANING` says what
#: each one is, above the dropdowns.
RULE_LABELS = {"adl": "ADL", "socialised": "socialised", "backstop_vault": "vault"}
POLICY_LABELS = {"order_book": "order book", "index": "index", "redemption_value": "redemption value"}
MEANING = {
    ids.ADL_RULE: "What covers a deficit the insurance fund cannot. ADL: opposite positions are closed at the bankruptcy price, "
                  "ranked by PnL × leverage (losers last), giving up their profit first, then their margin; socialised: a haircut on every profit; vault: the venue's backstop vault "
                  "(Hyperliquid's HLP) takes liquidations first, then ADL. Compare mode runs the same shock under each venue's own rule.",
    ids.COLLATERAL_POLICY: "The price at which a venue marks collateral tokens: its own order book (where wBETH and USDe "
                           "fell on Binance alone in October 2025), the index (market) price, or the token's redemption value.",
}

#: Columns of :func:`table`: (column of the perps results, heading, what it is).
TABLE_COLUMNS = (("liquidated_usd", "Liquidated", "notional closed by liquidations"),
                 ("deficit_usd", "Deficit", "loss of liquidated accounts beyond their margin"),
                 ("backstop_usd", "Vault", "paid by the backstop vault (its depositors)"),
                 ("insurance_draw_usd", "Insurance", "drawn from the insurance fund"),
                 ("adl_usd", "ADL", "taken from opposite positions by auto-deleveraging (profit, then margin)"),
                 ("socialised_usd", "Social.", "socialised: a haircut on every profit"),
                 ("uncovered_usd", "Uncov.", "uncovered: the venue's own loss, passed to its creditors"))
#: A column's heading in full, for the note naming the columns left out.
ZERO_NAMES = {"Social.": "socialised", "Uncov.": "uncovered"}
LABELS = {**RULE_LABELS, **POLICY_LABELS}


@functools.lru_cache(maxsize=8)
def own_rules(network: Network) -> pd.DataFrame:
    """The own rules (:func:`core.positions.venue_rules`, no overrides) of the perpetuals venues that hold positions,
    one row each, in entity order (read-only; memoised per network, whose tables are read-only too)."""
    rules = venue_rules(network)
    return freeze(rules[rules.index.isin(network.positions["venue"])])


def _names(network: Network) -> dict[str, str]:
    return dict(zip(network.entities["id"], network.entities["name"]))


def short_name(name: str) -> str:
    """A venue's name without its parenthesis: ``Hyperliquid (perps L1, clearinghouse)`` -> ``Hyperliquid``."""
    return name.split(" (")[0].strip() or name


def rule_options(own: str, has_vault: bool) -> list[dict[str, str]]:
    """ADL-rule choices of one venue: its own rule first, as "venue rule (X)"; ``backstop_vault`` only with a vault."""
    return [{"label": f"venue rule ({RULE_LABELS[own]})", "value": OWN}] + [
        {"label": RULE_LABELS[r], "value": r} for r in ADL_RULES if r != own and (r != "backstop_vault" or has_vault)]


def policy_options(own: str) -> list[dict[str, str]]:
    """Collateral-policy choices of one venue: its own policy first, as "venue rule (X)"."""
    return [{"label": f"venue rule ({POLICY_LABELS[own]})", "value": OWN}] + [
        {"label": POLICY_LABELS[p], "value": p} for p in COLLATERAL_POLICIES if p != own]


def _value(override: str | None, own: str) -> str:
    return OWN if override is None or override == own else override


def controls(network: Network, scenario: Scenario | None = None) -> list[Any]:
    """The per-venue dropdowns (pattern ids ``{"type": ids.ADL_RULE | ids.COLLATERAL_POLICY, "venue": id}``), set to
    ``scenario``'s overrides, in two collapsible groups (ADL rules, collateral pricing), each open when the scenario
    sets one of its kind; an empty list for a network without perpetuals positions."""
    rules = own_rules(network)
    if rules.empty:
        return []
    sg = (scenario or Scenario()).safeguards
    names = _names(network)
    out = []
    for kind, title, column, chosen in ((ids.ADL_RULE, "ADL rule", "adl_rule", sg.adl_rules),
                                        (ids.COLLATERAL_POLICY, "Collateral pricing", "collateral_policy", sg.collateral_policies)):
        rows = []
        for venue, r in rules.iterrows():
            options = rule_options(r["adl_rule"], bool(r["backstop_vault_usd"] > 0)) if kind == ids.ADL_RULE else \
                policy_options(r["collateral_policy"])
            rows.append(html.Div([
                html.Span(short_name(names.get(venue, venue)), className="venue-name", title=f"{names.get(venue, venue)} ({venue})"),
                dcc.Dropdown(id={"type": kind, "venue": venue}, options=options, value=_value(chosen.get(venue), r[column]),
                             clearable=False, searchable=False, className="venue-dropdown"),
            ], className="venue-rule-row", id=f"{kind}-row-{venue}"))
        out.append(html.Details([html.Summary(f"{title} per perpetuals venue ({len(rules)})"),
                                 html.Small(MEANING[kind], className="hint"), *rows],
                                open=bool(chosen), className="venue-rules", id={"type": ids.VENUE_GROUP, "kind": kind}))
    return out


def open_groups(adl_values: list[Any] | None, policy_values: list[Any] | None,
                group_ids: list[dict[str, str]] | None) -> list[Any]:
    """Per group (in the order of ``group_ids``): ``True`` when one of its dropdowns is set away from the venue's own
    setting, else ``no_update`` (a group the user opened stays open; one the scenario no longer needs is not shut
    under the user's hand)."""
    moved = {ids.ADL_RULE: any(v not in (None, "", OWN) for v in adl_values or []),
             ids.COLLATERAL_POLICY: any(v not in (None, "", OWN) for v in policy_values or [])}
    return [True if moved.get(g["kind"]) else no_update for g in group_ids or []]


@callback(
    Output({"type": ids.VENUE_GROUP, "kind": ALL}, "open"),
    Input({"type": ids.ADL_RULE, "venue": ALL}, "value"),
    Input({"type": ids.COLLATERAL_POLICY, "venue": ALL}, "value"),
    State({"type": ids.VENUE_GROUP, "kind": ALL}, "id"),
    prevent_initial_call=True,
)
def on_venue_values(adl_values, policy_values, group_ids):
    return open_groups(adl_values, policy_values, group_ids)


def overrides(values: list[Any] | None, pattern_ids: list[dict[str, str]] | None) -> dict[str, str]:
    """The scenario's overrides from the dropdowns: venue id -> chosen setting (venues left on their own rule are absent)."""
    return {i["venue"]: str(v) for v, i in zip(values or [], pattern_ids or []) if v not in (None, "", OWN)}


def values(settings: Mapping[str, str], pattern_ids: list[dict[str, str]] | None, network: Network, column: str) -> list[str]:
    """The dropdown values showing ``settings`` (a scenario's ``adl_rules`` or ``collateral_policies``; ``column``
    names the venue's own setting, ``adl_rule`` or ``collateral_policy``), in the order of ``pattern_ids``."""
    if not pattern_ids:
        return []
    own = own_rules(network)[column]
    return [_value(settings.get(i["venue"]), own.get(i["venue"], "")) for i in pattern_ids]


# -- what the run did on each venue ------------------------------------------------------

def totals(result) -> dict[str, dict[str, float]]:
    """Per venue, the run's waterfall totals over its rounds: venue -> column -> USD (what ``summary_dict()["perps"]``
    reports, read from ``result.perps`` without the rest of the summary)."""
    cols = [c for c, _, _ in TABLE_COLUMNS]
    if not len(result.perps):
        return {}
    sums = result.perps.groupby("venue", sort=False)[cols].sum()
    return {str(v): {c: float(x) for c, x in row.items()} for v, row in zip(sums.index, sums.to_dict("records"))}


def _settings(venue: str, r: pd.Series, sg) -> list[Any]:
    """The scenario's overrides of one venue, one small line each: ``rule: ADL (own: vault)``."""
    out: list[Any] = []
    for what, chosen, own in (("rule", sg.adl_rules, r["adl_rule"]), ("collateral", sg.collateral_policies, r["collateral_policy"])):
        if chosen.get(venue, own) != own:
            out.append(html.Div([f"{what}: ", html.B(LABELS[chosen[venue]]), f" (own: {LABELS[own]})"],
                                className="perps-setting"))
    return out


def table(network: Network, scenario: Scenario, result, baseline=None) -> list[Any]:
    """The perpetuals venues' waterfall over the run (final totals), with the run without safeguards beside each
    figure that differs when comparing; nothing for a network without perpetuals venues. A column that is zero for
    every venue in both runs (often "socialised" and "uncovered") is left out and named under the table."""
    rules = own_rules(network)
    if rules.empty:
        return []
    zeros = {c: 0.0 for c, _, _ in TABLE_COLUMNS}
    got, own = totals(result), totals(baseline) if baseline is not None else None
    now = {v: got.get(v, zeros) for v in rules.index}
    base = {v: own.get(v, zeros) for v in rules.index} if own is not None else None
    names = _names(network)
    sg = scenario.safeguards

    def cell(venue: str, col: str) -> html.Td:
        v = now[venue][col]
        body: list[Any] = [usd(v)]
        if base is not None:
            b = base[venue][col]
            if abs(v - b) > max(1.0, 1e-9 * max(abs(v), abs(b))):
                body.append(html.Div(f"vs {usd(b)}", className="perps-base"))
        return html.Td(body, id=f"perps-{venue}-{col}")

    runs = [now] if base is None else [now, base]
    shown = [(c, h, what) for c, h, what in TABLE_COLUMNS
             if c == "liquidated_usd" or any(abs(run[v][c]) > 0.5 for run in runs for v in run)]
    zero = [ZERO_NAMES.get(h, h.lower()) for c, h, _ in TABLE_COLUMNS if c not in {x for x, _, _ in shown}]
    head = html.Tr([html.Th("Venue"), *[html.Th(h, title=what) for _, h, what in shown]])
    rows = [html.Tr([html.Td([short_name(names.get(v, v)), *_settings(v, r, sg)], title=f"{names.get(v, v)} ({v})"),
                     *[cell(v, c) for c, _, _ in shown]])
            for v, r in rules.iterrows()]
    caption = "Perpetuals venues: liquidations and who covered the deficit (run totals, final)"
    note = ("Deficit = vault + insurance + ADL + socialised + uncovered"
            + (f" ({', '.join(zero)}: $0 on every venue)" if zero else "") + ". "
            + ("“vs”: the run without safeguards (every venue on its own rules)." if base is not None
               else "“Compare with and without safeguards” shows each venue under its own rules beside."))
    return [html.Table([html.Caption(caption), html.Thead(head), html.Tbody(rows)], className="diff-table perps-table"),
            html.Small(note, className="muted")]


def panel(content: list[Any] | None = None) -> html.Div:
    """The box the run callback fills with :func:`table` (:mod:`dashboard.cascade`)."""
    return html.Div(content or [], id=ids.PERPS_TABLE, className="perps-panel diff-tables")
