"""Starting values of the autoregressive models: k-means on per-frame features, or random.

:func:`start_parameters` is :meth:`~.autoregressive.AutoregressiveObservations.initialize`
(which documents the choices and their measured effect): it sets the reference frames, builds
the regression rows of every scored frame and the shared difference dynamics ``Abar``
(:func:`regression_rows`), then either clusters the per-frame features of
:func:`kmeans_features` (innovation under ``Abar``, position, velocity and the local log energy
of the innovation, each standardised with constant columns left out) and fits each cluster's
regression (:func:`kmeans_start`), or draws the ``"random"`` start (:func:`random_start`).
"""

from __future__ import annotations

import numpy as np

from ._ar_linalg import lagged_rows
from ._ar_stats import map_parameters, psi_diagonal
from ._checks import singular_states
from ._common import symmetrize
from ._kmeans import kmeans_labels, standardize_columns
from ._linalg import check_init_method

#: frames of the window over which the local innovation energy of the k-means start is averaged
LOCAL_WINDOW = 11
#: at most this many frames feed the k-means start
KMEANS_ROWS = 20000


def local_log_energy(e: np.ndarray, lengths: list, window: int) -> np.ndarray:
    """``log`` of the mean of ``e_t^2`` over a centred window of frames, per column.

    Parameters
    ----------
    e : ndarray, shape (n, D)
        Rows of consecutive sequences, stacked.
    lengths : list of int
        Rows per sequence (windows never cross a sequence boundary).
    window : int
        Window length in frames (shortened at the ends of a sequence by repeating the end).

    Returns
    -------
    ndarray, shape (n, D)
        Shifted by ``1e-12`` of each column's mean square (so a column of zeros gives a
        constant, and the result changes only by a constant when ``e`` is scaled).
    """
    from scipy.ndimage import uniform_filter1d

    e2 = e**2
    out = np.empty_like(e2)
    start = 0
    for n in lengths:
        if n:
            out[start : start + n] = uniform_filter1d(
                e2[start : start + n], window, axis=0, mode="nearest"
            )
        start += n
    return np.log(out + 1e-12 * e2.mean(axis=0) + 1e-300)


def regression_rows(model, sequences, masks) -> tuple[np.ndarray, list, np.ndarray]:
    """Regression rows ``[y_t, u_t]`` (n, D + P) of every scored frame t >= L, the number
    of such rows per sequence, and the shared difference dynamics ``Abar`` (D, L*D)
    fitted to ``dx_t ~ sum_l Abar_l dx_{t-l}`` on frames whose L + 1 lags are scored
    (zeros if too few)."""
    D, L = model.data_dim, model.num_lags
    rows, diffs = [], []
    for d, m in zip(sequences, masks):
        x, eff = model._prepare(d, m)
        if x.shape[0] <= L:
            continue
        Z = lagged_rows(x, L, model.bias)
        rows.append(Z if eff is None else Z[eff[L:]])
        if x.shape[0] > L + 1:
            dZ = lagged_rows(np.diff(x, axis=0), L, False)
            diffs.append(dZ if eff is None else dZ[eff[L + 1 :] & eff[L:-1]])
    lengths = [r.shape[0] for r in rows]
    Z = np.concatenate(rows) if rows else np.empty((0, D + L * D + int(model.bias)))
    dZ = np.concatenate(diffs) if diffs else np.empty((0, D * (L + 1)))
    if dZ.shape[0] <= 2 * L * D:
        return Z, lengths, np.zeros((D, L * D))
    U, Y = dZ[:, D:], dZ[:, :D]
    gram = U.T @ U
    gram[np.diag_indices_from(gram)] += 1e-6 * np.trace(gram) / gram.shape[0] + 1e-300
    return Z, lengths, np.linalg.solve(gram, U.T @ Y).T


def kmeans_features(
    Z: np.ndarray, lengths: list, Abar: np.ndarray, data_dim: int, num_lags: int
) -> np.ndarray:
    """Per-frame k-means features ``[e_t, y_t, y_t - y_{t-1}]`` and ``log mean_w e_t^2``.

    Parameters
    ----------
    Z : ndarray, shape (n, D + P)
        Regression rows of :func:`regression_rows`.
    lengths : list of int
        Rows per sequence.
    Abar : ndarray, shape (D, L*D)
    data_dim, num_lags : int

    Returns
    -------
    ndarray, shape (n, F)
        The two groups standardised by :func:`._kmeans.standardize_columns` (numerically
        constant columns left out).
    """
    D, L = data_dim, num_lags
    innovation = Z[:, :D] - Z[:, D : D + L * D] @ Abar.T
    velocity = Z[:, :D] - Z[:, D : 2 * D]
    return np.hstack(
        [
            standardize_columns(np.hstack([innovation, Z[:, :D], velocity])),
            standardize_columns(local_log_energy(innovation, lengths, LOCAL_WINDOW)),
        ]
    )


