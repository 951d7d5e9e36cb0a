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


def as_amount_array(x, name: str, *, nonneg: bool = True, positive: bool = False) -> np.ndarray:
    """An amount, price or rate as a float array: :func:`as_float_array` with ``nonneg`` on by default.

    The adapter the mechanism modules share for their USD amounts, balances and prices
    (pass ``nonneg=False`` for a signed flow, ``positive=True`` for a divisor).

    Parameters
    ----------
    x : array_like
        The values.
    name : str
        The argument's name, used in the error message.
    nonneg, positive : bool
        Reject negative values (default) / values <= 0.

    Returns
    -------
    ndarray of float

    Raises
    ------
    ValueError
        On NaN, or on a value outside the asked range (unchecked inside :func:`trusted`).

    Examples
    --------
    >>> as_amount_array([1, 2.5], "supply").tolist()
    [1.0, 2.5]
    >>> as_amount_array(-1.0, "net_sell_usd", nonneg=False).item()
    -1.0
    >>> as_amount_array(-1.0, "supply")
    Traceback (most recent call last):
    ...
    ValueError: supply must be >= 0
    """
    if _TRUSTED.get():  # as_float_array's own first steps, without its call (the engine's some 1,700 a run)
        return np.asarray(x, dtype=float)
    return as_float_array(x, name, nonneg=nonneg, positive=positive)


def as_unit_array(x, name: str) -> np.ndarray:
    """``x`` as a float array of shares in [0, 1]; ValueError naming ``name`` otherwise (unchecked inside :func:`trusted`)."""
    a = as_float_array(x, name, nonneg=True)
    if checking() and np.any(a > 1):
        raise ValueError(f"{name} must lie in [0, 1]")
    return a


def broadcast_shape(*shapes: tuple[int, ...]) -> tuple[int, ...]:
    """``np.broadcast_shapes(*shapes)``, without its cost where the shapes are one shape and scalars' ``()``
    (a shape broadcast with itself or with ``()`` is itself): the engine's calls, on arrays of one shape."""
    distinct = set(shapes)
    distinct.discard(())
    if len(distinct) <= 1:
        return next(iter(distinct), ())
    return np.broadcast_shapes(*shapes)
