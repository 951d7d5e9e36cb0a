r"""The shock model of the Monte Carlo: correlated, fat-tailed log-returns, jumps, depegs and paths.

Shock model
-----------
Over a horizon of :math:`h` days the log-returns of the :math:`d` *diffusing*
assets (every unpegged asset; pegged ones too with ``pegged="diffuse"``) are

.. math:: r = \operatorname{diag}(\sigma \sqrt{h})\, A\, \varepsilon, \qquad A A^\top = C,

with :math:`\sigma` the assets' ``daily_vol`` (``assets.csv``), :math:`C` the
correlation matrix of ``correlations.csv`` (pairs not listed are uncorrelated;
``A`` is the Cholesky factor, or the symmetric square root when ``C`` is
semi-definite) and :math:`\varepsilon` either

* ``dist="normal"``: :math:`\varepsilon \sim N(0, I)`, or
* ``dist="t"`` (fat, jointly heavy tails): the multivariate Student-t
  :math:`\varepsilon = \sqrt{(\nu-2)/\nu}\; z / \sqrt{W/\nu}` with
  :math:`z \sim N(0, I)` and one :math:`W \sim \chi^2_\nu` shared by all assets
  per run, scaled to unit variance (so :math:`C` stays the correlation matrix
  and :math:`\sigma` the volatility; ``df`` :math:`\nu > 2`).

Horizons longer than one round of the base scenario (a day unless its
``round_hours`` says otherwise) are drawn as a **path** by default
(``path="daily"``): one independent draw of this model per round, scaled by
the round's :math:`\sqrt{\Delta}`, applied round by round as the cascade's
exogenous path (:mod:`core.montecarlo_paths`, :mod:`core.paths`), so
liquidators meet the fall as it unfolds; jumps and depegs are dated within the
horizon. ``path="jump"`` keeps one jump at round 0 scaled by the
square-root-of-time rule (exact for the normal model, the usual approximation
for the t). A one-round horizon is the same draw either way. Log-returns have
zero mean.

*Pegged assets* (``peg_target`` set) follow their peg by default
(``pegged="follow"``): a USD-pegged token keeps its price, a token pegged to
another asset (stETH → ETH, WBTC → BTC) takes that asset's log-return. They
leave the peg only through **depeg events**: with probability
:math:`p_h = 1 - (1 - p)^h` per horizon (``p`` per day) the token falls below
its peg by a size drawn uniformly in ``[size_min, size_max]``. Documented
defaults by asset kind are in :data:`~core.montecarlo_spec.DEFAULT_DEPEGS`. Optional **jumps** add,
with probability :math:`p_h`, a jump :math:`J \sim N(\mu_J, \sigma_J^2)` to an
asset's log-return (Merton 1976, at most one per horizon). The price multiplier
applied at round 0 of the cascade is :math:`e^{r}`.

``source="historical"`` replays the preset episodes instead: each run picks one
of ``data/scenarios/*.json`` uniformly and applies its ``price_shocks``,
``depegs`` and price paths. Each episode is replayed only on its own snapshot
(the preset's ``snapshot`` field): the others are left out and listed in
``meta["episodes_skipped"]`` with the reason (:func:`~core.episodes.select_episodes`).

The base scenario (``spec.base``) sets the conditions: run intensity, liquidity,
oracle lag, safeguards, forced defaults. Its own price shocks are combined with
each draw (multipliers multiply; the larger depeg wins).

Random-number blocks
--------------------
The draws of run :math:`i` come from the generator
``default_rng(SeedSequence(seed, spawn_key=(i // RNG_BLOCK,)))`` (the
``i // RNG_BLOCK``-th child of ``SeedSequence(seed).spawn``), always drawing a
whole block in a fixed order, so a run's draw never depends on which runs are
drawn with it (:mod:`core.montecarlo`, Seed stability).

References
----------
* Glasserman, P. (2003). *Monte Carlo Methods in Financial Engineering*.
  Springer. §2.3 (correlated normals by Cholesky), §9 (VaR).
* McNeil, A. J., Frey, R., & Embrechts, P. (2015). *Quantitative Risk
  Management*, revised ed. Princeton. §2.3 (VaR, ES), §6.2 (multivariate t).
* Merton, R. C. (1976). Option pricing when underlying stock returns are
  discontinuous. *Journal of Financial Economics*, 3(1–2), 125–144.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal, Mapping

import numpy as np
import pandas as pd

from .correlation import _factor, correlation_matrix
from .episodes import select_episodes
from .montecarlo_paths import MAX_STEPS, step_days, unit_path
from .montecarlo_spec import DEFAULT_DEPEGS, Depeg, Jump, MonteCarloSpec, parse_spec
from .network import Network
from .paths import ExogenousPaths
from .validation import DataValidationError, Problem

#: Runs per random-number block: run i draws from the generator of block ``i // RNG_BLOCK``.
RNG_BLOCK = 1000
#: Runs per aggregation unit: per-entity sums are formed per aligned unit, so chunk sizes must be multiples of it.
UNIT = 100



@dataclass(frozen=True, eq=False)
class ShockModel:
    """Arrays of a :class:`~core.montecarlo_spec.MonteCarloSpec` on a network (picklable; what workers draw from).

    Build it with :meth:`from_spec`; :meth:`draw` gives the round-0 arrays of runs ``start:stop``
    (the same runs give the same draws whatever the chunking).

    Attributes
    ----------
    symbols : tuple of str
        The network's asset symbols, in its order (the columns of the draws).

    Examples
    --------
    >>> from core.datasets import synthetic
    >>> model = ShockModel.from_spec(synthetic(8, 20, seed=1), MonteCarloSpec())
    >>> model.symbols[:3]
    ('ETH', 'BTC', 'stETH')
    >>> [a.shape for a in model.draw(seed=1, start=0, stop=4)]
    [(4, 8), (4, 8), (4,)]
    >>> bool((model.draw(1, 0, 4)[0] == model.draw(1, 0, 4)[0]).all())
    True
    """

    symbols: tuple[str, ...]
    source: str
    dist: str
    df: float
    diffusing: np.ndarray          # (d,) asset index of each diffusing asset
    scale: np.ndarray              # (d,) σ·vol_multiplier·√h
    factor: np.ndarray             # (d, d) A with A Aᵀ = C
    follow_order: np.ndarray       # pegged followers in dependency order
    follow_unit: np.ndarray        # their peg unit (asset index, -1 = USD)
    jump_asset: np.ndarray         # (j,)
    jump_p: np.ndarray             # (j,) probability per horizon
    jump_mean: np.ndarray
    jump_sd: np.ndarray
    depeg_asset: np.ndarray        # (q,)
    depeg_p: np.ndarray            # (q,) probability per horizon
    depeg_lo: np.ndarray
    depeg_hi: np.ndarray
    episode_names: tuple[str, ...] = ()
    episode_shock: np.ndarray = field(default_factory=lambda: np.ones((0, 0)))   # (E, k) multipliers
    episode_depeg: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))  # (E, k)
    path_steps: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (n,) step lengths in days; empty = one jump
    daily_scale: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (d,) σ·vol_multiplier per √day
    jump_p_daily: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (j,) probability per day
    depeg_p_daily: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (q,) probability per day
    episode_paths: ExogenousPaths | None = None  # the episodes' own shock_rounds and price paths (one row each)
    episode_horizon: np.ndarray = field(default_factory=lambda: np.zeros(0, int))  # (E,)
    episodes_skipped: tuple[tuple[str, str], ...] = ()  # presets not replayed on this network, with the reason

    @property
    def k(self) -> int:
        return len(self.symbols)

    @classmethod
    def from_spec(cls, net: Network, spec: MonteCarloSpec) -> "ShockModel":
        """Check ``spec`` against ``net`` and build the arrays (raises DataValidationError naming what is wrong)."""
        ast = net.assets
        syms = tuple(ast["symbol"])
        k = len(syms)
        apos = {s: i for i, s in enumerate(syms)}
        kinds = ast["kind"].to_numpy(dtype=object)
        pegged = ast["peg_target"].notna().to_numpy()
        unit = np.array([-1 if u in ("USD", "") else apos.get(u, -1) for u in ast["peg_unit"].fillna("")], dtype=int)
        problems: list[Problem] = []
        for s in spec.jumps:
            if s not in apos:
                problems.append(Problem("montecarlo spec", None, f"jumps.{s}", s, "an asset of the network", "record"))
        for s in spec.depegs:
            if s not in apos or not pegged[apos[s]]:
                problems.append(Problem("montecarlo spec", None, f"depegs.{s}", s, "a pegged asset of the network", "record"))
        if problems:
            raise DataValidationError(problems)

        follow = pegged if spec.pegged == "follow" else np.zeros(k, bool)
        diffusing = np.flatnonzero(~follow)
        C = correlation_matrix(net, [syms[i] for i in diffusing]).to_numpy()
        h = spec.horizon_days
        sigma = ast["daily_vol"].to_numpy(dtype=float)[diffusing] * spec.vol_multiplier * math.sqrt(h)

        # Followers in dependency order (a follower of a follower comes after it).
        order: list[int] = []
        todo = [int(i) for i in np.flatnonzero(follow)]
        while todo:
            ready = [i for i in todo if unit[i] < 0 or not follow[unit[i]] or unit[i] in order]
            if not ready:
                raise DataValidationError([Problem("assets", None, "peg_unit", syms[todo[0]], "pegs that do not form a cycle", "record")])
            order += ready
            todo = [i for i in todo if i not in ready]

        ph = lambda p: 1.0 - (1.0 - p) ** h  # noqa: E731
        jumps = [(apos[s], j) for s, j in spec.jumps.items()]
        dep: dict[int, Depeg] = {}
        if spec.default_depegs:
            for i in np.flatnonzero(pegged):
                if kinds[i] in DEFAULT_DEPEGS:
                    dep[int(i)] = DEFAULT_DEPEGS[kinds[i]]
        for s, dspec in spec.depegs.items():
            dep[apos[s]] = dspec
        dep_items = sorted(dep.items())

        names: tuple[str, ...] = ()
        skipped: dict[str, str] = {}
        e_shock, e_depeg = np.ones((0, k)), np.zeros((0, k))
        e_paths, e_horizon = None, np.zeros(0, int)
        steps = np.zeros(0)
        if spec.source == "parametric" and spec.path == "daily":
            steps = step_days(h, spec.base.round_hours)
            if len(steps) > MAX_STEPS:
                raise DataValidationError([Problem("montecarlo spec", None, "horizon_days", h,
                                                   f"at most {MAX_STEPS} rounds of {spec.base.round_hours:g} hours (base.round_hours) "
                                                   f"for a daily path, or path 'jump'", "record")])
            if len(steps) == 1:
                steps = np.zeros(0)  # one round: the jump model, bit for bit
        if spec.source == "historical":
            episodes, skipped = select_episodes(net, spec.episodes)
            names = tuple(episodes)
            e_shock = np.ones((len(episodes), k))
            e_depeg = np.zeros((len(episodes), k))
            for e, sc in enumerate(episodes.values()):
                for a, v in sc.price_shocks.items():
                    e_shock[e, apos[a]] = 1.0 + v
                for a, v in sc.depegs.items():
                    e_depeg[e, apos[a]] = v
            e_paths = ExogenousPaths.of([sc.shock_rounds for sc in episodes.values()],
                                        [sc.price_paths for sc in episodes.values()], syms)
            e_horizon = np.array([sc.horizon for sc in episodes.values()], dtype=int)

        daily = ast["daily_vol"].to_numpy(dtype=float)[diffusing] * spec.vol_multiplier
        return cls(
            symbols=syms, source=spec.source, dist=spec.dist, df=float(spec.df),
            diffusing=diffusing, scale=sigma, factor=_factor(C),
            follow_order=np.array(order, dtype=int), follow_unit=unit[np.array(order, dtype=int)] if order else np.zeros(0, int),
            jump_asset=np.array([a for a, _ in jumps], dtype=int), jump_p=np.array([ph(j.probability) for _, j in jumps]),
            jump_mean=np.array([j.mean for _, j in jumps]), jump_sd=np.array([j.sd for _, j in jumps]),
            depeg_asset=np.array([a for a, _ in dep_items], dtype=int), depeg_p=np.array([ph(x.probability) for _, x in dep_items]),
            depeg_lo=np.array([x.size_min for _, x in dep_items]), depeg_hi=np.array([x.size_max for _, x in dep_items]),
            episode_names=names, episode_shock=e_shock, episode_depeg=e_depeg,
            path_steps=steps, daily_scale=daily, jump_p_daily=np.array([j.probability for _, j in jumps]),
            depeg_p_daily=np.array([x.probability for _, x in dep_items]), episode_paths=e_paths, episode_horizon=e_horizon,
            episodes_skipped=tuple(skipped.items()),
        )

    # -- drawing -------------------------------------------------------------
    @property
    def multi_step(self) -> bool:
        """Whether runs draw a path of several rounds (else one jump at round 0)."""
        return len(self.path_steps) > 1

    def _raw_block(self, seed: int, block: int) -> dict[str, np.ndarray]:
        """The draws of the RNG_BLOCK runs of one block (always drawn whole, in fixed order)."""
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(block,)))
        B = RNG_BLOCK
        raw: dict[str, np.ndarray] = {"z": rng.standard_normal((B, len(self.diffusing))), "w": rng.chisquare(self.df, B)}
        raw["ju"] = rng.random((B, len(self.jump_asset)))
        raw["jz"] = rng.standard_normal((B, len(self.jump_asset)))
        raw["du"] = rng.random((B, len(self.depeg_asset)))
        raw["ds"] = rng.random((B, len(self.depeg_asset)))
        raw["ep"] = rng.integers(0, max(len(self.episode_names), 1), B)
        return raw

    def _block(self, seed: int, block: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Log-returns, depegs and episode index of the RNG_BLOCK runs of one block (one jump at round 0)."""
        raw = self._raw_block(seed, block)
        B, k = RNG_BLOCK, self.k
        z, w, ju, jz, du, ds, ep = (raw[x] for x in ("z", "w", "ju", "jz", "du", "ds", "ep"))
        if self.source == "historical":
            return np.log(self.episode_shock[ep]), self.episode_depeg[ep], ep
        if self.dist == "t":
            z = z * np.sqrt((self.df - 2.0) / w)[:, None]   # √((ν-2)/ν) · z / √(W/ν)
        r = np.zeros((B, k))
        r[:, self.diffusing] = (z @ self.factor.T) * self.scale
        jump = np.zeros((B, k))
        if len(self.jump_asset):
            jump[:, self.jump_asset] = np.where(ju < self.jump_p, self.jump_mean + self.jump_sd * jz, 0.0)
        r += jump
        for i, u in zip(self.follow_order, self.follow_unit):  # a few pegged assets, not scenarios
            r[:, i] = (r[:, u] if u >= 0 else 0.0) + jump[:, i]
        depeg = np.zeros((B, k))
        if len(self.depeg_asset):
            depeg[:, self.depeg_asset] = np.where(du < self.depeg_p, self.depeg_lo + (self.depeg_hi - self.depeg_lo) * ds, 0.0)
        return r, depeg, np.full(B, -1)

    def draw_paths(self, seed: int, start: int, stop: int) -> np.ndarray:
        """Cumulative log-moves ``(S, steps, k)`` of runs ``start:stop`` at the end of each step (multi-step model).

        Runs are drawn a unit of :data:`UNIT` at a time (:func:`core.montecarlo_paths.unit_path`), so
        a run's path depends only on the seed and its index.
        """
        if not (0 <= start <= stop):
            raise ValueError(f"bad run range {start}:{stop}")
        parts = [np.zeros((0, len(self.path_steps), self.k))]
        for u in range(start // UNIT, (stop - 1) // UNIT + 1 if stop > start else start // UNIT):
            blk = u * UNIT // RNG_BLOCK
            raw = self._raw_block(seed, blk)
            off = u * UNIT - blk * RNG_BLOCK
            x = unit_path(self, seed, blk, off // UNIT, {k_: v[off:off + UNIT] for k_, v in raw.items()})
            parts.append(x[max(start - u * UNIT, 0):min(stop - u * UNIT, UNIT)])
        return np.concatenate(parts)

    def draw(self, seed: int, start: int, stop: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Log-returns ``(S, k)``, depegs ``(S, k)`` and episode index ``(S,)`` (-1 = parametric) of runs ``start:stop``."""
        if not (0 <= start <= stop):
            raise ValueError(f"bad run range {start}:{stop}")
        parts = []
        for blk in range(start // RNG_BLOCK, (stop - 1) // RNG_BLOCK + 1 if stop > start else start // RNG_BLOCK):
            lo, hi = max(start, blk * RNG_BLOCK), min(stop, (blk + 1) * RNG_BLOCK)
            r, d, e = self._block(seed, blk)
            s = slice(lo - blk * RNG_BLOCK, hi - blk * RNG_BLOCK)
            parts.append((r[s], d[s], e[s]))
        if not parts:
            return np.zeros((0, self.k)), np.zeros((0, self.k)), np.zeros(0, int)
        return tuple(np.concatenate(x) for x in zip(*parts))  # type: ignore[return-value]



def correlated_returns(net: Network, runs: int, seed: int, *, dist: Literal["normal", "t"] = "normal", df: float = 4.0,
                       horizon_days: float = 1.0, vol_multiplier: float = 1.0,
                       pegged: Literal["follow", "diffuse"] = "follow", jumps: Mapping[str, Jump | Mapping[str, float]] | None = None,
                       start: int = 0) -> pd.DataFrame:
    """Joint log-returns of the network's assets for runs ``start .. start+runs-1``.

    ``r = diag(σ√h) A ε`` (module docstring) plus any jumps; pegged assets
    follow their peg unless ``pegged="diffuse"``. Depeg events are not part of
    the returns (see :meth:`ShockModel.draw`).

    Parameters
    ----------
    net : Network
    runs, seed : int
        Number of runs and the seed; run i always gets the same draw for a seed.
    dist : {"normal", "t"}, keyword-only
    df : float
        Student-t degrees of freedom (> 2).
    horizon_days, vol_multiplier : float
    pegged : {"follow", "diffuse"}
    jumps : mapping symbol → Jump, optional
    start : int
        Index of the first run.

    Returns
    -------
    DataFrame of shape (runs, k), one column per asset symbol, indexed by run.

    Raises
    ------
    DataValidationError
        Bad parameters, or a correlation matrix that is not positive semi-definite.

    Examples
    --------
    >>> from core import datasets
    >>> r = correlated_returns(datasets.load("crypto-2022-05"), 20_000, seed=1)
    >>> round(float(r[["ETH", "BTC"]].corr().iloc[0, 1]), 2)
    0.85
    >>> bool((r["USDC"] == 0).all()), bool((r["stETH"] == r["ETH"]).all())
    (True, True)
    """
    spec = parse_spec({"dist": dist, "df": df, "horizon_days": horizon_days, "vol_multiplier": vol_multiplier,
                       "pegged": pegged, "jumps": dict(jumps or {}), "default_depegs": False})
    if runs < 0 or start < 0:
        raise ValueError("runs and start must be non-negative")
    r, _, _ = ShockModel.from_spec(net, spec).draw(seed, start, start + runs)
    return pd.DataFrame(r, columns=list(net.assets["symbol"]), index=pd.RangeIndex(start, start + runs, name="run"))
