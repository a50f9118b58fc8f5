"""Deprecated: :func:`match_states` lives in :mod:`ethogram.analysis`; this name is kept for the
course's first scripts, and accessing it here warns with a :class:`DeprecationWarning`."""

from __future__ import annotations

import warnings


def __getattr__(name: str):
    """``match_states`` from :mod:`ethogram.analysis`, with a warning naming its home."""
    if name != "match_states":
        raise AttributeError(f"module 'ethogram.behavior' has no attribute {name!r}")
    from .analysis import match_states

    warnings.warn(
        "ethogram.behavior is deprecated: import match_states from ethogram.analysis",
        DeprecationWarning,
        stacklevel=2,
    )
    return match_states
