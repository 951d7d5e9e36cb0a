"""Which labels the graph shows and where: beside their nodes, never over one another, a failing entity's further out.

Labels are placed in model units on the layout of :mod:`dashboard.graph_layout` (positions, node sizes, the label
font, the sector titles' boxes and the frame the page fits), so a set that does not overlap there overlaps at no
window size. :func:`place_labels` is a greedy collision-aware placement (the classic
point-feature labelling heuristic: Christensen, Marks & Shieber, "An empirical
study of algorithms for point-feature label placement", ACM ToG 14(3), 1995):
nodes in priority order (affected by the run first, then by total assets) try
eight positions (below, above, right, left, then the corners); a label is kept at the first
position whose box keeps :data:`NODE_CLEARANCE` font sizes from every other node and :data:`LABEL_CLEARANCE` from
every kept label and sector title, so that it reads as its own node's; then, for the nodes still unnamed, at the first
position that meets no kept label or title and keeps :data:`ROOM_AFTER` from every other node; else the node is left
to the hover box. Every label lies inside the frame the page fits. An entity that defaults or is liquidated, when
none of the eight positions clears the other nodes, is named further out (:func:`place_labels_far`): its label goes
to the nearest spot clear of every node, label and title (a leader line joins it to its node: the cartographer's
callout), its leader line crossing no other node, label or title, and no label is placed over a leader line
(:func:`segments_meet`); only where no spot within :data:`FAR_REACH` is clear, over a neighbour's node (never over a
label), preferably a neighbour that is not itself failing or liquidated (whose own label needs the room round its node).

A selected entity's contagion path through things that are not entities (the shock, assets) is drawn with a tag per
such hop (:func:`place_tags`), placed the same way against the run's labels: the tags are the path's callouts, and
its edges their leader lines.
"""

from __future__ import annotations

import numpy as np

from core.network import Network

from .graph_layout import centred_box, label_size, layout

#: Room a label keeps from every other entity's node and from every other label (label font sizes), where it can:
#: 0.8 is the distance at which a label reads as its own node's (the Lido case's test, Session 39 (page)), 0.3 the
#: room between two labels that keeps them apart at 10.5 px.
NODE_CLEARANCE = 0.8
LABEL_CLEARANCE = 0.3
#: Room a label placed without the clearances keeps from other nodes (font sizes): labels placed on the shipped presets
#: (Python boxes, sorted by preset key) 15/34/35/43/34/43/34/34 with 0, 15/32/34/40/32/39/32/32 with 0.2 (main's
#: spirals: 14/27/27/33/27/30/27/27), 15/32/34/39/32/37/32/32 with 0.3 (session 40). With 0.2 and the leader lines kept
#: clear of nodes, labels and titles (session 41): 15/33/34/39/32/39/32/32 (Black Thursday ETH +dYdX perpetuals, Celsius
#: named above its node; October 2025 −Aster, −Binance Futures, −Coinbase cbETH, +Aave Umbrella, +dYdX v4; the
#: June and Terra presets −Equities First Holdings, +dYdX perpetuals, Voyager Digital named further out).
ROOM_AFTER = 0.2
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


def label_box(x: float, y: float, size: float, text: str, font: float, where: str,
              offset: tuple[float, float] = (0.0, 0.0)) -> tuple[float, float, float, float]:
    """The box of a label at position ``where`` (see ``POSITIONS``; :data:`FAR`: centred at the node plus ``offset``)
    of a node at (x, y) of diameter ``size``."""
    if where == FAR:
        return centred_box(x + offset[0], y + offset[1], *label_size(text, font))
    return _placed(x, y, size, *label_size(text, font), where)


def _placed(x: float, y: float, size: float, w: float, h: float, where: str) -> tuple[float, float, float, float]:
    gap = -3.0  # Cytoscape's label box starts at the node's edge, its outline and margin reaching back over it (measured)
    if where == "b":
        return centred_box(x, y + size / 2 + gap + h / 2, w, h)
    if where == "t":
        return centred_box(x, y - size / 2 - gap - h / 2, w, h)
    if where == "r":
        return centred_box(x + size / 2 + gap + w / 2, y, w, h)
    if where == "l":
        return centred_box(x - size / 2 - gap - w / 2, y, w, h)
    sx, sy = DIAGONALS[where]  # a corner: beside the node and past its top or bottom edge
    return centred_box(x + sx * (size / 2 + gap + w / 2), y + sy * (size / 2 + gap + h / 2), w, h)


