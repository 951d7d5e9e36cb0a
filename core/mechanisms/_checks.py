"""Input checks shared by the mechanisms: one place that says what a bad argument is."""

from __future__ import annotations

import numpy as np


def as_float_array(x, name: str, *, nonneg: bool = False, positive: bool = False) -> np.ndarray:
    """``x`` as a float array; ValueError naming ``name`` on NaN, or on a negative / non-positive value when asked."""
    a = np.asarray(x, dtype=float)
    if np.isnan(a).any():
        raise ValueError(f"{name} contains NaN")
    if positive and np.any(a <= 0):
        raise ValueError(f"{name} must be > 0")
    if nonneg and np.any(a < 0):
        raise ValueError(f"{name} must be >= 0")
    return a
