"""Model selection: how many syllables, how sticky, and how much to trust them.

``cross_validate`` (held-out log-likelihood over K with restarts), ``find_kappa`` (the
stickiness that gives a target median duration), ``changepoints`` (moseq2's model-free
check of durations), ``prune_states`` (drop unused states and refit), ``syllable_distances``
/ ``syllable_linkage`` / ``merge_states`` (similar syllables), ``stability`` (agreement
across seeds), ``fit_to_target_duration`` (kappa search, then the pipeline's fit) and the
figures in :mod:`ethogram.selection.plots`. Fits run in parallel on processes or any
executor, with results independent of the number of workers.
"""

from ._common import run_lengths
from .changepoints import Changepoints, change_score, changepoint_durations, changepoints
from .crossval import CrossValidation, cross_validate, summarize
from .kappa import KappaSearch, find_kappa, median_duration
from .stability import Stability, matched_confusion, stability
from .states import (
    Pruned,
    mean_poses,
    merge_groups,
    merge_states,
    prune_states,
    syllable_distances,
    syllable_linkage,
)
from .target import fit_to_target_duration

__all__ = [
    "Changepoints",
    "CrossValidation",
    "KappaSearch",
    "Pruned",
    "Stability",
    "change_score",
    "changepoint_durations",
    "changepoints",
    "cross_validate",
    "find_kappa",
    "fit_to_target_duration",
    "matched_confusion",
    "mean_poses",
    "median_duration",
    "merge_groups",
    "merge_states",
    "prune_states",
    "run_lengths",
    "stability",
    "summarize",
    "syllable_distances",
    "syllable_linkage",
]
