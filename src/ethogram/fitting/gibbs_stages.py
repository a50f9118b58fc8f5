"""A Gibbs run in stages (the keypoint SLDS's AR-only then full sweeps), checkpointed in one file.

Each :class:`Stage` continues the run of the one before: its settings' ``num_iters`` counts
from iteration 0 of the whole run (so a 50-sweep first stage and ``num_iters=550`` make 500
more), and its ``enter`` puts the model in the stage's state (e.g. AR-only, another kappa)
before it runs or is restored. Every draw still derives from ``(seed, iteration)`` alone, so
the stages give the bits of :func:`~ethogram.fitting.gibbs.run_gibbs` called once per stage
with ``start=``. With a :class:`~.gibbs_checkpoint.Checkpointing`, every stage writes to the
same file and records its index in the fingerprint (``extra["stage"]``); a resumed run reads
that index, enters the stages before it without running them, and resumes the stage the file
holds: a run killed in any stage and resumed ends with the same bits as an uninterrupted one.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .gibbs import GibbsSettings, run_gibbs
from .gibbs_run import GibbsRun

__all__ = ["Stage", "run_stages"]


@dataclass(frozen=True)
class Stage:
    """One stage of :func:`run_stages`.

    Attributes
    ----------
    settings : GibbsSettings
        ``num_iters`` counted from the start of the whole run (not of the stage).
    enter : callable or None
        ``enter()`` sets the model up for the stage (called before it runs or is restored).
    desc : str
        Label of the stage's progress bar.
    """

    settings: GibbsSettings
    enter: Callable | None = None
    desc: str = "Gibbs"


def _saved_stage(checkpoint) -> int | None:
    """The stage index of the checkpoint a resumed run continues (None: not resuming)."""
    from .gibbs_checkpoint import read_fingerprint

    if checkpoint is None or checkpoint.path is None or not checkpoint.resume:
        return None
    if not Path(checkpoint.path).is_file():
        return None
    return int(read_fingerprint(checkpoint.path).get("extra", {}).get("stage", 0))


def run_stages(
    model,
    sequences,
    masks,
    stages,
    *,
    seed=None,
    initialize=None,
    executor=None,
    num_threads=None,
    checkpoint=None,
    progress=None,
    start: GibbsRun | None = None,
    fingerprint_extra: dict | None = None,
) -> GibbsRun:
    """Run ``stages`` one after the other (see the module docstring).

    Parameters
    ----------
    model, sequences, masks, seed, initialize, executor, num_threads, progress
        As :func:`~ethogram.fitting.gibbs.run_gibbs` (``initialize`` only for a run that
        starts afresh).
    stages : list of Stage
        At least one; their ``num_iters`` non-decreasing.
    checkpoint : Checkpointing (CheckpointSettings), optional
        One file for all stages; with ``resume``, continue the stage it holds.
    start : GibbsRun, optional
        Continue this run (e.g. a shorter run of the same stages: stages it has already
        passed do nothing).
    fingerprint_extra : dict, optional
        As :func:`run_gibbs`'s; the stage index is added.

    Returns
    -------
    GibbsRun
        After the last stage.

    Raises
    ------
    ValueError
        Without stages, with decreasing ``num_iters``, or for a checkpoint of another run.
    """
    stages = list(stages)
    if not stages:
        raise ValueError("stages must hold at least one Stage")
    ends = [s.settings.num_iters for s in stages]
    if ends != sorted(ends):
        raise ValueError(f"the stages' num_iters must not decrease, got {ends}")
    saved = _saved_stage(checkpoint)
    first = 0 if saved is None else min(saved, len(stages) - 1)
    run = start
    for i, stage in enumerate(stages):
        if stage.enter is not None:
            stage.enter()
        if i < first:  # done before the checkpoint: restored with the stage the file holds
            continue
        ck = checkpoint
        if ck is not None and i > first:  # this call wrote the file: continue, do not reload
            ck = dataclasses.replace(ck, resume=False)
        run = run_gibbs(
            model,
            sequences,
            masks,
            stage.settings,
            seed=seed,
            initialize=initialize if run is None else None,
            executor=executor,
            num_threads=num_threads,
            checkpoint=ck,
            progress=progress,
            start=run,
            desc=stage.desc,
            fingerprint_extra=dict(fingerprint_extra or {}, stage=i),
        )
    return run
