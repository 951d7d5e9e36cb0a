r"""The correlation matrix :math:`C` of the shock model (:mod:`core.shock_model`) and its factor :math:`A A^\top = C`.

``correlations.csv`` lists pairs; pairs not listed are uncorrelated. The matrix is
checked, never repaired: a pair listed twice with different values, or a matrix
that is not positive semi-definite, is an error naming the pair at fault (for a
negative 3×3 minor, the pair furthest outside the bounds
:math:`\rho_{ab} \in \rho_{ac}\rho_{bc} \pm \sqrt{(1-\rho_{ac}^2)(1-\rho_{bc}^2)}`
the other two pairs allow). :math:`A` is the Cholesky factor, or the symmetric
square root when :math:`C` is only semi-definite.

References
----------
* Glasserman, P. (2003). *Monte Carlo Methods in Financial Engineering*.
  Springer. §2.3 (correlated normals by Cholesky), §9 (VaR).
"""

from __future__ import annotations

import math
from itertools import combinations
from typing import Sequence

import numpy as np
import pandas as pd

from .network import Network
from .validation import DataValidationError, Problem

#: Smallest eigenvalue tolerated as numerically zero.
PSD_TOL = 1e-10


def correlation_matrix(net: Network, symbols: Sequence[str] | None = None) -> pd.DataFrame:
    """The correlation matrix of ``symbols`` (default: all assets) from ``net.correlations``.

    Pairs not listed are uncorrelated. The matrix is checked, never repaired.

    Raises
    ------
    DataValidationError
        When a pair is listed twice with different values, or the matrix is not
        positive semi-definite; the message names the offending pair.

    Examples
    --------
    >>> from core import datasets
    >>> C = correlation_matrix(datasets.load("crypto-2022-05"), ["ETH", "BTC"])
    >>> float(C.loc["ETH", "BTC"])
    0.847
    """
    syms = list(net.assets["symbol"] if symbols is None else symbols)
    pos = {s: i for i, s in enumerate(syms)}
    d = len(syms)
    C = np.eye(d)
    seen: dict[tuple[str, str], float] = {}
    problems: list[Problem] = []
    corr = net.correlations
    if len(corr):
        for row, (a, b, rho) in enumerate(zip(corr["asset_a"], corr["asset_b"], corr["correlation"].astype(float)), start=1):
            key = (a, b) if a <= b else (b, a)
            if key in seen and seen[key] != rho:
                problems.append(Problem("correlations", row, "correlation", f"{a}–{b} = {rho}",
                                        f"one value per pair (already listed as {seen[key]})", "record"))
            seen[key] = rho
            if a in pos and b in pos:
                C[pos[a], pos[b]] = C[pos[b], pos[a]] = rho
    if problems:
        raise DataValidationError(problems)
    _check_psd(C, syms)
    return pd.DataFrame(C, index=pd.Index(syms, name="asset"), columns=syms)


def _check_psd(C: np.ndarray, syms: Sequence[str]) -> None:
    """Raise, naming the pair at fault, unless ``C`` is positive semi-definite."""
    if len(C) == 0:
        return
    lam, V = np.linalg.eigh(C)
    if lam[0] >= -PSD_TOL:
        return
    msg = None
    d = len(C)
    if d >= 3:
        # The smallest inconsistency: a triple whose 3×3 minor is negative, and in it the pair furthest outside
        # the bounds the other two pairs allow: ρ_ab ∈ ρ_ac ρ_bc ± √((1-ρ_ac²)(1-ρ_bc²)).
        T = np.array(list(combinations(range(d), 3)))
        i, j, k = T.T
        a, b, c = C[i, j], C[i, k], C[j, k]
        det = 1 + 2 * a * b * c - a * a - b * b - c * c
        if (det < -PSD_TOL).any():
            t = int(np.argmin(det))
            tri = [int(x) for x in T[t]]
            worst = None
            for p, q in ((0, 1), (0, 2), (1, 2)):
                r = 3 - p - q
                x, y, z = tri[p], tri[q], tri[r]
                centre = C[x, z] * C[y, z]
                half = math.sqrt(max(0.0, (1 - C[x, z] ** 2) * (1 - C[y, z] ** 2)))
                out = max(centre - half - C[x, y], C[x, y] - centre - half)
                if worst is None or out > worst[0]:
                    worst = (out, x, y, z, centre - half, centre + half)
            _, x, y, z, lo, hi = worst  # type: ignore[misc]
            msg = (f"a positive semi-definite correlation matrix; the pair {syms[x]}–{syms[y]} ({C[x, y]:.4g}) is inconsistent "
                   f"with {syms[x]}–{syms[z]} ({C[x, z]:.4g}) and {syms[y]}–{syms[z]} ({C[y, z]:.4g}): given those it must lie "
                   f"in [{lo:.4f}, {hi:.4f}]")
            pair = f"{syms[x]}–{syms[y]} = {C[x, y]:.4g}"
    if msg is None:
        v = V[:, 0]
        contrib = np.triu(2 * np.outer(v, v) * C, 1)
        x, y = (int(i) for i in np.unravel_index(int(np.argmin(contrib)), contrib.shape))
        msg = (f"a positive semi-definite correlation matrix (smallest eigenvalue {lam[0]:.3g}); the pair "
               f"{syms[x]}–{syms[y]} ({C[x, y]:.4g}) contributes most to the negative direction")
        pair = f"{syms[x]}–{syms[y]} = {C[x, y]:.4g}"
    raise DataValidationError([Problem("correlations", None, "correlation", pair, msg, "record")])


def _factor(C: np.ndarray) -> np.ndarray:
    """A with A Aᵀ = C: the Cholesky factor, or the symmetric square root when C is only semi-definite."""
    try:
        return np.linalg.cholesky(C)
    except np.linalg.LinAlgError:
        lam, V = np.linalg.eigh(C)
        return V * np.sqrt(np.maximum(lam, 0.0))
