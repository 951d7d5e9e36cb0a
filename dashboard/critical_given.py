"""Critical nodes *given the scenario on screen*: which additional failure hurts most, and "fail this entity".

The unconditional ranking (:mod:`dashboard.critical`, ``core.metrics.systemic_importance``) asks what
each entity's failure alone costs the calm system. A risk team looking at a scenario asks what one more
failure would add to it: for each entity that the scenario does not already bring down, the scenario
is run again with that entity forced to fail at round 0, all of them as **one batch**
(:func:`core.engine.simulate_batch`), and

    added loss(e) = [system loss − e's own loss](scenario + e fails) − [system loss − e's own loss](scenario)

is its conditional importance: what its failure costs the rest of the system, its own loss apart, as the
unconditional ranking's "alone" (``importance_usd``) counts it. (With its own loss counted, an aggregate of
outside holders forced to fail with nothing recovered topped the ranking by the holdings it lost itself: on
October 2025, stablecoin holders "alone 0" but "adds here" $149bn.) A click on the "fail" cell of a row adds the entity to the scenario's
forced defaults (the control of the same name), so the ranking can be followed step by step.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from dash import Input, Output, State, callback, ctx, no_update

from core.engine import simulate_batch
from core.network import Network
from core.scenario import Scenario

from . import ids
from .state import simulate

#: The text of the clickable cell of each row.
FAIL_CELL = "fail"


def added_loss(network: Network, scenario: Scenario) -> pd.Series:
    """System loss each entity's extra failure adds to ``scenario``, its own loss apart (USD, by entity id; NaN for
    those already failing)."""
    base = simulate(network, scenario)
    gone = set(base.nodes.loc[base.nodes["status"] == "defaulted", "entity"].astype(str)) | set(scenario.forced_defaults)
    cand = [e for e in network.entity_ids if e not in gone]
    out = pd.Series(np.nan, index=pd.Index(network.entity_ids, name="entity"), name="added_loss_usd")
    if not cand:
        return out
    batch = simulate_batch(network, [scenario.model_copy(update={"forced_defaults": [*scenario.forced_defaults, e]}) for e in cand])
    base_loss = float(base.totals["total_loss_usd"].iloc[-1]) if len(base.totals) else 0.0
    own_base = base.nodes.set_index("entity")["loss_usd"].reindex(cand).to_numpy(float)
    at = pd.Index(network.entity_ids).get_indexer(cand)
    own = batch.loss[np.arange(len(cand)), at].astype(float)
    out.loc[cand] = (batch.total_loss.astype(float) - own) - (base_loss - own_base)
    return out


def add_columns(rows: list[dict[str, Any]], added: pd.Series) -> list[dict[str, Any]]:
    """The table's rows with the conditional ranking (USD M, rank) and the "fail" cell, ranked by added loss."""
    rank = added.rank(ascending=False, method="min")
    for r in rows:
        v = added.get(r["id"], np.nan)
        r["added_musd"] = None if pd.isna(v) else round(float(v) / 1e6, 1)
        r["added_rank"] = None if pd.isna(v) else int(rank[r["id"]])
        r["fail"] = FAIL_CELL if not pd.isna(v) else ""
    return sorted(rows, key=lambda r: (r["added_rank"] is None, r["added_rank"] or 0, r["id"]))


@callback(
    Output(ids.DEFAULTS, "value", allow_duplicate=True),
    Input(ids.CRITICAL_TABLE, "cellClicked"),
    State(ids.DEFAULTS, "value"),
    prevent_initial_call=True,
)
def on_fail(cell, forced):
    """A click on a row's "fail" cell adds the entity to the forced defaults (the run follows)."""
    if ctx.triggered_id != ids.CRITICAL_TABLE or not cell or cell.get("colId") != "fail" or cell.get("value") != FAIL_CELL \
            or not cell.get("rowId"):
        return no_update
    forced = list(forced or [])
    return no_update if cell["rowId"] in forced else [*forced, cell["rowId"]]
