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
standard error of it (the one-standard-error rule of Hastie, Tibshirani and Friedman, *The
Elements of Statistical Learning*, section 7.10).
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
from ._parallel import run_tasks, task_seed


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


def _time_blocks(T: int, heldout_fraction: float, num_folds: int) -> list[tuple[int, int]]:
    """Held-out block [start, stop) of each fold: fold 0 is the last block of the recording,
    later folds are spread evenly towards its start."""
    n = max(1, int(round(heldout_fraction * T)))
    starts = np.linspace(T - n, 0, num_folds) if num_folds > 1 else np.array([T - n])
    return [(int(round(s)), int(round(s)) + n) for s in starts]


#: contiguous batches of held-out frames whose means give the standard error of a difference
NUM_BATCHES = 10


def paired_se(a, b) -> float:
    """Standard error of ``mean(a - b)`` for per-frame scores of the same held-out frames.

    Batch means (e.g. Flegal and Jones 2010): the differences, in time order, are cut into
    ``NUM_BATCHES`` contiguous batches and the standard error is that of the batch means, so
    frames that depend on each other (a syllable spans many) are not counted as independent.

    Parameters
    ----------
    a, b : ndarray, shape (n,)
        Held-out log-likelihoods per frame of two models on the same frames, in time order.

    Returns
    -------
    float
        NaN when the shapes differ or there are fewer than two frames per batch.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.size < 2 * NUM_BATCHES:
        return float("nan")
    means = np.array([c.mean() for c in np.array_split(a - b, NUM_BATCHES)])
    return float(means.std(ddof=1) / np.sqrt(NUM_BATCHES))


def summarize(table, pointwise=None):
    """Per-K summary of a cross-validation table and the chosen K (see :class:`CrossValidation`).

    The best K has the highest mean held-out log-likelihood per frame; the one-standard-error
    K is the smallest whose mean is at most ``sqrt(sem_best**2 + se_diff**2)`` below the
    best's: ``sem_best`` is the standard error of the best K's mean over restarts and folds
    (how much the fit varies), ``se_diff`` the standard error of the difference between the
    two K's scores over the held-out frames (:func:`paired_se`; how much the held-out data
    decide), so that K which score alike on the data are not told apart by their restarts
    agreeing to the last digit.

    Parameters
    ----------
    table : pandas.DataFrame
        As in :attr:`CrossValidation.table`.
    pointwise : dict, optional
        Per K, the held-out log-likelihood of every held-out frame (averaged over restarts,
        folds one after the other), as :func:`cross_validate` computes; without it
        ``se_diff`` is NaN and only ``sem_best`` counts.

    Returns
    -------
    summary : pandas.DataFrame
        Per K, with ``se_diff`` (against the best K).
    best_num_states : int
    one_se_num_states : int
    """
    import pandas as pd

    rows = []
    for K, g in table.groupby("num_states", sort=True):
        h = g["heldout_ll_per_frame"].to_numpy(dtype=float)
        n = int(np.isfinite(h).sum())
        std = float(np.nanstd(h, ddof=1)) if n > 1 else 0.0
        best = g.loc[g.groupby("fold")["train_objective"].idxmax(), "heldout_ll_per_frame"]
        rows.append(
            {
                "num_states": int(K),
                "n": n,
                "mean": float(np.nanmean(h)),
                "std": std,
                "sem": std / np.sqrt(n) if n > 1 else 0.0,
                "min": float(np.nanmin(h)),
                "max": float(np.nanmax(h)),
                "best_restart_heldout": float(best.mean()),
                "train_ll_per_frame": float(g["train_ll_per_frame"].mean()),
                "aic": float(g["aic"].mean()),
                "bic": float(g["bic"].mean()),
                "states_used": float(g["states_used"].mean()) if "states_used" in g else np.nan,
                "num_parameters": int(g["num_parameters"].iloc[0]),
            }
        )
    summary = pd.DataFrame(rows)
    ib = int(np.nanargmax(summary["mean"].to_numpy()))
    best_K = int(summary["num_states"].iloc[ib])
    pointwise = pointwise or {}

    def se_diff(K):
        if K == best_K:
            return 0.0
        known = K in pointwise and best_K in pointwise
        return paired_se(pointwise[best_K], pointwise[K]) if known else np.nan

    summary["se_diff"] = [se_diff(K) for K in summary["num_states"]]
    se = np.sqrt(summary["sem"].iloc[ib] ** 2 + np.nan_to_num(summary["se_diff"].to_numpy()) ** 2)
    within = summary["mean"].to_numpy() >= summary["mean"].iloc[ib] - se
    one_se = int(summary.loc[within, "num_states"].min())
    return summary, best_K, one_se


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


def _check_cv_arguments(num_states_list, split, heldout_fraction, num_restarts, num_folds) -> list:
    """The Ks of :func:`cross_validate`, its other arguments checked."""
    Ks = [int(k) for k in np.atleast_1d(num_states_list)]
    if not Ks or min(Ks) < 1 or len(set(Ks)) != len(Ks):
        raise ValueError(
            f"num_states_list must hold distinct positive integers, got {num_states_list!r}"
        )
    if split not in ("time", "recordings"):
        raise ValueError(f"split must be 'time' or 'recordings', got {split!r}")
    if not 0 < heldout_fraction < 1:
        raise ValueError(f"heldout_fraction must be in (0, 1), got {heldout_fraction!r}")
    if isinstance(num_restarts, bool) or int(num_restarts) != num_restarts or num_restarts < 1:
        raise ValueError(f"num_restarts must be a positive integer, got {num_restarts!r}")
    if isinstance(num_folds, bool) or int(num_folds) != num_folds or num_folds < 1:
        raise ValueError(f"num_folds must be a positive integer, got {num_folds!r}")
    return Ks


def _folds(sequences, masks, split: str, heldout_fraction: float, num_folds: int, seed) -> list:
    """One dict per fold: training and scored sequences and masks, and (time split) the
    held-out frames of every recording."""
    if split == "time":
        return _time_folds(sequences, masks, heldout_fraction, num_folds)
    N = len(sequences)
    if N < 2:
        raise ValueError(
            "split='recordings' needs at least two recordings; use split='time' for one"
        )
    n = min(N - 1, max(1, int(round(heldout_fraction * N))))
    order = np.random.default_rng(
        np.random.SeedSequence(int(seed), spawn_key=(2**31,))
    ).permutation(N)
    folds = []
    for f in range(num_folds):
        out = {int(order[(f * n + j) % N]) for j in range(n)}
        tr = [i for i in range(N) if i not in out]
        te = sorted(out)
        folds.append(
            {
                "train": [sequences[i] for i in tr],
                "train_masks": [masks[i] for i in tr],
                "score": [sequences[i] for i in te],
                "score_masks": [masks[i] for i in te],
                "heldout": None,
            }
        )
    return folds


def _time_folds(sequences, masks, heldout_fraction: float, num_folds: int) -> list:
    """The folds of ``split="time"``: a block of frames of every recording held out."""
    blocks = [_time_blocks(d.shape[0], heldout_fraction, num_folds) for d in sequences]
    folds = []
    for f in range(num_folds):
        train_masks, held = [], []
        for d, m, bl in zip(sequences, masks, blocks):
            h = np.zeros(d.shape[0], dtype=bool)
            h[bl[f][0] : bl[f][1]] = True
            base = np.ones(d.shape[0], dtype=bool) if m is None else m
            train_masks.append(base & ~h)
            held.append(h)
        folds.append(
            {
                "train": sequences,
                "train_masks": train_masks,
                "score": sequences,
                "score_masks": masks,
                "heldout": held,
            }
        )
    return folds


def _kappa_of(kappa, K) -> float:
    """The kappa of K: one number, a dict's entry or a function's value."""
    return kappa(K) if callable(kappa) else (kappa[K] if isinstance(kappa, dict) else kappa)


def _pointwise(keys, frames) -> dict:
    """Per K, the held-out scores per frame averaged over restarts, folds one after the other
    (a K whose restarts scored different numbers of frames is left out)."""
    by = {}
    for (K, f, _), x in zip(keys, frames):
        by.setdefault(K, {}).setdefault(f, []).append(x)
    out = {}
    for K, folds in by.items():
        if all(len({x.size for x in xs}) == 1 for xs in folds.values()):
            out[K] = np.concatenate([np.mean(folds[f], axis=0) for f in sorted(folds)])
    return out


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
