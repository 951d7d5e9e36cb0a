"""Scenarios: the shock and the safeguards, as a validated JSON document.

A scenario says what happens at round 0 (price shocks, depegs, sales into AMM
pools, entities forced to fail: each at round 0, or at the start of the round
``forced_default_rounds`` dates its failure, e.g. an exchange that stops
withdrawals days into its token's fall) and how prices move after it (``shock_rounds``
spreads the shocks and depegs over several rounds; ``price_paths`` gives an
asset's path round by round; ``round_hours`` says what a round stands for, see
:mod:`core.paths`), how the market behaves (withdrawal-run
intensity, oracle lag, liquidity multiplier) and which safeguards are in force
(circuit breaker, tighter collateral requirements, insurance funds, caps on
liquidation bonus and close factor). ``snapshot`` names the shipped snapshot
the scenario is written for (:mod:`core.datasets`): the command line and the
dashboard run it there unless told otherwise. ``Scenario.model_json_schema()`` is the
published schema (``data/scenarios/scenario.schema.json``); a bad file raises
:class:`core.validation.DataValidationError` with a problem per bad field.
"""

from __future__ import annotations

import os
from pathlib import Path
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt, ValidationError, ValidationInfo, field_validator

from .safeguards import CircuitBreaker, DefaultCosts, ReserveImpairment, Safeguards
from .schema import MAX_AMOUNT_USD
from .snapshot_catalog import shipped_names
from .strict_json import boolean_problems, locate, parse_json_text, read_json_file
from .problems import expected_of
from .validation import DataValidationError, Problem

__all__ = ["CircuitBreaker", "DefaultCosts", "ReserveImpairment", "Safeguards", "Scenario", "as_scenario", "load_scenario",
           "parse_scenario", "scenario_schema"]

#: Largest scenario file read (bytes); the presets are about 2 KB.
MAX_SCENARIO_BYTES: int = 10 * 1024 * 1024


