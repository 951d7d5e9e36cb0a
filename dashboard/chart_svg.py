"""Static SVG pictures of the impact charts, for the page's first paint.

plotly.js is the largest part of the page (1.5 MB to evaluate, then the first
draw of each chart compiles much of it). The first page therefore shows each
chart as a static picture drawn here, from the same figure dict, and
``dcc.Graph`` draws the live chart over it as soon as plotly.js has loaded
(``assets/sfm.css`` hides the picture once the chart's SVG is on the page).

This is a small renderer for the subset of plotly figures ``dashboard.charts``
builds, laid out the way plotly lays them out (margins, title, grid, automatic
"nice" ticks, an overlaying second y axis, a horizontal legend below, paper-
referenced line shapes): traces ``scatter`` (lines, markers, ``hv`` steps,
dashes) and ``bar`` (vertical or horizontal, grouped), linear and category axes.
Anything else is left out of the picture (it is a picture for a second, not a
second charting library).
"""

from __future__ import annotations

import itertools
import math
from html import escape
from typing import Any
from urllib.parse import quote

WIDTH = 450               # px: the chart column at 1366 px; the picture scales with the column
TITLE_SIZE = 13
SI = {-12: "p", -9: "n", -6: "μ", -3: "m", 0: "", 3: "k", 6: "M", 9: "B", 12: "T"}


