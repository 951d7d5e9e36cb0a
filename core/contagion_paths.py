"""How a failure travelled: the chain of largest contagion edges to an entity, and its one-line story.

Both read a :class:`~core.results.CascadeResult`'s ``paths`` and ``nodes`` (``core.metrics`` names them too:
:func:`core.metrics.contagion_path`, :func:`core.metrics.narrative`)."""

from __future__ import annotations

import pandas as pd

from .engine.compiled import equity_floors_by_entity
from .formatting import equity_share, usd
from .network import Network
from .results import EQUITY_FLOOR_USD, CascadeResult

_WORDS = {
    "shock": "shock",
    "market": "price fall",
    "liquidation": "liquidations",
    "bad_debt": "bad debt",
    "default": "default",
    "run": "withdrawals",
    "fire_sale": "forced sales",
}


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
        The steps of :func:`contagion_path` joined by arrows, then the entity's default, its loss (at most
        its equity) and what it is short of what it owes (its creditors' loss), or its loss if it survives, as a
        share of its equity (:func:`core.formatting.equity_share`, the entity card's words). The path's last step is
        the entity: the sentence goes on from it (", which defaults ..."), never naming it twice.

    Examples
    --------
    >>> from core import Scenario, simulate
    >>> from core.datasets import synthetic
    >>> net = synthetic(8, 20, seed=1)
    >>> print(narrative(simulate(net, Scenario(price_shocks={"ETH": -0.4})), "E000003", net))
    Shock → ETH (shock) → stETH (price fall) → Synthetic depositor aggregate 3 (price fall), which defaults in round 2, loss $5.77M, $289.0k short of what it owes

    (Round 3 before session 31: its LP shares on three pools were valued at the last round's index; at the same
    round's, the pools' fall reaches it in round 1, not 2: its equity $753.7k after the shock, then $327.8k and
    -$153.3k, a round ahead; it ends $289.0k short either way.) Before session 37 the sentence named the entity
    twice, "... → Synthetic depositor aggregate 3 (price fall) → Synthetic depositor aggregate 3 defaults ...", and an
    entity the scenario shocks and that fails of it read as two steps ("Shock → Stream Finance (xUSD) (shock) →
    Stream Finance (xUSD) defaults in round 1", November 2025); and its share of equity had no decimals, "(30% of its
    equity)" beside the card's 29.8% (Terraform Labs, Terra May 2022).
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
    # the path ends at the entity (its last step's target): the sentence goes on from it, without naming it again
    who = "which" if len(path) and str(path["target"].iloc[-1]) == entity else label(entity)
    loss = usd(float(row["loss_usd"]))
    if row["default_round"] >= 0:
        # its loss is at most its equity (limited liability); what it cannot pay is its creditors' loss
        short = -float(row["final_equity_usd"])
        tail = f"{who} defaults in round {int(row['default_round'])}, loss {loss}" + (
            f", {usd(short)} short of what it owes" if short > 0 else "")
    elif row["loss_usd"] > 0:
        # the entity's own floor, the nodes table's loss_share's (core.engine.compiled.equity_floors_by_entity, the
        # one core.metrics.equity_floors names); without the network, a loss the nodes table gives no share of had no
        # equity under that floor (UNI_ETH's $0.9995 of a $1bn pool)
        floor = EQUITY_FLOOR_USD if row["loss_share"] > 0 else float("inf")
        if network is not None:
            floor = float(equity_floors_by_entity(network)[entity])
        tail = f"{who} survives with a loss of {loss} ({equity_share(float(row['loss_usd']), float(row['initial_equity_usd']), floor)})"
    else:
        tail = f"{who} is untouched"
    if not parts:
        return tail
    return f"{head}, {tail}" if who == "which" else f"{head} → {tail}"
