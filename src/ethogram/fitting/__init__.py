"""Fitting: the EM loop, its statistics protocol, executors, restarts, settings, convergence.

Knows no model class (models call it, it never imports them): a model hands the loop a
top-level per-sequence E-step function, its parameters and a plain description, and the loop
runs the jobs on an executor and adds the returned :class:`SufficientStats` in input order;
:func:`fit_restarts` drives the restarts, and the settings objects (:class:`EMSettings`,
:class:`ExecutionSettings`, :class:`CheckpointSettings`) say how.
"""

from .em import DEFAULT_TOL, EMDecreaseError, EMRun, e_step, m_step, run_em, spawn_seeds
from .executors import Executor, SerialExecutor, ThreadExecutor, run_job
from .restarts import Restarts, fit_restarts
from .settings import CheckpointSettings, EMSettings, ExecutionSettings
from .starts import best_start
from .stats import SufficientStats, sum_stats

__all__ = [
    "DEFAULT_TOL",
    "CheckpointSettings",
    "EMDecreaseError",
    "EMRun",
    "EMSettings",
    "ExecutionSettings",
    "Executor",
    "Restarts",
    "SerialExecutor",
    "SufficientStats",
    "ThreadExecutor",
    "best_start",
    "e_step",
    "fit_restarts",
    "m_step",
    "run_em",
    "run_job",
    "spawn_seeds",
    "sum_stats",
]
