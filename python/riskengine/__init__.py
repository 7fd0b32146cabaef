"""riskengine - the riskengine library from Python, results as numpy arrays.

A thin ctypes layer over libriskengine (api/riskengine.h): the same engine, the same numbers,
nothing computed here. See python/README.md.
"""
from ._core import (DEADLINE_NONE, LIBRARY_PATH, MEASURES, Dataset, Engine, Portfolio, Request,
                    Result, RiskError, Status, WhatIf, WhatIfAnswer, status_name)
from ._core import _LIB


def version():
    """The library's version string."""
    return _LIB.rk_version().decode()


__all__ = ["Engine", "Dataset", "Portfolio", "Request", "Result", "RiskError", "Status",
           "WhatIf", "WhatIfAnswer",
           "status_name", "version", "LIBRARY_PATH", "MEASURES", "DEADLINE_NONE"]
