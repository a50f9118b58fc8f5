"""The default kappa of the Gibbs methods, searched: the EM path's rule (the smallest kappa whose
fit gives a median syllable of 90% of ``target_duration``, 0.4 s by default;
:func:`ethogram.stickiness.smallest_kappa`) applied to short Gibbs runs from the fit's seed
(:func:`search_kappa`, at most :data:`SEARCH_ITERS` sweeps per stage, chosen as
docs/keypoint_slds.md says), each run checkpointed beside the fit's as ``<stem>.kappa-<i>.h5``
(:func:`probe_checkpoint`) so that ``resume`` continues an interrupted search; the run at the
chosen kappa is then continued to the fit's sweeps (:func:`final_fit`), which gives the bits of a
fit at that kappa from the start (every draw depends on the seed and the sweep alone), and the
search is recorded in the results' config as the EM path records its own
(:func:`search_record`). :mod:`ethogram.pipeline_gibbs` calls these with its ``fit_at``.
"""

from __future__ import annotations

import time

from .stickiness import GIBBS_REMEDY

__all__ = [
    "GIBBS_REMEDY",
    "SEARCH_ITERS",
    "SLDS_REFERENCE_KAPPA",
    "final_fit",
    "probe_checkpoint",
    "search_kappa",
    "search_record",
]


#: most sweeps per stage of each fit of the kappa search (keypoint-moseq's advice while tuning
#: kappa; see the module docstring)
SEARCH_ITERS = 50


#: the kappa search's ladder scale for the keypoint SLDS (keypoint-moseq's full-model kappa);
#: the ARHMM's is the EM path's :func:`ethogram.stickiness.reference_kappa`
SLDS_REFERENCE_KAPPA = 1e4


def final_fit(fit_at, kappa, sweeps, search, reuse, kw, timings, **extra):
    """The fit at ``kappa``: the search's chosen fit continued (``reuse``: the same bits as a
    fit at that kappa from the start, the draws depending on the seed and sweep alone), else
    a fit made here; checkpointed in ``kw["checkpoint"]``. Sets ``timings["fit"]``."""
    t0 = time.perf_counter()
    previous = search.chosen["probe"] if reuse else None
    got = fit_at(kappa, sweeps, kw["checkpoint"], previous=previous, **extra)
    timings["fit"] = time.perf_counter() - t0
    if reuse:  # the chosen probe's sweeps are the fit's first ones
        timings["fit"] += float(search.chosen["seconds"])
        timings["kappa_search"] -= float(search.chosen["seconds"])
    return got


def probe_checkpoint(checkpoint, i: int):
    """The checkpoint of the search's ``i``-th fit: ``<stem>.kappa-<i>.h5`` beside the fit's
    (:func:`ethogram.pipeline.kappa_checkpoints`, as the EM path names them)."""
    from dataclasses import replace as _replace

    path = checkpoint.path
    if path is None:
        return checkpoint
    return _replace(checkpoint, path=path.with_name(f"{path.stem}.kappa-{i}{path.suffix}"))


def search_kappa(fit_at, sweeps, reference, kw, timings):
    """The default kappa by the EM path's rule (:func:`ethogram.stickiness.smallest_kappa`:
    the smallest kappa whose fit gives a median syllable of 90% of ``target_duration``), each
    fit a short Gibbs run of ``sweeps`` (:data:`SEARCH_ITERS` at most per stage) from the
    fit's seed, checkpointed beside the fit's checkpoint (``<stem>.kappa-<i>.h5``) so that
    ``resume`` continues an interrupted search. Returns ``(search, target seconds)``;
    ``search.chosen["probe"]`` is the chosen fit (``fit_at``'s output)."""
    from .stickiness import TARGET_DURATION_S, median_run_length, smallest_kappa

    target_s = kw.get("target_duration") or TARGET_DURATION_S
    if target_s * kw["fps"] <= 1:
        raise ValueError(f"target_duration ({target_s:g} s) must last more than one frame")
    t0 = time.perf_counter()
    done = []

    def evaluate(k):
        t1 = time.perf_counter()
        probe = fit_at(k, sweeps, probe_checkpoint(kw["checkpoint"], len(done)))
        done.append(k)
        return {
            "median_duration": median_run_length(probe["labels"]),
            "sweeps": int(probe["run"].iteration),
            "log_joint": float(probe["run"].log_joint_total[-1]),
            "seconds": time.perf_counter() - t1,
            "probe": probe,
        }

    search = smallest_kappa(evaluate, target_s * kw["fps"], reference, remedy=GIBBS_REMEDY)
    timings["kappa_search"] = time.perf_counter() - t0
    return search, target_s


def search_record(search, target_s) -> dict:
    """The search as the EM path records it in the config (nothing without a search)."""
    if search is None:
        return {}
    return {
        "search": {
            "target_duration": target_s,
            "kappa_search": search.curve,
            "kappa_search_message": search.message,
            "kappa_search_reached": bool(search.reached),
        }
    }
