"""What the browser tests share: the dashboard served from a thread on 127.0.0.1, and the page's errors."""

from __future__ import annotations

import contextlib
import socket
import threading
import weakref
from typing import Any, Iterator


PORTS: list[int] = []  # the ports this process has served on, in the order it first took them
SERVING: set[int] = set()  # those it serves on now


@contextlib.contextmanager
def served(app: Any) -> Iterator[Any]:
    """A Dash app's server on 127.0.0.1 from a thread; ``.url`` is its address. Shut down on leaving.

    It takes again the first port this process served on before and serves on no longer, if it is still free, else
    one the system gives: Chromium keys its caches by a script's address, port included, so the modules' servers of a
    worker serving one after another on one port let the profile's code cache (:class:`ProfileBrowser`) serve every
    module's pages. The scripts' addresses are the same in every app (Dash's and the assets'); what differs between
    apps (the page, its layout and callbacks) is sent with no validator or lifetime, and is never cached."""
    from werkzeug.serving import make_server

    for port in [p for p in PORTS if p not in SERVING] + [0]:
        try:
            srv = make_server("127.0.0.1", port, app.server, threaded=True)
            break
        except OSError:  # taken by another process since
            continue
    if srv.server_port not in PORTS:
        PORTS.append(srv.server_port)
    SERVING.add(srv.server_port)
    # The connections it holds open (HTTP/1.1 keeps them alive between requests) are closed with it: the profile's
    # idle connection to this port would otherwise reach this app's thread after the next app took the port (it did:
    # docs/invariants.md, Session 43 (suite)).
    connections: set[Any] = set()
    process_request, shutdown_request = srv.process_request, srv.shutdown_request

    def process(request: Any, address: Any) -> None:
        connections.add(request)
        process_request(request, address)

    def shut(request: Any) -> None:
        connections.discard(request)
        shutdown_request(request)

    srv.process_request, srv.shutdown_request = process, shut
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    srv.url = f"http://127.0.0.1:{srv.server_port}/"
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()
        for connection in list(connections):
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        SERVING.discard(srv.server_port)
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


# -- one Chromium profile a worker: V8's code cache kept across openings ---------------------------------------------

CLEARED = "cookies,local_storage,indexeddb,websql,service_workers,cache_storage,file_systems,shared_storage,storage_buckets"


class ProfileBrowser:
    """The browser the tests drive (the ``browser`` fixture): one Chromium profile of the worker's, on disk for the
    session (Playwright's ``launch_persistent_context``), standing in for Playwright's ``Browser``, whose every context
    is incognito. An incognito context keeps no compiled code, so every opening of the page parsed and compiled its
    ~10 MB of scripts afresh; a profile keeps V8's code cache of each script (Chromium writes it on the script's second
    run and reads it from the third), which takes 0.5-0.7 s of Chromium's CPU off an opening of 2.8-3.0 s
    (docs/invariants.md, Session 43 (suite)).

    What a test had of its own in an incognito context it still has: each page is a new tab (its own session storage
    and its page's memory, dcc.Store's data with it), and what a tab can leave in the profile (cookies, local storage,
    IndexedDB, service workers, Cache Storage) is cleared for every origin the tab visited when it closes
    (:func:`clear_on_close`); the page sets none of them (no ``storage_type`` in ``dashboard/``). What is shared is
    the disk's HTTP cache and the code cache, which change what a script costs, not what it does.

    ``new_page(viewport=...)`` is ``Browser.new_page``: a tab at that size. ``new_context(viewport=...)`` is
    ``Browser.new_context``: a :class:`Tabs` of that size whose ``close`` closes its tabs."""

    OPTIONS = {"viewport", "accept_downloads"}  # what the tests ask of a context; anything else is refused, not ignored

    def __init__(self, profile: Any) -> None:
        self.profile = profile

    def _check(self, options: dict[str, Any]) -> None:
        if set(options) - self.OPTIONS:
            raise TypeError(f"ProfileBrowser does not emulate {sorted(set(options) - self.OPTIONS)} (tests/browser_support.py)")
        if options.get("accept_downloads") is False:
            raise TypeError("the profile accepts downloads")

    def new_page(self, viewport: dict[str, int] | None = None, **options: Any) -> Any:
        self._check(options)
        return tab(self.profile, viewport)

    def new_context(self, viewport: dict[str, int] | None = None, **options: Any) -> "Tabs":
        self._check(options)
        return Tabs(self.profile, viewport)

    def close(self) -> None:
        self.profile.close()


