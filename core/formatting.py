"""Amounts in USD as people read them: ``$1.23bn``, ``$45.6M``, ``$7.80k``, ``$12``.

The one formatter of the Python side (the CLI, narratives in :mod:`core.metrics`,
the dashboard); ``assets/sfm.js`` has the page's twin (``usd``) with the same
rules: units tn / bn / M / k, two decimals below 10 units and one above, a
minus sign (``−``, U+2212) before the ``$`` (none on a figure that rounds to $0),
``–`` for a missing value.

Examples
--------
>>> usd(26_390_900_000), usd(-4.5e6), usd(7_800), usd(12.4), usd(float("nan")), usd(float("inf")), usd(-0.3)
('$26.4bn', '−$4.50M', '$7.80k', '$12', '–', 'n/a (inf)', '$0')
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np

_UNITS = (("tn", 1e12), ("bn", 1e9), ("M", 1e6), ("k", 1e3))


def _half_up(v: float, places: int) -> Decimal:
    """``v`` to ``places`` decimals as the page's twin rounds (JavaScript's ``toFixed``: the binary value, an exact
    tie away from zero), where Python's format rounds an exact tie to even: $3,125,000 reads "$3.13M" on both sides.

    >>> _half_up(3.125, 2), _half_up(2.5, 0), _half_up(1.005, 2)  # 1.005 is 1.00499999999999989... in binary
    (Decimal('3.13'), Decimal('3'), Decimal('1.00'))
    """
    return Decimal(v).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def usd(x: float | None) -> str:
    """``x`` dollars in a short human form (see the module docstring); never ``nan`` or ``inf`` as a number."""
    if x is None or x != x:
        return "–"
    x = float(x)
    if not math.isfinite(x):
        return f"n/a ({x})"
    sign = "−" if x < 0 else ""
    a = abs(x)
    for unit, div in _UNITS:
        if a >= div:
            v = a / div
            return f"{sign}${_half_up(v, 2 if v < 10 else 1):,}{unit}"
    dollars = _half_up(a, 0)
    return f"{sign if dollars else ''}${dollars:,}"  # a figure that rounds to $0 has no sign: "−$0" is no amount


def figure(v: Any, kind: str) -> str:
    """A table cell as people read it: ``usd``, ``share`` (a fraction as a percentage), ``x`` (a ratio, "2.0x"),
    ``int`` (a count) or ``text``; a missing or non-finite value is "–" (never NaN or inf on screen).

    >>> figure(0.1234, "share"), figure(2.04, "x"), figure(float("nan"), "usd"), figure(3e9, "usd")
    ('12.3%', '2.0x', '–', '$3.00bn')
    """
    if v is None or (isinstance(v, (float, np.floating)) and not math.isfinite(v)):
        return "–"
    if kind == "usd":
        return usd(v)
    if kind == "share":
        return f"{100 * v:.1f}%"
    if kind == "x":
        return f"{v:,.1f}x" if v < 1e4 else "> 10,000x"
    if kind == "int":
        return f"{int(v):,}"
    return str(v)
