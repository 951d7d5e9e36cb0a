"""sfm core: the data model, contagion mechanisms and cascade engine.

Public entry points::

    import core
    net = core.datasets.default()            # the shipped 2022-05-06 ecosystem
    net = core.load_network("my-data/")      # a folder of CSV files or a JSON file
"""

from . import datasets
from .io import load_network
from .network import Network
from .validation import DataValidationError, Problem

__all__ = ["Network", "load_network", "DataValidationError", "Problem", "datasets"]
__version__ = "0.1.0"
