r"""Parameter sweeps: which protocol or safeguard setting keeps the system solvent.

A sweep varies one or two parameters of the base scenario over a grid
(the cartesian product of the given values) and runs the cascade in every
cell. Without a Monte Carlo spec each cell is one deterministic cascade of the
base scenario; with one, every cell sees the *same* ``runs`` correlated draws
(common random numbers, Glasserman 2003 §4.2), so differences between cells
are the parameters' effect and not sampling noise.

Parameters that can be swept (:data:`SWEEPABLE`)
-------------------------------------------------
``collateral_multiplier`` (alias ``liquidation_threshold_multiplier``)
    Liquidation thresholds divided by this (≥ 1: tighter collateral requirements).
``max_liquidation_bonus``
    Cap on the liquidation bonus / penalty (fraction).
``max_close_factor``
    Cap on the share of a debt repaid per liquidation (fraction).
``circuit_breaker_threshold`` (alias ``circuit_breaker``)
    Price fall within a round that halts liquidations and forced sales (the
    base's breaker rounds, or 2).
``insurance_multiplier``
    Multiplies every insurance fund of the dataset.
``run_intensity``, ``liquidity``
    Market conditions, for comparison.
``adl_rule``, ``collateral_policy`` (categorical: :data:`CATEGORICAL`)
    A perpetuals venue's rule for the deficit its fund cannot cover (``adl``,
    ``socialised``, ``backstop_vault``) and the price at which it marks
    collateral (``order_book``, ``index``, ``redemption_value``): for every
    venue of the network, or for one with ``adl_rule@VENUE`` (the scenario's
    ``safeguards.adl_rules`` and ``collateral_policies``). Values are names:
    ``adl_rule=adl,socialised``. So an analyst compares rules on the same shock.

Per cell
--------
``total_loss_usd``, ``defaults``, ``bad_debt_usd`` (gross, booked at
protocols, marked at the run's closing prices), ``bad_debt_reference_usd`` (the same units at the
reference prices: "at par", the figure the page's card shows; Maker's with what End, caged above the market,
leaves DAI's holders short), ``uncovered_bad_debt_usd`` (beyond insurance funds),
``insolvent_debt_usd`` (debtors' unpaid obligations), ``liquidated_usd``,
``insurance_draw_usd`` (lending protocols' and perpetuals venues' funds), and of the
perpetuals venues ``perps_deficit_usd`` (liquidations' losses beyond margin),
``perps_deleveraged_usd`` (profits taken by ADL or socialised haircuts) and
``perps_uncovered_usd`` (the venues' own losses): the value (deterministic) or the mean over runs, with
``*_se`` standard errors and the 99% VaR of bad debt and liquidated volume
under Monte Carlo. A run is **insolvent** when it leaves uncovered bad debt
(more than :data:`~core.risk_measures.SOLVENCY_TOL_USD`) or an entity defaults
that the scenario did not force; ``p_insolvent`` is the share of such runs
(binomial SE) and ``solvent`` is ``p_insolvent <= tolerance``.

References
----------
* Glasserman, P. (2003). *Monte Carlo Methods in Financial Engineering*. Springer.
* Acerbi, C., & Tasche, D. (2002). On the coherence of expected shortfall.
  *Journal of Banking & Finance*, 26(7), 1487–1503.
"""

from __future__ import annotations

import itertools
import math
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from .montecarlo_chunks import DEFAULT_CHUNK, Job, ProgressFn, _edges, _execute
from .montecarlo_spec import MonteCarloSpec, parse_spec
from .risk_measures import SOLVENCY_TOL_USD, binomial_se, value_at_risk
from .shock_model import UNIT, ShockModel
from .snapshots import dated
from .network import Network
from .scenario import Scenario, parse_scenario
from .schema import ADL_RULES, COLLATERAL_POLICIES
from .validation import DataValidationError, Problem

