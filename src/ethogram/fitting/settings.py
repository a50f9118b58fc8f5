"""The settings of a fit, grouped by what they govern: EM, where the work runs, checkpoints.

Three small frozen dataclasses, each checking its fields where it is made (a ValueError or
TypeError that names the field): :class:`EMSettings` (iterations, tolerance, restarts and
their short starts, acceleration, re-seeding of dead states), :class:`ExecutionSettings`
(threads, an executor, a Dask client, worker processes) and :class:`CheckpointSettings`
(file, interval, resume). :meth:`ethogram.HMM.fit`, :func:`ethogram.pipeline.fit_recordings`,
the selection functions and the ``ethogram fit`` and ``ethogram select`` commands take them;
:func:`settings_from_options` builds them from the keyword arguments those functions took
before (``num_iters=...``, ``checkpoint="fit.h5"``, ...), so an old call is the same fit. The
module knows no model and no loop: the EM and Gibbs loops read the settings they need.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ..errors import ArgumentError, ArgumentTypeError

__all__ = [
    "CheckpointSettings",
    "DEFAULT_NUM_STARTS",
    "DEFAULT_START_ITERS",
    "DEFAULT_TOL",
    "EMSettings",
    "ExecutionSettings",
    "Settings",
    "settings_from_options",
]

#: default convergence tolerance: improvement of the objective per scored frame, in nats
DEFAULT_TOL = 1e-5
#: short starts per restart (measured: BENCHMARKS.md, "Default fit reliability")
DEFAULT_NUM_STARTS = 2
#: EM iterations of each short start before the best is continued (0: compare the starts'
#: objectives)
DEFAULT_START_ITERS = 0
#: how a fit starts: k-means or random observations, or the model's current parameters
INITS = ("kmeans", "random", "params")


# ---------------------------------------------------------------------- checks, one per kind
def _error(kind: type, argument: str, template: str) -> Exception:
    """An :class:`~ethogram.errors.ArgumentError` (``kind`` ValueError) or
    :class:`~ethogram.errors.ArgumentTypeError` (``kind`` TypeError) naming ``argument``:
    ``{argument}`` in ``template`` becomes the error's field for it, so the command line can
    say the argument in its own words and :func:`settings_from_options` by its old keyword."""
    cls = ArgumentTypeError if issubclass(kind, TypeError) else ArgumentError
    field = "{" + argument
    return cls(template.replace("{argument", field), argument)


def _whole(value, argument: str, low: int, what: str) -> int:
    """``value`` as an int >= ``low`` (bools refused)."""
    try:
        ok = not isinstance(value, (bool, np.bool_)) and int(value) == value and value >= low
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise _error(ValueError, argument, "{argument} must be a " + what + f", got {value!r}")
    return int(value)


def _optional_whole(value, argument: str, low: int, what: str) -> int | None:
    return None if value is None else _whole(value, argument, low, what)


def _amount(value, argument: str, what: str) -> float:
    """``value`` as a finite float >= 0."""
    try:
        ok = not isinstance(value, (bool, np.bool_)) and bool(np.isfinite(value) and value >= 0)
    except TypeError:
        ok = False
    if not ok:
        raise _error(ValueError, argument, "{argument} must be a " + what + f", got {value!r}")
    return float(value)


def _flag(value, argument: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise _error(TypeError, argument, "{argument} must be True or False, got " + repr(value))
    return bool(value)


def _one_of(value, argument: str, choices: tuple) -> str:
    if value not in choices:
        listed = ", ".join(repr(c) for c in choices[:-1]) + f" or {choices[-1]!r}"
        raise _error(ValueError, argument, "{argument} must be " + listed + f", got {value!r}")
    return value


def _not_both(a, b, name_a: str, name_b: str, why: str) -> None:
    if a is not None and b is not None:
        template = "give either {argument} or " + name_b + ", not both " + why
        raise _error(ValueError, name_a, template)


def _set(settings, **values) -> None:
    """Store normalised values on a frozen dataclass (from its ``__post_init__``)."""
    for name, value in values.items():
        object.__setattr__(settings, name, value)


# ---------------------------------------------------------------------- the settings
@dataclass(frozen=True)
class EMSettings:
    """How EM runs: iterations, tolerance, restarts and their starts, acceleration, re-seeding.

    Parameters
    ----------
    num_iters : int, default 100
        Maximum EM iterations (M-steps) per restart, short starts included.
    tol : float, default :data:`DEFAULT_TOL` (1e-5)
        Stop when the objective improves by at most ``tol`` nats per scored frame (with
        ``accelerate``: the rule of :mod:`ethogram.fitting.em`).
    num_restarts : int, default 1
        Independent runs; the one with the highest final objective is kept.
    init : {"kmeans", "random", "params"}, default "kmeans"
        How each run starts; "params" starts from the model's current parameters (one
        restart, one start).
    num_starts : int, optional
        Short starts per restart, the best continued (:func:`ethogram.fitting.best_start`);
        default :data:`DEFAULT_NUM_STARTS` (2), 1 for ``init="params"`` (:attr:`starts`).
    start_iters : int, default 0
        EM iterations of each short start before the best is chosen (0: compare the
        starting objectives).
    accelerate : bool, default True
        SQUAREM extrapolation (:mod:`ethogram.fitting.squarem`); False is plain EM.
    reseed_dead : bool, default False
        Re-seed states EM stops using (:mod:`ethogram.fitting.reseed`).

    Raises
    ------
    ValueError
        Naming the field that is out of range, or ``init="params"`` with several restarts
        or starts.
    TypeError
        If ``accelerate`` or ``reseed_dead`` is not a bool.

    Examples
    --------
    >>> em = EMSettings(num_iters=200, num_restarts=3)
    >>> dataclasses.replace(em, tol=1e-6).tol
    1e-06
    """

    num_iters: int = 100
    tol: float = DEFAULT_TOL
    num_restarts: int = 1
    init: str = "kmeans"
    num_starts: int | None = None
    start_iters: int = DEFAULT_START_ITERS
    accelerate: bool = True
    reseed_dead: bool = False

    def __post_init__(self):
        _set(
            self,
            num_iters=_whole(self.num_iters, "num_iters", 0, "non-negative integer"),
            tol=_amount(self.tol, "tol", "non-negative number (nats per scored frame)"),
            num_restarts=_whole(self.num_restarts, "num_restarts", 1, "positive integer"),
            init=_one_of(self.init, "init", INITS),
            num_starts=_optional_whole(self.num_starts, "num_starts", 1, "positive integer"),
            start_iters=_whole(self.start_iters, "start_iters", 0, "non-negative integer"),
            accelerate=_flag(self.accelerate, "accelerate"),
            reseed_dead=_flag(self.reseed_dead, "reseed_dead"),
        )
        if self.init == "params":
            for name in ("num_restarts", "num_starts"):
                if getattr(self, name) not in (None, 1):
                    raise _error(
                        ValueError,
                        name,
                        "init='params' starts from the current parameters; use {argument:1}",
                    )

    @property
    def starts(self) -> int:
        """Short starts per restart, the default filled in."""
        if self.num_starts is not None:
            return self.num_starts
        return 1 if self.init == "params" else DEFAULT_NUM_STARTS


@dataclass(frozen=True)
class ExecutionSettings:
    """Where the work of a call runs: its own threads, an executor, a Dask cluster, processes.

    One fit (:meth:`ethogram.HMM.fit`, :func:`ethogram.pipeline.fit_recordings`) runs one job
    per sequence and iteration (an E-step); the selection functions run one job per fit.
    Results do not depend on where the jobs run.

    Parameters
    ----------
    num_threads : int, optional
        Threads of one fit's jobs (default :func:`ethogram.inference.get_num_threads`); not
        with ``executor`` or ``client``.
    executor : object with ``map(fn, iterable)``, optional
        Runs the jobs and returns their results in input order, e.g. a
        ``concurrent.futures.ProcessPoolExecutor``.
    client : distributed.Client, optional
        Run the jobs on this Dask cluster
        (:class:`ethogram.fitting.distributed.DaskExecutor`); not with ``executor``.
    num_workers : int or None, default 1
        Processes running the independent fits of a selection function when no executor
        or client is given (None or -1: all CPUs); a single fit has no use for it.

    Raises
    ------
    ValueError
        Naming the field out of range, or two fields that exclude each other.
    TypeError
        If ``executor`` has no ``map``.
    """

    num_threads: int | None = None
    executor: object = None
    client: object = None
    num_workers: int | None = 1

    def __post_init__(self):
        _set(
            self,
            num_threads=_optional_whole(self.num_threads, "num_threads", 1, "positive integer"),
        )
        if self.num_workers not in (None, -1):
            _set(
                self,
                num_workers=_whole(
                    self.num_workers, "num_workers", 1, "positive integer, -1 or None (all CPUs)"
                ),
            )
        if self.executor is not None and not callable(getattr(self.executor, "map", None)):
            raise _error(
                TypeError,
                "executor",
                "{argument} must have a map(fn, iterable) method "
                "that keeps input order (e.g. a concurrent.futures executor), got "
                + type(self.executor).__name__,
            )
        _not_both(
            self.client, self.executor, "client", "executor", "(client makes a Dask executor)"
        )
        _not_both(
            self.executor,
            self.num_threads,
            "executor",
            "num_threads",
            "(the executor decides where jobs run)",
        )
        _not_both(
            self.client,
            self.num_threads,
            "client",
            "num_threads",
            "(the Dask workers decide how jobs run)",
        )

    def job_executor(self):
        """The executor of this call's jobs: ``executor``, a
        :class:`~ethogram.fitting.distributed.DaskExecutor` of ``client`` (a new one per call),
        or None (the caller's own default)."""
        if self.client is not None:
            from .distributed import DaskExecutor

            return DaskExecutor(self.client)
        return self.executor

    def sequence_executor(self):
        """The executor of one fit's per-sequence jobs: :meth:`job_executor`, else a thread
        pool of ``num_threads`` threads."""
        from .executors import ThreadExecutor

        executor = self.job_executor()
        return ThreadExecutor(self.num_threads) if executor is None else executor


@dataclass(frozen=True)
class CheckpointSettings:
    """Checkpoints of a running fit: where, how often, and whether to resume from one.

    Parameters
    ----------
    path : str or Path, optional
        The HDF5 checkpoint file (written atomically); None: no checkpoints.
    every : int, default 10
        Iterations between checkpoints.
    resume : bool, default False
        Continue from ``path`` when it exists: the fit ends as an uninterrupted one (same
        data and settings).

    Raises
    ------
    ValueError
        If ``every`` is not a positive integer, or ``resume`` is True without ``path``.
    TypeError
        If ``path`` is not a path or ``resume`` not a bool.
    """

    path: str | os.PathLike | None = None
    every: int = 10
    resume: bool = False

    def __post_init__(self):
        if self.path is not None and not isinstance(self.path, (str, os.PathLike)):
            raise _error(
                TypeError,
                "path",
                "{argument} must be a file path (str or Path), got " + type(self.path).__name__,
            )
        _set(
            self,
            path=None if self.path is None else Path(self.path),
            every=_whole(
                self.every, "every", 1, "positive integer (iterations between checkpoints)"
            ),
            resume=_flag(self.resume, "resume"),
        )
        if self.resume and self.path is None:
            raise _error(
                ValueError,
                "path",
                "resume=True needs {argument:<path of the checkpoint file>} to resume from",
            )


# ---------------------------------------------------------------------- the old keywords
class Settings(NamedTuple):
    """The three settings of one call, as :func:`settings_from_options` returns them."""

    em: EMSettings
    execution: ExecutionSettings
    checkpoint: CheckpointSettings


#: the keyword arguments the fitting functions took before the settings objects: where each goes
KEYWORDS = {
    **{f.name: ("em", f.name) for f in dataclasses.fields(EMSettings)},
    **{f.name: ("execution", f.name) for f in dataclasses.fields(ExecutionSettings)},
    "checkpoint": ("checkpoint", "path"),
    "checkpoint_every": ("checkpoint", "every"),
    "resume": ("checkpoint", "resume"),
}
_CLASSES = {"em": EMSettings, "execution": ExecutionSettings, "checkpoint": CheckpointSettings}


def _checked(value, group: str, default):
    if value is None:
        return default
    if not isinstance(value, _CLASSES[group]):
        raise _error(
            TypeError,
            group,
            "{argument} must be an ethogram.fitting."
            + _CLASSES[group].__name__
            + ", got "
            + type(value).__name__,
        )
    return value


#: the keyword of each field, for the messages (``checkpoint_every``, not ``every``)
_KEYWORD_OF = {(group, field): name for name, (group, field) in KEYWORDS.items()}


def _apply(base, changes: dict, group: str):
    """``dataclasses.replace(base, **changes)``; an error names the field by its keyword."""
    if not changes:
        return base
    try:
        return dataclasses.replace(base, **changes)
    except (ArgumentError, ArgumentTypeError) as err:
        if len(err.arguments) != 1 or (group, err.arguments[0]) not in _KEYWORD_OF:
            raise
        field, keyword = err.arguments[0], _KEYWORD_OF[group, err.arguments[0]]
        if field == keyword:
            raise
        template = err.template.replace("{" + field, "{" + keyword)
        raise type(err)(template, keyword) from None


def settings_from_options(
    options: dict, *, em=None, execution=None, checkpoint=None, accepted=None, function: str = "fit"
) -> Settings:
    """The settings of a call that takes ``em``, ``execution`` and ``checkpoint``, with the
    keyword arguments of the calls before them (:data:`KEYWORDS`) applied on top.

    Parameters
    ----------
    options : dict
        Keyword arguments such as ``num_iters=200``, ``num_threads=4``,
        ``checkpoint="fit.h5"``, ``checkpoint_every=5``; each replaces one field of the
        settings given (or of the defaults). None means the field's default, except for
        ``num_workers`` (None: all CPUs).
    em : EMSettings, optional
        Default ``EMSettings()``.
    execution : ExecutionSettings, optional
        Default ``ExecutionSettings()``.
    checkpoint : CheckpointSettings, str or Path, optional
        A path stands for ``CheckpointSettings(path=...)``.
    accepted : collection of str, optional
        The keywords the calling function takes (default: all of :data:`KEYWORDS`).
    function : str
        The function's name, for the error about an unknown keyword.

    Returns
    -------
    Settings
        ``(em, execution, checkpoint)``; ``checkpoint.path`` is None for no checkpoints.

    Raises
    ------
    TypeError
        For a keyword the function does not take, or settings of the wrong class.
    ValueError, TypeError
        From the settings, naming the keyword as given (``checkpoint_every``, not ``every``).
    """
    if isinstance(checkpoint, (str, os.PathLike)):
        checkpoint = CheckpointSettings(path=checkpoint)
    base = {
        "em": _checked(em, "em", EMSettings()),
        "execution": _checked(execution, "execution", ExecutionSettings()),
        "checkpoint": _checked(checkpoint, "checkpoint", CheckpointSettings()),
    }
    changes = {group: {} for group in base}
    for name, value in options.items():
        if name not in KEYWORDS or (accepted is not None and name not in accepted):
            raise TypeError(f"{function}() got an unexpected keyword argument {name!r}")
        group, field = KEYWORDS[name]
        if value is None and name != "num_workers":
            continue
        changes[group][field] = value
    return Settings(*(_apply(base[g], changes[g], g) for g in ("em", "execution", "checkpoint")))
