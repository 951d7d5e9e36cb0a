"""The public API as a Python user meets it: names exported, every public object documented, examples that run."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import core


def _public_objects():
    for info in pkgutil.walk_packages(core.__path__, "core."):
        if info.name.endswith("__main__"):
            continue
        mod = importlib.import_module(info.name)
        for name, obj in vars(mod).items():
            if name.startswith("_") or getattr(obj, "__module__", None) != mod.__name__:
                continue
            if inspect.isfunction(obj) or inspect.isclass(obj):
                yield f"{info.name}.{name}", obj


def test_every_public_function_and_class_of_core_has_a_docstring():
    objects = dict(_public_objects())
    assert len(objects) > 150
    undocumented = sorted(name for name, obj in objects.items()
                          if not inspect.getdoc(obj) or (inspect.isclass(obj) and obj.__doc__ is None))
    assert undocumented == []


def test_entry_points_carry_numpydoc_with_a_runnable_example():
    # the doctests run with the suite (pyproject: --doctest-modules, testpaths include core)
    for obj in (core.simulate, core.CascadeResult, core.Network, core.scenario.as_scenario):
        doc = inspect.getdoc(obj)
        assert "Examples\n--------\n>>> " in doc, obj
    for obj in (core.simulate, core.scenario.as_scenario):
        doc = inspect.getdoc(obj)
        assert "Parameters\n----------" in doc and "Returns\n-------" in doc, obj


def test_results_and_batch_exported_from_core():
    assert {"CascadeResult", "BatchResult", "simulate", "simulate_batch", "Network", "Scenario"} <= set(core.__all__)
    from core.engine import BatchResult

    assert core.BatchResult is BatchResult
