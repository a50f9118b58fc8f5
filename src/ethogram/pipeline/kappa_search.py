"""The default kappa's search inside a fit, and the checkpoints it leaves.

When :func:`ethogram.pipeline.fit_recordings` is given no ``kappa``, this room runs
:func:`ethogram.stickiness.smallest_kappa` in this process (every fit from the same seed, each
checkpointed as ``<stem>.kappa-<i>.h5`` beside the fit's checkpoint so that a resumed search
finds each fit where it stopped), and keeps the chosen fit as the fit when its EM settings are
the search's. :func:`kappa_checkpoints` and :func:`resumable_checkpoints` say which files those
are, for ``ethogram fit``'s clean-up and its ``--resume``.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

from ..fitting.settings import (
    CheckpointSettings,
    EMSettings,
)
from ..stickiness import TARGET_DURATION_S
from .labels import label_arrays


def kappa_checkpoints(checkpoint) -> list:
    """The checkpoints of the default kappa's search beside ``checkpoint``: ``<stem>.kappa-<i>.h5``
    for its i-th fit (``ethogram fit`` removes them with the fit's own once the results are
    written)."""
    checkpoint = Path(checkpoint)
    return sorted(checkpoint.parent.glob(f"{checkpoint.stem}.kappa-*{checkpoint.suffix}"))


def resumable_checkpoints(checkpoint) -> list:
    """What a resumed fit continues from: the fit's own checkpoint when it exists, else those
    of its kappa search (:func:`kappa_checkpoints`); empty when there is none."""
    checkpoint = Path(checkpoint)
    return [checkpoint] if checkpoint.is_file() else kappa_checkpoints(checkpoint)


def search_kappa(
    make,
    sequences,
    masks,
    fit_kw: dict,
    target_frames: float,
    num_states: int,
    checkpoint: CheckpointSettings,
    timings: dict,
):
    """The default kappa (:func:`ethogram.stickiness.smallest_kappa`), fitting in this process.

    Each fit is ``make(kappa).fit(sequences, mask=masks, **fit_kw)``, checkpointed when
    ``checkpoint`` has a path (the i-th fit in ``<stem>.kappa-<i>.h5`` beside it, so that a
    resumed search finds each fit where it stopped); the chosen one's model,
    :class:`~ethogram.FitResult` and checkpoint are in ``search.chosen``. ``timings["fit"]``
    gets the chosen fit's seconds and ``timings["kappa_search"]`` the others'.
    """
    from ..stickiness import median_run_length, reference_kappa, smallest_kappa

    done = []
    path = checkpoint.path
    num_threads = fit_kw["execution"].num_threads

    def evaluate(k):
        t0 = time.perf_counter()
        model = make(k)
        ck = None if path is None else path.with_name(f"{path.stem}.kappa-{len(done)}{path.suffix}")
        done.append(ck)
        fit = model.fit(
            sequences, mask=masks, checkpoint=dataclasses.replace(checkpoint, path=ck), **fit_kw
        )
        labels, _ = label_arrays(model, sequences, masks, False, num_threads)
        return {
            "median_duration": median_run_length(labels),
            "objective": float(fit.objectives[-1]),
            "num_iters": int(fit.num_iters),
            "seconds": time.perf_counter() - t0,
            "model": model,
            "fit": fit,
            "checkpoint": ck,
        }

    usable = int(sum(m.sum() for m in masks))
    reference = reference_kappa(usable, num_states, target_frames)
    search = smallest_kappa(evaluate, target_frames, reference)
    timings["fit"] = float(search.chosen["seconds"])
    timings["kappa_search"] = float(sum(row["seconds"] for row in search.curve)) - timings["fit"]
    return search


def fit_at_kappa(
    make, sequences, masks, kappa: float, search, fit_kw: dict, checkpoint, timings: dict
):
    """The fit at ``kappa``: the search's chosen fit when it is the same fit (its EM settings,
    ``fit_kw["em"]``, are the search's; its checkpoint becomes the fit's), else a fit made here."""
    if search is not None and fit_kw["em"] == search_settings(fit_kw["em"]):
        if checkpoint.path is not None:
            import shutil

            shutil.copyfile(search.chosen["checkpoint"], checkpoint.path)
        return search.chosen["model"], search.chosen["fit"]
    t0 = time.perf_counter()
    model = make(kappa)
    fit = model.fit(sequences, mask=masks, checkpoint=checkpoint, **fit_kw)
    if search is not None:  # the search's chosen fit was not kept: all its fits were the search's
        timings["kappa_search"] += timings["fit"]
    timings["fit"] = time.perf_counter() - t0
    return model, fit


def search_settings(em: EMSettings) -> EMSettings:
    """The EM settings of the kappa search's fits: one restart, no re-seeding."""
    return dataclasses.replace(em, num_restarts=1, reseed_dead=False)


def kappa_target(target_duration, fps: float) -> tuple[float, float]:
    """The default kappa's target: ``(seconds, frames)``; refused when it lasts one frame."""
    target_s = TARGET_DURATION_S if target_duration is None else float(target_duration)
    if target_s * fps <= 1:
        raise ValueError(
            f"target_duration ({target_s:g} s) must last more than one frame "
            f"({1 / fps:.3g} s at {fps:g} fps)"
        )
    return target_s, target_s * fps
