"""The Price shocks and Pegs panels: one price slider per unpegged asset, one depeg slider per pegged asset.

Units are the analyst's: percent. The majors come first, then assets by market capitalisation;
past :data:`SHOWN_PRICES` the rest fold under "more assets". The Pegs section opens when the
scenario sets a depeg, so what it does is in view.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from dash import html

from core.network import Network
from core.scenario import Scenario

from . import ids
from .control_widgets import field, section, section_counts, slider
from .price_hints import price_hint

#: Assets given a price slider first, when present.
MAJOR_ASSETS = ("ETH", "BTC", "LUNA", "FTT")
#: Price sliders shown before "more assets".
SHOWN_PRICES = 6
PRICE_MIN, PRICE_MAX = -100, 50      # percent
DEPEG_MAX = 99                        # percent (a depeg of 100% is not a price)


def price_assets(network: Network) -> list[str]:
    """Unpegged assets: the majors first, then by market capitalisation."""
    a = network.assets
    free = a[a["peg_target"].isna()]
    cap = (free["price_usd"] * free["supply"]).to_numpy()
    by_cap = [s for _, s in sorted(zip(-cap, free["symbol"]), key=lambda t: (t[0], t[1]))]
    majors = [s for s in MAJOR_ASSETS if s in set(free["symbol"])]
    return majors + [s for s in by_cap if s not in majors]


def peg_assets(network: Network) -> list[str]:
    """Pegged assets (stablecoins, liquid-staking tokens), by market capitalisation."""
    a = network.assets
    pegged = a[a["peg_target"].notna()]
    order = np.lexsort((pegged["symbol"].to_numpy(), -(pegged["price_usd"] * pegged["supply"]).to_numpy()))
    return [str(s) for s in pegged["symbol"].to_numpy()[order]]


def shock_sliders(network: Network, scenario: Scenario | None = None) -> list[Any]:
    """Price sliders (one per unpegged asset) and depeg sliders (one per pegged asset)."""
    sc = scenario or Scenario()
    names = dict(zip(network.assets["symbol"], network.assets["name"]))
    prices = [
        field(f"{s} price", slider({"type": ids.PRICE, "asset": s}, PRICE_MIN, PRICE_MAX, 1, round(100 * sc.price_shocks.get(s, 0.0)),
                                     {-100: "−100%", -50: "−50%", 0: "0", 50: "+50%"}),
               wrap_id=f"wrap-price-{s}", note=price_hint(sc, s, names.get(s, "")))
        for s in price_assets(network)
    ]
    pegs = [
        field(f"{s} depeg", slider({"type": ids.DEPEG, "asset": s}, 0, DEPEG_MAX, 1,
                                     round(100 * sc.depegs.get(s, 0.0)), {0: "0", 50: "50%", 99: "99%"}),
               wrap_id=f"wrap-depeg-{s}", hint=f"{names.get(s, '')}: fall below peg")
        for s in peg_assets(network)
    ]
    more_p = [html.Details([html.Summary(f"{len(prices) - SHOWN_PRICES} more assets"), *prices[SHOWN_PRICES:]])] if len(prices) > SHOWN_PRICES else []
    counts = section_counts(sc)
    out: list[Any] = [section("Price shocks", [*prices[:SHOWN_PRICES], *more_p], True, "section-prices", counts["section-prices"])]
    more_d = [html.Details([html.Summary(f"{len(pegs) - SHOWN_PRICES} more pegged assets"), *pegs[SHOWN_PRICES:]])] if len(pegs) > SHOWN_PRICES else []
    # open when the scenario sets a depeg, so that what it does is in view (always there: the run writes its count)
    out.append(section("Pegs", [*pegs[:SHOWN_PRICES], *more_d] or [html.P("No pegged asset in this network.", className="muted")],
                       bool(sc.depegs), "section-pegs", counts["section-pegs"]))
    return out
