"""Deprecated home of the results file: it moved to :mod:`ethogram.results`.

``from ethogram.io.results import load_results`` (and every other name this module had) still
works and warns with a :class:`DeprecationWarning` naming the new place; import from
:mod:`ethogram.results` instead. The results file sits above the preparation and the analysis,
which the readers of :mod:`ethogram.io` must not import.
"""

from __future__ import annotations

import warnings


def __getattr__(name: str):
    """The name from :mod:`ethogram.results.hdf5` (the former contents of this module)."""
    if name.startswith("__"):
        raise AttributeError(name)
    from ..results import hdf5

    if not hasattr(hdf5, name):
        raise AttributeError(f"module 'ethogram.io.results' has no attribute {name!r}")
    value = getattr(hdf5, name)
    warnings.warn(
        f"ethogram.io.results is deprecated: import {name} from ethogram.results",
        DeprecationWarning,
        stacklevel=2,
    )
    return value
