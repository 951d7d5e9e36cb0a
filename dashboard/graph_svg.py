"""The interconnection graph as an SVG image: the SVG download and the report's picture.

One drawing for both, made on the server from what the browser draws with:
the Cytoscape elements (positions, data, classes) and the stylesheet of
:func:`dashboard.graph.stylesheet`. Each element's style is resolved from that
stylesheet as Cytoscape resolves it (every matching rule in order, later rules
win; ``data(key)`` reads the element's data), so a colour changed there changes
the picture too. Shapes are Cytoscape's own unit polygons (``renderer().nodeShapes``
of cytoscape.js 3.28, the version dash-cytoscape 1.0.2 bundles) and its formulas
for rounded, cut and barrel rectangles and for arrow sizes.

Drawn: the sector titles; nodes (shape, fill, border, halo of the Monte Carlo overlay, label at its placed side) in
z-order above edges (straight lines from border to border, arrow at the target
unless the graph is big); edges under nodes, as ``z-index-compare: auto`` does.
Not drawn: interaction state (selection overlay, hover), which is not part of
the picture.
"""

from __future__ import annotations

import math
import re
from html import escape
from typing import Any

#: Cytoscape's unit polygons (x, y in [-1, 1], scaled by half the node's width and height).
POLYGONS: dict[str, tuple[float, ...]] = {
    "triangle": (0, -1, -1, 1, 1, 1),
    "diamond": (0, 1, 1, 0, 0, -1, -1, 0),
    "pentagon": (0, -1, -1, -0.236068, -0.618034, 1, 0.618034, 1, 1, -0.236068),
    "hexagon": (-0.5, -1, -1, 0, -0.5, 1, 0.5, 1, 1, 0, 0.5, -1),
    "octagon": (-0.414214, -1, -1, -0.414214, -1, 0.414214, -0.414214, 1, 0.414214, 1, 1, 0.414214, 1, -0.414214, 0.414214, -1),
    "star": (0, -1, -0.370627, -0.430803, -1, -0.236068, -0.599687, 0.31045, -0.618034, 1, 0, 0.76857, 0.618034, 1,
             0.599687, 0.31045, 1, -0.236068, 0.370627, -0.430803),
    "vee": (-1, -1, 0, -0.333, 1, -1, 0, 1),
    "rhomboid": (-1, -1, 0.333, -1, 1, 1, -0.333, 1),
    "rectangle": (-1, -1, -1, 1, 1, 1, 1, -1),
}
CUT_CORNER = 8.0        # px, cut-rectangle's corner (cytoscape getCutRectangleCornerLength)
FONT = "Helvetica Neue, Helvetica, Arial, sans-serif"
PADDING = 12.0          # px around the drawing
_SELECTOR = re.compile(r'^(node|edge)?((?:\[\w+ = "[^"]*"\])*)((?:\.[\w-]+)*)(:[\w-]+)?$')
_DATA = re.compile(r"^data\((\w+)\)$")


# -- style resolution -------------------------------------------------------------------

def _matcher(selector: str):
    """A test ``(group, data, classes) -> bool`` for the selectors graph.stylesheet uses."""
    m = _SELECTOR.match(selector.strip())
    if not m:
        raise ValueError(f"unsupported selector {selector!r}")
    group, attrs, classes, state = m.groups()
    wanted = dict(re.findall(r'\[(\w+) = "([^"]*)"\]', attrs or ""))
    need = set(filter(None, (classes or "").split(".")))

    def match(g: str, data: dict[str, Any], cls: set[str]) -> bool:
        if state:  # :selected, :active ... : interaction state, never part of the picture
            return False
        return (group is None or group == g) and need <= cls and all(str(data.get(k)) == v for k, v in wanted.items())

    return match


def resolve(stylesheet: list[dict[str, Any]], group: str, data: dict[str, Any], classes: str) -> dict[str, Any]:
    """The style of one element: every matching rule in order, later rules win, ``data(key)`` looked up."""
    cls = set((classes or "").split())
    out: dict[str, Any] = {}
    for rule in stylesheet:
        if rule["_match"](group, data, cls):
            out.update(rule["style"])
    for k, v in out.items():
        m = _DATA.match(v) if isinstance(v, str) else None
        if m:
            out[k] = data.get(m.group(1), "")
    return out


