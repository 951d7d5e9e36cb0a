r"""Shocks that unfold over time: the exogenous price path of each scenario, round by round.

A real crash has a path (ETH fell 64% between May and June 2022 over weeks,
Black Thursday took two days); a shock applied as one gap before any
liquidation overstates what liquidators leave behind. A scenario therefore
says how its moves unfold, and this module turns a batch of scenarios into
the exogenous log-move of each (scenario, round, asset), computed per round
on demand (never as an (S, rounds, assets) array).

Model
-----
For scenario :math:`s`, asset :math:`a` and round :math:`r = 0, 1, \dots` the
cumulative exogenous log-move from the reference price is

.. math::

    x_{s,r,a} = g_s(r)\,\ln m_{s,a} + \pi_{s,\min(r,\,T_s-1),a},
    \qquad g_s(r) = \frac{\min(r+1,\ R_s)}{R_s},

with :math:`m_{s,a} = 1 + \text{price\_shocks}[a]` reached evenly in
log-price over the first :math:`R_s` = ``shock_rounds`` rounds (so each of
them multiplies the price by :math:`m^{1/R}`: −50% over 4 rounds is
:math:`\times 0.5^{1/4} = \times 0.8409` a round), and
:math:`\pi_{s,t,a} = \ln(1 + \text{price\_paths}[a][t])` an explicit path of
:math:`T_s` rounds that stays at its last value after it.

A *depegged* token (``depegs[a] = d > 0`` on a pegged asset) sits at its peg
times :math:`(1-d)^{g_s(r)}`, and its peg moves with its peg unit (stETH with
ETH): its log-move from round to round is the unit's plus
:math:`\Delta g_s(r)\,\ln(1-d)`. Round 0 is applied as before: prices are set
to :math:`P_0\,e^{x_{s,0}}` and depegged tokens to
:math:`\text{peg}\times(1-d)^{g_s(0)}` (:func:`round_zero`); with
``shock_rounds = 1`` and no path these are exactly the scenario's
multipliers, so a one-gap scenario runs as it always did.

The path is *exogenous*: it composes with what the cascade does to prices.
At the start of round :math:`r \ge 1` every price is multiplied by
:math:`e^{\Delta x_{s,r}}` with :math:`\Delta x_{s,r} = x_{s,r} - x_{s,r-1}`
(:func:`log_increment`), on top of the price impact of the sales, pool swaps
and depeg mechanics of the rounds before; the exogenous factor never
overwrites the endogenous price.

Per round the work is :math:`O(S k)` (an increment is built only for rows whose
path still moves, and :func:`log_increment` returns ``None`` once none does);
explicit paths are stored once per distinct path (``table``), so a batch of
many scenarios on one preset costs one path.

A path reshaped to end at a given fall (the price-drop sensitivity of a
scenario with paths) is :mod:`core.path_rescaling`.

References
----------
* Glasserman, P. (2003). *Monte Carlo Methods in Financial Engineering*. §3.1
  (a path as a sequence of log-increments).
* Gauntlet (2022). Brownian-bridge scenario pinning: named crash scenarios as
  price targets reached over a time window rather than a single gap
  (``/work`` notes, defi-ecosystem §6).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

# re-exported: a path rescaled to a given fall lived here
from .path_rescaling import MOVE_CAP, MOVE_FLOOR, final_fall, path_to_fall  # noqa: F401

__all__ = ["ExogenousPaths", "round_zero", "log_increment", "cumulative_log_move", "moving_after", "apply_round",
           "final_fall", "path_to_fall"]


@dataclass(frozen=True, eq=False)
class ExogenousPaths:
    """How the shocks of a batch of scenarios unfold (leading axis: scenario).

    Attributes
    ----------
    shock_rounds : ndarray of int, shape (S,)
        Rounds over which each row's price shocks and depegs are spread.
    path_id : ndarray of int, shape (S,)
        Row of ``table`` holding each scenario's explicit path (−1: none).
    table : ndarray, shape (U, T, k)
        Cumulative log-moves of the distinct explicit paths, each carried forward to T rounds.
    last_move : ndarray of int, shape (U,)
        The last round in which each path moves.

    Examples
    --------
    >>> p = ExogenousPaths.of([4, 1], [{}, {"ETH": [-0.05, -0.12, -0.2]}], ["ETH"])
    >>> p.shock_rounds.tolist(), p.path_id.tolist(), p.table.shape, p.last_move.tolist()
    ([4, 1], [-1, 0], (1, 3, 1), [2])
    """

    shock_rounds: np.ndarray
    path_id: np.ndarray
    table: np.ndarray
    last_move: np.ndarray

    @property
    def S(self) -> int:
        return len(self.shock_rounds)

    @classmethod
    def gap(cls, S: int, k: int) -> "ExogenousPaths":
        """Every shock as one gap at round 0 (what scenarios did before paths)."""
        return cls(np.ones(S, int), np.full(S, -1), np.zeros((0, 1, k)), np.zeros(0, int))

    @classmethod
    def of(cls, shock_rounds: Sequence[int] | np.ndarray, paths: Sequence[Mapping[str, Sequence[float]]],
           symbols: Sequence[str]) -> "ExogenousPaths":
        """From per-scenario ``shock_rounds`` and ``price_paths`` (relative moves, symbol → list).

        Identical paths share one row of the table.

        >>> p = ExogenousPaths.of([1, 1, 3], [{"ETH": [-0.1, -0.2]}, {}, {"ETH": [-0.1, -0.2]}], ["ETH", "BTC"])
        >>> p.path_id.tolist(), p.table.shape, p.last_move.tolist()
        ([0, -1, 0], (1, 2, 2), [1])
        """
        R = np.asarray(shock_rounds, dtype=int)
        if R.shape != (len(paths),) or (R < 1).any():
            raise ValueError(f"shock_rounds must be one integer >= 1 per scenario, got {R.tolist()}")
        apos = {a: i for i, a in enumerate(symbols)}
        keys: dict[tuple, int] = {}
        ids = np.full(len(paths), -1)
        for s, pp in enumerate(paths):
            if pp:
                key = tuple(sorted((a, tuple(map(float, xs))) for a, xs in pp.items()))
                ids[s] = keys.setdefault(key, len(keys))
        T = max((len(xs) for key in keys for _, xs in key), default=1)
        table = np.zeros((len(keys), T, len(symbols)))
        for key, u in keys.items():
            for a, xs in key:
                if a not in apos:
                    raise ValueError(f"price path for {a!r}, which is not an asset of the network")
                move = np.log1p(np.asarray(xs, dtype=float))
                table[u, :len(move), apos[a]] = move
                table[u, len(move):, apos[a]] = move[-1]
        return cls(R, ids, table, _last_move(table))

    @functools.cached_property
    def final_move(self) -> int:
        """Last round in which any row's exogenous path moves (0: all at round 0); later rounds cost nothing."""
        spread = int(self.shock_rounds.max(initial=1)) - 1
        used = self.path_id[self.path_id >= 0]
        return max(spread, int(self.last_move[used].max(initial=0)) if used.size else 0)

    def take(self, rows: np.ndarray) -> "ExogenousPaths":
        """The same paths for a subset (or repetition) of the rows."""
        return ExogenousPaths(self.shock_rounds[rows], self.path_id[rows], self.table, self.last_move)


