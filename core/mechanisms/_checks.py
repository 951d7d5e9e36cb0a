"""Input checks shared by the mechanisms: one place that says what a bad argument is.

Public mechanism functions check their arguments. The cascade engine calls
them hundreds of times per cascade on arrays it validated once, when the
network and scenario were loaded; inside :func:`trusted` the checks are
skipped (a context variable, so other threads and callers keep checking).
"""

from __future__ import annotations

import contextlib
import contextvars
from typing import Iterator

import numpy as np

_TRUSTED: contextvars.ContextVar[bool] = contextvars.ContextVar("sfm_trusted_inputs", default=False)


@contextlib.contextmanager
def trusted() -> Iterator[None]:
    """Skip the mechanisms' argument checks inside the block (for callers whose inputs are already valid)."""
    token = _TRUSTED.set(True)
    try:
        yield
    finally:
        _TRUSTED.reset(token)


def checking() -> bool:
    """Whether arguments are checked here (False inside :func:`trusted`)."""
    return not _TRUSTED.get()


def as_float_array(x, name: str, *, nonneg: bool = False, positive: bool = False) -> np.ndarray:
    """``x`` as a float array; ValueError naming ``name`` on NaN, or on a negative / non-positive value when asked."""
    a = np.asarray(x, dtype=float)
    if _TRUSTED.get():
        return a
    if np.isnan(a).any():
        raise ValueError(f"{name} contains NaN")
    if positive and np.any(a <= 0):
        raise ValueError(f"{name} must be > 0")
    if nonneg and np.any(a < 0):
        raise ValueError(f"{name} must be >= 0")
    return a


def as_unit_array(x, name: str) -> np.ndarray:
    """``x`` as a float array of shares in [0, 1]; ValueError naming ``name`` otherwise (unchecked inside :func:`trusted`)."""
    a = as_float_array(x, name, nonneg=True)
    if checking() and np.any(a > 1):
        raise ValueError(f"{name} must lie in [0, 1]")
    return a
