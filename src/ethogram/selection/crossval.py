"""Cross-validation over the number of states: held-out log-likelihood per frame, with restarts.

For each K in a list, several EM fits from different seeds (restarts) are scored on data
they did not see. Two ways to hold data out: ``split="time"`` holds out a contiguous block
of every recording (by default its last ``heldout_fraction`` of frames, as the STATS305C
course does in its problem 2b) and scores it by the predictive log-likelihood
``log p(x_t | x_{1:t-1})`` summed over the held-out frames, i.e. conditioned on the frames
before the block, which equals the course's ``log p(x_{1:dev}) - log p(x_{1:train})``;
``split="recordings"`` trains on some recordings and scores whole others. The table has one
row per K, fold and restart (held-out and training log-likelihood per frame, AIC, BIC on
the training data, number of parameters); the summary gives per K the mean, standard
deviation and standard error, the best K (highest mean) and the smallest K within one
standard error of it. The folds are made in :mod:`._cv_folds`, the summary in
:mod:`._cv_summary`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._deprecation import renamed_keywords
from ._common import (
    check_sequences,
    fit_model,
    model_spec,
    restore_model,
    scored_mask,
    selection_settings,
    viterbi_labels,
)
from ._cv_folds import _check_cv_arguments, _folds
from ._cv_summary import NUM_BATCHES, _pointwise, paired_se, summarize
from ._parallel import run_tasks, task_seed

__all__ = ["NUM_BATCHES", "CrossValidation", "cross_validate", "paired_se", "summarize"]


@dataclass
class CrossValidation:
    """Outcome of :func:`cross_validate`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per (num_states, fold, restart): ``num_states, fold, restart, kappa,
        states_used, heldout_ll_per_frame, train_ll_per_frame, train_objective, aic, bic,
        num_parameters, num_heldout_frames, num_train_frames, num_iters`` (``states_used``:
        states labelling at least one training frame by Viterbi).
    summary : pandas.DataFrame
        One row per num_states: ``mean, std, sem, min, max`` of ``heldout_ll_per_frame``,
        ``best_restart_heldout`` (held-out score of the restart with the best training
        objective, averaged over folds), mean ``train_ll_per_frame``, ``aic``, ``bic`` and
        ``states_used``.
    best_num_states : int
        K with the highest mean held-out log-likelihood per frame.
    one_se_num_states : int
        Smallest K whose mean is within one standard error (of the best K) of the best.
    kappa_searches : dict or None
        With ``kappa="auto"``: per ``(num_states, fold)`` the search on the training frames,
        a dict with ``kappa``, ``reached``, ``median_duration`` (frames), ``target_frames``,
        ``message`` and ``curve`` (one dict per fit); None otherwise.
    """

    table: object
    summary: object
    best_num_states: int
    one_se_num_states: int
    kappa_searches: dict | None = None


def _search_task(task: dict) -> dict:
    """The default kappa of one (K, fold) on its training frames: every fit seeded as restart 0,
    so the chosen fit is restart 0's fit at that kappa (returned for reuse)."""
    from ..stickiness import median_run_length, reference_kappa, smallest_kappa

    train, masks = task["train"], task["train_masks"]

    def evaluate(k):
        rng = task_seed(task["seed"], *task["key"])
        spec = dict(task["spec"], kappa=float(k))
        model, objective, iters = fit_model(
            spec, train, masks, task["em"], rng=rng, num_threads=task["num_threads"]
        )
        return {
            "median_duration": median_run_length(viterbi_labels(model, train, masks)),
            "objective": objective,
            "num_iters": iters,
            "params": model.get_params(),
        }

    frames = sum(d.shape[0] if m is None else int(m.sum()) for d, m in zip(train, masks))
    target = task["target_frames"]
    reference = reference_kappa(frames, task["spec"]["num_states"], target)
    c = smallest_kappa(evaluate, target, reference)
    return {
        "kappa": c.kappa,
        "reached": c.reached,
        "median_duration": c.median_duration,
        "target_frames": target,
        "message": c.message,
        "curve": c.curve,
        "fitted": (c.chosen["params"], c.chosen["objective"], c.chosen["num_iters"]),
    }


