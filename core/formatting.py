"""Amounts in USD as people read them: ``$1.23bn``, ``$45.6M``, ``$7.80k``, ``$12``; shares as ``29.8%``.

The one formatter of the Python side (the CLI, narratives in :mod:`core.metrics`,
the dashboard); ``assets/sfm.js`` has the page's twin (``usd``) with the same
rules: units tn / bn / M / k, two decimals below 10 units and one above, a
minus sign (``−``, U+2212) before the ``$`` (none on a figure that rounds to $0),
``–`` for a missing value. A share is :func:`pct` (one decimal; the page's twin ``pct`` too), and a loss as a share
of an entity's equity is :func:`equity_share`, written alike by the WHY sentence (:func:`core.metrics.narrative`)
and the dashboard's entity card beside it.

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

from .results import EQUITY_FLOOR_USD, loss_shares

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


def pct(x: float | None, digits: int = 1) -> str:
    """``x`` as a percentage to ``digits`` decimals; a share that is not zero but rounds to zero is written
    ``< 0.1%`` (or ``> −0.1%``), never ``0.0%`` beside a loss of $320M (assets/sfm.js ``pct`` writes the same).

    >>> pct(0.2979), pct(0.00004), pct(-0.00004), pct(0.0), pct(None)
    ('29.8%', '< 0.1%', '> −0.1%', '0.0%', '–')
    """
    if x is None or x != x:
        return "–"
    value, least = 100 * float(x), 10.0 ** -digits
    if 0 < abs(value) < least / 2:
        return f"< {least:.{digits}f}%" if value > 0 else f"> −{least:.{digits}f}%"
    return f"{value:.{digits}f}%"


def equity_share(loss: float, equity: float, floor: float = EQUITY_FLOOR_USD) -> str:
    """An entity's loss as a share of its initial equity, in words: "29.8% of its $750.0M of equity", or "it had no
    equity" below its ``floor`` (:func:`core.metrics.equity_floors`; :data:`core.results.EQUITY_FLOOR_USD` where no
    book is known): an equity that writes as $0, a remainder of floating point where assets and claims cancel (Jito on
    October 2025, $0.00031), or a dollar of a $1bn pool. The share is :func:`core.results.loss_shares`'s, the figure
    the nodes table carries; the one wording of the WHY sentence and the entity card (before, the sentence wrote
    "(30% of its equity)" beside the card's 29.8%, Terraform Labs on Terra May 2022).

    >>> equity_share(223.4e6, 750e6), equity_share(0.000075, 0.00031), equity_share(0.25, 1.0)
    ('29.8% of its $750.0M of equity', 'it had no equity', '25.0% of its $1 of equity')
    >>> equity_share(0.25, 0.9995, floor=1000.0)  # UNI_ETH's dollar of a $1bn pool: its floor is a millionth of that
    'it had no equity'
    """
    if not equity >= floor:
        return "it had no equity"
    share = float(loss_shares(np.asarray(float(loss)), np.asarray(float(equity)), floor))
    return f"{pct(share)} of its {usd(equity)} of equity"


def figure(v: Any, kind: str) -> str:
    """A table cell as people read it: ``usd``, ``share`` (a fraction as a percentage, :func:`pct`'s rule: a share that
    is not zero never reads as zero), ``x`` (a ratio, "2.0x"), ``int`` (a count) or ``text``; a missing or non-finite
    value is "–" (never NaN or inf on screen).

    >>> figure(0.1234, "share"), figure(2.04, "x"), figure(float("nan"), "usd"), figure(3e9, "usd")
    ('12.3%', '2.0x', '–', '$3.00bn')
    >>> figure(0.000216, "share"), figure(0.0, "share")  # ETH -30% on the March 2020 snapshot: $6.1M of $28.4bn
    ('< 0.1%', '0.0%')
    """
    if v is None or (isinstance(v, (float, np.floating)) and not math.isfinite(v)):
        return "–"
    if kind == "usd":
        return usd(v)
    if kind == "share":
        return pct(v)  # was f"{100 * v:.1f}%": "0.0%" beside a loss of $6.1M (the snapshots' comparison, March 2020)
    if kind == "x":
        return f"{v:,.1f}x" if v < 1e4 else "> 10,000x"
    if kind == "int":
        return f"{int(v):,}"
    return str(v)
