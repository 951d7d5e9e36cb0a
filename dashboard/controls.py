"""Shock controls and safeguards: the sliders that make a :class:`core.scenario.Scenario`.

Units on the page are the analyst's: price shocks and depegs in percent, run
intensity in percent, liquidity and collateral as multipliers, durations in
rounds. :func:`scenario_from_controls` and :func:`controls_from_scenario` are
the two directions of that mapping; the first validates through
:func:`core.scenario.parse_scenario`, so a bad value becomes a message, never a
traceback.

Each perpetuals venue of the network has an ADL-rule and a collateral-policy dropdown in the
safeguards section (:mod:`dashboard.venues`); they set ``safeguards.adl_rules`` and
``safeguards.collateral_policies``.

Scenario fields with no control of their own (name, description, pool sales,
per-entity insurance funds, caps on liquidation bonus and close factor) ride in
the *extras* store, so a preset loaded and saved again loses nothing; the
scenario panel at the top of the column (:func:`scenario_info`) names the
scenario, lists those "other inputs", and, once a control moves away from the
loaded scenario (kept in the extras as ``origin``), says "modified from <name>"
and lists the changes (:func:`changes`); the run then saves and reports it under
that name (:func:`label_changes`).
"""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np
from dash import dcc, html

from core.network import Network
from core.scenario import Safeguards, Scenario, parse_scenario

from . import ids, venues
from .price_hints import price_hint

#: Assets given a price slider first, when present.
MAJOR_ASSETS = ("ETH", "BTC", "LUNA", "FTT")
#: Price sliders shown before "more assets".
SHOWN_PRICES = 6
PRICE_MIN, PRICE_MAX = -100, 50      # percent
DEPEG_MAX = 99                        # percent (a depeg of 100% is not a price)
#: Scenario fields the controls set; every other field rides in the extras store untouched.
CONTROLLED_FIELDS = ("price_shocks", "depegs", "forced_defaults", "run_intensity", "liquidity", "oracle_lag", "horizon", "safeguards")
CONTROLLED_SAFEGUARDS = ("circuit_breaker", "collateral_multiplier", "insurance_multiplier", "adl_rules", "collateral_policies")
EXTRA_FIELDS = tuple(f for f in Scenario.model_fields if f not in CONTROLLED_FIELDS)
EXTRA_SAFEGUARDS = tuple(f for f in Safeguards.model_fields if f not in CONTROLLED_SAFEGUARDS)


# -- which assets get which slider --------------------------------------------------

def price_assets(network: Network) -> list[str]:
    """Unpegged assets: the majors first, then by market capitalisation."""
    a = network.assets
    free = a[a["peg_target"].isna()]
    cap = (free["price_usd"] * free["supply"]).to_numpy()
    by_cap = [s for _, s in sorted(zip(-cap, free["symbol"]), key=lambda t: (t[0], t[1]))]
    majors = [s for s in MAJOR_ASSETS if s in set(free["symbol"])]
    return majors + [s for s in by_cap if s not in majors]


def peg_assets(network: Network) -> list[str]:
    """Pegged assets (stablecoins, liquid-staking tokens), by market capitalisation."""
    a = network.assets
    pegged = a[a["peg_target"].notna()]
    order = np.lexsort((pegged["symbol"].to_numpy(), -(pegged["price_usd"] * pegged["supply"]).to_numpy()))
    return [str(s) for s in pegged["symbol"].to_numpy()[order]]


# -- widgets ---------------------------------------------------------------------

def _field(label: str, control: Any, hint: str = "", wrap_id: str | None = None, note: Any = None) -> html.Div:
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
        "section-safeguards": sum([sg.circuit_breaker is not None, sg.collateral_multiplier != 1.0, sg.insurance_multiplier != 1.0])
        + len(sg.adl_rules) + len(sg.collateral_policies),
    }
    return {k: f" · {v} set" if v else "" for k, v in n.items()}


def _slider(id_: Any, lo: float, hi: float, step: float, value: float, marks: dict[float, str]) -> dcc.Slider:
    return dcc.Slider(id=id_, min=lo, max=hi, step=step, value=value, marks={k: v for k, v in marks.items()},
                      updatemode="mouseup", className="slider")