class Scenario(BaseModel):
    """What shocks the system and what protects it.

    A frozen record of the shock (price shocks, depegs, pool sales, forced defaults,
    runs, exogenous price paths), the market conditions (liquidity, oracle lag,
    liquidator capacity), the horizon and the :class:`Safeguards`. Each field, its
    unit and its range are listed by :func:`scenario_schema`; files are read by
    :func:`load_scenario`, dicts by :func:`parse_scenario`.

    Raises
    ------
    pydantic.ValidationError
        On an unknown field or a value out of range (a ``ValueError``); the loaders
        turn it into a :class:`~core.validation.DataValidationError`.

    Examples
    --------
    >>> sc = Scenario(name="eth-crash", price_shocks={"ETH": -0.4})
    >>> sc.price_shocks, sc.horizon, sc.safeguards.circuit_breaker
    ({'ETH': -0.4}, 12, None)
    """

    model_config = ConfigDict(extra="forbid")
    name: str = Field("custom", description="Short name.")
    description: str = Field("", description="What the scenario represents and its sources.")
    snapshot: str | None = Field(None, description="The shipped snapshot (a folder of data/, e.g. crypto-2022-05) the scenario is written for and runs on by default; null for any network.")
    date: str | None = Field(None, description="The day whose parameters the scenario runs on (YYYY-MM-DD): its snapshot with every dated parameter change of the snapshot's parameter_changes.csv in force that day; null: the snapshot's own date.")
    price_shocks: dict[str, float] = Field(default_factory=dict, description="Relative price change per asset symbol at round 0 (-0.4 = a 40% fall), in (-1, 10].")
    depegs: dict[str, float] = Field(default_factory=dict, description="Depeg per pegged asset: fall below its peg at round 0 (0.3 = trades at 70% of peg), in [0, 1).")
    pool_sales_usd: dict[str, float] = Field(default_factory=dict, description="USD of a token sold into the AMM pool that sets its price at round 0 (e.g. UST into the Curve metapool).")
    forced_defaults: list[str] = Field(default_factory=list, description="Entity ids that fail at the start of round 0, or of the round forced_default_rounds gives.")
    run_intensity: float = Field(0.0, ge=0.0, le=1.0, description="Withdrawal-run intensity on CeFi lenders and exchanges (0 none, 1 panic).")
    oracle_lag: int = Field(0, ge=0, le=10, description="Rounds by which lending-protocol oracles lag market prices.")
    liquidity: float = Field(1.0, gt=0.0, le=10.0, description="Market-liquidity multiplier on order-book depth and liquidator capacity (1 = normal, 0.1 = a tenth).")
    horizon: int = Field(12, ge=1, le=365, description="Maximum number of rounds.")
    shock_rounds: int = Field(1, ge=1, le=365, description="Rounds over which every price shock and depeg is reached, evenly in log-price (1 = all at round 0).")
    price_paths: dict[str, list[float]] = Field(default_factory=dict, description="Explicit exogenous path per asset symbol: cumulative relative move from the reference price at the end of each round (e.g. {\"ETH\": [-0.05, -0.12, -0.2]}), each in (-1, 10]; after the last entry the move stays at the last value. An asset may not also have a price shock or a depeg.")
    round_hours: float = Field(24.0, gt=0.0, le=8760.0, description="Hours one round stands for (24 = a day); oracle lag and shock_rounds stay in rounds.")
    forced_default_recovery: float = Field(0.0, ge=0.0, le=1.0, description="Share of a forced-to-fail entity's outside assets that survives its failure (0 = all lost, as in a hack or fraud); margin it has pledged to perpetuals venues outside their books (off-exchange custody) survives whole.")
    forced_default_rounds: dict[str, NonNegativeInt] = Field(default_factory=dict, description="Round at whose start an entity of forced_defaults fails, per entity id (e.g. {\"FTX\": 3}: with 24-hour rounds, the fourth day), in [0, horizon); an entity of forced_defaults not named here fails at round 0.")
    liquidator_capacity_usd: float | None = Field(None, gt=0.0, description="Debt liquidators can repay per round (USD), scaled by liquidity; null = unlimited.")
    reserve_impairments: dict[str, ReserveImpairment] = Field(default_factory=dict, description="Fiat-backed stablecoin issuer id -> part of its reserves lost or frozen at round 0 (a bank failure) and its resolution; the issuer needs a fiat_reserves row in the network's pegs table.")
    default_costs: DefaultCosts = Field(default_factory=DefaultCosts)
    safeguards: Safeguards = Field(default_factory=Safeguards)

    @field_validator("snapshot")
    @classmethod
    def _known_snapshot(cls, v: str | None) -> str | None:
        if v is not None and v not in shipped_names():
            raise ValueError(f"unknown snapshot {v!r}: expected one of the shipped snapshots {', '.join(shipped_names())}")
        return v

    @field_validator("date")
    @classmethod
    def _iso_date(cls, v: str | None) -> str | None:
        import datetime as dt

        try:
            ok = v is None or (len(v) == 10 and dt.date.fromisoformat(v) is not None)
        except ValueError:
            ok = False
        if not ok:
            raise ValueError(f"a date as YYYY-MM-DD, found {v!r}")
        return v

    @field_validator("price_shocks")
    @classmethod
    def _shock_range(cls, v: dict[str, float]) -> dict[str, float]:
        bad = {k: x for k, x in v.items() if not (-1.0 < x <= 10.0)}
        if bad:
            raise ValueError(f"price shocks must lie in (-1, 10] (a fall of less than 100%), found {bad}")
        return v

    @field_validator("depegs")
    @classmethod
    def _depeg_range(cls, v: dict[str, float]) -> dict[str, float]:
        bad = {k: x for k, x in v.items() if not (0.0 <= x < 1.0)}
        if bad:
            raise ValueError(f"depegs must lie in [0, 1), found {bad}")
        return v

    @field_validator("pool_sales_usd")
    @classmethod
    def _sales_range(cls, v: dict[str, float]) -> dict[str, float]:
        bad = {k: x for k, x in v.items() if not (0 <= x <= MAX_AMOUNT_USD)}
        if bad:
            raise ValueError(f"pool sales must be finite, non-negative USD of at most {MAX_AMOUNT_USD:g}, found {bad}")
        return v

    @field_validator("liquidator_capacity_usd")
    @classmethod
    def _capacity_range(cls, v: float | None) -> float | None:
        if v is not None and not v <= MAX_AMOUNT_USD:
            raise ValueError(f"liquidator capacity must be finite USD of at most {MAX_AMOUNT_USD:g}, found {v}")
        return v

    @field_validator("shock_rounds")
    @classmethod
    def _within_horizon(cls, v: int, info: ValidationInfo) -> int:
        horizon = info.data.get("horizon")
        if horizon is not None and v > horizon:
            raise ValueError(f"shock_rounds {v} exceeds horizon {horizon}: the shock would not be reached")
        return v

    @field_validator("price_paths")
    @classmethod
    def _path_range(cls, v: dict[str, list[float]], info: ValidationInfo) -> dict[str, list[float]]:
        empty = sorted(k for k, xs in v.items() if not xs)
        if empty:
            raise ValueError(f"price paths need at least one move per asset, found empty paths for {empty}")
        bad = {f"{k}[{i}]": x for k, xs in v.items() for i, x in enumerate(xs) if not (-1.0 < x <= 10.0)}
        if bad:
            raise ValueError(f"price path moves must lie in (-1, 10] (a fall of less than 100%), found {bad}")
        for other, what in (("price_shocks", "a price shock"), ("depegs", "a depeg")):
            both = sorted(set(v) & set(info.data.get(other) or {}))
            if both:
                raise ValueError(f"assets {both} have both {what} and a price path: give each asset one or the other")
        horizon = info.data.get("horizon")
        long = {k: len(xs) for k, xs in v.items() if horizon is not None and len(xs) > horizon}
        if long:
            raise ValueError(f"price paths longer than the horizon ({horizon} rounds): {long}")
        return v

    @field_validator("forced_default_rounds")
    @classmethod
    def _forced_round_range(cls, v: dict[str, int], info: ValidationInfo) -> dict[str, int]:
        forced = info.data.get("forced_defaults")
        if forced is not None:
            unnamed = {k: x for k, x in v.items() if k not in forced}
            if unnamed:
                raise ValueError(f"entities of forced_defaults {sorted(forced)} (a failure is dated only where the scenario "
                                 f"forces it), found {unnamed}")
        horizon = info.data.get("horizon")
        bad = {k: x for k, x in v.items() if horizon is not None and x >= horizon}
        if bad:
            raise ValueError(f"rounds in [0, horizon) = [0, {horizon}) (a failure within the run), found {bad}")
        return v

    def without_safeguards(self) -> "Scenario":
        return self.model_copy(update={"safeguards": Safeguards()})

    def to_json(self, path: str | os.PathLike[str] | None = None) -> str:
        text = self.model_dump_json(indent=2) + "\n"
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def check_against(self, network: Any) -> None:
        """Raise DataValidationError when the scenario names assets or entities the network lacks."""
        problems: list[Problem] = []
        names = network.names
        syms, ents, pegged, pooled = names["assets"], names["entities"], names["pegged"], names["pooled"]
        for field, keys, allowed, what in (
            ("price_shocks", self.price_shocks, syms, "an asset of the network"),
            ("price_paths", self.price_paths, syms, "an asset of the network"),
            ("depegs", self.depegs, pegged, "a pegged asset of the network"),
            ("pool_sales_usd", self.pool_sales_usd, pooled, "an asset whose price an AMM pool sets"),
            ("forced_defaults", self.forced_defaults, ents, "an entity id of the network"),
            ("forced_default_rounds", self.forced_default_rounds, ents, "an entity id of the network"),
            ("safeguards.insurance_funds_usd", self.safeguards.insurance_funds_usd, ents, "an entity id of the network"),
            ("safeguards.adl_rules", self.safeguards.adl_rules, names["venues"], "a perpetuals venue of the network"),
            ("safeguards.collateral_policies", self.safeguards.collateral_policies, names["venues"], "a perpetuals venue of the network"),
            ("safeguards.adl_rules", [k for k, r in self.safeguards.adl_rules.items() if r == "backstop_vault" and k in names["venues"]],
             names["vaulted"], "a venue with a backstop vault (backstop_vault_usd > 0 in venues) for the rule backstop_vault"),
        ):
            for k in keys:
                if k not in allowed:
                    problems.append(Problem(f"scenario '{self.name}'", None, f"{field}.{k}", k, what, "record"))
        problems += self._impairment_problems(network)
        if problems:
            raise DataValidationError(problems)

    def _impairment_problems(self, network: Any) -> list[Problem]:
        """An impaired issuer has a fiat_reserves row; the fraction fits in the named reserve; its coin has no
        depeg, shock or path of its own (the impairment sets its price)."""
        if not self.reserve_impairments:
            return []
        out: list[Problem] = []
        pegs, assets = network.pegs, network.assets
        fiat = pegs[pegs["mechanism"] == "fiat_reserves"].merge(assets[["symbol", "issuer"]], left_on="asset", right_on="symbol")
        by_issuer = {i: row for i, row in zip(fiat["issuer"], fiat.to_dict("records"))}
        where = f"scenario '{self.name}'"
        for issuer, imp in self.reserve_impairments.items():
            row = by_issuer.get(issuer)
            if row is None:
                out.append(Problem(where, None, f"reserve_impairments.{issuer}", issuer,
                                   "the issuer of a fiat-backed stablecoin with a fiat_reserves row in the network's pegs table", "record"))
                continue
            share = float(row["reserve_" + imp.reserve])
            if imp.fraction > share + 1e-12:
                out.append(Problem(where, None, f"reserve_impairments.{issuer}.fraction", imp.fraction,
                                   f"at most the {imp.reserve} share of {row['asset']}'s reserves ({share:g})", "record"))
            for field, keys in (("depegs", self.depegs), ("price_shocks", self.price_shocks), ("price_paths", self.price_paths)):
                if row["asset"] in keys:
                    out.append(Problem(where, None, f"{field}.{row['asset']}", row["asset"],
                                       f"no {field} entry for {row['asset']}, whose price the impairment of {issuer} sets", "record"))
        return out


