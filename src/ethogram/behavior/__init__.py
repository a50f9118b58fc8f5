"""Behavior floor (application): preprocessing, syllable statistics and label comparison."""

from .compare import match_states

__all__ = ["match_states"]
