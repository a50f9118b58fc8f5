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

from ._common import check_datas, fit_model, model_spec, scored_mask
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
    """

    table: object
    summary: object
    best_num_states: int
    one_se_num_states: int


def _cv_task(task: dict) -> dict:
    rng = task_seed(task["seed"], *task["key"])
    model, objective, iters = fit_model(task["spec"], task["train"], task["train_masks"], task["num_iters"], task["tol"], rng=rng, num_threads=task["num_threads"])
    if task.get("prune_usage") is not None:
        from .states import prune_states

        model = prune_states(model, task["train"], task["train_masks"], min_usage=task["prune_usage"], num_iters=task["num_iters"], tol=task["tol"]).model
        objective = float(model.score(task["train"], masks=task["train_masks"]) + model.log_prior())
    train_scored = sum(int(scored_mask(model, d, m).sum()) for d, m in zip(task["train"], task["train_masks"]))
    train_ll = model.score(task["train"], masks=task["train_masks"])
    heldout, n_held = 0.0, 0
    if task["split"] == "time":
        frames = model.score(task["score"], masks=task["score_masks"], per_frame=True)
        for f, d, m, h in zip(frames, task["score"], task["score_masks"], task["heldout"]):
            use = h & scored_mask(model, d, m)
            heldout += float(f[use].sum())
            n_held += int(use.sum())
    else:
        heldout = model.score(task["score"], masks=task["score_masks"])
        n_held = sum(int(scored_mask(model, d, m).sum()) for d, m in zip(task["score"], task["score_masks"]))
    p = model.num_parameters()
    labels = model.predict(task["train"], masks=task["train_masks"])
    used = np.unique(np.concatenate([np.asarray(z)[scored_mask(model, d, m)] for z, d, m in zip(labels, task["train"], task["train_masks"])]))
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
    }


def _time_blocks(T: int, heldout_fraction: float, num_folds: int) -> list[tuple[int, int]]:
    """Held-out block [start, stop) of each fold: fold 0 is the last block of the recording,
    later folds are spread evenly towards its start."""
    n = max(1, int(round(heldout_fraction * T)))
    starts = np.linspace(T - n, 0, num_folds) if num_folds > 1 else np.array([T - n])
    return [(int(round(s)), int(round(s)) + n) for s in starts]


def summarize(table):
    """Per-K summary of a cross-validation table and the chosen K (see :class:`CrossValidation`).

    Parameters
    ----------
    table : pandas.DataFrame
        As in :attr:`CrossValidation.table`.

    Returns
    -------
    summary : pandas.DataFrame
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
        rows.append({
            "num_states": int(K), "n": n, "mean": float(np.nanmean(h)), "std": std,
            "sem": std / np.sqrt(n) if n > 1 else 0.0, "min": float(np.nanmin(h)), "max": float(np.nanmax(h)),
            "best_restart_heldout": float(best.mean()),
            "train_ll_per_frame": float(g["train_ll_per_frame"].mean()),
            "aic": float(g["aic"].mean()), "bic": float(g["bic"].mean()),
            "states_used": float(g["states_used"].mean()) if "states_used" in g else np.nan,
            "num_parameters": int(g["num_parameters"].iloc[0]),
        })
    summary = pd.DataFrame(rows)
    ib = int(np.nanargmax(summary["mean"].to_numpy()))
    best_K = int(summary["num_states"].iloc[ib])
    bar = summary["mean"].iloc[ib] - summary["sem"].iloc[ib]
    one_se = int(summary.loc[summary["mean"] >= bar, "num_states"].min())
    return summary, best_K, one_se


