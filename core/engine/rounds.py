"""The round of a cascade, and the loop that runs rounds over a batch until each scenario settles."""

from __future__ import annotations

import contextlib
import os
from typing import Any, Mapping, Sequence

import numpy as np

from ..chunks import chunk_rows, engine_workers, map_chunks, single_threaded_blas
from ..mechanisms._checks import trusted
from ..network import Network
from ..report import build_result, rounds_storage
from ..results import CascadeResult
from ..scenario import Scenario, as_scenario
from . import (backing, breaker, clear, defend, exogenous, liquidate, maker, module_arbitrage, perps, pool_arbitrage, queue_sales,
               reserves, sell, staking, withdraw)
from .batch import ScenarioBatch, batch_take, build_batch
from .compiled import Compiled, compile_network
from .outcome import BatchResult, batch_result, empty_outcome, joined, new_history, record
from .staged import Part, advance, run_staged
from .state import CascadeState, initial_state


#: The steps of a round, in order; each is ``step(compiled, state, batch, round) -> changes``
#: and names in its docstring the fields it reads and writes.
STEPS = (
    exogenous.exogenous,        # what the scenario itself does this round (round 0: the whole shock)
    breaker.check,              # a large fall over the last round halts liquidations, runs and estate sales
    liquidate.liquidate,        # 1. cohorts below their threshold at oracle prices are liquidated
    maker.vault_auctions,       #    Maker's vaults: barks, auctions, the Vow and debt auctions
    perps.perps,                #    perpetuals venues liquidate and run their waterfalls
    withdraw.withdraw,          # 2. depositors run on distressed entities
    sell.estate_sales,          # 3. the market sells ahead of defaulted estates (frozen, recovered at the end)
    staking.open_pool_prices,   #    staking pools' prices before the round's sales
    sell.price_impact,          #    everything sold this round moves prices
    pool_arbitrage.arbitrage,   #    pools are arbitraged down to their token's market price
    staking.liquid_staking_round,  # LPs leave stressed staking pools; redemption arbitrage floors the discount
    defend.defend_pegs,         # 4. reserves buy their pegged token below peg
    defend.redeem_algorithmic,  #    algorithmic stablecoins are redeemed for their backing
    queue_sales.sell_unserved_queue,  # holders queued to redeem who cannot be served sell into the coin's pool
    module_arbitrage.redeem_pool_coins,  # arbitrageurs redeem the pool's cheap coins with the module's spare capacity
    reserves.fiat_reserves_round,  # fiat-backed coins: impaired reserves, the redemption queue, the re-peg
    backing.backing_links,      #    PSM-backed coins follow their backing (and the CDP premium), FRAX its collateral
    defend.issuer_effects,      #    issuers' tokens follow their issuer's recovery and equity (a cap after the peg factors)
    defend.follow_underlying,   #    wrapped tokens follow their underlying
    breaker.count_down,
    defend.floor_prices,
    liquidate.insurance,        #    insurance funds pay in bad debt, then cover loans under water at the close
    clear.mark_and_clear,       # 5. mark to market, clearing, defaults
    clear.settle,               #    has anything moved?
)


def run_round(c: Compiled, s: CascadeState, b: ScenarioBatch, r: int) -> None:
    """Round ``r`` of every scenario in the batch: the steps of :data:`STEPS`, in order. Nothing else knows
    this order."""
    for step in STEPS:
        changes = step(c, s, b, r)
        if changes:  # an idle step changes nothing
            if CHECK_STEPS:
                check_changes(step, changes, r)
            s.apply(changes)


#: Whether :func:`run_round` checks every step's changes for NaN (``SFM_CHECK_STEPS=1``; the test suite sets it).
#: The engine runs its mechanisms on trusted inputs (:func:`~core.mechanisms._checks.trusted`), which skip their
#: argument checks, so a NaN one step made would otherwise flow on silently: a Maker crossing's NaN market price
#: reached the clip auction and moved a result by $6.8M without an error (session 17).
CHECK_STEPS = os.environ.get("SFM_CHECK_STEPS", "") not in ("", "0")


def check_changes(step: Any, changes: Mapping[str, Any], r: int) -> None:
    """Raise FloatingPointError naming the step, the field and the round where a step wrote a NaN."""
    for name, value in changes.items():
        arrays = ([getattr(value, f) for f in value.__dataclass_fields__] if hasattr(value, "__dataclass_fields__")
                  else value if isinstance(value, list) else [value])
        for a in arrays:
            if isinstance(a, np.ndarray) and a.dtype.kind == "f" and np.isnan(a).any():
                rows = np.unique(np.nonzero(np.isnan(a))[0])[:5].tolist() if a.ndim else []
                raise FloatingPointError(f"round {r}: {step.__module__}.{step.__name__} wrote NaN into {name!r} "
                                         f"(scenario rows {rows})")


