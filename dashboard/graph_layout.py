"""Where the graph puts its nodes and which labels it shows: sectors in fixed regions, labels that never overlap.

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

**Labels.** Text is sized in model units so that it reads at ``LABEL_PX`` pixels
when the graph's frame is fitted into its box at 1366 × 768 (larger at 1920 × 1080); at
any zoom the labels keep the same positions relative to the nodes, so a set of
labels that does not overlap in model units overlaps at no window size.
:func:`place_labels` is a greedy collision-aware placement (the classic
point-feature labelling heuristic: Christensen, Marks & Shieber, "An empirical
study of algorithms for point-feature label placement", ACM ToG 14(3), 1995):
nodes in priority order (affected by the run first, then by total assets) try
eight positions (below, above, right, left, then the corners); a label is kept at the first
position whose box keeps :data:`NODE_CLEARANCE` font sizes from every other node and :data:`LABEL_CLEARANCE` from
every kept label and sector title, so that it reads as its own node's; then, for the nodes still unnamed, at the first
position that meets no kept label or title and keeps :data:`ROOM_AFTER` from every other node; else the node is left
to the hover box. Every label lies inside the frame the page fits (the nodes' and titles'
extent, widened to the box's shape), so the page's zoom, and the labels' size on screen, are known in advance
(:func:`_frame_and_font`). An entity that defaults or is liquidated, when none of the eight positions clears the
other nodes, is named further out (:func:`place_labels_far`): its label goes to the nearest spot clear of every node,
label and title (a leader line joins it to its node: the cartographer's callout), and only where no spot within
:data:`FAR_REACH` is clear, over a neighbour's node (never over a label), preferably a neighbour that is not itself
failing or liquidated (whose own label needs the room round its node). Widths are estimated per character (a
conservative upper bound of the sans-serif the browser draws with), so the
boxes the browser draws are no larger than the ones placed here.
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
#: Room a label keeps from every other entity's node and from every other label (label font sizes), where it can:
#: 0.8 is the distance at which a label reads as its own node's (the Lido case's test, Session 39 (page)), 0.3 the
#: room between two labels that keeps them apart at 10.5 px.
NODE_CLEARANCE = 0.8
LABEL_CLEARANCE = 0.3
#: Room a label placed without the clearances keeps from other nodes (font sizes): labels placed on the shipped presets
#: (Python boxes, sorted by preset key) 15/34/35/43/34/43/34/34 with 0, 15/32/34/40/32/39/32/32 with 0.2 (main's
#: spirals: 14/27/27/33/27/30/27/27), 15/32/34/39/32/37/32/32 with 0.3.
ROOM_AFTER = 0.2
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
#: Labels tried per run at most (the rest are on hover): bounds the placement's cost on big networks.
MAX_CANDIDATES = 200
#: Label positions tried in order: below, above, right, left, then the four diagonals (below-right ...).
POSITIONS = ("b", "t", "r", "l", "R", "L", "T", "U")
#: Position code of a label drawn away from its node (centred on the node shifted by an offset, with a leader line).
FAR = "c"
#: How far a label may go from its node (label font sizes, box to node centre), and the grid its spot is sought on.
FAR_REACH = 14.0
FAR_STEP = 0.5
#: Diagonal codes -> (horizontal side, vertical side).
DIAGONALS = {"R": (1, 1), "L": (-1, 1), "T": (1, -1), "U": (-1, -1)}


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
    1366 × 768 (:data:`BOX_1366` less :data:`PADDING`); labels are placed inside it (:func:`place_labels`), and
    two corner marks (:func:`frame_marks`) make the page's fit take in exactly the frame. So the zoom at that
    window size is known here, ``zoom = (BOX_1366 - 2 · PADDING) / frame``, and the font that draws ``LABEL_PX``
    pixels there is ``LABEL_PX / zoom``. The titles' boxes grow with the font and the frame with them: a few
    fixed-point steps settle both (the titles are a small part of the extent).
    """
    avail_w, avail_h = BOX_1366[0] - 2 * PADDING, BOX_1366[1] - 2 * PADDING
    font, boxes, frame = LABEL_PX, {}, (0.0, 0.0, 1.0, 1.0)
    for _ in range(6):
        boxes = {k: _box(x, y, label_width(SECTORS[k][0], TITLE_SCALE * font), 1.3 * TITLE_SCALE * font) for k, (x, y) in titles.items()}
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


# -- labels ---------------------------------------------------------------------------

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


def _box(cx: float, cy: float, w: float, h: float) -> tuple[float, float, float, float]:
    return (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)


def label_size(text: str, font: float) -> tuple[float, float]:
    """Width and height (model units) of a label's box: its widest line, its lines, the white outline."""
    lines = text.split("\n")
    return max(label_width(s, font) for s in lines) + 0.4 * font, 1.25 * font * len(lines) + 0.4 * font