def _last_move(table: np.ndarray) -> np.ndarray:
    """Last round in which each path's log-move changes (0 when it is flat after round 0)."""
    if table.shape[1] < 2:
        return np.zeros(len(table), int)
    moves = (table[:, 1:] != table[:, :-1]).any(2)  # (U, T-1): round t+1 moves
    return np.where(moves.any(1), moves.shape[1] - np.argmax(moves[:, ::-1], axis=1), 0)


def _table_at(paths: ExogenousPaths, r: int) -> np.ndarray | None:
    """Explicit cumulative log-moves at round r, (S, k), or None when no row has a path."""
    if not len(paths.table) or (paths.path_id < 0).all():
        return None
    t = min(r, paths.table.shape[1] - 1)
    return np.where((paths.path_id >= 0)[:, None], paths.table[np.maximum(paths.path_id, 0), t], 0.0)


def round_zero(shock: np.ndarray, depeg: np.ndarray, paths: ExogenousPaths | None) -> tuple[np.ndarray, np.ndarray]:
    """Price multipliers and depegs reached at round 0, each (S, k).

    ``shock`` holds the full multipliers ``1 + price_shocks`` and ``depeg`` the
    full depegs; a row spread over ``R`` rounds reaches ``shock**(1/R)`` and
    ``1 - (1 - depeg)**(1/R)`` at round 0, times its explicit path's first
    move. With ``R = 1`` and no path the arrays come back unchanged (bit for bit).

    Parameters
    ----------
    shock, depeg : ndarray, shape (S, k)
        Full price multipliers and full depegs.
    paths : ExogenousPaths or None
        None: every shock at round 0.

    Returns
    -------
    shock0, depeg0 : ndarray, shape (S, k)

    Examples
    --------
    Half the price over two rounds: ``√0.5`` at round 0; a 19 % depeg over two rounds: 10 % at round 0.

    >>> s0, d0 = round_zero(np.array([[0.5]]), np.array([[0.19]]), ExogenousPaths.of([2], [{}], ["X"]))
    >>> round(float(s0[0, 0]), 6), round(float(d0[0, 0]), 6)
    (0.707107, 0.1)
    """
    if paths is None:
        return shock, depeg
    R = paths.shock_rounds[:, None]
    spread = R > 1
    if spread.any():
        with np.errstate(divide="ignore"):
            shock = np.where(spread, np.exp(np.log(shock) / R), shock)
            depeg = np.where(spread, -np.expm1(np.log1p(-depeg) / R), depeg)
    first = _table_at(paths, 0)
    if first is not None:
        shock = shock * np.exp(first)
    return shock, depeg


