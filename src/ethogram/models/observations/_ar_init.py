"""Starting values of the autoregressive models: regression rows, k-means features, random starts.

Kept apart from :mod:`.autoregressive` (which documents the choices in
:meth:`~.autoregressive.AutoregressiveObservations.initialize`): the regression rows of
every scored frame and the shared difference dynamics ``Abar``; the per-frame features that
k-means clusters (innovation under ``Abar``, position, velocity, and the local log energy of
the innovation), each standardised with constant columns left out; and the ``"random"``
start.
"""

from __future__ import annotations

import numpy as np

from ._ar_linalg import lagged_rows
from ._common import singular_states, standardize_columns, symmetrize

#: frames of the window over which the local innovation energy of the k-means start is averaged
LOCAL_WINDOW = 11


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


def init_rows(model, datas, masks) -> tuple[np.ndarray, list, np.ndarray]:
    """Regression rows ``[y_t, u_t]`` (n, D + P) of every scored frame t >= L, the number
    of such rows per sequence, and the shared difference dynamics ``Abar`` (D, L*D)
    fitted to ``dx_t ~ sum_l Abar_l dx_{t-l}`` on frames whose L + 1 lags are scored
    (zeros if too few)."""
    D, L = model.data_dim, model.num_lags
    rows, diffs = [], []
    for d, m in zip(datas, masks):
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
        Regression rows of :func:`init_rows`.
    lengths : list of int
        Rows per sequence.
    Abar : ndarray, shape (D, L*D)
    data_dim, num_lags : int

    Returns
    -------
    ndarray, shape (n, F)
        The two groups standardised by :func:`._common.standardize_columns` (numerically
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
    regression rows ``Z`` of :func:`init_rows` (centred frames)."""
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
    if model.noise == "diag":
        cov = np.diag(np.diag(cov))
    model.emission_covs = np.tile(cov, (K, 1, 1))
