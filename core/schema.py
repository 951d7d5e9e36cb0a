"""The tables of an sfm network, column by column.

A network is six tables: ``entities``, ``assets``, ``holdings``, ``exposures``,
``cohorts`` and ``correlations`` (one CSV file each in a dataset folder, or one
key each in a JSON file). This module declares every column once: its type,
whether it is required, what values it may take and what it means. Validation
(:mod:`core.validation`) and the loaders (:mod:`core.io`) read these
declarations; the README's data-model table is written by hand from them.

Every row of every table carries the provenance columns ``as_of`` (ISO date),
``source`` (URL or citation), ``flag`` (``sourced`` or ``estimate``) and
``note``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ColumnKind = Literal["id", "ref", "str", "enum", "float", "bool", "date"]

ENTITY_TYPES: tuple[str, ...] = (
    "lending_protocol",
    "cdp_protocol",
    "amm_pool",
    "liquid_staking",
    "stablecoin_issuer",
    "centralised_exchange",
    "perpetuals_venue",
    "cefi_lender",
    "fund",
    "bridge",
    "reserve",
    "depositor_aggregate",
)

#: Groups used to place entities as regions of the graph.
REGIONS: tuple[str, ...] = ("defi", "terra", "cefi", "exchange", "stablecoin", "depositors")

ASSET_KINDS: tuple[str, ...] = (
    "volatile",
    "fiat_stable",
    "cdp_stable",
    "algorithmic_stable",
    "liquid_staking",
    "exchange_token",
)

EXPOSURE_KINDS: tuple[str, ...] = (
    "loan",
    "deposit",
    "credit_line",
    "collateralised_loan",
    "customer_balance",
    "lp_share",
    "guarantee",
)

#: A cohort's liquidation rules, by protocol version (core.mechanisms.lending.STYLES); the old values
#: "aave" (= aave_v3) and "compound" (= compound_v2) are still accepted (lending.LEGACY_STYLES).
LIQUIDATION_STYLES: tuple[str, ...] = ("aave_v2", "aave_v3", "compound_v2", "compound_v3", "maker", "aave", "compound")

FLAGS: tuple[str, ...] = ("sourced", "estimate")

# -- magnitudes ------------------------------------------------------------------
# Every number is finite and within a bound far above any real figure, so that a
# typo (an exponent too many) or a hostile file is an error naming its cell, not
# an overflow to infinity inside the cascade ("system equity $infbn"). For scale:
# world GDP is about $1e14; the largest crypto balance sheet in the 2022 dataset
# is $2e11; the largest token supply in circulation (SHIB, PEPE) about 6e14 units.

#: Largest amount in USD (balances, claims, volumes, insurance funds, and a
#: position's value = units x reference price): $1e15, ten times world GDP.
MAX_AMOUNT_USD: float = 1e15
#: Largest number of units of a token (supplies, holdings, collateral, debt).
MAX_UNITS: float = 1e18
#: Largest reference price of one unit (USD); BTC peaked near $1.2e5.
MAX_PRICE_USD: float = 1e9
#: Largest stableswap amplification A (Curve pools use 10-5,000).
MAX_AMPLIFICATION: float = 1e6


@dataclass(frozen=True)
class Column:
    """One column of a table.

    ``kind`` decides the check: ``id`` (unique, ``[A-Za-z0-9_.-]+``), ``ref``
    (must name a row of table ``refers_to``), ``enum`` (one of ``choices``),
    ``float`` (finite number within ``[low, high]``, ``low_open`` excludes the
    lower bound), ``bool`` (true/false), ``date`` (ISO ``YYYY-MM-DD``) or ``str``.
    An optional column may be absent from a file, in which case every row takes
    ``default``; an empty cell takes ``default`` only when ``nullable``.
    """

    name: str
    kind: ColumnKind
    description: str
    required: bool = True
    nullable: bool = False
    default: object = None
    choices: tuple[str, ...] = ()
    refers_to: str | None = None
    low: float | None = None
    high: float | None = None
    low_open: bool = False


PROVENANCE: tuple[Column, ...] = (
    Column("as_of", "date", "Date the figure refers to (YYYY-MM-DD)."),
    Column("source", "str", "URL or citation the figure comes from."),
    Column("flag", "enum", "'sourced' when taken from the source, 'estimate' when ours.", choices=FLAGS),
    Column("note", "str", "Free text: ranges, choices made, caveats.", required=False, nullable=True, default=""),
)


@dataclass(frozen=True)
class Table:
    name: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    description: str

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


ENTITIES = Table(
    "entities",
    key=("id",),
    description="Protocols, exchanges, lenders, funds, issuers and depositor aggregates.",
    columns=(
        Column("id", "id", "Short unique identifier, e.g. CELSIUS."),
        Column("name", "str", "Display name."),
        Column("type", "enum", "What kind of entity it is.", choices=ENTITY_TYPES),
        Column("region", "enum", "Group the entity is drawn in.", choices=REGIONS),
        Column("chain", "str", "Chain (DeFi) or jurisdiction (CeFi)."),
        Column("other_assets_usd", "float", "Assets not itemised as holdings or claims (USD).", low=0.0, high=MAX_AMOUNT_USD),
        Column("other_liabilities_usd", "float", "Liabilities not itemised as exposures, owed outside the network (USD).", low=0.0, high=MAX_AMOUNT_USD),
        Column("reported_equity_usd", "float", "Equity as reported; empty where not reported (USD).", required=False, nullable=True, low=-MAX_AMOUNT_USD, high=MAX_AMOUNT_USD),
        Column("liquid_share", "float", "Share of other assets available at par within a round (0-1).", required=False, default=0.2, low=0.0, high=1.0),
        Column("insurance_fund_usd", "float", "Loss buffer that absorbs bad debt before depositors (safety module, surplus buffer, insurance fund), USD.", required=False, default=0.0, low=0.0, high=MAX_AMOUNT_USD),
        Column("defends", "ref", "A pegged asset this reserve defends: below peg it sells its other tokens to buy it back (LFG: UST).", refers_to="assets", required=False, nullable=True, default=""),
        *PROVENANCE,
    ),
)

ASSETS = Table(
    "assets",
    key=("symbol",),
    description="Tokens: reference price, market depth, peg and issuer.",
    columns=(
        Column("symbol", "id", "Ticker, e.g. ETH, stETH, UST."),
        Column("name", "str", "Display name."),
        Column("kind", "enum", "Asset kind.", choices=ASSET_KINDS),
        Column("price_usd", "float", "Reference price on the snapshot date (USD).", low=0.0, low_open=True, high=MAX_PRICE_USD),
        Column("supply", "float", "Circulating supply (units).", low=0.0, high=MAX_UNITS),
        Column("adv_usd", "float", "Average daily traded volume (USD) for the square-root impact law.", low=0.0, low_open=True, high=MAX_AMOUNT_USD),
        Column("daily_vol", "float", "Daily return volatility (fraction).", low=0.0, low_open=True, high=5.0),
        Column("amm_pool", "ref", "AMM pool entity whose reserves (its holdings) set this token's price against peg_unit; empty when an order book does.", refers_to="entities", required=False, nullable=True, default=""),
        Column("amplification", "float", "Stableswap amplification A of amm_pool; empty for a constant-product pool.", required=False, nullable=True, low=0.0, low_open=True, high=MAX_AMPLIFICATION),
        Column("peg_target", "float", "Target price in peg_unit; empty for unpegged tokens.", required=False, nullable=True, low=0.0, low_open=True, high=MAX_PRICE_USD),
        Column("peg_unit", "str", "USD, or the symbol of the asset the token is pegged to (stETH: ETH).", required=False, nullable=True, default=""),
        Column("backing_asset", "ref", "Asset that backs or absorbs the peg (UST: LUNA by mint and burn).", refers_to="assets", required=False, nullable=True, default=""),
        Column("issuer", "ref", "Entity whose failure impairs the token (USDT: TETHER, FTT: FTX).", refers_to="entities", required=False, nullable=True, default=""),
        *PROVENANCE,
    ),
)

HOLDINGS = Table(
    "holdings",
    key=("entity", "asset"),
    description="Token positions: an entity holds an amount of an asset.",
    columns=(
        Column("entity", "ref", "Holder.", refers_to="entities"),
        Column("asset", "ref", "Asset held.", refers_to="assets"),
        Column("amount", "float", "Units held.", low=0.0, high=MAX_UNITS),
        *PROVENANCE,
    ),
)

EXPOSURES = Table(
    "exposures",
    key=("id",),
    description="Claims between entities: the creditor loses when the debtor fails.",
    columns=(
        Column("id", "id", "Unique identifier of the exposure."),
        Column("creditor", "ref", "Entity owed the amount.", refers_to="entities"),
        Column("debtor", "ref", "Entity that owes it.", refers_to="entities"),
        Column("kind", "enum", "Contract type.", choices=EXPOSURE_KINDS),
        Column("amount_usd", "float", "Amount owed at the snapshot (USD); drawn amount for credit lines.", low=0.0, high=MAX_AMOUNT_USD),
        Column("collateral_asset", "ref", "Collateral posted by the debtor (collateralised loans).", refers_to="assets", required=False, nullable=True, default=""),
        Column("collateral_amount", "float", "Units of collateral the debtor pledged (held by the creditor, not in the debtor's holdings).", required=False, nullable=True, low=0.0, high=MAX_UNITS),
        Column("recovery", "float", "Share of the claim recovered when the debtor defaults (0-1); empty: set by clearing.", required=False, nullable=True, low=0.0, high=1.0),
        *PROVENANCE,
    ),
)

COHORTS = Table(
    "cohorts",
    key=("id",),
    description="Borrower cohorts of lending and CDP protocols, bucketed by health factor.",
    columns=(
        Column("id", "id", "Unique identifier of the cohort."),
        Column("protocol", "ref", "Lending or CDP protocol the positions sit in.", refers_to="entities"),
        Column("borrower", "ref", "Named borrower whose equity bears the liquidation loss; empty for anonymous users.", refers_to="entities", required=False, nullable=True, default=""),
        Column("collateral_asset", "ref", "Collateral token.", refers_to="assets"),
        Column("debt_asset", "ref", "Borrowed token.", refers_to="assets"),
        Column("collateral_amount", "float", "Collateral (units).", low=0.0, low_open=True, high=MAX_UNITS),
        Column("debt_amount", "float", "Debt (units).", low=0.0, high=MAX_UNITS),
        Column("liquidation_threshold", "float", "Aave/Compound liquidation threshold, or 1 / liquidation ratio for Maker (0-1].", low=0.0, low_open=True, high=1.0),
        Column("liquidation_bonus", "float", "Liquidation bonus (Aave, Compound) or penalty (Maker), fraction.", low=0.0, high=1.0),
        Column("close_factor", "float", "Share of debt repayable in one liquidation (Maker: 1).", low=0.0, low_open=True, high=1.0),
        Column("style", "enum", "Liquidation rules of the protocol version: aave_v2 (close factor 50%), aave_v3 (50%, 100% at HF <= 0.95), compound_v2 (50%), compound_v3 (absorb: the whole position), maker (auctions); old values aave (= aave_v3) and compound (= compound_v2) still accepted.", choices=LIQUIDATION_STYLES),
        Column("underwater_ok", "bool", "True to allow debt above collateral value at reference prices (already insolvent positions).", required=False, default=False),
        *PROVENANCE,
    ),
)

CORRELATIONS = Table(
    "correlations",
    key=("asset_a", "asset_b"),
    description="Pairwise correlations of daily log-returns, for correlated Monte Carlo shocks (optional table).",
    columns=(
        Column("asset_a", "ref", "First asset.", refers_to="assets"),
        Column("asset_b", "ref", "Second asset.", refers_to="assets"),
        Column("correlation", "float", "Correlation of daily log-returns (-1 to 1).", low=-1.0, high=1.0),
        *PROVENANCE,
    ),
)

TABLES: dict[str, Table] = {
    t.name: t for t in (ENTITIES, ASSETS, HOLDINGS, EXPOSURES, COHORTS, CORRELATIONS)
}

#: Tables a dataset may leave out (loaded as empty).
OPTIONAL_TABLES: frozenset[str] = frozenset({"cohorts", "correlations"})

#: Largest input file accepted (bytes): a guard against loading the wrong file.
MAX_FILE_BYTES: int = 200 * 1024 * 1024