def _cv_task(task: dict) -> dict:
    if task.get("fitted") is not None:  # restart 0, fitted by the kappa search at this kappa
        params, objective, iters = task["fitted"]
        model = restore_model(task["spec"], params, task["train"], task["train_masks"])
    else:
        rng = task_seed(task["seed"], *task["key"])
        model, objective, iters = fit_model(
            task["spec"],
            task["train"],
            task["train_masks"],
            task["em"],
            rng=rng,
            num_threads=task["num_threads"],
        )
    if task.get("prune_usage") is not None:
        from .states import prune_states

        model = prune_states(
            model, task["train"], task["train_masks"], min_usage=task["prune_usage"], em=task["em"]
        ).model
        objective = float(model.score(task["train"], mask=task["train_masks"]) + model.log_prior())
    train_scored = sum(
        int(scored_mask(model, d, m).sum()) for d, m in zip(task["train"], task["train_masks"])
    )
    train_ll = model.score(task["train"], mask=task["train_masks"])
    frames = model.score(task["score"], mask=task["score_masks"], per_frame=True)
    held = task["heldout"] if task["split"] == "time" else [None] * len(frames)
    pointwise = np.concatenate(
        [
            f[scored_mask(model, d, m) & (True if h is None else h)]
            for f, d, m, h in zip(frames, task["score"], task["score_masks"], held)
        ]
    )
    heldout, n_held = float(pointwise.sum()), int(pointwise.size)
    if task["split"] != "time":  # whole recordings: their marginal likelihood, first frames too
        heldout = model.score(task["score"], mask=task["score_masks"])
    p = model.num_parameters()
    labels = model.predict(task["train"], mask=task["train_masks"])
    used = np.unique(
        np.concatenate(
            [
                np.asarray(z)[scored_mask(model, d, m)]
                for z, d, m in zip(labels, task["train"], task["train_masks"])
            ]
        )
    )
    return {
        "states_used": int(used.size),
        "heldout_ll_per_frame": heldout / n_held if n_held else np.nan,
        "train_ll_per_frame": train_ll / train_scored,
        "train_objective": objective,
        "aic": -2.0 * train_ll + 2.0 * p,
        "bic": -2.0 * train_ll + p * np.log(train_scored),
        "num_parameters": p,
        "num_heldout_frames": n_held,
        "num_train_frames": train_scored,
        "num_iters": iters,
        "pointwise": pointwise,
    }


