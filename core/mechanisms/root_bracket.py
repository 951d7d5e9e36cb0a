"""The root of a rising function of one variable, bracketed: regula falsi with the Illinois modification, vectorised.

Used by the liquid-staking arbitrage (:mod:`core.mechanisms.lst_arbitrage`, :mod:`core.mechanisms.lst_holdings`)
to find the flow at which a stableswap pool's price, or the capital it draws, meets a target.

References
----------
* M. Dowell, P. Jarratt, "A modified regula falsi method for computing the root of an equation", BIT 11 (1971).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["illinois"]


def illinois(fun, lo, hi, f_lo, f_hi, done, iterations, one=None):
    """Bracket ``[lo, hi]`` of the root of the rising ``fun`` (``f_lo <= 0 <= f_hi``), narrowed by regula falsi
    with the Illinois modification (Dowell & Jarratt 1971), vectorised: each element stops on its own once its
    bracket is within float resolution (``done`` on entry: already answered) and is frozen, so its answer never
    depends on the others in the batch. Returns the final ``(lo, hi)``. One element (the engine's single
    scenario) takes :func:`_illinois_one`, the same steps on Python floats; ``one``, where given, is ``fun`` of
    one element on floats (the same number to the last bit, or None where it cannot say: ``fun`` then answers).

    Parameters
    ----------
    fun : callable
        The rising function, on arrays of the bracket's shape.
    lo, hi, f_lo, f_hi : ndarray
        The bracket's ends and ``fun`` at them.
    done : ndarray of bool
        Elements already answered (left as they are).
    iterations : int
        Most steps.
    one : callable, optional
        ``fun`` of one element on Python floats.

    Returns
    -------
    (ndarray, ndarray)
        The bracket's ends.

    Examples
    --------
    The cube root of 2, and of 3, each element on its own:

    >>> f = lambda x: x ** 3 - np.array([2.0, 3.0])
    >>> lo, hi = np.array([0.0, 1.0]), np.array([2.0, 3.0])
    >>> lo, hi = illinois(f, lo, hi, f(lo), f(hi), np.array([False, False]), 100)
    >>> [round(float(v), 12) for v in hi]
    [1.259921049895, 1.442249570307]
    """
    shape = np.shape(lo)
    if math.prod(shape) == 1 and all(np.shape(a) == shape for a in (hi, f_lo, f_hi, done)):
        return _illinois_one(fun, lo, hi, f_lo, f_hi, done, iterations, one)
    kept = np.zeros(np.shape(lo), int)  # the end the last step kept: +1 upper, -1 lower
    for _ in range(iterations):
        if done.all():
            break
        with np.errstate(divide="ignore", invalid="ignore"):
            m = hi - f_hi * (hi - lo) / (f_hi - f_lo)
        m = np.where((m > lo) & (m < hi), m, 0.5 * (lo + hi))
        f_m = fun(m)
        up = f_m >= 0.0  # the root is at or below m: m becomes the upper end
        live = ~done
        lo, f_lo = np.where(live & ~up, m, lo), np.where(live & ~up, f_m, f_lo)
        hi, f_hi = np.where(live & up, m, hi), np.where(live & up, f_m, f_hi)
        f_lo = np.where(live & up & (kept == 1), 0.5 * f_lo, f_lo)    # the same end moved twice: halve the other's
        f_hi = np.where(live & ~up & (kept == -1), 0.5 * f_hi, f_hi)
        kept = np.where(live, np.where(up, 1, -1), kept)
        done = done | (f_m == 0.0) | (hi - lo <= 4.0 * np.finfo(float).eps * hi)
    return lo, hi


def _illinois_one(fun, lo, hi, f_lo, f_hi, done, iterations, one=None):
    """:func:`illinois` on one element, its steps on Python floats (``+ - * /`` and comparisons round alike
    there, so the bracket is the same to the last bit; a step that divides by zero, where numpy gives an
    infinite or NaN point, takes the midpoint, as the array path does). ``fun`` is called on arrays of the
    element's shape, as there."""
    if bool(np.reshape(done, -1)[0]):
        return lo, hi
    shape = np.shape(lo)
    a, b = float(np.reshape(lo, -1)[0]), float(np.reshape(hi, -1)[0])
    fa, fb = float(np.reshape(f_lo, -1)[0]), float(np.reshape(f_hi, -1)[0])
    kept = 0
    eps4 = 4.0 * float(np.finfo(float).eps)
    steps = 0
    for _ in range(iterations):
        steps += 1
        denom = fb - fa
        m = b - fb * (b - a) / denom if denom != 0.0 else math.nan
        if not (a < m < b):
            m = 0.5 * (a + b)
        fm = None if one is None else one(m)
        if fm is None:
            fm = float(np.reshape(fun(np.full(shape, m)), -1)[0])
        if fm >= 0.0:  # the root is at or below m: m becomes the upper end
            b, fb = m, fm
            if kept == 1:  # the same end moved twice: halve the other's
                fa = 0.5 * fa
            kept = 1
        else:
            a, fa = m, fm
            if kept == -1:
                fb = 0.5 * fb
            kept = -1
        if fm == 0.0 or b - a <= eps4 * b:
            break
    if not steps:
        return lo, hi
    return np.full(shape, a), np.full(shape, b)
