"""The whole job with a target syllable duration: search kappa first, then fit as ``ethogram fit``.

:func:`fit_to_target_duration` prepares the recordings as :func:`ethogram.pipeline.fit_recordings`
will, searches kappa for the target median duration (:func:`ethogram.selection.find_kappa`),
then runs the pipeline at that kappa and records the search in the results' configuration
(``target_duration``, ``kappa_search``: the curve of kappa against median duration). It is the
two-sided search (the kappa whose median is closest to the target, warm starts and parallel
candidates available); ``ethogram fit`` and :func:`ethogram.pipeline.fit_recordings` with no
kappa use the one-sided default instead (the smallest kappa that reaches the target,
:mod:`ethogram.stickiness`), which gives the same kappa where the data need stickiness and
kappa 0 where they do not. It lives here, not in the pipeline, because selection sits above
the pipeline (arrows point down).
"""

from __future__ import annotations

import copy
import dataclasses
import time
import warnings

import numpy as np


def fit_to_target_duration(
    recordings,
    target_duration: float = 0.4,
    num_states: int | None = None,
    num_lags: int = 3,
    prep=None,
    num_iters: int | None = None,
    seed=0,
    progress=None,
    num_workers=1,
    executor=None,
    search_kwargs=None,
    timings: dict | None = None,
    **fit_kwargs,
):
    """Search kappa for a target median syllable duration, then fit the recordings with it.

    Parameters
    ----------
    recordings : Recording or list of Recording
    target_duration : float, default 0.4
        Target median syllable duration in seconds (at the recordings' median frame rate).
    num_states : int, optional
        K (default: the pipeline's ``DEFAULT_NUM_STATES``).
    num_lags : int, default 3
    prep : ethogram.prep.Preparation, optional
        Unfitted preparation settings (default ``Preparation()``).
    num_iters : int, optional
        EM iterations of the search's fits and of the final fit (default: the pipeline's).
    seed : int, default 0
    progress : bool or None
    num_workers, executor
        Where the search's fits run (see :func:`ethogram.selection.find_kappa`).
    search_kwargs : dict, optional
        More arguments of :func:`~ethogram.selection.find_kappa` (``rel_tol``, ``kappa_max``...).
    timings : dict, optional
        Filled with seconds per stage (``kappa_search`` besides the pipeline's).
    **fit_kwargs
        More arguments of :func:`ethogram.pipeline.fit_recordings` (not ``kappa``).

    Returns
    -------
    results : ethogram.results.Results
        ``results.config["kappa_used"]`` is the chosen kappa; ``config["target_duration"]``
        and ``config["kappa_search"]`` (list of dicts: kappa, median_duration in frames,
        ...) record the search.
    search : KappaSearch

    Raises
    ------
    ValueError
        If ``kappa`` is given too, or the recordings have no frame rate.

    Warns
    -----
    FitQualityWarning
        As :func:`ethogram.pipeline.fit_recordings`, with ``target_duration`` as the target.
    """
    from ..analysis.diagnostics import FitQualityWarning, warn_fit_quality
    from ..pipeline import DEFAULT_NUM_STATES, FIT_EM, SYLLABLE_PRIOR, fit_recordings
    from ..prep import Preparation
    from .kappa import find_kappa

    if "kappa" in fit_kwargs:
        raise ValueError("give either kappa or target_duration, not both")
    if not (target_duration is not None and np.isfinite(target_duration) and target_duration > 0):
        raise ValueError(
            f"target_duration must be a positive number of seconds, got {target_duration!r}"
        )
    num_states = DEFAULT_NUM_STATES if num_states is None else int(num_states)
    timings = {} if timings is None else timings
    settings = Preparation() if prep is None else prep
    t0 = time.perf_counter()
    recs = recordings if isinstance(recordings, (list, tuple)) else [recordings]
    from ..io.rates import common_frame_rate

    fps = common_frame_rate(recs)  # the fit's rule: one rate, refused when they differ
    fitted = copy.deepcopy(settings)
    prepared = fitted.fit_transform(list(recs))
    from ..prep import model_inputs

    sequences, masks, _ = model_inputs(prepared)
    from ..prep.model_size import check_model_size

    usable = int(sum(m.sum() for m in masks))
    check_model_size(sequences[0].shape[1], num_lags, num_states, usable, fitted.kind)
    # the pipeline's EM settings and seed: its fit at the chosen kappa is the search's fit
    em = FIT_EM if fit_kwargs.get("em") is None else fit_kwargs["em"]
    tol = em.tol if fit_kwargs.get("tol") is None else fit_kwargs["tol"]
    num_iters = em.num_iters if num_iters is None else int(num_iters)
    em = dataclasses.replace(em, num_iters=num_iters, tol=tol, num_restarts=1, reseed_dead=False)
    ridge = (
        {}
        if fit_kwargs.get("prior_ridge") is None
        else {"prior_ridge": float(fit_kwargs["prior_ridge"])}
    )
    search = find_kappa(
        sequences,
        num_states,
        target_duration=target_duration,
        fps=fps,
        observation_kwargs={"num_lags": int(num_lags), **SYLLABLE_PRIOR, **ridge},
        mask=masks,
        em=em,
        seed=seed,
        num_workers=num_workers,
        executor=executor,
        progress=progress,
        **(search_kwargs or {}),
    )
    timings["kappa_search"] = time.perf_counter() - t0
    with warnings.catch_warnings():  # said below, once the target is in the configuration
        warnings.simplefilter("ignore", FitQualityWarning)
        results = fit_recordings(
            recs,
            num_states=num_states,
            num_lags=num_lags,
            kappa=search.kappa,
            prep=settings,
            num_iters=num_iters,
            seed=seed,
            progress=progress,
            timings=timings,
            **fit_kwargs,
        )
    results.config["target_duration"] = float(target_duration)
    results.config["kappa_search"] = [
        {
            k: (
                None
                if isinstance(v, float) and not np.isfinite(v)
                else (v.item() if hasattr(v, "item") else v)
            )
            for k, v in row.items()
        }
        for row in search.curve.to_dict(orient="records")
    ]
    results.config["kappa_search_message"] = search.message
    warn_fit_quality(results, stacklevel=2)
    return results, search