def _num(x: Any, default: float = 0.0) -> float:
    try:
        return float(x)
    except (TypeError, ValueError):
        return default


# -- geometry -------------------------------------------------------------------------

def _fmt(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def _points(pts: list[tuple[float, float]]) -> str:
    return " ".join(f"{_fmt(x)},{_fmt(y)}" for x, y in pts)


def _outline(shape: str, x: float, y: float, w: float, h: float) -> tuple[str, list[tuple[float, float]]]:
    """SVG element (tag and geometry attributes) for a node shape, and the polygon used to end edges at it."""
    hw, hh = w / 2, h / 2
    rect = [(x - hw, y - hh), (x - hw, y + hh), (x + hw, y + hh), (x + hw, y - hh)]
    if shape == "ellipse":
        return f'<ellipse cx="{_fmt(x)}" cy="{_fmt(y)}" rx="{_fmt(hw)}" ry="{_fmt(hh)}"', []
    if shape in ("round-rectangle", "roundrectangle"):
        r = min(w / 4, h / 4, 8)
        return (f'<rect x="{_fmt(x - hw)}" y="{_fmt(y - hh)}" width="{_fmt(w)}" height="{_fmt(h)}" rx="{_fmt(r)}"', rect)
    if shape == "cut-rectangle":
        c = CUT_CORNER
        pts = [(x - hw + c, y - hh), (x + hw - c, y - hh), (x + hw, y - hh + c), (x + hw, y + hh - c),
               (x + hw - c, y + hh), (x - hw + c, y + hh), (x - hw, y + hh - c), (x - hw, y - hh + c)]
        return f'<polygon points="{_points(pts)}"', rect
    if shape == "barrel":
        d, k, f = min(15, 0.05 * h), min(100, 0.25 * w), 0.05 * w  # cytoscape getBarrelCurveConstants
        o, s, u, lo = x - hw, x + hw, y - hh, y + hh
        path = (f"M{_fmt(o)},{_fmt(u + d)} Q{_fmt(o + f)},{_fmt(u)} {_fmt(o + k)},{_fmt(u)} L{_fmt(s - k)},{_fmt(u)} "
                f"Q{_fmt(s - f)},{_fmt(u)} {_fmt(s)},{_fmt(u + d)} L{_fmt(s)},{_fmt(lo - d)} Q{_fmt(s - f)},{_fmt(lo)} {_fmt(s - k)},{_fmt(lo)} "
                f"L{_fmt(o + k)},{_fmt(lo)} Q{_fmt(o + f)},{_fmt(lo)} {_fmt(o)},{_fmt(lo - d)} Z")
        return f'<path d="{path}"', rect
    unit = POLYGONS.get(shape, POLYGONS["rectangle"])
    pts = [(x + unit[i] * hw, y + unit[i + 1] * hh) for i in range(0, len(unit), 2)]
    return f'<polygon points="{_points(pts)}"', pts


def _reach(poly: list[tuple[float, float]], x: float, y: float, w: float, h: float, ux: float, uy: float) -> float:
    """Distance from the centre (x, y) along the unit vector (ux, uy) to the shape's outline (the outermost crossing)."""
    if not poly:  # ellipse
        return 1.0 / math.sqrt((ux / (w / 2)) ** 2 + (uy / (h / 2)) ** 2) if w > 0 and h > 0 else 0.0
    best = 0.0
    for (ax, ay), (bx, by) in zip(poly, poly[1:] + poly[:1]):
        ex, ey = bx - ax, by - ay
        den = ux * ey - uy * ex
        if abs(den) < 1e-12:
            continue
        t = ((ax - x) * ey - (ay - y) * ex) / den   # along the ray
        s = ((ax - x) * uy - (ay - y) * ux) / den   # along the side
        if t >= 0 and -1e-9 <= s <= 1 + 1e-9:
            best = max(best, t)
    return best


def _arrow_size(width: float, scale: float) -> float:
    """cytoscape getArrowWidth: the triangle's size for an edge of this width."""
    return max((width * 13.37) ** 0.9, 29) * scale


# -- drawing ---------------------------------------------------------------------------

def _label(label: str, st: dict[str, Any], x: float, y: float, half_w: float, half_h: float) -> tuple[str, tuple[float, float, float, float]]:
    """A node's label where Cytoscape puts it: ``text-valign`` top / center / bottom and ``text-halign`` left /
    center / right of the node (half sizes ``half_w``, ``half_h``), plus the text margins; lines split at newlines."""
    fs = _num(st.get("font-size"), 16)
    lines = label.split("\n")
    lh = fs * _num(st.get("line-height"), 1.0) * 1.2
    height = lh * len(lines)
    ow = _num(st.get("text-outline-width"))
    width = max(0.6 * fs * len(t) for t in lines) + 2 * ow
    valign, halign = str(st.get("text-valign", "top")), str(st.get("text-halign", "center"))
    mx, my = _num(st.get("text-margin-x")), _num(st.get("text-margin-y"))
    top = {"bottom": y + half_h, "top": y - half_h - height, "center": y - height / 2}.get(valign, y - height / 2) + my
    if halign == "right":
        left, anchor, tx = x + half_w + mx, "start", x + half_w + mx
    elif halign == "left":
        left, anchor, tx = x - half_w + mx - width, "end", x - half_w + mx
    else:
        left, anchor, tx = x - width / 2 + mx, "middle", x + mx
    outline = (f' stroke="{st.get("text-outline-color", "#fff")}" stroke-width="{2 * ow:g}" stroke-linejoin="round" paint-order="stroke"'
               if ow > 0 else "")
    weight = f' font-weight="{st["font-weight"]}"' if st.get("font-weight") not in (None, "normal") else ""
    spans = "".join(f'<tspan x="{_fmt(tx)}" y="{_fmt(top + k * lh + 0.8 * fs * 1.1)}">{escape(t)}</tspan>' for k, t in enumerate(lines))
    svg = f'<text font-size="{fs:g}"{weight} text-anchor="{anchor}" fill="{st.get("color", "#000")}"{outline}>{spans}</text>'
    return svg, (left, top, left + width, top + height)


def _node(el: dict[str, Any], st: dict[str, Any]) -> tuple[str, tuple[float, float, float, float]]:
    d, pos = el["data"], el.get("position") or {}
    x, y = _num(pos.get("x")), _num(pos.get("y"))
    w, h = _num(st.get("width"), 30), _num(st.get("height"), 30)
    shape = str(st.get("shape", "ellipse"))
    head, _ = _outline(shape, x, y, w, h)
    bw, bc = _num(st.get("border-width")), str(st.get("border-color", "#000"))
    parts = [f'<g class="node {escape(el.get("classes") or "", quote=True)}" data-id="{escape(str(d.get("id", "")), quote=True)}">',
             f'<title>{escape(str(d.get("name") or d.get("id", "")))}</title>']
    pad = 0.0
    if st.get("underlay-color") and _num(st.get("underlay-opacity")) > 0:
        pad = _num(st.get("underlay-padding"))
        parts.append(f'<ellipse class="halo" cx="{_fmt(x)}" cy="{_fmt(y)}" rx="{_fmt(w / 2 + pad)}" ry="{_fmt(h / 2 + pad)}" '
                     f'fill="{st["underlay-color"]}" fill-opacity="{_num(st.get("underlay-opacity")):g}"/>')
    stroke = f' stroke="{bc}" stroke-width="{bw:g}"' if bw > 0 else ""
    parts.append(f'{head} class="shape" fill="{st.get("background-color", "#999")}"{stroke}/>')
    if bw > 0 and st.get("border-style") == "double":  # two lines: a light band through the middle third of the border
        parts.append(f'{head} fill="none" stroke="#fff" stroke-width="{bw / 3:g}"/>')
    x0, x1, y0, y1 = x - w / 2 - bw / 2 - pad, x + w / 2 + bw / 2 + pad, y - h / 2 - bw / 2 - pad, y + h / 2 + bw / 2 + pad
    label = str(st.get("label") or "")
    if label:
        svg, box = _label(label, st, x, y, w / 2 + bw / 2, h / 2 + bw / 2)
        parts.append(svg)
        x0, y0, x1, y1 = min(x0, box[0]), min(y0, box[1]), max(x1, box[2]), max(y1, box[3])
    parts.append("</g>")
    return "".join(parts), (x0, y0, x1, y1)


def _edge(el: dict[str, Any], st: dict[str, Any], ends: dict[str, tuple[float, float, float, float, list]]) -> str:
    d = el["data"]
    src, tgt = ends.get(str(d.get("source"))), ends.get(str(d.get("target")))
    if src is None or tgt is None or src[:2] == tgt[:2]:
        return ""
    (sx, sy, sw, sh, spoly, sb), (tx, ty, tw, th, tpoly, tb) = src, tgt
    length = math.hypot(tx - sx, ty - sy)
    ux, uy = (tx - sx) / length, (ty - sy) / length
    width = _num(st.get("width"), 1)
    colour = str(st.get("line-color", "#999"))
    haystack = st.get("curve-style") == "haystack"
    if haystack:  # haystack edges run centre to centre
        a, b = (sx, sy), (tx, ty)
    else:
        s0 = _reach(spoly, sx, sy, sw, sh, ux, uy) + sb / 2
        t0 = _reach(tpoly, tx, ty, tw, th, -ux, -uy) + tb / 2
        a, b = (sx + ux * s0, sy + uy * s0), (tx - ux * t0, ty - uy * t0)
    parts = [f'<g class="edge {escape(el.get("classes") or "", quote=True)}" opacity="{_num(st.get("opacity"), 1):g}">']
    arrow = "" if haystack else str(st.get("target-arrow-shape", "none"))
    end = b
    if arrow not in ("", "none"):
        size = _arrow_size(width, _num(st.get("arrow-scale"), 1))
        back, half = 0.3 * size, 0.15 * size   # triangle: tip at the outline, base 0.3·size behind it, 0.3·size wide
        bx, by = b[0] - ux * back, b[1] - uy * back
        tri = [b, (bx - uy * half, by + ux * half), (bx + uy * half, by - ux * half)]
        end = (bx, by)
        parts.append(f'<polygon points="{_points(tri)}" fill="{st.get("target-arrow-color", colour)}"/>')
    parts.insert(1, f'<line x1="{_fmt(a[0])}" y1="{_fmt(a[1])}" x2="{_fmt(end[0])}" y2="{_fmt(end[1])}" '
                    f'stroke="{colour}" stroke-width="{width:g}"{_DASHES.get(str(st.get("line-style", "solid")), "")}/>')
    parts.append("</g>")
    return "".join(parts)


#: Cytoscape's ``line-style`` as an SVG dash pattern (a label's leader line is dashed: graph.callouts).
_DASHES = {"dashed": ' stroke-dasharray="6 3"', "dotted": ' stroke-dasharray="1 2"'}


def graph_svg(elements: list[dict[str, Any]], stylesheet: list[dict[str, Any]], *, title: str = "",
              heading: str = "", legend: list[tuple[str, str]] | None = None) -> str:
    """One ``<svg>`` element (no XML declaration: it can sit inside an HTML page) drawing ``elements``.

    ``elements`` are Cytoscape elements (nodes carry ``position``; an edge's
    data has ``source`` and ``target``); ``stylesheet`` is what the page's
    Cytoscape draws them with (:func:`dashboard.graph.stylesheet`). ``heading`` (drawn text: the scenario and the
    round) and ``legend`` (colour, label pairs) are drawn above the graph, so the picture says what it is when
    it travels alone.
    """
    sheet = [{**rule, "_match": _matcher(rule["selector"])} for rule in stylesheet]
    nodes = [el for el in elements if "source" not in el.get("data", {})]
    edges = [el for el in elements if "source" in el.get("data", {})]

    def z(item):
        return _num(item[1].get("z-index"))

    def shown(styled):  # what the page does not display is not drawn (a hidden leader line: graph_leaders)
        return [item for item in styled if item[1].get("display") != "none"]

    styled_nodes = sorted(shown((el, resolve(sheet, "node", el["data"], el.get("classes", ""))) for el in nodes), key=z)
    styled_edges = sorted(shown((el, resolve(sheet, "edge", el["data"], el.get("classes", ""))) for el in edges), key=z)
    ends = {}
    for el, st in styled_nodes:
        pos = el.get("position") or {}
        x, y, w, h = _num(pos.get("x")), _num(pos.get("y")), _num(st.get("width"), 30), _num(st.get("height"), 30)
        ends[str(el["data"].get("id"))] = (x, y, w, h, _outline(str(st.get("shape", "ellipse")), x, y, w, h)[1], _num(st.get("border-width")))
    drawn_nodes, boxes, titles = [], [], []
    for el, st in styled_nodes:
        if "sector" in str(el.get("classes") or "").split():  # a sector's title: text only
            pos = el.get("position") or {}
            svg, box = _label(str(st.get("label") or ""), st, _num(pos.get("x")), _num(pos.get("y")), 0.0, 0.0)
            titles.append(svg.replace("<text ", '<text class="sector-title" ', 1))
        else:
            svg, box = _node(el, st)
            drawn_nodes.append(svg)
        boxes.append(box)
    drawn_edges = [_edge(el, st, ends) for el, st in styled_edges]
    if boxes:
        x0, y0 = min(b[0] for b in boxes) - PADDING, min(b[1] for b in boxes) - PADDING
        x1, y1 = max(b[2] for b in boxes) + PADDING, max(b[3] for b in boxes) + PADDING
    else:
        x0, y0, x1, y1 = 0.0, 0.0, 100.0, 100.0
    top = _top_band(x0, y0, x1 - x0, heading, legend or [])
    y0 -= top[1]
    w, h = x1 - x0, y1 - y0
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="{_fmt(x0)} {_fmt(y0)} {_fmt(w)} {_fmt(h)}" '
            f'width="{math.ceil(w)}" height="{math.ceil(h)}" font-family="{FONT}" role="img">'
            + (f"<title>{escape(title)}</title>" if title else "")
            + f'<rect x="{_fmt(x0)}" y="{_fmt(y0)}" width="{_fmt(w)}" height="{_fmt(h)}" fill="#fff"/>'
            + top[0] + f'<g class="sectors">{"".join(titles)}</g>'
            + f'<g class="edges">{"".join(drawn_edges)}</g><g class="nodes">{"".join(drawn_nodes)}</g></svg>')


