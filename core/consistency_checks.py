"""Consistency checks across network tables, once each column is typed (:mod:`core.column_checks`): pegs and
what each peg mechanism needs, who is liable for what, perpetuals venues and their books, Maker's system and
collateral types, and position values at the reference prices."""

from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd

from .problems import Origin, _Collector
from .oracle_checks import oracle_checks as _oracle_checks
from .schema import MAX_AMOUNT_USD, MAX_UNITS, TABLES


def _cross_checks(t: dict[str, pd.DataFrame], origins: Mapping[str, Origin], out: _Collector) -> None:
    o = {k: origins.get(k, Origin(k, 1, "record")) for k in TABLES}
    ent, ast, exp, coh = t["entities"], t["assets"], t["exposures"], t["cohorts"]
    # A required column may be missing (already reported): cross-checks then use empty lookups.
    etype = (pd.Series(ent["type"].values, index=ent["id"].values) if {"id", "type"} <= set(ent.columns)
             else pd.Series(dtype=object))
    etype = etype[~etype.index.duplicated()]
    price = (pd.Series(ast["price_usd"].values, index=ast["symbol"].values) if {"symbol", "price_usd"} <= set(ast.columns)
             else pd.Series(dtype=float))
    price = price[~price.index.duplicated()]
    _value_checks(t, o, price, out)

    if {"creditor", "debtor"} <= set(exp.columns):
        selfloan = (exp["creditor"] == exp["debtor"]).to_numpy() & (exp["creditor"] != "").to_numpy()
        if selfloan.any():
            idx = np.flatnonzero(selfloan)
            out.add(o["exposures"], idx, "debtor", exp["debtor"].iloc[idx], "a debtor other than the creditor (an entity cannot lend to itself)")
    if {"kind", "collateral_asset", "collateral_amount"} <= set(exp.columns):
        coll = (exp["kind"] == "collateralised_loan").to_numpy()
        no_asset = coll & (exp["collateral_asset"] == "").to_numpy()
        if no_asset.any():
            idx = np.flatnonzero(no_asset)
            out.add(o["exposures"], idx, "collateral_asset", exp["collateral_asset"].iloc[idx], "a collateral asset for a collateralised_loan")
        no_amt = coll & exp["collateral_amount"].isna().to_numpy()
        if no_amt.any():
            idx = np.flatnonzero(no_amt)
            out.add(o["exposures"], idx, "collateral_amount", exp["collateral_amount"].iloc[idx], "a collateral amount for a collateralised_loan")

    if "amm_pool" in ast.columns and len(etype):
        pool = ast["amm_pool"]
        wrong = ((pool != "") & pool.isin(etype.index) & (pool.map(etype) != "amm_pool")).to_numpy()
        if wrong.any():
            idx = np.flatnonzero(wrong)
            out.add(o["assets"], idx, "amm_pool", pool.iloc[idx], "an entity of type amm_pool")
        if {"amm_counter", "symbol"} <= set(ast.columns) and {"entity", "asset"} <= set(t["holdings"].columns):
            # a pool prices and pays in the asset its quote side holds (decision 16 in Session 35 (lead))
            h = t["holdings"]
            held = set(zip(h["entity"], h["asset"]))
            quote = ast["amm_counter"]
            stray = ((quote != "") & ((pool == "") | (quote == ast["symbol"])
                                      | ~pd.Series([(e, q) in held for e, q in zip(pool, quote)], index=quote.index))).to_numpy()
            if stray.any():
                idx = np.flatnonzero(stray)
                out.add(o["assets"], idx, "amm_counter", quote.iloc[idx],
                        "empty, or an asset other than the token that its amm_pool entity holds (holdings)")
    if "peg_unit" in ast.columns:
        unit = ast["peg_unit"]
        bad = ((unit != "") & (unit != "USD") & ~unit.isin(price.index)).to_numpy()
        if bad.any():
            idx = np.flatnonzero(bad)
            out.add(o["assets"], idx, "peg_unit", unit.iloc[idx], "USD or the symbol of an existing asset")
        if "peg_target" in ast.columns:
            half = (ast["peg_target"].notna() != (unit != "")).to_numpy()
            if half.any():
                idx = np.flatnonzero(half)
                out.add(o["assets"], idx, "peg_unit", unit.iloc[idx], "peg_target and peg_unit both set or both empty")

    if len(coh) and {"protocol", "collateral_asset", "debt_asset", "collateral_amount", "debt_amount"} <= set(coh.columns):
        proto = coh["protocol"]
        wrong = (proto.isin(etype.index) & ~proto.map(etype).isin(["lending_protocol", "cdp_protocol"])).to_numpy()
        if wrong.any():
            idx = np.flatnonzero(wrong)
            out.add(o["cohorts"], idx, "protocol", proto.iloc[idx], "an entity of type lending_protocol or cdp_protocol")
        cp = coh["collateral_asset"].map(price).astype(float).to_numpy()
        dp = coh["debt_asset"].map(price).astype(float).to_numpy()
        cval = coh["collateral_amount"].to_numpy(dtype=float) * cp
        dval = coh["debt_amount"].to_numpy(dtype=float) * dp
        ok_flag = coh["underwater_ok"].to_numpy(dtype=bool) if "underwater_ok" in coh else np.zeros(len(coh), bool)
        with np.errstate(invalid="ignore"):
            under = (dval > cval) & ~ok_flag
        if under.any():
            idx = np.flatnonzero(under)
            vals = [f"{d:,.0f} USD of debt vs {c:,.0f} USD of collateral" for d, c in zip(dval[idx], cval[idx])]
            out.add(o["cohorts"], idx, "debt_amount", vals, "debt no larger than the collateral value at reference prices (or underwater_ok=true)")
        if {"style", "liquidation_threshold", "liquidation_bonus"} <= set(coh.columns):
            _queue_checks(coh, o, out)

    _oracle_checks(coh, ast, o, out)
    _perps_checks(t, o, etype, price, out)
    _maker_checks(t, o, etype, out)
    _pegs_checks(t, o, out)

    corr = t["correlations"]
    if len(corr) and {"asset_a", "asset_b"} <= set(corr.columns):
        same = (corr["asset_a"] == corr["asset_b"]).to_numpy()
        if same.any():
            idx = np.flatnonzero(same)
            out.add(o["correlations"], idx, "asset_b", corr["asset_b"].iloc[idx], "an asset other than asset_a")


