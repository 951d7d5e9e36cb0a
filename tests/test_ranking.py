"""Systemic importance reduced chunk by chunk equals the ranking from one whole batch."""

from __future__ import annotations

import numpy as np
import pytest

import core.chunks
from core import datasets
from core.engine import compile_network, scenario_batch, simulate_batch
from core.metrics import systemic_importance
from core.scenario import Scenario


def _whole_batch_reference(net, base, recovery=0.0):
    """Every entity as a seed in one batch, all (seed, entity) arrays kept: the unreduced definition."""
    c = compile_network(net)
    n = c.n
    b = scenario_batch(net, base, repeat=n).replace(forced=np.eye(n, dtype=bool), forced_recovery=np.full(n, recovery))
    from core.engine import run_batch
    br = run_batch(c, b, workers=1)
    own = np.arange(n)
    others = ~np.eye(n, dtype=bool)
    return {
        "importance_usd": br.total_loss - br.loss[own, own],
        "defaults_caused": br.defaulted.sum(1) - 1,
        "vulnerability_usd": np.where(others, br.loss, 0.0).sum(0) / (n - 1),
        "default_frequency": np.where(others, br.defaulted, False).sum(0) / (n - 1),
    }


@pytest.mark.parametrize("which", ["shipped", "synthetic"])
def test_chunked_ranking_equals_the_whole_batch(which, monkeypatch):
    net = datasets.load("crypto-2022-05") if which == "shipped" else datasets.synthetic(80, 480, seed=4)
    base = Scenario(name="base", price_shocks={str(net.assets["symbol"].iloc[0]): -0.3}, run_intensity=0.5)
    monkeypatch.setattr(core.chunks, "CHUNK_BYTES", 8 * 80 * 9)  # chunks of a few seeds, even here
    si = systemic_importance(net, base).reindex(net.entities["id"])
    ref = _whole_batch_reference(net, base)
    for col, want in ref.items():
        np.testing.assert_allclose(si[col].to_numpy(), want, rtol=1e-12, atol=1e-6, err_msg=col)
    # and each seed's importance is the same cascade run alone
    for e in list(net.entities["id"])[:3]:
        alone = simulate_batch(net, [base.model_copy(update={"forced_defaults": [e]})])
        i = int(np.flatnonzero(net.entities["id"].to_numpy() == e)[0])
        np.testing.assert_allclose(si.loc[e, "importance_usd"], alone.total_loss[0] - alone.loss[0, i], rtol=1e-9, atol=1e-3)
