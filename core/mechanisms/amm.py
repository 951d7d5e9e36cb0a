"""Automated market makers: constant product (Uniswap v2) and Curve stableswap, in one namespace.

Each mechanism has its own module, with its equations, conventions and references:

* :mod:`core.mechanisms.constant_product`: the Uniswap v2 pool (``x y = k``),
  its swap, price and the amounts that move the price; :class:`SwapResult`,
  the outcome of a swap on either kind of pool.
* :mod:`core.mechanisms.stableswap`: Curve's invariant ``D`` (``get_D``), the
  balance that keeps it (``get_y``), its swap (``exchange``) and marginal price.
* :mod:`core.mechanisms.stableswap_price_target`: a two-coin stableswap pool
  moved along its invariant to a target price, and the swap that gets there.

This module re-exports their public names, so ``amm.cp_swap`` and
``amm.stableswap_price`` read as before.

Examples
--------
>>> from core.mechanisms import amm
>>> round(float(amm.cp_swap(1000.0, 1000.0, 100.0).amount_out), 6)
90.661089
>>> round(float(amm.stableswap_price([491e3, 111e3], 30.0, 0, 1)), 4)  # stETH, mid-June 2022
0.9467

References
----------
* H. Adams, N. Zinsmeister, D. Robinson, "Uniswap v2 Core" (2020).
* M. Egorov, "StableSwap - efficient mechanism for Stablecoin liquidity" (2019).
"""

from __future__ import annotations

from core.mechanisms.constant_product import (
    SwapResult,
    cp_amount_for_price_drop,
    cp_amount_in_for_price,
    cp_price,
    cp_swap,
)
from core.mechanisms.stableswap import (
    StableswapConvergenceError,
    stableswap_D,
    stableswap_price,
    stableswap_swap,
    stableswap_y,
)
from core.mechanisms.stableswap_price_target import (
    stableswap_amount_in_for_price,
    stableswap_balances_for_price,
    stableswap_price_after_in,
)

__all__ = [
    "SwapResult",
    "StableswapConvergenceError",
    "cp_swap",
    "cp_price",
    "cp_amount_for_price_drop",
    "stableswap_D",
    "stableswap_y",
    "stableswap_swap",
    "stableswap_price",
    "cp_amount_in_for_price",
    "stableswap_amount_in_for_price",
    "stableswap_balances_for_price",
    "stableswap_price_after_in",
]
