r"""Who bears a failed issuer's token liabilities: its holders in the network, once, through the token's price.

A token issuer (a fiat or CDP stablecoin's issuer, a wrapped token's
custodian) owes its token's holders: those liabilities are its
``other_liabilities_usd`` (at par, or at the backing's value for a
pass-through issuer, :func:`~core.engine.backing.backed_liabilities`), and
clearing pays them pro rata with its other creditors. When it defaults with
paid ratio :math:`r_e`, its token trades at its recovery: a stablecoin at
``peg * r_e`` at most (:func:`~core.engine.defend.issuer_effects`), a wrapped
token at ``peg * P_underlying * r_e`` (:func:`~core.engine.defend.wrapped_prices`).

A holder in the network therefore already carries its share of the write-down
in its equity, as the fall of the token it holds: :math:`u\,\pi(1 - r_e)` for
:math:`u` units at par value :math:`\pi`. Counting the same liability again as
an outside creditor's write-down counted the shortfall twice [model: the
token's holders are the issuer's creditors for the token; a claim is borne
by whoever holds it, once]. On the 2020 network with Maker failed
(``monotone-2020-maker-failed-penalty-income-2``) all $104M of DAI is held by
network entities (STABLE_HOLDERS, the plug for the supply no modelled entity
holds, keepers, the Uniswap pool, DeFi suppliers through Compound), yet
Maker's unpaid $3.54M was written down as outside creditors' loss while the
same DAI's fall to 0.96594 cost its holders $104M x 0.03406 = $3.54M of equity
(system loss $191.141M; $187.599M counted once). Session 5 removed
the same double count for Sai (:mod:`core.mechanisms.pass_through`).

The rule (:func:`network_held_liabilities`): of a defaulted issuer's outside
liabilities, the part its network holders hold,

.. math:: N_e = \min\Bigl(\sum_{a:\ \mathrm{issuer}(a) = e} U_a\,\pi_a,\ \ \bar x_e\Bigr),

is no outside creditor's write-down; only :math:`(\bar x_e - N_e)(1 - r_e)`
is. :math:`U_a` are the units of token :math:`a` held by network entities
other than :math:`e` at the end (holdings, pool reserves, named borrowers'
collateral; units a network entity sold to an outside buyer are that buyer's,
and written down as outside), :math:`\pi_a` its par value
(``peg_target``, times the underlying's price for a wrapped token) and
:math:`\bar x_e` the issuer's outside liabilities other than depositors'
in-kind claims. The cap keeps an issuer that owes only part of its token
(Maker's $5.3bn of the $8.5bn of DAI on the 2022 network, the PSM owing the
rest) from netting out more than it owes. A fractional coin (FRAX) is owed at
its backing's worth, :math:`\pi_a = \mathrm{peg}\,(\mathrm{CR}\,p_b + 1 - \mathrm{CR})`
(:func:`~core.engine.backing.fractional_values`), and trades at its issuer's
recovery of that, and its outside holders' share of the backing's fall is an
outside write-down too (:func:`fractional_holders_outside`). Tokens whose price does not follow
their issuer's recovery (an algorithmic coin, a liquid-staking
token priced by its pool, an exchange token, which is no liability) keep the
write-down outside: their holders do not bear it through the price, so it is
counted once there. Creditors' write-downs (``writedowns``) still count the
whole liability: the holders in the network are written down too, through the
price. A coin owed by two issuers (DAI: Maker's vaults and its PSM) trades at the
blend of their recoveries, and its holders in the network bear through its price
only what the issuer cap took off it
(:func:`~core.engine.maker_co_issued.dai_holders_outside`).

Examples
--------
An issuer owing $100 of its coin fails and pays 90%: a network entity holds 60
coins (it loses $6 through the coin's price), outsiders hold 40 (they write
down $4, the outside creditors' loss):

>>> import numpy as np
>>> held = np.array([[60.0]]); owed = np.array([[100.0]]); short = np.array([[0.1]])
>>> float(((owed - held) * short).sum())
4.0
"""

from __future__ import annotations

import weakref

import numpy as np

from ..branchless import zero_unless
from .backing import fractional_rows, fractional_values
from .compiled import Compiled


def recovery_priced(c: Compiled) -> np.ndarray:
    """Tokens whose price carries their issuer's recovery when it defaults, (t,) asset indices: stablecoins with
    an issuer, fractional coins included (:func:`~core.engine.defend.issuer_effects`) and wrapped tokens with a custodian
    (:func:`~core.engine.defend.follow_underlying`)."""
    return _held_terms(c)[0]


#: The network's fixed terms of :func:`network_held_liabilities` by compiled network (computed once: a recorded
#: run reads them every round).
_TERMS: "weakref.WeakKeyDictionary[Compiled, tuple[np.ndarray, ...]]" = weakref.WeakKeyDictionary()


def _held_terms(c: Compiled) -> tuple[np.ndarray, ...]:
    """``(tok, iss, named, where, own, under)``: the recovery-priced tokens, their issuers, the named borrowers'
    cohorts in them, each such cohort's token among ``tok``, whether the borrower is the token's issuer, and
    each token's underlying (-1: USD)."""
    terms = _TERMS.get(c)
    if terms is None:
        wrapped = np.zeros(c.k, bool)
        wrapped[c.wrapped_idx] = True
        tok = np.flatnonzero(c.issued_stable | (wrapped & (c.issuer >= 0)))
        named = c.c_named & np.isin(c.c_ca, tok)
        terms = (tok, c.issuer[tok], named, np.searchsorted(tok, c.c_ca[named]),
                 c.c_borrower[named] == c.issuer[c.c_ca[named]], c.peg_unit[tok])
        for a in terms:
            a.flags.writeable = False
        _TERMS[c] = terms
    return terms


