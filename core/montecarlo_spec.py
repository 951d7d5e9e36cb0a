"""The Monte Carlo specification: what a Monte Carlo of correlated shocks draws and under which conditions.

A spec is a JSON document (:func:`parse_spec`, :func:`load_spec`) checked at the
boundary: the source (parametric draws or historical replay), the distribution
and horizon, volatility stress, jumps, depegs (documented defaults by asset kind
in :data:`DEFAULT_DEPEGS`), the episodes to replay and the base
:class:`~core.scenario.Scenario`. The model it parameterises is in
:mod:`core.shock_model`; the run in :mod:`core.montecarlo`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Literal, Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .scenario import Scenario
from .problems import expected_of
from .validation import DataValidationError, Problem

class Jump(BaseModel):
    """A jump in an asset's log-return: with ``probability`` per day, add ``N(mean, sd²)``.

    Attributes
    ----------
    probability : float
        Chance of a jump per day, in [0, 1].
    mean, sd : float
        Mean (in [-5, 5], default -0.2) and standard deviation (in [0, 5], default 0.1) of the jump's log-return.

    Raises
    ------
    pydantic.ValidationError
        On a value out of range (a ``ValueError``).

    Examples
    --------
    >>> Jump(probability=0.01)
    Jump(probability=0.01, mean=-0.2, sd=0.1)
    """

    model_config = ConfigDict(extra="forbid")
    probability: float = Field(..., ge=0.0, le=1.0, description="Probability of a jump per day.")
    mean: float = Field(-0.2, ge=-5.0, le=5.0, description="Mean jump in log-return (-0.2 ≈ an 18% fall).")
    sd: float = Field(0.1, ge=0.0, le=5.0, description="Standard deviation of the jump in log-return.")


class Depeg(BaseModel):
    """A depeg event: with ``probability`` per day the token falls below its peg by U(size_min, size_max).

    Attributes
    ----------
    probability : float
        Chance of a depeg per day, in [0, 1].
    size_min, size_max : float
        Bounds of the uniform fall below the peg, in [0, 1) (defaults 0.02 and 0.1).

    Raises
    ------
    pydantic.ValidationError
        On a value out of range (a ``ValueError``).

    Examples
    --------
    >>> Depeg(probability=0.02, size_max=0.3)
    Depeg(probability=0.02, size_min=0.02, size_max=0.3)
    """

    model_config = ConfigDict(extra="forbid")
    probability: float = Field(..., ge=0.0, le=1.0, description="Probability of a depeg per day.")
    size_min: float = Field(0.02, ge=0.0, lt=1.0, description="Smallest fall below peg (fraction).")
    size_max: float = Field(0.10, ge=0.0, lt=1.0, description="Largest fall below peg (fraction).")

    @model_validator(mode="after")
    def _ordered(self) -> "Depeg":
        if self.size_min > self.size_max:
            raise ValueError(f"size_min {self.size_min} exceeds size_max {self.size_max}")
        return self


#: Default depeg events by asset kind, for pegged assets (estimates [E], per day). Reference episodes:
#: fiat-backed: USDT to 0.95 (May 2022), USDC to 0.88 (March 2023); CDP: DAI to 0.90 (March 2023);
#: algorithmic: UST to ~0 (May 2022), FRAX to 0.97 (May 2022); liquid staking: stETH to 0.935 ETH
#: (June 2022); wrapped (volatile pegged, WBTC): custodian risk, no large depeg observed.
DEFAULT_DEPEGS: dict[str, Depeg] = {
    "fiat_stable": Depeg(probability=0.0005, size_min=0.02, size_max=0.15),
    "cdp_stable": Depeg(probability=0.001, size_min=0.02, size_max=0.10),
    "algorithmic_stable": Depeg(probability=0.005, size_min=0.03, size_max=0.95),
    "liquid_staking": Depeg(probability=0.003, size_min=0.01, size_max=0.07),
    "volatile": Depeg(probability=0.0002, size_min=0.01, size_max=0.10),
    "exchange_token": Depeg(probability=0.001, size_min=0.05, size_max=0.50),
}


class MonteCarloSpec(BaseModel):
    """What a Monte Carlo draws and under which conditions (see the module docstring for the model).

    Each field's meaning, unit and range is in its ``Field`` description
    (``MonteCarloSpec.model_json_schema()``): the source (parametric draws or
    historical replay), the distribution and horizon, volatility stress, jumps,
    depegs, the episodes to replay and the ``base`` :class:`~core.scenario.Scenario`.

    Raises
    ------
    pydantic.ValidationError
        On an unknown field or a value out of range (a ``ValueError``); :func:`parse_spec`
        turns it into a :class:`~core.validation.DataValidationError`.

    Examples
    --------
    >>> spec = MonteCarloSpec(dist="t", df=5, jumps={"ETH": Jump(probability=0.01)})
    >>> spec.source, spec.dist, spec.horizon_days, spec.jumps["ETH"].mean
    ('parametric', 't', 1.0, -0.2)
    """

    model_config = ConfigDict(extra="forbid")
    source: Literal["parametric", "historical"] = Field("parametric", description="Correlated parametric shocks, or replay of the preset episodes.")
    dist: Literal["normal", "t"] = Field("normal", description="Distribution of the standardised log-returns.")
    df: float = Field(4.0, gt=2.0, le=1000.0, description="Degrees of freedom of the Student-t (> 2 for a finite variance).")
    horizon_days: float = Field(1.0, gt=0.0, le=365.0, description="Horizon of the shock in days.")
    path: Literal["daily", "jump"] = Field("daily", description="How the horizon's move arrives: a path of one draw per round of the base scenario (a day unless its round_hours says otherwise), or one square-root-of-time jump at round 0.")
    vol_multiplier: float = Field(1.0, ge=0.0, le=20.0, description="Multiplies every daily_vol (stress).")
    pegged: Literal["follow", "diffuse"] = Field("follow", description="Pegged assets follow their peg (moved only by depegs), or diffuse with their own daily_vol.")
    jumps: dict[str, Jump] = Field(default_factory=dict, description="Jumps per asset symbol.")
    default_depegs: bool = Field(True, description="Apply DEFAULT_DEPEGS (by asset kind) to every pegged asset.")
    depegs: dict[str, Depeg] = Field(default_factory=dict, description="Depeg events per pegged asset symbol (override the defaults).")
    episodes: list[str] = Field(default_factory=list, description="Historical source: preset names or scenario file paths (default: every data/scenarios/*.json).")
    base: Scenario = Field(default_factory=lambda: Scenario(name="montecarlo-base"), description="Base conditions (run intensity, liquidity, safeguards, forced defaults).")

    def to_json(self, path: str | os.PathLike[str] | None = None) -> str:
        text = self.model_dump_json(indent=2) + "\n"
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text


def parse_spec(doc: Mapping[str, Any] | str, *, file: str = "montecarlo spec") -> MonteCarloSpec:
    """Validate a Monte Carlo spec from a dict or JSON text; errors name each bad field.

    Parameters
    ----------
    doc : mapping or str
        The spec's fields, or its JSON text (read strictly, as scenarios are).
    file : str
        The name used for the input in error messages.

    Returns
    -------
    MonteCarloSpec

    Raises
    ------
    DataValidationError
        With every bad field.

    Examples
    --------
    >>> parse_spec('{"dist": "t", "df": 5}').df
    5.0
    >>> parse_spec({"dist": "cauchy"})
    Traceback (most recent call last):
    ...
    core.validation.DataValidationError: 1 problem in the input:
      - montecarlo spec, column 'dist': found 'cauchy'; expected 'normal' or 't'
    """
    if isinstance(doc, str):
        try:
            doc = json.loads(doc)
        except json.JSONDecodeError as exc:
            raise DataValidationError([Problem(file, exc.lineno, None, None, f"valid JSON ({exc.msg})", "line")]) from None
    if not isinstance(doc, Mapping):
        raise DataValidationError([Problem(file, None, None, type(doc).__name__, "a JSON object")])
    try:
        return MonteCarloSpec.model_validate(dict(doc))
    except ValidationError as exc:
        raise DataValidationError([
            Problem(file, None, ".".join(str(p) for p in e["loc"]) or None,
                    e.get("input") if not isinstance(e.get("input"), (dict, list)) else None, expected_of(e, MonteCarloSpec), "record")
            for e in exc.errors()
        ]) from None


def load_spec(path: str | os.PathLike[str]) -> MonteCarloSpec:
    """Load and validate a Monte Carlo spec JSON file.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    MonteCarloSpec

    Raises
    ------
    DataValidationError
        When the file is missing, not JSON, or has bad fields.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "spec.json")
    >>> _ = MonteCarloSpec(dist="t").to_json(path)
    >>> load_spec(path).dist
    't'
    """
    p = Path(path)
    if not p.is_file():
        raise DataValidationError([Problem(str(p), None, None, None, "a Monte Carlo spec JSON file that exists")])
    return parse_spec(p.read_text(encoding="utf-8"), file=str(p))