def label_box(x: float, y: float, size: float, text: str, font: float, where: str,
              offset: tuple[float, float] = (0.0, 0.0)) -> tuple[float, float, float, float]:
    """The box of a label at position ``where`` (see ``POSITIONS``; :data:`FAR`: centred at the node plus ``offset``)
    of a node at (x, y) of diameter ``size``."""
    if where == FAR:
        return _box(x + offset[0], y + offset[1], *label_size(text, font))
    return _placed(x, y, size, *label_size(text, font), where)


def _placed(x: float, y: float, size: float, w: float, h: float, where: str) -> tuple[float, float, float, float]:
    gap = -3.0  # Cytoscape's label box starts at the node's edge, its outline and margin reaching back over it (measured)
    if where == "b":
        return _box(x, y + size / 2 + gap + h / 2, w, h)
    if where == "t":
        return _box(x, y - size / 2 - gap - h / 2, w, h)
    if where == "r":
        return _box(x + size / 2 + gap + w / 2, y, w, h)
    if where == "l":
        return _box(x - size / 2 - gap - w / 2, y, w, h)
    sx, sy = DIAGONALS[where]  # a corner: beside the node and past its top or bottom edge
    return _box(x + sx * (size / 2 + gap + w / 2), y + sy * (size / 2 + gap + h / 2), w, h)


def place_labels(network: Network, affected: np.ndarray | None = None, selected: int | None = None) -> tuple[list[str], str]:
    """Label text ("" = on hover only) and position code per entity, affected entities first (see the module docstring)."""
    text, where, _ = place_labels_far(network, affected, selected)
    return text, where


def _far_spot(x: float, y: float, w: float, h: float, font: float, blocks: np.ndarray,
              frame: tuple[float, float, float, float]) -> np.ndarray | None:
    """The box (x0, y0, x1, y1) of size w × h nearest the point (x, y) inside ``frame`` and meeting none of the boxes
    ``blocks`` (B, 4), its centre on a grid of FAR_STEP font sizes within FAR_REACH font sizes of the point; None if none is."""
    g = np.arange(-FAR_REACH, FAR_REACH + FAR_STEP / 2, FAR_STEP) * font
    cx, cy = (a.ravel() for a in np.meshgrid(x + g, y + g))
    cand = np.column_stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])
    gap = np.hypot(np.maximum(np.maximum(cand[:, 0] - x, x - cand[:, 2]), 0), np.maximum(np.maximum(cand[:, 1] - y, y - cand[:, 3]), 0))
    met = ((blocks[None, :, 0] < cand[:, None, 2]) & (cand[:, None, 0] < blocks[None, :, 2])
           & (blocks[None, :, 1] < cand[:, None, 3]) & (cand[:, None, 1] < blocks[None, :, 3])).any(axis=1)
    outside = (cand[:, 0] < frame[0]) | (cand[:, 1] < frame[1]) | (cand[:, 2] > frame[2]) | (cand[:, 3] > frame[3])
    ok = ~met & ~outside & (gap <= FAR_REACH * font)
    if not ok.any():
        return None
    k = np.flatnonzero(ok)[np.argmin(gap[ok])]  # nearest; ties to the first on the grid (deterministic)
    return cand[k]