def network_held_liabilities(c: Compiled, P: np.ndarray, H: np.ndarray, coll: np.ndarray,
                             defaulted: np.ndarray, owed_outside: np.ndarray) -> np.ndarray | None:
    """Each defaulted issuer's outside liabilities held by network entities as its tokens, (S, n), USD at par
    (module docstring): ``min(sum of its tokens' units held in the network x par, owed_outside)`` where the
    issuer has defaulted, 0 elsewhere; ``None`` when no token carries its issuer's recovery.

    ``P`` (S, k) prices, ``H`` (S, n, k) holdings, ``coll`` (S, c) cohorts' collateral units, ``defaulted``
    (S, n), ``owed_outside`` (S, n) outside liabilities other than depositors' in-kind claims."""
    return held_liabilities_and_units(c, P, H, coll, defaulted, owed_outside)[0]


def held_liabilities_and_units(c: Compiled, P: np.ndarray, H: np.ndarray, coll: np.ndarray, defaulted: np.ndarray,
                               owed_outside: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
    """:func:`network_held_liabilities` and the :func:`held_units` it read (None where it read none): a caller that
    needs both (:func:`core.engine.losses.final_losses`) sums the holdings once."""
    tok, iss, named, where, own, under = _held_terms(c)
    if not len(tok):
        return None, None
    if not defaulted[:, iss].any():
        return None, None
    S = P.shape[0]
    units = held_units(c, H, coll)
    par = c.peg1[tok][None] * np.where(under >= 0, P[:, np.maximum(under, 0)], 1.0)
    rows = fractional_rows(c)
    if rows is not None:  # a fractional coin is owed at its backing's worth (backing.backed_liabilities)
        assert c.pegs is not None
        par[:, np.searchsorted(tok, c.pegs.frac_asset[rows])] *= fractional_values(c, P)[:, rows]
    held = np.zeros((S, c.n))
    np.add.at(held.T, iss, (np.maximum(units, 0.0) * par).T)
    # np.where(defaulted, ..., 0.0) without a branch per entity (core.branchless): defaults have no pattern
    return zero_unless(np.minimum(held, np.maximum(owed_outside, 0.0)), defaulted), units


def held_units(c: Compiled, H: np.ndarray, coll: np.ndarray) -> np.ndarray:
    """Units of each recovery-priced token (:func:`recovery_priced`) held in the network by every entity but its
    issuer, (S, t): holdings, pool reserves and named borrowers' collateral (their equity in the position follows
    the price), as :func:`network_held_liabilities` counts them."""
    tok, iss, named, where, own, _ = _held_terms(c)
    # held by every entity but the issuer itself (np.take: H[:, :, tok]'s values and layout, without fancy indexing's iterator)
    units = np.take(H, tok, axis=2).sum(1) - H[:, iss, tok]
    if named.any():
        np.add.at(units.T, where, np.where(own[None], 0.0, coll[:, named]).T)
    return units


def fractional_holders_outside(c: Compiled, P: np.ndarray, units: np.ndarray, defaulted: np.ndarray) -> np.ndarray:
    r"""What the outside holders of a failed issuer's fractional coin bear of its backing's fall, (S,): an outside
    creditor's write-down, as the outside holders' share of a failed Sky's PSM write-down is
    (:func:`~core.engine.maker_co_issued.dai_holders_outside`),

    .. math:: (S_a - N_a)^+\,\pi_a\,(1 - V_a)^+

    where the coin's issuer has defaulted, 0 elsewhere: :math:`S_a` the coin's units outstanding, :math:`N_a`
    those held in the network (``units`` (S, t), :func:`held_units`), :math:`\pi_a` its peg and :math:`V_a` its
    backed value (:func:`~core.engine.backing.fractional_values`). Model: the issuer owes the coin at its
    backing's worth, :math:`S_a \pi_a V_a` (:func:`~core.engine.backing.backed_liabilities`), and pays its ratio
    :math:`\rho` on it; the coin trades at :math:`\rho V_a` (:func:`~core.engine.maker_co_issued.coin_recoveries`), so
    an outside holder's unit loses :math:`\pi_a (1 - V_a)` to the backing's fall besides :math:`\pi_a V_a (1 -
    \rho)` to the issuer's shortfall, which :func:`network_held_liabilities` leaves in the outside write-downs.
    With it a failed fractional issuer's estate is counted once: the value it destroyed (its assets less what
    it pays) is its equity, its network holders' fall and its outside holders' write-downs
    (``tests/test_fractional_issuer.py``).

    Example: 100M coins backed 80% by USDY at 0.9 (:math:`V = 0.92`), 30M held in the network: the 70M outside
    lose 70M x 0.08 = $5.6M to USDY's fall (``test_worked_example``: with the issuer keeping 80%, their write-down
    is $15.68M, this and 70M x 0.92 x 0.156522 of the shortfall)."""
    rows = fractional_rows(c)
    if rows is None:
        return np.zeros(len(P))
    assert c.pegs is not None
    coin = c.pegs.frac_asset[rows]
    iss = c.issuer[coin]
    if not defaulted[:, iss].any():
        return np.zeros(len(P))
    tok = recovery_priced(c)
    N = np.maximum(units[:, np.searchsorted(tok, coin)], 0.0)
    fall = c.peg1[coin][None] * np.maximum(1.0 - fractional_values(c, P)[:, rows], 0.0)
    return np.where(defaulted[:, iss], np.maximum(c.supply[coin][None] - N, 0.0) * fall, 0.0).sum(1)