def _gradual_step(paths: ExogenousPaths, r: int) -> np.ndarray:
    """Δg_s(r) = g_s(r) − g_s(r−1): 1/R while r < R, else 0, (S,)."""
    R = paths.shock_rounds
    return np.where(r < R, 1.0 / R, 0.0)


def log_increment(shock: np.ndarray, depeg: np.ndarray, paths: ExogenousPaths | None, peg_unit: np.ndarray,
                  r: int) -> np.ndarray | None:
    """Exogenous log-move of round ``r >= 1`` (S, k): ``x_r − x_{r−1}``; None when nothing moves.

    ``peg_unit`` (k,) is each asset's peg unit (asset index, −1 = USD, −2 =
    unpegged, as in the compiled network): a depegged token moves with its unit
    plus its own depeg step.

    Parameters
    ----------
    shock, depeg : ndarray, shape (S, k)
        Full price multipliers and full depegs.
    paths : ExogenousPaths or None
    peg_unit : ndarray of int, shape (k,)
    r : int
        The round (>= 1).

    Returns
    -------
    ndarray, shape (S, k), or None

    Examples
    --------
    −50% over 4 rounds moves the price by ``ln 0.5 / 4`` in each of rounds 1–3
    (round 0 took the first step) and not at all after.

    >>> p = ExogenousPaths.of([4], [{}], ["ETH"])
    >>> inc = [log_increment(np.array([[0.5]]), np.zeros((1, 1)), p, np.array([-2]), r) for r in (1, 3, 4)]
    >>> [round(float(np.exp(i[0, 0])), 4) if i is not None else None for i in inc]
    [0.8409, 0.8409, None]
    """
    if paths is None or r < 1 or r > paths.final_move:
        return None
    step = _gradual_step(paths, r)
    gradual = bool(step.any())
    tab = _table_step(paths, r)
    if not gradual and tab is None:
        return None
    inc = np.zeros(shock.shape) if tab is None else tab
    if gradual:
        moved = np.flatnonzero((shock != 1.0).any(0))  # only the columns a shock moves
        if moved.size == shock.shape[1]:
            inc += np.log(shock) * step[:, None]
        elif moved.size:
            inc[:, moved] += np.log(shock[:, moved]) * step[:, None]
    depegged = (depeg > 0) & (peg_unit >= -1)[None]
    cols = np.flatnonzero(depegged.any(0))  # a few pegged tokens
    if cols.size:
        u = peg_unit[cols]
        unit = np.where(u[None] >= 0, inc[:, np.maximum(u, 0)], 0.0)
        own = np.log1p(-depeg[:, cols]) * step[:, None]
        inc[:, cols] = np.where(depegged[:, cols], unit + own, inc[:, cols])
    return inc


def _table_step(paths: ExogenousPaths, r: int) -> np.ndarray | None:
    """Explicit paths' log-move in round r (S, k), a fresh array; None when no row's path moves then."""
    if not len(paths.table) or r >= paths.table.shape[1] or not (paths.last_move >= r).any():
        return None
    step = paths.table[:, r] - paths.table[:, r - 1]           # (U, k): one row per distinct path
    step = np.concatenate([step, np.zeros((1, step.shape[1]))])  # row -1: no path
    return step[paths.path_id]


