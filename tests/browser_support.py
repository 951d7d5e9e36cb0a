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


class SharedPages:
    """Pages a module's tests share where each only reads what the page shows once it is open: one opening of a view
    (a URL at a window size) serves them all, where each opening costs Chromium 2.3-3.0 s of CPU (docs/invariants.md,
    Session 41 (suite)). ``get(key, size, open_)`` gives the page of ``key`` at ``size`` (width, height) and the errors
    it has shown since it was opened, calling ``open_(page)`` on the first asking. At most ``keep`` pages stay open
    (asking for another view closes the one asked for longest ago: an open page left idle still costs Chromium
    0.05-0.07 s of CPU a second), so the tests sharing a view stand next to each other in their module, and the last
    of them ``release``s it; ``close()`` (the module fixture's tear-down) closes the rest.

    A test that changes what the page shows (a control, a tab, a selection) does not take a shared page, or puts back
    what it changed before it returns, or is the last to take it (and says so). A page whose opening failed is closed
    and not kept: the next test that asks opens it afresh, and fails on its own."""

    def __init__(self, browser: Any, keep: int = 1) -> None:
        self.browser, self.keep = browser, keep
        self.pages: dict[Any, tuple[Any, list[str]]] = {}

    def get(self, key: Any, size: tuple[int, int], open_: Any) -> tuple[Any, list[str]]:
        if (key, size) in self.pages:
            self.pages[key, size] = self.pages.pop((key, size))  # the most recently asked for, last
        else:
            while len(self.pages) >= self.keep:
                page, _ = self.pages.pop(next(iter(self.pages)))
                page.close()
            page = self.browser.new_page(viewport={"width": size[0], "height": size[1]})
            errors = page_errors(page)
            try:
                open_(page)
            except BaseException:
                page.close()
                raise
            self.pages[key, size] = page, errors
        return self.pages[key, size]

    def release(self, key: Any, size: tuple[int, int]) -> None:
        """Close the page of ``key`` at ``size`` if it is open: its last test is done with it."""
        if (key, size) in self.pages:
            self.pages.pop((key, size))[0].close()

    def close(self) -> None:
        for page, _ in self.pages.values():
            page.close()
        self.pages.clear()