#: Sweepable parameters and where they live in a scenario document.
SWEEPABLE: dict[str, tuple[str, ...]] = {
    "collateral_multiplier": ("safeguards", "collateral_multiplier"),
    "max_liquidation_bonus": ("safeguards", "max_liquidation_bonus"),
    "max_close_factor": ("safeguards", "max_close_factor"),
    "circuit_breaker_threshold": ("safeguards", "circuit_breaker", "threshold"),
    "insurance_multiplier": ("safeguards", "insurance_multiplier"),
    "run_intensity": ("run_intensity",),
    "liquidity": ("liquidity",),
    "adl_rule": ("safeguards", "adl_rules"),
    "collateral_policy": ("safeguards", "collateral_policies"),
}
#: Parameters that take names, not numbers, and the names they take; ``NAME@VENUE`` sets one venue's.
CATEGORICAL: dict[str, tuple[str, ...]] = {"adl_rule": ADL_RULES, "collateral_policy": COLLATERAL_POLICIES}
ALIASES: dict[str, str] = {
    "liquidation_threshold_multiplier": "collateral_multiplier",
    "circuit_breaker": "circuit_breaker_threshold",
}
#: Most values one parameter may take (``start:stop:steps`` or a list).
MAX_GRID_STEPS: int = 1_000
#: Most cells in a sweep (the product of the two grids): a deterministic cell costs a
#: few milliseconds, so 10,000 cells is a minute or so of work.
MAX_SWEEP_CELLS: int = 10_000
#: Most cascades in a Monte Carlo sweep (cells x runs).
MAX_SWEEP_RUNS: int = 10_000_000
_METRICS = ("total_loss_usd", "defaults", "bad_debt_usd", "bad_debt_reference_usd", "uncovered_bad_debt_usd", "insolvent_debt_usd",
            "liquidated_usd", "insurance_draw_usd", "perps_deficit_usd", "perps_deleveraged_usd", "perps_uncovered_usd")
_FIELD = {"total_loss_usd": "total_loss", "defaults": "defaults", "bad_debt_usd": "bad_debt", "bad_debt_reference_usd": "bad_debt_reference",
          "uncovered_bad_debt_usd": "uncovered_bad_debt", "insolvent_debt_usd": "shortfall",
          "liquidated_usd": "liquidated", "insurance_draw_usd": "insurance_draw", "perps_deficit_usd": "perps_deficit",
          "perps_deleveraged_usd": "perps_deleveraged", "perps_uncovered_usd": "perps_uncovered"}


def base_name(name: str) -> str:
    """The parameter of a name, without its venue: ``adl_rule@VENUE_A`` -> ``adl_rule``."""
    return name.partition("@")[0]


def parse_grid(text: str) -> tuple[str, np.ndarray]:
    """``"NAME=start:stop:steps"`` (or ``"NAME=v1,v2,..."``) → ``(name, values)``.

    Parameters
    ----------
    text : str
        A grid axis as given on the command line (``--param``).

    Returns
    -------
    name : str
    values : ndarray of float

    Raises
    ------
    DataValidationError
        When the text is not of either form, names an unknown parameter, has a
        non-finite value or more than ``MAX_GRID_STEPS`` values (the values' ranges
        are checked when the sweep's scenarios are built).

    Examples
    --------
    >>> parse_grid("collateral_multiplier=1:2:3")
    ('collateral_multiplier', array([1. , 1.5, 2. ]))
    >>> parse_grid("max_close_factor=0.25,0.5")
    ('max_close_factor', array([0.25, 0.5 ]))
    >>> parse_grid("adl_rule@VENUE_A=adl,socialised")
    ('adl_rule@VENUE_A', array(['adl', 'socialised'], dtype=object))
    """
    bad = lambda why: DataValidationError([Problem("command line", None, "--param", text, why)])  # noqa: E731
    if "=" not in text:
        raise bad("NAME=start:stop:steps or NAME=v1,v2,...")
    name, _, spec = text.partition("=")
    name = ALIASES.get(name.strip(), name.strip())
    if base_name(name) not in SWEEPABLE or ("@" in name and base_name(name) not in CATEGORICAL):
        raise bad(f"a parameter among {', '.join(SWEEPABLE)} (adl_rule@VENUE, collateral_policy@VENUE for one venue)")
    if base_name(name) in CATEGORICAL:
        choices = CATEGORICAL[base_name(name)]
        items = [v.strip() for v in spec.split(",") if v.strip()]
        wrong = [v for v in items if v not in choices]
        if not items or wrong:
            raise bad(f"{base_name(name)} values among {', '.join(choices)}, separated by commas"
                      + (f" (not {', '.join(wrong)})" if wrong else ""))
        return name, np.array(items, dtype=object)
    try:
        if ":" in spec:
            parts = spec.split(":")
            if len(parts) != 3:
                raise ValueError
            lo, hi, steps = float(parts[0]), float(parts[1]), int(parts[2])
            if steps < 1 or not (math.isfinite(lo) and math.isfinite(hi)):
                raise ValueError
            values = None if steps > MAX_GRID_STEPS else np.linspace(lo, hi, steps)
            count = steps
        else:
            items = [v for v in spec.split(",") if v.strip()]
            count = len(items)
            values = None if count > MAX_GRID_STEPS else np.array([float(v) for v in items])
            if values is not None and (not len(values) or not np.isfinite(values).all()):
                raise ValueError
    except ValueError:
        raise bad("start:stop:steps with numbers and a positive integer number of steps, or v1,v2,...") from None
    if values is None:
        raise bad(f"at most {MAX_GRID_STEPS:,} values per parameter (found {count:,}): sweep a narrower range "
                  "or in several runs")
    return name, values