def _queue_checks(coh: pd.DataFrame, o: Mapping[str, Origin], out: _Collector) -> None:
    """An ``anchor`` cohort's queue must repay more per unit of collateral than the safe ratio leaves borrowed,
    d = (1 - p)(1 - bid fee - liquidator fee) > safe ratio x Max LTV (``query_liquidation_amount``'s denominator;
    the contract's amount is undefined otherwise: :func:`core.mechanisms.bid_queue.anchor_liquidation_amount`)."""
    from core.mechanisms.bid_queue import ANCHOR_SAFE_RATIO, bid_queue_bonus
    queue = (coh["style"] == "anchor").to_numpy()
    if not queue.any():
        return
    premium = pd.to_numeric(coh["liquidation_bonus"], errors="coerce").to_numpy(dtype=float)
    max_ltv = pd.to_numeric(coh["liquidation_threshold"], errors="coerce").to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        discount = 1.0 / (1.0 + bid_queue_bonus(np.where(queue & (premium >= 0) & (premium < 1), premium, 0.0)))
        bad = queue & (discount <= ANCHOR_SAFE_RATIO * max_ltv)
    if bad.any():
        idx = np.flatnonzero(bad)
        out.add(o["cohorts"], idx, "liquidation_threshold", max_ltv[idx],
                f"an anchor cohort's Max LTV below (1 - premium)(1 - fees) / safe ratio {ANCHOR_SAFE_RATIO} "
                "(the liquidation queue's contract sizes no liquidation otherwise)")


