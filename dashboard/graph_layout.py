"""Where the graph puts its nodes, and how large its text is: sectors in fixed regions, the frame the page fits.

**Sectors.** Entities are grouped by type into five sectors, each in a fixed,
labelled region of two bands (top: stablecoins and reserves, DeFi lenders and
pools, exchanges and venues; bottom: depositors, CeFi lenders and funds, other).
Inside a region they sit on a grid of cells shaped like a label (:data:`PITCH`,
wider than tall), largest balance sheet nearest the grid's centre; every sector of a band has the band's rows, and
the two bands' rows are those whose frame fits the graph's box at the largest zoom (:func:`_bands`). So the layout is
deterministic, free of node overlaps and O(n) for any network, and it fills the box: the sunflower spirals it
replaces (``r_k = c · sqrt(k + 1.5)``, one circle per cell of a 3 × 2 grid) filled 38 % of the frame (35 % on the
2025 network) and put a node's nearest neighbour a median 28.5 px away at 1366 × 768, in every direction: less than a
two-line label is tall and far less than a label is wide, so that a label could sit nearer another entity's node than
its own (Lido stETH over Aave on Avalanche/Polygon, docs/invariants.md,
Session 39 (page)). On the grid a node's neighbours are 68.9 px across and 33.4 px down (2022 network; 53.1 and
25.7 px on the 2025 one), so a label fits beside its node.

**Text.** Text is sized in model units so that it reads at ``LABEL_PX`` pixels
when the graph's frame is fitted into its box at 1366 × 768 (larger at 1920 × 1080); at
any zoom the labels keep the same positions relative to the nodes, so a set of
labels that does not overlap in model units overlaps at no window size. Every label lies inside the frame the page
fits (the nodes' and titles' extent, widened to the box's shape), so the page's zoom, and the labels' size on screen,
are known in advance (:func:`_frame_and_font`). Widths are estimated per character (:func:`label_width`, a
conservative upper bound of the sans-serif the browser draws with), so the boxes the browser draws are no larger
than the ones measured here. Which labels show, and where, is :mod:`dashboard.graph_labels`.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from core.network import Network

#: Sector -> (title, entity types); the order is the bands' (the first COLUMNS in the top band, left to right).
SECTORS: dict[str, tuple[str, tuple[str, ...]]] = {
    "stablecoins": ("Stablecoins and reserves", ("stablecoin_issuer", "reserve")),
    "defi": ("DeFi lenders and pools", ("lending_protocol", "cdp_protocol", "amm_pool", "liquid_staking", "bridge")),
    "venues": ("Exchanges and venues", ("centralised_exchange", "perpetuals_venue")),
    "depositors": ("Depositors", ("depositor_aggregate",)),
    "cefi": ("CeFi lenders and funds", ("cefi_lender", "fund")),
    "other": ("Other", ()),
}
COLUMNS = 3
#: Cell of a sector's grid (model units, across and down), the columns between two sectors, the room for a band's title.
#: The cell's shape is what matters (the font follows the frame): 165 × 80 was chosen by the labels placed on the shipped
#: presets and on an 80-entity synthetic network, with the font kept near the spirals' (2022 network 25.6 -> 25.2 model
#: units, 2025 31.2 -> 32.7, so the nodes keep their size on screen); 150 × 94 placed fewer on 2022 and the synthetic.
PITCH = (165.0, 80.0)
GAP = 0.5
TITLE_ROOM = 80.0
#: The graph's box at 1366 × 768 (px, measured on the 2025 snapshot: the middle column less the bars), and the fit padding.
BOX_1366 = (592.0, 446.0)
PADDING = 24.0
#: Label size on screen (px) when the page fits the graph's frame into its box at 1366 × 768 (larger at 1920 × 1080):
#: the frame holds every label, so the zoom there is known (:func:`_frame_and_font`).
LABEL_PX = 10.5
#: Room for labels round the nodes' and titles' extent, in label font sizes (the frame the page fits takes it in).
#: Chosen by the labels it lets through on the shipped presets (fewest of any preset: 24 with no room, 26 with 1,
#: 25 with 2, 24 with 3, 22 with 5, on the 2022 network).
FRAME_MARGIN = 1.0
#: Sector titles are this much larger than the labels.
TITLE_SCALE = 1.25
#: Label lines are this many characters where a name fits two of them, else up to LINE_CHARS (two lines at most).
WRAP_CHARS = 20
LINE_CHARS = 28




def sector_of(types: pd.Series) -> np.ndarray:
    """Sector key per entity type ("other" for a type no sector lists)."""
    lookup = {t: k for k, (_, ts) in SECTORS.items() for t in ts}
    return types.map(lambda t: lookup.get(t, "other")).to_numpy()


def node_sizes(network: Network) -> np.ndarray:
    """Node diameter (model units): 14 to 60 by the square root of total assets."""
    ta = network.balance_sheet()["total_assets_usd"].to_numpy()
    return 14.0 + 46.0 * np.sqrt(np.clip(ta, 0, None) / max(float(ta.max()) if len(ta) else 1.0, 1.0))


@functools.lru_cache(maxsize=16)
def layout(network: Network) -> dict:
    """Positions (DataFrame x, y by entity id), the sector of each entity, the sector titles' boxes and the font size."""
    ta = network.balance_sheet()["total_assets_usd"].to_numpy()
    ent = network.entities
    sector = sector_of(ent["type"])
    order = np.lexsort((ent["id"].to_numpy(), -ta))  # largest first, ties by id
    size = node_sizes(network)
    font = 0.18 * PITCH[0]  # the font the cells are drawn for; the frame then sets it (three steps settle both)
    for _ in range(3):
        xy, titles = _lattice(sector, order, font)
        font, frame, title_boxes = _frame_and_font(xy, size, titles)
    pos = pd.DataFrame({"x": np.round(xy[:, 0], 1), "y": np.round(xy[:, 1], 1)}, index=network.entity_ids)
    names = [short_name(x) for x in ent["name"].astype(str)]
    dims = np.asarray([label_size(t, font) for t in names]).reshape(-1, 2)
    return {"positions": pos, "sector": sector, "titles": titles, "title_boxes": title_boxes, "font": font,
            "title_font": round(TITLE_SCALE * font, 2), "size": size, "short": names, "label_wh": dims, "assets": ta,
            "frame": frame}