def run_cascades(c: Compiled, b: ScenarioBatch, recording: bool,
                 into: Mapping[str, np.ndarray] | None = None) -> BatchResult:
    """Rounds until every scenario has settled or the horizon is reached.

    A scenario's result is taken the round it settles, so it never depends on
    its batch-mates; settled rows leave the arrays once they are a quarter of
    the batch (copying costs; :func:`core.engine.staged.advance`). A recorded run writes its history into
    ``into``'s arrays where given (:func:`~core.engine.outcome.new_history`).
    """
    out = empty_outcome(c, b.S)
    hist = new_history(into) if recording else {}
    part = Part(initial_state(c, b), b, np.arange(b.S), np.zeros(b.S, bool))
    after = (lambda s: record(hist, c, s)) if recording else None
    for r in range(b.horizon):
        advance(c, part, r, out, run_round, recording, after)
        if part.done:
            break
    return batch_result(c, out, hist)


#: Entities from which even a single run holds BLAS to one thread.
SINGLE_THREAD_ENTITIES = 10_000


def run_batch(network: Network | Compiled, b: ScenarioBatch, *, record: bool = False,
              workers: int | None = None, record_into: Mapping[str, np.ndarray] | None = None) -> BatchResult:
    """The cascade over arrays: ``b`` holds one row per scenario (see :func:`simulate_batch`).

    A large batch is run in chunks of scenarios whose (scenario, entity)
    arrays fit a core's cache (:mod:`core.chunks`): a round makes some fifty
    passes over them, which then stay out of main memory. The chunks run on
    ``workers`` threads (default: the usable cores, or what
    :func:`~core.chunks.engine_threads` set). A scenario's result never
    depends on its batch-mates, so the result is the same to the last bit
    however the batch is cut. ``record_into`` gives recorded history arrays their storage,
    ``(S, rounds reserved, ...)`` each (see :func:`~core.engine.outcome.new_history`).
    """
    c = network if isinstance(network, Compiled) else compile_network(network)
    width = c.n + (0 if c.perps is None else len(c.perps.row_entity))  # floats per scenario: entities, positions
    if record or b.S <= chunk_rows(width):
        # network and scenarios were validated on loading: the mechanisms skip their checks
        # BLAS on one thread: a batch's products are small, and one large network's are memory-bound (threads
        # contend for the bus and the cores); a small single run skips the limiter's own cost
        with trusted(), (single_threaded_blas() if b.S > 1 or c.n >= SINGLE_THREAD_ENTITIES else contextlib.nullcontext()):
            return run_cascades(c, b, record, record_into)

    if (engine_workers() if workers is None else workers) == 1:
        # one thread: cache-sized parts one after another, the rows still running in several parts gathered
        # into one for the last rounds (core.engine.staged)
        out = empty_outcome(c, b.S)
        with trusted(), single_threaded_blas():
            run_staged(c, b, chunk_rows(width), out, run_round, initial_state)
        return batch_result(c, out, {})

    def job(idx: np.ndarray) -> BatchResult:
        with trusted():
            return run_cascades(c, batch_take(b, idx), False)

    return joined(map_chunks(job, b.S, width, workers))


def dated_groups(network: Network, scenarios: Sequence[Scenario]) -> tuple[list[Network], np.ndarray]:
    """The networks a batch's scenarios run on, each scenario's ``date`` read as :func:`simulate` reads it, and
    each scenario's group (its network's position in that list).

    A scenario runs on :func:`core.snapshots.dated` ``(network, date)``: without a date, ``network`` as given;
    with one, the shipped snapshot with the parameter changes in force that day. Dates that give the same network
    (none of the snapshot's changes in force before them, or the day ``network`` is already at) are one group:
    one network, one compiled network, one batch. A date the network cannot be put at (a network whose changes
    are unknown, a day before the snapshot's) is refused with :func:`~core.snapshots.dated`'s error.

    Returns
    -------
    (list of Network, ndarray of int, shape (S,))
        The distinct networks, in the order of their first scenario, and each scenario's position among them.

    Examples
    --------
    >>> from core import datasets
    >>> net = datasets.load("crypto-2022-05")
    >>> dates = (None, "2022-06-18", "2022-05-13", "2022-11-11", "2022-06-18")
    >>> nets, group = dated_groups(net, [Scenario(date=d) for d in dates])
    >>> [n.meta.get("parameters_as_of") for n in nets]
    [None, '2022-06-18', '2022-11-11']
    >>> group.tolist()  # 13 May: no change in force yet, the snapshot itself
    [0, 1, 0, 2, 1]
    """
    from ..snapshots import dated

    dates = [sc.date for sc in scenarios]
    first = list(dict.fromkeys(dates))  # the distinct dates (a few), in order
    on = [dated(network, d) for d in first]
    nets = list({id(n_): n_ for n_ in on}.values())
    at = {id(n_): i for i, n_ in enumerate(nets)}
    of_date = {d: at[id(n_)] for d, n_ in zip(first, on)}
    return nets, np.fromiter((of_date[d] for d in dates), dtype=np.int64, count=len(dates))


