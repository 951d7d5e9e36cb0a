r"""Perpetual positions of a network: venue rules, collateral prices and the book.

The ``positions`` and ``venues`` tables (:mod:`core.schema`) describe who holds
which perpetual on which venue and by what rules the venue settles. This module
turns them into what :func:`core.mechanisms.perps_book.settle_book` takes.

Venue rules
-----------
Every entity of type ``perpetuals_venue`` has rules: its row of ``venues`` or,
without one, the defaults (maintenance margin 0.5 %, rule ``adl``, no backstop
vault, collateral at the ``index`` price). Its insurance fund is the entity's
``insurance_fund_usd``. A scenario's safeguards may replace a venue's ADL rule
and collateral policy (:class:`core.scenario.Safeguards` ``adl_rules``,
``collateral_policies``) and its insurance fund (``insurance_funds_usd``).

Collateral pricing
------------------
A venue values a collateral token *c* posted as margin at

.. math::

    P^{v}_c = \begin{cases}
      P^{\text{book}}_{v,c} & \text{order\_book: the venue's own market for the token} \\
      P_c & \text{index: the market (index) price} \\
      T_c \cdot P_{u(c)} & \text{redemption\_value: peg target } T_c \text{ in its unit } u(c)
    \end{cases}

(a token without a peg is worth its index price under ``redemption_value``).
On 10 October 2025 Binance marked wBETH, USDe and BNSOL at its own order
books, where they fell far below their redemption values (USDe to about $0.65
against $1 elsewhere), and liquidated cross-margin accounts that held them;
Binance then moved these tokens to redemption-value pricing
(``../shared/research/episodes-2023-2026.md``; Binance announcement of
11 October 2025).

The book
--------
A position's margin in USD is its ``margin`` units times the venue's price of
its ``margin_asset`` (USD margin counts at 1). Cross-margin rows of one named
account on one venue are one margin account; every isolated row, and every
anonymous cross row (a cohort of accounts each holding one net position), is
an account of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np
import pandas as pd

from .mechanisms.perps_book import RULES, Book, book
from .mechanisms.perps_spread import bucket_spread
from .network import Network
from .schema import COLLATERAL_POLICIES, VENUES

__all__ = ["venue_rules", "redemption_values", "venue_collateral_prices", "collateral_prices", "PositionBook", "position_book"]

_ORDER_BOOK, _INDEX, _REDEMPTION = range(3)

_DEFAULTS = {c.name: c.default for c in VENUES.columns if not c.required or c.name == "venue"}


def venue_rules(net: Network, *, adl_rules: Mapping[str, str] | None = None,
                collateral_policies: Mapping[str, str] | None = None,
                insurance_funds_usd: Mapping[str, float] | None = None) -> pd.DataFrame:
    """The rules of every perpetuals venue of ``net``, with a scenario's overrides.

    Parameters
    ----------
    net : Network
    adl_rules, collateral_policies : mapping of str to str, optional
        Venue id → ADL rule / collateral policy replacing the dataset's.
    insurance_funds_usd : mapping of str to float, optional
        Venue id → insurance fund (USD) replacing the dataset's.

    Returns
    -------
    pandas.DataFrame
        Indexed by venue id (entity order); columns ``maintenance_margin, adl_rule, rule``
        (code into :data:`~core.mechanisms.perps_book.RULES`), ``backstop_vault_usd,
        backstop_vault_entity, collateral_policy, policy`` (code into
        :data:`~core.schema.COLLATERAL_POLICIES`), ``own_book_share, insurance_fund_usd``.

    Raises
    ------
    ValueError
        When an override names no perpetuals venue, or sets ``backstop_vault`` on a
        venue without a vault (scenarios are checked first by ``Scenario.check_against``).

    Examples
    --------
    >>> from core.synthetic_perps import perps_example
    >>> rules = venue_rules(perps_example(), insurance_funds_usd={"VENUE_A": 2e5})
    >>> rules[["adl_rule", "collateral_policy", "insurance_fund_usd"]].values.tolist()
    [['adl', 'order_book', 200000.0], ['backstop_vault', 'index', 50000.0]]
    >>> venue_rules(perps_example(), adl_rules={"MM": "adl"})
    Traceback (most recent call last):
    ...
    ValueError: adl_rule override for 'MM': expected a perpetuals venue of the network
    """
    ent = net.entities
    venues = ent.loc[ent["type"] == "perpetuals_venue", ["id", "insurance_fund_usd"]].set_index("id")
    cols = ["maintenance_margin", "adl_rule", "backstop_vault_usd", "backstop_vault_entity", "collateral_policy", "own_book_share"]
    given = net.venues.set_index("venue")[cols]
    out = pd.DataFrame({c: _DEFAULTS[c] for c in cols}, index=venues.index)
    out.index.name = "venue"
    out.update(given)
    out["maintenance_margin"] = out["maintenance_margin"].astype(float)
    out["backstop_vault_usd"] = out["backstop_vault_usd"].astype(float)
    out["own_book_share"] = out["own_book_share"].astype(float)
    out["insurance_fund_usd"] = venues["insurance_fund_usd"].astype(float)
    for name, overrides in (("adl_rule", adl_rules), ("collateral_policy", collateral_policies),
                            ("insurance_fund_usd", insurance_funds_usd)):
        for venue, value in (overrides or {}).items():
            if venue not in out.index:
                if name == "insurance_fund_usd":
                    continue  # a fund of another kind of entity
                raise ValueError(f"{name} override for '{venue}': expected a perpetuals venue of the network")
            out.loc[venue, name] = value
    vaultless = (out["adl_rule"] == "backstop_vault") & ~(out["backstop_vault_usd"] > 0)
    if vaultless.any():
        raise ValueError(f"adl_rule backstop_vault for {', '.join(out.index[vaultless])}: expected a venue with a backstop vault")
    out["rule"] = out["adl_rule"].map({r: i for i, r in enumerate(RULES)}).astype(np.int64)
    out["policy"] = out["collateral_policy"].map({p: i for i, p in enumerate(COLLATERAL_POLICIES)}).astype(np.int64)
    return out[["maintenance_margin", "adl_rule", "rule", "backstop_vault_usd", "backstop_vault_entity",
                "collateral_policy", "policy", "own_book_share", "insurance_fund_usd"]]


def redemption_values(net: Network, index: np.ndarray) -> np.ndarray:
    """What each token redeems for at ``index`` prices: peg target times its unit's price (USD: 1), the index price for tokens without a peg.

    Parameters
    ----------
    net : Network
    index : ndarray, shape (S, K) or (K,)
        Index prices in the order of ``net.assets``.

    Returns
    -------
    ndarray, same shape as ``index``

    Examples
    --------
    >>> from core.synthetic_perps import perps_example
    >>> redemption_values(perps_example(), np.array([9e4, 0.98, 0.5])).tolist()  # BTC, USDC, USDX
    [90000.0, 1.0, 1.0]
    """
    index = np.asarray(index, dtype=float)
    a = net.assets
    unit = net.asset_symbols.get_indexer(a["peg_unit"])
    unit_price = np.where(unit >= 0, index[..., np.maximum(unit, 0)], 1.0)
    target = a["peg_target"].to_numpy(dtype=float)
    return np.where(np.isnan(target), index, target * unit_price)


def venue_collateral_prices(policy: np.ndarray, index: np.ndarray, redemption: np.ndarray,
                            own_book: np.ndarray) -> np.ndarray:
    """Each venue's price of each token, (S, V, K).

    Parameters
    ----------
    policy : ndarray of int, shape (V,) or (S, V)
        Codes into :data:`~core.schema.COLLATERAL_POLICIES` (per scenario when 2-D).
    index, redemption : ndarray, shape (S, K)
        Index prices and redemption values (:func:`redemption_values`).
    own_book : ndarray, shape (S, V, K)
        Each venue's own order-book price.

    Returns
    -------
    ndarray, shape (S, V, K)
        ``own_book`` under order_book, ``index`` under index, ``redemption`` under redemption_value.

    Examples
    --------
    >>> venue_collateral_prices(np.array([0, 1, 2]), np.array([[1.0, 0.9]]), np.array([[1.0, 1.0]]),
    ...                         np.full((1, 3, 2), 0.5)).tolist()
    [[[0.5, 0.5], [1.0, 0.9], [1.0, 1.0]]]
    """
    pol = np.asarray(policy)
    pol = pol[None, :, None] if pol.ndim == 1 else pol[:, :, None]
    return np.where(pol == _ORDER_BOOK, own_book,
                    np.where(pol == _REDEMPTION, np.asarray(redemption)[:, None, :], np.asarray(index)[:, None, :]))


def collateral_prices(net: Network, rules: pd.DataFrame, index_prices: pd.Series | None = None,
                      book_prices: pd.DataFrame | None = None) -> pd.DataFrame:
    """The price each venue gives each collateral token: (venues × assets), by its ``collateral_policy``.

    ``index_prices`` (by symbol; default the reference prices) are the market prices;
    ``book_prices`` (venues × symbols, NaN where the venue has no market for the token)
    the venues' own order books, which default to the index.

    Examples
    --------
    >>> from core.synthetic_perps import perps_example
    >>> net = perps_example()
    >>> rules = venue_rules(net, collateral_policies={"VENUE_B": "redemption_value"})
    >>> index = net.prices.copy(); index["USDX"] = 0.65
    >>> book = pd.DataFrame({"USDX": [0.65, 0.65]}, index=rules.index)
    >>> collateral_prices(net, rules, index, book)["USDX"].tolist()
    [0.65, 1.0]
    """
    index = (net.prices if index_prices is None else index_prices.reindex(net.asset_symbols)).astype(float).to_numpy()
    own = np.broadcast_to(index, (len(rules), len(index)))
    if book_prices is not None:
        given = book_prices.reindex(index=rules.index, columns=net.asset_symbols).to_numpy(dtype=float)
        own = np.where(np.isnan(given), own, given)
    values = venue_collateral_prices(rules["policy"].to_numpy(), index[None], redemption_values(net, index)[None], own[None])[0]
    return pd.DataFrame(values, index=rules.index, columns=net.asset_symbols)


@dataclass(frozen=True)
class PositionBook:
    """The positions of a network as a :class:`~core.mechanisms.perps_book.Book`, with the names of its codes.

    Built by :func:`position_book`.

    Attributes
    ----------
    book : Book
        The indexed positions (``book.venue`` codes index ``venues``, ``book.market``
        codes index ``markets``).
    ids : pandas.Index
        Position ids, one per row.
    venues : pandas.Index
        Venue ids (the rows of :func:`venue_rules`).
    markets : pandas.Index
        Asset symbols (marks are in asset order).
    account_entity : ndarray of int, shape (N,)
        Each row's named account as an entity position (-1 anonymous).
    margin_usd, margin_units : ndarray, shape (N,)
        Each row's margin in USD and in units of its collateral (USD for USD margin).
    margin_asset : ndarray of int, shape (N,)
        Asset position of the collateral, -1 for USD.
    margin_spread : ndarray, shape (N,)
        Half-width of each anonymous bucket's accounts' margin spread (:mod:`core.mechanisms.perps_spread`);
        0 for a named account's row (one account).

    Examples
    --------
    >>> from core.synthetic_perps import perps_example
    >>> pb = position_book(perps_example())
    >>> pb.venues.tolist(), pb.markets.tolist(), pb.account_entity.tolist()
    (['VENUE_A', 'VENUE_B'], ['BTC', 'USDC', 'USDX'], [-1, 3, -1, 3])
    """

    book: Book
    ids: pd.Index
    venues: pd.Index
    markets: pd.Index
    account_entity: np.ndarray
    margin_usd: np.ndarray
    margin_units: np.ndarray   # (N,) units of each row's collateral (USD for USD margin)
    margin_asset: np.ndarray   # (N,) asset position of the collateral, -1 for USD
    margin_spread: np.ndarray  # (N,) each anonymous bucket's accounts' margin spread (0: one account)


def position_book(net: Network, rules: pd.DataFrame | None = None, collateral: pd.DataFrame | None = None) -> PositionBook:
    """Index the positions of ``net`` at the venues' collateral prices (default: :func:`collateral_prices`
    at reference prices) with each row's maintenance rate (its own, else its venue's).

    Examples
    --------
    >>> from core.synthetic_perps import perps_example
    >>> pb = position_book(perps_example())
    >>> pb.book.n_venues, pb.book.n_accounts, pb.margin_usd.tolist()
    (2, 4, [500000.0, 2000000.0, 200000.0, 2000000.0])
    """
    rules = venue_rules(net) if rules is None else rules
    collateral = collateral_prices(net, rules) if collateral is None else collateral
    pos = net.positions
    venue = rules.index.get_indexer(pos["venue"])
    market = net.asset_symbols.get_indexer(pos["market"])
    size = np.where(pos["side"].to_numpy() == "long", 1.0, -1.0) * pos["size"].to_numpy(dtype=float)
    units = pos["margin"].to_numpy(dtype=float)
    asset = net.asset_symbols.get_indexer(pos["margin_asset"])  # -1 for USD
    price = np.where(asset >= 0, collateral.to_numpy()[venue, np.maximum(asset, 0)], 1.0)
    margin_usd = units * price
    maintenance = pos["maintenance_margin"].to_numpy(dtype=float)
    maintenance = np.where(np.isnan(maintenance), rules["maintenance_margin"].to_numpy()[venue], maintenance)
    # margin accounts: a named account's cross rows on a venue share one; every other row is its own
    cross = (pos["margin_mode"] == "cross").to_numpy() & (pos["account"] != "").to_numpy()
    key = np.where(cross, "x|" + pos["venue"].astype(str) + "|" + pos["account"].astype(str), "r|" + pos["id"].astype(str))
    account = pd.factorize(key)[0]
    b = book(venue, market, size, pos["entry_price"].to_numpy(dtype=float), margin_usd, maintenance, account,
             n_venues=len(rules), n_markets=len(net.asset_symbols))
    anonymous = (pos["account"] == "").to_numpy()
    # an anonymous row is a bucket of accounts (isolated, or cross accounts each holding one net position: the same
    # maintenance test), spread at most so that none is past maintenance at reference marks
    reference = net.assets.set_index("symbol")["price_usd"].reindex(net.asset_symbols).to_numpy(dtype=float)[market]
    spread = bucket_spread(anonymous, margin_usd,
                           maintenance * np.abs(size) * reference, size * (reference - b.entry))
    return PositionBook(book=b, ids=pd.Index(pos["id"]), venues=rules.index, markets=net.asset_symbols,
                        account_entity=np.where(anonymous, -1, net.entity_pos(pos["account"])),
                        margin_usd=margin_usd, margin_units=units, margin_asset=asset, margin_spread=spread)