def shock_sliders(network: Network, scenario: Scenario | None = None) -> list[Any]:
    """Price sliders (one per unpegged asset) and depeg sliders (one per pegged asset)."""
    sc = scenario or Scenario()
    names = dict(zip(network.assets["symbol"], network.assets["name"]))
    prices = [
        _field(f"{s} price", _slider({"type": ids.PRICE, "asset": s}, PRICE_MIN, PRICE_MAX, 1, round(100 * sc.price_shocks.get(s, 0.0)),
                                     {-100: "−100%", -50: "−50%", 0: "0", 50: "+50%"}),
               wrap_id=f"wrap-price-{s}", note=price_hint(sc, s, names.get(s, "")))
        for s in price_assets(network)
    ]
    pegs = [
        _field(f"{s} depeg", _slider({"type": ids.DEPEG, "asset": s}, 0, DEPEG_MAX, 1,
                                     round(100 * sc.depegs.get(s, 0.0)), {0: "0", 50: "50%", 99: "99%"}),
               wrap_id=f"wrap-depeg-{s}", hint=f"{names.get(s, '')}: fall below peg")
        for s in peg_assets(network)
    ]
    more_p = [html.Details([html.Summary(f"{len(prices) - SHOWN_PRICES} more assets"), *prices[SHOWN_PRICES:]])] if len(prices) > SHOWN_PRICES else []
    counts = section_counts(sc)
    out: list[Any] = [section("Price shocks", [*prices[:SHOWN_PRICES], *more_p], True, "section-prices", counts["section-prices"])]
    more_d = [html.Details([html.Summary(f"{len(pegs) - SHOWN_PRICES} more pegged assets"), *pegs[SHOWN_PRICES:]])] if len(pegs) > SHOWN_PRICES else []
    # open when the scenario sets a depeg, so that what it does is in view (always there: the run writes its count)
    out.append(section("Pegs", [*pegs[:SHOWN_PRICES], *more_d] or [html.P("No pegged asset in this network.", className="muted")],
                       bool(sc.depegs), "section-pegs", counts["section-pegs"]))
    return out


def entity_options(network: Network) -> list[dict[str, str]]:
    ent = network.entities.sort_values("name")
    return [{"label": f"{n} ({i})", "value": i} for i, n in zip(ent["id"], ent["name"])]


