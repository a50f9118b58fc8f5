"""Shared pieces of model selection: checking inputs, building and fitting one model, labels
and run lengths.

Every selection function takes model inputs as the rest of ethogram does: one array (T, D)
or a list of arrays of different lengths, optional boolean masks (True = frame observed),
NaN rows masked automatically. A model is described by a small dict (``spec``: number of
states, observation model name and keyword arguments, kappa, other HMM keyword arguments)
so that a fit can be rebuilt in a worker process from arrays and numbers only.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .._runs import run_lengths  # noqa: F401 (re-exported by ethogram.selection)
from ..fitting.settings import EMSettings, ExecutionSettings

#: names accepted for ``model`` besides the registered observation-model names
MODEL_ALIASES = {
    "arhmm": "autoregressive",
    "ar": "autoregressive",
    "robust_arhmm": "robust_autoregressive",
    "robust-arhmm": "robust_autoregressive",
    "hmm": "gaussian",
}


def check_sequences(sequences, masks=None) -> tuple[list, list]:
    """Validate model inputs into a list of float arrays (T_i, D) and a list of masks.

    Parameters
    ----------
    sequences : array_like (T, D) or list of them
    masks : array_like of bool (T,), list of them (or None entries), or None

    Returns
    -------
    sequences : list of ndarray, float64, shape (T_i, D)
    masks : list of (ndarray of bool (T_i,) or None), NaN rows already masked out

    Raises
    ------
    ValueError
        If an array is not 2-D, dimensions differ, it is empty, or a mask does not match.
    """
    sequences = _checked_arrays(sequences)
    if masks is None:
        masks = [None] * len(sequences)
    elif isinstance(masks, np.ndarray) and len(sequences) == 1:
        masks = [masks]
    if len(masks) != len(sequences):
        raise ValueError(
            f"mask must give one mask (or None) per array: {len(masks)} masks for "
            f"{len(sequences)} arrays"
        )
    return sequences, [_nan_masked(i, d, m) for i, (d, m) in enumerate(zip(sequences, masks))]


def _checked_arrays(sequences) -> list:
    """``sequences`` as a list of float64 arrays (T_i, D), T_i >= 2, one D, no inf."""
    if isinstance(sequences, np.ndarray) or (
        isinstance(sequences, (list, tuple)) and sequences and np.ndim(sequences[0]) == 1
    ):
        sequences = [sequences]
    sequences = [np.asarray(d, dtype=np.float64) for d in sequences]
    if not sequences:
        raise ValueError("sequences is empty: give one array (T, D) or a list of them")
    for i, d in enumerate(sequences):
        if d.ndim != 2 or d.shape[0] < 2:
            raise ValueError(
                f"sequences[{i}] must be a 2-D array (T, D) with T >= 2, got shape {d.shape}"
            )
        if np.isinf(d).any():
            raise ValueError(
                f"sequences[{i}] holds infinite values; replace them by NaN to mask those frames"
            )
    dims = {d.shape[1] for d in sequences}
    if len(dims) != 1:
        raise ValueError(
            f"all arrays in sequences must have the same number of columns, got {sorted(dims)}"
        )
    return sequences


def _nan_masked(i: int, d, m):
    """Mask ``m`` of array ``d`` (number ``i``, for the message) with its NaN rows masked out
    (None when every frame is observed and no mask was given)."""
    nan_rows = np.isnan(d).any(axis=1)
    if m is not None:
        m = np.asarray(m)
        if m.shape != (d.shape[0],):
            raise ValueError(f"masks[{i}] must have shape ({d.shape[0]},), got {m.shape}")
        return m.astype(bool) & ~nan_rows
    return ~nan_rows if nan_rows.any() else None


def model_spec(num_states, model, observation_kwargs, data_dim, kappa=0.0, hmm_kwargs=None) -> dict:
    """Describe an HMM by arrays and numbers (rebuilt with :func:`build_model`).

    Parameters
    ----------
    num_states : int
    model : str
        Observation model: a registered name or an alias (``"arhmm"`` = ``"autoregressive"``).
    observation_kwargs : dict or None
        ``data_dim`` is filled in from the data when absent.
    data_dim : int
    kappa : float
    hmm_kwargs : dict or None
        Other keyword arguments of :class:`ethogram.HMM` (e.g. ``transition_alpha``).

    Returns
    -------
    dict
    """
    from ..models.observations.base import get_observation_class

    name = MODEL_ALIASES.get(str(model).lower(), str(model).lower())
    get_observation_class(name)  # raises a ValueError naming the choices
    kw = dict(observation_kwargs or {})
    kw.setdefault("data_dim", int(data_dim))
    if int(kw["data_dim"]) != int(data_dim):
        raise ValueError(
            f"observation_kwargs['data_dim']={kw['data_dim']} but the data have {data_dim} columns"
        )
    hk = dict(hmm_kwargs or {})
    if "kappa" in hk:
        raise ValueError("give kappa as its own argument, not inside hmm_kwargs")
    return {
        "num_states": int(num_states),
        "observations": name,
        "observation_kwargs": kw,
        "kappa": float(kappa),
        "hmm_kwargs": hk,
    }


def build_model(spec: dict):
    """An unfitted :class:`ethogram.HMM` from a spec made by :func:`model_spec`."""
    from ..models.hmm import HMM

    return HMM(
        spec["num_states"],
        spec["observations"],
        dict(spec["observation_kwargs"]),
        kappa=spec["kappa"],
        **spec["hmm_kwargs"],
    )


def fit_model(spec, sequences, masks, em, tol=None, rng=None, params=None, num_threads=None):
    """Build and fit one model, from k-means (``rng``) or warm from ``params``.

    Parameters
    ----------
    spec : dict
        From :func:`model_spec`.
    sequences, masks : list
    em : EMSettings or int
        The fit's EM settings (warm starts use them with ``init="params"``); an int is
        ``num_iters`` (with ``tol``, None for :class:`~ethogram.fitting.EMSettings`' default),
        as this function was called before the settings objects.
    rng : int, numpy.random.Generator or None
    params : dict, optional
    num_threads : int, optional

    Returns
    -------
    model : HMM
    objective : float
        Final MAP objective.
    num_iters : int
        EM iterations done.
    """
    if not isinstance(em, EMSettings):
        em = EMSettings(num_iters=em, **({} if tol is None else {"tol": float(tol)}))
    execution = ExecutionSettings(num_threads=num_threads)
    if params is not None:
        model = restore_model(spec, params, sequences, masks)
        warm = dataclasses.replace(em, init="params", num_restarts=1, num_starts=None)
        res = model.fit(sequences, em=warm, execution=execution, mask=masks, progress=False)
    else:
        model = build_model(spec)
        res = model.fit(sequences, em=em, execution=execution, seed=rng, mask=masks, progress=False)
    return model, float(res.objectives[-1]), int(res.num_iters)


def selection_settings(
    em=None,
    execution=None,
    num_iters=None,
    tol=None,
    num_workers=1,
    executor=None,
    default_em: EMSettings | None = None,
):
    """The ``(em, execution)`` of a selection function: the settings given (default
    ``default_em`` or ``EMSettings()``, and ``ExecutionSettings()``), each keyword those
    functions took before the settings objects replacing its field when it is given
    (``num_iters`` and ``tol`` not None, ``num_workers`` not 1, ``executor`` not None).

    Raises
    ------
    ethogram.errors.ArgumentError, ethogram.errors.ArgumentTypeError
        Naming a field out of range (:mod:`ethogram.fitting.settings`).
    """
    em = (default_em or EMSettings()) if em is None else em
    execution = ExecutionSettings() if execution is None else execution
    changes = {k: v for k, v in (("num_iters", num_iters), ("tol", tol)) if v is not None}
    em = dataclasses.replace(em, **changes) if changes else em
    changes = {} if num_workers == 1 else {"num_workers": num_workers}
    if executor is not None:
        changes["executor"] = executor
    execution = dataclasses.replace(execution, **changes) if changes else execution
    return em, execution


def restore_model(spec, params, sequences, masks):
    """The model of ``spec`` with fitted ``params`` (from ``HMM.get_params``) on the data it was
    fitted to: initialised on them first for the data-relative extras (the AR models' data
    centre and scale), then given the parameters."""
    model = build_model(spec)
    model.initialize(sequences, masks, seed=0)
    model.set_params(params)
    return model


def scored_mask(model, data, mask) -> np.ndarray:
    """Frames the model scores (bool (T,)): observed, and for AR models their lags too."""
    eff = model.observations.effective_mask(data, mask)
    return np.ones(data.shape[0], dtype=bool) if eff is None else np.asarray(eff, dtype=bool)


def viterbi_labels(model, sequences, masks) -> list:
    """Viterbi labels per sequence with -1 at frames that are not observed.

    Returns
    -------
    list of ndarray of int, shape (T_i,)
    """
    labels = model.predict(list(sequences), mask=list(masks))
    out = []
    for lab, m in zip(labels, masks):
        lab = np.asarray(lab, dtype=np.int64).copy()
        if m is not None:
            lab[~m] = -1
        out.append(lab)
    return out


def usage(labels, num_states: int) -> np.ndarray:
    """Fraction of labelled frames (label >= 0) in each state, shape (num_states,)."""
    lab = np.concatenate(
        [np.asarray(x) for x in (labels if isinstance(labels, (list, tuple)) else [labels])]
    )
    lab = lab[lab >= 0]
    counts = np.bincount(lab, minlength=num_states).astype(np.float64)
    return counts / max(1.0, counts.sum())
