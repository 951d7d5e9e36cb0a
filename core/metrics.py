"""Systemic metrics: who matters, who is exposed, how a failure travelled, what safeguards buy.

* **Systemic importance** of entity i: the system loss (USD and share of system
  equity) when i alone fails (its outside assets lost, a forced default), all
  entities as seeds in one batched cascade; beside it the entity's DebtRank
  impact (Bardoscia et al. 2015) on the network of claims.
* **Vulnerability** of entity j: its mean loss, and how often it defaults,
  across the cascades seeded by every other entity.
* **Contagion path**: the chain of largest contagion edges from the shock to an
  entity, read backwards from a :class:`CascadeResult`'s ``paths``.
* **Safeguard difference**: the same shock with and without the scenario's
  safeguards, side by side.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .chunks import map_chunks, single_threaded_blas
from .formatting import usd
from .engine import ScenarioBatch, compile_network, run_batch, scenario_batch, simulate_batch
from .engine.batch import batch_take
from .mechanisms.debtrank import debtrank
from .network import Network
from .results import CascadeResult
from .scenario import Scenario

_WORDS = {
    "shock": "shock",
    "market": "price fall",
    "liquidation": "liquidations",
    "bad_debt": "bad debt",
    "default": "default",
    "run": "withdrawals",
    "fire_sale": "forced sales",
}


def claims_matrix(network: Network) -> sp.csr_array:
    """Unsecured claims as DebtRank exposures: ``W[i, j]`` is what i has lent to j (depositors' claims included).

    Parameters
    ----------
    network : Network

    Returns
    -------
    scipy.sparse.csr_array, shape (n, n)
        USD, rows and columns in the order of ``network.entities``.

    Examples
    --------
    >>> from core.datasets import synthetic
    >>> W = claims_matrix(synthetic(8, 20, seed=1))
    >>> W.shape, bool((W.data > 0).all())
    ((8, 8), True)
    """
    c = compile_network(network)
    n = c.n
    rows = np.concatenate([c.edge_creditor, c.ik_creditor])
    cols = np.concatenate([c.edge_debtor, c.ik_debtor])
    vals = np.concatenate([c.edge_amount, c.ik_amount])
    W = sp.coo_array((vals, (rows, cols)), shape=(n, n)).tocsr()
    W.sum_duplicates()
    return W


def systemic_importance(network: Network, base: Scenario | None = None, *, recovery: float = 0.0) -> pd.DataFrame:
    """Importance and vulnerability of every entity, from one batched cascade seeded by each.

    Parameters
    ----------
    network : Network
    base : Scenario, optional
        Conditions under which each entity fails (default: calm markets, no run).
    recovery : float, default 0.0
        Share of a failing seed's outside assets that survives.

    Returns
    -------
    pandas.DataFrame
        Indexed by entity with ``name, type, importance_usd, importance_share,
        defaults_caused, debtrank, vulnerability_usd, vulnerability_share, default_frequency``,
        sorted by importance.

    Examples
    --------
    >>> from core.datasets import synthetic
    >>> si = systemic_importance(synthetic(8, 20, seed=1))
    >>> len(si), si.index[0], bool(si["importance_usd"].is_monotonic_decreasing)
    (8, 'E000006', True)
    """
    c = compile_network(network)
    n = c.n
    base_batch = scenario_batch(network, base or Scenario(name="seed"))
    eq = np.where(c.E0 > 0, c.E0, 0.0)
    W = claims_matrix(network)

    def seeds(rows: np.ndarray) -> np.ndarray:  # one row per seed: the seed's own entity set
        out = np.zeros((len(rows), n), dtype=bool)
        out[np.arange(len(rows)), rows] = True
        return out

    def debtranks() -> np.ndarray:  # one seed per entity, in cache-sized chunks; a ranking needs no more than 1e-9
        return np.concatenate(map_chunks(lambda rows: np.atleast_1d(
            debtrank(W, eq, seeds(rows).astype(float), variant="differential", tol=1e-9).impact), n, n, workers=1))

    def cascades(rows: np.ndarray) -> tuple[np.ndarray, ...]:
        """The cascades seeded by ``rows``, reduced as soon as they finish: memory O(chunk × n)."""
        b = _repeat(base_batch, len(rows)).replace(forced=seeds(rows), forced_recovery=np.full(len(rows), float(recovery)))
        br = run_batch(c, b, workers=1)
        own = np.arange(len(rows))
        loss = br.loss.copy()
        loss[own, rows] = 0.0
        defaulted = br.defaulted.copy()
        defaulted[own, rows] = False
        return (br.total_loss - br.loss[own, rows], defaulted.sum(1), loss.sum(0), defaulted.sum(0))

    # DebtRank runs beside the cascades, so neither waits on the other's last chunk
    with single_threaded_blas(), ThreadPoolExecutor(max_workers=1) as ex:
        pending = ex.submit(debtranks)
        parts = map_chunks(cascades, n, n)
        impact = pending.result()
    caused = np.concatenate([p[0] for p in parts])
    defaults_caused = np.concatenate([p[1] for p in parts])
    vuln = np.sum([p[2] for p in parts], axis=0) / max(n - 1, 1)
    dfreq = np.sum([p[3] for p in parts], axis=0) / max(n - 1, 1)
    sys_eq = float(np.maximum(c.E0, 0).sum())
    ent = network.entities
    out = pd.DataFrame(
        {
            "name": ent["name"].to_numpy(),
            "type": ent["type"].to_numpy(),
            "importance_usd": caused,
            "importance_share": caused / sys_eq if sys_eq > 0 else 0.0,
            "defaults_caused": defaults_caused,
            "debtrank": impact,
            "vulnerability_usd": vuln,
            "vulnerability_share": np.where(c.E0 > 0, vuln / np.where(c.E0 > 0, c.E0, 1.0), 0.0),
            "default_frequency": dfreq,
        },
        index=pd.Index(c.ids, name="entity"),
    )
    return out.sort_values("importance_usd", ascending=False, kind="stable")


def _repeat(batch: ScenarioBatch, m: int) -> ScenarioBatch:
    """A one-scenario batch repeated ``m`` times."""
    return batch_take(batch, np.zeros(m, dtype=np.int64))


def contagion_path(result: CascadeResult, entity: str) -> pd.DataFrame:
    """The chain of largest contagion edges from the shock to ``entity``, in forward order.

    Walks ``result.paths`` backwards from the entity: at each step it takes the
    largest incoming edge no later than the current round, preferring the
    channel that caused the entity's default, until it reaches ``SHOCK``.

    Parameters
    ----------
    result : CascadeResult
    entity : str
        An entity id.

    Returns
    -------
    pandas.DataFrame
        ``source, target, round, channel, amount_usd`` per edge; empty when
        nothing reached the entity.

    Examples
    --------
    >>> from core import Scenario, simulate
    >>> from core.datasets import synthetic
    >>> res = simulate(synthetic(8, 20, seed=1), Scenario(price_shocks={"ETH": -0.4}))
    >>> contagion_path(res, "E000007")[["source", "target", "round"]].values.tolist()
    [['SHOCK', 'ETH', 0], ['ETH', 'stETH', 0], ['stETH', 'E000003', 0], ['E000003', 'TOKEN', 1], ['TOKEN', 'E000007', 1]]
    """
    p = result.paths
    cols = ["source", "target", "round", "channel", "amount_usd"]
    node = result.nodes.set_index("entity")
    if entity not in node.index and entity not in set(p["target"]):
        raise KeyError(f"unknown entity {entity!r}")
    steps: list[pd.Series] = []
    seen = {entity}
    current, rnd = entity, int(p["round"].max()) if len(p) else 0
    if entity in node.index and node.loc[entity, "default_round"] >= 0:
        rnd = int(node.loc[entity, "default_round"])
    prefer = node.loc[entity, "cause"] if entity in node.index else ""
    while current != "SHOCK":
        inc = p[(p["target"] == current) & (p["round"] <= rnd) & ~p["source"].isin(seen - {"SHOCK"})]
        if inc.empty:
            break
        if (inc["source"] == "SHOCK").any():  # the scenario hit it directly: that is the root
            pick = inc[inc["source"] == "SHOCK"]
        elif prefer and (inc["channel"] == prefer).any():
            pick = inc[inc["channel"] == prefer]
        else:
            pick = inc
        e = pick.loc[pick["amount_usd"].idxmax()]
        steps.append(e)
        seen.add(e["source"])
        current, rnd, prefer = e["source"], int(e["round"]), ""
        if current in node.index and node.loc[current, "default_round"] >= 0:
            # Follow what brought the source down, not what happened to it afterwards.
            rnd = min(rnd, int(node.loc[current, "default_round"]))
            prefer = str(node.loc[current, "cause"])
    if not steps:
        return pd.DataFrame(columns=cols)
    return pd.DataFrame(steps[::-1])[cols].reset_index(drop=True)


def narrative(result: CascadeResult, entity: str, network: Network | None = None) -> str:
    """A one-line story of how the cascade reached ``entity``.

    Parameters
    ----------
    result : CascadeResult
    entity : str
        An entity id.
    network : Network, optional
        For entity names (ids otherwise).

    Returns
    -------
    str
        The steps of :func:`contagion_path` joined by arrows, then the entity's default and loss.

    Examples
    --------
    >>> from core import Scenario, simulate
    >>> from core.datasets import synthetic
    >>> net = synthetic(8, 20, seed=1)
    >>> print(narrative(simulate(net, Scenario(price_shocks={"ETH": -0.4})), "E000003", net))
    Shock → ETH (shock) → stETH (price fall) → Synthetic depositor aggregate 3 (price fall) → Synthetic depositor aggregate 3 defaults in round 4, loss $5.77M
    """
    names = {} if network is None else dict(zip(network.entities["id"], network.entities["name"]))
    path = contagion_path(result, entity)
    row = result.nodes.set_index("entity").loc[entity]
    label = lambda x: str(names.get(x, x))
    parts: list[str] = []
    for i, e in path.iterrows():
        if i == 0:
            parts.append("Shock" if e["source"] == "SHOCK" else label(e["source"]))
        parts.append(f"{label(e['target'])} ({_WORDS.get(e['channel'], e['channel'])})")
    head = " → ".join(parts)
    loss = usd(float(row["loss_usd"]))
    if row["default_round"] >= 0:
        tail = f"{label(entity)} defaults in round {int(row['default_round'])}, loss {loss}"
    elif row["loss_usd"] > 0:
        tail = f"{label(entity)} survives with a loss of {loss} ({row['loss_share']:.0%} of its equity)"
    else:
        tail = f"{label(entity)} is untouched"
    return f"{head} → {tail}" if parts else tail


def safeguard_difference(network: Network, scenario: Scenario) -> pd.DataFrame:
    """The same shock without and with the scenario's safeguards: one row per metric.

    Parameters
    ----------
    network : Network
    scenario : Scenario
        Its ``safeguards`` are the "with" case; the "without" case resets them to the defaults.

    Returns
    -------
    pandas.DataFrame
        Indexed by metric (``total_loss_usd``, ``defaults``, ``bad_debt_usd``,
        ``liquidated_usd``, ``insurance_draw_usd``, ...) with columns ``without``,
        ``with`` and ``difference`` (with - without).

    Examples
    --------
    >>> from core import Scenario
    >>> from core.datasets import synthetic
    >>> from core.scenario import CircuitBreaker, Safeguards
    >>> sc = Scenario(price_shocks={"ETH": -0.4}, safeguards=Safeguards(circuit_breaker=CircuitBreaker()))
    >>> d = safeguard_difference(synthetic(8, 20, seed=1), sc)
    >>> d.columns.tolist(), d.loc["defaults"].tolist()
    (['without', 'with', 'difference'], [4.0, 4.0, 0.0])
    """
    br = simulate_batch(network, [scenario.without_safeguards(), scenario])
    rows = {
        "total_loss_usd": br.total_loss,
        "defaults": br.defaulted.sum(1).astype(float),
        "bad_debt_usd": br.bad_debt.sum(1),
        "liquidated_usd": br.liquidated_usd,
        "insurance_draw_usd": br.insurance_draw.sum(1),
    }
    df = pd.DataFrame({k: v for k, v in rows.items()}, index=["without", "with"]).T
    df["difference"] = df["with"] - df["without"]
    return df