#: A leverage bucket: "20x", "10-20x" or "50x+" (bounds > 0, low <= high).
_BUCKET_RE = r"^(\d+(?:\.\d+)?)(?:-(\d+(?:\.\d+)?))?x\+?$"


def leverage_bucket_bounds(label: pd.Series) -> pd.DataFrame:
    """The bounds of leverage buckets: ``low`` and ``high`` (``inf`` for "50x+"); NaN where the label is empty or malformed.

    >>> leverage_bucket_bounds(pd.Series(["10-20x", "5x", "50x+", ""])).values.tolist()
    [[10.0, 20.0], [5.0, 5.0], [50.0, inf], [nan, nan]]
    """
    parts = label.astype(str).str.strip().str.extract(_BUCKET_RE)
    low = pd.to_numeric(parts[0], errors="coerce")
    high = pd.to_numeric(parts[1], errors="coerce").fillna(low)
    high = high.where(~label.astype(str).str.strip().str.endswith("+"), np.inf).where(low.notna())
    return pd.DataFrame({"low": low.astype(float), "high": high.astype(float)}, index=label.index)


#: What each peg mechanism needs in the ``pegs`` table, and which asset kinds it applies to.
_PEG_NEEDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "fiat_reserves": (("reserve_cash", "reserve_tbills", "reserve_other", "redemption_capacity_usd_per_day"), ("fiat_stable",)),
    "psm": (("backing_asset", "backing_share", "psm_line_usd", "psm_tin", "psm_tout", "market_depth_usd"), ("cdp_stable",)),
    "fractional": (("backing_asset", "backing_share"), ("algorithmic_stable", "fiat_stable", "cdp_stable")),
    "liquid_staking": (("funding_rate", "staking_yield", "arbitrage_units_per_day", "lp_sensitivity_per_day"), ("liquid_staking",)),
}


