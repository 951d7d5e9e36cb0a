"""Invariants of the cascade (issue 11, part 2), enforced by property tests that search.

Each property runs a hypothesis search steered by ``hypothesis.target`` on the
size of the violation (USD, count or price ratio) and asserts that the worst
example found is no violation at all. Measures and strategies are in
``tests/invariants_support.py``; they use only the public API.

Profiles
--------
* default (CI): 150 examples per search on the shipped network, 30 on synthetic ones of 200 and
  1,000 entities, and for invariant 2 30 on crypto-2025-10 (``VALUE_2025_EXAMPLES``, 1.8 s of CPU where the
  file's 2025 counterexamples load that network anyway); about 20 s of CPU for the file.
* ``SFM_SEARCH=long``: each property searches for ``SFM_SEARCH_SECONDS`` (default 200 s) of
  wall clock, on the 5,000-entity synthetic network too; with ``SFM_SEARCH_REPORT=<file>``
  the worst example of each search is appended to that file (JSON lines).

Every counterexample a search found is kept in
``tests/regressions/invariant_counterexamples.json`` and re-checked by
:func:`test_counterexample`, marked ``xfail(strict=True)`` while the engine
defect that causes it stands: a fix flips it to XPASS, which fails, so the mark
comes off with the fix: a fixed case says by what in its ``fixed`` field and runs as a
plain regression test from then on.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, target
from hypothesis import strategies as st

from core.engine import simulate_batch
from core.scenario import Scenario
from depth_points import at_point, depth_points
from search_marks import open_search
from invariants_support import (
    PERPS_KEY,
    entry_inputs,
    entry_monotone_violation,
    load_regressions,
    settled_inputs,
    settled_monotone_violation,
    monotone_violation,
    network,
    price_violations,
    synthetic_keys,
    tables,
    usd_tolerance,
    value_created_violation,
)
from search_budget import Worst, long_search, report, run_search, search_seconds

LONG = long_search()
BUDGET = search_seconds() if LONG else None
SYNTHETIC = synthetic_keys(5000 if LONG else 1000)
NETWORKS = ["shipped", "synthetic", "perps"]  # perps: a network with perpetual positions (PERPS_KEY)
#: Invariant 2 is searched on the 2025 snapshot too (session 31), with a small budget: it runs slower than 2022.
NETWORK_2025 = "crypto-2025-10"

SEARCH = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)


def search_settings(which: str) -> settings:
    """Examples per run: the shipped network is cheap (a batch of six in ~20 ms), the synthetic ones are not."""
    return settings(SEARCH, max_examples=60 if LONG else (150 if which == "shipped" else 60 if which == "perps" else
                                                         VALUE_2025_EXAMPLES if which == NETWORK_2025 else 30))


# ---------------------------------------------------------------------------
# Strategies
# ---------------------------------------------------------------------------

def network_key(which: str) -> st.SearchStrategy[str]:
    if which in ("shipped", PERPS_KEY, NETWORK_2025):
        return st.just(which)
    return st.sampled_from(SYNTHETIC)


@st.composite
def base_scenario(draw, key: str, exclude: tuple[str, ...] = (), falls_only: bool = True) -> Scenario:
    """Everything but the searched shock: runs, depegs, oracle lag, liquidity, liquidator capacity,
    forced defaults and other price falls (rises of unpegged assets too, unless ``falls_only``)."""
    t = tables(key)
    free = [a for a in t.shockable if a not in exclude]
    others = draw(st.lists(st.sampled_from(free), max_size=2, unique=True)) if free else []
    lo, hi = -0.6, (0.0 if falls_only else 1.0)
    shocks = {a: draw(st.floats(lo, hi).map(lambda x: round(x, 4))) for a in others}
    pegs = [a for a in t.usd_pegged if a not in exclude]
    depegged = draw(st.lists(st.sampled_from(pegs), max_size=2, unique=True)) if pegs else []
    depegs = {a: draw(st.floats(0.0, 0.5).map(lambda x: round(x, 4))) for a in depegged}
    forced = draw(st.lists(st.sampled_from(t.entity_ids), max_size=2, unique=True))
    return Scenario(
        price_shocks=shocks,
        depegs=depegs,
        forced_defaults=forced,
        forced_default_recovery=draw(st.sampled_from([0.0, 0.0, 0.3])),
        run_intensity=draw(st.sampled_from([0.0, 0.0, 0.3, 0.8, 1.0])),
        oracle_lag=draw(st.integers(0, 3)),
        liquidity=draw(st.sampled_from([0.1, 0.25, 0.5, 1.0, 1.0, 2.0])),
        liquidator_capacity_usd=draw(st.sampled_from([None, None, 1e7, 1e8, 1e9])),
    )


@st.composite
def monotone_case(draw, which: str):
    """A network, a group of assets, a base scenario and depths (d, ..., d + delta) evaluated as one batch."""
    key = draw(network_key(which))
    t = tables(key)
    prices = [a for a in t.shockable if a not in t.owed_tokens]
    mode = draw(st.sampled_from(["price", "price", "price", "depeg"] if prices else ["depeg"]))
    pool = [a for a in (t.shockable if mode == "price" else t.usd_pegged) if a not in t.owed_tokens]
    assets = tuple(draw(st.lists(st.sampled_from(pool), min_size=1, max_size=3, unique=True)))
    base = draw(base_scenario(key, exclude=assets, falls_only=False))
    top = 0.95 if mode == "price" else 0.99
    d = draw(st.floats(0.0, top - 0.005))
    delta = draw(st.floats(0.005, 0.2))
    hi = min(top, d + delta)
    depths = [round(x, 5) for x in np.linspace(d, hi, 6)]
    return key, base, assets, sorted(set(depths)), mode


@st.composite
def falls_batch(draw, which: str):
    """A network and four scenarios of falls only: one group shocked at four depths over a fall-only base."""
    key = draw(network_key(which))
    t = tables(key)
    assets = tuple(draw(st.lists(st.sampled_from(t.shockable), min_size=1, max_size=3, unique=True)))
    base = draw(base_scenario(key, exclude=assets, falls_only=True))
    d = draw(st.floats(0.0, 0.9))
    depths = np.linspace(d, min(0.95, d + draw(st.floats(0.01, 0.3))), 4)
    scs = [base.model_copy(update={"price_shocks": {**base.price_shocks, **{a: -round(float(x), 5) for a in assets}}})
           for x in depths]
    return key, scs


@st.composite
def price_case(draw, which: str):
    """A network and a scenario whose shocks never move a wrapped token directly nor fail its issuer."""
    key = draw(network_key(which))
    t = tables(key)
    wrappers = {w for w, _, _ in t.wrapped + t.pool_pegged}
    assets = [a for a in t.shockable if a not in wrappers]
    group = draw(st.lists(st.sampled_from(assets), min_size=1, max_size=3, unique=True))
    base = draw(base_scenario(key, exclude=tuple(wrappers | set(group)), falls_only=False))
    shocks = {a: draw(st.floats(-0.95, 2.0).map(lambda x: round(x, 4))) for a in group}
    custodians = {t.issuers[w] for w in wrappers if w in t.issuers}
    forced = [e for e in base.forced_defaults if e not in custodians]
    sc = base.model_copy(update={"price_shocks": {**base.price_shocks, **shocks}, "forced_defaults": forced})
    return key, sc


# ---------------------------------------------------------------------------
# Searches (each runs once per network per session and is shared by its tests)
# ---------------------------------------------------------------------------

_CACHE: dict[tuple[str, str], dict[str, Worst]] = {}
#: The tests that read one search (per network), run once per process and shared through ``_CACHE``.
SHARED_SEARCH = {
    "test_deeper_shock_never_lowers_loss_or_bad_debt": "monotone", "test_deeper_shock_never_lowers_defaults": "monotone",
    "test_no_value_created_in_falls": "value", "test_system_value_never_rises_in_falls": "value",
    "test_prices_positive_and_finite": "prices", "test_wrapped_tokens_follow_underlying": "prices",
    "test_stablecoins_never_above_peg": "prices",
}


def shared_work(item) -> tuple | None:
    """What a test of this module computes once per process for others too (tests/slow_first.py keeps them on one
    xdist worker): a search on one network, a monotone entry's batch (``entry_monotone_violation``, read by the
    entry's .usd and .defaults and by tests/test_counterexample_depths.py), or a horizon-cut entry's settled pair
    (``settled_monotone_violation``, where two entries' settled runs are the same inputs)."""
    fn = getattr(item, "originalname", item.name)
    callspec = getattr(item, "callspec", None)
    if fn in SHARED_SEARCH and callspec is not None:
        return ("search", SHARED_SEARCH[fn], callspec.id)
    if fn == "test_counterexample" and callspec is not None and callspec.params["case"]["invariant"].startswith("monotone"):
        return ("entry", entry_inputs(callspec.params["case"]))
    if fn == "test_a_horizon_cut_entry_holds_once_its_runs_are_done" and callspec is not None:
        return ("settled", settled_inputs(callspec.params["case"]))
    return None


def _search(name: str, which: str, body) -> dict[str, Worst]:
    """Run the search ``body`` (a function of the hypothesis-drawn case returning {measure: Violation})."""
    if (name, which) in _CACHE:
        return _CACHE[(name, which)]
    worst: dict[str, Worst] = {}
    by_network: dict[tuple[str, str], Worst] = {}  # the worst per network searched, for the report
    strategy = {"monotone": monotone_case, "value": falls_batch, "prices": price_case}[name](which)

    @search_settings(which)
    @given(strategy)
    def once(case):
        for measure, v in body(case).items():
            worst.setdefault(measure, Worst()).see(v)
            by_network.setdefault((measure, v.inputs["network"]), Worst()).see(v)
            target(float(v.size), label=measure)

    t0 = time.monotonic()
    run_search(once, BUDGET)
    for (measure, key), w in sorted(by_network.items()):
        report(f"{name}.{measure}[{key}]", w, time.monotonic() - t0)
    _CACHE[(name, which)] = worst
    return worst


def _monotone(case):
    key, base, assets, depths, mode = case
    v = monotone_violation(key, base, assets, depths, mode)
    d = v.detail["defaults"]  # the pair of depths where defaults fell most, which may differ from the USD pair
    defaults = type(v)(v.detail["defaults_drop"], "defaults", v.inputs | {"depths": [d["shallow"], d["deep"]]}, v.note, v.detail)
    return {"usd": v, "defaults": defaults}


def _value(case):
    key, scs = case
    v = value_created_violation(key, scs)
    system = type(v)(v.detail["system"], "USD", {"network": key, "scenario": v.detail["system_scenario"]},
                     f"system value change {v.detail['system']:.6g} USD", v.detail)
    return {"usd": v, "system": system}


def _prices(case):
    key, sc = case
    return price_violations(key, sc)


def _message(w: Worst) -> str:
    v = w.v
    return f"worst of {w.examples} examples: {v.size:.6g} {v.unit}; {v.note}; inputs {v.inputs}" if v else "no example ran"


# Current main breaks some of these invariants (issue 11 measured them; the searches confirm it).
# tests/search_marks.py decides the mark: strict where the derandomized search finds the open
# defect, none where it does not, non-strict under random draws.
ENGINE_DEFECT = "engine defect (issue 11): see docs/invariants.md and the counterexample table"


#: The perps network's open cases: ADL's queue ranks whole accounts, so where a market maker's hedge and an outside
#: cohort score the same a deeper depeg hands the cut to the other one (monotone-perps-usdc-depeg-traders-failed-mm-
#: edge, monotone-perps-usdc-depeg-40-btc-8-runs-lag3-adl-tie). The derandomized search does not reach them, so CI
#: enforces it there; random draws that do reach one report it as an open case, not a failure.
PERPS_OPEN = "; on perps, ADL's rank tie between a market maker and an outside cohort (the ledger's adl-tie entries)"


def _defect(reason: str, finds_under_ci: dict[str, bool]) -> list:
    """The 2022 and synthetic networks marked with an engine defect that still stands; the perps network enforced
    by the derandomized search (its open cases, :data:`PERPS_OPEN`, marked under random draws only)."""
    return [pytest.param(w, marks=open_search(ENGINE_DEFECT + reason, finds_under_ci=finds_under_ci[w]))
            if w != PERPS_KEY else pytest.param(w, marks=open_search(ENGINE_DEFECT + PERPS_OPEN, finds_under_ci=False))
            for w in NETWORKS]


@pytest.mark.parametrize("which", _defect("; liquidators standing aside under oracle lag, settling under oracle lag, "
                                          "a failed Maker's equity timing; on synthetic (session 14: the draws moved "
                                          "with the project's new modules) monotone-synthetic1000-seed3-btc-eth-luna-"
                                          "e000264-failed-lag1-capital-100m-bad-debt, -$17.8M of bad debt, present at "
                                          "the session's start too (session 31: the derandomized search no longer reaches it; the entry stays open)", {"shipped": True, "synthetic": False}))
def test_deeper_shock_never_lowers_loss_or_bad_debt(which):
    w = _search("monotone", which, _monotone)["usd"]
    assert w.size == 0.0, _message(w)


@pytest.mark.parametrize("which", _defect("; liquidators standing aside under oracle lag, a default a round earlier (monotone-shipped-ftt-ftx-default-round)",
                                          {"shipped": False, "synthetic": False}))
def test_deeper_shock_never_lowers_defaults(which):
    w = _search("monotone", which, _monotone)["defaults"]
    assert w.size == 0.0, _message(w)


#: Examples of the 2025 value search under CI (four scenarios each).
VALUE_2025_EXAMPLES = 30
#: The 2025 network's one value case, a cross-margin account liquidated by the falls of its longs closing its short
#: with a purchase whose impact lifts that market above its reference price (session 31 (s31-value): ABC's 384.6 BTC,
#: value-2025-alts-94-liquidity-009-abc-btc-squeeze), is decision 13's exception, checked since session 32
#: (s32-squeeze: tests/forced_purchase.py), so the 2025 search is a plain test under random draws too.
VALUE_NETWORKS = [*NETWORKS, NETWORK_2025]


@pytest.mark.parametrize("which", VALUE_NETWORKS)  # the open case on 2022, value-shipped-lfg-own-purchase, is fixed
def test_no_value_created_in_falls(which):
    w = _search("value", which, _value)["usd"]
    assert w.size == 0.0, _message(w)


@pytest.mark.parametrize("which", [*NETWORKS, NETWORK_2025])
def test_system_value_never_rises_in_falls(which):
    """Equity changes less outside write-downs and insurance draws never exceed zero when everything falls."""
    w = _search("value", which, _value)["system"]
    assert w.size == 0.0, _message(w)


@pytest.mark.parametrize("which", NETWORKS)
def test_prices_positive_and_finite(which):
    w = _search("prices", which, _prices)["positive"]
    assert w.size == 0.0, _message(w)


@pytest.mark.parametrize("which", [
    "shipped", "synthetic", "perps",
])
def test_wrapped_tokens_follow_underlying(which):
    w = _search("prices", which, _prices)["wrapped"]
    assert w.size == 0.0, _message(w)


@pytest.mark.parametrize("which", NETWORKS)
def test_stablecoins_never_above_peg(which):
    w = _search("prices", which, _prices)["stable"]
    assert w.size == 0.0, _message(w)


# ---------------------------------------------------------------------------
# The measures see what they claim to (worked numbers, so a test of an invariant can fail)
# ---------------------------------------------------------------------------

def test_no_shock_is_no_violation():
    assert monotone_violation("shipped", Scenario(), ("ETH",), [0.0, 0.0]).size == 0.0
    assert value_created_violation("shipped", [Scenario()]).size == 0.0
    assert all(v.size == 0.0 for v in price_violations("shipped", Scenario()).values())


def test_allowed_gain_is_the_debt_token_fall():
    """A named borrower owing ETH in a protocol may gain at most its ETH debt times ETH's fall."""
    t = tables("shipped")
    from invariants_support import allowed_gain

    eth = t.symbols.index("ETH")
    prices = t.P0.copy()[None]
    prices[0, eth] *= 0.5
    got = allowed_gain(t, prices)[0]
    named = t.named_debt_units[:, eth] * t.P0[eth] * 0.5
    follow = np.minimum((t.held_units[:, eth] + t.book_units[:, eth]) * t.P0[eth] * 0.5, t.in_kind_owed)
    np.testing.assert_allclose(got, named + follow)


def test_a_debtor_gains_what_its_debt_token_lost():
    """USDC 5% below peg: Celsius owes $493M of USDC on Aave and Compound and gains exactly 5% of it, and
    $223M of DAI at Maker, which follows USDC through the PSM to 0.95 / (1 - tin) = 0.95095 (tin 0.1%).

    The gain is real (invariant 2's exception) and fully explained: no value is created. (Before DAI
    followed USDC the gain was the USDC part alone, $24.65M.) That is with governance not acting
    (``safeguards.psm_governance_halt`` off); with Maker's halt of the PSM's sellGem after 60 hours DAI ends at its
    backed value instead (:mod:`core.mechanisms.psm_halt`), and Celsius gains its 5% of the USDC and DAI's smaller
    fall on the DAI, again exactly what the allowance explains.
    """
    from core.scenario import Safeguards
    from invariants_support import allowed_gain

    t = tables("shipped")
    off = Scenario(depegs={"USDC": 0.05}, safeguards=Safeguards(psm_governance_halt=False))
    br = simulate_batch(network("shipped"), [off, Scenario(depegs={"USDC": 0.05})])
    i = t.entity_ids.index("CELSIUS")
    gain = br.equity[:, i] - br.initial_equity[i]
    # session 41 (data): DAI's tin 0 (the row held 0.001): DAI follows USDC to 0.95 itself, not 0.95 / 0.999 = 0.95095
    dai = 0.95 / (1 - 0.0)
    # Session 38 (s38-crvust): since decision 19 a USDC fall also moves UST's pool through 3CRV (a third of it): UST
    # dips to 0.999995, its holders redeem and LUNA ends $76.65 (not $77), and Celsius loses $2,849,317.85 on that
    # side in both rows ($2,849,320.57 with decision 19 alone; which of its positions, not traced). Its
    # debt-token gain is unchanged and is still what the allowance explains; the allowance bounds the gain.
    # Session 40 (anchor): the side is Celsius's WBTC (its only holding loss in the row), $2,849,317.85 ->
    # $2,849,317.52: LUNA's round-0 fall (76.698031) puts Anchor's bLUNA cohorts below HF 1 in round 1, and the
    # contract's amount at each position's own HF liquidates $2,086,196.08 of them where the flat half took
    # $2,419,851.97 (Compound's $462,093.49 unchanged); less bLUNA sold leaves LUNA at 76.655017 (76.650924) and UST
    # at 0.9999949263 (0.9999949291), LFG's defence sells that much less BTC, and the WBTC Celsius holds ends $0.33
    # higher.
    # Session 41 (data, crypto-2022-05's 6 May rows: Aave v2 stETH's threshold 0.75 with the loops' debt at it, DAI's
    # tin 0): the other side $2,849,317.52 -> $2,850,914.71 (-$1,597.19); which of Celsius's positions moves is not
    # traced to the step (for the lead). The debt-token gain is DAI's full 5% now (tin 0, above).
    # Decision 29 (Session 46 (defender)): LFG's defence sells none of its LUNA (LUNA ends $77, was $76.65, and no
    # bLUNA cohort of Anchor's is liquidated), so it sells more of its BTC for its purchase: BTC and WBTC end at
    # $35,867.58 against $35,870.41, and the WBTC Celsius holds is worth $62,297.62 less: -$2,850,914.71 ->
    # -$2,913,212.33 (its gain $32,949,085.29 -> $32,886,787.67); its debt-token gain is unchanged
    other = -2913212.33
    assert br.prices[0, t.symbols.index("DAI")] == pytest.approx(dai, rel=1e-12)
    assert gain[0] - other == pytest.approx(0.05 * (235e6 + 258e6) + (1 - dai) * 223e6, rel=1e-9)
    halted = br.prices[1, t.symbols.index("DAI")]
    assert dai < halted < 1.0
    assert gain[1] - other == pytest.approx(0.05 * (235e6 + 258e6) + (1 - halted) * 223e6, rel=1e-9)
    np.testing.assert_allclose(allowed_gain(t, br.prices)[:, i], gain - other, rtol=1e-9)
    assert value_created_violation("shipped", [off, Scenario(depegs={"USDC": 0.05})]).size == 0.0


# ---------------------------------------------------------------------------
# Counterexamples found by the searches, kept exactly
# ---------------------------------------------------------------------------

def _case_id(c: dict) -> str:
    return c["id"]


@pytest.mark.parametrize(
    "case",
    [pytest.param(c, id=_case_id(c), marks=() if c.get("fixed") else
                  pytest.mark.xfail(strict=True, raises=AssertionError,
                                    reason=f"engine defect: {c['cause']}"))
     for c in load_regressions() if not c.get("exception")],
)
def test_counterexample(case):
    sc = Scenario.model_validate(case["scenario"])
    inv = case["invariant"]
    if inv.startswith("monotone"):
        v = entry_monotone_violation(case)  # one batch for the entries of one case (.usd, .defaults, per-asset)
        size = v.detail["defaults_drop"] if inv.endswith("defaults") else v.size
    elif inv.startswith("value"):
        v = value_created_violation(case["network"], [sc])
        size = v.detail["system"] if inv == "value.system" else v.size  # value.system: the system's value change
    else:
        v = price_violations(case["network"], sc)[inv.split(".")[1]]
        size = v.size
    assert size == 0.0, f"{inv}: {size:.6g} ({v.note})"


@pytest.mark.parametrize("case", [pytest.param(c, id=c["id"]) for c in load_regressions()
                                  if str(c.get("exception", "")).startswith("owed_token")])
def test_an_owed_token_entry_is_its_debtors_rescue(case):
    """An entry that deepens a token a named borrower owes (outside the searches' groups: the module docstring of
    ``invariants_support``, invariant 1) is kept with ``exception`` rather than as an engine defect when its fall of
    loss is the debtor's rescue (:mod:`debtor_rescue`): the earliest default the deeper run avoids is a debtor of
    the deepened token whose deficit that round is covered by its debts' fall. Still a violation, and still that
    rescue: should either change, the entry must be looked at again."""
    from debtor_rescue import debtor_rescues

    assert case["invariant"] == "monotone.usd"
    assert set(case["assets"]) <= set(tables(case["network"]).owed_tokens), "no owed token deepened"
    points = depth_points(tuple(case["assets"]), case["depths"])
    assert len(points) == 2, "an exception entry is one pair"
    sc = Scenario.model_validate(case["scenario"])
    # one recorded run gives both the violation (monotone_violation's loss measure on a pair) and the rescue
    br = simulate_batch(network(case["network"]), [at_point(sc, p, case["mode"]) for p in points], record=True)
    size = float(br.total_loss[0] - br.total_loss[1])
    assert size > usd_tolerance(br), "the pair no longer violates: the entry's exception is moot"
    assert size == pytest.approx(case["measured"]["size"], rel=1e-9), "the pair's size moved: look at it again"
    rescues = debtor_rescues(case["network"], br)
    assert rescues, f"{case['id']}: the fall of loss ({size:.6g}) is no longer a debtor's rescue"


@pytest.mark.parametrize("case", [pytest.param(c, id=c["id"]) for c in load_regressions()
                                  if str(c.get("exception", "")).startswith("basis_narrowed")])
def test_a_basis_narrowed_entry_holds_a_pegged_token_while_its_underlying_deepens(case):
    """Decision 28 (docs/invariants.md, Session 44 (lead)): a token pegged to another asset (``peg_unit``: stETH to
    ETH) is part of its underlying's shock. A pair that deepens the underlying while it holds the pegged token's
    dollar depth narrows the token's basis (stETH/ETH rises): a relative rise, not a deeper down-shock, so it is
    outside invariant 1 as the searches state it (a group deepened by one factor keeps its ratios). Kept with
    ``exception``: still a violation of the size recorded, and the same pair with the pegged token deepened by its
    underlying's factor (the basis the shallower point sets held) is none. Should either change, look again."""
    assets = tuple(case["assets"])
    points = depth_points(assets, case["depths"])
    assert len(points) == 2, "an exception entry is one pair"
    t = tables(case["network"])
    unit = {token: underlying for token, underlying, _ in t.wrapped + t.pool_pegged}
    held = [a for a in assets if unit.get(a) in assets and points[0][a] == points[1][a]
            and points[1][unit[a]] > points[0][unit[a]]]
    assert held, "no pegged token held at one depth while its underlying deepens"
    v = entry_monotone_violation(case)
    size = v.detail["defaults_drop"] if case["invariant"].endswith("defaults") else v.size
    assert size == pytest.approx(case["measured"]["size"], rel=1e-9), "the pair's size moved: look at it again"
    moved = {a: list(d) for a, d in case["depths"].items()}
    for a in held:  # the pegged token at its underlying's factor: (1 - deep) = (1 - shallow) x the underlying's
        u = unit[a]
        moved[a][1] = 1.0 - (1.0 - points[0][a]) * (1.0 - points[1][u]) / (1.0 - points[0][u])
    grouped = entry_monotone_violation({**case, "depths": moved})
    assert grouped.size == 0.0 and grouped.detail["defaults_drop"] == 0.0, \
        f"{case['id']}: the group deepened by one factor violates too ({grouped.note}): an open entry, not decision 28's"


@pytest.mark.parametrize("case", [pytest.param(c, id=c["id"]) for c in load_regressions()
                                  if str(c.get("exception", "")).startswith("penalty_income")])
def test_a_penalty_income_entry_is_the_maker_systems_rescue(case):
    """Decision 12 (docs/invariants.md, session 31): a Maker system kept out of default by the liquidation
    penalties a deeper fall collects from its vault owners (:mod:`penalty_rescue`) is kept with ``exception``:
    the count of defaults falls, the loss does not. Still a violation of the count, and still that rescue: should
    either change, the entry must be looked at again."""
    from penalty_rescue import penalty_rescue

    assert case["invariant"] == "monotone.defaults"
    points = depth_points(tuple(case["assets"]), case["depths"])
    assert len(points) == 2, "an exception entry is one pair"
    sc = Scenario.model_validate(case["scenario"])
    br = simulate_batch(network(case["network"]), [at_point(sc, p, case["mode"]) for p in points], record=True)
    drop = int(br.defaulted[0].sum()) - int(br.defaulted[1].sum())
    assert drop == case["measured"]["size"], "the pair's drop of defaults moved: look at it again"
    rescue = penalty_rescue(case["network"], br)
    assert rescue is not None, f"{case['id']}: the avoided default is no longer the Maker system's penalty rescue"


@pytest.mark.parametrize("case", [pytest.param(c, id=c["id"]) for c in load_regressions() if "settled" in c])
def test_a_horizon_cut_entry_holds_once_its_runs_are_done(case):
    """An open entry traced to a horizon cut (a queue of liquidations cut mid-way by the 12-round horizon, its
    deeper shock's waves a few rounds behind) gives no violation when the same pair runs to ``settled["horizon"]``:
    it measures where the horizon falls, not how the cascades end. Should it ever give one there, the entry has
    become an end-state violation and its cause must be traced again."""
    v = settled_monotone_violation(case)  # one batch for entries whose settled runs are the same pair
    assert (v.size, v.detail.get("defaults_drop", 0.0)) == (case["settled"]["size"], 0.0), v.note


# ---------------------------------------------------------------------------
# A scenario's result never depends on its batch-mates (core.engine.run_batch promises it)
# ---------------------------------------------------------------------------

def test_batch_mates_do_not_change_a_result():
    from invariants_support import network

    net = network("synthetic-1000-4000-1")
    alone = simulate_batch(net, [Scenario(price_shocks={"ETH": -0.01})])
    mates = simulate_batch(net, [Scenario(price_shocks={"ETH": -0.01}), Scenario(horizon=30)])
    assert mates.rounds_run[0] == alone.rounds_run[0]
    assert mates.total_loss[0] == pytest.approx(alone.total_loss[0], rel=1e-12)
