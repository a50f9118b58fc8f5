"""Syllable trajectories as numbers: the average egocentric pose sequence of each syllable.

Kept apart from drawing them (:mod:`ethogram.viz.trajectories`): for every syllable, up to
``num_samples`` instances are drawn reproducibly; each instance's keypoints from ``pre`` frames
before to ``post`` frames after its onset are centred on the centroid *at onset* and rotated by
minus the heading *at onset*, so the average shows how the body moves and turns during the
syllable relative to where it started (keypoint-moseq's ``get_trajectories``, Weinreb et al.
2024, Nature Methods, computed here from plain arrays). The default skeleton
(:func:`skeleton_edges`, the minimum spanning tree of a pose) and the check of edges given by
name or index live here too, shared by the plots and the report.
"""

from __future__ import annotations

import numpy as np

from .._runs import label_runs
from ._common import as_label_list, infer_num_states


def _as_list(x, n, name, ndim):
    if isinstance(x, dict):
        x = list(x.values())
    if isinstance(x, np.ndarray) or (not isinstance(x, (list, tuple))):
        x = [x]
    x = [np.asarray(a, dtype=float) for a in x]
    if len(x) != n:
        raise ValueError(
            f"{name} has {len(x)} recordings but syllables has {n}; give one per recording"
        )
    for i, a in enumerate(x):
        if a.ndim != ndim:
            raise ValueError(f"{name}[{i}] must have {ndim} dimensions, got shape {a.shape}")
    return x


def syllable_trajectories(
    keypoints,
    centroids,
    headings,
    syllables,
    num_states=None,
    pre: int = 5,
    post: int = 15,
    min_duration: int = 3,
    num_samples: int = 40,
    seed: int = 0,
):
    """Average egocentric keypoint trajectory around the onset of each syllable.

    Parameters
    ----------
    keypoints : array_like (T, B, S) or a list or dict of them
        Keypoints in pixels per recording (S >= 2; only x, y are used), NaN = missing.
    centroids : array_like (T, 2) or list of them
        Body centre in pixels.
    headings : array_like (T,) or list of them
        Heading in radians (angle of the posterior-to-anterior vector, pixel axes).
    syllables : array_like of int (T,) or list of them
        Labels, -1 = no syllable.
    num_states : int, optional
        K (default: largest label + 1).
    pre, post : int, default 5, 15
        Frames before and after onset in the window (``pre + post`` frames in all).
    min_duration : int, default 3
        Only instances lasting at least this many frames are used.
    num_samples : int, default 40
        At most this many instances per syllable, drawn without replacement.
    seed : int, default 0
        The draw for syllable k uses ``numpy.random.default_rng([seed, k])``, so it does not
        depend on the other syllables.

    Returns
    -------
    trajectories : ndarray, shape (K, pre + post, B, 2)
        Mean over instances of ``R(-heading[onset]) (keypoints[onset + t] - centroid[onset])``
        for t = -pre .. post-1, ignoring NaN; all NaN for a syllable without instances.
    num_instances : ndarray of int, shape (K,)
        Instances averaged per syllable.

    Raises
    ------
    ValueError
        If the recordings' lengths or counts disagree, or ``pre``/``post`` are negative.
    """
    labels = as_label_list(syllables)
    n = len(labels)
    kps = _as_list(keypoints, n, "keypoints", 3)
    cents = _as_list(centroids, n, "centroids", 2)
    heads = _as_list(headings, n, "headings", 1)
    if pre < 0 or post < 1:
        raise ValueError(f"pre must be >= 0 and post >= 1, got pre={pre}, post={post}")
    for i in range(n):
        T = labels[i].shape[0]
        if kps[i].shape[0] != T or cents[i].shape[0] != T or heads[i].shape[0] != T:
            raise ValueError(
                f"recording {i}: syllables, keypoints, centroids and headings "
                f"must all have {T} frames"
            )
        if kps[i].shape[2] < 2 or cents[i].shape[1] != 2:
            raise ValueError(
                f"recording {i}: keypoints need x and y (S >= 2) and centroids shape (T, 2)"
            )
    K = infer_num_states(labels, num_states)
    B = kps[0].shape[1]
    # candidate instances per syllable: (recording, onset)
    cand = [[] for _ in range(K)]
    for i, z in enumerate(labels):
        s, e, v = label_runs(z)
        d = e - s
        T = z.shape[0]
        ok = (v >= 0) & (d >= min_duration) & (s - pre >= 0) & (s + post <= T)
        ok &= np.isfinite(heads[i][s]) & np.isfinite(cents[i][s]).all(axis=1)
        for k, onset in zip(v[ok], s[ok]):
            cand[int(k)].append((i, int(onset)))
    L = pre + post
    out = np.full((K, L, B, 2), np.nan)
    counts = np.zeros(K, dtype=np.int64)
    for k in range(K):
        c = cand[k]
        if not c:
            continue
        rng = np.random.default_rng([int(seed), k])  # per syllable: independent of the others
        pick = sorted(rng.choice(len(c), size=min(num_samples, len(c)), replace=False).tolist())
        stack = np.empty((len(pick), L, B, 2))
        for j, p in enumerate(pick):
            i, onset = c[p]
            X = kps[i][onset - pre : onset + post, :, :2] - cents[i][onset]
            h = heads[i][onset]
            c_, s_ = np.cos(h), np.sin(h)
            # rotate by -h: [x, y] -> [c x + s y, -s x + c y]
            stack[j, ..., 0] = c_ * X[..., 0] + s_ * X[..., 1]
            stack[j, ..., 1] = -s_ * X[..., 0] + c_ * X[..., 1]
        with np.errstate(invalid="ignore"):
            valid = np.isfinite(stack)
            num = np.where(valid, stack, 0.0).sum(axis=0)
            den = valid.sum(axis=0)
            out[k] = np.where(den > 0, num / np.maximum(den, 1), np.nan)
        counts[k] = len(pick)
    return out, counts


