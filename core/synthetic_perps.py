"""A small synthetic network with perpetuals: two venues, a market maker on both, a lender.

The shape of 10 October 2025 in miniature. A market maker ``MM`` runs a BTC basis
book, short on ``VENUE_A`` and long on ``VENUE_B`` (hedged: flat in BTC), on
borrowed money (``LENDER`` lent it 3m USD). Anonymous 20x and 25x long cohorts
sit on both venues. ``VENUE_A`` settles by ADL and marks the market maker's
collateral, ``USDX`` (a synthetic dollar, like USDe), at its own order book, a
thin one (0.1 % of the token's volume: 0.2m USD a day);
``VENUE_B`` has a backstop vault (``VAULT_B``, like Hyperliquid's HLP) whose
depositors bear its losses. A fall in BTC liquidates the long cohorts; their
deficit beyond the fund is taken by ADL from the market maker's profitable short
on A, while its long on B keeps losing: the hedge is broken and the loss travels
venue -> market maker -> lender. Every figure is invented (flag ``estimate``).

Balance sheets at reference prices (USD; every derived equity is non-negative):

==================  ==========================================  ================================  ========
entity              assets                                      liabilities                       equity
==================  ==========================================  ================================  ========
MM                  claims on A 2.0m, on B 2.0m; other 1.0m      loan from LENDER 3.0m             2.0m
LENDER              loan to MM 3.0m; other 1.0m                  deposits 3.5m                     0.5m
VENUE_A             USDC 0.5m, USDX 2.0m; other 0.3m            balances: MM 2.0m, traders 0.5m   0.3m
VENUE_B             USDC 2.2m; other 0.3m                       balances: MM 2.0m, traders 0.2m   0.3m
VAULT_B             USDC 1.0m                                   deposits 0.9m                     0.1m
==================  ==========================================  ================================  ========
"""

from __future__ import annotations

import pandas as pd

from .network import Network

__all__ = ["perps_example"]

_PROV = {"as_of": "2025-10-10", "source": "synthetic test network (core.synthetic_perps)", "flag": "estimate",
         "note": "invented figures for tests"}


def _frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([{**r, **_PROV} for r in rows])