def _cell(base: Scenario, values: Mapping[str, Any], index: int, venues: Sequence[str] = ()) -> Scenario:
    doc = base.model_dump(mode="json")
    for name, v in values.items():
        if base_name(name) in CATEGORICAL:  # a venue's rule or policy, or every venue's
            key = SWEEPABLE[base_name(name)][-1]
            chosen = [name.partition("@")[2]] if "@" in name else list(venues)
            doc["safeguards"][key] = {**doc["safeguards"].get(key, {}), **{venue: str(v) for venue in chosen}}
            continue
        path = SWEEPABLE[name]
        node = doc
        for key in path[:-1]:
            if node.get(key) is None:
                node[key] = {"rounds": 2} if key == "circuit_breaker" else {}
            node = node[key]
        node[path[-1]] = float(v)
    doc["name"] = f"{base.name} [{', '.join(f'{k}={v}' if isinstance(v, str) else f'{k}={v:g}' for k, v in values.items())}]"
    return parse_scenario(doc, file=f"sweep cell {index + 1}")


def sweep(network: Network, base: Scenario | None, params: Mapping[str, Sequence[float] | np.ndarray], *,
          spec: MonteCarloSpec | Mapping[str, Any] | None = None, runs: int = 0, seed: int = 0,
          backend: str = "inprocess", workers: int | None = None, scheduler: Any = None,
          chunk_size: int = DEFAULT_CHUNK, confidence: float = 0.99, tolerance: float = 0.01,
          progress: ProgressFn | None = None) -> pd.DataFrame:
    """Bad debt, liquidations, losses and defaults on a grid of one or two parameters.

    Parameters
    ----------
    network : Network
    base : Scenario or None
        The scenario every cell starts from (its shocks and conditions); with a
        Monte Carlo, ``spec.base`` is used when ``base`` is None.
    params : mapping name → values
        One or two entries of :data:`SWEEPABLE` (or their aliases); ``adl_rule`` and
        ``collateral_policy`` take names, for every venue or one (``adl_rule@VENUE``).
    spec : MonteCarloSpec or dict, optional
        Shock model for a Monte Carlo sweep (needs ``runs > 0``).
    runs : int
        Monte Carlo runs per cell; 0 = one deterministic cascade per cell.
    seed, backend, workers, scheduler, chunk_size, progress
        As in :func:`core.montecarlo.run_montecarlo` (a deterministic sweep is one
        batch and always runs in process).
    confidence : float
        Confidence of the VaR columns.
    tolerance : float
        Largest ``p_insolvent`` for which a cell counts as ``solvent``.

    Returns
    -------
    DataFrame, one row per cell: the parameter values, ``runs``, the metrics of
    the module docstring (and their ``_se``), ``p_insolvent, p_insolvent_se, solvent``.

    Raises
    ------
    DataValidationError
        Unknown parameter, a value the scenario schema rejects (naming the cell), bad runs; a base scenario
        ``date`` the network cannot be put at (every cell runs on the parameters of the base's date, as
        :func:`core.simulate` runs it: :func:`core.snapshots.dated`).

    Examples
    --------
    >>> from core import datasets
    >>> from core.scenario import Scenario
    >>> crash = Scenario(name="crash", price_shocks={"ETH": -0.5, "stETH": -0.5})
    >>> df = sweep(datasets.load("crypto-2022-05"), crash, {"collateral_multiplier": [1.0, 1.5]})
    >>> list(df["collateral_multiplier"])
    [1.0, 1.5]
    """
    problems = []
    names = [ALIASES.get(k, k) for k in params]
    for k, name in zip(params, names):
        if base_name(name) not in SWEEPABLE or ("@" in name and base_name(name) not in CATEGORICAL):
            problems.append(Problem("sweep", None, "params", k, f"a parameter among {', '.join(SWEEPABLE)}", "record"))
        elif base_name(name) in CATEGORICAL and not all(v in CATEGORICAL[base_name(name)] for v in params[k]):
            problems.append(Problem("sweep", None, k, ", ".join(map(str, params[k])),
                                    f"values among {', '.join(CATEGORICAL[base_name(name)])}", "record"))
        elif not len(params[k]):
            problems.append(Problem("sweep", None, k, None, "at least one value", "record"))
    if not 1 <= len(names) <= 2:
        problems.append(Problem("sweep", None, "params", ", ".join(names) or None, "one or two parameters", "record"))
    if len(set(names)) != len(names):
        problems.append(Problem("sweep", None, "params", ", ".join(names), "distinct parameters", "record"))
    if not isinstance(runs, (int, np.integer)) or runs < 0:
        problems.append(Problem("sweep", None, "runs", runs, "a non-negative number of runs", "record"))
    n_cells = math.prod(len(v) for v in params.values()) if params else 0
    if n_cells > MAX_SWEEP_CELLS:
        problems.append(Problem("sweep", None, "params", f"{n_cells:,} cells",
                                f"a grid of at most {MAX_SWEEP_CELLS:,} cells (fewer steps per parameter)", "record"))
    elif isinstance(runs, (int, np.integer)) and n_cells * max(int(runs), 1) > MAX_SWEEP_RUNS:
        problems.append(Problem("sweep", None, "runs", runs, f"at most {MAX_SWEEP_RUNS:,} cascades in all "
                                f"({n_cells:,} cells x {runs:,} runs asks for {n_cells * runs:,}): fewer runs or cells", "record"))
    if problems:
        raise DataValidationError(problems)

    mc = runs > 0
    spec_m = (spec if isinstance(spec, MonteCarloSpec) else parse_spec(dict(spec or {}))) if mc else None
    base = base if base is not None else (spec_m.base if spec_m is not None else Scenario(name="sweep-base"))
    base.check_against(network)
    network = dated(network, base.date)  # every cell on the base's date's parameters (as core.simulate), or refused
    grid = list(itertools.product(*[list(map(str, params[k])) if base_name(n) in CATEGORICAL else list(map(float, params[k]))
                                    for k, n in zip(params, names)]))
    venues = sorted(network.names["venues"])
    if any(base_name(n) in CATEGORICAL for n in names) and not len(network.positions):
        raise DataValidationError([Problem("sweep", None, "params", ", ".join(names),
                                           "a network with perpetual positions (perpetuals venues with positions) "
                                           "for adl_rule or collateral_policy", "record")])
    cells = [_cell(base, dict(zip(names, g)), i, venues) for i, g in enumerate(grid)]
    for sc in cells:
        sc.check_against(network)
    edges = _edges(network)
    model = ShockModel.from_spec(network, spec_m) if spec_m is not None else None
    job = Job(cells=tuple(sc.model_dump_json() for sc in cells), model=model, seed=int(seed),
              edge_debtor=network.entity_pos(edges["debtor"]), edge_creditor=network.entity_pos(edges["creditor"]))
    n_runs = int(runs) if mc else 1
    per_chunk = chunk_size if mc else UNIT
    comb = _execute(network, job, n_runs, backend=backend if mc else "inprocess", workers=workers,
                    scheduler=scheduler, chunk_size=per_chunk, progress=progress)

    forced = np.array([len(set(sc.forced_defaults)) for sc in cells])
    rows: dict[str, Any] = {name: [g[i] for g in grid] for i, name in enumerate(names)}
    rows["runs"] = n_runs
    for m in _METRICS:
        x = comb.per_run[_FIELD[m]]  # (N, C)
        rows[m] = x.mean(0)
        if mc:
            rows[f"{m}_se"] = x.std(0, ddof=1) / math.sqrt(n_runs) if n_runs > 1 else np.nan
    if mc:
        for m in ("bad_debt_usd", "liquidated_usd", "total_loss_usd"):
            x = comb.per_run[_FIELD[m]]
            rows[f"{m.removesuffix('_usd')}_var_{round(confidence * 100):d}_usd"] = [value_at_risk(x[:, j], confidence) for j in range(len(cells))]
    insolvent = (comb.per_run["uncovered_bad_debt"] > SOLVENCY_TOL_USD) | (comb.per_run["defaults"] > forced[None])
    p = insolvent.mean(0)
    rows["p_insolvent"] = p
    rows["p_insolvent_se"] = binomial_se(p, n_runs)
    rows["solvent"] = p <= (tolerance if mc else 0.0)
    return pd.DataFrame(rows)


__all__ = ["SWEEPABLE", "CATEGORICAL", "ALIASES", "MAX_GRID_STEPS", "MAX_SWEEP_CELLS", "MAX_SWEEP_RUNS", "parse_grid", "sweep"]