def check_edges(edges, bodyparts, B):
    if edges is None:
        return None
    out = []
    for a, b in edges:
        if isinstance(a, str) or isinstance(b, str):
            if bodyparts is None:
                raise ValueError("edges given by body-part names need bodyparts")
            names = list(bodyparts)
            for nm in (a, b):
                if nm not in names:
                    raise ValueError(f"edge body part {nm!r} is not one of {names}")
            out.append((names.index(a), names.index(b)))
        else:
            if not (0 <= int(a) < B and 0 <= int(b) < B):
                raise ValueError(f"edge ({a}, {b}) is out of range for {B} body parts")
            out.append((int(a), int(b)))
    return out


def skeleton_edges(pose) -> list:
    """A default skeleton: the minimum spanning tree of a pose (scipy).

    Parameters
    ----------
    pose : array_like, shape (B, 2) or (..., B, 2)
        One pose, or several averaged (NaN ignored).

    Returns
    -------
    list of (int, int)
        B - 1 edges joining each body part to its nearest neighbours (snout-ears, ears-tail
        base, ...); empty when B < 2 or the pose is not finite. The rule of the grid movies'
        default skeleton, so plots and movies draw the same body.
    """
    from scipy.sparse.csgraph import minimum_spanning_tree
    from scipy.spatial.distance import pdist, squareform

    P = np.asarray(pose, dtype=float)[..., :2]
    if P.ndim > 2:
        with np.errstate(all="ignore"), __import__("warnings").catch_warnings():
            __import__("warnings").simplefilter("ignore")
            P = np.nanmean(P.reshape(-1, P.shape[-2], 2), axis=0)
    if P.shape[0] < 2 or not np.all(np.isfinite(P)):
        return []
    dist = squareform(pdist(P)) + 1e-9
    np.fill_diagonal(dist, 0)
    tree = minimum_spanning_tree(dist).tocoo()
    return sorted((int(min(a, b)), int(max(a, b))) for a, b in zip(tree.row, tree.col))