def simulate_batch(network: Network, scenarios: Sequence[Scenario], *, record: bool = False,
                   check: bool = True) -> BatchResult:
    """Run a batch of scenarios at once; see the package docstring for the round.

    Scenarios that have settled drop out of the batch, so a batch costs what
    its longest cascades cost, not ``len(scenarios) × horizon`` rounds.

    A scenario's ``date`` is read as :func:`simulate` reads it (:func:`dated_groups`,
    :func:`core.snapshots.dated`): each row is the run of its scenario on the network of its date, the same
    as :func:`simulate` gives it. Scenarios of one date (or none) run as one batch on one compiled network; a
    batch of several dates is run as one batch per dated network (each vectorised over its rows), and the rows
    are put back in the order given. A date the network cannot be put at is refused, as :func:`simulate`
    refuses it.

    Parameters
    ----------
    network : Network
    scenarios : sequence of Scenario
        At least one.
    record : bool
        Keep per-round arrays in :attr:`BatchResult.history` (one dated network: a batch whose dates put it on
        several is refused, since each network's batch records rounds of its own; record each date's apart).
    check : bool
        Check each scenario's names against the network; ``False`` skips it
        (for batches built from the network's own ids).

    Returns
    -------
    BatchResult
        One row per scenario, in the order given.

    Raises
    ------
    ValueError
        When ``scenarios`` is empty, or ``record`` is asked of scenarios whose dates put them on several networks.
    DataValidationError
        When a scenario names an asset or entity the network lacks (``check=True``), or has a ``date`` the
        network cannot be put at.

    Examples
    --------
    >>> from core import Scenario
    >>> from core.datasets import synthetic
    >>> batch = simulate_batch(synthetic(20, 50, seed=1), [Scenario(price_shocks={"ETH": s}) for s in (-0.2, -0.6)])
    >>> batch.rounds_run.tolist()  # (12 for -20% before session 31's same-round pool index; the same losses)
    [11, 11]
    """
    if not scenarios:
        raise ValueError("at least one scenario is needed")
    nets, group = dated_groups(network, scenarios)
    if len(nets) == 1:
        c = compile_network(nets[0])
        return run_batch(c, build_batch(c, scenarios, nets[0], check), record=record)
    if record:
        days = sorted({str(sc.date) for sc in scenarios})
        raise ValueError(f"a recorded batch runs on one network; these scenarios' dates ({', '.join(days)}) put them "
                         f"on {len(nets)}: record each date's scenarios as a batch of its own")
    rows, parts = [], []
    for g, net in enumerate(nets):  # one batch per dated network (the batch's few dates), each vectorised
        idx = np.flatnonzero(group == g)
        c = compile_network(net)
        rows.append(idx)
        parts.append(run_batch(c, build_batch(c, [scenarios[i] for i in idx.tolist()], net, check)))
    return joined(parts, np.concatenate(rows))


def simulate(network: Network, scenario: Scenario | Mapping[str, Any] | str | os.PathLike[str]) -> CascadeResult:
    """Run one scenario through the cascade and return its round-by-round tables.

    Parameters
    ----------
    network : Network
        The system (e.g. :func:`core.datasets.default`, :func:`core.load_network`).
    scenario : Scenario, Mapping or str or os.PathLike
        The shock: a :class:`~core.scenario.Scenario`, a mapping of its fields,
        or the path of a scenario JSON file (see :func:`core.scenario.as_scenario`).

    Returns
    -------
    CascadeResult
        ``rounds``, ``prices``, ``totals``, ``nodes``, ``paths`` and ``summary``
        (see :mod:`core.results`).

    Raises
    ------
    TypeError
        When ``scenario`` is none of the above.
    core.validation.DataValidationError
        When the scenario is invalid or names an entity or asset the network lacks, or has a ``date`` the
        network cannot be put at (:func:`core.snapshots.dated`: a scenario's ``date`` runs a shipped snapshot
        with the parameter changes in force that day; on any other network it is refused, never ignored).

    Examples
    --------
    >>> import core
    >>> net = core.datasets.load("crypto-2022-05")
    >>> res = core.simulate(net, {"name": "eth-40", "price_shocks": {"ETH": -0.4}})
    >>> res.summary_value("total_loss_usd") > 0
    True
    >>> same = core.simulate(net, core.datasets.scenario_dir() / "terra_may_2022.json")
    >>> int(same.summary_value("defaults")) >= 1
    True
    """
    from ..snapshots import dated

    scenario = as_scenario(scenario)
    network = dated(network, scenario.date)  # a dated scenario: its day's parameters, or refused (never ignored)
    c = compile_network(network)
    b = build_batch(c, [scenario], network, True)
    block, into = rounds_storage(b.horizon, c.n)  # the rounds table's columns, recorded in place
    br = run_batch(c, b, record=True, record_into=into)
    return build_result(network, scenario, br, c, block)
