"""The Monte Carlo tab's settings: their defaults and ranges, the sweep's parameters and metrics, and the
checks that turn what the user typed into a run's settings (a message naming the field when it is off)."""

from __future__ import annotations

from typing import Any


from core.montecarlo import UNIT, MonteCarloSpec, parse_spec
from core.scenario import parse_scenario
from core.sweep import parse_grid
from core.validation import DataValidationError, Problem



DEFAULT_RUNS = 2_000
MIN_RUNS, MAX_RUNS = 100, 100_000
MAX_SWEEP_RUNS = 5_000
DEFAULT_CONFIDENCE = 0.99
CONFIDENCES = (0.9, 0.95, 0.975, 0.99, 0.995)
HORIZONS = (1, 7, 30)
HIST_BINS = 60
TOP_ENTITIES, TOP_PATHS = 10, 8
MAX_CELLS = 400

#: The risk table's rows: bad debt at par (its debt tokens' units at reference prices) beside the same marked at each
#: run's close (core.engine.reference_bad_debt).
RISK_LABELS = {"system_loss_usd": "System loss", "bad_debt_reference_usd": "Bad debt at par", "bad_debt_usd": "Bad debt at market",
               "insolvent_debt_usd": "Insolvent debt", "liquidated_usd": "Liquidated"}
SWEEP_LABELS = {
    "collateral_multiplier": "Collateral requirement (×)",
    "max_liquidation_bonus": "Cap on liquidation bonus",
    "max_close_factor": "Cap on close factor",
    "circuit_breaker_threshold": "Circuit breaker threshold (price fall)",
    "insurance_multiplier": "Insurance funds (×)",
    "run_intensity": "Withdrawal-run intensity",
    "liquidity": "Market liquidity (×)",
}
SWEEP_METRICS = {
    "bad_debt_reference_usd": "Bad debt at par",
    "bad_debt_usd": "Bad debt at market",
    "uncovered_bad_debt_usd": "Bad debt beyond insurance",
    "total_loss_usd": "System loss",
    "insolvent_debt_usd": "Insolvent debt",
    "liquidated_usd": "Liquidated volume",
    "defaults": "Defaults",
    "p_insolvent": "Probability of insolvency",
}



def _problem(field: str, value: Any, expected: str) -> DataValidationError:
    return DataValidationError([Problem("Monte Carlo settings", None, field, value, expected, "record")])


def settings(runs: Any, seed: Any, confidence: Any) -> tuple[int, int, float]:
    """Validated ``(runs, seed, confidence)``; a bad value raises naming the field."""
    try:
        r = int(runs)
        if r != float(runs) or not MIN_RUNS <= r <= MAX_RUNS:
            raise ValueError
    except (TypeError, ValueError):
        raise _problem("runs", runs, f"a whole number of runs from {MIN_RUNS:,} to {MAX_RUNS:,}") from None
    try:
        s = int(seed)
        if s != float(seed) or s < 0:
            raise ValueError
    except (TypeError, ValueError):
        raise _problem("seed", seed, "a whole number ≥ 0") from None
    try:
        a = float(confidence)
        if not 0.5 <= a < 1:
            raise ValueError
    except (TypeError, ValueError):
        raise _problem("confidence", confidence, "a confidence level between 0.5 and 1") from None
    return r, s, a


def spec_for(scenario: dict[str, Any] | None, dist: Any = "normal", horizon_days: Any = 1) -> MonteCarloSpec:
    """The Monte Carlo spec: shocks of the chosen distribution and horizon on top of the scenario on screen."""
    base = parse_scenario(scenario or {}, file="page")
    return parse_spec({"dist": dist or "normal", "horizon_days": horizon_days or 1, "base": base.model_dump(mode="json")},
                      file="Monte Carlo settings")


def chunk_size(runs: int) -> int:
    """Runs per chunk: about ten chunks (so the progress bar moves), a multiple of core.montecarlo.UNIT."""
    return max(UNIT, (runs // 10) // UNIT * UNIT)


def parse_values(text: Any, name: str) -> list[float]:
    """``"1:2:5"`` (start:stop:steps) or ``"1, 1.5, 2"`` → values; raises naming the parameter."""
    if text is None or not str(text).strip():
        raise DataValidationError([Problem("sweep", None, name, text, "values as start:stop:steps or v1, v2, …", "record")])
    try:
        _, values = parse_grid(f"{name}={str(text).replace(' ', '')}")
    except DataValidationError as exc:
        raise DataValidationError([Problem("sweep", None, name, text, p.expected, "record") for p in exc.problems]) from None
    return [float(v) for v in values]
