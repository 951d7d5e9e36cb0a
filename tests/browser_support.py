"""What the browser tests share: the dashboard served from a thread on 127.0.0.1, and the page's errors."""

from __future__ import annotations

import contextlib
import threading
from typing import Any, Iterator


@contextlib.contextmanager
def served(app: Any) -> Iterator[Any]:
    """A Dash app's server on 127.0.0.1 from a thread; ``.url`` is its address. Shut down on leaving."""
    from werkzeug.serving import make_server

    srv = make_server("127.0.0.1", 0, app.server, threaded=True)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    srv.url = f"http://127.0.0.1:{srv.server_port}/"
    try:
        yield srv
    finally:
        srv.shutdown()
        t.join(timeout=5)


def page_errors(page: Any) -> list[str]:
    """Console errors and uncaught exceptions of ``page`` from now on, as they come (cytoscape's
    wheelSensitivity *warning* is not an error)."""
    seen: list[str] = []
    page.on("pageerror", lambda e: seen.append(f"pageerror: {e}"))
    page.on("console", lambda m: seen.append(f"console: {m.text}") if m.type == "error" else None)
    return seen