MADE: "weakref.WeakSet[Any]" = weakref.WeakSet()  # the tabs :func:`tab` opened (a Tabs closes only its own of them)


def tab(profile: Any, viewport: dict[str, int] | None) -> Any:
    """A new tab of ``profile`` at ``viewport`` (the profile's own size, 1366 × 768, if None), cleared on closing."""
    page = profile.new_page()
    MADE.add(page)
    if viewport and viewport != page.viewport_size:
        page.set_viewport_size(viewport)
    clear_on_close(profile, page)
    return page


def clear_on_close(profile: Any, page: Any) -> None:
    """When ``page`` is closed by its ``close()``, first clear what it could have left in the profile: the cookies and
    the storage (:data:`CLEARED`) of every origin it was on."""
    if getattr(page, "sfm_clears", False):
        return
    page.sfm_clears = True
    origins: set[str] = set()
    page.on("framenavigated", lambda frame: origins.add(origin(frame.url)))
    close = page.close

    def clearing_close(*args: Any, **kwargs: Any) -> None:
        if not page.is_closed():
            cdp = profile.new_cdp_session(page)
            for o in origins - {""}:
                cdp.send("Storage.clearDataForOrigin", {"origin": o, "storageTypes": CLEARED})
            cdp.detach()
            profile.clear_cookies()
        close(*args, **kwargs)

    page.close = clearing_close


def origin(url: str) -> str:
    """``scheme://host:port`` of an http(s) address, "" for any other (about:blank, data:)."""
    from urllib.parse import urlsplit

    u = urlsplit(url)
    return f"{u.scheme}://{u.netloc}" if u.scheme in ("http", "https") else ""


class Tabs:
    """``Browser.new_context``'s stand-in on the profile: ``new_page`` opens a tab at the group's size, ``close``
    closes every tab opened while the group was open (its own, and those a test opened from one of them through
    ``page.context.new_page()``, which is the profile), but those of :class:`ProfileBrowser`'s ``new_page`` (a
    shared page, closed by its owner). Anything else (``new_cdp_session``, ``tracing``) is the profile's."""

    def __init__(self, profile: Any, viewport: dict[str, int] | None) -> None:
        self.profile, self.viewport = profile, viewport
        self.tabs: list[Any] = []
        self.opened: list[Any] = []
        self.listeners: list[tuple[str, Any]] = []
        self.profile.on("page", self._opened)

    def _opened(self, page: Any) -> None:
        """Any tab opened while the group is open: its own, one opened through the profile (``page.context.new_page()``),
        or one of :func:`tab`'s for another owner (told apart at ``close``)."""
        self.opened.append(page)
        clear_on_close(self.profile, page)

    def new_page(self) -> Any:
        page = tab(self.profile, self.viewport)
        self.tabs.append(page)
        return page

    @property
    def pages(self) -> list[Any]:
        """The group's open tabs: its own and those opened through the profile while it was open."""
        own = self.tabs + [p for p in self.opened if p not in MADE and p not in self.tabs]
        return [p for p in own if not p.is_closed()]

    def on(self, event: str, handler: Any) -> None:
        self.listeners.append((event, handler))
        self.profile.on(event, handler)

    def close(self, **_: Any) -> None:
        self.profile.remove_listener("page", self._opened)
        for event, handler in self.listeners:
            self.profile.remove_listener(event, handler)
        for page in self.pages:
            page.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.profile, name)
