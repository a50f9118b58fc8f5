"""Analysis: syllable tables (usage, durations, transitions, summary), label comparison, and
the warnings a poor fit deserves (:mod:`ethogram.analysis.diagnostics`).

Tables are pandas DataFrames built from ``labels`` (dict of recording name -> (T,) int
syllables, -1 = none); pandas is imported only when a table is made.
"""

from . import annotations, groups, labels_compare  # noqa: F401  comparisons with labels, annotations, groups
from .compare import match_states
from .diagnostics import (
    FitQualityWarning,
    fit_quality_warnings,
    flicker_pairs,
    results_quality_warnings,
)
from .tables import (
    bigram_counts,
    frame_speed,
    relabel,
    relabel_by_frequency,
    runs,
    syllable_durations,
    syllable_summary,
    syllable_usage,
    transition_probabilities,
)

__all__ = [
    "FitQualityWarning",
    "bigram_counts",
    "fit_quality_warnings",
    "flicker_pairs",
    "frame_speed",
    "match_states",
    "relabel",
    "relabel_by_frequency",
    "results_quality_warnings",
    "runs",
    "syllable_durations",
    "syllable_summary",
    "syllable_usage",
    "transition_probabilities",
]
