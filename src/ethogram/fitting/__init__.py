"""Fitting: the EM loop and the Gibbs sampling loop, executors, restarts, checkpoints.

Knows no model class (models call it, it never imports them): a model hands a loop a
top-level per-sequence function (EM's E-step, Gibbs's local step), its parameters and a
plain description, and the loop runs the jobs on an executor and adds the returned
statistics in input order.
"""

from .em import DEFAULT_TOL, EMDecreaseError, EMRun, e_step, m_step, run_em, spawn_seeds
from .executors import Executor, SerialExecutor, ThreadExecutor, run_job
from .gibbs import GibbsRun, GibbsSettings, run_gibbs
from .gibbs_checkpoint import Checkpointing
from .starts import best_start
from .stats import SufficientStats, sum_stats

__all__ = [
    "Checkpointing",
    "DEFAULT_TOL",
    "EMDecreaseError",
    "EMRun",
    "Executor",
    "GibbsRun",
    "GibbsSettings",
    "SerialExecutor",
    "SufficientStats",
    "ThreadExecutor",
    "best_start",
    "e_step",
    "m_step",
    "run_em",
    "run_gibbs",
    "run_job",
    "spawn_seeds",
    "sum_stats",
]
