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

Sub-commands live in one module each, imported statically and registered in
:func:`build_parser`: :mod:`core.cli.data_commands` (validate, describe,
dashboard), :mod:`core.cli.engine_commands` (simulate, rank, schema) and
:mod:`core.cli.montecarlo_commands` (montecarlo, sweep) and
:mod:`core.cli.snapshot_commands` (snapshot list, snapshot diff). They import their
helpers from :mod:`core.cli.common`, never from this module, so there is no
import cycle.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Sequence

from ..validation import DataValidationError
from . import data_commands, engine_commands, montecarlo_commands, snapshot_commands
from .common import EXIT_BAD_INPUT, EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, OutputError

#: Registration functions of the sub-command modules, in the order ``sfm --help`` lists them.
COMMANDS = (data_commands.register, engine_commands.register, montecarlo_commands.register, snapshot_commands.register)


def build_parser() -> argparse.ArgumentParser:
    """The ``sfm`` argument parser with every sub-command registered."""
    p = argparse.ArgumentParser(
        prog="sfm",
        description="Systemic failure modeling for crypto finance: cascades of liquidations and defaults.",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for register in COMMANDS:
        register(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit status (see the module docstring), never raises."""
    try:
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
        from ..mechanisms.amm import StableswapConvergenceError
        from ..mechanisms.fixedpoint import ConvergenceError

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

