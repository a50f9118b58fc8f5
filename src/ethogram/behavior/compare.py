"""Kept for old imports: :func:`match_states` now lives in :mod:`ethogram.analysis.compare`."""

from ..analysis.compare import match_states

__all__ = ["match_states"]