def _pegs_checks(t: dict[str, pd.DataFrame], o: Mapping[str, Origin], out: _Collector) -> None:
    """Rows of ``pegs``: the columns their mechanism needs are filled, the asset is of a kind the mechanism
    applies to, reserve shares sum to 1, a liquid-staking token has an AMM pool and its floor's inputs
    (an exit queue with withdrawals, a wait for them without)."""
    pg, ast = t["pegs"], t["assets"]
    if not len(pg) or not {"asset", "mechanism"} <= set(pg.columns):
        return
    kind = (pd.Series(ast["kind"].values, index=ast["symbol"].values) if {"symbol", "kind"} <= set(ast.columns)
            else pd.Series(dtype=object))
    kind = kind[~kind.index.duplicated()]
    mech = pg["mechanism"]
    for m, (cols, kinds) in _PEG_NEEDS.items():
        rows = (mech == m).to_numpy()
        for col in cols:
            if col not in pg.columns:
                continue
            v = pg[col]
            empty = rows & (v.isna() | (v.astype(str) == "")).to_numpy()
            if empty.any():
                idx = np.flatnonzero(empty)
                out.add(o["pegs"], idx, col, v.iloc[idx], f"a value for mechanism {m}")
        wrong = rows & pg["asset"].isin(kind.index).to_numpy() & ~pg["asset"].map(kind).isin(kinds).to_numpy()
        if wrong.any():
            idx = np.flatnonzero(wrong)
            out.add(o["pegs"], idx, "asset", pg["asset"].iloc[idx], f"an asset of kind {' or '.join(kinds)} for mechanism {m}")
    shares = [c for c in ("reserve_cash", "reserve_tbills", "reserve_other") if c in pg.columns]
    if len(shares) == 3:
        total = pg[shares].astype(float).sum(axis=1, min_count=3).to_numpy()
        bad = (mech == "fiat_reserves").to_numpy() & ~np.isnan(total) & (np.abs(total - 1.0) > 1e-6)
        if bad.any():
            idx = np.flatnonzero(bad)
            out.add(o["pegs"], idx, "reserve_other", [f"shares summing to {total[i]:.6g}" for i in idx],
                    "reserve_cash + reserve_tbills + reserve_other = 1")
    lst = (mech == "liquid_staking").to_numpy()
    if "withdrawals" in pg.columns:
        w = pg["withdrawals"].fillna(False).astype(bool).to_numpy()
        for col, need in (("exit_queue_days", lst & w), ("years_to_redemption", lst & ~w)):
            if col in pg.columns:
                empty = need & pg[col].isna().to_numpy()
                if empty.any():
                    idx = np.flatnonzero(empty)
                    out.add(o["pegs"], idx, col, pg[col].iloc[idx],
                            f"a value for a liquid-staking token {'with' if col == 'exit_queue_days' else 'without'} withdrawals")
    if {"amm_pool", "symbol"} <= set(ast.columns):
        pool = pd.Series(ast["amm_pool"].values, index=ast["symbol"].values)
        pool = pool[~pool.index.duplicated()]
        nopool = lst & pg["asset"].isin(pool.index).to_numpy() & (pg["asset"].map(pool) == "").to_numpy()
        if nopool.any():
            idx = np.flatnonzero(nopool)
            out.add(o["pegs"], idx, "asset", pg["asset"].iloc[idx], "a liquid-staking token whose price an AMM pool sets (amm_pool)")
    if "psm_halt_hours" in pg.columns:  # governance's halt of a PSM's sellGem (core.mechanisms.psm_halt)
        stray = (mech != "psm").to_numpy() & pg["psm_halt_hours"].notna().to_numpy()
        if stray.any():
            idx = np.flatnonzero(stray)
            out.add(o["pegs"], idx, "psm_halt_hours", pg["psm_halt_hours"].iloc[idx], "empty, except on psm rows")
    for col in ("psm_gap_usd", "psm_gap_hours"):  # a PSM ilk's autoline (core.mechanisms.psm.autoline_ceiling)
        if col in pg.columns:
            other = "psm_gap_hours" if col == "psm_gap_usd" else "psm_gap_usd"
            unpaired = pg[col].notna().to_numpy() & ~(pg[other].notna().to_numpy() if other in pg.columns else False)
            bad = ((mech != "psm").to_numpy() & pg[col].notna().to_numpy()) | unpaired
            if bad.any():
                idx = np.flatnonzero(bad)
                out.add(o["pegs"], idx, col, pg[col].iloc[idx], f"empty, except on psm rows, and set with {other}")
    _liable_checks(t, o, out)


def _liable_checks(t: dict[str, pd.DataFrame], o: Mapping[str, Origin], out: _Collector) -> None:
    """``liable_entity`` of the ``pegs`` table: only on psm and fractional rows, one row per entity or several
    psm rows sharing one backing coin (one PSM's book: Sky's LitePSM holds one pile of USDC behind DAI and USDS,
    ``core.engine.peg_terms.compile_pegs``), and the entity holds the backing coin (its liabilities are valued at
    the backing's price: without the coin in its holdings, its assets would not move with them)."""
    pg = t["pegs"]
    if "liable_entity" not in pg.columns or "backing_asset" not in pg.columns:
        return
    who = pg["liable_entity"].fillna("").astype(str)
    set_ = (who != "").to_numpy()
    if not set_.any():
        return
    wrong = set_ & ~pg["mechanism"].isin(("psm", "fractional")).to_numpy()
    if wrong.any():
        idx = np.flatnonzero(wrong)
        out.add(o["pegs"], idx, "liable_entity", who.iloc[idx], "empty, except on psm and fractional rows")
    # several rows of one entity are one book only if they are all psm rows of one backing coin
    book = pd.DataFrame({"who": who, "psm": pg["mechanism"].eq("psm"), "backing": pg["backing_asset"].astype(str)})[set_]
    shared = book.groupby("who").agg(rows=("psm", "size"), all_psm=("psm", "all"), backings=("backing", "nunique"))
    bad = shared.index[(shared["rows"] > 1) & ~(shared["all_psm"] & (shared["backings"] == 1))]
    twice = set_ & who.duplicated(keep="first").to_numpy() & who.isin(bad).to_numpy()
    if twice.any():
        idx = np.flatnonzero(twice)
        out.add(o["pegs"], idx, "liable_entity", who.iloc[idx],
                "an entity named on one pegs row only, or on psm rows alone that share one backing_asset "
                "(one PSM's book)")
    h = t["holdings"]
    if {"entity", "asset", "amount"} <= set(h.columns):
        held = {pair for pair, amount in zip(zip(h["entity"].astype(str), h["asset"].astype(str)), h["amount"]) if amount > 0}
        lacks = set_ & ~wrong & np.array([(e, str(a)) not in held for e, a in zip(who, pg["backing_asset"])])
        if lacks.any():
            idx = np.flatnonzero(lacks)
            out.add(o["pegs"], idx, "liable_entity", who.iloc[idx],
                    "an entity holding the row's backing_asset (holdings) whose value its liabilities follow")