def perps_example(*, adl_rule_a: str = "adl", collateral_policy_a: str = "order_book", mm_loan_usd: float = 3e6,
                  a_shorts_btc: float = 0.0) -> Network:
    """The network described in the module docstring (``VENUE_A``'s ADL rule and collateral policy as given).

    Two variants for the cascade's tests: ``mm_loan_usd`` is what ``LENDER`` lent the market maker (its
    depositors' claim grows with it, so the lender's equity stays 0.5m; the market maker's equity is
    ``5m - mm_loan_usd``); ``a_shorts_btc > 0`` adds ``A_SHORTS_3X``, an anonymous 3x short cohort of that
    many BTC on ``VENUE_A`` (USDC margin), profitable in a fall but ranked after the market maker's 5x
    short by ADL (PnL x leverage).

    Examples
    --------
    >>> net = perps_example()
    >>> sorted(net.positions["venue"].unique()), float(net.balance_sheet()["derived_equity_usd"].min()) >= 0
    (['VENUE_A', 'VENUE_B'], True)
    """
    def entity(id_, type_, region, other_assets, other_liabilities, fund=0.0):
        return {"id": id_, "name": id_.replace("_", " ").title(), "type": type_, "region": region, "chain": "Synthetic",
                "other_assets_usd": other_assets, "other_liabilities_usd": other_liabilities, "insurance_fund_usd": fund}

    entities = _frame([
        entity("VENUE_A", "perpetuals_venue", "exchange", 3e5, 0.0, fund=1e5),
        entity("VENUE_B", "perpetuals_venue", "exchange", 3e5, 0.0, fund=5e4),
        entity("VAULT_B", "fund", "cefi", 0.0, 0.0),
        entity("MM", "fund", "cefi", 1e6, 0.0),
        entity("LENDER", "cefi_lender", "cefi", 1e6, 0.0),
        entity("TRADERS", "depositor_aggregate", "depositors", 0.0, 0.0),
        entity("LENDER_DEPOSITORS", "depositor_aggregate", "depositors", 0.0, 0.0),
        entity("VAULT_DEPOSITORS", "depositor_aggregate", "depositors", 0.0, 0.0),
    ])
    assets = _frame([
        {"symbol": "BTC", "name": "Bitcoin", "kind": "volatile", "price_usd": 1e5, "supply": 2e7, "adv_usd": 3e10, "daily_vol": 0.03},
        {"symbol": "USDC", "name": "USD Coin", "kind": "fiat_stable", "price_usd": 1.0, "supply": 7e10, "adv_usd": 1e10,
         "daily_vol": 0.001, "peg_target": 1.0, "peg_unit": "USD"},
        {"symbol": "USDX", "name": "Synthetic dollar", "kind": "algorithmic_stable", "price_usd": 1.0, "supply": 1e10,
         "adv_usd": 2e8, "daily_vol": 0.002, "peg_target": 1.0, "peg_unit": "USD"},
    ])
    holdings = _frame([
        {"entity": "VENUE_A", "asset": "USDC", "amount": 5e5},
        {"entity": "VENUE_A", "asset": "USDX", "amount": 2e6},
        {"entity": "VENUE_B", "asset": "USDC", "amount": 2.2e6},
        {"entity": "VAULT_B", "asset": "USDC", "amount": 1e6},
    ])

    def claim(id_, creditor, debtor, kind, amount):
        return {"id": id_, "creditor": creditor, "debtor": debtor, "kind": kind, "amount_usd": amount}

    exposures = _frame([
        claim("MM_ON_A", "MM", "VENUE_A", "customer_balance", 2e6),
        claim("MM_ON_B", "MM", "VENUE_B", "customer_balance", 2e6),
        claim("TRADERS_ON_A", "TRADERS", "VENUE_A", "customer_balance", 5e5),
        claim("TRADERS_ON_B", "TRADERS", "VENUE_B", "customer_balance", 2e5),
        claim("LOAN_MM", "LENDER", "MM", "loan", mm_loan_usd),
        claim("LENDER_DEPOSITS", "LENDER_DEPOSITORS", "LENDER", "deposit", mm_loan_usd + 5e5),
        claim("VAULT_DEPOSITS", "VAULT_DEPOSITORS", "VAULT_B", "deposit", 9e5),
    ])

    def position(id_, venue, account, side, size, margin, mode, asset="USDC", bucket=""):
        return {"id": id_, "venue": venue, "account": account, "market": "BTC", "side": side, "size": size,
                "entry_price": 1e5, "margin": margin, "margin_asset": asset, "margin_mode": mode, "leverage_bucket": bucket}

    positions = _frame([
        position("A_LONGS_20X", "VENUE_A", "", "long", 100.0, 5e5, "isolated", bucket="20x"),
        position("A_MM_SHORT", "VENUE_A", "MM", "short", 100.0, 2e6, "cross", asset="USDX", bucket="5x"),
        position("B_LONGS_25X", "VENUE_B", "", "long", 50.0, 2e5, "isolated", bucket="25x"),
        position("B_MM_LONG", "VENUE_B", "MM", "long", 100.0, 2e6, "cross", bucket="5x"),
    ] + ([position("A_SHORTS_3X", "VENUE_A", "", "short", a_shorts_btc, a_shorts_btc * 1e5 / 3, "isolated", bucket="3x")]
         if a_shorts_btc > 0 else []))
    venues = _frame([
        {"venue": "VENUE_A", "maintenance_margin": 0.005, "adl_rule": adl_rule_a, "backstop_vault_usd": 0.0,
         "backstop_vault_entity": "", "collateral_policy": collateral_policy_a, "own_book_share": 0.001},
        {"venue": "VENUE_B", "maintenance_margin": 0.005, "adl_rule": "backstop_vault", "backstop_vault_usd": 1e6,
         "backstop_vault_entity": "VAULT_B", "collateral_policy": "index", "own_book_share": 1.0},
    ])
    return Network.from_frames(name="perps-example", entities=entities, assets=assets, holdings=holdings,
                               exposures=exposures, positions=positions, venues=venues)
