"""The ``sfm`` command line: every main job without a browser.

Exit status: 0 on success; 2 on bad input (a bad file, value or option), with a
message on stderr naming the file, line or record, column, the value found and
what was expected; 1 when the output cannot be written or on an unexpected
error; 130 when interrupted. No traceback is ever printed (set ``SFM_DEBUG=1``
to see one for an unexpected error).

Output files (``--out``)
------------------------
* The output path is checked **before** any computing: its folder must exist
  (sfm does not create folders, so a mistyped path is caught at once: create the
  folder and run again) and be writable; a path that already exists is refused
  unless ``--force`` is given.
* The result is written to a temporary file (or folder, for ``--format csv``) in
  the same folder and renamed onto the path when complete, so a reader never sees
  a half-written file and an earlier file is replaced only by a whole new one. If
  writing fails, the message says so and where any partial copy was left.
* JSON output is strict RFC 8259: a value that is not finite is written as
  ``null`` and listed with its reason (``null_reasons``), never as ``Infinity``
  or ``NaN``.
* CSV output escapes text cells that begin with ``=``, ``+``, ``-``, ``@``, a tab
  or a carriage return by a leading ``'`` (OWASP, CSV injection), so a spreadsheet
  shows them as text instead of running them as formulas.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from .validation import DataValidationError, Problem

EXIT_OK, EXIT_ERROR, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130


class OutputError(RuntimeError):
    """The result was computed but could not be written."""


# -- option types: argparse reports a bad value as "argument --top: expected ..." and exits 2 ------

def _whole(text: str, low: int, what: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
    if v < low:
        raise argparse.ArgumentTypeError(f"expected {what}, got {v}")
    return v


def positive_int(text: str) -> int:
    return _whole(text, 1, "a positive whole number")


def non_negative_int(text: str) -> int:
    return _whole(text, 0, "a whole number >= 0")


def positive_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (math.isfinite(v) and v > 0):
        raise argparse.ArgumentTypeError(f"expected a finite positive number, got {text!r}")
    return v


def port_number(text: str) -> int:
    v = _whole(text, 1, "a port number in 1-65535")
    if v > 65535:
        raise argparse.ArgumentTypeError(f"expected a port number in 1-65535, got {v}")
    return v


# -- output: checked before computing, written atomically ---------------------------------------

def check_output(path: str | None, *, folder: bool = False, force: bool = False) -> Path | None:
    """Check ``--out`` before any work: existing writable folder, no existing path unless ``force``."""
    if path is None:
        return None
    out = Path(path)
    parent = out.parent if str(out.parent) else Path(".")
    what = "a folder of CSV files" if folder else "a file"
    problem = None
    if not out.name or out.name in (".", ".."):
        problem = f"a path naming {what}"
    elif not parent.is_dir():
        problem = (f"a path in an existing folder ('{parent}' does not exist; create it first: sfm does not create "
                   "folders)" if not parent.exists() else f"a path in a folder ('{parent}' is not a folder)")
    elif not os.access(parent, os.W_OK | os.X_OK):
        problem = f"a path in a folder you may write to ('{parent}' is not writable)"
    elif out.is_dir() and not folder:
        problem = f"a file path ('{out}' is a folder)"
    elif out.exists() and folder and not out.is_dir():
        problem = f"a folder path ('{out}' is a file)"
    elif out.exists() and not force:
        problem = "a path that does not exist yet (it does; pass --force to replace it)"
    if problem:
        raise DataValidationError([Problem("command line", None, "--out", str(path), problem)])
    return out


def _mode(path: Path, default: int) -> int:
    """Permissions for a new output: those of the file it replaces, else ``default`` less the umask."""
    if path.exists():
        return path.stat().st_mode & 0o7777
    umask = os.umask(0)
    os.umask(umask)
    return default & ~umask


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path``, then rename it onto ``path``."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _mode(path, 0o666))  # mkstemp makes 0600
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise OutputError(f"could not write {path}: {exc.strerror or exc}; nothing was written there") from None


def write_folder_atomic(path: Path, files: Mapping[str, str]) -> None:
    """Write ``files`` (name → text) into a temporary folder beside ``path``, then rename it to ``path``.

    An existing folder (with ``--force``) is moved aside first and removed once the new one is in place.
    """
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"))
    try:
        for name, text in files.items():
            (tmp / name).write_text(text, encoding="utf-8", newline="")
        os.chmod(tmp, _mode(path, 0o777))  # mkdtemp makes 0700
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise OutputError(f"could not write {path}: {exc.strerror or exc}; nothing was written there") from None
    old = None
    try:
        if path.exists():
            old = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".old"))
            os.replace(path, old / path.name)
        os.replace(tmp, path)
    except OSError as exc:
        if old is not None and not path.exists():
            os.replace(old / path.name, path)
        raise OutputError(f"could not move the result into {path}: {exc.strerror or exc}; it is complete in {tmp}") from None
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def json_text(doc: Any, **kwargs: Any) -> str:
    """Strict JSON (no NaN/Infinity); for a list, the reasons for any nulls go to stderr."""
    from .strict_json import finite_json_dumps

    text = finite_json_dumps(doc, **kwargs)
    if not isinstance(doc, dict):
        nulls = finite_json_dumps({"v": doc})
        reasons = json.loads(nulls).get("null_reasons", [])
        if reasons:
            print(f"note: {len(reasons)} value(s) not finite were written as null (JSON has no Infinity or NaN): "
                  + ", ".join(f"{r['where'].removeprefix('v.')} = {r['value']}" for r in reasons[:10]), file=sys.stderr)
    return text


def _network(data: str | None):
    from . import datasets
    from .io import load_network

    return datasets.default() if data is None else load_network(data)


def _usd(x: float) -> str:
    if not math.isfinite(x):
        return f"n/a ({x})"
    for unit, div in (("bn", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(x) >= div:
            return f"${x / div:,.2f}{unit}"
    return f"${x:,.0f}"


def cmd_validate(args: argparse.Namespace) -> int:
    from .io import load_network

    net = load_network(args.path)
    d = net.describe()
    print(f"OK: {args.path} is valid: {d['entities']} entities, {d['assets']} assets, {d['holdings']} holdings, "
          f"{d['exposures']} exposures, {d['cohorts']} cohorts"
          + (f", {d['positions']} perpetual positions ({_usd(d['open_interest_usd'])} at entry)" if d["positions"] else "")
          + f"; {d['rows_sourced']} rows sourced, "
          f"{d['rows_estimate']} estimated.")
    mism = net.equity_mismatches()
    if len(mism):
        print(f"Balance-sheet identity: {len(mism)} entit{'y' if len(mism) == 1 else 'ies'} whose reported equity "
              "differs from assets minus liabilities by more than 5% of assets:")
        for eid, r in mism.iterrows():
            print(f"  - {eid}: derived {_usd(r.derived_equity_usd)}, reported {_usd(r.reported_equity_usd)}")
    else:
        print("Balance-sheet identity: every reported equity matches assets minus liabilities.")
    return EXIT_OK


def cmd_describe(args: argparse.Namespace) -> int:
    from .datasets import sourced_counts

    net = _network(args.data)
    d = net.describe(top=args.top)
    sourced = sourced_counts(net)
    d["sourced_by_table"] = sourced.to_dict(orient="index")
    if args.json:
        print(json_text(d, indent=2, default=float))
        return EXIT_OK
    print(f"{d['name']} (as of {d['as_of']})")
    print(f"  {d['entities']} entities, {d['assets']} assets, {d['holdings']} holdings, {d['exposures']} exposures, {d['cohorts']} borrower cohorts")
    print(f"  total exposure {_usd(d['total_exposure_usd'])}; token holdings {_usd(d['total_holdings_usd'])}; protocol borrowing {_usd(d['cohort_debt_usd'])}")
    print(f"  rows: {d['rows_sourced']} sourced, {d['rows_estimate']} estimated")
    print("Sourced share by table:")
    for r in sourced.itertuples():
        print(f"  {r.Index:<22} {r.sourced:>4} of {r.rows:<4} {r.sourced_share:6.1%}")
    print("Entities by type:")
    for t, c in d["entities_by_type"].items():
        print(f"  {t:<22} {c}")
    print("Largest creditors:")
    for k, v in d["largest_creditors_usd"].items():
        print(f"  {k:<22} {_usd(v)}")
    print("Largest debtors:")
    for k, v in d["largest_debtors_usd"].items():
        print(f"  {k:<22} {_usd(v)}")
    return EXIT_OK


def cmd_dashboard(args: argparse.Namespace) -> int:
    from dashboard.app import run

    run(data=args.data, host=args.host, port=args.port, debug=args.debug)
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="sfm",
        description="Systemic failure modeling for crypto finance: cascades of liquidations and defaults.",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("validate", help="check a dataset folder or JSON file and report every problem",
                       description="Validate a dataset (folder of CSV files or one JSON file). Exit 2 with the list of problems when it is bad.")
    s.add_argument("path", metavar="DIR_OR_FILE")
    s.set_defaults(func=cmd_validate)

    s = sub.add_parser("describe", help="summarise a network: entities by type, exposures, largest creditors and debtors",
                       description="Summarise a network (the shipped dataset unless --data is given).")
    s.add_argument("--data", metavar="DIR", help="dataset folder or JSON file (default: the shipped 2022-05-06 dataset)")
    s.add_argument("--top", type=positive_int, default=5, help="how many creditors and debtors to list (default 5)")
    s.add_argument("--json", action="store_true", help="print JSON instead of text")
    s.set_defaults(func=cmd_describe)

    s = sub.add_parser("dashboard", help="start the interactive dashboard",
                       description="Start the dashboard at http://HOST:PORT on a dataset (the shipped one by default).")
    s.add_argument("--data", metavar="DIR", help="dataset folder or JSON file (default: the shipped dataset)")
    s.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    s.add_argument("--port", type=port_number, default=8050, help="port (default 8050)")
    s.add_argument("--debug", action="store_true", help="Dash debug mode (development only)")
    s.set_defaults(func=cmd_dashboard)

    for extra in _EXTRA_COMMANDS:
        extra(sub)
    return p


#: Later modules (engine, Monte Carlo) register their sub-commands here.
_EXTRA_COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = []


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit status (see the module docstring), never raises."""
    try:
        _load_extra_commands()
        parser = build_parser()
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # argparse: --help (0) or a bad option (2, message already printed)
            return exc.code if isinstance(exc.code, int) else EXIT_BAD_INPUT
        return int(args.func(args) or 0)
    except DataValidationError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_BAD_INPUT
    except OutputError as exc:
        print(f"sfm: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:
        return EXIT_OK
    except KeyboardInterrupt:
        print("sfm: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # never a traceback in the terminal
        if os.environ.get("SFM_DEBUG"):
            raise
        from .mechanisms.amm import StableswapConvergenceError
        from .mechanisms.fixedpoint import ConvergenceError

        if isinstance(exc, (StableswapConvergenceError, ConvergenceError)):
            print(f"sfm: the cascade could not be computed on this input ({exc}). The input passed validation but is "
                  "too extreme for the model (e.g. a sale far larger than an AMM pool's reserves): check the sizes "
                  "in the scenario and the dataset.", file=sys.stderr)
            return EXIT_BAD_INPUT
        if isinstance(exc, MemoryError):
            print("sfm: out of memory: the input is too large for this machine (try fewer runs or a smaller "
                  "network).", file=sys.stderr)
            return EXIT_ERROR
        print(f"sfm: internal error ({type(exc).__name__}: {str(exc)[:300]}). This is a bug: please report it with "
              "the command line; run with SFM_DEBUG=1 to see the traceback.", file=sys.stderr)
        return EXIT_ERROR


def _load_extra_commands() -> None:
    import importlib

    for mod in ("core.cli_engine", "core.cli_montecarlo"):
        try:
            m = importlib.import_module(mod)
        except ModuleNotFoundError as exc:
            if exc.name != mod:
                raise
            continue
        reg = getattr(m, "register")
        if reg not in _EXTRA_COMMANDS:
            _EXTRA_COMMANDS.append(reg)


if __name__ == "__main__":
    sys.exit(main())