def _top_band(x0: float, y0: float, width: float, heading: str, legend: list[tuple[str, str]]) -> tuple[str, float]:
    """The heading and the legend above a drawing whose top is ``y0``: (svg, height taken)."""
    if not heading and not legend:
        return "", 0.0
    fs = max(width / 70.0, 10.0)  # readable when the picture is shown at a slide's width
    out, y = [], y0 - 0.6 * fs
    if legend:
        x = x0 + PADDING
        for colour, label in legend:
            out.append(f'<circle cx="{_fmt(x + 0.45 * fs)}" cy="{_fmt(y - 0.35 * fs)}" r="{_fmt(0.45 * fs)}" fill="{escape(colour)}"/>'
                       f'<text x="{_fmt(x + 1.2 * fs)}" y="{_fmt(y)}" font-size="{_fmt(0.9 * fs)}" fill="#222">{escape(label)}</text>')
            x += (1.8 + 0.5 * len(label)) * fs
        y -= 1.5 * fs
    if heading:
        out.append(f'<text class="heading" x="{_fmt(x0 + PADDING)}" y="{_fmt(y)}" font-size="{_fmt(1.2 * fs)}" font-weight="600" '
                   f'fill="#222">{escape(heading)}</text>')
        y -= 1.4 * fs
    return f'<g class="legend">{"".join(out)}</g>', y0 - y


def svg_file(elements: list[dict[str, Any]], stylesheet: list[dict[str, Any]], *, title: str = "", heading: str = "",
             legend: list[tuple[str, str]] | None = None) -> str:
    """The same drawing as a standalone ``.svg`` file."""
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + graph_svg(elements, stylesheet, title=title, heading=heading, legend=legend) + "\n"
