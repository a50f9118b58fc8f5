"""Fitting: the EM loop and the Gibbs sampling loop, executors, restarts, checkpoints, settings.

Knows no model class (models call it, it never imports them): a model hands a loop a
top-level per-sequence function (EM's E-step, Gibbs's local step), its parameters and a
plain description, and the loop runs the jobs on an executor and adds the returned
statistics in input order; :func:`fit_restarts` drives EM's restarts, and the settings
objects (:class:`EMSettings`, :class:`ExecutionSettings`, :class:`CheckpointSettings`) say how.
"""

from .em import DEFAULT_TOL, EMDecreaseError, EMRun, e_step, m_step, run_em, spawn_seeds
from .executors import Executor, SerialExecutor, ThreadExecutor, run_job
from .gibbs import GibbsRun, GibbsSettings, run_gibbs
from .gibbs_checkpoint import Checkpointing
from .restarts import Restarts, fit_restarts
from .settings import CheckpointSettings, EMSettings, ExecutionSettings
from .starts import best_start
from .stats import SufficientStats, sum_sufficient_stats
from .stats import sum_stats as sum_stats  # deprecated name, kept importable

__all__ = [
    "Checkpointing",
    "DEFAULT_TOL",
    "CheckpointSettings",
    "EMDecreaseError",
    "EMRun",
    "EMSettings",
    "ExecutionSettings",
    "Executor",
    "GibbsRun",
    "GibbsSettings",
    "Restarts",
    "SerialExecutor",
    "SufficientStats",
    "ThreadExecutor",
    "best_start",
    "e_step",
    "fit_restarts",
    "m_step",
    "run_em",
    "run_gibbs",
    "run_job",
    "spawn_seeds",
    "sum_sufficient_stats",
]