def _perps_checks(t: dict[str, pd.DataFrame], o: Mapping[str, Origin], etype: pd.Series, price: pd.Series,
                  out: _Collector) -> None:
    """Positions and venue rules: venues are perpetuals venues, accounts are not the venue, isolated
    margin is positive, leverage buckets are readable, a backstop_vault rule has a vault, and a
    position's notional and margin are within the USD bound."""
    pos, ven = t["positions"], t["venues"]
    for df, name, col in ((pos, "positions", "venue"), (ven, "venues", "venue")):
        if len(df) and col in df.columns and len(etype):
            v = df[col]
            wrong = (v.isin(etype.index) & (v.map(etype) != "perpetuals_venue")).to_numpy()
            if wrong.any():
                idx = np.flatnonzero(wrong)
                out.add(o[name], idx, col, v.iloc[idx], "an entity of type perpetuals_venue")
    if len(pos) and {"venue", "account"} <= set(pos.columns):
        same = ((pos["account"] == pos["venue"]) & (pos["account"] != "")).to_numpy()
        if same.any():
            idx = np.flatnonzero(same)
            out.add(o["positions"], idx, "account", pos["account"].iloc[idx], "an account other than the venue")
    if len(pos) and {"margin", "margin_mode"} <= set(pos.columns):
        empty = ((pos["margin_mode"] == "isolated") & (pos["margin"] <= 0)).to_numpy()
        if empty.any():
            idx = np.flatnonzero(empty)
            out.add(o["positions"], idx, "margin", pos["margin"].iloc[idx], "a positive margin for an isolated position")
    if len(pos) and "leverage_bucket" in pos.columns:
        label = pos["leverage_bucket"].astype(str)
        bounds = leverage_bucket_bounds(label)
        bad = ((label.str.strip() != "") & (bounds["low"].isna() | ~(bounds["low"] > 0) | (bounds["high"] < bounds["low"]))).to_numpy()
        if bad.any():
            idx = np.flatnonzero(bad)
            out.add(o["positions"], idx, "leverage_bucket", label.iloc[idx],
                    "a leverage bucket such as 10-20x, 50x or 50x+ (bounds > 0, the lower first)")
    if len(pos) and {"size", "entry_price", "margin", "margin_asset"} <= set(pos.columns):
        size, entry, margin = (pos[c].to_numpy(dtype=float) for c in ("size", "entry_price", "margin"))
        usd_margin = (pos["margin_asset"] == "").to_numpy()
        with np.errstate(invalid="ignore", over="ignore"):
            notional = size * entry
            margin_usd = np.where(usd_margin, margin, margin * pos["margin_asset"].map(price).to_numpy(dtype=float))
        big = ~(notional <= MAX_AMOUNT_USD) & ~np.isnan(notional)
        if big.any():
            idx = np.flatnonzero(big)
            out.add(o["positions"], idx, "size", [f"{size[i]:g} units at {entry[i]:g} USD = {notional[i]:,.4g} USD" for i in idx],
                    f"a notional (size x entry_price) of at most {MAX_AMOUNT_USD:g} USD")
        big = ~(margin_usd <= MAX_AMOUNT_USD) & ~np.isnan(margin_usd)
        if big.any():
            idx = np.flatnonzero(big)
            out.add(o["positions"], idx, "margin", [f"{margin[i]:g} units worth {margin_usd[i]:,.4g} USD" for i in idx],
                    f"a margin worth at most {MAX_AMOUNT_USD:g} USD")
    if len(ven) and {"adl_rule", "backstop_vault_usd", "backstop_vault_entity", "venue"} <= set(ven.columns):
        no_vault = ((ven["adl_rule"] == "backstop_vault") & (ven["backstop_vault_usd"] == 0)).to_numpy()  # bad numbers: reported already
        if no_vault.any():
            idx = np.flatnonzero(no_vault)
            out.add(o["venues"], idx, "backstop_vault_usd", ven["backstop_vault_usd"].iloc[idx],
                    "a vault of more than 0 USD for adl_rule backstop_vault")
        itself = ((ven["backstop_vault_entity"] == ven["venue"]) & (ven["venue"] != "")).to_numpy()
        if itself.any():
            idx = np.flatnonzero(itself)
            out.add(o["venues"], idx, "backstop_vault_entity", ven["backstop_vault_entity"].iloc[idx],
                    "an entity other than the venue (the vault's depositors bear its losses, not the venue)")


