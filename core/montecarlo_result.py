"""What :func:`core.montecarlo.run_montecarlo` returns: the loss, risk, entity, path and convergence tables."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .result_tables import keyed, non_finite_cells, table_from_doc, table_to_doc
from .strict_json import finite_json_dumps

_RESULT_TABLES = ("losses", "risk", "entities", "paths", "convergence")


@dataclass(frozen=True, eq=False)
class MonteCarloResult:
    """What :func:`~core.montecarlo.run_montecarlo` returns (every figure beside its standard error).

    Tables
    ------
    ``losses``       one row per run: ``run, system_loss_usd, loss_share, bad_debt_usd`` (gross, booked at
                     protocols, marked at the run's closing prices), ``bad_debt_reference_usd`` (the same
                     shortfalls' units at their debt tokens' reference prices, a stablecoin at its peg:
                     :mod:`core.engine.reference_bad_debt`; Maker's with what End, caged above the market,
                     leaves DAI's holders short), ``uncovered_bad_debt_usd`` (beyond insurance funds), ``insolvent_debt_usd``
                     (debtors' unpaid obligations), ``liquidated_usd, insurance_draw_usd, defaults``
                     and, for historical replay, ``episode``.
    ``risk``         ``quantity, metric`` (mean / VaR / ES), ``confidence, horizon_days, value,
                     standard_error, runs`` for system loss, bad debt (marked and at reference prices),
                     insolvent debt and liquidated volume.
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
    >>> from core.montecarlo import run_montecarlo
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
        >>> from core.montecarlo import run_montecarlo
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
