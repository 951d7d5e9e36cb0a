"""The Scenario panel at the top of the controls column: which scenario is on screen, and how it was changed.

It names the scenario once (:func:`scenario_title`, the name the exports write too; "Custom scenario" for one named
``custom``, the schema's default), lists the inputs of its file that no control shows (:func:`other_inputs`: pool sales, price paths,
per-entity insurance funds, caps on liquidation bonus and close factor, overrides of venues without a dropdown) and,
once a control moves away from the loaded scenario (kept in the extras store as ``origin``), says what it was modified
from (:func:`modified_from`: "the preset as loaded", "the scenario as loaded", or "no shock" for a custom scenario
that set nothing, as the page opens) and lists the changes (:func:`changes`); the run then saves and reports it as
"modified from <name>", or, a custom scenario, still as ``custom`` with its changes as description
(:func:`label_changes`).
"""

from __future__ import annotations

from typing import Any

from dash import html

from core.network import Network
from core.scenario import Scenario, parse_scenario

from . import venues
from .controls_shocks import peg_assets, price_assets


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
    "adl_rules": "ADL rule", "collateral_policies": "collateral pricing", "forced_default_rounds": "fails at round",
}
#: Scenario fields keyed by asset, entity or venue: one line per key in the lists of changes and other inputs.
_KEYED = ("price_shocks", "depegs", "pool_sales_usd", "insurance_funds_usd", "price_paths", "adl_rules", "collateral_policies",
          "forced_default_rounds")


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
        if head == "forced_default_rounds":  # an undated forced failure is at round 0
            return "0"
        return "$0" if head in ("pool_sales_usd", "insurance_funds_usd") else "off" if head == "circuit_breaker" else "none"
    if isinstance(v, list):
        if head == "price_paths":  # cumulative moves, round by round; a long path as its first moves and its end
            moves = [f"{100 * x:+.0f}%".replace("-", "−").replace("+0%", "0%") for x in v]
            return (", ".join(moves) if len(moves) <= 3 else f"{moves[0]}, {moves[1]} … {moves[-1]} ({len(moves)} rounds)") or "none"
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
        head, _, key = k.partition(".")
        if head == "forced_default_rounds" and key not in now.forced_defaults:
            continue  # an entity taken off the forced list: "forced to fail" says so, its date went with it
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
        out.append(f"{', '.join(assets)} price path: {_value('price_paths', list(path))}")
    for k, v in _flat(sc.model_dump(mode="json")).items():
        head, _, asset = k.partition(".")
        if head == "price_paths":
            continue
        controlled = (head in ("run_intensity", "liquidity", "oracle_lag", "horizon", "forced_defaults", "forced_default_rounds", "circuit_breaker",
                               "collateral_multiplier", "insurance_multiplier", "name", "description")
                      or (head in ("adl_rules", "collateral_policies") and asset in shown_v)
                      or (head == "price_shocks" and asset in shown_p) or (head == "depegs" and asset in shown_d))
        if not controlled and v != default.get(k) and v not in ({}, None):
            out.append(f"{_label(k)}: {_value(k, v)}")
    return out


#: The name the schema gives a scenario that names nothing (:class:`core.scenario.Scenario`'s default).
CUSTOM = "custom"
_MODIFIED = "modified from "


def _origin_key(base: Scenario) -> str:
    """The name ``base`` was loaded under, "modified from " taken off (a modified scenario saved and opened again)."""
    return base.name[len(_MODIFIED):] if base.name.startswith(_MODIFIED) else base.name


def is_custom(base: Scenario) -> bool:
    """Whether ``base`` names nothing: the page's first scenario, "Reset all", a file or link named ``custom``."""
    return _origin_key(base) in (CUSTOM, "")


def modified_from(base: Scenario) -> str:
    """What a scenario changed on the page was modified from, in words for the panel (it names the scenario once, in
    its title): "no shock" for a custom scenario that set nothing (``Scenario()``: the page as it opens, or after
    "Reset all"), "the preset as loaded" for a preset of the menu, else "the scenario as loaded" (a file or a link).
    Before: a custom scenario read "Custom / modified from custom", its name twice and nothing said."""
    if is_custom(base) and not changes(Scenario(), base):
        return "no shock"
    from .scenarios import presets  # (dashboard.scenarios builds on this module)

    return "the preset as loaded" if _origin_key(base) in presets() else "the scenario as loaded"


