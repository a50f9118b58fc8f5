"""Fitting: the EM loop, its statistics protocol, executors, restarts and convergence.

Knows no model class (models call it, it never imports them): a model hands the loop a
top-level per-sequence E-step function, its parameters and a plain description, and the loop
runs the jobs on an executor and adds the returned :class:`SufficientStats` in input order.
"""

from .em import DEFAULT_TOL, EMDecreaseError, EMRun, e_step, m_step, run_em, spawn_seeds
from .executors import Executor, SerialExecutor, ThreadExecutor, run_job
from .starts import best_start
from .stats import SufficientStats, sum_stats

__all__ = [
    "DEFAULT_TOL",
    "EMDecreaseError",
    "EMRun",
    "Executor",
    "SerialExecutor",
    "SufficientStats",
    "ThreadExecutor",
    "best_start",
    "e_step",
    "m_step",
    "run_em",
    "run_job",
    "spawn_seeds",
    "sum_stats",
]
