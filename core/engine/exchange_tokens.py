"""An exchange token at its issuer's health, solved with it: wrong-way risk (FTT with FTX, CEL with Celsius).

Called by :func:`core.engine.defend.issuer_effects` after each close, and by round 0's exogenous step on the
opening books where the scenario forces the issuer to fail (:func:`core.engine.exogenous.forced_issuer_prices`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..mechanisms.pegs import EXCHANGE_TOKEN_FLOOR
from .books import clip
from .compiled import Compiled
from .grouping import Subgroup
from .memo import per_network

if TYPE_CHECKING:
    from .state import CascadeState


def exchange_token_prices(c: Compiled, s: CascadeState, t: np.ndarray, P_t: np.ndarray, equity: np.ndarray | None = None,
                          p_prev: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    r"""Exchange tokens ``t`` at their issuers' health, solved with it: the prices and caps, (S, len(t)) each.

    The token trades at :math:`\min(P_{free},\ \bar P\,h(p))`, :math:`\bar P = P_0 e^{-impact}` its price at
    full health, :math:`P_{free}` the price the other steps give it (before last round's cap, ``issuer_cap``: it
    follows the issuer's health both ways) and :math:`h = \mathrm{clip}(E/E_0, floor, 1)` its issuer's equity
    share. The issuer's equity moves with the token's own price: it holds some of it (``H``) and owes its
    in-kind claims at an index that follows its reference book, in which the token is (``H0``), so
    :math:`E(p) = E_{prev} + (p - p_{prev})\,g`, :math:`g = H - D\,\lambda_{follow} H_0 / V_0`, :math:`D` the
    in-kind claims it owes (:func:`~core.engine.books.inkind_index`). The price solves
    :math:`p = \bar P\,\mathrm{clip}(E(p)/E_0, floor, 1)`: with :math:`a = \bar P / E_0`,

    .. math:: p = \mathrm{clip}\Big(\frac{a\,(E_{prev} - p_{prev}\,g)}{1 - a\,g},\ floor\,\bar P,\ \bar P\Big),

    the one crossing of the identity with a line that falls as the issuer owes more of its token (where
    :math:`1 - a g \le 0`, holding more of it than it owes, last round's equity is taken as it stands).
    Taken at last round's equity alone, a token its issuer owes in kind made a loop read a round late: CEL at
    $1.70 put Celsius's equity at -$9.90, which floored CEL at $0.051, which put the equity at +$465.6M, which
    lifted CEL back, every other round, and a default fell on the $9.90 tolerance ($1.340bn,
    monotone-shipped-celsius-clearing-oscillation-tolerance). Taken as ``min(P, target)``, one way only, a dip of the
    issuer's equity held the token down for good ($90.3M, monotone-shipped-luna-wbtc-tfl-cel-ratchet).

    ``equity`` (S, n) and ``p_prev`` (S, len(t)): the equity and the token prices it was taken at; by default
    last round's (``s.equity``, at the last close). Round 0's exogenous step passes a clearing of the opening
    books where the scenario forces the issuer to fail (:func:`~core.engine.exogenous.forced_issuer_prices`).
    """
    if equity is None:
        assert s.equity is not None  # the caller runs it after the first clearing
        equity, p_prev = s.equity, s.price_history[-1][:, t]  # the close last round's equity was taken at
    assert p_prev is not None
    i, e0, follows, owed_by = per_network(c, ("exchange_tokens", t.tobytes()), lambda: _exchange_token_terms(c, t))
    equity = equity[:, i]
    top = c.P0[t][None] * np.exp(-s.impact_log[:, t])
    owed = owed_by(s.ik_left)  # c.by_ik_debtor(s.ik_left)[:, i], summed over the issuers' claims alone
    slope = s.H[:, i, t] - owed * follows
    a = top / e0
    denom = 1.0 - a * slope
    solved = np.where(denom > 0, a * (equity - p_prev * slope) / np.where(denom > 0, denom, 1.0), a * equity)
    target = clip(solved, EXCHANGE_TOKEN_FLOOR * top, top)
    free = P_t / s.issuer_cap[:, t]
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        cap = np.minimum(1.0, target / free)
    cap = np.where(np.isfinite(cap), cap, 1.0)
    return free * cap, cap


def _exchange_token_terms(c: Compiled, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, Subgroup]:
    """:func:`exchange_token_prices`'s per-network terms of the exchange tokens ``t``: their issuers, the issuers'
    reference equity (1 where not positive) and the share of their reference book their in-kind claims follow,
    (1, m) both, and the sums of the in-kind claims they owe (``c.by_ik_debtor``'s, of those issuers alone)."""
    i = c.issuer[t]
    follows = np.where(np.isin(i, c.live_idx), 0.0, c.lam_follow[i] * c.inv_base0[i] * c.H0[i, t])
    return i, np.where(c.E0[i] > 0, c.E0[i], 1.0)[None], follows[None], c.by_ik_debtor.of_groups(i)
