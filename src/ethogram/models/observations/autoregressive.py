"""Autoregressive emissions: ``x_t | z_t = k ~ N(sum_l A_kl x_{t-l} + b_k, Q_k)`` (MoSeq's ARHMM).

``emission_dynamics`` is (K, D, L*D) with the lag blocks in order [A_1 ... A_L] (lag 1 first),
as in the course's ``W_k = [A_k1 ... A_kL b_k]``; ``emission_bias`` is (K, D) and
``emission_covs`` (K, D, D) with noise ``full``, ``diag`` or ``tied``. As in the course, the
first L frames of a sequence are modeled as N(0, I) whatever the state (they carry no state
information and add nothing to the statistics); a frame whose lags are masked is not scored.

Prior (conjugate, closed-form MAP): on ``W_k`` the ridge penalty
``-1/2 tr(Q_k^-1 W_k (lam I) W_k^T)`` (lam = ``prior_ridge``, default 1e-4, on dynamics and
bias) and on ``Q_k`` the same weak inverse-Wishart-shaped penalty as the Gaussian model
(n0 pseudo-observations of ``s0 I``). Then ``W_k = S_yx (S_xx + lam I)^-1`` and
``Q_k = (S_yy - W_k S_yx^T + n0 s0 I) / (N_k + n0)``, the exact maximiser of the penalised
expected log-likelihood, so EM is monotone. ``prior=None`` is weighted least squares.

Speed: all states are scored with one BLAS product per chunk of frames, using whitened
regression rows ``L_k^-1 [I, -W_k]`` applied to ``[x_t, x_{t-1}, ..., x_{t-L}, 1]``; the
statistics are one weighted Gram matrix of those rows per state.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import solve_triangular

from ._common import (
    LOG_2PI,
    grouped_squares,
    check_float_data,
    check_positive_int,
    cholesky,
    frame_weights,
    iw_penalty,
    observed_rows,
    symmetrize,
)
from .base import ObservationModel, register

NOISE_TYPES = ("full", "diag", "tied")
_CHUNK = 8192
_GRAM_CHUNK = 1024


def _finite(data: np.ndarray) -> np.ndarray:
    """NaN entries replaced by 0. Unlike the i.i.d. models, masked rows are *not* zeroed:
    a frame left out of the scores may still be a valid lag of the next frames (the
    effective mask decides what is scored)."""
    return np.nan_to_num(data, nan=0.0) if np.isnan(data).any() else data


def lagged_rows(x: np.ndarray, num_lags: int, bias: bool) -> np.ndarray:
    """Rows ``[x_t, x_{t-1}, ..., x_{t-L}, (1)]`` for t = L..T-1, shape (T - L, D (L + 1) + bias)."""
    T, D = x.shape
    L = num_lags
    n = max(T - L, 0)
    Z = np.empty((n, D * (L + 1) + int(bias)))
    for l in range(L + 1):
        Z[:, l * D:(l + 1) * D] = x[L - l:T - l]
    if bias:
        Z[:, -1] = 1.0
    return Z


@register("autoregressive")
class AutoregressiveObservations(ObservationModel):
    """Vector autoregressive emissions with state-dependent dynamics.

    Parameters
    ----------
    num_states : int
    data_dim : int
        Dimension D of each frame.
    num_lags : int, default 1
        Number of lags L.
    bias : bool, default True
        Learn a bias ``b_k`` per state (else it is held at 0).
    noise : {"full", "diag", "tied"}, default "full"
    prior : {"default", None}
    prior_ridge : float, default 1e-4
        Ridge strength on dynamics and bias.
    prior_count, prior_scale : float, default 1.0 and 1e-4
        Weak inverse-Wishart-shaped penalty on the noise.
    """

    param_names = ("emission_dynamics", "emission_bias", "emission_covs")

    def __init__(self, num_states, data_dim, num_lags=1, bias=True, noise="full", prior="default", prior_ridge=1e-4, prior_count=1.0, prior_scale=1e-4):
        super().__init__(num_states)
        self.data_dim = check_positive_int(data_dim, "data_dim")
        self.num_lags = check_positive_int(num_lags, "num_lags")
        self.bias = bool(bias)
        if noise not in NOISE_TYPES:
            raise ValueError(f"noise must be one of {NOISE_TYPES}, got {noise!r}")
        self.noise = noise
        if prior not in ("default", None):
            raise ValueError(f"prior must be 'default' or None, got {prior!r}")
        self.prior = prior
        self.prior_ridge = 0.0 if prior is None else float(prior_ridge)
        self.prior_count = 0.0 if prior is None else float(prior_count)
        self.prior_scale = 0.0 if prior is None else float(prior_scale)
        if prior is not None and min(self.prior_ridge, self.prior_count, self.prior_scale) <= 0:
            raise ValueError("prior_ridge, prior_count and prior_scale must be > 0 (or use prior=None)")
        K, D, L = self.num_states, self.data_dim, self.num_lags
        self.emission_dynamics = np.zeros((K, D, L * D))
        self.emission_bias = np.zeros((K, D))
        self.emission_covs = np.tile(np.eye(D), (K, 1, 1))

    def state_param_names(self):
        """Per-state parameters (a tied noise covariance is shared)."""
        return self.param_names[:2] if self.noise == "tied" else self.param_names

    # ------------------------------------------------------------------ data
    def check_data(self, data) -> np.ndarray:
        """Validate one sequence: float (T, D), NaN allowed (masked), no inf."""
        return check_float_data(data, self.data_dim)

    def effective_mask(self, data, mask):
        """Frames scored: observed, and (for t >= L) with all L lags observed."""
        if mask is None:
            return None
        L = self.num_lags
        eff = mask.copy()
        for l in range(1, L + 1):
            eff[L:] &= mask[L - l:len(mask) - l]
        return eff

    def _weights_matrix(self) -> np.ndarray:
        """``W_k = [A_k1 ... A_kL b_k]`` stacked, shape (K, D, L*D + bias)."""
        if self.bias:
            return np.concatenate([self.emission_dynamics, self.emission_bias[:, :, None]], axis=2)
        return np.asarray(self.emission_dynamics)

    def _prefix_log_likes(self, x: np.ndarray) -> np.ndarray:
        L = min(self.num_lags, x.shape[0])
        return -0.5 * (self.data_dim * LOG_2PI + np.einsum("ij,ij->i", x[:L], x[:L]))

    # ------------------------------------------------------------------ likelihoods
    def _mahalanobis(self, Z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Squared Mahalanobis residuals (n, K) of lagged rows ``Z`` and each state's
        ``log|Q_k|^(1/2)``."""
        K, D = self.num_states, self.data_dim
        chols = cholesky(self.emission_covs)
        W = self._weights_matrix()
        # whitened regression rows M_k = L_k^-1 [I, -W_k], stacked to (K*D, D + P)
        M = np.empty((K, D, Z.shape[1]))
        for k in range(K):
            M[k] = solve_triangular(chols[k], np.hstack([np.eye(D), -W[k]]), lower=True, check_finite=False)
        MT = np.ascontiguousarray(M.reshape(K * D, Z.shape[1]).T)
        maha = np.empty((Z.shape[0], K))
        for start in range(0, Z.shape[0], _CHUNK):
            grouped_squares(Z[start:start + _CHUNK] @ MT, K, D, maha[start:start + _CHUNK])
        half_logdet = np.log(np.diagonal(chols, axis1=1, axis2=2)).sum(axis=1)
        return maha, half_logdet

    def _state_log_density(self, maha: np.ndarray, half_logdet: np.ndarray) -> np.ndarray:
        return -0.5 * (self.data_dim * LOG_2PI + maha) - half_logdet

    def log_likelihoods(self, data, mask=None) -> np.ndarray:
        """Per-frame, per-state log-likelihoods (T, K); zero rows for unscored frames."""
        x = _finite(data)
        T, K, L = x.shape[0], self.num_states, self.num_lags
        out = np.empty((T, K))
        out[:min(L, T)] = self._prefix_log_likes(x)[:, None]
        if T > L:
            maha, half_logdet = self._mahalanobis(lagged_rows(x, L, self.bias))
            out[L:] = self._state_log_density(maha, half_logdet)
        if mask is not None and not mask.all():
            out[~mask] = 0.0
        return out

    # ------------------------------------------------------------------ EM
    def _row_weights(self, Z: np.ndarray, w: np.ndarray) -> np.ndarray:
        """Weights of the regression rows (n, K): the posterior (robust models rescale it)."""
        return w

    def sufficient_stats(self, data, expected_states, mask=None) -> dict:
        """Per state: ``n`` (K,) frames and the weighted Gram ``G`` (K, D+P, D+P) of
        ``[x_t, x_{t-1}, ..., x_{t-L}, 1]`` over frames t >= L."""
        x = _finite(data)
        T, K, L = x.shape[0], self.num_states, self.num_lags
        w = frame_weights(expected_states, mask, T, K)
        Z = lagged_rows(x, L, self.bias)
        G = np.zeros((K, Z.shape[1], Z.shape[1]))
        if T <= L:
            return {"n": np.zeros(K), "G": G}
        w = w[L:]
        sw = np.sqrt(self._row_weights(Z, w))
        # chunks of rows small enough to stay in cache between the scaling and the product
        for start in range(0, Z.shape[0], _GRAM_CHUNK):
            Zc, swc = Z[start:start + _GRAM_CHUNK], sw[start:start + _GRAM_CHUNK]
            for k in range(K):
                Zw = Zc * swc[:, k:k + 1]
                G[k] += Zw.T @ Zw
        return {"n": w.sum(axis=0), "G": G}

    def m_step(self, stats) -> None:
        """Closed-form MAP of dynamics, bias and noise from summed statistics."""
        n, G = stats["n"], symmetrize(stats["G"])
        K, D = self.num_states, self.data_dim
        P = G.shape[1] - D
        lam, n0, s0 = self.prior_ridge, self.prior_count, self.prior_scale
        W = self._weights_matrix().copy()
        resid = np.zeros((K, D, D))
        ok = np.zeros(K, bool)
        for k in range(K):
            Syy, Syx, Sxx = G[k, :D, :D], G[k, :D, D:], G[k, D:, D:]
            if n[k] <= 0 and lam == 0:
                continue
            A = Sxx + lam * np.eye(P)
            try:
                Wk = np.linalg.solve(A, Syx.T).T
            except np.linalg.LinAlgError:
                Wk = np.linalg.lstsq(A, Syx.T, rcond=None)[0].T
            W[k] = Wk
            resid[k] = symmetrize(Syy - Wk @ Syx.T)
            ok[k] = True
        eye = np.eye(D)
        covs = self.emission_covs.copy()
        if self.noise == "tied":
            covs = np.tile((resid[ok].sum(axis=0) + n0 * s0 * eye) / (n[ok].sum() + n0), (K, 1, 1))
        else:
            for k in np.flatnonzero(ok & ((n + n0) > 0)):
                Q = (resid[k] + n0 * s0 * eye) / (n[k] + n0)
                covs[k] = np.diag(np.diag(Q)) if self.noise == "diag" else Q
        LD = self.num_lags * D
        self.emission_dynamics = W[:, :, :LD].copy()
        if self.bias:
            self.emission_bias = W[:, :, LD].copy()
        self.emission_covs = symmetrize(covs)

    def log_prior(self) -> float:
        """Ridge penalty on ``W_k`` (scaled by ``Q_k^-1``) plus the noise penalty; 0 for None."""
        if self.prior is None:
            return 0.0
        W = self._weights_matrix()
        Qinv = np.linalg.inv(self.emission_covs)
        ridge = -0.5 * self.prior_ridge * np.einsum("kij,kjp,kip->", Qinv, W, W)
        covs = self.emission_covs[:1] if self.noise == "tied" else self.emission_covs
        if self.noise == "diag":
            var = np.diagonal(covs, axis1=1, axis2=2)
            pen = float(np.sum(-0.5 * self.prior_count * np.log(var) - 0.5 * self.prior_count * self.prior_scale / var))
        else:
            pen = iw_penalty(covs, self.prior_count, self.prior_scale)
        return float(ridge) + pen

    # ------------------------------------------------------------------ generation
    def _noise(self, states, rng) -> np.ndarray:
        chols = cholesky(self.emission_covs)
        eps = rng.standard_normal((len(states), self.data_dim))
        return np.einsum("tij,tj->ti", chols[states], eps)

    def sample(self, states, rng) -> np.ndarray:
        """Draw (T, D) observations: N(0, I) for the first L frames, then the AR recursion."""
        states = np.asarray(states)
        T, D, L = states.shape[0], self.data_dim, self.num_lags
        x = np.zeros((T, D))
        x[:min(L, T)] = rng.standard_normal((min(L, T), D))
        noise = self._noise(states, rng)
        A, b = self.emission_dynamics, self.emission_bias
        for t in range(L, T):
            k = states[t]
            lags = x[t - L:t][::-1].reshape(-1)  # [x_{t-1}, ..., x_{t-L}]
            x[t] = A[k] @ lags + b[k] + noise[t]
        return x

    def initialize(self, datas, masks, rng, method="kmeans") -> None:
        """Starting parameters.

        "kmeans": k-means (scikit-learn) on standardised position and velocity
        ``[x_t, x_t - x_{t-1}]`` (at most 20,000 rows), then a ridge regression per cluster,
        so every state starts as a local linear dynamical regime of the data. "random": dynamics
        ``0.9 I`` plus noise, biases placing each state's fixed point at a random frame.
        """
        K, D, L = self.num_states, self.data_dim, self.num_lags
        rows = []
        for d, m in zip(datas, masks):
            x = _finite(d)
            if x.shape[0] <= L:
                continue
            Z = lagged_rows(x, L, self.bias)
            eff = self.effective_mask(d, m)
            keep = np.ones(Z.shape[0], bool) if eff is None else eff[L:]
            rows.append(Z[keep])
        Z = np.concatenate(rows) if rows else np.empty((0, D * (L + 1) + int(self.bias)))
        if Z.shape[0] < K:
            raise ValueError(f"initialisation needs at least {K} frames with all {L} lags observed, got {Z.shape[0]}")
        if method == "random":
            x = observed_rows(datas, masks)
            dyn = np.zeros((K, D, L * D))
            dyn[:, :, :D] = 0.9 * np.eye(D) + 0.05 * rng.standard_normal((K, D, D)) / np.sqrt(D)
            centers = x[rng.choice(x.shape[0], K, replace=False)]
            self.emission_dynamics = dyn
            if self.bias:
                self.emission_bias = np.einsum("kij,kj->ki", np.eye(D) - dyn[:, :, :D], centers)
            diffs = Z[:, :D] - Z[:, D:2 * D]
            self.emission_covs = np.tile(np.atleast_2d(np.cov(diffs, rowvar=False)) + 1e-6 * np.eye(D), (K, 1, 1))
            return
        # position and velocity, each standardised: the velocity field is what tells
        # dynamical regimes apart where their positions overlap
        feats = np.hstack([Z[:, :D], Z[:, :D] - Z[:, D:2 * D]])
        if feats.shape[0] > 20000:
            sub = feats[rng.choice(feats.shape[0], 20000, replace=False)]
        else:
            sub = feats
        scale = sub.std(axis=0) + 1e-12
        from sklearn.cluster import KMeans

        km = KMeans(n_clusters=K, n_init=3, random_state=int(rng.integers(2**31 - 1))).fit(sub / scale)
        labels = km.predict(feats / scale)
        G = np.zeros((K, Z.shape[1], Z.shape[1]))
        counts = np.bincount(labels, minlength=K).astype(np.float64)
        for k in range(K):
            Zk = Z[labels == k]
            G[k] = Zk.T @ Zk
        ridge = self.prior_ridge
        self.prior_ridge = max(ridge, 1e-2 * np.trace(G.sum(0)) / G.shape[1] / max(Z.shape[0], 1))
        try:
            self.m_step({"n": counts, "G": G})
        finally:
            self.prior_ridge = ridge
        self.emission_covs = symmetrize(self.emission_covs) + 1e-8 * np.eye(D)

    def num_parameters(self) -> int:
        """Dynamics, biases and noise entries."""
        K, D, L = self.num_states, self.data_dim, self.num_lags
        noise = {"full": K * D * (D + 1) // 2, "diag": K * D, "tied": D * (D + 1) // 2}[self.noise]
        return K * (D * L * D + D * int(self.bias)) + noise