#: Columns of ``maker_ilks`` that describe the whole Maker system: the same on every row.
MAKER_SYSTEM_COLUMNS = ("auction", "system_hole_usd", "mkr_supply", "mkr_price_usd", "keeper_capacity_usd",
                        "surplus_hump_usd", "flap_bump_usd", "flap_lid_usd", "vow_wait_seconds")
#: System columns a file written before them may leave out (the loader fills their defaults).
MAKER_LATER_SYSTEM_COLUMNS = ("flap_hop_seconds", "debt_auctions")
#: Columns a Liquidations 2.0 (clip) ilk must fill.
MAKER_CLIP_COLUMNS = ("hole_usd", "buf", "tail_seconds", "cusp", "step_seconds", "cut", "chip", "tip_usd", "system_hole_usd")


def _maker_checks(t: dict[str, pd.DataFrame], o: Mapping[str, Origin], etype: pd.Series, out: _Collector) -> None:
    """Maker ilks: one cdp_protocol, system columns equal on every row, clip ilks with their auction parameters,
    and every ``maker`` cohort of the protocol in exactly one ilk (same collateral, liquidation_threshold = 1/mat)."""
    mk, coh = t["maker_ilks"], t["cohorts"]
    if not len(mk) or not {"protocol", "collateral_asset", "liquidation_ratio", *MAKER_SYSTEM_COLUMNS} <= set(mk.columns):
        return
    proto = mk["protocol"]
    if len(etype):
        wrong = (proto.isin(etype.index) & (proto.map(etype) != "cdp_protocol")).to_numpy()
        if wrong.any():
            idx = np.flatnonzero(wrong)
            out.add(o["maker_ilks"], idx, "protocol", proto.iloc[idx], "an entity of type cdp_protocol")
    other = (proto != proto.iloc[0]).to_numpy()
    if other.any():
        idx = np.flatnonzero(other)
        out.add(o["maker_ilks"], idx, "protocol", proto.iloc[idx], f"one Maker system per dataset ({proto.iloc[0]!r} on the first row)")
    for col in MAKER_SYSTEM_COLUMNS + tuple(c for c in MAKER_LATER_SYSTEM_COLUMNS if c in mk.columns):
        v = mk[col]
        first = v.iloc[0]
        differs = ~((v == first) | (v.isna() & pd.isna(first))).to_numpy()
        if differs.any():
            idx = np.flatnonzero(differs)
            out.add(o["maker_ilks"], idx, col, v.iloc[idx], f"the same {col} on every row of the system ({first!r} on the first row)")
    no_lot = (mk["surplus_hump_usd"].notna() & mk["flap_bump_usd"].isna()).to_numpy()
    if no_lot.any():
        idx = np.flatnonzero(no_lot)
        out.add(o["maker_ilks"], idx, "flap_bump_usd", mk["flap_bump_usd"].iloc[idx],
                "a surplus-auction lot (vow.sol bump) where surplus_hump_usd is set")
    clip = (mk["auction"] == "clip").to_numpy()
    for col in MAKER_CLIP_COLUMNS:
        if col in mk.columns:
            missing = clip & mk[col].isna().to_numpy()
            if missing.any():
                idx = np.flatnonzero(missing)
                out.add(o["maker_ilks"], idx, col, mk[col].iloc[idx], f"a value of {col} for a clip (Liquidations 2.0) ilk")
    if not len(coh) or not {"protocol", "collateral_asset", "liquidation_threshold", "style"} <= set(coh.columns):
        return
    mine = ((coh["protocol"] == proto.iloc[0]) & (coh["style"] == "maker")).to_numpy()
    if not mine.any():
        return
    lt = coh["liquidation_threshold"].to_numpy(dtype=float)[:, None]
    match = ((coh["collateral_asset"].to_numpy()[:, None] == mk["collateral_asset"].to_numpy()[None, :])
             & (np.abs(lt * mk["liquidation_ratio"].to_numpy(dtype=float)[None, :] - 1.0) < MAKER_ILK_TOLERANCE))
    count = match.sum(1)
    for bad, expected in ((mine & (count == 0), "an ilk in maker_ilks with this collateral and liquidation_ratio = 1/liquidation_threshold"),
                          (mine & (count > 1), "exactly one ilk in maker_ilks with this collateral and liquidation ratio (several match)")):
        if bad.any():
            idx = np.flatnonzero(bad)
            vals = [f"{coh['collateral_asset'].iloc[i]} at 1/{1 / lt[i, 0]:.4g}" for i in idx]
            out.add(o["cohorts"], idx, "liquidation_threshold", vals, expected)


