"""What the first page loads: component bundles only one side tab needs are fetched when that tab is about to open.

Dash puts every imported component library's bundle in the page, ahead of the renderer, so the page
waits for all of them before it draws anything. ``dash-ag-grid`` (1.3 MB of the 3.0 MB of scripts of
the page, measured on Dash 4.4 / dash-ag-grid 35.3) draws only the critical-nodes table, on a side tab
that is closed when the page opens. ``dcc.Tabs`` renders the open tab's content only, so the renderer
needs the grid's bundle no earlier than when that tab is chosen.

:func:`defer` takes such bundles out of the page's script tags and names their addresses in
``window.sfmLazyBundles`` instead (the same fingerprinted URLs Dash would have used, still registered,
so the server serves them and the browser caches them as before). Until a bundle has run, ``assets/sfm_page.js``
stands a placeholder namespace in for it (every component type draws nothing): the renderer looks up the
type of every component of the layout when the page opens (persistence, callback targets), not only of those
it draws. ``assets/sfm_page.js`` loads a bundle when
the pointer or the keyboard focus reaches a tab marked ``needs-<namespace>`` (:func:`tab_class`), and holds
a click on such a tab until the bundle has run (then clicks again), so the tab never renders a component
whose library is missing.
"""

from __future__ import annotations

import json
import re
from typing import Any

#: Component libraries loaded on demand (their namespace: the package name Dash serves them under).
DEFERRED = ("dash_ag_grid",)


def tab_class(*namespaces: str) -> str:
    """The class of a ``dcc.Tab`` whose content needs the deferred libraries ``namespaces``."""
    return " ".join(f"needs-{ns}" for ns in namespaces)


def split_scripts(scripts_html: str, namespaces: tuple[str, ...] = DEFERRED) -> tuple[str, dict[str, list[str]]]:
    """Dash's script tags without the bundles of ``namespaces``, and those bundles' addresses per namespace.

    >>> tags = '<script src="/_dash-component-suites/dash_ag_grid/dash_ag_grid.v1m2.min.js"></script>\\n<script src="/a.js"></script>'
    >>> split_scripts(tags)
    ('<script src="/a.js"></script>', {'dash_ag_grid': ['/_dash-component-suites/dash_ag_grid/dash_ag_grid.v1m2.min.js']})
    """
    kept: list[str] = []
    deferred: dict[str, list[str]] = {}
    for line in scripts_html.split("\n"):
        m = re.fullmatch(r'<script src="([^"]*/_dash-component-suites/([^/"]+)/[^"]*)"></script>', line.strip())
        if m and m.group(2) in namespaces:
            deferred.setdefault(m.group(2), []).append(m.group(1))
        else:
            kept.append(line)
    return "\n".join(kept), deferred


def defer(app: Any, namespaces: tuple[str, ...] = DEFERRED) -> None:
    """Make ``app``'s page load the bundles of ``namespaces`` on demand (see the module docstring)."""
    generate = app._generate_scripts_html

    def scripts_html() -> str:
        kept, deferred = split_scripts(generate(), namespaces)
        config = json.dumps(deferred).replace("</", "<\\/")
        return f"<script>window.sfmLazyBundles = {config};</script>\n" + kept  # before assets/sfm_page.js, which reads it

    app._generate_scripts_html = scripts_html
