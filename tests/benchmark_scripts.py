"""Load a script of ``benchmarks/`` by its path, for the tests that call its functions.

``benchmarks/`` is not a package: its scripts are run as ``python benchmarks/<name>.py``, so a test executes one
from its file (``importlib.util.spec_from_file_location``). Every call executes the script afresh and returns a new
module, not registered in ``sys.modules``: a test never sees another's module state.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def load_benchmark(name: str, imports_siblings: bool = False) -> ModuleType:
    """The module of ``benchmarks/<name>.py``; ``imports_siblings`` puts ``benchmarks/`` on ``sys.path`` first, for
    a script that imports another script of the folder by its name (``value_search`` imports ``monotone_search``)."""
    path = BENCHMARKS / f"{name}.py"
    if imports_siblings and str(BENCHMARKS) not in sys.path:
        sys.path.insert(0, str(BENCHMARKS))
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"{path}: no such benchmark script (expected benchmarks/<name>.py)")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
