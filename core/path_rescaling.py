r"""A price path rescaled to a given fall: the price-drop sensitivity of a scenario with paths.

A scenario's ``price_paths`` (:mod:`core.paths`) give each asset's cumulative
relative moves :math:`m_0, \dots, m_{T-1}` from its reference price. To ask
"what if it fell to :math:`-d` instead" (the dashboard's sensitivity slider),
the path is reshaped to end at :math:`-d` over the same rounds.

Model
-----
Scaling in log-price keeps the path's shape:

.. math::

    \ln(1 + m'_r) = k\,\ln(1 + m_r), \qquad k = \frac{\ln(1 - d)}{\ln(1 + m_{T-1})},

so every round's move is the same power of the original. When no such
:math:`k` exists (a path that ends flat) or the scaled moves would leave the
range a scenario accepts, :math:`(-1, 10]` (a path that rises far before it
falls), the path is *tilted* instead,

.. math::

    \ln(1 + m'_r) = \ln(1 + m_r) + \tfrac{r + 1}{T}\,\bigl(\ln(1 - d) - \ln(1 + m_{T-1})\bigr),

keeping its round-to-round wiggles; a tilted move past the range is held at
its edge (:data:`MOVE_FLOOR`, :data:`MOVE_CAP`).

References
----------
* Gauntlet (2022). Brownian-bridge scenario pinning: named crash scenarios as
  price targets reached over a time window rather than a single gap
  (``/work`` notes, defi-ecosystem §6).

Examples
--------
>>> path = path_to_fall([-0.1, -0.19], 0.5)
>>> final_fall(path)
0.5
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

__all__ = ["final_fall", "path_to_fall", "MOVE_FLOOR", "MOVE_CAP"]

#: The range a cumulative move of a path may take (``core.scenario``): above -100 %, at most +1000 %.
MOVE_FLOOR, MOVE_CAP = -0.999, 10.0


def final_fall(path: Sequence[float] | None, shock: float = 0.0) -> float:
    """The fall an asset ends at: minus the last move of its path, or minus its price shock when it has none.

    Parameters
    ----------
    path : sequence of float or None
        Cumulative relative moves, one per round (a ``price_paths`` entry).
    shock : float
        The asset's ``price_shocks`` entry, used when it has no path.

    Returns
    -------
    float
        The final fall as a positive share (0.61 for a path ending at -61%).

    Examples
    --------
    >>> final_fall([-0.05, -0.3, -0.61]), final_fall(None, -0.2)
    (0.61, 0.2)
    """
    return float(-(path[-1] if path else shock)) + 0.0


def path_to_fall(path: Sequence[float], drop: float) -> list[float]:
    r"""The cumulative moves ``path`` reshaped to end at a fall of ``drop`` (0 <= drop < 1).

    Scaling in log-price keeps the path's shape: :math:`\ln(1 + m'_r) = k\,\ln(1 + m_r)` with
    :math:`k = \ln(1 - d) / \ln(1 + m_{T-1})`, so every round's move is the same power of the original
    (Gauntlet's price-target scenarios, reached over the same window). When no such :math:`k` exists (a path
    that ends flat) or the scaled moves would leave :math:`(-1, 10]` (a path that rises far before it falls),
    the path is *tilted* instead: :math:`\ln(1 + m'_r) = \ln(1 + m_r) + \tfrac{r + 1}{T}\,(\ln(1 - d) - \ln(1 + m_{T-1}))`,
    its round-to-round wiggles kept; a tilted move past the range is held at its edge (-99.9 % or +1000 %).
    The last move is exactly ``-drop``.

    Parameters
    ----------
    path : sequence of float
        Cumulative relative moves, one per round.
    drop : float
        The fall the reshaped path ends at, in [0, 1).

    Returns
    -------
    list of float

    Examples
    --------
    A path to -19% reshaped to end at -50% keeps its shape in log-price:

    >>> [round(m, 4) for m in path_to_fall([-0.1, -0.19], 0.5)]
    [-0.2929, -0.5]
    """
    log_moves = np.log1p(np.asarray(path, dtype=float))
    log_target = np.log1p(-min(float(drop), 0.999))
    scaled = np.full(len(log_moves), np.inf)
    if abs(log_moves[-1]) > 1e-12:
        with np.errstate(over="ignore", invalid="ignore"):
            scaled = np.expm1(log_moves * (log_target / log_moves[-1]))
    if not (np.all(np.isfinite(scaled)) and np.all(scaled > -1.0) and np.all(scaled <= MOVE_CAP)):
        tilted = log_moves + np.arange(1, len(log_moves) + 1) / len(log_moves) * (log_target - log_moves[-1])
        scaled = np.clip(np.expm1(tilted), MOVE_FLOOR, MOVE_CAP)
    scaled[-1] = -float(drop)
    return [float(v) + 0.0 for v in scaled]