def place_labels(network: Network, affected: np.ndarray | None = None, selected: int | None = None) -> tuple[list[str], str]:
    """Label text ("" = on hover only) and position code per entity, affected entities first (see the module docstring)."""
    text, where, _ = place_labels_far(network, affected, selected)
    return text, where


def segments_meet(ends: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """(S, B): whether segment ``s`` of ``ends`` (S, 4: x0, y0, x1, y1) passes through the inside of box ``b`` of
    ``boxes`` (B, 4), by the slab method (Liang & Barsky, "A new concept and method for line clipping", ACM ToG 3(1),
    1984): the segment's parameters ``t`` in [0, 1] inside each axis's slab, intersected; a segment that only touches
    a box's edge or corner does not meet it.

    >>> segments_meet(np.array([[0.0, 0.0, 10.0, 10.0], [0.0, 5.0, 10.0, 5.0]]), np.array([[4.0, 4.0, 6.0, 6.0], [0.0, 6.0, 1.0, 7.0]]))
    array([[ True, False],
           [ True, False]])
    """
    p = ends[:, None, :2]
    d = ends[:, None, 2:] - p
    lo, hi = boxes[None, :, :2], boxes[None, :, 2:]
    with np.errstate(divide="ignore", invalid="ignore"):
        t1, t2 = (lo - p) / d, (hi - p) / d
    still, within = d == 0, (p > lo) & (p < hi)  # along an axis the segment does not move: always in its slab, or never
    t_in = np.where(still, np.where(within, -np.inf, np.inf), np.minimum(t1, t2)).max(axis=2)
    t_out = np.where(still, np.where(within, np.inf, -np.inf), np.maximum(t1, t2)).min(axis=2)
    return np.minimum(t_out, 1.0) > np.maximum(t_in, 0.0) + 1e-9


def _far_spot(x: float, y: float, w: float, h: float, font: float, blocks: np.ndarray,
              frame: tuple[float, float, float, float], walls: np.ndarray | None = None, lines: np.ndarray | None = None,
              prefer: tuple[float, float] | None = None, to_centre: bool = False) -> np.ndarray | None:
    """The box (x0, y0, x1, y1) of size w × h nearest the point (x, y) inside ``frame`` and meeting none of the boxes
    ``blocks`` (B, 4), its centre on a grid of FAR_STEP font sizes within FAR_REACH font sizes of the point; None if none is.

    With ``walls`` (W, 4), only a box whose line from (x, y), to its nearest point (a leader line) or to its centre
    (``to_centre``: a path's edge, drawn centre to centre), crosses none of them; with ``lines`` (S, 4), only a box
    that no such line already drawn passes through; with ``prefer``, the box whose centre is nearest that point."""
    g = np.arange(-FAR_REACH, FAR_REACH + FAR_STEP / 2, FAR_STEP) * font
    cx, cy = (a.ravel() for a in np.meshgrid(x + g, y + g))
    cand = np.column_stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])
    gap = np.hypot(np.maximum(np.maximum(cand[:, 0] - x, x - cand[:, 2]), 0), np.maximum(np.maximum(cand[:, 1] - y, y - cand[:, 3]), 0))
    met = ((blocks[None, :, 0] < cand[:, None, 2]) & (cand[:, None, 0] < blocks[None, :, 2])
           & (blocks[None, :, 1] < cand[:, None, 3]) & (cand[:, None, 1] < blocks[None, :, 3])).any(axis=1)
    outside = (cand[:, 0] < frame[0]) | (cand[:, 1] < frame[1]) | (cand[:, 2] > frame[2]) | (cand[:, 3] > frame[3])
    ok = ~met & ~outside & (gap <= FAR_REACH * font)
    if lines is not None and len(lines) and ok.any():
        ok[ok] = ~segments_meet(lines, cand[ok]).any(axis=0)
    if walls is not None and len(walls) and ok.any():
        end = (cx, cy) if to_centre else (np.clip(x, cand[:, 0], cand[:, 2]), np.clip(y, cand[:, 1], cand[:, 3]))
        ends = np.column_stack([np.full(len(cand), x), np.full(len(cand), y), *end])
        ok[ok] = ~segments_meet(ends[ok], walls).any(axis=1)
    if not ok.any():
        return None
    cost = gap if prefer is None else np.hypot(cx - prefer[0], cy - prefer[1])
    k = np.flatnonzero(ok)[np.argmin(cost[ok])]  # nearest; ties to the first on the grid (deterministic)
    return cand[k]


