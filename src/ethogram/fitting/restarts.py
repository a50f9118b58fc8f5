"""The restart driver: restarts of short starts and EM, checkpointed or not, the best one kept.

:func:`fit_restarts` is the one loop behind :meth:`ethogram.HMM.fit`: ``num_restarts`` runs,
each seeded from the fit's seed (:func:`~ethogram.fitting.em.spawn_seeds`), each a few short
starts of which the best is continued (:func:`~ethogram.fitting.starts.best_start`; from the
current parameters with ``init="params"``), then EM to convergence or ``num_iters``
(:func:`~ethogram.fitting.em.run_em`); the run with the highest final objective is kept and
its parameters set on the model. With checkpoints, EM goes in chunks of
``CheckpointSettings.every`` iterations and a :class:`RestartJournal` writes the state after
the starts, after every chunk and after every restart (:mod:`ethogram.fitting.checkpoint`):
the chunks add up to the same iterations, so a checkpointed fit, interrupted and resumed or
not, gives the bits of an unchecked one. Dead states are re-seeded
(:mod:`ethogram.fitting.reseed`) from the seed's integer entropy, so re-seeds too are the
same after a resume. The driver knows no model class: the model follows the protocol of
:mod:`ethogram.fitting.em` plus ``get_params`` / ``set_params``, and the caller says how a
restart starts (``initialize(rng, restart)``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..inference import one_blas_thread
from . import checkpoint as files  # the module, so its functions can be swapped in tests
from .checkpoint import data_fingerprint, resolve_seed
from .em import EMRun, run_em, spawn_seeds
from .reseed import Reseeding
from .settings import CheckpointSettings, EMSettings
from .starts import best_start

__all__ = ["RestartJournal", "Restarts", "fit_restarts"]


@dataclass
class Restarts:
    """Outcome of :func:`fit_restarts`.

    Attributes
    ----------
    run : EMRun
        The kept restart's run (its ``last_stats`` belong to the model's parameters).
    restart : int
        Index of the kept restart (highest final objective; the first among equals).
    finals : list of float
        Final objective of every restart, in order.
    """

    run: EMRun
    restart: int
    finals: list = field(default_factory=list)


@dataclass
class _Tally:
    """The restarts done so far: their final objectives and the best ``(restart, run,
    params)`` (params None when there is nothing to restore)."""

    finals: list = field(default_factory=list)
    best: tuple | None = None

    def add(self, restart: int, run: EMRun, params) -> None:
        self.finals.append(run.objectives[-1])
        if self.best is None or run.objectives[-1] > self.best[1].objectives[-1]:
            self.best = (restart, run, params)


@dataclass
class _Plan:
    """What every restart of one :func:`fit_restarts` call shares."""

    model: object
    sequences: list
    masks: list
    initialize: Callable
    em: EMSettings
    executor: object
    progress: object
    keep_posteriors: bool
    entropy: object
    chunk: int
    save: Callable  # save(restart, run) after the starts and after every chunk

    def label(self, restart: int) -> str:
        n = self.em.num_restarts
        return "EM" if n == 1 else f"EM restart {restart + 1}/{n}"

    def reseeding(self, restart: int):
        em = self.em
        return Reseeding(em.num_iters, self.entropy, restart) if em.reseed_dead else None

    def em_kwargs(self, restart: int) -> dict:
        return dict(
            executor=self.executor,
            keep_posteriors=self.keep_posteriors,
            reseed=self.reseeding(restart),
            accelerate=self.em.accelerate,
        )


class RestartJournal:
    """The checkpoint file of a :func:`fit_restarts` call: the fit it belongs to, where it
    stopped, and the state written after each step.

    A fingerprint (the EM settings, the model's description, a hash of the data and masks,
    the seed's entropy) is written with the state; resuming refuses a checkpoint of another
    fit, naming what differs.

    Parameters
    ----------
    checkpoint : CheckpointSettings
        With a ``path``.
    model : object
        Its ``describe()`` and ``get_params()`` are saved.
    sequences, masks : list
    em : EMSettings
    seed : int, numpy.random.Generator or None

    Raises
    ------
    ValueError
        If ``resume`` finds a checkpoint of other data, settings, model or integer seed.
    """

    def __init__(
        self, checkpoint: CheckpointSettings, model, sequences, masks, em: EMSettings, seed
    ):
        self.path, self.model = checkpoint.path, model
        self.description = model.describe()
        self.state = None
        fingerprint = dict(
            settings=_fingerprint_settings(em),
            data=data_fingerprint(sequences, masks),
            description=self.description,
        )
        if checkpoint.resume and self.path.exists():
            self.state = files.load_checkpoint(self.path)
            old = _described_now(model, self.state["fingerprint"])
            _refuse_other_fit(self.path, old, fingerprint, seed)
            self.fingerprint = {**old, **fingerprint}
            self.entropy = int(old["seed_entropy"])
        else:
            self.entropy = resolve_seed(seed)
            self.fingerprint = {**fingerprint, "seed_entropy": str(self.entropy)}

    def tally(self) -> _Tally:
        """The restarts the checkpoint has done (none for a new one)."""
        if self.state is None:
            return _Tally()
        return _Tally(list(self.state["finals"]), self.state["best"])

    def restore(self) -> None:
        """Put the model where it was when the checkpoint was written."""
        if self.state is not None:
            self.model.set_params(self.state["params"])

    def done(self, restart: int) -> bool:
        """Whether the checkpoint holds restart ``restart`` finished."""
        s = self.state
        return s is not None and (
            restart < s["restart"] or (restart == s["restart"] and s["phase"] == "done")
        )

    def stopped_run(self, restart: int) -> EMRun | None:
        """The run of restart ``restart`` where the checkpoint stopped it, if it did."""
        s = self.state
        return s["run"] if s is not None and restart == s["restart"] else None

    def save(self, restart: int, phase: str, run: EMRun, tally: _Tally) -> None:
        """Write the state (``phase`` ``"running"`` or ``"done"``) atomically."""
        files.save_checkpoint(
            self.path,
            dict(
                fingerprint=self.fingerprint,
                description=self.description,
                restart=restart,
                phase=phase,
                params=self.model.get_params(),
                run=run,
                finals=tally.finals,
                best=tally.best,
            ),
        )


def _fingerprint_settings(em: EMSettings) -> dict:
    """The EM settings a checkpoint must agree on (as written before the settings objects)."""
    settings = dict(
        num_iters=em.num_iters,
        tol=em.tol,
        num_restarts=em.num_restarts,
        init=str(em.init),
        num_starts=em.starts,
        start_iters=min(em.start_iters, em.num_iters),
    )
    if em.reseed_dead:  # only when on, so checkpoints of fits without it keep their fingerprint
        settings["reseed_dead"] = True
    if em.accelerate:  # likewise: a plain-EM fit keeps the fingerprint it had before acceleration
        settings["accelerate"] = True
    return settings


def _described_now(model, fingerprint: dict) -> dict:
    """``fingerprint`` with its model description as this version writes it: a checkpoint
    written before a setting was renamed (an AR model's ``noise``, now ``covariance_type``)
    still resumes. The description is rebuilt by the model's own class (this module imports
    none); one that does not rebuild is left as it is, and compared as it is."""
    description = fingerprint.get("description")
    try:
        now = type(model).from_description(description).describe()
    except (TypeError, ValueError, KeyError, AttributeError):
        return fingerprint
    return {**fingerprint, "description": now}


def _refuse_other_fit(path, old: dict, new: dict, seed) -> None:
    differ = [
        k
        for k in ("settings", "data", "description")
        if json.dumps(old.get(k), sort_keys=True) != json.dumps(new[k], sort_keys=True)
    ]
    if (
        isinstance(seed, (int, np.integer))
        and not isinstance(seed, bool)
        and str(int(seed)) != old["seed_entropy"]
    ):
        differ.append("seed")  # an int seed must be the one the checkpoint was written with
    if differ:
        raise files.another_run_error(path, differ)


def _first_steps(plan: _Plan, restart: int, rng) -> EMRun:
    """The short starts of a restart, the best kept (or a first chunk from the parameters)."""
    em, desc = plan.em, plan.label(restart)
    if em.init == "params":
        return run_em(
            plan.model,
            plan.sequences,
            plan.masks,
            min(plan.chunk, em.num_iters),
            em.tol,
            plan.progress,
            desc=desc,
            **plan.em_kwargs(restart),
        )
    return best_start(
        plan.model,
        plan.sequences,
        plan.masks,
        lambda g: plan.initialize(g, restart),
        spawn_seeds(rng, em.starts),
        min(em.start_iters, em.num_iters),
        em.tol,
        plan.progress,
        desc=desc,
        **plan.em_kwargs(restart),
    )


def _run_restart(plan: _Plan, restart: int, rng, stopped: EMRun | None) -> EMRun:
    """One restart: its starts (unless resumed), then EM in chunks to convergence."""
    em = plan.em
    run = stopped
    if run is None:
        run = _first_steps(plan, restart, rng)
        plan.save(restart, run)
    while not run.converged and run.num_iters < em.num_iters:
        n = min(plan.chunk, em.num_iters - run.num_iters)
        run = run_em(
            plan.model,
            plan.sequences,
            plan.masks,
            n,
            em.tol,
            plan.progress,
            desc=plan.label(restart),
            resume=run,
            **plan.em_kwargs(restart),
        )
        plan.save(restart, run)
    return run


def fit_restarts(
    model,
    sequences,
    masks,
    initialize: Callable,
    em: EMSettings,
    *,
    seed=None,
    executor=None,
    progress=None,
    keep_posteriors: bool = False,
    checkpoint: CheckpointSettings | None = None,
) -> Restarts:
    """Run the restarts of a fit and leave ``model`` at the best one.

    Parameters
    ----------
    model : object
        Follows the protocol of :mod:`ethogram.fitting.em`, plus ``get_params`` /
        ``set_params`` (and ``describe`` with checkpoints); fitted in place.
    sequences, masks : list
        Validated sequences (arrays or on-disk handles) and their effective masks.
    initialize : callable
        ``initialize(rng, restart)`` sets the starting parameters of one short start of
        restart number ``restart`` (unused with ``init="params"``).
    em : EMSettings
    seed : int, numpy.random.Generator or None
        Every random generator of the fit derives from it.
    executor : object with ``map``, optional
        Where the per-sequence E-steps run (:func:`~ethogram.fitting.em.e_step`).
    progress : bool or None
        tqdm bars (None: only on an interactive terminal;
        True: also in a log file, as a line every 30 s).
    keep_posteriors : bool, default False
        Keep the last E-step's posteriors in ``run.last_stats`` (in-process executors; not
        with checkpoints, whose files do not hold them).
    checkpoint : CheckpointSettings, optional
        Checkpoint the fit (and resume it) when it has a ``path``.

    Returns
    -------
    Restarts

    Raises
    ------
    ValueError
        If a checkpoint to resume belongs to another fit.
    EMDecreaseError, FloatingPointError
        From :func:`~ethogram.fitting.em.run_em`.
    """
    journal = None
    if checkpoint is not None and checkpoint.path is not None:
        journal = RestartJournal(checkpoint, model, sequences, masks, em, seed)
        journal.restore()
        entropy, tally, chunk = journal.entropy, journal.tally(), checkpoint.every
        keep_posteriors = False
    else:  # one integer entropy only when re-seeding needs it (the same generators either way)
        entropy = resolve_seed(seed) if em.reseed_dead else seed
        tally, chunk = _Tally(), em.num_iters

    def save(restart, run):
        if journal is not None:
            journal.save(restart, "running", run, tally)

    plan = _Plan(
        model,
        sequences,
        masks,
        initialize,
        em,
        executor,
        progress,
        bool(keep_posteriors),
        entropy,
        chunk,
        save,
    )
    keep_params = em.num_restarts > 1 or journal is not None
    with one_blas_thread():  # many small BLAS calls: threads only cost (see one_blas_thread)
        for restart, rng in enumerate(spawn_seeds(entropy, em.num_restarts)):
            if journal is not None and journal.done(restart):
                continue
            stopped = None if journal is None else journal.stopped_run(restart)
            run = _run_restart(plan, restart, rng, stopped)
            tally.add(restart, run, model.get_params() if keep_params else None)
            if journal is not None:
                journal.save(restart, "done", run, tally)
    restart, run, params = tally.best
    if params is not None:
        model.set_params(params)
    return Restarts(run, restart, list(tally.finals))