def _bands(counts: dict[str, int], least: dict[str, float]) -> tuple[dict[str, tuple[int, int]], tuple[int, int]]:
    """Columns and rows of each sector's grid, and the rows of the two bands (top: the first COLUMNS sectors).

    Every sector of a band has that band's rows (its columns: its members over them, rounded up); a sector is as wide
    as its columns or its title (``least``, in cells), whichever is wider. The two bands' rows are the pair, of all
    pairs up to the largest sector's size, whose frame, cells of :data:`PITCH` with a title over each band, fits the
    graph's box at the largest zoom (the box's shape, :data:`BOX_1366`)."""
    keys = [k for k in SECTORS if counts.get(k, 0)]
    top = [k for k in keys if list(SECTORS).index(k) < COLUMNS]
    bottom = [k for k in keys if k not in top]
    aspect = (BOX_1366[0] - 2 * PADDING) / (BOX_1366[1] - 2 * PADDING)
    most = max(counts.values(), default=1)
    best, best_rows = np.inf, (1, 1)
    for rt in range(1, most + 1):
        for rb in range(1, most + 1):
            w = max(sum(max(-(-counts[k] // rt), least[k] + 1) for k in top) + GAP * max(len(top) - 1, 0),
                    sum(max(-(-counts[k] // rb), least[k] + 1) for k in bottom) + GAP * max(len(bottom) - 1, 0)) * PITCH[0]
            h = ((rt if top else 0) + (rb if bottom else 0)) * PITCH[1] + (bool(top) + bool(bottom)) * TITLE_ROOM
            extent = max(w, aspect * h)  # the frame's width once widened to the box's shape
            if extent < best - 1e-9:
                best, best_rows = extent, (rt, rb)
    grid = {k: (-(-counts[k] // best_rows[0 if k in top else 1]), best_rows[0 if k in top else 1]) for k in keys}
    return grid, best_rows


def _lattice(sector: np.ndarray, order: np.ndarray, font: float) -> tuple[np.ndarray, dict[str, tuple[float, float]]]:
    """Positions (n, 2) on each sector's grid of cells :data:`PITCH` apart, largest entity nearest the grid's
    centre (``order``: entities largest first), and each sector title's centre over its grid (the titles at ``font``
    never overlap: a sector is at least as wide as its title)."""
    counts = {k: int((sector == k).sum()) for k in SECTORS}
    # a title may reach over the gap to the next sector: its columns' span (centre to centre) is its width less a
    # cell and the gap
    least = {k: (label_width(SECTORS[k][0], TITLE_SCALE * font) + 0.4 * font) / PITCH[0] - 1 - GAP for k in SECTORS}
    grid, (rt, rb) = _bands(counts, least)
    xy = np.zeros((len(sector), 2))
    titles: dict[str, tuple[float, float]] = {}
    band_x = [0.0, 0.0]
    for key, (cols, rows) in grid.items():
        band = 0 if list(SECTORS).index(key) < COLUMNS else 1
        x0 = band_x[band]
        y0 = 0.0 if band == 0 else rt * PITCH[1] + TITLE_ROOM
        members = order[sector[order] == key]  # largest first
        c, r = np.meshgrid(np.arange(cols), np.arange(rows))
        cx, cy = (cols - 1) / 2, (rows - 1) / 2
        far = np.hypot((c.ravel() - cx) * PITCH[0], (r.ravel() - cy) * PITCH[1])
        cells = np.lexsort((c.ravel(), r.ravel(), far))[: len(members)]  # nearest the centre first, then row, column
        xy[members, 0] = x0 + c.ravel()[cells] * PITCH[0]
        xy[members, 1] = y0 + r.ravel()[cells] * PITCH[1]
        wide = max(cols - 1, least[key])  # the sector's width less a cell (from its first column's centre to its last's)
        shift = (wide - (cols - 1)) / 2 * PITCH[0]  # a grid narrower than its title sits under the title's middle
        xy[members, 0] += shift
        titles[key] = (x0 + shift + cx * PITCH[0], y0 - 0.4 * (PITCH[1] + TITLE_ROOM))  # nearer its own grid than the band above
        band_x[band] = x0 + (wide + 1 + GAP) * PITCH[0]
    # the two bands centred on one another
    for band in (0, 1):
        keys = [k for k in grid if (list(SECTORS).index(k) < COLUMNS) == (band == 0)]
        if not keys:
            continue
        shift = (max(band_x) - band_x[band]) / 2
        mask = np.isin(sector, keys)
        xy[mask, 0] += shift
        for k in keys:
            titles[k] = (titles[k][0] + shift, titles[k][1])
    return xy, titles


def _frame_and_font(xy: np.ndarray, size: np.ndarray, titles: dict[str, tuple[float, float]]
                    ) -> tuple[float, tuple[float, float, float, float], dict[str, tuple[float, float, float, float]]]:
    """The frame the page fits into its box, the label font (model units) and the sector titles' boxes.

    The frame is the extent of the nodes and the sector titles, :data:`FRAME_MARGIN` font sizes wider on each side
    for the labels of the outer nodes, widened to the shape of the graph's box at
    1366 × 768 (:data:`BOX_1366` less :data:`PADDING`); labels are placed inside it (:func:`dashboard.graph_labels.place_labels`), and
    two corner marks (:func:`frame_marks`) make the page's fit take in exactly the frame. So the zoom at that
    window size is known here, ``zoom = (BOX_1366 - 2 · PADDING) / frame``, and the font that draws ``LABEL_PX``
    pixels there is ``LABEL_PX / zoom``. The titles' boxes grow with the font and the frame with them: a few
    fixed-point steps settle both (the titles are a small part of the extent).
    """
    avail_w, avail_h = BOX_1366[0] - 2 * PADDING, BOX_1366[1] - 2 * PADDING
    font, boxes, frame = LABEL_PX, {}, (0.0, 0.0, 1.0, 1.0)
    for _ in range(6):
        boxes = {k: centred_box(x, y, label_width(SECTORS[k][0], TITLE_SCALE * font), 1.3 * TITLE_SCALE * font) for k, (x, y) in titles.items()}
        tb = np.asarray(list(boxes.values()), dtype=float).reshape(-1, 4)
        x0 = min(float((xy[:, 0] - size / 2).min()) if len(xy) else 0.0, float(tb[:, 0].min()) if len(tb) else np.inf)
        x1 = max(float((xy[:, 0] + size / 2).max()) if len(xy) else 1.0, float(tb[:, 2].max()) if len(tb) else -np.inf)
        y0 = min(float((xy[:, 1] - size / 2).min()) if len(xy) else 0.0, float(tb[:, 1].min()) if len(tb) else np.inf)
        y1 = max(float((xy[:, 1] + size / 2).max()) if len(xy) else 1.0, float(tb[:, 3].max()) if len(tb) else -np.inf)
        x0, y0, x1, y1 = x0 - FRAME_MARGIN * font, y0 - FRAME_MARGIN * font, x1 + FRAME_MARGIN * font, y1 + FRAME_MARGIN * font
        w, h = max(x1 - x0, 1.0), max(y1 - y0, 1.0)
        zoom = min(avail_w / w, avail_h / h)
        fw, fh = avail_w / zoom, avail_h / zoom  # the extent widened to the box's shape
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        frame = (round(cx - fw / 2, 1), round(cy - fh / 2, 1), round(cx + fw / 2, 1), round(cy + fh / 2, 1))
        font = round(LABEL_PX / zoom, 2)
    return font, frame, boxes


def frame_marks(network: Network) -> list[tuple[float, float]]:
    """The frame's top-left and bottom-right corners: where the page puts the two invisible marks its fit takes in."""
    x0, y0, x1, y1 = layout(network)["frame"]
    return [(x0, y0), (x1, y1)]


# -- text -----------------------------------------------------------------------------

_NARROW = set("iljtf.,;:'!|() ")
_WIDE = set("MWmw@%")


def label_width(text: str, font: float) -> float:
    """An upper bound of the width of one line of ``text`` in a sans-serif at ``font`` (model units)."""
    return font * sum(0.34 if ch in _NARROW else 0.95 if ch in _WIDE else 0.74 if ch.isupper() else 0.62 for ch in text)


def _wrap(words: list[str], width: int) -> list[str]:
    lines, line = [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return lines + [line]


def short_name(name: str) -> str:
    r"""The name without its parenthesis, whole, on at most two lines (the whole name is also in the hover box).

    Lines are :data:`WRAP_CHARS` characters where that fits the name in two lines, else as wide as needed up to
    :data:`LINE_CHARS`; a name longer than that loses its last words (never part of a word) to "…".

    >>> short_name("Stablecoin holders outside the modelled entities")
    'Stablecoin holders outside\nthe modelled entities'
    >>> short_name("Hyperliquidity Provider vault (market maker, liquidator, backstop)")
    'Hyperliquidity\nProvider vault'
    """
    base = name.split(" (")[0].strip() or name
    words = [w if len(w) <= LINE_CHARS else w[: LINE_CHARS - 1] + "…" for w in base.split()] or [base]
    for width in range(WRAP_CHARS, LINE_CHARS + 1):
        lines = _wrap(words, width)
        if len(lines) <= 2:
            return "\n".join(lines)
    lines = _wrap(words, LINE_CHARS)[:2]
    last = lines[1].split()
    while last and len(" ".join(last)) + 1 > LINE_CHARS:
        last.pop()
    lines[1] = " ".join(last) + "…"
    return "\n".join(lines)


def centred_box(cx: float, cy: float, w: float, h: float) -> tuple[float, float, float, float]:
    return (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)


def label_size(text: str, font: float) -> tuple[float, float]:
    """Width and height (model units) of a label's box: its widest line, its lines, the white outline."""
    lines = text.split("\n")
    return max(label_width(s, font) for s in lines) + 0.4 * font, 1.25 * font * len(lines) + 0.4 * font