def _f(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def _text(x: float, y: float, s: str, size: float, colour: str, anchor: str = "start", extra: str = "") -> str:
    return (f'<text x="{_f(x)}" y="{_f(y)}" font-size="{size:g}" fill="{colour}" text-anchor="{anchor}"'
            f' dominant-baseline="middle"{extra}>{escape(s)}</text>')


def _width(s: str, size: float) -> float:
    return 0.55 * size * len(s)


# -- axes ----------------------------------------------------------------------------------

def nice_ticks(lo: float, hi: float, length: float, letter: str) -> list[float]:
    """plotly's automatic ticks (``autoTicks``): length/80 px (x) or length/40 px (y) of them, kept within
    4–9, and the step rounded up to 2, 5 or 10 × 10^k."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo]
    n = max(4.0, min(9.0, length / (40 if letter == "y" else 80)))
    raw = (hi - lo) / n
    base = 10 ** math.floor(math.log10(raw))
    step = next(m * base for m in (2, 5, 10) if m * base >= raw * (1 - 1e-9))
    first = math.ceil(lo / step - 1e-9) * step
    return [round(first + k * step, 12) for k in range(int((hi - first) / step + 1e-9) + 1)]


def tick_label(v: float, step: float, biggest: float) -> str:
    """A tick's text in plotly's default format: SI prefixes (B for billions) from 10^3 up and below 10^-3,
    as many decimals as the step needs."""
    if v == 0:
        return "0"
    if biggest >= 1e3:
        e = math.floor(math.log10(biggest) / 3) * 3
    elif abs(step) < 1e-3:
        e = math.floor(math.log10(abs(step)) / 3) * 3
    else:
        e = 0
    e = max(-12, min(12, e))
    scaled, stepped = v / 10 ** e, step / 10 ** e
    step_text = f"{stepped:.6g}"
    decimals = len(step_text.split(".")[1]) if "." in step_text and "e" not in step_text else 0
    text = f"{scaled:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return ("−" if text.startswith("-") else "") + text.lstrip("-") + SI.get(e, f"e{e}")


def sig_label(v: float) -> str:
    """A value with an SI prefix and two decimals at most (the synced ticks of a second axis)."""
    if abs(v) < 1e-300:
        return "0"
    e = max(-12, min(12, int(math.floor(math.log10(abs(v)) / 3) * 3))) if abs(v) >= 1e3 or abs(v) < 1e-3 else 0
    text = f"{v / 10 ** e:.2f}".rstrip("0").rstrip(".")
    return ("−" if text.startswith("-") else "") + text.lstrip("-") + SI.get(e, f"e{e}")


class _Axis:
    """A linear or category axis mapped onto pixels [a, b]."""

    def __init__(self, spec: dict[str, Any], values: list[Any], a: float, b: float, letter: str, bars: bool = False):
        self.spec, self.a, self.b, self.letter = spec or {}, a, b, letter
        self.category = self.spec.get("type") == "category" or any(isinstance(v, str) for v in values)
        if self.category:
            self.cats = list(dict.fromkeys(str(v) for v in values))
            self.lo, self.hi = -0.5, len(self.cats) - 0.5
            return
        nums = [float(v) for v in values if v is not None and isinstance(v, (int, float)) and math.isfinite(v)]
        rng = self.spec.get("range")
        if rng and None not in rng:
            self.lo, self.hi = float(rng[0]), float(rng[1])
        else:
            lo, hi = (min(nums), max(nums)) if nums else (0.0, 1.0)
            if self.spec.get("rangemode") == "tozero" or bars:
                lo, hi = min(lo, 0.0), max(hi, 0.0)
            pad = (hi - lo) * 0.05 if hi > lo else 1.0
            self.lo = lo - (pad if lo < 0 or not (self.spec.get("rangemode") == "tozero" or bars) else 0.0)
            self.hi = hi + pad
            if self.hi <= self.lo:
                self.hi = self.lo + 1.0

    def px(self, v: Any) -> float:
        x = self.cats.index(str(v)) if self.category else float(v)
        return self.a + (x - self.lo) / (self.hi - self.lo) * (self.b - self.a)

    def ticks(self) -> list[tuple[float, str]]:
        if self.category:
            return [(self.px(c), c) for c in self.cats]
        if self.spec.get("tickmode") == "array" and self.spec.get("tickvals"):  # labels given (time axes: "1 d", "2 d")
            return [(self.px(v), str(t)) for v, t in zip(self.spec["tickvals"], self.spec.get("ticktext") or self.spec["tickvals"])]
        dtick = self.spec.get("dtick")
        if dtick:
            vals = [v for v in (math.ceil(self.lo / dtick) * dtick + k * dtick for k in range(200)) if v <= self.hi + 1e-9]
            step = float(dtick)
        else:
            vals = nice_ticks(self.lo, self.hi, abs(self.b - self.a), self.letter)
            step = vals[1] - vals[0] if len(vals) > 1 else 1.0
        biggest = max((abs(v) for v in vals), default=0.0)
        return [(self.px(v), tick_label(v, step, biggest)) for v in vals]


# -- the picture ---------------------------------------------------------------------------

def _title(spec: Any) -> str:
    if isinstance(spec, dict):
        return str(spec.get("text") or "")
    return str(spec or "")


def figure_svg(fig: dict[str, Any], width: int = WIDTH) -> str:
    """One ``<svg>`` picture of a plotly figure dict (see the module docstring for what is drawn)."""
    lay = fig.get("layout") or {}
    data = [t for t in fig.get("data") or [] if t.get("visible", True) is not False]
    height = float(lay.get("height") or 450)
    m = {"l": 80, "r": 80, "t": 100, "b": 80, **(lay.get("margin") or {})}
    font = lay.get("font") or {}
    size, colour, family = float(font.get("size", 12)), font.get("color", "#444"), font.get("family", "sans-serif")
    bars = [t for t in data if t.get("type") == "bar"]
    horizontal = any(t.get("orientation") == "h" for t in bars)
    xs = [v for t in data for v in (t.get("x") or [])]
    ys = [v for t in data if t.get("yaxis", "y") == "y" for v in (t.get("y") or [])]
    y2s = [v for t in data if t.get("yaxis") == "y2" for v in (t.get("y") or [])]
    if (lay.get("yaxis") or {}).get("automargin") and any(isinstance(v, str) for v in ys):  # room for category names
        m["l"] = max(m["l"], 10 + max(_width(str(v), size) for v in ys))
    x0, x1, y0, y1 = m["l"], width - m["r"], m["t"], height - m["b"]
    legend = lay.get("legend") or {}
    show_legend = bool(lay.get("showlegend", len(data) > 1) and data)
    if show_legend:  # the legend hangs below the plot at legend.y (a fraction of its height): shrink the plot to fit it
        fs = float((legend.get("font") or {}).get("size", size))
        rows = _legend_rows(data, fs, x0 + float(legend.get("x", 0)) * (x1 - x0), width)
        below = -float(legend.get("y", -0.3))
        y1 = min(y1, y0 + (height - y0 - rows * (fs + 8) - 4) / (1 + max(below, 0.0)))
    xa = _Axis(lay.get("xaxis"), xs, x0, x1, "x", bars=bool(bars) and horizontal)
    ya = _Axis(lay.get("yaxis"), ys, y1, y0, "y", bars=bool(bars) and not horizontal)
    y2 = _Axis(lay.get("yaxis2"), y2s, y1, y0, "y") if y2s else None
    out = [f'<rect width="{width}" height="{_f(height)}" fill="{lay.get("paper_bgcolor", "#fff")}"/>']
    grid = (lay.get("xaxis") or {}).get("gridcolor", "#eee")
    # grid and tick labels
    xticks = xa.ticks()
    slot = abs(x1 - x0) / max(1, len(xticks))
    tilt = xa.category and max((_width(lab, size) for _, lab in xticks), default=0) > slot  # plotly tilts them by 30°
    for px, label in xticks:
        if not xa.category:
            out.append(f'<line x1="{_f(px)}" x2="{_f(px)}" y1="{_f(y0)}" y2="{_f(y1)}" stroke="{grid}"/>')
        if tilt:
            out.append(_text(px, y1 + size, label, size, colour, "start", f' transform="rotate(30 {_f(px)} {_f(y1 + size)})"'))
        else:
            out.append(_text(px, y1 + size + 2, label, size, colour, "middle"))
    for px, label in ya.ticks():
        if not ya.category:
            out.append(f'<line x1="{_f(x0)}" x2="{_f(x1)}" y1="{_f(px)}" y2="{_f(px)}" stroke="{(lay.get("yaxis") or {}).get("gridcolor", "#eee")}"/>')
        out.append(_text(x0 - 4, px, label, size, colour, "end"))
    if y2 is not None:  # an overlaying axis takes the grid of the first one (plotly's tickmode "sync")
        for px, _ in ya.ticks():
            v = y2.lo + (px - y2.a) / (y2.b - y2.a) * (y2.hi - y2.lo)
            out.append(_text(x1 + 4, px, sig_label(v), size, colour, "start"))
    # traces: bars, then lines and markers
    n_bars = max(1, len(bars)) if lay.get("barmode") == "group" else 1
    for k, t in enumerate(bars):
        out.extend(_bars(t, xa, ya, horizontal, k if n_bars > 1 else 0, n_bars))
    for t in data:
        if t.get("type", "scatter") == "scatter":
            out.extend(_scatter(t, xa, y2 if t.get("yaxis") == "y2" and y2 is not None else ya))
    # shapes: lines across the plot (x data, y paper)
    for s in lay.get("shapes") or []:
        if s.get("type") == "line" and s.get("yref") == "paper" and not xa.category:
            line = s.get("line") or {}
            dash = {"dot": "2,3", "dash": "6,4"}.get(line.get("dash"), "")
            out.append(f'<line x1="{_f(xa.px(s["x0"]))}" x2="{_f(xa.px(s["x1"]))}" y1="{_f(y1 - s.get("y0", 0) * (y1 - y0))}" '
                       f'y2="{_f(y1 - s.get("y1", 1) * (y1 - y0))}" stroke="{line.get("color", "#000")}" stroke-width="{line.get("width", 1)}"'
                       + (f' stroke-dasharray="{dash}"' if dash else "") + "/>")
    # titles
    title = _title(lay.get("title"))
    if title:
        tx = (lay.get("title") or {}).get("x", 0.5) if isinstance(lay.get("title"), dict) else 0.5
        out.append(_text(tx * width, m["t"] / 2, title, TITLE_SIZE, colour))
    xt = _title((lay.get("xaxis") or {}).get("title"))
    if xt:
        out.append(_text((x0 + x1) / 2, y1 + 2 * size + 10, xt, size + 1, colour, "middle"))
    for spec, x in ((lay.get("yaxis"), 14), (lay.get("yaxis2"), width - 8)):
        yt = _title((spec or {}).get("title"))
        if yt:
            cy = (y0 + y1) / 2
            out.append(_text(x, cy, yt, size + 1, colour, "middle", f' transform="rotate(-90 {_f(x)} {_f(cy)})"'))
    if show_legend:
        out.extend(_legend(data, legend, (x0, x1, y0, y1), width, size, colour))
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {_f(height)}" width="{width}" height="{_f(height)}" '
            f'font-family="{escape(family, quote=True)}">' + "".join(out) + "</svg>")


def _bars(t: dict[str, Any], xa: _Axis, ya: _Axis, horizontal: bool, slot: int, slots: int) -> list[str]:
    cat, val = (ya, xa) if horizontal else (xa, ya)
    cats, vals = (t.get("y") or [], t.get("x") or []) if horizontal else (t.get("x") or [], t.get("y") or [])
    marker = t.get("marker") or {}
    colours = marker.get("color", "#1f77b4")
    line = marker.get("line") or {}
    band = abs(cat.b - cat.a) / max(1e-9, cat.hi - cat.lo) * 0.8   # one category's slot, less plotly's bargap of 0.2
    out = []
    for i, (c, v) in enumerate(zip(cats, vals)):
        if v is None:
            continue
        centre = cat.px(c) - band / 2 + (slot + 0.5) * band / slots
        half = band / slots / 2
        base, end = val.px(0), val.px(v)
        fill = colours[i] if isinstance(colours, list) else colours
        if horizontal:
            x, w, y, h = min(base, end), abs(end - base), centre - half, 2 * half
        else:
            x, w, y, h = centre - half, 2 * half, min(base, end), abs(end - base)
        out.append(f'<rect x="{_f(x)}" y="{_f(y)}" width="{_f(w)}" height="{_f(h)}" fill="{fill}"'
                   + (f' stroke="{line["color"]}" stroke-width="{line.get("width", 1)}"' if line.get("color") else "") + "/>")
    return out


def _scatter(t: dict[str, Any], xa: _Axis, ya: _Axis) -> list[str]:
    pts = [(xa.px(x), ya.px(y)) for x, y in zip(t.get("x") or [], t.get("y") or []) if x is not None and y is not None]
    mode = t.get("mode", "lines+markers")
    line, marker = t.get("line") or {}, t.get("marker") or {}
    colour = line.get("color") or marker.get("color") or "#1f77b4"
    out = []
    if "lines" in mode and len(pts) > 1:
        if line.get("shape") == "hv":
            path = [pts[0]]
            for (_, ya_), (xb, yb) in itertools.pairwise(pts):  # across, then up or down
                path += [(xb, ya_), (xb, yb)]
        else:
            path = pts
        dash = {"dash": "6,4", "dot": "2,3"}.get(line.get("dash"), "")
        out.append(f'<polyline points="{" ".join(f"{_f(x)},{_f(y)}" for x, y in path)}" fill="none" stroke="{colour}" '
                   f'stroke-width="{line.get("width", 2)}"' + (f' stroke-dasharray="{dash}"' if dash else "") + "/>")
    if "markers" in mode:
        r = float(marker.get("size", 6)) / 2
        mcolour = marker.get("color", colour)
        for x, y in pts:
            if str(marker.get("symbol", "")).startswith("line-ns"):
                out.append(f'<line x1="{_f(x)}" x2="{_f(x)}" y1="{_f(y - r)}" y2="{_f(y + r)}" stroke="{mcolour}" stroke-width="2"/>')
            else:
                out.append(f'<circle cx="{_f(x)}" cy="{_f(y)}" r="{_f(r)}" fill="{mcolour}"/>')
    return out


def _legend_rows(data: list[dict[str, Any]], fs: float, left: float, width: float) -> int:
    rows, x = 1, left
    for t in data:
        item = 46 + _width(str(t.get("name") or ""), fs)
        if x + item > width and x > left:
            rows, x = rows + 1, left
        x += item
    return rows


def _legend(data: list[dict[str, Any]], spec: dict[str, Any], plot: tuple[float, float, float, float], width: float,
            size: float, colour: str) -> list[str]:
    """A horizontal legend at (legend.x, legend.y) in plot fractions, wrapping at the picture's edge."""
    x0, x1, y0, y1 = plot
    fs = float((spec.get("font") or {}).get("size", size))
    x, y = x0 + float(spec.get("x", 0)) * (x1 - x0), y1 - float(spec.get("y", -0.3)) * (y1 - y0)
    left = x
    out = []
    for t in data:
        name = str(t.get("name") or "")
        if not name:
            continue
        item = 46 + _width(name, fs)
        if x + item > width and x > left:
            x, y = left, y + fs + 8
        c = (t.get("line") or {}).get("color") or (t.get("marker") or {}).get("color") or "#1f77b4"
        c = c[0] if isinstance(c, list) else c
        if t.get("type") == "bar":
            out.append(f'<rect x="{_f(x + 14)}" y="{_f(y + 2)}" width="12" height="10" fill="{c}"/>')
        else:
            dash = {"dash": "6,4", "dot": "2,3"}.get((t.get("line") or {}).get("dash"), "")
            out.append(f'<line x1="{_f(x + 5)}" x2="{_f(x + 35)}" y1="{_f(y + 7)}" y2="{_f(y + 7)}" stroke="{c}" stroke-width="2"'
                       + (f' stroke-dasharray="{dash}"' if dash else "") + "/>")
        out.append(_text(x + 40, y + 7, name, fs, colour))
        x += item
    return out


def data_uri(svg: str) -> str:
    """The picture as an ``<img src>`` (percent-encoded: smaller than base64 for SVG text)."""
    return "data:image/svg+xml;charset=utf-8," + quote(svg, safe=",.:;=/()-'")
