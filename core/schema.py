"""The tables of an sfm network, column by column.

A network is the tables ``entities``, ``assets``, ``holdings``, ``exposures``
and the optional ``cohorts``, ``correlations``, ``positions``, ``venues`` and
``pegs`` (one CSV file each in a dataset folder, or one key each in a JSON file). This
module declares every column once: its type, whether it is required, what
values it may take and what it means. Validation (:mod:`core.validation`) and
the loaders (:mod:`core.io`) read these declarations; the README's data-model
table is written by hand from them.

Every row of every table carries the provenance columns ``as_of`` (ISO date),
``source`` (URL or citation), ``flag`` (``sourced`` or ``estimate``) and
``note``.

Perpetuals: a venue's rules sit in a small ``venues`` table rather than in
entity columns. They concern one entity type only (columns on ``entities``
would be empty on every other row), a venue without a row takes documented
defaults, and the table leaves the entity schema as it was. The insurance fund
stays the entity's ``insurance_fund_usd`` (one loss buffer per entity, as for
lending protocols). A maintenance-margin schedule is the venue's first-tier
rate plus, where a position sits in a higher notional tier, the rate stated on
its row (``positions.maintenance_margin``): a row is a position or a cohort of
similar positions, so its tier is a property of the row.
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
LIQUIDATION_STYLES: tuple[str, ...] = ("aave_v2", "aave_v3", "compound_v2", "compound_v3", "maker", "anchor", "aave", "compound")

#: Sides of a perpetual position.
POSITION_SIDES: tuple[str, ...] = ("long", "short")
#: Isolated margin (the row's own) or cross margin (the account's collateral on the venue).
MARGIN_MODES: tuple[str, ...] = ("isolated", "cross")
#: A venue's rule for the loss its liquidations leave (:data:`core.mechanisms.perps_book.RULES`).
ADL_RULES: tuple[str, ...] = ("adl", "socialised", "backstop_vault")
#: How a lender's oracle prices a cohort's token (core.engine.oracle): its market price, or its USD peg, fixed.
COHORT_ORACLES: tuple[str, ...] = ("market", "fixed_usd")
#: An oracle value naming the asset a token is read at, ``asset:USDT`` (core.engine.oracle, "Another asset's price"),
#: or the band its own price is clamped into, ``band:0.95:1.05`` (core.engine.oracle, "Banded market prices").
COHORT_ORACLE_PREFIXES: tuple[str, ...] = ("asset:", "band:")
#: How a message names each prefix's form (core.column_checks).
PREFIX_FORMS: dict[str, str] = {"asset:": "asset:SYMBOL", "band:": "band:LOW:HIGH"}
#: Maker's collateral auctions: Liquidations 2.0 (dog.sol/clip.sol, Dutch, from 2021) or flip.sol (English, 2020).
MAKER_AUCTIONS: tuple[str, ...] = ("clip", "flip")
#: The price at which a venue marks collateral tokens: its own order book for the token,
#: an external index (the market price), or the token's redemption value.
COLLATERAL_POLICIES: tuple[str, ...] = ("order_book", "index", "redemption_value")
#: How a pegged token's price is held (the ``pegs`` table): fiat reserves and a redemption queue, a PSM backing
#: link, partial collateral, or a liquid-staking pool with a redemption-arbitrage floor.
PEG_MECHANISMS: tuple[str, ...] = ("fiat_reserves", "psm", "fractional", "liquid_staking")

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
    An ``enum`` may also take one of ``prefixes`` followed by a name (``asset:USDT``) or numbers
    (``band:0.95:1.05``), checked with the other tables (:mod:`core.oracle_checks`).
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
    prefixes: tuple[str, ...] = ()
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
        Column("liquid_share", "float", "Share of other assets that is cash or held 1:1 for customers at the snapshot (0-1): a stock the runs step pays out once; the rest is an illiquid book sold at the fire-sale discount.", required=False, default=0.2, low=0.0, high=1.0),
        Column("insurance_fund_usd", "float", "Loss buffer that absorbs bad debt before depositors (safety module, surplus buffer, insurance fund), USD.", required=False, default=0.0, low=0.0, high=MAX_AMOUNT_USD),
        Column("defends", "ref", "A pegged asset this reserve defends: below peg it sells its other tokens to buy it back (LFG: UST).", refers_to="assets", required=False, nullable=True, default=""),
        Column("pooled_collateral", "bool", "cdp_protocol: its vaults' collateral is one pool whose owners bear bad debt before the stablecoin's holders (Sai's PETH: tap.sol flop mints PETH; core.mechanisms.pass_through).", required=False, default=False),
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
        Column("amm_counter", "ref", "The asset amm_pool's quote side holds, in which it prices this token and pays those who sell it in (a sale into the pool pays units of it at its price); a stand-in for a basket token it holds says so in the note. Empty: peg_unit when that names an asset, else USD (the pool's other holdings, a counter unit worth what they are).", refers_to="assets", required=False, nullable=True, default=""),
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
        Column("style", "enum", "Liquidation rules of the protocol version: aave_v2 (close factor 50%), aave_v3 (50%, 100% at HF <= 0.95), compound_v2 (50%), compound_v3 (absorb: the whole position), maker (auctions), anchor (Terra's liquidation queue: partial, no fee kept by the protocol); old values aave (= aave_v3) and compound (= compound_v2) still accepted.", choices=LIQUIDATION_STYLES),
        Column("underwater_ok", "bool", "True to allow debt above collateral value at reference prices (already insolvent positions).", required=False, default=False),
        Column("collateral_oracle", "enum", "How the protocol's oracle prices the collateral: market (its market price, lagged by the scenario's oracle lag; the default, also for an empty cell), fixed_usd (its USD peg whatever it trades at, e.g. SparkLend's DAI, Compound v2's USDC; only a token with peg_unit USD) asset:SYMBOL (at another asset's oracle price times the ratio of their reference prices, e.g. asset:USDT for Aave v3's USDe; SYMBOL a row of assets other than the token) or band:LOW:HIGH (its market price, lagged, clamped into LOW to HIGH times its USD peg, e.g. band:0.95:1.05 for DAI at Compound v2's PriceOracleProxy of 2019-20; 0 < LOW <= HIGH; only a token with peg_unit USD); none of the last three on a maker cohort.", required=False, nullable=True, default="market", choices=COHORT_ORACLES, prefixes=COHORT_ORACLE_PREFIXES),
        Column("debt_oracle", "enum", "How the protocol's oracle prices the debt: market (default), fixed_usd (its USD peg), asset:SYMBOL (another asset's price) or band:LOW:HIGH (its market price within a band around its peg); as collateral_oracle.", required=False, nullable=True, default="market", choices=COHORT_ORACLES, prefixes=COHORT_ORACLE_PREFIXES),
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

POSITIONS = Table(
    "positions",
    key=("id",),
    description="Perpetual-futures positions on perpetuals venues, of named accounts or anonymous cohorts (optional table).",
    columns=(
        Column("id", "id", "Unique identifier of the position (or cohort of positions)."),
        Column("venue", "ref", "Perpetuals venue the position is open on.", refers_to="entities"),
        Column("account", "ref", "Named account (fund, market maker) whose equity bears the position's losses; empty for an anonymous cohort of accounts.", refers_to="entities", required=False, nullable=True, default=""),
        Column("market", "ref", "Underlying asset of the contract (linear, USD-settled).", refers_to="assets"),
        Column("side", "enum", "long or short.", choices=POSITION_SIDES),
        Column("size", "float", "Contracts, in units of the market's asset.", low=0.0, low_open=True, high=MAX_UNITS),
        Column("entry_price", "float", "Average entry price (USD).", low=0.0, low_open=True, high=MAX_PRICE_USD),
        Column("margin", "float", "Margin posted: units of margin_asset (USD when empty); for cross margin, this row's share of the account's collateral on the venue.", low=0.0, high=MAX_UNITS),
        Column("margin_asset", "ref", "Collateral token of the margin, priced by the venue's collateral_policy; empty: USD.", refers_to="assets", required=False, nullable=True, default=""),
        Column("margin_mode", "enum", "isolated (this row's margin only) or cross (the cross rows of one named account on one venue share their margin; an anonymous cross row is an account of its own).", choices=MARGIN_MODES),
        Column("leverage_bucket", "str", "Leverage bucket of the cohort, e.g. 10-20x, 50x or 50x+ (empty when unknown).", required=False, nullable=True, default=""),
        Column("maintenance_margin", "float", "Maintenance-margin rate of this row's tier (0-1); empty: the venue's rate in venues.", required=False, nullable=True, low=0.0, high=0.5),
        *PROVENANCE,
    ),
)

VENUES = Table(
    "venues",
    key=("venue",),
    description="Rules of perpetuals venues: maintenance margin, ADL rule, backstop vault and collateral pricing (optional table; a venue without a row takes the defaults).",
    columns=(
        Column("venue", "ref", "Perpetuals venue (an entity of type perpetuals_venue); its insurance fund is the entity's insurance_fund_usd.", refers_to="entities"),
        Column("maintenance_margin", "float", "Maintenance-margin rate of the first tier (0-1), for positions that do not state their own.", required=False, default=0.005, low=0.0, high=0.5),
        Column("adl_rule", "enum", "What covers a deficit the insurance fund cannot: adl (opposite positions closed at the bankruptcy price, ranked by PnL x leverage: their profit first, then their margin), socialised (a haircut on every profit), backstop_vault (a vault takes liquidations first, then ADL).", choices=ADL_RULES, required=False, default="adl"),
        Column("backstop_vault_usd", "float", "Equity of the venue's backstop vault (Hyperliquid's HLP), USD; 0 for none.", required=False, default=0.0, low=0.0, high=MAX_AMOUNT_USD),
        Column("backstop_vault_entity", "ref", "Entity that is the vault, whose depositors bear its losses; empty: the vault's losses stay outside the network.", refers_to="entities", required=False, nullable=True, default=""),
        Column("collateral_policy", "enum", "Price at which the venue marks collateral tokens: order_book (its own market for the token), index (the market price) or redemption_value (the token's peg or backing).", choices=COLLATERAL_POLICIES, required=False, default="index"),
        Column("own_book_share", "float", "Depth of the venue's own market for collateral tokens (the USD sold there that lowers the price by a factor e), as a share of each token's adv_usd (0-1]; it sets the order_book price once the venue sells seized collateral there.", required=False, default=1.0, low=0.0, low_open=True, high=1.0),
        *PROVENANCE,
    ),
)

MAKER_ILKS = Table(
    "maker_ilks",
    key=("protocol", "ilk"),
    description="Maker collateral types (ilks) and the system's loss absorbers: dog.sol, clip.sol/flip.sol, vow.sol, flop.sol "
                "parameters (optional table; a protocol with no rows keeps the simple auction rule). The system columns "
                "(auction, system_hole_usd, mkr_supply, mkr_price_usd, keeper_capacity_usd, surplus_hump_usd, flap_bump_usd, "
                "flap_lid_usd, vow_wait_seconds, flap_hop_seconds, debt_auctions) repeat on every row of a protocol; "
                "the Vow's surplus buffer is the protocol's insurance_fund_usd in entities.",
    columns=(
        Column("protocol", "ref", "The Maker system (an entity of type cdp_protocol); one per dataset.", refers_to="entities"),
        Column("ilk", "id", "Collateral type, e.g. ETH-A."),
        Column("collateral_asset", "ref", "Collateral token of the ilk.", refers_to="assets"),
        Column("liquidation_ratio", "float", "mat (spot.sol), e.g. 1.45: the protocol's cohorts with this collateral and liquidation_threshold = 1/mat belong to the ilk.",
               low=1.0, high=10.0),
        Column("auction", "enum", "clip (Liquidations 2.0: dog.sol + clip.sol, falling-price auctions) or flip (flip.sol English auctions, 2020: zero bids when keepers fail); the same on every row of a protocol.",
               choices=MAKER_AUCTIONS),
        Column("chop", "float", "Liquidation penalty multiplier (dog.sol/cat.sol chop), e.g. 1.13.", low=1.0, high=2.0),
        Column("hole_usd", "float", "ilk.hole: DAI of this ilk under auction at once (dog.sol); empty: no limit (flip era).",
               required=False, nullable=True, low=0.0, low_open=True, high=MAX_AMOUNT_USD),
        Column("dust_usd", "float", "ilk.dust: smallest vault debt (vat.sol), DAI.", required=False, default=0.0, low=0.0, high=MAX_AMOUNT_USD),
        Column("buf", "float", "Auction start price over the feed (clip.sol buf), e.g. 1.2; empty for flip.", required=False, nullable=True, low=1.0, high=10.0),
        Column("tail_seconds", "float", "Seconds before an auction needs a reset (clip.sol tail); empty for flip.", required=False, nullable=True, low=0.0, low_open=True, high=1e7),
        Column("cusp", "float", "Price drop (share of top) at which an auction needs a reset (clip.sol cusp); empty for flip.", required=False, nullable=True, low=0.0, low_open=True, high=1.0),
        Column("step_seconds", "float", "Seconds between price cuts (abaci.sol StairstepExponentialDecrease step); empty for flip.", required=False, nullable=True, low=0.0, low_open=True, high=1e6),
        Column("cut", "float", "Price multiplier per step (abaci.sol cut), e.g. 0.99; empty for flip.", required=False, nullable=True, low=0.0, low_open=True, high=1.0),
        Column("chip", "float", "Keeper reward as a share of the tab (clip.sol chip); empty for flip.", required=False, nullable=True, low=0.0, high=0.1),
        Column("tip_usd", "float", "Flat keeper reward per auction (clip.sol tip), DAI; empty for flip.", required=False, nullable=True, low=0.0, high=1e7),
        Column("system_hole_usd", "float", "Hole: DAI under auction at once across ilks (dog.sol); empty: no limit (flip era).",
               required=False, nullable=True, low=0.0, low_open=True, high=MAX_AMOUNT_USD),
        Column("mkr_supply", "float", "The governance token outstanding (units): MKR, diluted by debt auctions (flop.sol); SKY for the Sky system of 2025 (24,000 SKY per MKR).", low=0.0, low_open=True, high=MAX_UNITS),
        Column("mkr_price_usd", "float", "Price of that governance token at the snapshot (USD).", low=0.0, low_open=True, high=MAX_PRICE_USD),
        Column("keeper_capacity_usd", "float", "DAI keepers bring to Maker's auctions per day in normal markets; scaled by the scenario's liquidity and round length, and capped by its liquidator capacity. Empty: the scenario's liquidator capacity only.",
               required=False, nullable=True, low=0.0, low_open=True, high=MAX_AMOUNT_USD),
        Column("surplus_hump_usd", "float", "hump (vow.sol): surplus buffer kept before surplus auctions (flap) sell the rest for MKR that is burnt, DAI. Empty: no surplus auctions.",
               required=False, nullable=True, low=0.0, high=MAX_AMOUNT_USD),
        Column("flap_bump_usd", "float", "bump (vow.sol): DAI sold in one surplus auction; needed where surplus_hump_usd is set.",
               required=False, nullable=True, low=0.0, low_open=True, high=MAX_AMOUNT_USD),
        Column("flap_lid_usd", "float", "lid (flap.sol, 2022 Flapper): DAI under surplus auction at once. Empty: no limit.",
               required=False, nullable=True, low=0.0, low_open=True, high=MAX_AMOUNT_USD),
        Column("vow_wait_seconds", "float", "wait (vow.sol): seconds a bark's debt (sin, queued by fess) waits before flog frees it for "
               "debt auctions (flop), e.g. 561600 (156 hours) from March 2020 on. Empty, or absent from a file: 0, the contract's "
               "default (vow.sol never sets wait; 0 lets flop sell against a deficit at once), as files written before this column assumed.",
               required=False, nullable=True, default=0.0, low=0.0, high=1e8),
        Column("flap_hop_seconds", "float", "hop (Splitter, 2024 on: vow.flap's caller): seconds between two surplus lots of bump, "
               "e.g. 2160 (Sky, 26 June to 30 October 2025). Empty, or absent from a file: no such limit (the flapper's lid only).",
               required=False, nullable=True, low=0.0, low_open=True, high=1e8),
        Column("debt_auctions", "bool", "Whether vow.flop can start debt auctions (vow.sol: sump <= the released sin). false "
               "where governance switched them off by setting sump to the largest uint256 (Sky's 15 May 2025 spell, "
               "MigrationInit: 'MKR flops are turned off'): a deficit beyond the surplus buffer is then no one's but the "
               "coin holders'. Absent from a file: true, as files written before this column assumed.",
               required=False, default=True),
        *PROVENANCE,
    ),
)


def _peg(name: str, description: str, **kw: object) -> Column:
    """An optional, nullable number of the ``pegs`` table (which rows need it: :func:`core.validation` cross-checks)."""
    return Column(name, "float", description, required=False, nullable=True, **kw)  # type: ignore[arg-type]


PEGS = Table(
    "pegs",
    key=("asset",),
    description="How pegged tokens hold their peg: fiat reserves and redemption rails, PSM backing, partial collateral, liquid-staking floors (optional table; a token without a row has no such channel).",
    columns=(
        Column("asset", "ref", "The pegged token (fiat_stable, cdp_stable, algorithmic_stable or liquid_staking).", refers_to="assets"),
        Column("mechanism", "enum", "fiat_reserves (named reserves, redemption queue), psm (a CDP coin partly backed by another coin through a peg stability module), fractional (partly collateralised, FRAX), liquid_staking (pool discount floored by redemption arbitrage).", choices=PEG_MECHANISMS),
        _peg("reserve_cash", "fiat_reserves: share of reserves in cash at banks (0-1); the three shares sum to 1.", low=0.0, high=1.0),
        _peg("reserve_tbills", "fiat_reserves: share in T-bills, repo and money-market funds (0-1).", low=0.0, high=1.0),
        _peg("reserve_other", "fiat_reserves: share in other assets (commercial paper, secured loans, gold...) (0-1).", low=0.0, high=1.0),
        _peg("redemption_capacity_usd_per_day", "fiat_reserves: redemptions the issuer's bank rails pay in a day (USD).", low=0.0, low_open=True, high=MAX_AMOUNT_USD),
        Column("backing_asset", "ref", "psm: the coin the PSM holds (USDC); fractional: the collateral coin.", refers_to="assets", required=False, nullable=True, default=""),
        _peg("backing_share", "psm: share of the coin's supply backed through the PSM; fractional: the collateral ratio (0-1).", low=0.0, high=1.0),
        _peg("psm_line_usd", "psm: the PSM's debt ceiling (DAI it may mint), USD.", low=0.0, high=MAX_AMOUNT_USD),
        _peg("psm_tin", "psm: fee on selling the backing coin into the PSM (0-0.1).", low=0.0, high=0.1),
        _peg("psm_tout", "psm: fee on buying the backing coin out of the PSM (0-0.1).", low=0.0, high=0.1),
        _peg("psm_halt_hours", "psm: hours after the backing coin first trades below the PSM's sell pin (backing price / (1 - psm_tin) < 1) at which governance halts sellGem (core.mechanisms.psm_halt: Maker's executive plus the GSM pause delay, Sky's pre-deployed LitePSM halt spell); buyGem stays open. Empty: governance does not act within the horizon.", low=0.0, high=8760.0),
        _peg("psm_gap_usd", "psm: the PSM ilk's autoline gap (DssAutoLine: line = min(psm_line_usd, debt + gap), raised at most once every psm_gap_hours), so sellGem mints at most gap x round hours / psm_gap_hours a round (core.mechanisms.psm.autoline_ceiling), USD. Empty: no autoline, the whole psm_line_usd at once.", low=0.0, low_open=True, high=MAX_AMOUNT_USD),
        _peg("psm_gap_hours", "psm: the autoline's ttl, hours between two raises of the line (required with psm_gap_usd).", low=0.0, low_open=True, high=8760.0),
        _peg("pool_amplification", "psm: stableswap amplification A (the whitepaper's: a Curve contract's A() over n^(n-1)) of the amm_pool entities that hold the coin against stablecoins only (Curve's 3pool for DAI), along whose curve they sell it to the buyers of the supply the auctions burnt (core.mechanisms.cdp_premium.squeeze_curve). Empty: such pools are taken as constant product; pools holding the coin against anything else always are.", low=0.0, low_open=True, high=MAX_AMPLIFICATION),
        _peg("market_depth_usd", "psm: depth K of the coin's market, USD of flow per unit log price move.", low=0.0, low_open=True, high=MAX_AMOUNT_USD),
        Column("liable_entity", "ref", "psm or fractional: the entity that owes the coin's holders the backing it holds (the PSM; a fractional coin's issuer). Its other_liabilities_usd move dollar for dollar with the backing coin it holds for the holders (the units it holds at reference, at most its liabilities' worth): a PSM's at the backing coin's price, a fractional coin's at its redemption value (collateral ratio x collateral price + the rest at par), so a loss on the backing falls on the coin's holders and not on it. It must hold the backing coin, and be named on one row only, or on several psm rows of one backing coin that share its one book (Sky's LitePSM holds one pile of USDC behind DAI and USDS: each coin's holders bear the backing's fall by their supplies). Empty: the liabilities stay at par.", refers_to="entities", required=False, nullable=True, default=""),
        Column("withdrawals", "bool", "liquid_staking: holders can redeem through an exit queue (stETH after April 2023); false: no withdrawals (2022).", required=False, nullable=True, default=False),
        _peg("exit_queue_days", "liquid_staking with withdrawals: days to clear the exit queue.", low=0.0, high=3650.0),
        _peg("years_to_redemption", "liquid_staking without withdrawals: years holders expect to wait for them.", low=0.0, high=20.0),
        _peg("funding_rate", "liquid_staking: arbitrageurs' cost of capital per year (0-1).", low=0.0, high=1.0),
        _peg("staking_yield", "liquid_staking: staking yield per year (0-1).", low=0.0, high=1.0),
        _peg("arbitrage_units_per_day", "liquid_staking: units of the underlying arbitrageurs commit per day to buy the token below its floor (at arbitrage_reference_gap, if set).", low=0.0, high=MAX_UNITS),
        _peg("lp_sensitivity_per_day", "liquid_staking: share of the pool LPs withdraw per day per unit of imbalance (0-1).", low=0.0, high=1.0),
        _peg("arbitrage_reference_gap", "liquid_staking: gap to the floor price (floor / price - 1) at which arbitrageurs commit arbitrage_units_per_day; their capital rises with the gap (core.mechanisms.liquid_staking.arbitrage_capital). Empty: a fixed capital, whatever the gap.", low=0.0, low_open=True, high=10.0),
        _peg("arbitrage_elasticity", "liquid_staking: elasticity of that capital to the gap (1: mean-variance arbitrageurs, linear). Empty: 1.", low=0.0, high=5.0),
        *PROVENANCE,
    ),
)

TABLES: dict[str, Table] = {
    t.name: t for t in (ENTITIES, ASSETS, HOLDINGS, EXPOSURES, COHORTS, CORRELATIONS, POSITIONS, VENUES, MAKER_ILKS, PEGS)
}

#: Tables a dataset may leave out (loaded as empty).
OPTIONAL_TABLES: frozenset[str] = frozenset({"cohorts", "correlations", "positions", "venues", "maker_ilks", "pegs"})

#: Largest input file accepted (bytes): a guard against loading the wrong file.
MAX_FILE_BYTES: int = 200 * 1024 * 1024