def leader_end(x: float, y: float, box: np.ndarray) -> tuple[float, float]:
    """Where the leader line from a node at (x, y) meets its label's box: the box's point nearest the node."""
    return float(np.clip(x, box[0], box[2])), float(np.clip(y, box[1], box[3]))


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
    lines = np.zeros((len(order), 4))  # the leader lines drawn so far (node centre to its label's box)
    n_lines = 0
    snug_bodies = bodies + ROOM_AFTER * lay["font"] * np.array([-1, -1, 1, 1])
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
        if n_lines:  # no label over a leader line
            inside &= ~segments_meet(lines[:n_lines], cand).any(axis=0)
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
            # frame; with the room round nodes and labels first, then (if no position near the node is bare) without;
            # its leader line crossing no other node (by ROOM_AFTER), label or title, and its box no leader line
            home = bodies[sector == sector[i]]
            pad = lay["font"] * 1.5
            region = (max(fx0, home[:, 0].min() - pad), max(fy0, home[:, 1].min() - pad), min(fx1, home[:, 2].max() + pad), min(fy1, home[:, 3].max() + pad))
            spot = None
            grown = kept[:n_kept] + np.array([-label_room, -label_room, label_room, label_room])
            walls = np.vstack([kept[:n_kept], np.delete(snug_bodies, i, axis=0)])
            for blocks in ([np.vstack([grown, roomy])] + ([] if bare.any() else [np.vstack([kept[:n_kept], bodies])])):
                for bounds in (region, lay["frame"]):
                    spot = _far_spot(x[i], y[i], wh[i, 0], wh[i, 1], lay["font"], blocks, bounds, walls, lines[:n_lines])
                    if spot is not None:
                        break
                if spot is not None:
                    break
            if spot is not None:
                kept[n_kept] = spot
                n_kept += 1
                lines[n_lines] = (x[i], y[i], *leader_end(x[i], y[i], spot))
                n_lines += 1
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


# -- the contagion path's tags ------------------------------------------------------------

#: Where a path's tag (the shock, an asset) would go from what it leads to, in label font sizes (up and to the left),
#: where that spot is clear; else the clear spot nearest it (:func:`place_tags`).
TAG_STEP = (-5.0, -2.6)
#: Room (label font sizes) a tag keeps from what it leads to, so that the path's edge and its arrow show between them.
TAG_GAP = 1.0


def tag_text(name: str) -> str:
    """What a path's tag reads: "Shock" for the scenario's shock (the engine's id ``SHOCK``), else the asset's symbol."""
    return "Shock" if name == "SHOCK" else name


def tag_size(text: str, font: float) -> tuple[float, float]:
    """Width and height (model units) of a tag reading ``text`` (a rounded box round the word, bold)."""
    return round(max(3.0, 0.75 * len(text) + 1.2) * font, 1), round(1.6 * font, 1)


