"""A batch of scenarios as arrays, one row per scenario: what the rounds read of the scenarios.

The paths of exogenous shocks (:mod:`core.paths`: ``shock_rounds``,
``price_paths``) ride with the batch; the only step that reads the shock
arrays and paths is :func:`core.engine.exogenous.exogenous`. The rounds of
forced defaults (``forced_round``, from ``forced_default_rounds``; None where
every one fails at round 0) are read through :meth:`ScenarioBatch.forced_at`
(the failures of a round) and :meth:`~ScenarioBatch.forced_after` (a
scenario still waiting for one has not settled); a Maker caged by then is
the state's ``maker_cage_round`` (:func:`core.engine.maker_end.caged`). Each row keeps
its own horizon, so a scenario's result never depends on its batch-mates'.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from ..network import Network
from ..paths import ExogenousPaths
from ..scenario import Scenario

if TYPE_CHECKING:
    from .compiled import Compiled


@dataclass(frozen=True)
class ScenarioBatch:
    """A batch of scenarios as arrays, one row per scenario (what the rounds read).

    Build one with :func:`scenario_batch` and vary its arrays with
    :meth:`replace` (Monte Carlo draws, parameter sweeps); run it with
    :func:`run_batch`.
    """

    S: int
    shock: np.ndarray          # (S, k) price multipliers at round 0
    depeg: np.ndarray          # (S, k) fall below peg (0 = none)
    pool_sales: np.ndarray     # (S, k) USD sold into pools
    forced: np.ndarray         # (S, n) bool
    forced_recovery: np.ndarray  # (S,)
    run: np.ndarray            # (S,)
    lag: np.ndarray            # (S,) int
    liquidity: np.ndarray      # (S,)
    capacity: np.ndarray       # (S,) liquidator capacity USD per round (inf = unlimited)
    horizon: int
    cb_threshold: np.ndarray   # (S,) inf = no breaker
    cb_rounds: np.ndarray      # (S,) int
    coll_mult: np.ndarray      # (S,)
    insurance: np.ndarray      # (S, n)
    max_bonus: np.ndarray      # (S,)
    max_cf: np.ndarray         # (S,)
    alpha: np.ndarray          # (S,)
    beta: np.ndarray           # (S,)
    paths: ExogenousPaths | None = None  # how the shocks unfold over rounds (None: one gap at round 0)
    horizons: np.ndarray | None = None   # (S,) int: each row's own horizon (None: ``horizon`` for every row)
    round_hours: np.ndarray | None = None  # (S,) hours a round stands for (None: 24)
    impairment: np.ndarray | None = None   # (S, k, 6) reserve impairments by coin (None: none), columns IMPAIRMENT
    perps_rule: np.ndarray | None = None    # (S, V) ADL-rule codes of the perpetuals venues (None: no venues)
    perps_policy: np.ndarray | None = None  # (S, V) collateral-policy codes of the perpetuals venues
    psm_halt: np.ndarray | None = None      # (S,) bool: governance halts PSMs per the data (None: every row does)
    forced_round: np.ndarray | None = None  # (S, n) int: the round each forced default fails at (-1: not forced;
    #                                         None: every one at round 0)

    def replace(self, **arrays: Any) -> "ScenarioBatch":
        """A copy with some arrays replaced (each must keep a leading axis of length S). New ``forced`` defaults
        without their ``forced_round`` fail at round 0 (a ranking's seeds)."""
        if "forced" in arrays and "forced_round" not in arrays:
            arrays["forced_round"] = None
        for k_, v in arrays.items():
            if k_ not in self.__dataclass_fields__ or k_ in ("S", "horizon"):
                raise ValueError(f"unknown batch array {k_!r}")
            if k_ == "paths" and (v is None or (isinstance(v, ExogenousPaths) and v.S == self.S)):
                continue
            if k_ == "forced_round" and v is None:
                continue
            if np.shape(v)[:1] != (self.S,):
                raise ValueError(f"{k_} must have leading length {self.S}, got shape {np.shape(v)}")
        return ScenarioBatch(**(self.arrays() | arrays))

    def arrays(self) -> dict[str, Any]:
        """The batch's fields by name (not the summaries below, which a new batch computes afresh)."""
        return {f_: getattr(self, f_) for f_ in self.__dataclass_fields__}

    # Summaries the rounds read every round, computed once per batch (a batch never changes).
    @cached_property
    def costless(self) -> bool:
        """No default costs in any scenario (``alpha = beta = 1``): clearing is Eisenberg--Noe's."""
        return bool((self.alpha == 1.0).all() and (self.beta == 1.0).all())

    @cached_property
    def any_run(self) -> bool:
        """Some scenario has a run intensity."""
        return bool(self.run.any())

    @cached_property
    def any_lag(self) -> bool:
        """Some scenario's oracles lag."""
        return bool(self.lag.any())

    @cached_property
    def any_breaker(self) -> bool:
        """Some scenario has a circuit breaker."""
        return bool(np.isfinite(self.cb_threshold).any())

    @cached_property
    def forcing_rounds(self) -> frozenset[int]:
        """The rounds after round 0 at whose start some scenario forces an entity to fail (none: empty)."""
        if self.forced_round is None:
            return frozenset()
        return frozenset(int(r_) for r_ in np.unique(self.forced_round) if r_ > 0)

    def forced_at(self, r: int) -> np.ndarray | None:
        """(S, n) the entities the scenarios force to fail at the start of round ``r`` (round 0: ``forced`` where no
        failure is dated later); None in a later round where no scenario dates one there."""
        if self.forced_round is None:
            return self.forced if r == 0 else None
        if r and r not in self.forcing_rounds:
            return None
        return np.equal(self.forced_round, r)

    def forced_after(self, r: int) -> np.ndarray | None:
        """(S,) the scenarios that force a failure in a round after ``r``: they have not settled (None: none)."""
        if not self.forcing_rounds or r >= max(self.forcing_rounds):
            return None
        assert self.forced_round is not None
        later = np.asarray((self.forced_round > r).any(1), dtype=bool)
        return later

    @cached_property
    def closes_kept(self) -> int:
        """Closing prices the price history keeps: what oracles, the breaker and the settling check read back."""
        return int(self.lag.max()) + 3


#: Columns of ``ScenarioBatch.impairment`` (a :class:`~core.scenario.ReserveImpairment` on the issuer's coin).
IMPAIRMENT = ("fraction", "reserve", "expected_recovery", "resolved_round", "recovery_on_resolution", "rails_closed_rounds")


def _impairments(c: Compiled, scenarios: Sequence[Scenario]) -> np.ndarray | None:
    """(S, k, 6) impairments by the coin of each impaired issuer (its fiat_reserves row), None when no scenario has one."""
    if not any(sc.reserve_impairments for sc in scenarios):
        return None
    from .peg_terms import RESERVE_ASSETS

    out = np.zeros((len(scenarios), c.k, len(IMPAIRMENT)))
    fiat = c.pegs.fiat_asset if c.pegs is not None else np.zeros(0, int)
    coin = {str(c.ids[c.issuer[a]]): int(a) for a in fiat if c.issuer[a] >= 0}
    for s, sc in enumerate(scenarios):
        for issuer, imp in sc.reserve_impairments.items():
            out[s, coin[issuer]] = (imp.fraction, RESERVE_ASSETS.index(imp.reserve), imp.expected_recovery,
                                    -1 if imp.resolved_round is None else imp.resolved_round,
                                    imp.recovery_on_resolution, imp.rails_closed_rounds)
    return out


def scenario_batch(network: Network, scenarios: Scenario | Sequence[Scenario], repeat: int = 1) -> ScenarioBatch:
    """Arrays for ``scenarios`` (each validated against the network), optionally repeated ``repeat`` times.

    The arrays are of ``network`` as given: a scenario's ``date`` is the network's to be at
    (:func:`core.snapshots.dated`), which :func:`~core.engine.rounds.simulate_batch`, :func:`core.simulate`,
    :func:`core.montecarlo.run_montecarlo`, :func:`core.sweep.sweep` and :func:`core.metrics.systemic_importance`
    do before they build a batch (a batch's rows share one network; a :class:`ScenarioBatch` holds no date). A
    dated scenario on a network not at its date is refused (:func:`core.snapshots.require_at`), as
    :func:`core.simulate` refuses a date it cannot put the network at: a silent run on another day's figures is
    the error."""
    from ..snapshots import require_at
    from .compiled import compile_network

    scs = [scenarios] if isinstance(scenarios, Scenario) else list(scenarios)
    for date in dict.fromkeys(sc.date for sc in scs):  # the distinct dates (a few)
        require_at(network, date)
    b = build_batch(compile_network(network), scs, network, True)
    return b if repeat == 1 else batch_take(b, np.tile(np.arange(b.S), repeat))


def build_batch(c: Compiled, scenarios: Sequence[Scenario], net: Network, check: bool = True) -> ScenarioBatch:
    """The batch of ``scenarios`` on the compiled network ``c`` (names checked against ``net`` unless ``check`` is off)."""
    S = len(scenarios)
    apos = {s: i for i, s in enumerate(c.symbols)}
    epos = {e: i for i, e in enumerate(c.ids)}
    shock = np.ones((S, c.k))
    depeg = np.zeros((S, c.k))
    sales = np.zeros((S, c.k))
    forced = np.zeros((S, c.n), bool)
    forced_round = np.full((S, c.n), -1, dtype=np.int64)
    ins = np.repeat(c.insurance[None], S, 0)
    for s, sc in enumerate(scenarios):
        if check:
            sc.check_against(net)
        for a, v in sc.price_shocks.items():
            shock[s, apos[a]] = 1.0 + v
        for a, v in sc.depegs.items():
            depeg[s, apos[a]] = v
        for a, v in sc.pool_sales_usd.items():
            sales[s, apos[a]] = v
        forced[s, [epos[e] for e in sc.forced_defaults]] = True
        forced_round[s, [epos[e] for e in sc.forced_defaults]] = [sc.forced_default_rounds.get(e, 0) for e in sc.forced_defaults]
        g = sc.safeguards
        ins[s] *= g.insurance_multiplier
        for e, v in g.insurance_funds_usd.items():
            ins[s, epos[e]] = v

    def col(f: Callable[[Scenario], Any], dtype: Any = float) -> np.ndarray:
        return np.array([f(sc) for sc in scenarios], dtype=dtype)

    perps_codes: dict[str, np.ndarray | None] = {"perps_rule": None, "perps_policy": None}
    if c.perps is not None:  # each scenario's ADL rules and collateral policies (safeguards), as codes
        codes = [c.perps.codes(sc.safeguards.adl_rules, sc.safeguards.collateral_policies) for sc in scenarios]
        perps_codes = {"perps_rule": np.array([r_ for r_, _ in codes], dtype=np.int64).reshape(S, -1),
                       "perps_policy": np.array([p_ for _, p_ in codes], dtype=np.int64).reshape(S, -1)}

    return ScenarioBatch(
        S=S, shock=shock, depeg=depeg, pool_sales=sales, forced=forced,
        forced_recovery=col(lambda sc: sc.forced_default_recovery),
        run=col(lambda sc: sc.run_intensity), lag=col(lambda sc: sc.oracle_lag, int),
        liquidity=col(lambda sc: sc.liquidity),
        capacity=col(lambda sc: np.inf if sc.liquidator_capacity_usd is None else sc.liquidator_capacity_usd * sc.liquidity),
        horizon=max(sc.horizon for sc in scenarios),
        cb_threshold=col(lambda sc: np.inf if sc.safeguards.circuit_breaker is None else sc.safeguards.circuit_breaker.threshold),
        cb_rounds=col(lambda sc: 0 if sc.safeguards.circuit_breaker is None else sc.safeguards.circuit_breaker.rounds, int),
        coll_mult=col(lambda sc: sc.safeguards.collateral_multiplier), insurance=ins,
        max_bonus=col(lambda sc: np.inf if sc.safeguards.max_liquidation_bonus is None else sc.safeguards.max_liquidation_bonus),
        max_cf=col(lambda sc: np.inf if sc.safeguards.max_close_factor is None else sc.safeguards.max_close_factor),
        alpha=col(lambda sc: sc.default_costs.alpha), beta=col(lambda sc: sc.default_costs.beta),
        horizons=col(lambda sc: sc.horizon, int), round_hours=col(lambda sc: sc.round_hours),
        impairment=_impairments(c, scenarios),
        psm_halt=col(lambda sc: sc.safeguards.psm_governance_halt, bool),
        forced_round=forced_round if (forced_round > 0).any() else None,  # None: every forced default at round 0
        paths=ExogenousPaths.of(col(lambda sc: sc.shock_rounds, int), [sc.price_paths for sc in scenarios], [str(a) for a in c.symbols]),
        **perps_codes,
    )




def batch_take(b: ScenarioBatch, idx: np.ndarray) -> ScenarioBatch:
    """The scenarios ``idx`` of a batch (rows in that order)."""
    return ScenarioBatch(**{f_: (v if f_ in ("S", "horizon") or v is None else v.take(idx) if f_ == "paths" else v[idx])
                            for f_, v in b.arrays().items()} | {"S": len(idx)})
