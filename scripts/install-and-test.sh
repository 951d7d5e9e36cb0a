#!/usr/bin/env bash
# Installs everything the test suite needs on a fresh Debian machine and runs it.
# Debian's chromium and chromium-driver (for the browser tests), redis-server (for the
# Celery/Redis tests, which start their own server on 127.0.0.1) and nodejs (sfm.js tests) are installed when missing;
# Python packages go into ./.venv. Under CI=true a missing browser or redis-server fails those tests.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
PY="${PYTHON:-python3}"

apt_packages=""
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  apt_packages="chromium chromium-driver"
fi
if ! command -v redis-server >/dev/null 2>&1; then
  apt_packages="$apt_packages redis-server"
fi
# node runs assets/sfm.js outside the browser (tests/test_dashboard_views.py)
if ! command -v node >/dev/null 2>&1; then
  apt_packages="$apt_packages nodejs"
fi
# Debian's own python3 ships venv separately.
if ! "$PY" -c "import venv, ensurepip" >/dev/null 2>&1; then
  apt_packages="$apt_packages python3-venv"
fi
if [ -n "$apt_packages" ]; then
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q $apt_packages
fi

if [ ! -x .venv/bin/python ]; then "$PY" -m venv .venv; fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'
# Lint and type-check (rule sets in pyproject.toml: ruff over the repository, mypy over core/), then the suite: tests/ and the doctests of core/
# (pyproject's testpaths and --doctest-modules), the wheel test included, on two workers (pytest-xdist; work
# stealing, since a few property tests take a minute each): 881.94 s of wall time on a fresh clone in session 36
# (2,865 passed, 134 xfailed; 965.88 s with the installs); session 37's fresh clone of d0db2860, its first twelve
# minutes beside two 600 s searches on the same two cores: 1,210.96 s (2,913 passed, 129 xfailed). Perfect balance of the suite's CPU alone is about 636 s
# (1,273 s of CPU on the two cores, session 35), without Chromium's: its processes are never reaped into pytest's usage,
# and they spend 2.3-3.0 s of CPU on each opening of the page: 5.6-6.3 s a browser test over 37 measured in four runs,
# about 600 s for the 107 (session 41).
.venv/bin/ruff check .
.venv/bin/python -m mypy
# One floating-point path on every x86-64 machine: numpy's AVX-512 kernels (its SVML cbrt, pow, exp, log) round some
# results one ulp apart from the libm path that x86-64-v3 machines take (stableswap_D([1, 1]) with one Newton step
# 2.0 there, 2.0000000000000004 here), and the knife-edge pins the suite keeps (bit-exact equalities, the ledger's
# measured sizes) were then measured on one path or the other. With these off, an AVX-512 machine takes the v3 path.
export NPY_DISABLE_CPU_FEATURES="${NPY_DISABLE_CPU_FEATURES-X86_V4 AVX512_ICL AVX512_SPR}"
# The project's modules compiled once, bytecode beside the sources (git-ignored, never in the wheel): the suite's
# processes (both workers, and the children its tests start: the benchmarks' children, the CLI, gunicorn, Celery, the
# process pools) then read it instead of each compiling core/ and dashboard/ again, as they do on a fresh clone or
# under PYTHONDONTWRITEBYTECODE. 0.5 s of CPU once; a process's import 0.2 s (core), 0.3 s (core.cli), 0.6 s
# (dashboard.app) of CPU less (session 37).
.venv/bin/python -m compileall -q core dashboard benchmarks
exec .venv/bin/python -m pytest -n 2 --dist worksteal "$@"
