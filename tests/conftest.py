"""Shared test setup.

Browser tests (``@pytest.mark.browser``) drive Debian's Chromium (``/usr/bin/chromium``)
through Playwright; no browser is ever downloaded. When Chromium is missing they
**fail** under ``CI=true`` and are skipped otherwise. Screenshots and other
artifacts go to ``tests/artifacts/`` (git-ignored).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import settings

import slow_first
from browser_support import ProfileBrowser, page_errors, served

# Every round's steps are checked for NaN under test (core.engine.rounds.CHECK_STEPS), in this process and in the
# processes the tests start (the CLI, Dask workers): set before core is imported.
os.environ.setdefault("SFM_CHECK_STEPS", "1")

# The dashboard tests' app, context and network, one piece of code for every module that names its SNAPSHOT
# (imported after SFM_CHECK_STEPS is set: it imports core).
from dashboard_fixtures import app, ctx, net, server  # noqa: E402, F401

# Property tests search at random on a developer's machine; CI replays a fixed search so that a
# submission passes or fails on its merits, not on the draw (a failure there prints its blob).
settings.register_profile("dev", print_blob=True)
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") == "true" else "dev"))


def _import_project_modules() -> None:
    """Import every module of ``core`` and ``dashboard`` before any test runs.

    Hypothesis draws some values from the constants written in the project's modules that are
    imported when it generates (``hypothesis.internal.conjecture.providers._get_local_constants``),
    so a derandomized search drew differently depending on which tests had imported what before
    it: the 2022 defaults search in tests/test_invariants.py found an Anchor case after
    tests/test_engine.py (which imports ``core.cli``) and nothing when run alone. With every module
    imported up front a search's draws no longer depend on the tests that ran before it.
    """
    import importlib
    import pkgutil

    import core
    import dashboard

    for package in (core, dashboard):
        for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if module.name.rsplit(".", 1)[-1] != "__main__":
                importlib.import_module(module.name)


_import_project_modules()

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"

os.environ.setdefault("DASH_DISABLE_VERSION_CHECK", "true")


def chromium_available() -> bool:
    return Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)


def floating_point_path() -> str:
    """numpy's dispatch path for its vector kernels: "x86-64-v4" when its AVX-512 kernels are on, else "x86-64-v3 or
    lower". The suite's bit-exact pins are of the v3 path (scripts/install-and-test.sh turns AVX-512 off)."""
    import numpy as np

    features = np._core._multiarray_umath.__cpu_features__
    # The group the environment variable turns off: X86_V4 where numpy names it (2.4), else AVX512_SKX. AVX512F alone
    # stays True on an AVX-512 machine with the kernels off, so it does not tell the path.
    v4 = features["X86_V4"] if "X86_V4" in features else features.get("AVX512_SKX", False)
    return "x86-64-v4 (AVX-512)" if v4 else "x86-64-v3 or lower"


def pytest_terminal_summary(terminalreporter) -> None:
    """The path the run took, at its end (the suite runs with ``-q``, which hides the header)."""
    terminalreporter.write_line(f"numpy's floating-point path: {floating_point_path()} "
                                f"(NPY_DISABLE_CPU_FEATURES={os.environ.get('NPY_DISABLE_CPU_FEATURES', '')!r})")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under ``-n 2 --dist worksteal`` the longest tests start first on each worker (tests/slow_first.py)."""
    slow_first.order(config, items)


def pytest_runtest_setup(item: pytest.Item) -> None:
    # A hook, not a fixture: it must run before pytest-playwright's session-scoped browser launches.
    if item.get_closest_marker("browser") and not chromium_available():
        msg = f"{CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium chromium-driver)"
        if os.environ.get("CI") == "true":
            pytest.fail(msg, pytrace=False)
        pytest.skip(msg)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """pytest-playwright: launch the system Chromium, headless, with the flags it needs in containers."""
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "headless": True, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser(playwright, browser_type_launch_args, tmp_path_factory):
    """The worker's Chromium as one profile on disk, kept for the session (``browser_support.ProfileBrowser``): its
    code cache spares each opening of the page the compiling of its scripts; each test still has its own tabs."""
    profile = playwright.chromium.launch_persistent_context(
        tmp_path_factory.mktemp("chromium-profile"), **browser_type_launch_args,
        viewport={"width": 1366, "height": 768}, accept_downloads=True)
    yield ProfileBrowser(profile)
    profile.close()


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1366, "height": 768}, "accept_downloads": True}


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def dashboard_server():
    """The dashboard on the 2022 snapshot (the browser tests follow its Terra story), served from a thread for the whole session.

    Each browser test opens its own page, or shares one with the tests of its module that only read the same view
    (``browser_support.SharedPages``), so no state is shared between tests through the server: per-user state lives
    in the page (stores and URL), not in the server.
    """
    from dashboard.app import create_app

    with served(create_app("crypto-2022-05")) as srv:
        yield srv


@pytest.fixture
def errors(page) -> list[str]:
    """Console errors and uncaught exceptions of the test's page (:func:`browser_support.page_errors`)."""
    return page_errors(page)


@pytest.fixture
def screenshot(artifacts):
    """``screenshot(page, name, publish=False)``: full-page PNG in tests/artifacts/; with
    ``SFM_UPDATE_SCREENSHOTS=1`` in the environment, ``publish`` also copies it to docs/screenshots/
    as dashboard.png (the README's picture), or under the name given. A plain test run leaves
    tracked files alone."""

    def take(page, name: str, *, publish: bool | str = False) -> Path:
        path = artifacts / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        if publish and os.environ.get("SFM_UPDATE_SCREENSHOTS") == "1":
            target = Path(__file__).resolve().parent.parent / "docs" / "screenshots" / (publish if isinstance(publish, str) else "dashboard.png")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
        return path

    return take