def panel(network: Network, scenario: Scenario | None = None, compare: bool = False) -> html.Div:
    sc = scenario or Scenario()
    sg = sc.safeguards
    cb = sg.circuit_breaker
    return html.Div(
        [
            html.Div(scenario_info(sc, network), id=ids.SCENARIO_INFO, className="scenario-info"),
            html.Div(shock_sliders(network, sc), id=ids.SHOCK_SLIDERS),
            section("Failures and market", [
                _field("Entities forced to fail", dcc.Dropdown(id=ids.DEFAULTS, options=entity_options(network), value=list(sc.forced_defaults),
                                                              multi=True, placeholder="none")),
                _field("Withdrawal-run intensity", _slider(ids.RUN, 0, 100, 5, round(100 * sc.run_intensity), {0: "none", 50: "50%", 100: "panic"}),
                       "share of runnable CeFi funding that leaves", wrap_id="wrap-run"),
                _field("Market liquidity", _slider(ids.LIQUIDITY, 0.1, 3, 0.1, sc.liquidity, {0.1: "×0.1", 1: "×1", 2: "×2", 3: "×3"}),
                       "× book depth and liquidators", wrap_id="wrap-liquidity"),
                _field("Oracle lag", _slider(ids.ORACLE_LAG, 0, 10, 1, sc.oracle_lag, {0: "0", 5: "5", 10: "10 rounds"}), wrap_id="wrap-oracle"),
                _field("Horizon", _slider(ids.HORIZON, 1, 50, 1, sc.horizon, {1: "1", 12: "12", 25: "25", 50: "50 rounds"}), wrap_id="wrap-horizon"),
            ], False, "section-market", section_counts(sc)["section-market"]),
            section("Safeguards", [
                dcc.Checklist(id=ids.CB_ON, options=[{"label": " Circuit breaker", "value": "on"}], value=["on"] if cb else [], className="check"),
                _field("Breaker trips at a price fall of", _slider(ids.CB_THRESHOLD, 5, 50, 1, round(100 * (cb.threshold if cb else 0.2)),
                                                                  {5: "5%", 20: "20%", 50: "50%"}), "in one round", wrap_id="wrap-cb-threshold"),
                _field("Breaker halts liquidations for", _slider(ids.CB_ROUNDS, 1, 10, 1, cb.rounds if cb else 2, {1: "1", 5: "5", 10: "10 rounds"}),
                       wrap_id="wrap-cb-rounds"),
                _field("Collateral requirement", _slider(ids.COLLATERAL, 1, 3, 0.05, sg.collateral_multiplier, {1: "×1", 2: "×2", 3: "×3"}),
                       "thresholds ÷ this", wrap_id="wrap-collateral"),
                _field("Insurance funds", _slider(ids.INSURANCE, 0, 10, 0.5, sg.insurance_multiplier, {0: "none", 1: "×1", 5: "×5", 10: "×10"}),
                       "× each fund", wrap_id="wrap-insurance"),
                html.Div(venues.controls(network, sc), id=ids.VENUE_RULES),
            ], True, "section-safeguards", section_counts(sc)["section-safeguards"]),
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
) -> Scenario:
    """Build and validate the scenario the controls describe (percent → fractions); the per-venue dropdowns
    (``adl_*``, ``policy_*``: values and pattern ids, :mod:`dashboard.venues`) give the venues' overrides."""
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
    doc.update(
        price_shocks=prices, depegs=depegs, forced_defaults=list(forced or []),
        run_intensity=_num(run, 0) / 100.0, liquidity=_num(liquidity, 1.0), oracle_lag=int(_num(oracle_lag, 0)),
        horizon=int(_num(horizon, 12)),
        safeguards={
            "circuit_breaker": {"threshold": _num(cb_threshold, 20) / 100.0, "rounds": int(_num(cb_rounds, 2))} if cb_on else None,
            "collateral_multiplier": _num(collateral, 1.0), "insurance_multiplier": _num(insurance, 1.0),
            "adl_rules": adl, "collateral_policies": policies,
            **{k: extras[k] for k in EXTRA_SAFEGUARDS if extras.get(k) is not None},
        },
    )
    return parse_scenario(doc, file="controls")


def controls_from_scenario(sc: Scenario, price_ids: list[dict[str, str]], depeg_ids: list[dict[str, str]],
                           adl_ids: list[dict[str, str]] | None = None, policy_ids: list[dict[str, str]] | None = None,
                           network: Network | None = None) -> dict[str, Any]:
    """Control values showing a scenario, keyed by component id (pattern controls as lists; the venues' dropdowns,
    ``adl_ids`` and ``policy_ids``, need the ``network`` for each venue's own setting)."""
    sg = sc.safeguards
    cb = sg.circuit_breaker
    return {
        ids.PRICE: [round(100 * sc.price_shocks.get(i["asset"], 0.0)) for i in price_ids],
        ids.DEPEG: [round(100 * sc.depegs.get(i["asset"], 0.0)) for i in depeg_ids],
        ids.DEFAULTS: list(sc.forced_defaults),
        ids.RUN: round(100 * sc.run_intensity),
        ids.LIQUIDITY: sc.liquidity,
        ids.ORACLE_LAG: sc.oracle_lag,
        ids.HORIZON: sc.horizon,
        ids.CB_ON: ["on"] if cb else [],
        ids.CB_THRESHOLD: round(100 * cb.threshold) if cb else 20,
        ids.CB_ROUNDS: cb.rounds if cb else 2,
        ids.COLLATERAL: sg.collateral_multiplier,
        ids.INSURANCE: sg.insurance_multiplier,
        ids.ADL_RULE: venues.values(sg.adl_rules, adl_ids, network, "adl_rule") if network is not None else [],
        ids.COLLATERAL_POLICY: venues.values(sg.collateral_policies, policy_ids, network, "collateral_policy") if network is not None else [],
    }


def extras_of(sc: Scenario) -> dict[str, Any]:
    """The scenario fields no control shows, and the whole scenario as loaded (``origin``)."""
    doc = sc.model_dump(mode="json")
    out: dict[str, Any] = {k: doc[k] for k in EXTRA_FIELDS}
    out.update(price_shocks=doc["price_shocks"], depegs=doc["depegs"], adl_rules=doc["safeguards"]["adl_rules"],
               collateral_policies=doc["safeguards"]["collateral_policies"])
    out.update({k: doc["safeguards"][k] for k in EXTRA_SAFEGUARDS})
    out["origin"] = doc
    return out


# -- naming the scenario on screen ---------------------------------------------------

#: Words written in capitals (or their own case) in scenario titles.
_WORDS = {"tac": "TAC", "ftx": "FTX", "eth": "ETH", "btc": "BTC", "steth": "stETH", "luna": "LUNA", "ust": "UST",
          "cefi": "CeFi", "defi": "DeFi", "amm": "AMM", "cdp": "CDP", "usdc": "USDC", "usdt": "USDT", "3ac": "3AC",
          "elixir": "Elixir", "terra": "Terra", "usde": "USDe"}  # (Stream, the first word of its preset, is capitalised as first)


def pretty_name(key: str) -> str:
    """``tac_june_2022`` -> ``TAC June 2022``, ``black_thursday_eth_crash`` -> ``Black Thursday ETH crash``, ``eth-luna`` -> ``ETH-LUNA``."""
    def word(w: str, first: bool) -> str:
        return "-".join(_WORDS.get(p.lower(), p.capitalize() if (first and k == 0) or p.lower() in _MONTHS else p)
                        for k, p in enumerate(w.split("-")))

    return " ".join(word(w, k == 0) for k, w in enumerate(key.replace("_", " ").split()))


_MONTHS = {"jan", "feb", "mar", "apr", "may", "jun", "june", "jul", "july", "aug", "sep", "oct", "nov", "dec", "thursday"}

#: Scenario fields read as percentages on the page.
_PERCENT = ("price_shocks", "depegs", "run_intensity", "forced_default_recovery", "circuit_breaker.threshold")
_LABELS = {
    "price_shocks": "price", "depegs": "depeg", "pool_sales_usd": "sold into its pool", "forced_defaults": "forced to fail",
    "run_intensity": "withdrawal-run intensity", "liquidity": "market liquidity", "oracle_lag": "oracle lag (rounds)",
    "horizon": "horizon (rounds)", "forced_default_recovery": "recovery on forced defaults",
    "liquidator_capacity_usd": "liquidator capacity", "default_costs": "default costs",
    "circuit_breaker": "circuit breaker", "circuit_breaker.threshold": "circuit breaker threshold",
    "circuit_breaker.rounds": "circuit breaker rounds", "collateral_multiplier": "collateral requirement",
    "insurance_multiplier": "insurance funds ×", "insurance_funds_usd": "insurance fund",
    "max_liquidation_bonus": "max liquidation bonus", "max_close_factor": "max close factor",
    "price_paths": "price path", "shock_rounds": "shocks reached over (rounds)", "round_hours": "round length",
    "adl_rules": "ADL rule", "collateral_policies": "collateral pricing",
}
#: Scenario fields keyed by asset, entity or venue: one line per key in the lists of changes and other inputs.
_KEYED = ("price_shocks", "depegs", "pool_sales_usd", "insurance_funds_usd", "price_paths", "adl_rules", "collateral_policies")


def _flat(doc: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in doc.items():
        key = f"{prefix}{k}"
        if k == "safeguards" and isinstance(v, dict):
            out.update(_flat(v))
        elif isinstance(v, dict) and k in (*_KEYED, "circuit_breaker", "default_costs"):
            out.update(_flat(v, key + "."))
        else:
            out[key] = v
    return out


def _value(field: str, v: Any) -> str:
    from .state import usd

    head = field.split(".")[0]
    if v is None:
        if head in ("price_shocks", "depegs"):
            return "0%"
        if head == "price_paths":
            return "none"
        if head in ("adl_rules", "collateral_policies"):
            return "venue rule"
        return "$0" if head in ("pool_sales_usd", "insurance_funds_usd") else "off" if head == "circuit_breaker" else "none"
    if isinstance(v, list):
        if head == "price_paths":  # cumulative moves, round by round
            return ", ".join(f"{100 * x:+.0f}%".replace("-", "−").replace("+0%", "0%") for x in v) or "none"
        return ", ".join(map(str, v)) or "none"
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return str(v)
    if head in _PERCENT or field in _PERCENT:
        return (f"{100 * v:+.0f}%" if head == "price_shocks" else f"{100 * v:.0f}%").replace("-", "−")
    if head.endswith("_usd"):
        return usd(v)
    if head == "round_hours":  # "10 min", not "0.166667"
        from .graph_frames import round_length

        return round_length(v)
    return f"{v:g}"


def _label(field: str) -> str:
    head, _, tail = field.partition(".")
    if head in _KEYED and tail:
        return f"{tail} {_LABELS[head]}"
    return _LABELS.get(field, _LABELS.get(head, field.replace("_", " ")) + (f" {tail}" if tail and field not in _LABELS else ""))


def changes(origin: Scenario, now: Scenario) -> list[str]:
    """What differs between two scenarios, one line per input: ``ETH price −60% → −50%`` (name and description aside)."""
    skip = {"name", "description"}
    a = {k: v for k, v in _flat(origin.model_dump(mode="json")).items() if k not in skip}
    b = {k: v for k, v in _flat(now.model_dump(mode="json")).items() if k not in skip}
    out = []
    for k in sorted(set(a) | set(b), key=lambda f: (list(Scenario.model_fields).index(f.split(".")[0])
                                                     if f.split(".")[0] in Scenario.model_fields else 99, f)):
        x, y = a.get(k), b.get(k)
        if isinstance(x, float) and isinstance(y, float) and abs(x - y) < 1e-9:
            continue
        if x != y:
            out.append(f"{_label(k)}: {_value(k, x)} → {_value(k, y)}")
    return out


def other_inputs(sc: Scenario, network: Network) -> list[str]:
    """Inputs of the scenario that no control on the page shows (set by its file), one line each."""
    shown_p, shown_d, shown_v = set(price_assets(network)), set(peg_assets(network)), set(venues.own_rules(network).index)
    default = _flat(Scenario().model_dump(mode="json"))
    out = []
    # price paths: one line per shape (assets moving together share it); a long path as its first moves and its end
    same: dict[tuple[float, ...], list[str]] = {}
    for asset, path in sc.price_paths.items():
        same.setdefault(tuple(path), []).append(asset)
    for path, assets in same.items():
        v = _value("price_paths", list(path)) if len(path) <= 3 else \
            f"{_value('price_paths', list(path[:2]))} … {_value('price_paths', [path[-1]])} ({len(path)} rounds)"
        out.append(f"{', '.join(assets)} price path: {v}")
    for k, v in _flat(sc.model_dump(mode="json")).items():
        head, _, asset = k.partition(".")
        if head == "price_paths":
            continue
        controlled = (head in ("run_intensity", "liquidity", "oracle_lag", "horizon", "forced_defaults", "circuit_breaker",
                               "collateral_multiplier", "insurance_multiplier", "name", "description")
                      or (head in ("adl_rules", "collateral_policies") and asset in shown_v)
                      or (head == "price_shocks" and asset in shown_p) or (head == "depegs" and asset in shown_d))
        if not controlled and v != default.get(k) and v not in ({}, None):
            out.append(f"{_label(k)}: {_value(k, v)}")
    return out


def label_changes(sc: Scenario, extras: dict[str, Any] | None) -> Scenario:
    """``sc`` named "modified from <origin>" with its changes as description, when it differs from the loaded scenario."""
    origin = (extras or {}).get("origin")
    if not origin:
        return sc
    base = parse_scenario(origin, file="page")
    diff = changes(base, sc)
    if not diff:
        return sc
    name = base.name[len("modified from "):] if base.name.startswith("modified from ") else base.name
    desc = f"Modified from {name}: " + "; ".join(diff) + "." + (f" {name}: {base.description}" if base.description else "")
    return sc.model_copy(update={"name": f"modified from {name}", "description": desc})


def scenario_info(sc: Scenario, network: Network, extras: dict[str, Any] | None = None) -> list[Any]:
    """The scenario on screen: its name and description; "modified from …" with the changes; the inputs with no control."""
    origin = (extras or {}).get("origin")
    base = parse_scenario(origin, file="page") if origin else sc
    diff = changes(base, sc) if origin else []
    title = "Custom scenario" if base.name == "custom" and not diff else pretty_name(base.name)
    out: list[Any] = [html.Div([html.Span("Scenario ", className="muted"), html.B(title, id="scenario-name")], className="scenario-title")]
    if diff:
        out.append(html.Div([html.B(f"modified from {base.name}"), html.Ul([html.Li(d) for d in diff])], className="scenario-changes",
                            id="scenario-changes"))
    desc = base.description
    if desc:
        first = desc.split(". ")[0].rstrip(".") + "."
        out.append(html.Details([html.Summary(first), html.P(desc)], className="scenario-desc") if len(desc) > len(first) + 2
                   else html.P(desc, className="scenario-desc"))
    other = other_inputs(sc, network)
    if other:
        out.append(html.Div([html.Span("Other inputs (set by the file, no control): ", className="muted"), "; ".join(other)],
                            className="scenario-other", id="scenario-other"))
    return out


def _num(x: Any, default: float) -> float:
    try:
        return default if x is None or x == "" else float(x)
    except (TypeError, ValueError):
        return default