#: How close ``liquidation_threshold * liquidation_ratio`` must be to 1 for a cohort to belong to an ilk.
MAKER_ILK_TOLERANCE = 1e-4


def _value_checks(t: dict[str, pd.DataFrame], o: Mapping[str, Origin], price: pd.Series, out: _Collector) -> None:
    """Positions worth at most MAX_AMOUNT_USD at reference prices (units and prices are bounded apart)."""
    for table, amount, asset in (("holdings", "amount", "asset"), ("cohorts", "collateral_amount", "collateral_asset"),
                                 ("cohorts", "debt_amount", "debt_asset"), ("exposures", "collateral_amount", "collateral_asset")):
        df = t[table]
        if not len(df) or not {amount, asset} <= set(df.columns):
            continue
        units = df[amount].to_numpy(dtype=float)
        with np.errstate(invalid="ignore", over="ignore"):
            usd = units * df[asset].map(price).to_numpy(dtype=float)
            # units above their own bound are reported by the column check already
            big = (units <= MAX_UNITS) & ~(usd <= MAX_AMOUNT_USD) & ~np.isnan(usd)
        if big.any():
            idx = np.flatnonzero(big)
            vals = [f"{a:g} units worth {v:,.4g} USD" for a, v in zip(df[amount].to_numpy()[idx], usd[idx])]
            out.add(o[table], idx, amount, vals,
                    f"a position worth at most {MAX_AMOUNT_USD:g} USD at the reference price of {asset}")