def random_start(model, Z: np.ndarray, rng: np.random.Generator) -> None:
    """The ``"random"`` start of :meth:`AutoregressiveObservations.initialize` from the
    regression rows ``Z`` of :func:`regression_rows` (centred frames)."""
    K, D, L = model.num_states, model.data_dim, model.num_lags
    scale = model._scale()
    velocity = Z[:, :D] - Z[:, D : 2 * D]
    dyn = np.zeros((K, D, L * D))
    dyn[:, :, :D] = 0.9 * np.eye(D) + 0.05 * rng.standard_normal((K, D, D)) / np.sqrt(D)
    centers = Z[rng.choice(Z.shape[0], K, replace=False), :D] + model._center()
    model.emission_dynamics = dyn
    if model.bias:
        model.emission_bias = np.einsum("kij,kj->ki", np.eye(D) - dyn[:, :, :D], centers)
    cov = np.atleast_2d(np.cov(velocity, rowvar=False)) if Z.shape[0] > 1 else np.diag(scale)
    cov = symmetrize(cov) + np.diag(1e-6 * scale)
    if singular_states(cov[None]):
        cov = cov + np.diag(1e-4 * scale)
    if model.covariance_type == "diag":
        cov = np.diag(np.diag(cov))
    model.emission_covs = np.tile(cov, (K, 1, 1))


def kmeans_start(model, Z: np.ndarray, lengths: list, Abar: np.ndarray, rng) -> None:
    """The ``"kmeans"`` start: k-means on :func:`kmeans_features`, then each cluster's ridge
    regression (ridge 1% of each regressor's mean square, so small clusters stay well posed)
    with the default relative noise prior even under ``prior=None`` (a definite start)."""
    K, D, L = model.num_states, model.data_dim, model.num_lags
    labels = kmeans_labels(kmeans_features(Z, lengths, Abar, D, L), K, rng, max_rows=KMEANS_ROWS)
    G = np.stack([Z[labels == k].T @ Z[labels == k] for k in range(K)])
    # a ridge of 1% of each regressor's mean square keeps small clusters well posed
    mean_sq = np.diagonal(G.sum(axis=0))[D:] / Z.shape[0]
    ridge = np.maximum(model.prior_ridge_vector(), 1e-2 * mean_sq)
    n = np.bincount(labels, minlength=K).astype(np.float64)
    if model.prior_count == 0.0:  # the start must be well posed even for maximum likelihood
        n0, psi = 1.0, psi_diagonal(1.0, None, model._scale())
    else:
        n0, psi = model.prior_count, model.prior_psi()
    W, covs = map_parameters(
        n,
        symmetrize(G),
        ridge,
        psi,
        n0,
        model.covariance_type,
        model._centred_weights(),
        model.emission_covs,
        model.data_scale,
    )
    model._set_centred(W, covs)
    model.emission_covs = model.emission_covs + np.diag(1e-8 * model._scale())


def _observed_frames(sequences, masks, num_lags: int, data_dim: int) -> np.ndarray:
    """All observed frames (N, D): rows without NaN, in the mask (the first L frames count as
    observed even where they are unscored)."""
    frames = []
    for d, m in zip(sequences, masks):
        d = np.asarray(d, dtype=np.float64)
        keep = ~np.isnan(d).any(axis=1)
        if m is not None:
            keep &= np.asarray(m, dtype=bool) | (np.arange(d.shape[0]) < num_lags)
        frames.append(d[keep])
    return np.concatenate(frames) if frames else np.empty((0, data_dim))


def start_parameters(model, sequences, masks, rng, method: str) -> None:
    """Set ``data_center``, ``data_scale`` and starting parameters of an AR model (see
    :meth:`~.autoregressive.AutoregressiveObservations.initialize`, which this is)."""
    check_init_method(method)
    K, L = model.num_states, model.num_lags
    allx = _observed_frames(sequences, masks, L, model.data_dim)
    if allx.shape[0] > 0:
        model.data_scale, model.data_center = None, None
        model._set_reference(allx)
    Z, lengths, Abar = regression_rows(model, sequences, masks)
    if Z.shape[0] < K:
        raise ValueError(
            f"initialisation needs at least num_states={K} frames with all {L} lags observed, "
            f"got {Z.shape[0]}"
        )
    if method == "random":
        random_start(model, Z, rng)
    else:
        kmeans_start(model, Z, lengths, Abar, rng)