def parse_scenario(doc: dict[str, Any] | str, *, file: str = "scenario", text: str | None = None) -> Scenario:
    """Validate a scenario from a dict or JSON text; errors name each bad field.

    JSON text is read strictly (:mod:`core.strict_json`: a byte-order mark is
    accepted; duplicate keys, ``NaN``/``Infinity`` and overflowing numbers are
    errors naming line and column), and ``true``/``false`` is refused wherever a
    number is expected (pydantic would read ``"horizon": true`` as 1).

    Parameters
    ----------
    doc : dict or str
        The scenario's fields, or its JSON text.
    file : str
        The name used for the input in error messages.
    text : str, optional
        The JSON text ``doc`` was parsed from, so that errors name their line.

    Returns
    -------
    Scenario

    Raises
    ------
    DataValidationError
        With every bad field (file, field, value found and what was expected).

    Examples
    --------
    >>> parse_scenario('{"name": "x", "price_shocks": {"ETH": -0.3}}').price_shocks
    {'ETH': -0.3}
    >>> parse_scenario({"price_shocks": {"ETH": "a"}})
    Traceback (most recent call last):
    ...
    core.validation.DataValidationError: 1 problem in the input:
      - scenario, column 'price_shocks.ETH': found 'a'; expected a number
    """
    if isinstance(doc, str):
        text = doc
        doc = parse_json_text(doc, file)
    if not isinstance(doc, dict):
        raise DataValidationError([Problem(file, None, None, type(doc).__name__, "a JSON object")])
    booleans = boolean_problems(doc, Scenario, file, text)
    if booleans:
        raise DataValidationError(booleans)
    try:
        return Scenario.model_validate(doc)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            where = locate(text, loc) if text is not None else None
            value = err.get("input") if not isinstance(err.get("input"), (dict, list)) else None
            problems.append(Problem(file, where[0] if where else None, ".".join(str(p) for p in loc) or None, value,
                                    expected_of(err, Scenario) + (f" (line {where[0]}, character {where[1]})" if where else ""),
                                    "line" if where else "record"))
        raise DataValidationError(problems) from None


