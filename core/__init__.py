"""sfm core: the data model, contagion mechanisms and cascade engine.

Public entry points::

    import core
    net = core.datasets.default()                          # the newest shipped snapshot (2025-10-01)
    net = core.datasets.load("crypto-2022-05")             # a shipped snapshot by name (core.datasets.available())
    sc, net = core.datasets.load_preset("terra_may_2022")  # a preset with the snapshot it names
    net = core.load_network("my-data/")                    # a folder of CSV files or a JSON file
    sc = core.load_scenario("data/scenarios/terra_may_2022.json")
    res = core.simulate(net, sc)                           # CascadeResult: rounds, nodes, paths, summary
    big = core.datasets.synthetic(10_000, 100_000, seed=1) # same tables, for scale tests
"""

from . import datasets
from .engine import BatchResult, simulate, simulate_batch
from .io import load_network
from .network import Network
from .results import CascadeResult
from .scenario import Scenario, load_scenario
from .validation import DataValidationError, Problem

__all__ = [
    "Network",
    "Scenario",
    "CascadeResult",
    "BatchResult",
    "load_network",
    "load_scenario",
    "simulate",
    "simulate_batch",
    "DataValidationError",
    "Problem",
    "datasets",
]
__version__ = "0.1.0"