def cumulative_log_move(shock: np.ndarray, depeg: np.ndarray, paths: ExogenousPaths, peg_unit: np.ndarray,
                        r: int) -> np.ndarray:
    """The exogenous log-move :math:`x_{s,r,a}` reached at round ``r`` (S, k), in closed form.

    From the reference price; for a depegged token, from its peg at the
    reference (its unit's move plus ``g(r) ln(1 − d)``). Round 0's value is the
    log of :func:`round_zero`'s multipliers, and ``x_r − x_{r−1}`` is
    :func:`log_increment` — computed for one round at a time, never for all.

    Parameters
    ----------
    shock, depeg : ndarray, shape (S, k)
    paths : ExogenousPaths
    peg_unit : ndarray of int, shape (k,)
    r : int
        The round (>= 0).

    Returns
    -------
    ndarray, shape (S, k)

    Examples
    --------
    >>> p = ExogenousPaths.of([1], [{"ETH": [-0.05, -0.12, -0.2]}], ["ETH"])
    >>> [round(float(np.expm1(cumulative_log_move(np.ones((1, 1)), np.zeros((1, 1)), p, np.array([-2]), r))[0, 0]), 4)
    ...  for r in (0, 1, 2, 5)]
    [-0.05, -0.12, -0.2, -0.2]
    """
    R = paths.shock_rounds[:, None]
    g = np.minimum(r + 1, R) / R
    with np.errstate(divide="ignore"):
        x = g * np.log(shock)
    tab = _table_at(paths, r)
    if tab is not None:
        x = x + tab
    depegged = (depeg > 0) & (peg_unit >= -1)[None]
    if depegged.any():
        unit = np.where(peg_unit[None] >= 0, x[:, np.maximum(peg_unit, 0)], 0.0)
        with np.errstate(divide="ignore"):
            x = np.where(depegged, unit + g * np.log1p(-depeg), x)
    return x


def moving_after(paths: ExogenousPaths | None, r: int) -> np.ndarray | None:
    """Rows whose exogenous path still moves in a round after ``r`` (S,) — a cascade must not settle before them.

    Parameters
    ----------
    paths : ExogenousPaths or None
    r : int

    Returns
    -------
    ndarray of bool, shape (S,), or None
        None when no row moves after ``r``.

    Examples
    --------
    >>> p = ExogenousPaths.of([4, 1], [{}, {"ETH": [-0.05, -0.12, -0.2]}], ["ETH"])
    >>> moving_after(p, 0).tolist(), moving_after(p, 2).tolist(), moving_after(p, 3)
    ([True, True], [True, False], None)
    """
    if paths is None or r >= paths.final_move:
        return None
    later = r + 1 < paths.shock_rounds
    if len(paths.table):
        later = later | ((paths.path_id >= 0) & (r + 1 <= paths.last_move[np.maximum(paths.path_id, 0)]))
    return later


def apply_round(P: np.ndarray, shock: np.ndarray, depeg: np.ndarray, paths: ExogenousPaths | None,
                peg_unit: np.ndarray, r: int) -> np.ndarray:
    """Prices at the start of round ``r``: the last close times the round's exogenous factor.

    Parameters
    ----------
    P : ndarray, shape (S, k)
        Last round's closing prices.
    shock, depeg, paths, peg_unit, r
        As in :func:`log_increment`.

    Returns
    -------
    ndarray, shape (S, k)
        ``P`` itself (the same object) when nothing moves this round.

    Examples
    --------
    >>> p = ExogenousPaths.of([4, 1], [{}, {"ETH": [-0.05, -0.12, -0.2]}], ["ETH"])
    >>> P = np.array([[100.0], [100.0]])
    >>> apply_round(P, np.array([[0.5], [1.0]]), np.zeros((2, 1)), p, np.array([-2]), 1).round(4).tolist()
    [[84.0896], [92.6316]]
    >>> apply_round(P, np.array([[0.5], [1.0]]), np.zeros((2, 1)), p, np.array([-2]), 9) is P
    True
    """
    inc = log_increment(shock, depeg, paths, peg_unit, r)
    if inc is None:
        return P
    return P * np.exp(inc)