@renamed_keywords(datas="data", masks="mask")
def cross_validate(
    data,
    num_states_list,
    model="autoregressive",
    observation_kwargs=None,
    kappa=0.0,
    num_restarts=3,
    split="time",
    heldout_fraction=0.2,
    num_folds=1,
    mask=None,
    num_iters=None,
    tol=None,
    seed=0,
    num_workers=1,
    executor=None,
    progress=None,
    hmm_kwargs=None,
    prune_usage=None,
    fps=None,
    target_duration=None,
    *,
    em=None,
    execution=None,
) -> CrossValidation:
    """Held-out log-likelihood per frame for every K, over restarts and folds.

    Parameters
    ----------
    data : array_like (T, D) or list of them
        Model inputs (e.g. PCs), one array per recording; NaN rows are masked.
    num_states_list : sequence of int
        Values of K to compare.
    model : str, default "autoregressive"
        Observation model (``"autoregressive"``/``"arhmm"``, ``"gaussian"``,
        ``"robust_autoregressive"``, ...).
    observation_kwargs : dict, optional
        E.g. ``{"num_lags": 3}``; ``data_dim`` is taken from the data.
    kappa : float, dict, callable or "auto", default 0
        Stickiness: one number for every K, a dict ``{K: kappa}``, a function of K, or
        ``"auto"``: the default of ``ethogram fit`` and ``ethogram select``, per K and fold the
        smallest kappa whose fit on the training frames gives a median syllable of at least
        90% of ``target_duration`` (kappa 0 when the fit without stickiness does;
        :func:`ethogram.stickiness.smallest_kappa`, fits seeded as restart 0, whose fit it
        then is). Needs ``fps``.
    num_restarts : int, default 3
        Fits per K and fold, from different seeds.
    split : {"time", "recordings"}, default "time"
        Hold out a block of frames of every recording, or whole recordings.
    heldout_fraction : float, default 0.2
        Fraction of each recording's frames (time) or of the recordings (recordings,
        at least one) held out per fold.
    num_folds : int, default 1
        Folds. Time: fold 0 holds out the last block, other folds blocks spread evenly
        towards the start. Recordings: fold f holds out recordings ``f*n .. f*n+n-1``
        (cyclically) of a seeded permutation.
    mask : array_like of bool (T,), or list of them, optional
        True where a frame is observed (``masks=`` is its deprecated former name).
        Boolean masks (True = observed), one per recording.
    num_iters : int, default 100
        EM iterations per fit at most (``em.num_iters``).
    tol : float, optional
        EM tolerance (``em.tol``; default: :meth:`ethogram.HMM.fit`'s).
    seed : int, default 0
        Fit (K, fold, restart) is seeded from ``(seed, K, fold, restart)``, so results do not
        depend on the order, the other K or the number of workers.
    num_workers : int or None, default 1
        Processes (None or -1: all CPUs; ``execution.num_workers``).
    executor : object with ``map``, optional
        Runs the fits instead of a process pool (``execution.executor``).
    progress : bool or None
        Progress bar over fits.
    hmm_kwargs : dict, optional
        Other :class:`ethogram.HMM` arguments (``transition_alpha``, ...).
    prune_usage : float, optional
        After each fit, remove states used for at most this fraction of the training frames
        and keep fitting (:func:`ethogram.selection.prune_states`) before scoring; the table's
        ``states_used`` and ``num_parameters`` are then the pruned model's.
    fps : float, optional
        Frame rate (frames per second) of the data; needed by ``kappa="auto"``.
    target_duration : float, optional
        Target median syllable duration of ``kappa="auto"`` in seconds (default
        :data:`ethogram.pipeline.TARGET_DURATION_S`, 0.4 s).
    em : ethogram.fitting.EMSettings, optional
        EM settings of every fit (default ``EMSettings()``); ``num_iters`` and ``tol``, when
        given, replace its fields.
    execution : ethogram.fitting.ExecutionSettings, optional
        Where the fits run: ``num_workers`` processes, an ``executor`` or the Dask cluster of
        ``client``, ``num_threads`` per fit; ``num_workers`` (when not 1) and ``executor``
        replace its fields. Results do not depend on it.

    Returns
    -------
    CrossValidation

    Raises
    ------
    ValueError
        On an empty or invalid ``num_states_list``, an unknown ``split``, a fraction outside
        (0, 1), ``split="recordings"`` with fewer than two recordings, or ``kappa="auto"``
        without a positive ``fps`` or target.
    """
    import pandas as pd

    em, execution = selection_settings(em, execution, num_iters, tol, num_workers, executor)
    sequences, masks = check_sequences(data, mask)
    Ks = _check_cv_arguments(num_states_list, split, heldout_fraction, num_restarts, num_folds)
    folds = _folds(sequences, masks, split, heldout_fraction, int(num_folds), seed)
    D = sequences[0].shape[1]

    def spec_of(K, kap):
        return model_spec(K, model, observation_kwargs, D, float(kap), hmm_kwargs)

    common = dict(seed=seed, em=em, num_threads=execution.num_threads)
    run = dict(
        num_workers=execution.num_workers, executor=execution.job_executor(), progress=progress
    )
    searches = None
    if isinstance(kappa, str):  # "auto": the default kappa of every K and fold first
        target = _auto_target(kappa, fps, target_duration)
        jobs = [
            dict(fold, spec=spec_of(K, 0.0), key=(K, f, 0), target_frames=target, **common)
            for K in Ks
            for f, fold in enumerate(folds)
        ]
        found = run_tasks(_search_task, jobs, desc="kappa search", **run)
        searches = {job["key"][:2]: res for job, res in zip(jobs, found)}
    tasks, keys = [], []
    for K in Ks:
        for f, fold in enumerate(folds):
            found = searches[(K, f)] if searches else None
            spec = spec_of(K, found["kappa"] if found else _kappa_of(kappa, K))
            for r in range(int(num_restarts)):
                fitted = (
                    found["fitted"] if found and r == 0 else None
                )  # the search's fit: restart 0
                tasks.append(
                    dict(
                        fold,
                        spec=spec,
                        split=split,
                        key=(K, f, r),
                        prune_usage=prune_usage,
                        fitted=fitted,
                        **common,
                    )
                )
                keys.append((K, f, r))
    results = run_tasks(_cv_task, tasks, desc="cross-validation", **run)
    pointwise = _pointwise(keys, [res.pop("pointwise") for res in results])
    table = pd.DataFrame(
        [
            {"num_states": K, "fold": f, "restart": r, "kappa": t["spec"]["kappa"], **res}
            for (K, f, r), t, res in zip(keys, tasks, results)
        ]
    )
    summary, best, one_se = summarize(table, pointwise)
    if searches:
        searches = {
            key: {k: v for k, v in res.items() if k != "fitted"} for key, res in searches.items()
        }
    return CrossValidation(table, summary, best, one_se, searches)


def _kappa_of(kappa, K) -> float:
    """The kappa of K: one number, a dict's entry or a function's value."""
    return kappa(K) if callable(kappa) else (kappa[K] if isinstance(kappa, dict) else kappa)


def _auto_target(kappa: str, fps, target_duration) -> float:
    """Target median duration in frames of ``kappa="auto"``."""
    from ..pipeline import TARGET_DURATION_S

    if kappa != "auto":
        raise ValueError(
            f"kappa must be a number, a dict, a function of K or 'auto', got {kappa!r}"
        )
    if fps is None or not (np.isfinite(fps) and fps > 0):
        raise ValueError(
            f"kappa='auto' needs fps, the frame rate of the data (frames per second), got {fps!r}"
        )
    seconds = TARGET_DURATION_S if target_duration is None else float(target_duration)
    if not (np.isfinite(seconds) and seconds * float(fps) > 1):
        raise ValueError(
            f"target_duration must be a positive number of seconds longer than one "
            f"frame, got {target_duration!r}"
        )
    return seconds * float(fps)
