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


# The user-facing API of issue 17: every public function and result class carries a numpydoc
# Examples section with a doctest (run by --doctest-modules).
_API_MODULES = ("core.datasets", "core.scenario", "core.results", "core.result_tables", "core.synthetic_network", "core.metrics", "core.montecarlo", "core.network",
                "core.io", "core.paths", "core.sweep", "core.positions", "core.perps_round", "core.synthetic_perps")


def _api_objects():
    """``{qualified name: object}`` for core.__all__, the modules above and the mechanisms (functions, result records, errors)."""
    import core.mechanisms

    out = {f"core.{n}": getattr(core, n) for n in core.__all__
           if inspect.isfunction(getattr(core, n)) or inspect.isclass(getattr(core, n))}
    mechanisms = [i.name for i in pkgutil.iter_modules(core.mechanisms.__path__, "core.mechanisms.")
                  if not i.name.rsplit(".", 1)[1].startswith("_")]
    for modname in (*_API_MODULES, *mechanisms):
        mod = importlib.import_module(modname)
        names = getattr(mod, "__all__", None) or [n for n in vars(mod) if not n.startswith("_")]
        for name in names:
            obj = getattr(mod, name)
            if not (inspect.isfunction(obj) or inspect.isclass(obj)):
                continue
            if not hasattr(mod, "__all__") and getattr(obj, "__module__", None) != modname:
                continue  # imported from elsewhere
            if all(obj is not seen for seen in out.values()):
                out[f"{modname}.{name}"] = obj
    return out


def _has_example(obj) -> bool:
    doc = inspect.getdoc(obj) or ""
    _, found, examples = doc.partition("Examples\n--------\n")
    return bool(found) and ">>> " in examples


def test_every_public_api_object_has_a_numpydoc_example():
    objects = _api_objects()
    assert len(objects) > 200
    assert sorted(name for name, obj in objects.items() if not _has_example(obj)) == []


def test_summary_dict_documents_every_field_it_returns():
    from core.datasets import load_preset

    doc = inspect.getdoc(core.CascadeResult.summary_dict)
    sc, net = load_preset("black_thursday_2020")  # a Maker system: the "maker" field is present
    fields = set(core.simulate(net, sc).summary_dict())
    assert "maker" in fields and "total_loss_usd" in fields
    assert sorted(f for f in fields if f"``{f}``" not in doc) == []