def _run_label_boxes(network: Network, labelled: dict, selected: str | None) -> tuple[np.ndarray, np.ndarray]:
    """The boxes of the run's labels as the page draws them (``labelled``: :func:`dashboard.graph.labels`; the
    selected entity's named in full at its position, as the page's selection style does) and their leader lines."""
    lay = layout(network)
    x, y, size = lay["positions"]["x"].to_numpy(), lay["positions"]["y"].to_numpy(), lay["size"]
    text = list(labelled["text"])
    if selected in network.entity_ids:
        k = int(network.entity_ids.get_loc(selected))
        text[k] = lay["short"][k]
    mx, my = labelled.get("mx") or [0.0] * len(text), labelled.get("my") or [0.0] * len(text)
    boxes = [label_box(x[i], y[i], size[i], t, lay["font"], labelled["pos"][i], (mx[i], my[i])) for i, t in enumerate(text) if t]
    marks = [(int(el["data"]["ent"]), el["position"]) for el in labelled.get("callouts") or [] if "source" not in el["data"]]
    lines = [(x[i], y[i], p["x"], p["y"]) for i, p in marks]
    return np.asarray(boxes, dtype=float).reshape(-1, 4), np.asarray(lines, dtype=float).reshape(-1, 4)


def place_tags(network: Network, chain: list[str], labelled: dict, selected: str | None = None) -> dict[str, tuple[float, float]]:
    """Centres (model units) of the tags of a contagion path's hops that are not entities (the shock, assets).

    ``chain`` is the path in forward order (Shock → LUNA → 3AC → Genesis); walking back from its end, each tag goes
    beside the next hop (an entity's node, or the tag placed before it), :data:`TAG_STEP` font sizes away where that
    spot is clear, else at the clear spot nearest it within :data:`FAR_REACH` of the next hop and :data:`TAG_GAP` from
    it (:func:`_far_spot`):
    clear of every node, of the run's labels (``labelled``, the selected entity's name included), of the sector
    titles, of the leader lines and of the tags already placed (by :data:`LABEL_CLEARANCE` where it can), with its
    edge to the next hop crossing none of them where it can; every tag inside the frame the page fits. A tag is the
    path's callout, and its edge the leader line that attaches it to what it leads to.
    """
    lay = layout(network)
    font, frame = lay["font"], lay["frame"]
    xy = lay["positions"][["x", "y"]].to_numpy()
    index = {e: k for k, e in enumerate(network.entity_ids)}
    bodies = np.column_stack([xy - lay["size"][:, None] / 2, xy + lay["size"][:, None] / 2])
    labels, lines = _run_label_boxes(network, labelled, selected)
    taken = np.vstack([bodies, labels, np.asarray(list(lay["title_boxes"].values()), dtype=float).reshape(-1, 4)])
    room = LABEL_CLEARANCE * font * np.array([-1, -1, 1, 1])
    where: dict[str, tuple[float, float]] = {}
    row: dict[str, int] = {}  # each tag's box in ``taken``
    for k in range(len(chain) - 1, -1, -1):
        name = chain[k]
        if name in index or name in where:
            continue
        nxt = chain[k + 1] if k + 1 < len(chain) else None
        base = tuple(xy[index[nxt]]) if nxt in index else where[nxt] if nxt in where else (float(xy[:, 0].min()), float(xy[:, 1].min()))
        prefer = (base[0] + TAG_STEP[0] * font, base[1] + TAG_STEP[1] * font)
        w, h = tag_size(tag_text(name), font)
        own = np.ones(len(taken), dtype=bool)
        if nxt in index or nxt in row:
            own[index[nxt] if nxt in index else row[nxt]] = False  # its edge leaves what it leads to
        spot = None
        near = np.vstack([taken + room, centred_box(*base, 0.0, 0.0) + TAG_GAP * font * np.array([-1, -1, 1, 1])])
        if nxt in index or nxt in row:
            near[-1] = taken[index[nxt] if nxt in index else row[nxt]] + TAG_GAP * font * np.array([-1, -1, 1, 1])
        for blocks, walls in ((near, taken[own]), (near, None), (taken, taken[own]), (taken, None)):
            spot = _far_spot(base[0], base[1], w, h, font, blocks, frame, walls, lines, prefer, to_centre=True)
            if spot is not None:
                break
        centre = prefer if spot is None else ((spot[0] + spot[2]) / 2, (spot[1] + spot[3]) / 2)
        where[name] = (float(centre[0]), float(centre[1]))
        row[name] = len(taken)
        taken = np.vstack([taken, centred_box(*where[name], w, h)])
    return where