def label_changes(sc: Scenario, extras: dict[str, Any] | None) -> Scenario:
    """``sc`` named "modified from <origin>" with its changes as description, when it differs from the loaded
    scenario; a custom one keeps the name ``custom`` ("modified from custom" said nothing) and its description says
    what it was modified from (:func:`modified_from`)."""
    origin = (extras or {}).get("origin")
    if not origin:
        return sc
    base = parse_scenario(origin, file="page")
    diff = changes(base, sc)
    if not diff:
        return sc
    if is_custom(base):
        desc = f"Modified from {modified_from(base)}: " + "; ".join(diff) + "." + (f" As loaded: {base.description}" if base.description else "")
        return sc.model_copy(update={"name": CUSTOM, "description": desc})
    name = _origin_key(base)
    desc = f"Modified from {name}: " + "; ".join(diff) + "." + (f" {name}: {base.description}" if base.description else "")
    return sc.model_copy(update={"name": f"{_MODIFIED}{name}", "description": desc})


def scenario_title(sc: Scenario) -> str:
    """The name the page shows for ``sc``: the panel's title, the HTML report's title and heading, the SVG and PNG
    pictures' heading and the story's (before, these wrote the raw name: "ftx_nov_2022", "custom", "modified from
    ftx_nov_2022"). "Custom scenario" for one that names nothing (:func:`is_custom`), else the preset's or the file's
    name as the menu writes it (:func:`pretty_name`), and ", modified" after it for a scenario changed on the page
    (named "modified from <name>" by :func:`label_changes`).

    >>> scenario_title(Scenario(name="ftx_nov_2022")), scenario_title(Scenario()), scenario_title(Scenario(name="modified from ftx_nov_2022"))
    ('FTX Nov 2022', 'Custom scenario', 'FTX Nov 2022, modified')
    """
    if is_custom(sc):
        return "Custom scenario"
    name = pretty_name(_origin_key(sc))
    return f"{name}, modified" if sc.name.startswith(_MODIFIED) else name


def titled(name: str) -> str:
    """:func:`scenario_title` of a scenario known by its name alone (what the Monte Carlo and sweep results keep): the
    panels' messages name the scenario as the page does.

    >>> titled("ftx_nov_2022"), titled("custom"), titled(""), titled("modified from terra_may_2022")
    ('FTX Nov 2022', 'Custom scenario', 'Custom scenario', 'Terra May 2022, modified')
    """
    return scenario_title(Scenario(name=str(name or "")))


def scenario_info(sc: Scenario, network: Network, extras: dict[str, Any] | None = None) -> list[Any]:
    """The scenario on screen: its name (once) and description; what it was modified from, with the changes; the
    inputs with no control."""
    origin = (extras or {}).get("origin")
    base = parse_scenario(origin, file="page") if origin else sc
    diff = changes(base, sc) if origin else []
    title = scenario_title(base)  # the scenario as loaded: the changes are listed under it
    out: list[Any] = [html.Div([html.Span("Scenario ", className="muted"), html.B(title, id="scenario-name")], className="scenario-title")]
    if diff:
        out.append(html.Div([html.B(f"Modified from {modified_from(base)}:"), html.Ul([html.Li(d) for d in diff])], className="scenario-changes",
                            id="scenario-changes"))
    desc = base.description
    if desc:
        first = desc.split(". ")[0].rstrip(".") + "."
        out.append(html.Details([html.Summary(first), html.P(desc)], className="scenario-desc") if len(desc) > len(first) + 2
                   else html.P(desc, className="scenario-desc"))
    other = other_inputs(sc, network)
    if other:
        # folded: read once, it would otherwise push the controls below the fold (the Pegs heading at 1366 × 768)
        out.append(html.Details([html.Summary(f"Other inputs set by the file, no control ({len(other)})", className="muted"),
                                 "; ".join(other)], className="scenario-other", id="scenario-other"))
    return out
