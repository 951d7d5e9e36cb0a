r"""Monte Carlo of correlated shocks: the distribution of system loss, bad debt and defaults.

Shock model
-----------
Over a horizon of :math:`h` days the log-returns of the :math:`d` *diffusing*
assets (every unpegged asset; pegged ones too with ``pegged="diffuse"``) are

.. math:: r = \operatorname{diag}(\sigma \sqrt{h})\, A\, \varepsilon, \qquad A A^\top = C,

with :math:`\sigma` the assets' ``daily_vol`` (``assets.csv``), :math:`C` the
correlation matrix of ``correlations.csv`` (pairs not listed are uncorrelated;
``A`` is the Cholesky factor, or the symmetric square root when ``C`` is
semi-definite) and :math:`\varepsilon` either

* ``dist="normal"``: :math:`\varepsilon \sim N(0, I)`, or
* ``dist="t"`` (fat, jointly heavy tails): the multivariate Student-t
  :math:`\varepsilon = \sqrt{(\nu-2)/\nu}\; z / \sqrt{W/\nu}` with
  :math:`z \sim N(0, I)` and one :math:`W \sim \chi^2_\nu` shared by all assets
  per run, scaled to unit variance (so :math:`C` stays the correlation matrix
  and :math:`\sigma` the volatility; ``df`` :math:`\nu > 2`).

Horizons longer than one round of the base scenario (a day unless its
``round_hours`` says otherwise) are drawn as a **path** by default
(``path="daily"``): one independent draw of this model per round, scaled by
the round's :math:`\sqrt{\Delta}`, applied round by round as the cascade's
exogenous path (:mod:`core.montecarlo_paths`, :mod:`core.paths`), so
liquidators meet the fall as it unfolds; jumps and depegs are dated within the
horizon. ``path="jump"`` keeps one jump at round 0 scaled by the
square-root-of-time rule (exact for the normal model, the usual approximation
for the t). A one-round horizon is the same draw either way. Log-returns have
zero mean.

*Pegged assets* (``peg_target`` set) follow their peg by default
(``pegged="follow"``): a USD-pegged token keeps its price, a token pegged to
another asset (stETH → ETH, WBTC → BTC) takes that asset's log-return. They
leave the peg only through **depeg events**: with probability
:math:`p_h = 1 - (1 - p)^h` per horizon (``p`` per day) the token falls below
its peg by a size drawn uniformly in ``[size_min, size_max]``. Documented
defaults by asset kind are in :data:`DEFAULT_DEPEGS`. Optional **jumps** add,
with probability :math:`p_h`, a jump :math:`J \sim N(\mu_J, \sigma_J^2)` to an
asset's log-return (Merton 1976, at most one per horizon). The price multiplier
applied at round 0 of the cascade is :math:`e^{r}`.

``source="historical"`` replays the preset episodes instead: each run picks one
of ``data/scenarios/*.json`` uniformly and applies its ``price_shocks``,
``depegs`` and price paths. Each episode is replayed only on its own snapshot
(the preset's ``snapshot`` field): the others are left out and listed in
``meta["episodes_skipped"]`` with the reason (:func:`select_episodes`).

The base scenario (``spec.base``) sets the conditions: run intensity, liquidity,
oracle lag, safeguards, forced defaults. Its own price shocks are combined with
each draw (multipliers multiply; the larger depeg wins).

Seed stability
--------------
The draws of run :math:`i` come from the generator
``default_rng(SeedSequence(seed, spawn_key=(i // RNG_BLOCK,)))`` (the
``i // RNG_BLOCK``-th child of ``SeedSequence(seed).spawn``), always drawing a
whole block in a fixed order. A run's result never depends on what shares its
engine batch (:func:`core.engine.run_batch`), so a chunk goes to the engine in
batches as large as :data:`MAX_BATCH_ROWS` allows; per-entity sums are formed per
aligned unit of :data:`UNIT` runs and added in run order. So the same seed
gives the same numbers, bit for bit, on any backend, any number of workers and
any chunk size (a multiple of :data:`UNIT`).

Risk measures
-------------
For losses :math:`L_1, \dots, L_N` (positive = loss) at confidence :math:`\alpha`:

* :math:`\mathrm{VaR}_\alpha = \inf\{\ell : \hat F_N(\ell) \ge \alpha\}`, the
  empirical quantile (``numpy.quantile(..., method="inverted_cdf")``);
* :math:`\mathrm{ES}_\alpha = \frac{1}{1-\alpha}\int_\alpha^1 \mathrm{VaR}_u\,du`
  of the empirical distribution, the Acerbi–Tasche (2002) estimator: the mean
  of the worst :math:`w = N(1-\alpha)` losses, the last one weighted by the
  fractional part of :math:`w`.

Standard errors: binomial :math:`\sqrt{\hat p(1-\hat p)/N}` for probabilities,
:math:`s/\sqrt N` for means, and a bootstrap (:data:`BOOTSTRAP_RESAMPLES`
resamples with a generator fixed by the seed) for VaR and ES.

Contagion paths
---------------
For each exposure ``debtor → creditor`` (``exposures.csv``, aggregated per
pair) :math:`P(\text{path})` is the share of runs in which **both default and
the debtor defaults no later than the creditor** (round of default): the loss
on that claim may have carried the default along the edge. Beside it,
``p_debtor_default`` is the share of runs in which the edge carries a loss at
all (the debtor defaults, so the exposed creditor is written down).

References
----------
* Glasserman, P. (2003). *Monte Carlo Methods in Financial Engineering*.
  Springer. §2.3 (correlated normals by Cholesky), §9 (VaR).
* McNeil, A. J., Frey, R., & Embrechts, P. (2015). *Quantitative Risk
  Management*, revised ed. Princeton. §2.3 (VaR, ES), §6.2 (multivariate t).
* Acerbi, C., & Tasche, D. (2002). On the coherence of expected shortfall.
  *Journal of Banking & Finance*, 26(7), 1487–1503.
* Merton, R. C. (1976). Option pricing when underlying stock returns are
  discontinuous. *Journal of Financial Economics*, 3(1–2), 125–144.
* Efron, B., & Tibshirani, R. (1993). *An Introduction to the Bootstrap*. Chapman & Hall.
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any, Callable, Literal, Mapping, Sequence

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .engine import compile_network, run_batch, scenario_batch
from .montecarlo_paths import MAX_STEPS, step_days, unit_path, with_paths
from .paths import ExogenousPaths
from .network import Network
from .scenario import Scenario, load_scenario
from .results import keyed, non_finite_cells, table_from_doc, table_to_doc
from .streaming_risk import RELATIVE_ACCURACY, SECTIONS, RiskFold, Segment, summarise
from .strict_json import finite_json_dumps
from .validation import DataValidationError, Problem

#: Runs per random-number block: run i draws from the generator of block ``i // RNG_BLOCK``.
RNG_BLOCK = 1000
#: Runs per aggregation unit: per-entity sums are formed per aligned unit, so chunk sizes must be multiples of it.
UNIT = 100
#: Default runs per task (a multiple of UNIT).
DEFAULT_CHUNK = 1000
#: Largest batch (scenarios) handed to the engine at once: runs × sweep cells (at most MAX_BATCH_ROWS // UNIT cells).
MAX_BATCH_ROWS = 2000
#: Bootstrap resamples for the standard errors of VaR and ES.
BOOTSTRAP_RESAMPLES = 200
#: Confidence levels reported by default.
DEFAULT_CONFIDENCES: tuple[float, ...] = (0.95, 0.99)
#: Loss below which a run counts as free of uncovered bad debt (USD; floating-point slack).
SOLVENCY_TOL_USD = 1.0
#: Per-run quantities whose VaR and ES are reported.
RISK_QUANTITIES: tuple[str, ...] = ("system_loss_usd", "bad_debt_usd", "insolvent_debt_usd", "liquidated_usd")

ProgressFn = Callable[[int, int], None]


# ---------------------------------------------------------------------------
# The specification (a JSON document)
# ---------------------------------------------------------------------------

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
      - montecarlo spec, column 'dist': found 'cauchy'; expected Input should be 'normal' or 't'
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
                    e.get("input") if not isinstance(e.get("input"), (dict, list)) else None, e["msg"], "record")
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


# ---------------------------------------------------------------------------
# Correlation matrix
# ---------------------------------------------------------------------------

#: Smallest eigenvalue tolerated as numerically zero.
PSD_TOL = 1e-10


def correlation_matrix(net: Network, symbols: Sequence[str] | None = None) -> pd.DataFrame:
    """The correlation matrix of ``symbols`` (default: all assets) from ``net.correlations``.

    Pairs not listed are uncorrelated. The matrix is checked, never repaired.

    Raises
    ------
    DataValidationError
        When a pair is listed twice with different values, or the matrix is not
        positive semi-definite; the message names the offending pair.

    Examples
    --------
    >>> from core import datasets
    >>> C = correlation_matrix(datasets.load("crypto-2022-05"), ["ETH", "BTC"])
    >>> float(C.loc["ETH", "BTC"])
    0.85
    """
    syms = list(net.assets["symbol"] if symbols is None else symbols)
    pos = {s: i for i, s in enumerate(syms)}
    d = len(syms)
    C = np.eye(d)
    seen: dict[tuple[str, str], float] = {}
    problems: list[Problem] = []
    corr = net.correlations
    if len(corr):
        for row, (a, b, rho) in enumerate(zip(corr["asset_a"], corr["asset_b"], corr["correlation"].astype(float)), start=1):
            key = (a, b) if a <= b else (b, a)
            if key in seen and seen[key] != rho:
                problems.append(Problem("correlations", row, "correlation", f"{a}–{b} = {rho}",
                                        f"one value per pair (already listed as {seen[key]})", "record"))
            seen[key] = rho
            if a in pos and b in pos:
                C[pos[a], pos[b]] = C[pos[b], pos[a]] = rho
    if problems:
        raise DataValidationError(problems)
    _check_psd(C, syms)
    return pd.DataFrame(C, index=pd.Index(syms, name="asset"), columns=syms)


def _check_psd(C: np.ndarray, syms: Sequence[str]) -> None:
    """Raise, naming the pair at fault, unless ``C`` is positive semi-definite."""
    if len(C) == 0:
        return
    lam, V = np.linalg.eigh(C)
    if lam[0] >= -PSD_TOL:
        return
    msg = None
    d = len(C)
    if d >= 3:
        # The smallest inconsistency: a triple whose 3×3 minor is negative, and in it the pair furthest outside
        # the bounds the other two pairs allow: ρ_ab ∈ ρ_ac ρ_bc ± √((1-ρ_ac²)(1-ρ_bc²)).
        T = np.array(list(combinations(range(d), 3)))
        i, j, k = T.T
        a, b, c = C[i, j], C[i, k], C[j, k]
        det = 1 + 2 * a * b * c - a * a - b * b - c * c
        if (det < -PSD_TOL).any():
            t = int(np.argmin(det))
            tri = [int(x) for x in T[t]]
            worst = None
            for p, q in ((0, 1), (0, 2), (1, 2)):
                r = 3 - p - q
                x, y, z = tri[p], tri[q], tri[r]
                centre = C[x, z] * C[y, z]
                half = math.sqrt(max(0.0, (1 - C[x, z] ** 2) * (1 - C[y, z] ** 2)))
                out = max(centre - half - C[x, y], C[x, y] - centre - half)
                if worst is None or out > worst[0]:
                    worst = (out, x, y, z, centre - half, centre + half)
            _, x, y, z, lo, hi = worst  # type: ignore[misc]
            msg = (f"a positive semi-definite correlation matrix; the pair {syms[x]}–{syms[y]} ({C[x, y]:.4g}) is inconsistent "
                   f"with {syms[x]}–{syms[z]} ({C[x, z]:.4g}) and {syms[y]}–{syms[z]} ({C[y, z]:.4g}): given those it must lie "
                   f"in [{lo:.4f}, {hi:.4f}]")
            pair = f"{syms[x]}–{syms[y]} = {C[x, y]:.4g}"
    if msg is None:
        v = V[:, 0]
        contrib = np.triu(2 * np.outer(v, v) * C, 1)
        x, y = (int(i) for i in np.unravel_index(int(np.argmin(contrib)), contrib.shape))
        msg = (f"a positive semi-definite correlation matrix (smallest eigenvalue {lam[0]:.3g}); the pair "
               f"{syms[x]}–{syms[y]} ({C[x, y]:.4g}) contributes most to the negative direction")
        pair = f"{syms[x]}–{syms[y]} = {C[x, y]:.4g}"
    raise DataValidationError([Problem("correlations", None, "correlation", pair, msg, "record")])


def _factor(C: np.ndarray) -> np.ndarray:
    """A with A Aᵀ = C: the Cholesky factor, or the symmetric square root when C is only semi-definite."""
    try:
        return np.linalg.cholesky(C)
    except np.linalg.LinAlgError:
        lam, V = np.linalg.eigh(C)
        return V * np.sqrt(np.maximum(lam, 0.0))


# ---------------------------------------------------------------------------
# The shock model: arrays built once, drawn per block
# ---------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class ShockModel:
    """Arrays of a :class:`MonteCarloSpec` on a network (picklable; what workers draw from).

    Build it with :meth:`from_spec`; :meth:`draw` gives the round-0 arrays of runs ``start:stop``
    (the same runs give the same draws whatever the chunking).

    Attributes
    ----------
    symbols : tuple of str
        The network's asset symbols, in its order (the columns of the draws).

    Examples
    --------
    >>> from core.datasets import synthetic
    >>> model = ShockModel.from_spec(synthetic(8, 20, seed=1), MonteCarloSpec())
    >>> model.symbols[:3]
    ('ETH', 'BTC', 'stETH')
    >>> [a.shape for a in model.draw(seed=1, start=0, stop=4)]
    [(4, 8), (4, 8), (4,)]
    >>> bool((model.draw(1, 0, 4)[0] == model.draw(1, 0, 4)[0]).all())
    True
    """

    symbols: tuple[str, ...]
    source: str
    dist: str
    df: float
    diffusing: np.ndarray          # (d,) asset index of each diffusing asset
    scale: np.ndarray              # (d,) σ·vol_multiplier·√h
    factor: np.ndarray             # (d, d) A with A Aᵀ = C
    follow_order: np.ndarray       # pegged followers in dependency order
    follow_unit: np.ndarray        # their peg unit (asset index, -1 = USD)
    jump_asset: np.ndarray         # (j,)
    jump_p: np.ndarray             # (j,) probability per horizon
    jump_mean: np.ndarray
    jump_sd: np.ndarray
    depeg_asset: np.ndarray        # (q,)
    depeg_p: np.ndarray            # (q,) probability per horizon
    depeg_lo: np.ndarray
    depeg_hi: np.ndarray
    episode_names: tuple[str, ...] = ()
    episode_shock: np.ndarray = field(default_factory=lambda: np.ones((0, 0)))   # (E, k) multipliers
    episode_depeg: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))  # (E, k)
    path_steps: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (n,) step lengths in days; empty = one jump
    daily_scale: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (d,) σ·vol_multiplier per √day
    jump_p_daily: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (j,) probability per day
    depeg_p_daily: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (q,) probability per day
    episode_paths: ExogenousPaths | None = None  # the episodes' own shock_rounds and price paths (one row each)
    episode_horizon: np.ndarray = field(default_factory=lambda: np.zeros(0, int))  # (E,)
    episodes_skipped: tuple[tuple[str, str], ...] = ()  # presets not replayed on this network, with the reason

    @property
    def k(self) -> int:
        return len(self.symbols)

    @classmethod
    def from_spec(cls, net: Network, spec: MonteCarloSpec) -> "ShockModel":
        """Check ``spec`` against ``net`` and build the arrays (raises DataValidationError naming what is wrong)."""
        ast = net.assets
        syms = tuple(ast["symbol"])
        k = len(syms)
        apos = {s: i for i, s in enumerate(syms)}
        kinds = ast["kind"].to_numpy(dtype=object)
        pegged = ast["peg_target"].notna().to_numpy()
        unit = np.array([-1 if u in ("USD", "") else apos.get(u, -1) for u in ast["peg_unit"].fillna("")], dtype=int)
        problems: list[Problem] = []
        for s in spec.jumps:
            if s not in apos:
                problems.append(Problem("montecarlo spec", None, f"jumps.{s}", s, "an asset of the network", "record"))
        for s in spec.depegs:
            if s not in apos or not pegged[apos[s]]:
                problems.append(Problem("montecarlo spec", None, f"depegs.{s}", s, "a pegged asset of the network", "record"))
        if problems:
            raise DataValidationError(problems)

        follow = pegged if spec.pegged == "follow" else np.zeros(k, bool)
        diffusing = np.flatnonzero(~follow)
        C = correlation_matrix(net, [syms[i] for i in diffusing]).to_numpy()
        h = spec.horizon_days
        sigma = ast["daily_vol"].to_numpy(dtype=float)[diffusing] * spec.vol_multiplier * math.sqrt(h)

        # Followers in dependency order (a follower of a follower comes after it).
        order: list[int] = []
        todo = [int(i) for i in np.flatnonzero(follow)]
        while todo:
            ready = [i for i in todo if unit[i] < 0 or not follow[unit[i]] or unit[i] in order]
            if not ready:
                raise DataValidationError([Problem("assets", None, "peg_unit", syms[todo[0]], "pegs that do not form a cycle", "record")])
            order += ready
            todo = [i for i in todo if i not in ready]

        ph = lambda p: 1.0 - (1.0 - p) ** h  # noqa: E731
        jumps = [(apos[s], j) for s, j in spec.jumps.items()]
        dep: dict[int, Depeg] = {}
        if spec.default_depegs:
            for i in np.flatnonzero(pegged):
                if kinds[i] in DEFAULT_DEPEGS:
                    dep[int(i)] = DEFAULT_DEPEGS[kinds[i]]
        for s, dspec in spec.depegs.items():
            dep[apos[s]] = dspec
        dep_items = sorted(dep.items())

        names: tuple[str, ...] = ()
        skipped: dict[str, str] = {}
        e_shock, e_depeg = np.ones((0, k)), np.zeros((0, k))
        e_paths, e_horizon = None, np.zeros(0, int)
        steps = np.zeros(0)
        if spec.source == "parametric" and spec.path == "daily":
            steps = step_days(h, spec.base.round_hours)
            if len(steps) > MAX_STEPS:
                raise DataValidationError([Problem("montecarlo spec", None, "horizon_days", h,
                                                   f"at most {MAX_STEPS} rounds of {spec.base.round_hours:g} hours (base.round_hours) "
                                                   f"for a daily path, or path 'jump'", "record")])
            if len(steps) == 1:
                steps = np.zeros(0)  # one round: the jump model, bit for bit
        if spec.source == "historical":
            episodes, skipped = select_episodes(net, spec.episodes)
            names = tuple(episodes)
            e_shock = np.ones((len(episodes), k))
            e_depeg = np.zeros((len(episodes), k))
            for e, sc in enumerate(episodes.values()):
                for a, v in sc.price_shocks.items():
                    e_shock[e, apos[a]] = 1.0 + v
                for a, v in sc.depegs.items():
                    e_depeg[e, apos[a]] = v
            e_paths = ExogenousPaths.of([sc.shock_rounds for sc in episodes.values()],
                                        [sc.price_paths for sc in episodes.values()], syms)
            e_horizon = np.array([sc.horizon for sc in episodes.values()], dtype=int)

        daily = ast["daily_vol"].to_numpy(dtype=float)[diffusing] * spec.vol_multiplier
        return cls(
            symbols=syms, source=spec.source, dist=spec.dist, df=float(spec.df),
            diffusing=diffusing, scale=sigma, factor=_factor(C),
            follow_order=np.array(order, dtype=int), follow_unit=unit[np.array(order, dtype=int)] if order else np.zeros(0, int),
            jump_asset=np.array([a for a, _ in jumps], dtype=int), jump_p=np.array([ph(j.probability) for _, j in jumps]),
            jump_mean=np.array([j.mean for _, j in jumps]), jump_sd=np.array([j.sd for _, j in jumps]),
            depeg_asset=np.array([a for a, _ in dep_items], dtype=int), depeg_p=np.array([ph(x.probability) for _, x in dep_items]),
            depeg_lo=np.array([x.size_min for _, x in dep_items]), depeg_hi=np.array([x.size_max for _, x in dep_items]),
            episode_names=names, episode_shock=e_shock, episode_depeg=e_depeg,
            path_steps=steps, daily_scale=daily, jump_p_daily=np.array([j.probability for _, j in jumps]),
            depeg_p_daily=np.array([x.probability for _, x in dep_items]), episode_paths=e_paths, episode_horizon=e_horizon,
            episodes_skipped=tuple(skipped.items()),
        )

    # -- drawing -------------------------------------------------------------
    @property
    def multi_step(self) -> bool:
        """Whether runs draw a path of several rounds (else one jump at round 0)."""
        return len(self.path_steps) > 1

    def _raw_block(self, seed: int, block: int) -> dict[str, np.ndarray]:
        """The draws of the RNG_BLOCK runs of one block (always drawn whole, in fixed order)."""
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(block,)))
        B = RNG_BLOCK
        raw: dict[str, np.ndarray] = {"z": rng.standard_normal((B, len(self.diffusing))), "w": rng.chisquare(self.df, B)}
        raw["ju"] = rng.random((B, len(self.jump_asset)))
        raw["jz"] = rng.standard_normal((B, len(self.jump_asset)))
        raw["du"] = rng.random((B, len(self.depeg_asset)))
        raw["ds"] = rng.random((B, len(self.depeg_asset)))
        raw["ep"] = rng.integers(0, max(len(self.episode_names), 1), B)
        return raw

    def _block(self, seed: int, block: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Log-returns, depegs and episode index of the RNG_BLOCK runs of one block (one jump at round 0)."""
        raw = self._raw_block(seed, block)
        B, k = RNG_BLOCK, self.k
        z, w, ju, jz, du, ds, ep = (raw[x] for x in ("z", "w", "ju", "jz", "du", "ds", "ep"))
        if self.source == "historical":
            return np.log(self.episode_shock[ep]), self.episode_depeg[ep], ep
        if self.dist == "t":
            z = z * np.sqrt((self.df - 2.0) / w)[:, None]   # √((ν-2)/ν) · z / √(W/ν)
        r = np.zeros((B, k))
        r[:, self.diffusing] = (z @ self.factor.T) * self.scale
        jump = np.zeros((B, k))
        if len(self.jump_asset):
            jump[:, self.jump_asset] = np.where(ju < self.jump_p, self.jump_mean + self.jump_sd * jz, 0.0)
        r += jump
        for i, u in zip(self.follow_order, self.follow_unit):  # a few pegged assets, not scenarios
            r[:, i] = (r[:, u] if u >= 0 else 0.0) + jump[:, i]
        depeg = np.zeros((B, k))
        if len(self.depeg_asset):
            depeg[:, self.depeg_asset] = np.where(du < self.depeg_p, self.depeg_lo + (self.depeg_hi - self.depeg_lo) * ds, 0.0)
        return r, depeg, np.full(B, -1)

    def draw_paths(self, seed: int, start: int, stop: int) -> np.ndarray:
        """Cumulative log-moves ``(S, steps, k)`` of runs ``start:stop`` at the end of each step (multi-step model).

        Runs are drawn a unit of :data:`UNIT` at a time (:func:`core.montecarlo_paths.unit_path`), so
        a run's path depends only on the seed and its index.
        """
        if not (0 <= start <= stop):
            raise ValueError(f"bad run range {start}:{stop}")
        parts = [np.zeros((0, len(self.path_steps), self.k))]
        for u in range(start // UNIT, (stop - 1) // UNIT + 1 if stop > start else start // UNIT):
            blk = u * UNIT // RNG_BLOCK
            raw = self._raw_block(seed, blk)
            off = u * UNIT - blk * RNG_BLOCK
            x = unit_path(self, seed, blk, off // UNIT, {k_: v[off:off + UNIT] for k_, v in raw.items()})
            parts.append(x[max(start - u * UNIT, 0):min(stop - u * UNIT, UNIT)])
        return np.concatenate(parts)

    def draw(self, seed: int, start: int, stop: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Log-returns ``(S, k)``, depegs ``(S, k)`` and episode index ``(S,)`` (-1 = parametric) of runs ``start:stop``."""
        if not (0 <= start <= stop):
            raise ValueError(f"bad run range {start}:{stop}")
        parts = []
        for blk in range(start // RNG_BLOCK, (stop - 1) // RNG_BLOCK + 1 if stop > start else start // RNG_BLOCK):
            lo, hi = max(start, blk * RNG_BLOCK), min(stop, (blk + 1) * RNG_BLOCK)
            r, d, e = self._block(seed, blk)
            s = slice(lo - blk * RNG_BLOCK, hi - blk * RNG_BLOCK)
            parts.append((r[s], d[s], e[s]))
        if not parts:
            return np.zeros((0, self.k)), np.zeros((0, self.k)), np.zeros(0, int)
        return tuple(np.concatenate(x) for x in zip(*parts))  # type: ignore[return-value]


def load_episodes(net: Network, names: Sequence[str] = ()) -> dict[str, Scenario]:
    """Preset episodes by name (``data/scenarios/<name>.json``) or path; all that fit ``net`` when ``names`` is empty.

    See :func:`select_episodes` for which presets fit a network.

    Parameters
    ----------
    net : Network
    names : sequence of str
        Preset keys or scenario file paths (empty: every preset that fits).

    Returns
    -------
    dict of str to Scenario

    Raises
    ------
    DataValidationError
        When an episode named explicitly does not fit ``net``.

    Examples
    --------
    >>> from core.datasets import load
    >>> sorted(load_episodes(load("crypto-2020-03")))
    ['black_thursday_2020']
    """
    return select_episodes(net, names)[0]


def select_episodes(net: Network, names: Sequence[str] = ()) -> tuple[dict[str, Scenario], dict[str, str]]:
    """The episodes to replay on ``net``, and those left out with the reason (preset key → reason).

    An episode is replayed on the system it happened to: a preset naming a shipped
    snapshot (its ``snapshot`` field, :mod:`core.datasets`) is replayed only on that
    snapshot. On a network that is no shipped snapshot (an edited copy, an upload), a
    preset is replayed when every asset and entity it names is in the network
    (:meth:`Scenario.check_against`). With ``names`` empty, the presets that do not
    fit are left out and listed with why; an episode named explicitly that does not
    fit is an error (it says on which snapshot to run it).

    Parameters
    ----------
    net : Network
    names : sequence of str
        Preset keys or scenario file paths (empty: every preset).

    Returns
    -------
    episodes : dict of str to Scenario
    skipped : dict of str to str
        Preset key → why it was left out.

    Raises
    ------
    DataValidationError
        When an episode named explicitly does not fit ``net``.

    Examples
    --------
    >>> from core.datasets import load
    >>> episodes, skipped = select_episodes(load("crypto-2020-03"))
    >>> sorted(episodes), sorted(skipped)[:2]
    (['black_thursday_2020'], ['black_thursday_eth_crash', 'ftx_nov_2022'])
    """
    from .datasets import scenario_dir, snapshot_of

    folder = scenario_dir()
    explicit = bool(names)
    paths = [Path(n) if (n.endswith(".json") or os.sep in n) else folder / f"{n}.json" for n in names] if names else \
        sorted(p for p in folder.glob("*.json") if not p.name.endswith(".schema.json"))
    if not paths:
        raise DataValidationError([Problem(str(folder), None, None, None, "preset scenario files (*.json) for historical replay")])
    own = snapshot_of(net)
    out: dict[str, Scenario] = {}
    skipped: dict[str, str] = {}
    problems: list[Problem] = []
    for p in paths:
        sc = load_scenario(p)
        if sc.snapshot and own is not None and sc.snapshot != own:
            reason = f"written for snapshot {sc.snapshot}, not {own} (replay it with --data {sc.snapshot})"
            problems.append(Problem(str(p), None, "snapshot", sc.snapshot, f"an episode of the network replayed, {own}: it is {reason}"))
            skipped[p.stem] = reason
            continue
        try:
            sc.check_against(net)
        except DataValidationError as exc:
            if explicit:
                raise
            skipped[p.stem] = f"names what {net.name or 'this network'} lacks ({'; '.join(str(q.value) for q in exc.problems[:3])})"
            continue
        out[p.stem] = sc
    if explicit and problems:
        raise DataValidationError(problems)
    if not out:
        raise DataValidationError([Problem(str(folder), None, None, net.name or None,
                                           "at least one preset episode of this network for historical replay; left out: "
                                           + "; ".join(f"{k}: {v}" for k, v in skipped.items()))])
    return out, skipped


def correlated_returns(net: Network, runs: int, seed: int, *, dist: Literal["normal", "t"] = "normal", df: float = 4.0,
                       horizon_days: float = 1.0, vol_multiplier: float = 1.0,
                       pegged: Literal["follow", "diffuse"] = "follow", jumps: Mapping[str, Jump | Mapping[str, float]] | None = None,
                       start: int = 0) -> pd.DataFrame:
    """Joint log-returns of the network's assets for runs ``start .. start+runs-1``.

    ``r = diag(σ√h) A ε`` (module docstring) plus any jumps; pegged assets
    follow their peg unless ``pegged="diffuse"``. Depeg events are not part of
    the returns (see :meth:`ShockModel.draw`).

    Parameters
    ----------
    net : Network
    runs, seed : int
        Number of runs and the seed; run i always gets the same draw for a seed.
    dist : {"normal", "t"}, keyword-only
    df : float
        Student-t degrees of freedom (> 2).
    horizon_days, vol_multiplier : float
    pegged : {"follow", "diffuse"}
    jumps : mapping symbol → Jump, optional
    start : int
        Index of the first run.

    Returns
    -------
    DataFrame of shape (runs, k), one column per asset symbol, indexed by run.

    Raises
    ------
    DataValidationError
        Bad parameters, or a correlation matrix that is not positive semi-definite.

    Examples
    --------
    >>> from core import datasets
    >>> r = correlated_returns(datasets.load("crypto-2022-05"), 20_000, seed=1)
    >>> round(float(r[["ETH", "BTC"]].corr().iloc[0, 1]), 2)
    0.85
    >>> bool((r["USDC"] == 0).all()), bool((r["stETH"] == r["ETH"]).all())
    (True, True)
    """
    spec = parse_spec({"dist": dist, "df": df, "horizon_days": horizon_days, "vol_multiplier": vol_multiplier,
                       "pegged": pegged, "jumps": dict(jumps or {}), "default_depegs": False})
    if runs < 0 or start < 0:
        raise ValueError("runs and start must be non-negative")
    r, _, _ = ShockModel.from_spec(net, spec).draw(seed, start, start + runs)
    return pd.DataFrame(r, columns=list(net.assets["symbol"]), index=pd.RangeIndex(start, start + runs, name="run"))


# ---------------------------------------------------------------------------
# Risk measures
# ---------------------------------------------------------------------------

def value_at_risk(losses: np.ndarray, confidence: float) -> float:
    """Empirical VaR: ``inf{l : F_N(l) ≥ confidence}`` of positive losses (McNeil–Frey–Embrechts 2015, §2.3).

    Parameters
    ----------
    losses : ndarray
        One loss per run (USD).
    confidence : float
        In (0, 1).

    Returns
    -------
    float

    Examples
    --------
    >>> value_at_risk(np.arange(1, 101), 0.95)
    95.0
    """
    x = np.asarray(losses, dtype=float)
    if not len(x):
        return float("nan")
    return float(np.quantile(x, confidence, method="inverted_cdf"))


def expected_shortfall(losses: np.ndarray, confidence: float) -> float:
    """Acerbi–Tasche (2002) ES: ``(1/(1-α)) ∫_α^1 VaR_u du`` of the empirical distribution.

    The mean of the worst ``w = N(1-α)`` losses, the last weighted by the fractional part of ``w``.

    Parameters
    ----------
    losses : ndarray
        One loss per run (USD).
    confidence : float
        ``α``, in (0, 1).

    Returns
    -------
    float

    Examples
    --------
    >>> expected_shortfall(np.arange(1, 101), 0.95)
    98.0
    """
    x = np.sort(np.asarray(losses, dtype=float))[None, ::-1]
    return float(_es_sorted_desc(x, confidence)[0]) if x.size else float("nan")


def _tail_length(n: int, confidences: Sequence[float]) -> int:
    """Largest values of ``n`` that VaR and ES at every confidence read (the order statistics from
    :func:`_var_sorted_asc`'s index up, and the ``floor(n(1-c)) + 1`` worst for ES)."""
    need = [n - _var_index(n, a) for a in confidences]
    need += [int(math.floor(round(n * (1.0 - a), 9))) + 1 for a in confidences]
    return min(n, max(need, default=n))


def _sorted_tail(x: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` largest values of each row of ``x``, sorted ascending: the last ``k`` columns of
    ``np.sort(x, axis=1)`` value for value (a partition then a sort of the tail, O(n + k log k) per row)."""
    n = x.shape[1]
    if k >= n:
        return np.sort(x, axis=1)
    return np.sort(np.partition(x, n - k, axis=1)[:, n - k:], axis=1)


def _es_sorted_desc(xd: np.ndarray, alpha: float, n: int | None = None) -> np.ndarray:
    """ES along axis 1 of losses sorted in descending order (the ``n`` runs' worst first; ``xd`` may hold only
    the worst of them, enough for :func:`_tail_length`)."""
    n = xd.shape[1] if n is None else n
    w = round(n * (1.0 - alpha), 9)
    m = int(math.floor(w))
    top = xd[:, :m].sum(1) if m else np.zeros(len(xd))
    frac = w - m
    if frac > 0 and m < n:
        top = top + frac * xd[:, m]
    return top / w if w > 0 else xd[:, 0]


def _var_index(n: int, alpha: float) -> int:
    """Index of the VaR in ``n`` losses sorted ascending (numpy's inverted_cdf)."""
    v = n * alpha - 1
    lo = math.floor(v)
    return min(max(lo + (1 if v - lo > 0 else 0), 0), n - 1)


def _var_sorted_asc(xs: np.ndarray, alpha: float, n: int | None = None) -> np.ndarray:
    """VaR along axis 1 of losses sorted ascending (numpy's inverted_cdf index); ``xs`` may hold only the
    largest of ``n`` runs (the last columns of the full sort)."""
    n = xs.shape[1] if n is None else n
    return xs[:, _var_index(n, alpha) - (n - xs.shape[1])]


def risk_table(samples: Mapping[str, np.ndarray], confidences: Sequence[float] = DEFAULT_CONFIDENCES, *,
               horizon_days: float = 1.0, seed: int = 0, resamples: int = BOOTSTRAP_RESAMPLES) -> pd.DataFrame:
    """Mean, VaR and ES of each per-run quantity, each with its standard error.

    Standard errors: ``s/√N`` for the mean; bootstrap (``resamples`` resamples,
    generator fixed by ``seed``) for VaR and ES.

    Parameters
    ----------
    samples : mapping of str to ndarray
        One array of per-run values per quantity.
    confidences : sequence of float
        Levels of VaR and ES.
    horizon_days : float
        Recorded in the table.
    seed, resamples : int
        The bootstrap's generator seed and number of resamples.

    Returns
    -------
    pandas.DataFrame
        Columns ``quantity, metric`` (mean, VaR, ES), ``confidence``
        (NaN for the mean), ``horizon_days, value, standard_error, runs``.

    Examples
    --------
    >>> t = risk_table({"loss": np.arange(1.0, 101.0)}, (0.95,))
    >>> t[["metric", "value", "runs"]].values.tolist()
    [['mean', 50.5, 100], ['VaR', 95.0, 100], ['ES', 98.0, 100]]
    """
    rows: list[dict[str, Any]] = []
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(2**32 - 1,)))  # not a run block
    first = next(iter(samples.values()), np.zeros(0))
    N = len(first)
    xs = {q: np.asarray(x, float) for q, x in samples.items()}
    # each block of resamples is reduced to its VaR and ES as soon as it is sorted: memory O(block x N), not
    # O(resamples x N) (the same draws in the same order, so the same standard errors bit for bit)
    boot_var: dict[tuple[str, float], list[np.ndarray]] = {(q, a): [] for q in samples for a in confidences}
    boot_es: dict[tuple[str, float], list[np.ndarray]] = {(q, a): [] for q in samples for a in confidences}
    if N > 1 and resamples > 0:
        # a partition is slower than numpy's sort on samples of few distinct values (e.g. zero bad debt in most
        # runs): those are sorted in full. Either way the same order statistics, so the same figures bit for bit.
        tail = {q: _tail_length(N, confidences) if 2 * len(np.unique(x)) >= N else N for q, x in xs.items()}
        step = max(1, min(resamples, 4_000_000 // N))
        for b0 in range(0, resamples, step):
            idx = rng.integers(0, N, (min(step, resamples - b0), N))
            for q, x in xs.items():
                s = _sorted_tail(x[idx], tail[q])
                for a in confidences:  # copies: a view would keep the whole sorted block alive
                    boot_var[q, a].append(np.array(_var_sorted_asc(s, a, N)))
                    boot_es[q, a].append(np.array(_es_sorted_desc(s[:, ::-1], a, N)))
                del s
            del idx
    for q, x in xs.items():
        rows.append({"quantity": q, "metric": "mean", "confidence": np.nan, "value": float(x.mean()) if N else np.nan,
                     "standard_error": float(x.std(ddof=1) / math.sqrt(N)) if N > 1 else np.nan})
        for a in confidences:
            se_v = se_e = np.nan
            if boot_var[q, a]:
                se_v = float(np.concatenate(boot_var[q, a]).std(ddof=1))
                se_e = float(np.concatenate(boot_es[q, a]).std(ddof=1))
            rows.append({"quantity": q, "metric": "VaR", "confidence": a, "value": value_at_risk(x, a), "standard_error": se_v})
            rows.append({"quantity": q, "metric": "ES", "confidence": a, "value": expected_shortfall(x, a), "standard_error": se_e})
    out = pd.DataFrame(rows, columns=["quantity", "metric", "confidence", "value", "standard_error"])
    out.insert(3, "horizon_days", float(horizon_days))
    out["runs"] = N
    return out


def binomial_se(p: np.ndarray | float, n: int) -> np.ndarray:
    """Standard error ``√(p(1-p)/n)`` of a frequency ``p`` over ``n`` runs.

    Parameters
    ----------
    p : float or ndarray
        Frequencies in [0, 1].
    n : int
        Number of runs.

    Returns
    -------
    ndarray

    Examples
    --------
    >>> binomial_se(np.array([0.5, 0.1, 0.0]), 100).round(6).tolist()
    [0.05, 0.03, 0.0]
    """
    return np.sqrt(np.clip(np.asarray(p, float) * (1 - np.asarray(p, float)), 0, None) / max(n, 1))


# ---------------------------------------------------------------------------
# One chunk of runs (what a worker does)
# ---------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class Job:
    """What every chunk of a Monte Carlo or sweep shares (picklable, sent once per worker).

    Attributes
    ----------
    cells : tuple of str
        The base scenarios (JSON text), one per sweep cell; each run applies the
        same draw to every cell (common random numbers).
    model : ShockModel or None
        None for a deterministic sweep (one run per cell).
    seed : int
    edge_debtor, edge_creditor : ndarray of int
        Positions of the debtor and creditor of each exposure pair (for contagion paths).

    Examples
    --------
    >>> from core.datasets import synthetic
    >>> net = synthetic(8, 20, seed=1)
    >>> job = Job(cells=(MonteCarloSpec().base.model_dump_json(),), model=ShockModel.from_spec(net, MonteCarloSpec()),
    ...           seed=1, edge_debtor=np.array([0]), edge_creditor=np.array([1]))
    >>> len(job.cells), job.model.symbols[0]
    (1, 'ETH')
    """

    cells: tuple[str, ...]
    model: ShockModel | None
    seed: int
    edge_debtor: np.ndarray
    edge_creditor: np.ndarray


@dataclass(frozen=True, eq=False)
class ChunkResult:
    """Output of one chunk: per-run arrays ``(R, C)``, per-unit sums ``(U, C, n)`` and integer counts.

    Attributes
    ----------
    start : int
        First run of the chunk.
    per_run : dict of str to ndarray, shape (R, C)
        ``total_loss, bad_debt, uncovered_bad_debt, shortfall, liquidated,
        insurance_draw, defaults`` per run and cell.
    episode : ndarray
        The replayed episode per run (historical source).
    loss_sum, loss_sq : ndarray, shape (U, C, n)
        Sums of entity losses and of their squares per unit of :data:`UNIT` runs.
    default_count : ndarray, shape (C, n)
    path_count : ndarray
        Defaults per entity, and per exposure pair with a defaulted debtor.

    Examples
    --------
    >>> from core.datasets import synthetic
    >>> net = synthetic(8, 20, seed=1)
    >>> job = Job(cells=(MonteCarloSpec().base.model_dump_json(),), model=ShockModel.from_spec(net, MonteCarloSpec()),
    ...           seed=1, edge_debtor=np.array([0]), edge_creditor=np.array([1]))
    >>> chunk = evaluate_chunk(net, job, 0, 16)
    >>> chunk.start, chunk.per_run["total_loss"].shape, chunk.default_count.shape
    (0, (16, 1), (1, 8))
    """

    start: int
    per_run: dict[str, np.ndarray]
    episode: np.ndarray
    loss_sum: np.ndarray
    loss_sq: np.ndarray
    default_count: np.ndarray      # (C, n)
    path_count: np.ndarray         # (C, E)
    segments: tuple[Segment, ...] = ()   # a streamed run's summaries (per_run then empty)


def evaluate_chunk(network: Network, job: Job, start: int, stop: int) -> ChunkResult:
    """Run the cascade for runs ``start:stop`` of every cell (vectorised; fixed engine batches of ≤ MAX_BATCH_ROWS).

    Parameters
    ----------
    network : Network
    job : Job
    start, stop : int
        The runs of this chunk (their draws depend only on ``job.seed`` and the run numbers).

    Returns
    -------
    ChunkResult

    Examples
    --------
    >>> from core.datasets import synthetic
    >>> net = synthetic(8, 20, seed=1)
    >>> job = Job(cells=(MonteCarloSpec().base.model_dump_json(),), model=ShockModel.from_spec(net, MonteCarloSpec()),
    ...           seed=1, edge_debtor=np.array([0]), edge_creditor=np.array([1]))
    >>> whole = evaluate_chunk(net, job, 0, 16).per_run["total_loss"]
    >>> halves = [evaluate_chunk(net, job, a, b).per_run["total_loss"] for a, b in ((0, 8), (8, 16))]
    >>> bool(np.array_equal(whole, np.concatenate(halves)))
    True
    """
    cells = [Scenario.model_validate_json(t) for t in job.cells]
    C, R = len(cells), stop - start
    c = compile_network(network)
    if job.model is not None and job.model.multi_step:
        mult, dep, ep = np.ones((R, c.k)), np.zeros((R, c.k)), np.full(R, -1)  # the path brings every move
    elif job.model is not None:
        r, dep, ep = job.model.draw(job.seed, start, stop)
        mult = np.exp(r)
    else:
        mult, dep, ep = np.ones((R, c.k)), np.zeros((R, c.k)), np.full(R, -1)
    fields = ("total_loss", "bad_debt", "uncovered_bad_debt", "shortfall", "liquidated", "insurance_draw", "defaults",
              "perps_deficit", "perps_deleveraged", "perps_uncovered")
    per = {f: np.zeros((R, C)) for f in fields}
    loss = np.zeros((R, C, c.n))
    defaulted = np.zeros((R, C, c.n), bool)
    droot = np.full((R, C, c.n), -1)
    # A row's result never depends on its batch-mates (core.engine.run_batch; property-tested bit for bit in
    # tests/test_montecarlo.py), so the chunk goes to the engine in batches of up to MAX_BATCH_ROWS rows: a
    # group of cells times as many runs as fit. Loops are over batches, never over scenarios.
    group = max(1, MAX_BATCH_ROWS // UNIT)
    step = max(1, MAX_BATCH_ROWS // min(C, group))
    for a in range(0, R, step):
        b = min(a + step, R)
        for g0 in range(0, C, group):
            g1 = min(C, g0 + group)
            G = g1 - g0
            batch = scenario_batch(network, cells[g0:g1], repeat=b - a)
            # row (run j, cell i) = j*G + i: the draw of run j on the base of cell i
            shock = batch.shock * np.repeat(mult[a:b], G, 0)
            depeg = np.maximum(batch.depeg, np.repeat(dep[a:b], G, 0))
            batch = batch.replace(shock=shock, depeg=depeg)
            if job.model is not None and job.model.multi_step:  # a drawn path on top of each cell's own
                draws = job.model.draw_paths(job.seed, start + a, start + b)
                batch = with_paths(batch, draws, G, horizons=batch.horizons + draws.shape[1] - 1)
            elif job.model is not None and job.model.episode_paths is not None:  # the episodes' own paths
                e = np.repeat(ep[a:b], G)
                own = job.model.episode_paths
                draws = np.where((own.path_id[ep[a:b]] >= 0)[:, None, None], own.table[np.maximum(own.path_id[ep[a:b]], 0)], 0.0) \
                    if len(own.table) else np.zeros((b - a, 1, c.k))
                batch = with_paths(batch, draws, G, shock_rounds=own.shock_rounds[e],
                                   horizons=np.maximum(batch.horizons if batch.horizons is not None else batch.horizon,
                                                             job.model.episode_horizon[e]))
            res = run_batch(c, batch)
            shape = (b - a, G)
            blk = (slice(a, b), slice(g0, g1))
            per["total_loss"][blk] = res.total_loss.reshape(shape)
            per["bad_debt"][blk] = res.bad_debt.sum(1).reshape(shape)
            per["uncovered_bad_debt"][blk] = np.maximum(res.bad_debt - res.insurance_draw, 0.0).sum(1).reshape(shape)
            per["shortfall"][blk] = res.shortfall.reshape(shape)
            per["liquidated"][blk] = res.liquidated_usd.reshape(shape)
            per["insurance_draw"][blk] = res.insurance_draw.sum(1).reshape(shape)
            per["defaults"][blk] = res.defaulted.sum(1).reshape(shape)
            venues = res.perps_usd.sum(1)  # (rows, 7): the perpetuals venues' totals (core.engine.perps.TOTALS)
            if venues.size:
                per["perps_deficit"][blk] = venues[:, 1].reshape(shape)
                per["perps_deleveraged"][blk] = (venues[:, 4] + venues[:, 5]).reshape(shape)
                per["perps_uncovered"][blk] = venues[:, 6].reshape(shape)
            loss[blk] = res.loss.reshape(shape + (c.n,))
            defaulted[blk] = res.defaulted.reshape(shape + (c.n,))
            droot[blk] = res.default_round.reshape(shape + (c.n,))
    # per-unit sums over aligned units of UNIT runs (chunk boundaries are multiples of UNIT)
    L3, D3, R3 = loss, defaulted, droot
    cuts = np.arange(0, R, UNIT)
    loss_sum = np.stack([L3[u:u + UNIT].sum(0) for u in cuts]) if R else np.zeros((0, C, c.n))
    loss_sq = np.stack([(L3[u:u + UNIT] ** 2).sum(0) for u in cuts]) if R else np.zeros((0, C, c.n))
    dd, cc = job.edge_debtor, job.edge_creditor
    path = D3[:, :, dd] & D3[:, :, cc] & (R3[:, :, dd] <= R3[:, :, cc])
    return ChunkResult(
        start=start, per_run=per, episode=ep,
        loss_sum=loss_sum, loss_sq=loss_sq, default_count=D3.sum(0), path_count=path.sum(0),
    )


#: Per-run fields behind each risk quantity (the ``losses`` table's columns).
_RISK_FIELDS = {"system_loss_usd": "total_loss", "bad_debt_usd": "bad_debt", "insolvent_debt_usd": "shortfall",
                "liquidated_usd": "liquidated"}


def evaluate_chunk_streamed(network: Network, payload: tuple[Job, np.ndarray], start: int, stop: int) -> ChunkResult:
    """:func:`evaluate_chunk`, its per-run values reduced to :class:`~core.streaming_risk.Segment` summaries
    cut at the fold's boundaries ``payload[1]`` (the first cell's runs), so only O(buckets) travels back."""
    job, cuts = payload
    full = evaluate_chunk(network, job, start, stop)
    values = {q: full.per_run[f][:, 0] for q, f in _RISK_FIELDS.items()}
    segments = tuple(summarise(values, full.per_run["defaults"][:, 0], start, cuts))
    return ChunkResult(start=start, per_run={}, episode=np.zeros(0, dtype=np.int64), loss_sum=full.loss_sum,
                       loss_sq=full.loss_sq, default_count=full.default_count, path_count=full.path_count,
                       segments=segments)


class _StreamFold:
    """Folds streamed chunks in run order: per-entity sums exactly as :func:`_combine` adds them, risk segments."""

    def __init__(self, risk: RiskFold, confidences: Sequence[float], cells: int, entities: int, edges: int):
        self.risk, self.confidences = risk, tuple(confidences)
        self.loss_sum, self.loss_sq = np.zeros((cells, entities)), np.zeros((cells, entities))
        self.default_count = np.zeros((cells, entities), dtype=np.int64)
        self.path_count = np.zeros((cells, edges), dtype=np.int64)

    def __call__(self, part: ChunkResult) -> None:
        for u in range(len(part.loss_sum)):  # sequential, in run order, as _combine
            self.loss_sum += part.loss_sum[u]
            self.loss_sq += part.loss_sq[u]
        self.default_count += part.default_count
        self.path_count += part.path_count
        for seg in part.segments:
            self.risk.add(seg, self.confidences)


def _chunks(runs: int, chunk_size: int) -> list[tuple[int, int]]:
    if chunk_size <= 0 or chunk_size % UNIT:
        raise DataValidationError([Problem("montecarlo", None, "chunk_size", chunk_size, f"a positive multiple of {UNIT}", "record")])
    return [(a, min(runs, a + chunk_size)) for a in range(0, runs, chunk_size)]


def _edges(net: Network) -> pd.DataFrame:
    ex = net.exposures
    if not len(ex):
        return pd.DataFrame({"debtor": [], "creditor": [], "exposure_usd": []})
    return (ex.groupby(["debtor", "creditor"], sort=True)["amount_usd"].sum().rename("exposure_usd").reset_index())


@dataclass(frozen=True, eq=False)
class _Combined:
    runs: int
    per_run: dict[str, np.ndarray]   # (N, C)
    episode: np.ndarray
    loss_sum: np.ndarray             # (C, n)
    loss_sq: np.ndarray
    default_count: np.ndarray        # (C, n)
    path_count: np.ndarray           # (C, E)


def _combine(parts: Sequence[ChunkResult]) -> _Combined:
    """Join chunk results in run order (so any backend or worker count gives the same arrays)."""
    parts = sorted(parts, key=lambda p: p.start)
    per = {k_: np.concatenate([p.per_run[k_] for p in parts]) for k_ in parts[0].per_run}
    units_sum = np.concatenate([p.loss_sum for p in parts])
    units_sq = np.concatenate([p.loss_sq for p in parts])
    acc = np.zeros(units_sum.shape[1:])
    acc2 = np.zeros(units_sum.shape[1:])
    for u in range(len(units_sum)):  # sequential, in run order: independent of the chunking
        acc += units_sum[u]
        acc2 += units_sq[u]
    return _Combined(
        runs=len(per["total_loss"]), per_run=per, episode=np.concatenate([p.episode for p in parts]),
        loss_sum=acc, loss_sq=acc2,
        default_count=np.sum([p.default_count for p in parts], axis=0),
        path_count=np.sum([p.path_count for p in parts], axis=0),
    )


def _execute(network: Network, job: Job, runs: int, *, backend: str, workers: int | None, scheduler: Any,
             chunk_size: int, progress: ProgressFn | None) -> _Combined:
    from .backends import map_chunks

    chunks = _chunks(runs, chunk_size)
    parts = map_chunks(evaluate_chunk, network, job, chunks, backend=backend, workers=workers, scheduler=scheduler,
                       progress=progress)
    return _combine(parts)


# ---------------------------------------------------------------------------
# Monte Carlo
# ---------------------------------------------------------------------------

_RESULT_TABLES = ("losses", "risk", "entities", "paths", "convergence")


@dataclass(frozen=True, eq=False)
class MonteCarloResult:
    """What :func:`run_montecarlo` returns (every figure beside its standard error).

    Tables
    ------
    ``losses``       one row per run: ``run, system_loss_usd, loss_share, bad_debt_usd`` (gross, booked at
                     protocols), ``uncovered_bad_debt_usd`` (beyond insurance funds), ``insolvent_debt_usd``
                     (debtors' unpaid obligations), ``liquidated_usd, insurance_draw_usd, defaults``
                     and, for historical replay, ``episode``.
    ``risk``         ``quantity, metric`` (mean / VaR / ES), ``confidence, horizon_days, value,
                     standard_error, runs`` for system loss, bad debt, insolvent debt and liquidated volume.
    ``entities``     one row per entity: ``entity, name, type, initial_equity_usd, probability_of_default,
                     pd_standard_error, expected_loss_usd, el_standard_error, expected_loss_share``.
    ``paths``        one row per exposure pair: ``debtor, creditor, exposure_usd, p_debtor_default,
                     p_debtor_default_se, probability, standard_error`` (see the module docstring).
    ``convergence``  estimates as runs accumulate: ``runs, mean_loss_usd, mean_loss_se, p_any_default,
                     p_any_default_se, var_99_loss_usd``.
    ``meta``         the run's settings and context: ``spec, runs, seed, backend, chunk_size, confidences,
                     horizon_days, network, system_equity_usd, definitions, rng_block, elapsed_s``.

    Examples
    --------
    >>> from core.datasets import synthetic
    >>> res = run_montecarlo(synthetic(8, 20, seed=1), {"dist": "t"}, runs=64, seed=1)
    >>> len(res.losses), res.losses.columns[:3].tolist()
    (64, ['run', 'system_loss_usd', 'loss_share'])
    >>> mean, se = res.risk_value("system_loss_usd", "mean")
    >>> bool(mean > 0 and se > 0)
    True
    >>> MonteCarloResult.from_json(res.to_json()).losses.equals(res.losses)
    True
    """

    losses: pd.DataFrame
    risk: pd.DataFrame
    entities: pd.DataFrame
    paths: pd.DataFrame
    convergence: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # entities labelled by entity (the column stays, for a deprecation period: see core.results, "Index")
        object.__setattr__(self, "entities", keyed(self.entities, ("entity",)))

    def __repr__(self) -> str:
        runs = int(self.meta.get("runs", len(self.losses))) if isinstance(self.meta, dict) else len(self.losses)
        mean = float(self.losses["system_loss_usd"].mean()) if "system_loss_usd" in self.losses and len(self.losses) else 0.0
        return f"MonteCarloResult(runs={runs}, entities={len(self.entities)}, mean_system_loss_usd={mean:.6g})"

    def risk_value(self, quantity: str, metric: str, confidence: float | None = None) -> tuple[float, float]:
        """``(value, standard_error)`` of one risk figure, e.g. ``risk_value("bad_debt_usd", "ES", 0.99)``."""
        r = self.risk
        m = (r["quantity"] == quantity) & (r["metric"] == metric)
        m &= r["confidence"].isna() if confidence is None else np.isclose(r["confidence"], confidence)
        hit = r[m]
        if hit.empty:
            raise KeyError(f"no {metric} of {quantity} at {confidence}")
        return float(hit["value"].iloc[0]), float(hit["standard_error"].iloc[0])

    def to_json(self) -> str:
        """Strict JSON, written as :meth:`core.results.CascadeResult.to_json` writes its tables (every digit of
        every float, the dtypes, a non-finite cell as null listed under ``null_reasons``), so :meth:`from_json`
        gives back equal tables.

        Examples
        --------
        >>> import core
        >>> res = run_montecarlo(core.datasets.synthetic(30, 60), runs=20, seed=1)
        >>> back = MonteCarloResult.from_json(res.to_json())
        >>> back.losses.equals(res.losses) and back.entities.equals(res.entities)
        True
        """
        doc: dict[str, Any] = {n: table_to_doc(getattr(self, n)) for n in _RESULT_TABLES}
        doc["meta"] = self.meta
        reasons = [r for n in _RESULT_TABLES for r in non_finite_cells(getattr(self, n), n)]
        if reasons:
            doc["null_reasons"] = reasons
        return finite_json_dumps(doc)

    @classmethod
    def from_json(cls, text: str) -> "MonteCarloResult":
        """The result written by :meth:`to_json`."""
        doc = json.loads(text)
        tables = {n: table_from_doc(doc[n]) for n in _RESULT_TABLES}
        return cls(**tables, meta=doc.get("meta", {}))


def run_montecarlo(network: Network, spec: MonteCarloSpec | Mapping[str, Any] | None = None, *, runs: int = 10_000,
                   seed: int = 0, backend: str = "inprocess", workers: int | None = None, scheduler: Any = None,
                   chunk_size: int = DEFAULT_CHUNK, confidences: Sequence[float] = DEFAULT_CONFIDENCES,
                   progress: ProgressFn | None = None, streaming: bool = False) -> MonteCarloResult:
    """Monte Carlo of correlated shocks through the cascade engine.

    Parameters
    ----------
    network : Network
    spec : MonteCarloSpec or dict, optional
        Shock model and base conditions (default: normal one-day shocks, calm base, default depegs).
    runs : int, keyword-only
        Number of scenarios.
    seed : int
        The same seed gives the same result on every backend, worker count and chunk size.
    backend : {"inprocess", "processes", "dask"}
    workers : int, optional
        Local processes for ``"processes"`` (default: CPU count).
    scheduler : str or distributed.Client, optional
        Dask scheduler address (``"tcp://host:8786"``) or a client, for ``"dask"``.
    chunk_size : int
        Runs per task, a multiple of :data:`UNIT`.
    confidences : sequence of float
        Confidence levels of VaR and ES.
    progress : callable(done_runs, total_runs), optional
        Called as chunks finish (for a progress bar).
    streaming : bool, default False
        Keep no per-run table: memory stays flat in the number of runs (see
        :mod:`core.streaming_risk`). ``losses`` is then empty (its columns kept); VaR and ES come from
        a log-bucket sketch within 0.1 % of the exact figures, their standard errors from 20 sections
        instead of the bootstrap; the entity and path tables are the same as without streaming, bit for bit.

    Returns
    -------
    MonteCarloResult

    Raises
    ------
    DataValidationError
        Bad spec, runs, chunk size, or a correlation matrix that is not positive semi-definite.

    Examples
    --------
    >>> from core import datasets
    >>> res = run_montecarlo(datasets.load("crypto-2022-05"), {"dist": "t"}, runs=200, seed=7, chunk_size=100)
    >>> list(res.risk.columns)
    ['quantity', 'metric', 'confidence', 'horizon_days', 'value', 'standard_error', 'runs']
    """
    t0 = time.perf_counter()
    spec = spec if isinstance(spec, MonteCarloSpec) else parse_spec(dict(spec or {}))
    _check_runs(runs, seed, confidences)
    spec.base.check_against(network)
    model = ShockModel.from_spec(network, spec)
    edges = _edges(network)
    job = Job(cells=(spec.base.model_dump_json(),), model=model, seed=int(seed),
              edge_debtor=network.entity_pos(edges["debtor"]), edge_creditor=network.entity_pos(edges["creditor"]))
    c = compile_network(network)
    sys_eq = float(np.maximum(c.E0, 0).sum())
    if streaming:
        comb, losses, risk, convergence = _streamed(network, job, runs, spec, model, sys_eq, confidences,
                                                    backend=backend, workers=workers, scheduler=scheduler,
                                                    chunk_size=chunk_size, progress=progress)
    else:
        comb = _execute(network, job, runs, backend=backend, workers=workers, scheduler=scheduler,
                        chunk_size=chunk_size, progress=progress)
        losses = _losses_table(comb.per_run, sys_eq, runs)
        if model.source == "historical":
            losses["episode"] = np.asarray(model.episode_names, dtype=object)[comb.episode]
        risk = risk_table({q: losses[q].to_numpy() for q in RISK_QUANTITIES}, confidences,
                          horizon_days=spec.horizon_days, seed=seed)
        convergence = _convergence(losses)
    N = runs
    pd_ = comb.default_count[0] / N
    el = comb.loss_sum[0] / N
    el_var = np.maximum(comb.loss_sq[0] / N - el ** 2, 0.0) * N / max(N - 1, 1)
    ent = network.entities
    entities = pd.DataFrame({
        "entity": ent["id"].to_numpy(), "name": ent["name"].to_numpy(), "type": ent["type"].to_numpy(),
        "initial_equity_usd": c.E0,
        "probability_of_default": pd_, "pd_standard_error": binomial_se(pd_, N),
        "expected_loss_usd": el, "el_standard_error": np.sqrt(el_var / N),
        "expected_loss_share": np.where(c.E0 > 0, el / np.where(c.E0 > 0, c.E0, 1.0), 0.0),
    }).sort_values(["probability_of_default", "expected_loss_usd"], ascending=False, kind="stable").reset_index(drop=True)
    pdd = pd_[job.edge_debtor]
    pp = comb.path_count[0] / N
    paths = edges.assign(p_debtor_default=pdd, p_debtor_default_se=binomial_se(pdd, N),
                         probability=pp, standard_error=binomial_se(pp, N))
    paths = paths.sort_values(["probability", "p_debtor_default", "exposure_usd"], ascending=False, kind="stable").reset_index(drop=True)
    meta = {
        "runs": runs, "seed": int(seed), "backend": backend, "chunk_size": chunk_size, "rng_block": RNG_BLOCK,
        "horizon_days": spec.horizon_days, "confidences": list(confidences), "system_equity_usd": sys_eq,
        "network": network.name, "spec": json.loads(spec.model_dump_json()),
        **({"episodes": list(model.episode_names), "episodes_skipped": dict(model.episodes_skipped)} if model.source == "historical" else {}),
        "elapsed_s": round(time.perf_counter() - t0, 3),
        "definitions": {
            "VaR": "inf{l: F_N(l) >= confidence}, numpy inverted_cdf quantile of per-run losses",
            "ES": "Acerbi-Tasche: mean of the worst N(1-confidence) losses (fractional weight on the last)",
            "path probability": "share of runs where debtor and creditor both default and the debtor defaults no later",
            "p_debtor_default": "share of runs where the debtor defaults, so the exposed creditor bears a loss",
        },
    }
    if streaming:
        meta["streaming"] = {"sketch_relative_accuracy": RELATIVE_ACCURACY, "sections": SECTIONS}
        meta["definitions"]["VaR"] = ("inf{l: F_N(l) >= confidence} read from a log-bucket sketch (DDSketch), within "
                                      f"{RELATIVE_ACCURACY:.1%} of the empirical quantile (0.01 USD near zero)")
        meta["definitions"]["ES"] = ("Acerbi-Tasche ES over the sketch's buckets, within "
                                     f"{RELATIVE_ACCURACY:.1%} of the empirical ES (0.01 USD near zero)")
        meta["definitions"]["VaR and ES standard errors"] = f"sectioning: sd of {SECTIONS} sections' estimates / sqrt({SECTIONS})"
    return MonteCarloResult(losses=losses, risk=risk, entities=entities, paths=paths,
                            convergence=convergence, meta=meta)


def _losses_table(per_run: Mapping[str, np.ndarray], sys_eq: float, runs: int) -> pd.DataFrame:
    """The per-run table (empty, its columns kept, for a streamed run)."""
    pr = {k_: v[:, 0] for k_, v in per_run.items()} if per_run else \
        {f: np.zeros(0) for f in ("total_loss", "bad_debt", "uncovered_bad_debt", "shortfall", "liquidated",
                                  "insurance_draw", "defaults")}
    return pd.DataFrame({
        "run": np.arange(len(pr["total_loss"])),
        "system_loss_usd": pr["total_loss"],
        "loss_share": pr["total_loss"] / sys_eq if sys_eq > 0 else np.zeros(len(pr["total_loss"])),
        "bad_debt_usd": pr["bad_debt"],
        "uncovered_bad_debt_usd": pr["uncovered_bad_debt"],
        "insolvent_debt_usd": pr["shortfall"],
        "liquidated_usd": pr["liquidated"],
        "insurance_draw_usd": pr["insurance_draw"],
        "defaults": pr["defaults"].astype(int),
    })


def _streamed(network: Network, job: Job, runs: int, spec: MonteCarloSpec, model: ShockModel, sys_eq: float,
              confidences: Sequence[float], *, backend: str, workers: int | None, scheduler: Any, chunk_size: int,
              progress: ProgressFn | None) -> tuple[_Combined, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """A Monte Carlo whose chunks are summarised where they run and folded in run order as they arrive."""
    from .backends import map_chunks

    risk = RiskFold(RISK_QUANTITIES, runs, _marks(runs), "system_loss_usd")
    fold = _StreamFold(risk, confidences, len(job.cells), compile_network(network).n, len(job.edge_debtor))
    map_chunks(evaluate_chunk_streamed, network, (job, risk.cuts), _chunks(runs, chunk_size), backend=backend,
               workers=workers, scheduler=scheduler, progress=progress, consume=fold)
    comb = _Combined(runs=runs, per_run={}, episode=np.zeros(0, dtype=np.int64), loss_sum=fold.loss_sum,
                     loss_sq=fold.loss_sq, default_count=fold.default_count, path_count=fold.path_count)
    losses = _losses_table({}, sys_eq, 0)
    if model.source == "historical":
        losses["episode"] = np.zeros(0, dtype=object)
    return comb, losses, risk.risk_table(confidences, spec.horizon_days), risk.convergence_table()


def _check_runs(runs: int, seed: int, confidences: Sequence[float]) -> None:
    problems = []
    if not isinstance(runs, (int, np.integer)) or runs < 1:
        problems.append(Problem("montecarlo", None, "runs", runs, "a positive number of runs", "record"))
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        problems.append(Problem("montecarlo", None, "seed", seed, "a non-negative integer seed", "record"))
    for a in confidences:
        if not (0.0 < a < 1.0):
            problems.append(Problem("montecarlo", None, "confidence", a, "a confidence level in (0, 1)", "record"))
    if problems:
        raise DataValidationError(problems)


def _marks(N: int) -> list[int]:
    """1-2-5 checkpoints of the number of runs, and N."""
    return sorted({m for e in range(2, 9) for m in (10 ** e, 2 * 10 ** e, 5 * 10 ** e) if m < N} | {N})


def _convergence(losses: pd.DataFrame) -> pd.DataFrame:
    """Running estimates at 1-2-5 checkpoints of the number of runs, with their standard errors."""
    N = len(losses)
    marks = _marks(N)
    x = losses["system_loss_usd"].to_numpy()
    d = (losses["defaults"].to_numpy() > 0).astype(float)
    rows = []
    for m in marks:
        p = d[:m].mean()
        rows.append({"runs": m, "mean_loss_usd": x[:m].mean(),
                     "mean_loss_se": x[:m].std(ddof=1) / math.sqrt(m) if m > 1 else np.nan,
                     "p_any_default": p, "p_any_default_se": float(binomial_se(p, m)),
                     "var_99_loss_usd": value_at_risk(x[:m], 0.99)})
    return pd.DataFrame(rows)


__all__ = [
    "Jump", "Depeg", "DEFAULT_DEPEGS", "MonteCarloSpec", "parse_spec", "load_spec",
    "correlation_matrix", "ShockModel", "correlated_returns", "load_episodes", "select_episodes",
    "value_at_risk", "expected_shortfall", "risk_table", "binomial_se",
    "Job", "ChunkResult", "evaluate_chunk", "MonteCarloResult", "run_montecarlo",
    "RNG_BLOCK", "UNIT",
]
