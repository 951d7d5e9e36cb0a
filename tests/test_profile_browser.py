"""The browser the tests drive (``tests/browser_support.py``'s ``ProfileBrowser``, the ``browser`` fixture): one
Chromium profile a worker, kept for the session so that V8's code cache serves every opening of the page, with each
test's tabs as much its own as in the incognito context each test had before (docs/invariants.md, Session 43
(suite)). Checked on a two-route page of its own (no dashboard: the profile, not the page, is under test)."""

from __future__ import annotations

import types

import pytest
from flask import Flask
from playwright.sync_api import Page

from browser_support import PORTS, Tabs, served

pytestmark = pytest.mark.browser

LEAVE = """() => { localStorage.setItem('left', 'behind'); sessionStorage.setItem('left', 'behind');
    document.cookie = 'left=behind; max-age=3600'; return new Promise((done, fail) => {
        const r = indexedDB.open('left', 1); r.onupgradeneeded = () => r.result.createObjectStore('s');
        r.onsuccess = () => { r.result.close(); done(true); }; r.onerror = fail; }); }"""
FOUND = """() => indexedDB.databases().then(dbs => [localStorage.getItem('left'), sessionStorage.getItem('left'),
    document.cookie, dbs.map(d => d.name)])"""
NOTHING = [None, None, "", []]


@pytest.fixture(scope="module")
def site():
    flask = Flask(__name__)
    flask.add_url_rule("/", "page", lambda: "<!doctype html><title>p</title><p>a page</p>")
    with served(types.SimpleNamespace(server=flask)) as srv:
        yield srv


def test_what_a_tab_leaves_in_the_profile_is_cleared_when_it_closes(site, browser):
    """A tab's cookies, local and session storage and IndexedDB do not reach the next tab on the same origin, as
    with the incognito context each test had; while the tab is open they are there (the check can fail)."""
    first = browser.new_page()
    first.goto(site.url)
    first.evaluate(LEAVE)
    assert first.evaluate(FOUND) == ["behind", "behind", "left=behind", ["left"]]
    second = browser.new_page()
    second.goto(site.url)
    assert second.evaluate(FOUND)[0::2] == ["behind", "left=behind"]  # shared while both are open, as in one context
    second.close()
    first.close()
    third = browser.new_page()
    third.goto(site.url)
    assert third.evaluate(FOUND) == NOTHING
    third.close()


def test_a_context_closes_its_tabs_and_those_opened_from_them_not_anothers(site, browser, page: Page):
    """``browser.new_context()`` (and pytest-playwright's ``context`` behind ``page``) closes on ``close`` its own tabs
    and a tab opened through ``page.context.new_page()`` while it was open, and leaves a tab of ``browser.new_page()``
    (a shared page) to its owner; a context's tabs have its size."""
    shared = browser.new_page(viewport={"width": 800, "height": 600})
    context = browser.new_context(viewport={"width": 1024, "height": 700})
    assert isinstance(context, Tabs)
    own = context.new_page()
    assert own.viewport_size == {"width": 1024, "height": 700}
    assert shared.viewport_size == {"width": 800, "height": 600}
    assert page.viewport_size == {"width": 1366, "height": 768}
    own.goto(site.url)
    own.evaluate(LEAVE)
    through = own.context.new_page()
    context.close()
    assert own.is_closed() and through.is_closed()
    assert not shared.is_closed() and not page.is_closed()
    shared.goto(site.url)
    assert shared.evaluate(FOUND) == NOTHING
    shared.close()


def test_a_server_takes_again_a_port_its_process_served_on(site):
    """The modules' servers of a worker serve one after another on one port, which keeps the scripts' addresses
    (and so Chromium's caches of them) the same from module to module."""
    app = types.SimpleNamespace(server=Flask("other"))
    with served(app) as a:
        assert a.server_port != site.server_port  # the site's port is taken
        port = a.server_port
    with served(app) as b:
        assert b.server_port == port
    assert PORTS.index(site.server_port) < PORTS.index(port)


def test_the_browser_refuses_what_it_does_not_emulate(browser):
    """A test asking for a context option the profile does not emulate fails, rather than running without it."""
    with pytest.raises(TypeError, match="locale"):
        browser.new_context(locale="de-DE")
    with pytest.raises(TypeError, match="downloads"):
        browser.new_page(accept_downloads=False)


def test_a_page_on_a_port_taken_again_is_the_new_apps(browser):
    """When one app's server closes and another app's takes its port, a tab that had the first app open, and a new
    tab, reach the new app (the profile keeps no cached page that would show the old one). It does not reproduce
    the kept-alive connection a closed server's threads held open (``served`` now closes them): that race showed
    only in an ordered run of this module, then ``test_run_panels_browser``'s last two tests and the pegs-heading
    test (Session 43 (suite)), and this test passes without the fix."""
    one, two = Flask("one"), Flask("two")
    one.add_url_rule("/", "page", lambda: "<!doctype html><p>one</p>")
    two.add_url_rule("/", "page", lambda: "<!doctype html><p>two</p>")
    page = browser.new_page()
    with served(types.SimpleNamespace(server=one)) as a:
        page.goto(a.url)
        assert page.inner_text("p") == "one"
        port = a.server_port
    with served(types.SimpleNamespace(server=two)) as b:
        assert b.server_port == port
        page.goto(b.url)
        assert page.inner_text("p") == "two"
        fresh = browser.new_page()
        fresh.goto(b.url)
        assert fresh.inner_text("p") == "two"
        fresh.close()
    page.close()
