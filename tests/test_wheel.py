"""The built wheel works anywhere: datasets, presets and the page's assets travel inside it.

The test builds the wheel from a copy of the source tree, installs it with
``--no-deps`` into a fresh virtual environment outside the checkout (the
dependencies come from the running environment through a ``.pth`` line, which
stands for ``--system-site-packages``: that flag would give the base
interpreter's packages, not this environment's), and runs the installed ``sfm``
from a folder that holds no ``data/`` or ``assets/``: ``sfm validate`` on the
shipped dataset, ``sfm simulate`` on a shipped preset, and ``sfm dashboard``,
whose page must link ``assets/sfm.js`` and serve it byte for byte.

It needs ``setuptools>=77`` and ``wheel`` in the running environment (the
``test`` extra) because it builds without network access (``--no-build-isolation``).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: What a source distribution carries (MANIFEST.in grafts data/ and assets/).
SOURCE = ("core", "dashboard", "data", "assets", "pyproject.toml", "setup.py", "MANIFEST.in", "README.md")

pytestmark = pytest.mark.slow


def _run(cmd: list[str], env: dict[str, str], cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, dict[str, str], Path]:
    """(the venv's bin folder, an environment without the checkout on it, a working folder outside the checkout)."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    src.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build", "dist")
    for name in SOURCE:
        path = ROOT / name
        (shutil.copytree(path, src / name, ignore=ignore) if path.is_dir() else shutil.copy2(path, src / name))

    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SFM_DATA", "SFM_DATA_PATH", "PYTHONHOME")}
    built = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                  str(tmp / "dist"), str(src)], env, tmp)
    assert built.returncode == 0, built.stderr[-3000:]
    (wheel,) = (tmp / "dist").glob("sfm-*.whl")

    venv = tmp / "venv"
    made = _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], env, tmp)
    assert made.returncode == 0, made.stderr
    py = venv / "bin" / "python"
    site = Path(_run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], env, tmp).stdout.strip())
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    # Plain path lines: the running environment's own .pth files (an editable sfm) are not processed.
    (site / "_sfm_test_deps.pth").write_text("\n".join(sorted(deps)) + "\n")
    inst = _run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "-q", str(wheel)], env, tmp)
    assert inst.returncode == 0, inst.stderr[-3000:]
    work = tmp / "elsewhere"
    work.mkdir()
    return venv / "bin", env, work


def test_wheel_imports_its_own_copy_with_data_inside(installed):
    bin_dir, env, work = installed
    out = _run([str(bin_dir / "python"), "-c",
                "import core, dashboard.app as a, core.datasets as d; "
                "print(core.__file__); print(d.DATA_DIR); print(a.ASSETS); print(d.default().n_entities)"], env, work)
    assert out.returncode == 0, out.stderr
    core_file, data_dir, assets_dir, n = out.stdout.split("\n")[:4]
    venv = bin_dir.parent
    assert Path(core_file).is_relative_to(venv), core_file
    assert Path(data_dir) == Path(core_file).parent / "_data"
    assert Path(assets_dir) == Path(core_file).parent.parent / "dashboard" / "_assets"
    import core.datasets

    assert int(n) == core.datasets.default().n_entities  # the shipped dataset, not the synthetic fallback
    assert (Path(data_dir) / "crypto-2022-05" / "entities.csv").read_bytes() == \
        (ROOT / "data" / "crypto-2022-05" / "entities.csv").read_bytes()


def test_installed_sfm_validates_and_simulates_shipped_files(installed):
    bin_dir, env, work = installed
    sfm = str(bin_dir / "sfm")
    data_dir = Path(_run([str(bin_dir / "python"), "-c", "import core.datasets as d; print(d.DATA_DIR)"],
                         env, work).stdout.strip())
    assert data_dir.is_relative_to(bin_dir.parent), data_dir
    ok = _run([sfm, "validate", str(data_dir / "crypto-2022-05")], env, work)
    assert ok.returncode == 0, ok.stderr
    sim = _run([sfm, "simulate", str(data_dir / "scenarios" / "terra_may_2022.json"), "--out", "res.json"], env, work)
    assert sim.returncode == 0, sim.stderr
    assert (work / "res.json").stat().st_size > 1000
    described = _run([sfm, "describe", "--json"], env, work)
    assert described.returncode == 0, described.stderr
    assert '"name": "crypto-2025-10"' in described.stdout  # the newest shipped snapshot by default, not a synthetic one


def test_installed_dashboard_serves_its_javascript(installed):
    bin_dir, env, work = installed
    port = _free_port()
    proc = subprocess.Popen([str(bin_dir / "sfm"), "dashboard", "--port", str(port)], env=env, cwd=work,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        page, deadline = None, time.monotonic() + 60
        while page is None and time.monotonic() < deadline:
            assert proc.poll() is None, proc.stdout.read()
            try:
                page = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5).read().decode()
            except OSError:
                time.sleep(0.3)
        assert page is not None, "the dashboard did not answer within 60 s"
        assert "synthetic network" not in page
        links = re.findall(r'src="(/assets/sfm\.js[^"]*)"', page)
        assert links, "the page does not load assets/sfm.js"
        served = urllib.request.urlopen(f"http://127.0.0.1:{port}{links[0]}", timeout=10).read()
        assert served == (ROOT / "assets" / "sfm.js").read_bytes()
        css = re.findall(r'href="(/assets/sfm\.css[^"]*)"', page)
        assert css and urllib.request.urlopen(f"http://127.0.0.1:{port}{css[0]}", timeout=10).status == 200
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