def cross_validate(datas, num_states_list, model="autoregressive", observation_kwargs=None, kappa=0.0, num_restarts=3, split="time", heldout_fraction=0.2, num_folds=1, masks=None, num_iters=100, tol=None, seed=0, num_workers=1, executor=None, progress=None, hmm_kwargs=None, prune_usage=None) -> CrossValidation:
    """Held-out log-likelihood per frame for every K, over restarts and folds.

    Parameters
    ----------
    datas : array_like (T, D) or list of them
        Model inputs (e.g. PCs), one array per recording; NaN rows are masked.
    num_states_list : sequence of int
        Values of K to compare.
    model : str, default "autoregressive"
        Observation model (``"autoregressive"``/``"arhmm"``, ``"gaussian"``,
        ``"robust_autoregressive"``, ...).
    observation_kwargs : dict, optional
        E.g. ``{"num_lags": 3}``; ``data_dim`` is taken from the data.
    kappa : float, dict or callable, default 0
        Stickiness: one number for every K, a dict ``{K: kappa}``, or a function of K
        (e.g. ``lambda K: 11 * num_frames / K`` to keep the prior per state alike).
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
    masks : optional
        Boolean masks (True = observed), one per recording.
    num_iters : int, default 100
        EM iterations per fit at most.
    tol : float, optional
        EM tolerance (default: :meth:`ethogram.HMM.fit`'s).
    seed : int, default 0
        Fit (K, fold, restart) is seeded from ``(seed, K, fold, restart)``, so results do not
        depend on the order, the other K or the number of workers.
    num_workers : int or None, default 1
        Processes (None or -1: all CPUs).
    executor : object with ``map``, optional
        Runs the fits instead of a process pool.
    progress : bool or None
        Progress bar over fits.
    hmm_kwargs : dict, optional
        Other :class:`ethogram.HMM` arguments (``transition_alpha``, ...).
    prune_usage : float, optional
        After each fit, remove states used for at most this fraction of the training frames
        and keep fitting (:func:`ethogram.selection.prune_states`) before scoring; the table's
        ``states_used`` and ``num_parameters`` are then the pruned model's.

    Returns
    -------
    CrossValidation

    Raises
    ------
    ValueError
        On an empty or invalid ``num_states_list``, an unknown ``split``, a fraction outside
        (0, 1), or ``split="recordings"`` with fewer than two recordings.
    """
    import pandas as pd

    datas, masks = check_datas(datas, masks)
    Ks = [int(k) for k in np.atleast_1d(num_states_list)]
    if not Ks or min(Ks) < 1 or len(set(Ks)) != len(Ks):
        raise ValueError(f"num_states_list must hold distinct positive integers, got {num_states_list!r}")
    if split not in ("time", "recordings"):
        raise ValueError(f"split must be 'time' or 'recordings', got {split!r}")
    if not 0 < heldout_fraction < 1:
        raise ValueError(f"heldout_fraction must be in (0, 1), got {heldout_fraction!r}")
    if isinstance(num_restarts, bool) or int(num_restarts) != num_restarts or num_restarts < 1:
        raise ValueError(f"num_restarts must be a positive integer, got {num_restarts!r}")
    if isinstance(num_folds, bool) or int(num_folds) != num_folds or num_folds < 1:
        raise ValueError(f"num_folds must be a positive integer, got {num_folds!r}")
    D = datas[0].shape[1]
    folds = []
    if split == "time":
        blocks = [_time_blocks(d.shape[0], heldout_fraction, int(num_folds)) for d in datas]
        for f in range(int(num_folds)):
            train_masks, held = [], []
            for d, m, bl in zip(datas, masks, blocks):
                h = np.zeros(d.shape[0], dtype=bool)
                h[bl[f][0]:bl[f][1]] = True
                base = np.ones(d.shape[0], dtype=bool) if m is None else m
                train_masks.append(base & ~h)
                held.append(h)
            folds.append({"train": datas, "train_masks": train_masks, "score": datas, "score_masks": masks, "heldout": held})
    else:
        N = len(datas)
        if N < 2:
            raise ValueError("split='recordings' needs at least two recordings; use split='time' for one")
        n = min(N - 1, max(1, int(round(heldout_fraction * N))))
        order = np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(2**31,))).permutation(N)
        for f in range(int(num_folds)):
            out = {int(order[(f * n + j) % N]) for j in range(n)}
            tr = [i for i in range(N) if i not in out]
            te = sorted(out)
            folds.append({"train": [datas[i] for i in tr], "train_masks": [masks[i] for i in tr],
                          "score": [datas[i] for i in te], "score_masks": [masks[i] for i in te], "heldout": None})
    tasks, keys = [], []
    for K in Ks:
        kap = kappa(K) if callable(kappa) else (kappa[K] if isinstance(kappa, dict) else kappa)
        spec = model_spec(K, model, observation_kwargs, D, float(kap), hmm_kwargs)
        for f, fold in enumerate(folds):
            for r in range(int(num_restarts)):
                tasks.append(dict(fold, spec=spec, split=split, seed=seed, key=(K, f, r), num_iters=int(num_iters), tol=tol, num_threads=None, prune_usage=prune_usage))
                keys.append((K, f, r))
    results = run_tasks(_cv_task, tasks, num_workers, executor, progress, desc="cross-validation")
    table = pd.DataFrame([{"num_states": K, "fold": f, "restart": r, "kappa": t["spec"]["kappa"], **res} for (K, f, r), t, res in zip(keys, tasks, results)])
    summary, best, one_se = summarize(table)
    return CrossValidation(table, summary, best, one_se)
