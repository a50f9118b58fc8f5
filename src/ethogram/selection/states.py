"""How many states are used, and which are alike: pruning unused states, merging similar ones.

EM keeps every state it starts with, even when a state ends up explaining (almost) no frame;
MoSeq's hierarchical Dirichlet process prior lets the number of used states follow the data
instead. :func:`prune_states` is the EM counterpart: after a fit, states whose Viterbi usage
falls below a threshold are removed (an HMM on the kept states, transition rows
renormalised) and EM continues, until every state is used. :func:`syllable_distances`
measures how alike the states' dynamics are (and their mean poses when given);
:func:`syllable_linkage` turns the distances into a dendrogram (scipy's hierarchical
clustering); :func:`merge_states` merges states closer than a threshold by pooling their
posterior responsibilities (one M-step on the merged responsibilities gives the merged
parameters, the transition counts are summed over merged blocks) and refits.
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass

import numpy as np

from .._deprecation import renamed_keywords
from ..fitting.settings import EMSettings
from ._common import check_sequences, selection_settings, usage, viterbi_labels
from ._parallel import sub_model

#: EM after pruning or merging states: 50 iterations from the kept parameters
REFIT_EM = EMSettings(num_iters=50, init="params")


def _refit_settings(em, num_iters, tol) -> EMSettings:
    """The EM settings of a refit from kept parameters: ``em`` (default :data:`REFIT_EM`) with
    ``num_iters`` and ``tol`` on top, from the parameters (one restart, one start)."""
    em, _ = selection_settings(em, None, num_iters, tol, default_em=REFIT_EM)
    return dataclasses.replace(em, init="params", num_restarts=1, num_starts=None)


@dataclass
class Pruned:
    """Outcome of :func:`prune_states`.

    Attributes
    ----------
    model : HMM
        The refitted model on the kept states.
    kept : ndarray of int
        Indices, in the original model, of the states kept.
    usage : ndarray
        Viterbi usage (fraction of labelled frames) of the kept states in the final model.
    history : list of int
        Number of states after each pruning round (first entry: the starting K).
    """

    model: object
    kept: np.ndarray
    usage: np.ndarray
    history: list

    @property
    def num_states_used(self) -> int:
        """Number of states used at the end."""
        return int(self.model.num_states)


@renamed_keywords(datas="data", masks="mask")
def prune_states(
    model,
    data,
    mask=None,
    min_usage: float = 0.005,
    num_iters: int | None = None,
    tol=None,
    max_rounds: int = 10,
    *,
    em=None,
) -> Pruned:
    """Remove states used for less than ``min_usage`` of the frames and keep fitting.

    Parameters
    ----------
    model : HMM
        A fitted model (left unchanged).
    data : array_like (T, D) or list of them
    mask : array_like of bool (T,), or list of them, optional
        True where a frame is observed (``masks=`` is its deprecated former name).
    min_usage : float, default 0.005
        Minimum fraction of labelled frames (Viterbi) a state must explain to be kept
        (0: only states that label no frame at all are removed).
    num_iters, tol
        EM after each pruning (warm start from the kept parameters): ``em``'s fields, which
        they replace when given (default 50 iterations, :meth:`ethogram.HMM.fit`'s tolerance).
    max_rounds : int, default 10
        Prune-and-refit rounds at most.
    em : ethogram.fitting.EMSettings, optional
        EM after each pruning (default :data:`REFIT_EM`); run from the kept parameters
        (``init="params"``, one restart).

    Returns
    -------
    Pruned

    Raises
    ------
    ValueError
        If ``min_usage`` is not in [0, 1).
    """
    if not 0 <= min_usage < 1:
        raise ValueError(f"min_usage must be in [0, 1), got {min_usage!r}")
    em = _refit_settings(em, num_iters, tol)
    sequences, masks = check_sequences(data, mask)
    current = model
    kept = np.arange(model.num_states)
    history = [model.num_states]
    for _ in range(int(max_rounds)):
        u = usage(viterbi_labels(current, sequences, masks), current.num_states)
        keep = np.flatnonzero((u > min_usage) if min_usage > 0 else (u > 0))
        if keep.size == 0:
            keep = np.array([int(np.argmax(u))])
        if keep.size == current.num_states:
            break
        current = sub_model(current, keep)
        kept = kept[keep]
        current.fit(sequences, em=em, mask=masks, progress=False)
        history.append(current.num_states)
    if current is model:
        import copy

        current = copy.deepcopy(model)
    u = usage(viterbi_labels(current, sequences, masks), current.num_states)
    return Pruned(current, kept, u, history)


def syllable_distances(model, mean_poses=None, pose_weight: float = 1.0) -> np.ndarray:
    """Distances between states' dynamics (and mean poses), shape (K, K).

    Autoregressive models: Frobenius norm of the difference of ``[A_k1 ... A_kL b_k]``
    (dynamics and bias). Gaussian models: Euclidean distance of the emission means. When
    ``mean_poses`` (K, ...) is given (e.g. each syllable's average egocentric keypoints), the
    Euclidean distance of the flattened poses, divided by its median off-diagonal value and
    times ``pose_weight``, is added to the dynamics distance divided by its own median, so
    that the two parts weigh alike.

    Parameters
    ----------
    model : HMM
    mean_poses : array_like, shape (K, ...), optional
    pose_weight : float, default 1.0

    Returns
    -------
    ndarray, shape (K, K)
        Symmetric, zero diagonal.

    Raises
    ------
    ValueError
        For an observation model without dynamics or means, or ``mean_poses`` of the wrong length.
    """
    from scipy.spatial.distance import cdist

    obs = model.observations
    K = model.num_states
    if hasattr(obs, "emission_dynamics"):
        feats = obs.emission_dynamics.reshape(K, -1)
        if getattr(obs, "bias", False):
            feats = np.concatenate([feats, obs.emission_bias.reshape(K, -1)], axis=1)
    elif hasattr(obs, "emission_means"):
        feats = np.asarray(obs.emission_means).reshape(K, -1)
    else:
        raise ValueError(
            "syllable_distances needs an autoregressive or Gaussian model, "
            f"got {type(obs).__name__}"
        )
    dist = cdist(feats, feats)
    if mean_poses is not None:
        poses = np.asarray(mean_poses, dtype=np.float64).reshape(np.shape(mean_poses)[0], -1)
        if poses.shape[0] != K:
            raise ValueError(f"mean_poses must have one row per state ({K}), got {poses.shape[0]}")
        pd_ = cdist(np.nan_to_num(poses), np.nan_to_num(poses))
        off = ~np.eye(K, dtype=bool)

        def scaled(m):
            med = np.median(m[off]) if K > 1 else 1.0
            return m / med if med > 0 else m

        dist = scaled(dist) + float(pose_weight) * scaled(pd_)
    return 0.5 * (dist + dist.T)


def mean_poses(labels, poses, num_states: int) -> np.ndarray:
    """Average pose of every state (e.g. egocentric keypoints), for :func:`syllable_distances`.

    Parameters
    ----------
    labels : array_like of int (T,) or a list of them
        State per frame (-1: none).
    poses : array_like (T, ...) or a list of them
        Pose per frame (NaN where unknown), same lengths as ``labels``.
    num_states : int

    Returns
    -------
    ndarray, shape (num_states, ...)
        NaN-ignoring mean over the frames of each state; NaN for a state without frames.

    Raises
    ------
    ValueError
        If labels and poses do not have the same numbers of frames.
    """
    labs = labels if isinstance(labels, (list, tuple)) else [labels]
    ps = poses if isinstance(poses, (list, tuple)) else [poses]
    if len(labs) != len(ps) or any(np.shape(z)[0] != np.shape(x)[0] for z, x in zip(labs, ps)):
        raise ValueError(
            "labels and poses must be given per recording with the same number of frames"
        )
    z = np.concatenate([np.asarray(v) for v in labs])
    x = np.concatenate([np.asarray(v, dtype=np.float64) for v in ps])
    out = np.full((int(num_states),) + x.shape[1:], np.nan)
    for k in range(int(num_states)):
        sel = x[z == k]
        if len(sel):
            with np.errstate(invalid="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                out[k] = np.nanmean(sel, axis=0)
    return out


def syllable_linkage(distances, method: str = "average") -> np.ndarray:
    """Hierarchical clustering of states from a distance matrix (scipy linkage matrix).

    Parameters
    ----------
    distances : array_like, shape (K, K)
    method : str, default "average"
        scipy.cluster.hierarchy.linkage method.

    Returns
    -------
    ndarray, shape (K - 1, 4)
        Pass to ``scipy.cluster.hierarchy.dendrogram`` to draw the tree.
    """
    from scipy.cluster.hierarchy import linkage
    from scipy.spatial.distance import squareform

    d = np.asarray(distances, dtype=np.float64)
    return linkage(squareform(d, checks=False), method=method)


def merge_groups(distances, threshold: float, method: str = "average") -> np.ndarray:
    """Group label (0, 1, ...) of each state: states joined below ``threshold`` share one.

    Groups are numbered by their smallest member state.
    """
    from scipy.cluster.hierarchy import fcluster

    d = np.asarray(distances)
    if d.shape[0] == 1:
        return np.zeros(1, dtype=np.intp)
    raw = fcluster(syllable_linkage(d, method), t=float(threshold), criterion="distance")
    order = {}
    for lab in raw:
        order.setdefault(lab, len(order))
    return np.array([order[lab] for lab in raw], dtype=np.intp)


@renamed_keywords(datas="data", masks="mask")
def merge_states(
    model, data, groups, mask=None, num_iters: int | None = None, tol=None, *, em=None
):
    """Merge states by group and refit.

    The merged model's parameters come from one M-step on the pooled responsibilities
    (``p(z_t in group g | x)``) and the transition counts summed over the merged blocks,
    then EM continues from there.

    Parameters
    ----------
    model : HMM
        Fitted model (left unchanged).
    data : array_like (T, D) or list of them
    groups : array_like of int, shape (K,)
        Group of every state, labels 0..G-1 (e.g. from :func:`merge_groups`).
    mask : array_like of bool (T,), or list of them, optional
        True where a frame is observed (``masks=`` is its deprecated former name).
    num_iters, tol, em
        EM after merging, from the merged parameters (as in :func:`prune_states`).

    Returns
    -------
    HMM
        A model with G states (state g = group g).

    Raises
    ------
    ValueError
        If ``groups`` is not a labelling 0..G-1 of the K states.
    """
    from ..inference import forward_backward, one_blas_thread

    groups = np.asarray(groups, dtype=np.intp)
    K = model.num_states
    G = int(groups.max()) + 1 if groups.size else 0
    if groups.shape != (K,) or groups.min() < 0 or set(np.unique(groups)) != set(range(G)):
        raise ValueError(
            f"groups must give every one of the {K} states a group in 0..G-1 with none empty, "
            f"got {groups!r}"
        )
    sequences, masks = check_sequences(data, mask)
    reps = np.array([np.flatnonzero(groups == g)[0] for g in range(G)])
    merged = sub_model(model, reps)
    onehot = np.zeros((K, G))
    onehot[np.arange(K), groups] = 1.0
    obs_stats = None
    trans = np.zeros((G, G))
    init = np.zeros(G)
    with one_blas_thread():  # small solves and Gram matrices: BLAS threads only wait
        for d, m in zip(sequences, masks):
            eff = model.observations.effective_mask(d, m)
            ll = model.observations.log_likelihoods(d, eff)
            post = forward_backward(model.initial_probs, model.transition_matrix, ll)
            w = post.expected_states @ onehot
            s = merged.observations.sufficient_stats(d, w, eff)
            obs_stats = s if obs_stats is None else {k: obs_stats[k] + s[k] for k in obs_stats}
            trans += onehot.T @ post.expected_transitions @ onehot
            init += w[0]
        merged.observations.m_step(obs_stats)
    merged.transitions.m_step(trans)
    merged.initial.m_step(init)
    merged.fit(sequences, em=_refit_settings(em, num_iters, tol), mask=masks, progress=False)
    return merged