def load_scenario(path: str | os.PathLike[str]) -> Scenario:
    """Load and validate a scenario JSON file (UTF-8, with or without a byte-order mark).

    Parameters
    ----------
    path : str or path-like
        The scenario file (at most :data:`MAX_SCENARIO_BYTES`).

    Returns
    -------
    Scenario

    Raises
    ------
    DataValidationError
        When the file is missing, too large, not JSON, or has bad fields; each
        problem names the file, line and field.

    Examples
    --------
    >>> from core.datasets import data_path
    >>> sc = load_scenario(data_path("scenarios", "terra_may_2022.json"))
    >>> sc.name, sc.snapshot
    ('terra_may_2022', 'crypto-2022-05')
    """
    doc, text = read_json_file(path, "a scenario JSON file", max_bytes=MAX_SCENARIO_BYTES)
    return parse_scenario(doc, file=str(path), text=text)


def as_scenario(scenario: Any) -> Scenario:
    """The :class:`Scenario` that ``scenario`` stands for: a Scenario, a mapping (its fields) or a path to a JSON file.

    Parameters
    ----------
    scenario : Scenario, Mapping or str or os.PathLike
        A validated scenario (returned as it is), a mapping with the fields of
        a scenario file, or the path of a scenario JSON file.

    Returns
    -------
    Scenario

    Raises
    ------
    TypeError
        For anything else (a list, a number, JSON text that is not a path...).
    core.validation.DataValidationError
        When the mapping or file is not a valid scenario (each bad field named).

    Examples
    --------
    >>> as_scenario({"name": "eth-30", "price_shocks": {"ETH": -0.3}}).price_shocks
    {'ETH': -0.3}
    >>> as_scenario([1, 2])
    Traceback (most recent call last):
    ...
    TypeError: expected a Scenario, a mapping of scenario fields or the path of a scenario JSON file, got list
    """
    if isinstance(scenario, Scenario):
        return scenario
    if isinstance(scenario, Mapping):
        return parse_scenario(dict(scenario), file="scenario (mapping)")
    if isinstance(scenario, (str, os.PathLike)):
        return load_scenario(scenario)
    raise TypeError("expected a Scenario, a mapping of scenario fields or the path of a scenario JSON file, "
                    f"got {type(scenario).__name__}")


def scenario_schema() -> dict[str, Any]:
    """The published JSON schema of scenario files (``data/scenarios/scenario.schema.json``).

    Each model's description is the first paragraph of its docstring.

    Returns
    -------
    dict
        A JSON Schema (draft 2020-12) document.

    Examples
    --------
    >>> schema = scenario_schema()
    >>> schema["title"], schema["description"], "price_shocks" in schema["properties"]
    ('Scenario', 'What shocks the system and what protects it.', True)
    """
    schema = Scenario.model_json_schema()
    for model in (schema, *schema.get("$defs", {}).values()):  # pydantic copies whole docstrings: keep the summary
        if "description" in model:
            model["description"] = model["description"].split("\n\n")[0]
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://github.com/sfm-lab/sfm/data/scenarios/scenario.schema.json"
    return schema
