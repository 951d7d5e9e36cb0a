"""Invariants of the cascade, measured through the public API only, and the strategies that search them.

Everything here reads what any caller can read: ``core.engine.simulate_batch``
(:class:`~core.engine.BatchResult` arrays), ``core.simulate`` (the per-round
``prices`` table), ``core.scenario.Scenario`` and the network's own tables
(``assets``, ``entities``, ``holdings``, ``exposures``, ``cohorts``). Nothing
reaches into the engine's internals, so the measures survive its refactor.

Each ``*_violation`` function returns a :class:`Violation`: its size (USD,
count or price ratio; 0 when the invariant holds), the exact inputs that
produced it and a short note. The tests in ``tests/test_invariants.py`` feed
it hypothesis examples, steer the search with ``hypothesis.target`` on the
size, and keep the worst example found.

The invariants (issue 11, part 2)
---------------------------------
1. **Monotone.** With every other input fixed, a deeper price shock (or
   depeg) on an asset or group of assets never lowers system loss
   (``total_loss``), total bad debt at reference prices (``bad_debt_reference_usd``
   summed over protocols: each debt token's units short at its reference price,
   :mod:`core.engine.reference_bad_debt`) or the number of defaults
   (``defaulted``). Bad debt marked at the round's prices (``bad_debt``) is
   reported beside it but not held to the invariant: a deeper shock that leaves
   more of a loan unpaid while the debt token falls further marks the larger
   shortfall lower (the lead's decision on issue 11: that fall is the debtor's
   real gain, reported as such, not less bad debt). The shocked group holds no token that
   an entity of the network owes (``Tables.owed_tokens``: a named borrower's
   ``debt_asset``): a fall of such a token is a real gain to its debtor (the
   exception of invariant 2) and may rightly save it from default, so loss
   need not rise with it (docs/invariants.md shows the case). Nor a perpetuals
   market in which an entity gains from outside the network as it falls: a
   named short, or a backstop vault keeping the margin left by the anonymous
   accounts it liquidates (on the perps network, BTC 1.0 % -> 1.6 % with USDC
   and USDX depegged by 49 % liquidates VENUE_B's 25x longs with 22k of margin
   left, which VAULT_B keeps: system loss falls by 21k).
2. **No value created.** In a scenario with only falls (price falls, depegs,
   forced defaults), no entity ends with more equity than it started, except a
   debtor whose debt is denominated in a token that fell, by at most what that
   fall explains, and a holder of a token a named short's forced buy-back lifted
   above its reference, by at most what the engine's impact of the recorded
   purchase explains (decision 13: :mod:`forced_purchase`) (:func:`allowed_gain`).
3. **Prices.** Every price in every round is positive and finite; a wrapped
   token (``peg_unit`` another asset of the network, no AMM pool: WBTC/BTC)
   trades at ``peg_target`` times its underlying; a pool-priced token pegged
   to another asset (stETH/ETH) never above that; a token pegged to USD never
   above its peg.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import core
from core.engine import simulate_batch
from core.scenario import Scenario
from depth_points import Depths, at_point, depth_points, describe, per_asset

ROOT = Path(__file__).resolve().parent.parent
REGRESSIONS = Path(__file__).resolve().parent / "regressions" / "invariant_counterexamples.json"

#: Synthetic networks searched: (entities, exposures, seed). 200 to 5,000 entities, four exposures each.
SYNTHETIC_SIZES = ((200, 800, 1), (200, 800, 2), (1000, 4000, 1), (1000, 4000, 3), (5000, 20000, 1))
#: Exchange and lender types whose deposits and customer balances are owed in kind (the engine's
#: documented convention: "Claims of depositors, customers and liquidity providers are in kind").
IN_KIND_DEBTOR_TYPES = ("lending_protocol", "cdp_protocol", "amm_pool", "liquid_staking", "centralised_exchange",
                        "perpetuals_venue", "bridge")
STABLE_KINDS = ("fiat_stable", "cdp_stable", "algorithmic_stable")


# ---------------------------------------------------------------------------
# Networks
# ---------------------------------------------------------------------------

#: The network with perpetual positions searched (core.synthetic_perps): two venues, a hedged market maker
#: on both on 4m of borrowed money, a lender, anonymous cohorts (20x and 25x longs, 3x shorts), a backstop vault.
PERPS_KEY = "perps"


@lru_cache(maxsize=8)
def network(key: str) -> core.Network:
    """``"shipped"`` (data/crypto-2022-05), a snapshot's name (``"crypto-2025-10"``), ``"perps"``
    (:data:`PERPS_KEY`) or ``"synthetic-<n>-<m>-<seed>"``."""
    if key == "shipped":
        return core.datasets.load("crypto-2022-05")
    if key.startswith("crypto-"):
        return core.datasets.load(key)
    if key == PERPS_KEY:
        from core.synthetic_perps import perps_example

        return perps_example(mm_loan_usd=4e6, a_shorts_btc=50.0)
    _, n, m, seed = key.split("-")
    return core.datasets.synthetic(int(n), int(m), seed=int(seed))


#: The batches run inside :func:`one_batch_each` (None outside): (network, scenarios as JSON) -> (network, result).
_SHARED: dict[tuple[int, tuple[str, ...]], tuple[core.Network, Any]] | None = None


@contextmanager
def one_batch_each() -> Iterator[None]:
    """Inside it, the measures run the engine once per batch of scenarios: a test that measures one batch twice
    (:func:`monotone_violation`, then :func:`value_created_violation` on the same scenarios in the same order)
    reads the second from the first run's result. Keyed by the network object and every field of every scenario;
    forgotten on leaving, so nothing outlives the test (a test that patches the engine or ``network`` is unaffected
    outside it)."""
    global _SHARED
    outer, _SHARED = _SHARED, {} if _SHARED is None else _SHARED
    try:
        yield
    finally:
        _SHARED = outer


def _simulate(key: str, scenarios: list[Scenario]):
    """``simulate_batch`` on the network ``key``, once per batch inside :func:`one_batch_each`."""
    net = network(key)
    if _SHARED is None:
        return simulate_batch(net, scenarios)
    k = (id(net), tuple(sc.model_dump_json() for sc in scenarios))
    if k not in _SHARED:
        _SHARED[k] = (net, simulate_batch(net, scenarios))  # the network held: its id stays its own
    return _SHARED[k][1]


def synthetic_keys(max_entities: int = 5000) -> list[str]:
    return [f"synthetic-{n}-{m}-{s}" for n, m, s in SYNTHETIC_SIZES if n <= max_entities]


@dataclass(frozen=True)
class Tables:
    """What the invariants need from a network's tables, as arrays in the network's own order."""

    symbols: tuple[str, ...]
    entity_ids: tuple[str, ...]
    P0: np.ndarray                # (k,) reference prices
    shockable: tuple[str, ...]    # assets a price shock may move (not pegged to USD)
    usd_pegged: tuple[str, ...]   # assets pegged to USD (depeg targets; never above peg)
    peg_target: np.ndarray        # (k,) nan where not pegged
    wrapped: tuple[tuple[str, str, float], ...]   # (token, underlying, ratio): follow exactly
    pool_pegged: tuple[tuple[str, str, float], ...]  # (token, underlying, ratio): never above
    named_debt_units: np.ndarray  # (n, k) token units a named borrower owes in protocol positions
    held_units: np.ndarray        # (n, k) token units held at the start
    book_units: np.ndarray        # (n, k) a protocol's loan book in units of each debt token
    in_kind_owed: np.ndarray      # (n,) USD the entity owes in kind (deposits, customer balances, LP shares)
    issuers: dict[str, str]       # asset -> issuer entity id
    owed_tokens: tuple[str, ...]  # tokens a named borrower owes (a fall of one helps its debtor)
    short_units: np.ndarray       # (n, k) units of each market a named account is short on perpetuals venues
    vault_margin: np.ndarray      # (n,) USD margin of the positions on the venues the entity is, or whose backstop vault it is
    claim_units: np.ndarray       # (n, k) units held, own and through in-kind claims (:func:`units_through_claims`)


@lru_cache(maxsize=8)
def tables(key: str) -> Tables:
    net = network(key)
    a, e, h, x, c = net.assets, net.entities, net.holdings, net.exposures, net.cohorts
    syms = tuple(a["symbol"])
    ids = tuple(e["id"])
    apos = {s: i for i, s in enumerate(syms)}
    epos = {s: i for i, s in enumerate(ids)}
    n, k = len(ids), len(syms)
    unit = a["peg_unit"].fillna("").astype(str).to_numpy()
    pool = a["amm_pool"].fillna("").astype(str).to_numpy()
    target = a["peg_target"].to_numpy(dtype=float)
    wrapped, pool_pegged = [], []
    P0 = a["price_usd"].to_numpy(dtype=float)
    for i, s in enumerate(syms):
        if unit[i] in apos:
            # a wrapped token follows its underlying at its peg times the snapshot's own discount, where it has one
            # (core.engine.sell.reference_basis: stETH at 0.999 ETH on the 2025 network)
            ref = P0[i] / (target[i] * P0[apos[unit[i]]])
            ratio = target[i] * (ref if not pool[i] and ref < 1.0 - 1e-12 else 1.0)
            (pool_pegged if pool[i] else wrapped).append((s, unit[i], float(ratio)))
    held = np.zeros((n, k))
    np.add.at(held, ([epos[v] for v in h["entity"]], [apos[v] for v in h["asset"]]), h["amount"].to_numpy(dtype=float))
    named = np.zeros((n, k))
    book = np.zeros((n, k))
    for proto, borrower, da, amt in zip(c["protocol"], c["borrower"].fillna(""), c["debt_asset"], c["debt_amount"]):
        book[epos[proto], apos[da]] += amt
        if borrower:
            named[epos[borrower], apos[da]] += amt
    etype = dict(zip(e["id"], e["type"]))
    owes = set(x["debtor"])
    other_liab = dict(zip(e["id"], e["other_liabilities_usd"]))
    sink = {i for i in ids if etype[i] == "depositor_aggregate" and i not in owes and other_liab[i] == 0}
    ik = np.zeros(n)
    claims = []  # (creditor, debtor, USD not secured): the in-kind claims, as the engine's clearing books take them
    secured = x["collateral_amount"].fillna(0.0).to_numpy(dtype=float) * np.array(
        [P0[apos[v]] if v in apos else 0.0 for v in x["collateral_asset"].fillna("")])
    for cred, debt, kind, amt, sec in zip(x["creditor"], x["debtor"], x["kind"], x["amount_usd"], secured):
        if cred in sink or kind == "lp_share" or (kind in ("deposit", "customer_balance") and etype[debt] in IN_KIND_DEBTOR_TYPES):
            ik[epos[debt]] += amt
            if amt - min(amt, sec) > 0:
                claims.append((epos[cred], epos[debt], amt - min(amt, sec)))
    short = np.zeros((n, k))
    vault = np.zeros(n)
    gains_outside = np.zeros(k, bool)  # markets where a named short or a backstop vault gains from outside
    pos = net.positions
    if len(pos):
        gaining = ((pos["account"] != "") & (pos["side"] == "short")) | pos["venue"].isin(set(net.venues["venue"]))
        gains_outside[[apos[m] for m in pos.loc[gaining, "market"]]] = True
        named_short = (pos["account"] != "") & (pos["side"] == "short")
        np.add.at(short, ([epos[v] for v in pos.loc[named_short, "account"]], [apos[v] for v in pos.loc[named_short, "market"]]),
                  pos.loc[named_short, "size"].to_numpy(dtype=float))
        margin_price = np.array([1.0 if m in ("", "USD") else float(a["price_usd"].iloc[apos[m]]) for m in pos["margin_asset"]])
        margin_by_venue = pd.Series(pos["margin"].to_numpy(dtype=float) * margin_price).groupby(pos["venue"].to_numpy()).sum()
        for venue, entity in zip(net.venues["venue"], net.venues["backstop_vault_entity"].fillna("")):
            # the margin left at liquidations goes to the venue's vault, or to its insurance fund, whose growth
            # is the venue's (core.engine.perps; a scenario may change the rule, so the venue may gain it either way)
            for gainer in ({entity, venue} if entity else {venue}):
                vault[epos[gainer]] += float(margin_by_venue.get(venue, 0.0))
    return Tables(
        symbols=syms, entity_ids=ids, P0=a["price_usd"].to_numpy(dtype=float),
        shockable=tuple(s for i, s in enumerate(syms) if unit[i] != "USD"),
        usd_pegged=tuple(s for i, s in enumerate(syms) if unit[i] == "USD"),
        peg_target=target, wrapped=tuple(wrapped), pool_pegged=tuple(pool_pegged),
        named_debt_units=named, held_units=held, book_units=book, in_kind_owed=ik,
        issuers={s: v for s, v in zip(syms, a["issuer"].fillna("")) if v},
        owed_tokens=tuple(s for i, s in enumerate(syms) if named[:, i].any() or gains_outside[i]),
        short_units=short, vault_margin=vault,
        claim_units=units_through_claims(held, book, P0, claims, n),
    )


def units_through_claims(held: np.ndarray, book: np.ndarray, P0: np.ndarray, claims: list[tuple[int, int, float]],
                         n: int) -> np.ndarray:
    """Token units each entity holds, (n, k): its own and, through its in-kind claims, its share of its debtors'.

    A claim in kind follows the assets held for it (:func:`core.engine.books.inkind_index`): a reference dollar
    of claims on ``v`` is worth ``lam_v = (C0 - K0 + K0 V(P) / V0) / C0`` with ``K0 = min(C0, V0)``, ``C0`` the
    in-kind claims on ``v`` and ``V0`` the reference value of what they follow (``v``'s tokens, loan book and
    in-kind claims it holds). A rise ``dP_a`` of a token ``v`` holds ``u_va`` units of lifts a claim ``c`` on it by
    ``c u_va dP_a / max(C0, V0)``: the holder owns ``c / max(C0, V0)`` of ``v``'s units, pro rata, and through
    ``v``'s own claims the same again, level by level (``U = held + W U``, ``W_iv = c_iv / max(C0_v, V0_v)``; a
    debtor's claims sum to at most 1 of it, so the levels converge). CEX_CUSTOMERS' BTC on the 2025 network is
    its share of the exchanges' (decision 13). Reference units: what the index values for an exchange or lender.
    """
    if not claims:
        return held.copy()
    cred, debt, amt = (np.array(v) for v in zip(*claims))
    C0 = np.bincount(debt, amt, n)
    V0 = (held + book) @ P0 + np.bincount(cred, amt, n)
    W = np.zeros((n, n))
    np.add.at(W, (cred.astype(int), debt.astype(int)), amt / np.maximum(C0, V0)[debt.astype(int)])
    units = held.copy()
    for _ in range(n):  # at most one level per entity; stops when no level adds anything
        more = held + W @ units
        if np.allclose(more, units, rtol=1e-15, atol=0.0):
            return more
        units = more
    return units


# ---------------------------------------------------------------------------
# Violations
# ---------------------------------------------------------------------------

@dataclass
class Violation:
    size: float                      # 0 when the invariant holds; USD, count or ratio (see ``unit``)
    unit: str
    inputs: dict[str, Any]           # exact inputs: network key and scenario documents
    note: str = ""
    detail: dict[str, Any] = field(default_factory=dict)

    def case(self, invariant: str) -> dict[str, Any]:
        """A regression-table row: the exact inputs, what was measured and when."""
        return {"invariant": invariant, **self.inputs, "measured": {"size": self.size, "unit": self.unit, "note": self.note}}


def scenario_doc(sc: Scenario) -> dict[str, Any]:
    """The non-default fields of a scenario (enough to rebuild it exactly)."""
    return json.loads(sc.model_dump_json(exclude_defaults=True))


def usd_tolerance(br) -> float:
    """Floating-point slack for USD sums: a dollar, or a billionth of system equity."""
    return 1.0 + 1e-9 * br.system_equity


def with_depth(base: Scenario, assets: tuple[str, ...], depth: float, mode: str) -> Scenario:
    """``base`` with each of ``assets`` shocked to ``-depth`` (mode ``"price"``) or depegged by ``depth`` (``"depeg"``)."""
    return at_point(base, {a: depth for a in assets}, mode)


def monotone_violation(key: str, base: Scenario, assets: tuple[str, ...], depths: Depths, mode: str = "price") -> Violation:
    """Largest fall of system loss, total bad debt at reference prices or defaults between a shallower and a deeper shock.

    ``depths`` (one list for every asset, or a list per asset: :mod:`depth_points`) are evaluated as one batch of
    ascending points; every ordered pair counts, so the worst pair is ``max_j (max_{i<j} f_i - f_j)``. Size: the
    USD drop of loss or bad debt at reference prices, whichever is larger, or ``defaults_drop`` in entities when
    only defaults fall (reported in ``detail``). ``inputs["depths"]`` is the worst pair in the form given.
    ``detail["bad_debt_marked"]`` keeps total bad debt marked at the closing prices at the worst pair's depths,
    and what the debt tokens' own fall takes off it there: reported, not held to the invariant.
    """
    points = depth_points(assets, depths)
    scs = [at_point(base, p, mode) for p in points]
    br = _simulate(key, scs)
    tol = usd_tolerance(br)
    metrics = {
        "total_loss_usd": br.total_loss,
        "bad_debt_reference_usd": br.bad_debt_reference_usd.sum(1),
        "defaults": br.defaulted.sum(1).astype(float),
    }
    marked, token_fall = br.bad_debt.sum(1), br.bad_debt_token_fall_usd.sum(1)

    def depth_of(j: int) -> Any:  # a point in the form given: one depth, or the mapping
        return dict(points[j]) if per_asset(depths) else points[j][assets[0]] if assets else 0.0

    detail: dict[str, Any] = {}
    worst_usd, worst_count, where = 0.0, 0.0, None
    for name, f in metrics.items():
        run_max = np.maximum.accumulate(f)
        drop = run_max[:-1] - f[1:]
        j = int(np.argmax(drop)) + 1
        i = int(np.argmax(f[:j]))
        size = float(drop[j - 1])
        detail[name] = {"drop": size, "shallow": depth_of(i), "deep": depth_of(j), "values": [float(f[i]), float(f[j])],
                        "at": (i, j)}
        if name == "defaults":
            worst_count = size
        elif size > worst_usd:
            worst_usd, where = size, (i, j)
    usd = worst_usd if worst_usd > tol else 0.0
    count = worst_count if worst_count > 0 else 0.0
    if usd == 0.0 and count > 0:
        where = detail["defaults"]["at"]
    i, j = where if where else (0, len(points) - 1)
    pair: Any = ({a: [points[i][a], points[j][a]] for a in assets} if per_asset(depths)
                 else [depth_of(i), depth_of(j)])
    inputs = {"network": key, "assets": list(assets), "mode": mode, "scenario": scenario_doc(base), "depths": pair}
    note = ", ".join(f"{k} {v['values'][0]:.6g} -> {v['values'][1]:.6g} at {describe(points[v['at'][0]])} -> "
                     f"{describe(points[v['at'][1]])}"
                     for k, v in detail.items() if v["drop"] > (tol if k != "defaults" else 0))
    bi, bj = detail["bad_debt_reference_usd"]["at"]
    detail["bad_debt_marked"] = {"values": [float(marked[bi]), float(marked[bj])],
                                 "token_fall": [float(token_fall[bi]), float(token_fall[bj])]}
    if detail["bad_debt_reference_usd"]["drop"] > tol:
        note += f" (marked at the close {marked[bi]:.6g} -> {marked[bj]:.6g})"
    return Violation(usd, "USD", inputs, note, detail | {"defaults_drop": count})


def allowed_gain(t: Tables, prices: np.ndarray, fee_income: np.ndarray | float = 0.0,
                 lifted: np.ndarray | None = None, defence: np.ndarray | float = 0.0) -> np.ndarray:
    """The most equity each entity may gain in a scenario of falls, (S, n), from the network's tables.

    A debtor gains when what it owes is denominated in a token that fell:

    * a named borrower's protocol debt (``cohorts.borrower``, ``debt_asset``):
      ``debt_amount * (P0 - P)^+`` of the debt token (its debt only shrinks in
      liquidations, so the initial amount bounds it);
    * what an entity owes in kind (deposits and customer balances with an
      exchange, lender or protocol, LP shares, claims of depositor aggregates:
      the engine's documented convention) follows the assets held for the
      creditors: the most it can fall is the fall in value of the entity's
      initial token holdings and loan book, ``sum_a (held + book)_a (P0 - P)_a^+``,
      capped at what is owed in kind;
    * a named account short a perpetual owes the market's asset too: it gains at most
      ``size * (P0 - P)^+`` (:func:`perps_outside_gain`, from counterparties outside the network);
    * a backstop vault keeps the margin left over by the liquidations it takes over, and a venue its
      insurance fund's growth from them: at most the margin of every position on the venue.
    * a protocol's liquidation penalties and fees (``fee_income``: Maker's chop net of keepers' pay, Aave v3's
      protocol fee, Compound v2's seize share) are paid by its borrowers: real income, reported by the engine.
    * a holder of a token a forced purchase lifted above its reference (decision 13, docs/invariants.md, Session
      31 (lead): a named short's buy-back at its liquidation is a purchase, and its impact, like a fire sale's,
      persists): ``lifted`` (S, k), the USD per unit of each price's rise the run's recorded purchases explain
      (:func:`forced_purchase.lifted`: the named shorts' units bought, the engine's impact function recomputed,
      at most the price's own rise), times the units the entity holds at the start, its own and through its
      in-kind claims (``Tables.claim_units``: CEX_CUSTOMERS' BTC is its share of the exchanges'). ``None``: no
      purchase explains any rise.
    * a reserve's gain on the token its defence of the peg bought, marked at the price its own purchase lifted
      (decision 19 item 2, docs/invariants.md, Session 37 (crvust): decision 13's rule extended to a reserve's
      defence): ``defence`` (S, n), USD, the sum over rounds of what the units bought were worth at the price the
      defence step closed at less what the reserve's holdings sold for them were (:func:`defence_purchase.defence_gains`,
      read from the run), only to that amount.

    Any other gain in a scenario with only falls is value created.
    """
    fall = np.maximum(t.P0[None] - prices, 0.0)  # (S, k)
    named = fall @ t.named_debt_units.T
    follow = fall @ (t.held_units + t.book_units).T
    squeeze = 0.0 if lifted is None else lifted @ t.claim_units.T
    return (named + np.minimum(follow, t.in_kind_owed[None]) + fee_income + perps_outside_gain(t, prices) + squeeze
            + defence)


def perps_outside_gain(t: Tables, prices: np.ndarray) -> np.ndarray:
    """What entities may gain on perpetuals from outside the network in a scenario of falls, (S, n): named
    shorts' profit ``size * (P0 - P)^+`` and backstop vaults' left-over margins (core.engine.perps: anonymous
    cohorts and the rest of the market are the world outside)."""
    fall = np.maximum(t.P0[None] - prices, 0.0)
    return fall @ t.short_units.T + t.vault_margin[None]


def system_value_change(br, lifted_usd: np.ndarray | float = 0.0) -> np.ndarray:
    """Net value change of the system, (S,): ``sum_i (max(E_i, 0) - E0_i) - outside_loss - insurance draws``.

    Equity changes under limited liability, less what outside creditors wrote
    down, what insurance funds paid in, what governance-token holders paid in
    through debt auctions (Maker's flop), what the owners of a pooled collateral
    paid in (Sai's PETH holders: ``pooled_cover_usd``) and the liquidation penalties and fees
    borrowers outside the network paid its protocols, whole (``borrowers_penalty_paid``; all value that came
    from outside the entities' books; a named borrower's penalty is a transfer within the network, in its own
    equity; system loss counts of it what lowers a counted loss, ``borrowers_penalty_loss``). It equals minus the value destroyed by the
    shock and by price impact, plus what left the system to outside agents
    (liquidators' bonuses, fire-sale buyers) -- a quantity the results do not
    report (docs/invariants.md names the field). In a scenario of falls both
    are non-negative, so this change can never be positive.

    Less ``lifted_usd`` (S,): what a forced purchase's rise marked up (decision 13). A named short closed by
    liquidation buys its market's asset from sellers outside the network, and the impact lifts the price of every
    unit the network holds: value moves in from outside (the sellers' book, as a fire sale moves it out to the
    buyers), and the marks of the network's own units are counted once, ``sum_a U_a * lifted_a`` with ``U_a`` the
    units of ``a`` the entities hold at the start (``Tables.held_units`` summed; claims in kind on them are inside
    the network, so not counted again) and ``lifted_a`` the explained rise per unit
    (:func:`forced_purchase.lifted`, from the engine's record of what was bought): the most the rise can add.
    """
    return ((np.maximum(br.equity, 0.0) - br.initial_equity[None]).sum(1) - br.outside_loss - br.insurance_draw.sum(1)
            - br.governance_backstop - br.borrowers_penalty_paid - br.pooled_cover_usd - lifted_usd)


def entry_monotone_violation(entry: dict[str, Any]) -> Violation:
    """:func:`monotone_violation` of a monotone entry of the counterexample table, measured once per process.

    Entries that differ only in the invariant they hold (``monotone.usd`` and ``monotone.defaults`` of one case) and
    the per-asset entries that ``tests/test_counterexample_depths.py`` checks against their measured size read the
    same batch: the engine gives the same output for the same input, so one run serves them all (each test still
    makes its own assertion on it). Keyed by the entry's inputs as written in the table.
    """
    return _monotone_of_inputs(entry_inputs(entry))


def entry_inputs(entry: dict[str, Any]) -> str:
    """A monotone entry's inputs as written in the table (the key its batch is measured once per process by)."""
    return json.dumps([entry[k] for k in ("network", "scenario", "assets", "depths", "mode")])


def settled_inputs(entry: dict[str, Any]) -> str:
    """A horizon-cut entry's pair run to ``settled["horizon"]`` (the table's ``settled`` field), as the key its batch
    is measured once per process by. Two entries whose scenarios differ only in the horizon they were cut at
    (``monotone-shipped-btc-89-eth-76-lag1-liquidity-131-capital-50m`` and its ``-horizon-11-pool-claims-lag``) run
    the same pair there: one batch serves both (each test still asserts its own entry's ``settled`` record). The
    scenario keeps the table's key order (the horizon replaced in place, or added last)."""
    scenario = {**entry["scenario"], "horizon": entry["settled"]["horizon"]}
    return json.dumps([entry["network"], scenario, entry["assets"], entry["depths"], entry["mode"]])


def settled_monotone_violation(entry: dict[str, Any]) -> Violation:
    """:func:`monotone_violation` of a horizon-cut entry's pair run to ``settled["horizon"]``, measured once per
    process for every entry with the same such inputs (:func:`settled_inputs`)."""
    return _monotone_of_inputs(settled_inputs(entry))


@lru_cache(maxsize=None)
def _monotone_of_inputs(inputs: str) -> Violation:
    key, scenario, assets, depths, mode = json.loads(inputs)
    return monotone_violation(key, Scenario.model_validate(scenario), tuple(assets), depths, mode)


def value_measures(t: Tables, br, lifted: np.ndarray | None = None, defence: np.ndarray | float = 0.0
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Invariant 2's measures of a batch of scenarios of falls: (equity gain (S, n), the gain no fall of what the
    entity owes explains, above :func:`usd_tolerance` (S, n), the system's value change net of what perpetuals'
    outside counterparties paid and of what a forced purchase's rise marked up (S,)). ``lifted``: the explained
    rise per unit, (S, k) (:func:`forced_purchase.lifted`; decision 13); ``defence``: a reserve's gain on its
    defence's purchases, (S, n) (:func:`defence_purchase.defence_gains`; decision 19 item 2). Shared by
    :func:`value_created_violation` and ``benchmarks/value_search.py``."""
    gain = br.equity - br.initial_equity[None]
    excess = np.maximum(gain - allowed_gain(t, br.prices, br.fee_income, lifted, defence), 0.0)
    excess = np.where(excess > usd_tolerance(br), excess, 0.0)
    marked_up = 0.0 if lifted is None else lifted @ t.held_units.sum(0)
    change = system_value_change(br, marked_up) - perps_outside_gain(t, br.prices).sum(1)
    return gain, excess, change


def value_of_falls(key: str, scenarios: list[Scenario], without: tuple[str, ...] = (), defence: bool = True):
    """One batch of scenarios of falls and :func:`value_measures` of it, the rise forced purchases explain read
    from the run (:func:`forced_purchase.lifted`; ``without``: accounts whose named shorts explain nothing, for a
    check that the allowance is what lets a case pass) and, where a reserve that defends a pool-priced token gains
    beyond the rest of its allowance, its defence's purchase gains (:func:`defence_purchase.defence_gains`;
    ``defence=False``: none, for the same check): (the batch's result, gain, excess, change, lifted)."""
    from defence_purchase import defence_gains, defenders
    from forced_purchase import lifted as lifted_rise

    t = tables(key)
    br = _simulate(key, scenarios)
    up = lifted_rise(key, t, scenarios, br, without)
    bought = 0.0
    if defence:
        _, excess, _ = value_measures(t, br, up)
        rows = np.flatnonzero(excess[:, defenders(key)].any(1)) if len(defenders(key)) else np.zeros(0, int)
        bought = defence_gains(key, scenarios, br, rows)
    return (br, *value_measures(t, br, up, bought), up)


def value_created_violation(key: str, scenarios: list[Scenario]) -> Violation:
    """Largest unexplained equity gain over ``scenarios`` (all pure falls): size = sum over entities, USD.

    ``detail["system"]`` is the largest positive :func:`system_value_change` (USD) of the batch.
    """
    t = tables(key)
    br, gain, excess, change, _ = value_of_falls(key, scenarios)
    tol = usd_tolerance(br)
    per = excess.sum(1)
    s = int(np.argmax(per))
    top = np.argsort(-excess[s])[:5]
    js = int(np.argmax(change))
    detail = {"entities": {t.entity_ids[i]: {"gain": float(gain[s, i]), "unexplained": float(excess[s, i])}
                           for i in top if excess[s, i] > 0},
              "system_value_change": float(change[s]),
              "system": float(change[js]) if change[js] > tol else 0.0,
              "system_scenario": scenario_doc(scenarios[js])}
    note = "; ".join(f"{k} +{v['unexplained'] / 1e6:.3f}M unexplained (gain {v['gain'] / 1e6:.3f}M)" for k, v in detail["entities"].items())
    return Violation(float(per[s]), "USD", {"network": key, "scenario": scenario_doc(scenarios[s])}, note, detail)


def price_violations(key: str, sc: Scenario) -> dict[str, Violation]:
    """Per-round price invariants of one scenario (``core.simulate``'s ``prices`` table).

    Sizes: ``positive`` = number of (round, asset) prices not positive and finite;
    ``wrapped`` = largest ``|P_token / (ratio * P_underlying) - 1|`` of a wrapped token,
    and of a pool-priced pegged token the excess above its peg ratio;
    ``stable`` = largest ``P / peg - 1`` above zero of a USD-pegged token, for a CDP coin (``cdp_stable``) above
    the CDP premium's cap (:data:`core.mechanisms.cdp_premium.MAX_PREMIUM`): its supply squeeze is the one mechanism
    that puts a coin above peg, and with the PSM's room its autoline's (session 22) it does on the 2022 network too
    (a one-day ETH fall of 57% burns more DAI than a day's gap and the 3pool give back).
    """
    from core.mechanisms.cdp_premium import MAX_PREMIUM
    t = tables(key)
    res = core.simulate(network(key), sc)
    pr = res.prices
    inputs = {"network": key, "scenario": scenario_doc(sc)}
    cols = [s for s in t.symbols if s in pr.columns]
    P = pr[cols].to_numpy(dtype=float)
    bad = ~(np.isfinite(P) & (P > 0))
    out = {"positive": Violation(float(bad.sum()), "prices", inputs,
                                 f"{int(bad.sum())} prices not positive" if bad.any() else "")}
    worst, note = 0.0, ""
    for tok, und, ratio in t.wrapped + t.pool_pegged:
        r = pr[tok].to_numpy(dtype=float) / (ratio * pr[und].to_numpy(dtype=float))
        dev = np.abs(r - 1) if (tok, und, ratio) in t.wrapped else np.maximum(r - 1, 0.0)
        j = int(np.argmax(dev))
        if dev[j] > 1e-9 and dev[j] > worst:
            worst, note = float(dev[j]), f"{tok}/{und} = {r[j]:.6g} at round {int(pr['round'].iloc[j]) if 'round' in pr else j}"
    out["wrapped"] = Violation(worst, "ratio", inputs, note)
    worst, note = 0.0, ""
    assets = network(key).assets
    cdp = set(assets.loc[assets["kind"] == "cdp_stable", "symbol"])
    for tok in t.usd_pegged:
        peg = t.peg_target[t.symbols.index(tok)]
        over = pr[tok].to_numpy(dtype=float) / peg - 1 - (MAX_PREMIUM if tok in cdp else 0.0)
        j = int(np.argmax(over))
        if over[j] > 1e-9 and over[j] > worst:
            worst, note = float(over[j]), f"{tok} at {pr[tok].iloc[j]:.6g} (peg {peg:g}) in round {j}"
    out["stable"] = Violation(worst, "ratio", inputs, note)
    return out


def load_regressions() -> list[dict[str, Any]]:
    if not REGRESSIONS.is_file():
        return []
    return json.loads(REGRESSIONS.read_text(encoding="utf-8"))
