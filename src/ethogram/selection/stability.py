"""Stability: do fits from different seeds find the same syllables?

EM finds a local optimum that depends on its start (the course notes that it does not
always find the true states). :func:`stability` fits the same model from ``num_fits`` seeds,
labels the frames of every fit (Viterbi), matches the labels of every pair of fits one to
one (Hungarian matching of the confusion matrix, scipy's ``linear_sum_assignment``) and
reports the matched agreement (fraction of frames with the same matched label), the
confusion matrices, the consensus fit (highest EM objective) and, per syllable of the
consensus, how reliably it recurs in the other fits: the fraction of its frames that the
matched state of another fit labels alike, averaged (and minimised) over the other fits.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._deprecation import renamed_keywords
from ._common import (
    build_model,
    check_sequences,
    fit_model,
    model_spec,
    selection_settings,
    usage,
    viterbi_labels,
)
from ._parallel import run_tasks, task_seed


@dataclass
class Stability:
    """Outcome of :func:`stability`.

    Attributes
    ----------
    agreement : ndarray, shape (N, N)
        Matched agreement of every pair of fits (1 on the diagonal).
    confusions : dict of (int, int) to ndarray (K, K)
        Frame counts for i < j: rows are fit i's labels, columns fit j's labels reordered by
        the matching (so a stable pair is diagonal).
    objectives : ndarray, shape (N,)
        Final EM objective of every fit.
    consensus : int
        Index of the fit with the highest objective.
    per_syllable : pandas.DataFrame
        Per consensus syllable: ``syllable, usage, recurrence_mean, recurrence_min``.
    labels : list of list of ndarray
        Viterbi labels of every fit (-1 where unobserved).
    params : list of dict
        Parameters of every fit.
    spec : dict
        How to rebuild a fit (:meth:`model`).
    """

    agreement: np.ndarray
    confusions: dict
    objectives: np.ndarray
    consensus: int
    per_syllable: object
    labels: list = field(repr=False)
    params: list = field(repr=False)
    spec: dict = field(repr=False)

    def model(self, i: int | None = None):
        """Fit ``i`` (default: the consensus) as an :class:`ethogram.HMM`."""
        m = build_model(self.spec)
        m.set_params(self.params[self.consensus if i is None else int(i)])
        return m

    @property
    def mean_agreement(self) -> float:
        """Mean matched agreement over pairs of distinct fits."""
        N = self.agreement.shape[0]
        return float(self.agreement[~np.eye(N, dtype=bool)].mean()) if N > 1 else 1.0


def _stability_task(task: dict) -> dict:
    rng = task_seed(task["seed"], task["index"])
    model, objective, _ = fit_model(
        task["spec"],
        task["sequences"],
        task["masks"],
        task["em"],
        rng=rng,
        num_threads=task["num_threads"],
    )
    return {
        "objective": objective,
        "params": model.get_params(),
        "labels": viterbi_labels(model, task["sequences"], task["masks"]),
    }


def matched_confusion(a, b, num_states: int):
    """Confusion matrix of two labelings after the best one-to-one matching.

    Parameters
    ----------
    a, b : array_like of int, shape (T,)
        Labels (frames where either is -1 are skipped).
    num_states : int

    Returns
    -------
    agreement : float
        Fraction of frames whose matched labels agree.
    confusion : ndarray, shape (K, K)
        Rows: labels of ``a``; column i: the label of ``b`` matched to ``a``'s label i.
    order : ndarray of int, shape (K,)
        ``order[i]`` is ``b``'s label matched to ``a``'s label ``i``.
    """
    from scipy.optimize import linear_sum_assignment

    a = np.asarray(a)
    b = np.asarray(b)
    ok = (a >= 0) & (b >= 0)
    C = np.zeros((num_states, num_states), dtype=np.int64)
    np.add.at(C, (a[ok], b[ok]), 1)
    rows, cols = linear_sum_assignment(-C)
    order = np.empty(num_states, dtype=np.intp)
    order[rows] = cols
    n = int(ok.sum())
    return (float(C[rows, cols].sum() / n) if n else np.nan), C[:, order], order


@renamed_keywords(datas="data", masks="mask")
def stability(
    data,
    num_states,
    model="autoregressive",
    observation_kwargs=None,
    kappa=0.0,
    num_fits=5,
    mask=None,
    num_iters=None,
    tol=None,
    seed=0,
    num_workers=1,
    executor=None,
    progress=None,
    hmm_kwargs=None,
    *,
    em=None,
    execution=None,
) -> Stability:
    """Fit ``num_fits`` times from different seeds and measure how alike the syllables are.

    Parameters
    ----------
    data : array_like (T, D) or list of them
    num_states : int
    model, observation_kwargs, kappa, mask, num_iters, tol, hmm_kwargs
        As in :func:`ethogram.selection.cross_validate`.
    num_fits : int, default 5
        Fits, seeded from ``(seed, i)``.
    seed, num_workers, executor, progress, em, execution
        As in :func:`ethogram.selection.cross_validate`.

    Returns
    -------
    Stability

    Raises
    ------
    ValueError
        If ``num_fits`` < 2.
    """
    import pandas as pd

    if isinstance(num_fits, bool) or int(num_fits) != num_fits or num_fits < 2:
        raise ValueError(
            f"num_fits must be an integer >= 2 (pairs of fits are compared), got {num_fits!r}"
        )
    em, execution = selection_settings(em, execution, num_iters, tol, num_workers, executor)
    sequences, masks = check_sequences(data, mask)
    spec = model_spec(
        num_states, model, observation_kwargs, sequences[0].shape[1], kappa, hmm_kwargs
    )
    tasks = [
        dict(
            spec=spec,
            sequences=sequences,
            masks=masks,
            em=em,
            seed=seed,
            index=i,
            num_threads=execution.num_threads,
        )
        for i in range(int(num_fits))
    ]
    res = run_tasks(
        _stability_task,
        tasks,
        execution.num_workers,
        execution.job_executor(),
        progress,
        desc="stability fits",
    )
    N, K = len(res), int(num_states)
    labels = [np.concatenate(r["labels"]) for r in res]
    agreement = np.eye(N)
    confusions = {}
    orders = {}
    for i in range(N):
        for j in range(i + 1, N):
            acc, C, order = matched_confusion(labels[i], labels[j], K)
            agreement[i, j] = agreement[j, i] = acc
            confusions[(i, j)] = C
            orders[(i, j)] = order
    objectives = np.array([r["objective"] for r in res])
    c = int(np.argmax(objectives))
    rec = np.full((K, N - 1), np.nan)
    col = 0
    for j in range(N):
        if j == c:
            continue
        _, C, _ = matched_confusion(labels[c], labels[j], K)
        tot = C.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            rec[:, col] = np.where(tot > 0, np.diag(C) / tot, np.nan)
        col += 1
    u = usage(labels[c], K)
    with np.errstate(invalid="ignore"):
        per = pd.DataFrame(
            {
                "syllable": np.arange(K),
                "usage": u,
                "recurrence_mean": np.nanmean(rec, axis=1) if N > 1 else np.nan,
                "recurrence_min": np.nanmin(rec, axis=1),
            }
        )
    return Stability(
        agreement,
        confusions,
        objectives,
        c,
        per,
        [r["labels"] for r in res],
        [r["params"] for r in res],
        spec,
    )