def place_labels_far(network: Network, affected: np.ndarray | None = None, selected: int | None = None
                     ) -> tuple[list[str], str, np.ndarray]:
    """:func:`place_labels` with, per entity, the offset (model units, (n, 2)) of a label drawn away from its node
    (position :data:`FAR`: the label's centre less the node's; zero elsewhere)."""
    lay = layout(network)
    pos, size = lay["positions"], lay["size"]
    n = len(pos)
    x, y = pos["x"].to_numpy(), pos["y"].to_numpy()
    ta = lay["assets"]
    aff = np.zeros(n, dtype=np.int8) if affected is None else np.asarray(affected, dtype=np.int8)
    first = np.zeros(n, dtype=np.int8)
    if selected is not None and 0 <= selected < n:
        first[selected] = 1
    order = np.lexsort((network.entity_ids, -ta, -aff, -first))[:MAX_CANDIDATES]
    bodies = np.column_stack([x - size / 2, y - size / 2, x + size / 2, y + size / 2])
    # a label keeps NODE_CLEARANCE from every other node, so that it reads as its own node's, and LABEL_CLEARANCE
    # from every other label; an urgent label that cannot keep them anywhere keeps clear of the nodes themselves
    room, label_room = NODE_CLEARANCE * lay["font"], LABEL_CLEARANCE * lay["font"]
    roomy = bodies + np.array([-room, -room, room, room])
    titles = list(lay["title_boxes"].values())
    kept = np.zeros((len(titles) + len(order), 4))  # the boxes taken so far: sector titles, then placed labels
    kept[: len(titles)] = titles
    n_kept = len(titles)
    names, wh = lay["short"], lay["label_wh"]
    text, where = [""] * n, ["b"] * n
    offset = np.zeros((n, 2))
    urgent = (aff >= 2) | (first > 0)

    def hits(cand: np.ndarray, boxes: np.ndarray, pad: float = 0.0) -> np.ndarray:  # (P, 4) x (B, 4) -> (P, B) overlap
        cand = cand + np.array([-pad, -pad, pad, pad])
        return ((boxes[None, :, 0] < cand[:, None, 2]) & (cand[:, None, 0] < boxes[None, :, 2])
                & (boxes[None, :, 1] < cand[:, None, 3]) & (cand[:, None, 1] < boxes[None, :, 3]))

    fx0, fy0, fx1, fy1 = lay["frame"]
    sector = lay["sector"]
    # first every label that keeps its room (NODE_CLEARANCE, LABEL_CLEARANCE); then, where some is left, the others
    # without it (clear of the nodes and labels themselves), as every label was placed before the room
    passes = [(i, True) for i in order] + [(i, False) for i in order if not urgent[i]]
    for i, roomy_pass in passes:  # inside the frame, clear of every label; of every other node too, unless the entity failed or is being liquidated
        if text[i]:
            continue
        t = names[i]
        cand = np.asarray([_placed(x[i], y[i], size[i], wh[i, 0], wh[i, 1], p) for p in POSITIONS])
        inside = (cand[:, 0] >= fx0) & (cand[:, 1] >= fy0) & (cand[:, 2] <= fx1) & (cand[:, 3] <= fy1)
        free_roomy = ~hits(cand, kept[:n_kept], label_room).any(axis=1) & inside
        free = ~hits(cand, kept[:n_kept]).any(axis=1) & inside
        body = hits(cand, bodies)
        body[:, i] = False
        near = hits(cand, roomy)
        near[:, i] = False
        clear = free_roomy & ~near.any(axis=1)
        snug = hits(cand, bodies, ROOM_AFTER * lay["font"])
        snug[:, i] = False
        bare = free & ~snug.any(axis=1)  # clear of the nodes (by ROOM_AFTER) and labels, without the room
        # an urgent label that must lie over a neighbour's node prefers a neighbour that is not urgent itself:
        # covering an urgent node would take every position its own label could have
        spare = free & ~body[:, urgent].any(axis=1)
        if urgent[i] and not clear.any():  # no position near the node is clear: the nearest clear spot further out
            # within the node's own sector if it can (the extent of its nodes, 1.5 label heights round it), else the
            # frame; with the room round nodes and labels first, then (if no position near the node is bare) without
            home = bodies[sector == sector[i]]
            pad = lay["font"] * 1.5
            region = (max(fx0, home[:, 0].min() - pad), max(fy0, home[:, 1].min() - pad), min(fx1, home[:, 2].max() + pad), min(fy1, home[:, 3].max() + pad))
            spot = None
            grown = kept[:n_kept] + np.array([-label_room, -label_room, label_room, label_room])
            for blocks in ([np.vstack([grown, roomy])] + ([] if bare.any() else [np.vstack([kept[:n_kept], bodies])])):
                spot = _far_spot(x[i], y[i], wh[i, 0], wh[i, 1], lay["font"], blocks, region)
                if spot is None:
                    spot = _far_spot(x[i], y[i], wh[i, 0], wh[i, 1], lay["font"], blocks, lay["frame"])
                if spot is not None:
                    break
            if spot is not None:
                kept[n_kept] = spot
                n_kept += 1
                text[i], where[i] = t, FAR
                offset[i] = ((spot[0] + spot[2]) / 2 - x[i], (spot[1] + spot[3]) / 2 - y[i])
                continue
        ok = (clear if roomy_pass else bare) if clear.any() or not urgent[i] else bare if bare.any() else spare if spare.any() else free
        if ok.any():
            k = int(np.argmax(ok))
            kept[n_kept] = cand[k]
            n_kept += 1
            text[i], where[i] = t, POSITIONS[k]
    return text, "".join(where), offset


def overlaps(boxes: list[tuple[float, float, float, float]]) -> int:
    """Pairs of boxes that overlap (for tests and the benchmark)."""
    b = np.asarray(boxes, dtype=float).reshape(-1, 4)
    if len(b) < 2:
        return 0
    hit = (b[:, None, 0] < b[None, :, 2]) & (b[None, :, 0] < b[:, None, 2]) & (b[:, None, 1] < b[None, :, 3]) & (b[None, :, 1] < b[:, None, 3])
    return int(np.triu(hit, 1).sum())
