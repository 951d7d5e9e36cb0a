"""Reproducible synthetic networks with the tables of the shipped ones, for scale tests and benchmarks.

Entity types are drawn with fixed probabilities, exposure sizes are
Pareto-distributed (tail index 1.5); the same arguments give the same network
(:func:`synthetic`). Importable from :mod:`core.datasets` as well.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .network import Network
from .schema import ENTITY_TYPES


_TYPE_REGION = {
    "lending_protocol": "defi", "cdp_protocol": "defi", "amm_pool": "defi", "liquid_staking": "defi",
    "stablecoin_issuer": "stablecoin", "centralised_exchange": "exchange", "perpetuals_venue": "exchange",
    "cefi_lender": "cefi", "fund": "cefi", "bridge": "defi", "reserve": "terra", "depositor_aggregate": "depositors",
}
_TYPE_P = np.array([0.06, 0.03, 0.04, 0.02, 0.03, 0.08, 0.03, 0.25, 0.30, 0.02, 0.04, 0.10])


def synthetic(n_entities: int, n_exposures: int, seed: int = 0) -> Network:
    """A reproducible random network with the tables of the shipped one.

    Exposure sizes are Pareto-distributed (tail index 1.5) between random
    creditor-debtor pairs; every entity holds one to three of eight assets;
    lending and CDP protocols get borrower cohorts spread over health factors
    1.05-3; equity is a thin 4-20 % of assets so that shocks cascade;
    stETH carries the shipped 2022 snapshot's ``pegs`` row (:func:`steth_pegs`).
    The same arguments always give the same network.

    Parameters
    ----------
    n_entities : int
        Number of entities (>= 2).
    n_exposures : int
        Number of exposures (>= 0).
    seed : int
        Seed of the random generator.

    Returns
    -------
    Network

    Raises
    ------
    ValueError
        When ``n_entities < 2`` or ``n_exposures < 0``.

    Examples
    --------
    >>> net = synthetic(20, 50, seed=1)
    >>> len(net.entities), len(net.exposures)
    (20, 50)
    >>> synthetic(20, 50, seed=1).exposures.equals(net.exposures)
    True
    """
    if n_entities < 2:
        raise ValueError("n_entities must be at least 2")
    if n_exposures < 0:
        raise ValueError("n_exposures must be non-negative")
    rng = np.random.default_rng(seed)
    n, m = int(n_entities), int(n_exposures)
    prov = {"as_of": "2022-05-06", "source": f"sfm synthetic(seed={seed})", "flag": "estimate", "note": ""}

    assets = pd.DataFrame(
        {
            "symbol": ["ETH", "BTC", "stETH", "USDC", "DAI", "LUNA", "FTT", "TOKEN"],
            "name": ["Ether", "Bitcoin", "Lido stETH", "USD Coin", "Dai", "Terra LUNA", "FTX Token", "Platform token"],
            "kind": ["volatile", "volatile", "liquid_staking", "fiat_stable", "cdp_stable", "volatile", "exchange_token", "exchange_token"],
            "price_usd": [2750.0, 36000.0, 2740.0, 1.0, 1.0, 77.0, 30.0, 5.0],
            "supply": [120e6, 19e6, 3.5e6, 49e9, 8.5e9, 350e6, 130e6, 1e9],
            "adv_usd": [15e9, 30e9, 0.2e9, 5e9, 0.5e9, 2e9, 0.1e9, 0.05e9],
            "daily_vol": [0.04, 0.035, 0.045, 0.001, 0.003, 0.06, 0.05, 0.07],
        }
    )
    types = rng.choice(len(ENTITY_TYPES), size=n, p=_TYPE_P / _TYPE_P.sum())
    types[0] = ENTITY_TYPES.index("amm_pool")
    types[1] = ENTITY_TYPES.index("lending_protocol")
    etype = np.array(ENTITY_TYPES, dtype=object)[types]
    ids = np.array([f"E{i:06d}" for i in range(n)], dtype=object)
    assets["amm_pool"] = ["", "", ids[0], "", "", "", "", ""]
    assets["amplification"] = [np.nan, np.nan, 30.0, np.nan, np.nan, np.nan, np.nan, np.nan]
    assets["peg_target"] = [np.nan, np.nan, 1.0, 1.0, 1.0, np.nan, np.nan, np.nan]
    assets["peg_unit"] = ["", "", "ETH", "USD", "USD", "", "", ""]
    assets["backing_asset"] = ["", "", "ETH", "", "", "", "", ""]
    assets["issuer"] = ["", "", "", "", ids[1], "", ids[2], ids[3]]
    for k, v in prov.items():
        assets[k] = v
    price = assets["price_usd"].to_numpy()

    # Exposures: random pairs, no self-loans, Pareto sizes.
    cred = rng.integers(0, n, size=m)
    debt = (cred + rng.integers(1, n, size=m)) % n
    # Depositor aggregates lend but never borrow: move their debts to the next entity that may.
    can_owe = etype != "depositor_aggregate"
    nxt = np.arange(n)
    ok_idx = np.flatnonzero(can_owe)
    nxt = ok_idx[np.searchsorted(ok_idx, nxt) % len(ok_idx)]
    debt = nxt[debt]
    self_loan = debt == cred
    debt[self_loan] = ok_idx[(np.searchsorted(ok_idx, debt[self_loan]) + 1) % len(ok_idx)]
    amount = np.round((rng.pareto(1.5, size=m) + 1.0) * 1e6, 2)
    kinds = np.array(["loan", "deposit", "credit_line", "customer_balance", "lp_share"], dtype=object)
    exposures = pd.DataFrame(
        {
            "id": [f"X{i:07d}" for i in range(m)],
            "creditor": ids[cred],
            "debtor": ids[debt],
            "kind": kinds[rng.integers(0, len(kinds), size=m)],
            "amount_usd": amount,
            "collateral_asset": "",
            "collateral_amount": np.nan,
            "recovery": np.nan,
            **prov,
        }
    )

    # Holdings: one to three assets per entity, plus the pool's two-sided reserves.
    held = rng.integers(1, 4, size=n)
    h_ent = np.repeat(np.arange(n), held)
    h_ast = rng.integers(0, len(assets), size=len(h_ent))
    h_ast[np.isin(h_ent, [0])] = 0
    usd = (rng.pareto(1.5, size=len(h_ent)) + 1.0) * 5e6
    hold = pd.DataFrame({"entity": h_ent, "asset": h_ast, "usd": usd})
    pool = pd.DataFrame({"entity": [0, 0], "asset": [0, 2], "usd": [2e9, 2e9]})
    hold = pd.concat([hold[hold["entity"] != 0], pool]).groupby(["entity", "asset"], as_index=False)["usd"].sum()
    holdings = pd.DataFrame(
        {
            "entity": ids[hold["entity"].to_numpy()],
            "asset": assets["symbol"].to_numpy()[hold["asset"].to_numpy()],
            "amount": np.round(hold["usd"].to_numpy() / price[hold["asset"].to_numpy()], 6),
            **prov,
        }
    )

    # Cohorts: five health-factor buckets per lending / CDP protocol.
    lenders = np.flatnonzero(np.isin(etype, ["lending_protocol", "cdp_protocol"]))
    hf = np.array([1.05, 1.2, 1.5, 2.0, 3.0])
    c_proto = np.repeat(lenders, len(hf))
    c_hf = np.tile(hf, len(lenders))
    c_coll = rng.choice([0, 1, 2], size=len(c_proto))
    is_cdp = etype[c_proto] == "cdp_protocol"
    lt = np.where(is_cdp, 1 / 1.5, np.where(c_coll == 2, 0.81, 0.825))
    coll_usd = (rng.pareto(1.5, size=len(c_proto)) + 1.0) * 2e7
    debt_usd = coll_usd * lt / c_hf
    cohorts = pd.DataFrame(
        {
            "id": [f"C{i:06d}" for i in range(len(c_proto))],
            "protocol": ids[c_proto],
            "borrower": "",
            "collateral_asset": assets["symbol"].to_numpy()[c_coll],
            "debt_asset": np.where(is_cdp, "DAI", "USDC"),
            "collateral_amount": np.round(coll_usd / price[c_coll], 6),
            "debt_amount": np.round(debt_usd, 2),
            "liquidation_threshold": lt,
            "liquidation_bonus": np.where(is_cdp, 0.13, 0.075),
            "close_factor": np.where(is_cdp, 1.0, 0.5),
            "style": np.where(is_cdp, "maker", "aave"),
            "underwater_ok": False,
            **prov,
        }
    )

    # Balance sheets: other assets pad the book; thin equity of 4-20 % of assets.
    claims = np.bincount(cred, weights=amount, minlength=n)
    debts = np.bincount(debt, weights=amount, minlength=n)
    hold_usd = np.bincount(hold["entity"].to_numpy(), weights=hold["usd"].to_numpy(), minlength=n)
    other_assets = np.round((rng.pareto(1.5, size=n) + 1.0) * 1e7, 2)
    total_assets = claims + hold_usd + other_assets
    equity_share = rng.uniform(0.04, 0.20, size=n)
    # Pad other assets where debts alone would exceed the book, so every entity starts solvent.
    short = debts / (1 - equity_share) - total_assets
    other_assets = np.round(other_assets + np.maximum(short, 0.0), 2)
    total_assets = claims + hold_usd + other_assets
    other_liab = np.round(np.maximum(total_assets * (1 - equity_share) - debts, 0.0), 2)
    entities = pd.DataFrame(
        {
            "id": ids,
            "name": [f"Synthetic {t.replace('_', ' ')} {i}" for i, t in enumerate(etype)],
            "type": etype,
            "region": [_TYPE_REGION[t] for t in etype],
            "chain": "Synthetic",
            "other_assets_usd": other_assets,
            "other_liabilities_usd": other_liab,
            "reported_equity_usd": np.nan,
            "liquid_share": 0.2,
            "insurance_fund_usd": 0.0,
            **prov,
        }
    )
    pool_units = float(holdings.loc[holdings["entity"] == ids[0], "amount"].sum())
    return Network.from_frames(
        name=f"synthetic-{n}-{m}-{seed}",
        entities=entities,
        assets=assets,
        holdings=holdings,
        exposures=exposures,
        cohorts=cohorts,
        correlations=None,
        pegs=steth_pegs(pool_units),
    )


#: The shipped 2022 snapshot's stETH ``pegs`` row (data/crypto-2022-05/pegs.csv): no withdrawals before Shanghai,
#: holders expect them in a year, arbitrageurs' funding 10% a year against a 4% staking yield, LPs leave at 0.045
#: of the pool a day per unit of imbalance, and arbitrageurs commit 56,000 ETH a day at a gap of 1.118% to the floor,
#: linear in the gap (the Curve stETH/ETH pool's two-way volume, May-June 2022).
STETH_2022_TERMS: dict[str, float] = {
    "years_to_redemption": 1.0, "funding_rate": 0.1, "staking_yield": 0.04, "arbitrage_units_per_day": 56000.0,
    "lp_sensitivity_per_day": 0.045, "arbitrage_reference_gap": 0.01118, "arbitrage_elasticity": 1.0,
}
#: Units in the 2022 snapshot's Curve stETH/ETH pool (CRV_STETH: 851,483.888979 stETH + 785,985.128288 ETH),
#: the size its arbitrage capital is scaled by.
STETH_2022_POOL_UNITS = 851483.888979 + 785985.128288


def steth_pegs(pool_units: float) -> pd.DataFrame:
    """The ``pegs`` row of a synthetic network's stETH: the 2022 snapshot's mechanism terms, its one size scaled.

    A synthetic network carries the mechanisms of the shipped ones: its stETH is priced by a stableswap pool
    (entity ``E000000``, A = 30, as the snapshot's CRV_STETH), and without this row
    :mod:`core.engine.staking`'s redemption-arbitrage floor never applied, so round sales drained the pool to
    0.002-0.14% of ETH (docs/invariants.md, "Worthless collateral"). The rates are the snapshot's
    (:data:`STETH_2022_TERMS`); ``arbitrage_units_per_day``, a size, is scaled by the pool's units against the
    snapshot's (:data:`STETH_2022_POOL_UNITS`): 1,457,200 units give 49,835 ETH a day.

    Examples
    --------
    >>> row = steth_pegs(STETH_2022_POOL_UNITS)
    >>> row.loc[0, "mechanism"], float(row.loc[0, "arbitrage_units_per_day"])
    ('liquid_staking', 56000.0)
    """
    terms = dict(STETH_2022_TERMS)
    terms["arbitrage_units_per_day"] = round(terms["arbitrage_units_per_day"] * pool_units / STETH_2022_POOL_UNITS, 6)
    return pd.DataFrame([{
        "asset": "stETH", "mechanism": "liquid_staking", "withdrawals": False, **terms,
        "as_of": "2022-05-06", "source": "data/crypto-2022-05/pegs.csv (stETH row)", "flag": "estimate",
        "note": ("Copies the 2022 snapshot's stETH mechanism terms (carry floor without withdrawals, arbitrage "
                 "capital elastic to the gap, LP withdrawals); arbitrage_units_per_day, a size, scaled by this "
                 f"network's pool units against the snapshot's ({pool_units:,.0f} / {STETH_2022_POOL_UNITS:,.0f})."),
    }])
