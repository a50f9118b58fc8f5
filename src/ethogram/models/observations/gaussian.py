"""Gaussian emissions ``x_t | z_t = k ~ N(emission_means[k], emission_covs[k])``, the course's
model, with covariance types ``full``, ``diag``, ``tied`` and ``spherical`` (always stored as
full (K, D, D) matrices). The default prior, flat on the means and a weak inverse-Wishart
kernel on the covariances relative to the data's variance (``data_scale``), turns the
course's regulariser into an exact MAP M-step, so EM never decreases ``sum marginal_ll +
log_prior`` and a fit of ``a x + b`` is the fit of ``x`` transformed; ``prior=None`` is
maximum likelihood. Statistics are accumulated about the mean training frame
(``data_center``), so data far from the origin keep full precision. Sampling and starting
values are computed by :mod:`._gaussian_start`; the prior's kernels, defaults and numerics in full:
``docs/gaussian.md``.
"""

from __future__ import annotations

import numpy as np

from ._checks import (
    check_covariances,
    check_float_data,
    check_positive_int,
    check_shape,
    singular_covariance_error,
    singular_states,
)
from ._common import frame_weights, psi_kernel, symmetrize, weighted_outer_sums
from ._gaussian_start import sample_frames, start_parameters
from ._linalg import (
    check_states,
    gaussian_log_likes_diag,
    gaussian_log_likes_full,
    gaussian_log_likes_tied,
    observed_frames,
)
from ._reference import DataReferenceMixin, check_stats_reference, reference_stats
from ._units import unit_free
from .base import ObservationModel, register

COVARIANCE_TYPES = ("full", "diag", "tied", "spherical")
#: relative strength of the default covariance prior: s0_d = DEFAULT_RELATIVE_SCALE * var_d
DEFAULT_RELATIVE_SCALE = 1e-4


@register("gaussian")
class GaussianObservations(DataReferenceMixin, ObservationModel):
    """Multivariate normal emissions.

    Parameters
    ----------
    num_states : int
        Number of states K.
    data_dim : int
        Dimension D of each frame.
    covariance_type : {"full", "diag", "tied", "spherical"}, default "full"
    prior : {"default", None}, default "default"
        ``None`` gives maximum-likelihood M-steps (and ``log_prior() == 0``).
    prior_count : float, default 1.0
        Pseudo-observations n0 of the covariance prior (> 0).
    prior_scale : float or None, default None
        None: the prior scale is relative to the data, ``s0_d = 1e-4 var_d`` (see the module
        docstring). A number: an absolute scale, the prior pulls towards ``s0 I`` (> 0, in
        data units squared).

    Attributes
    ----------
    emission_means : ndarray, shape (K, D)
    emission_covs : ndarray, shape (K, D, D)
        Full matrices whatever the covariance type (diagonal, scaled identity, or all equal).
        Written values are checked: symmetric positive definite, and diagonal for ``diag``
        and ``spherical`` (a full matrix is refused, not reduced to its diagonal).
    data_center, data_scale : ndarray, shape (D,), or None
        Mean and per-dimension variance of the training frames (reference point of the
        statistics and scale of the default prior); None until set from data.
    """

    param_names = ("emission_means", "emission_covs")
    extra_param_names = ("data_center", "data_scale")

    def __init__(
        self,
        num_states,
        data_dim,
        covariance_type="full",
        prior="default",
        prior_count=1.0,
        prior_scale=None,
    ):
        super().__init__(num_states)
        self.data_dim = check_positive_int(data_dim, "data_dim")
        if covariance_type not in COVARIANCE_TYPES:
            raise ValueError(
                f"covariance_type must be one of {COVARIANCE_TYPES}, got {covariance_type!r}"
            )
        self.covariance_type = covariance_type
        if prior not in ("default", None):
            raise ValueError(f"prior must be 'default' or None, got {prior!r}")
        self.prior = prior
        for name, value in (("prior_count", prior_count), ("prior_scale", prior_scale)):
            if (
                prior is not None
                and not (value is None and name == "prior_scale")
                and not (np.isfinite(value) and value > 0)
            ):
                raise ValueError(
                    f"{name} must be a finite number > 0 (or use prior=None), got {value!r}"
                )
        self.prior_count = 0.0 if prior is None else float(prior_count)
        self.prior_scale = (
            0.0 if prior is None else (None if prior_scale is None else float(prior_scale))
        )
        K, D = self.num_states, self.data_dim
        self.data_center = None
        self.data_scale = None
        self.emission_means = np.zeros((K, D))
        self.emission_covs = np.tile(np.eye(D), (K, 1, 1))

    def validate_param(self, name, value) -> np.ndarray:
        """Check a parameter where it is written (see :meth:`ObservationModel.validate_param`).

        ``emission_means`` (K, D) finite; ``emission_covs`` (K, D, D) symmetric positive
        definite and of the covariance type; ``data_center`` (D,) finite; ``data_scale``
        (D,) finite and > 0. Raises ValueError naming the parameter.
        """
        K, D = self.num_states, self.data_dim
        if name == "emission_means":
            return check_shape(name, value, (K, D))
        if name == "emission_covs":
            return check_covariances(name, value, (K, D, D), self.covariance_type)
        return self._check_reference(name, value)

    # ------------------------------------------------------------------ data-derived constants
    def effective_mask(self, data, mask):
        """Frames the model scores: the caller's mask itself.

        On a model whose ``data_center`` is not set yet (never initialised), the observed
        frames of this sequence set ``data_center`` and ``data_scale`` (so that every
        sequence of a fit, wherever its E-step runs, uses the same reference).

        Parameters
        ----------
        data : ndarray, shape (T, D)
        mask : ndarray of bool, shape (T,), or None

        Returns
        -------
        ndarray of bool, shape (T,), or None
        """
        if self.data_center is None:
            x = np.asarray(data, dtype=np.float64).reshape(len(data), -1)
            keep = ~np.isnan(x).any(axis=1)
            if mask is not None:
                keep &= np.asarray(mask, dtype=bool)
            self._set_reference(x[keep])
        return mask

    def prior_psi(self) -> np.ndarray:
        """``n0 s0_d`` per dimension (D,): the diagonal of the inverse-Wishart scale matrix.

        Relative prior not yet tied to data (no ``data_scale``): the absolute ``1e-4``.
        """
        if self.prior_count == 0.0:
            return np.zeros(self.data_dim)
        if self.prior_scale is not None:
            return np.full(self.data_dim, self.prior_count * self.prior_scale)
        scale = np.ones(self.data_dim) if self.data_scale is None else self.data_scale
        return self.prior_count * DEFAULT_RELATIVE_SCALE * scale

    def step_coordinates(self, params: dict) -> dict:
        """Parameters relative to the training data, where EM's steps are measured
        (:mod:`._units`)."""
        return unit_free(self, params)

    def state_param_names(self) -> tuple[str, ...]:
        """Per-state parameters (a tied covariance is shared, so permute leaves it alone)."""
        return ("emission_means",) if self.covariance_type == "tied" else self.param_names

    # ------------------------------------------------------------------ data and parameters
    def check_data(self, data) -> np.ndarray:
        """Validate one sequence.

        Parameters
        ----------
        data : array_like, shape (T, D) (or (T,) when D == 1)
            Floats; NaN marks a missing value (its frame must be masked), inf is refused.

        Returns
        -------
        data : ndarray, shape (T, D), float64
        """
        return check_float_data(data, self.data_dim)

    def _checked_params(self) -> tuple[np.ndarray, np.ndarray]:
        """Means (K, D) and covariances (K, D, D), checked for shape and covariance type."""
        K, D = self.num_states, self.data_dim
        means = np.asarray(self.emission_means, dtype=np.float64)
        covs = np.asarray(self.emission_covs, dtype=np.float64)
        if means.shape != (K, D):
            raise ValueError(f"emission_means must have shape ({K}, {D}), got {means.shape}")
        if covs.shape != (K, D, D):
            raise ValueError(f"emission_covs must have shape ({K}, {D}, {D}), got {covs.shape}")
        if not (np.isfinite(means).all() and np.isfinite(covs).all()):
            raise ValueError("emission_means and emission_covs must be finite")
        ct = self.covariance_type
        if ct in ("diag", "spherical"):
            off = covs * (1.0 - np.eye(D))
            if np.any(off != 0.0):
                raise ValueError(
                    f"covariance_type={ct!r} needs diagonal emission_covs; got off-diagonal "
                    f"entries up to {np.abs(off).max():.3g}"
                )
            var = np.diagonal(covs, axis1=1, axis2=2)
            if ct == "spherical" and not np.allclose(var, var[:, :1], rtol=1e-10, atol=0.0):
                raise ValueError(
                    "covariance_type='spherical' needs emission_covs[k] = v_k * I (equal diagonal "
                    "entries)"
                )
        elif ct == "tied" and not np.allclose(covs, covs[:1], rtol=1e-10, atol=0.0):
            raise ValueError("covariance_type='tied' needs all emission_covs[k] equal")
        return means, covs

    # ------------------------------------------------------------------ likelihoods
    def sample(self, states, rng) -> np.ndarray:
        """Draw observations given a state path.

        Parameters
        ----------
        states : array_like of int, shape (T,)
        rng : numpy.random.Generator

        Returns
        -------
        data : ndarray, shape (T, D)
        """
        z = check_states(states, self.num_states)
        means, covs = self._checked_params()
        return sample_frames(z, means, covs, rng)

    def initialize(self, sequences, masks, rng, method="kmeans") -> None:
        """Set starting parameters from the observed frames of all sequences.

        ``"kmeans"``: scikit-learn k-means (3 starts, seeded from ``rng``) on the observed
        frames, centred and scaled robustly per dimension with numerically constant
        dimensions left out (:func:`._kmeans.standardize_columns`: units, offsets and a body
        part that never moves do not change the clusters); means are the cluster means,
        covariances the per-cluster sample covariances (pooled within-cluster for ``tied``;
        the global covariance for a cluster with fewer than D + 1 frames, and a random
        frame as the mean of an empty cluster, e.g. when there are fewer distinct frames
        than states), plus ``1e-6`` of each dimension's variance on the diagonal.
        ``"random"``: means are distinct random observed frames, covariances the global one.
        Both set ``data_center`` and ``data_scale`` (mean and per-dimension variance of all
        observed frames): the reference of the statistics and the scale of the default prior.
        Computed by :func:`._gaussian_start.start_parameters`.

        Parameters
        ----------
        sequences : list of ndarray, each of shape (T_n, D)
        masks : list of (ndarray of bool, shape (T_n,), or None)
        rng : numpy.random.Generator
        method : {"kmeans", "random"}
        """
        center, scale, means, covs = start_parameters(
            sequences, masks, self.num_states, self.covariance_type, rng, method
        )
        self.data_center, self.data_scale = center, scale
        self.emission_means = means
        self.emission_covs = covs

    def log_likelihoods(self, data, mask=None) -> np.ndarray:
        """``log N(x_t; emission_means[k], emission_covs[k])`` for every frame and state.

        Parameters
        ----------
        data : array_like, shape (T, D)
            NaN allowed only in masked frames.
        mask : array_like of bool, shape (T,), optional
            True where the frame is observed.

        Returns
        -------
        log_likes : ndarray, shape (T, K)
            Zero rows for masked frames.
        """
        x, mask = observed_frames(data, mask, self.data_dim)
        means, covs = self._checked_params()
        if self.covariance_type in ("diag", "spherical"):
            out = gaussian_log_likes_diag(x, means, np.diagonal(covs, axis1=1, axis2=2))
        elif self.covariance_type == "tied":
            out = gaussian_log_likes_tied(x, means, symmetrize(covs[0]))
        else:
            out = gaussian_log_likes_full(x, means, covs)
        if mask is not None and not mask.all():
            out[~mask] = 0.0
        return out

    # ------------------------------------------------------------------ EM
    def sufficient_stats(self, data, expected_states, mask=None) -> dict:
        """Expected sufficient statistics of one sequence (summable across sequences).

        Frames enter as ``y_t = x_t - data_center`` (set from this sequence if the model
        was never initialised), so the sums stay accurate whatever the data's offset.

        Parameters
        ----------
        data : array_like, shape (T, D)
        expected_states : array_like, shape (T, K)
        mask : array_like of bool, shape (T,), optional
            Masked frames get no weight.

        Returns
        -------
        dict
            ``n`` (K,): expected counts ``sum_t w_tk``; ``x`` (K, D): ``sum_t w_tk y_t``;
            ``xx``: ``sum_t w_tk y_t y_t^T`` of shape (K, D, D) for ``full``, its total over
            states (D, D) for ``tied``, and only its diagonal (K, D) for ``diag`` and
            ``spherical``; ``center`` (D,) and ``frames`` (), the reference point times the
            total weight ``sum_k n_k`` and that total, so that an M-step can check that summed
            statistics share its reference.
        """
        x, mask = observed_frames(data, mask, self.data_dim)
        w = frame_weights(expected_states, mask, x.shape[0], self.num_states)
        if self.data_center is None:
            self._set_reference(x if mask is None else x[mask])
        center = np.zeros(self.data_dim) if self.data_center is None else self.data_center
        if self.data_center is not None:
            x = x - self.data_center
            if mask is not None and not mask.all():
                x[~mask] = 0.0
        if self.covariance_type in ("diag", "spherical"):
            xx = w.T @ (x * x)
        elif self.covariance_type == "tied":
            xw = x * w.sum(axis=1)[:, None]
            xx = symmetrize(xw.T @ x)
        elif self.data_dim <= 16:
            xx = weighted_outer_sums(w, x)
        else:  # one (D, T) x (T, D) GEMM per state beats the (T, D^2) outer products
            xx = np.stack([(x * w[:, k : k + 1]).T @ x for k in range(self.num_states)])
        n = w.sum(axis=0)
        return {"n": n, "x": w.T @ x, "xx": xx, **reference_stats(center, n.sum())}

    def _checked_stats(self, stats) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        K, D = self.num_states, self.data_dim
        xx_shape = {"full": (K, D, D), "tied": (D, D), "diag": (K, D), "spherical": (K, D)}[
            self.covariance_type
        ]
        out = []
        for key, shape in (("n", (K,)), ("x", (K, D)), ("xx", xx_shape)):
            if key not in stats:
                raise ValueError(
                    f"stats lacks {key!r}; pass the (summed) output of sufficient_stats"
                )
            value = np.asarray(stats[key], dtype=np.float64)
            if value.shape != shape:
                raise ValueError(
                    f"stats[{key!r}] must have shape {shape} for "
                    f"covariance_type={self.covariance_type!r}, got {value.shape}"
                )
            out.append(value)
        return tuple(out)

    def m_step(self, stats) -> None:
        """Set the parameters to the MAP estimate (exact MLE when ``prior=None``).

        With ``c = data_center``, ``d_k = x_k / n_k`` (the state mean relative to c),
        ``mu_k = c + d_k`` and ``Sigma_k = (S_k + n0 diag(s0)) / (n_k + n0)`` with
        ``S_k = xx_k - n_k d_k d_k^T`` (diagonal, trace / D, or pooled over states for the
        other covariance types). A state with no weight keeps its mean, and its covariance
        becomes ``diag(s0)`` (unchanged when ``prior=None``).

        Parameters
        ----------
        stats : dict
            Summed :meth:`sufficient_stats`.

        Raises
        ------
        ValueError
            Under ``prior=None``, when a covariance becomes singular: names the state, its
            expected number of frames and the remedies.
        """
        n, sx, xx = self._checked_stats(stats)
        K, D = self.num_states, self.data_dim
        ref = check_stats_reference(stats, self.data_center, D)
        if self.data_center is None and ref is not None:
            self.data_center = ref
        n0 = self.prior_count
        if self.prior_scale is None and self.data_scale is None and n.sum() > 0:
            # relative prior on a model that saw no data yet: the scale of these statistics
            tot = sx.sum(axis=0) / n.sum()
            diag_xx = (
                xx.sum(axis=0)
                if self.covariance_type in ("diag", "spherical")
                else np.diagonal(xx.reshape(-1, D, D).sum(axis=0))
            )
            var = np.maximum(diag_xx / n.sum() - tot**2, 0.0)
            real = var > 0
            self.data_scale = np.where(real, var, var[real].min() if real.any() else 1.0)
        psi = self.prior_psi()
        center = np.zeros(D) if self.data_center is None else self.data_center
        used = n > 0
        means = np.array(self.emission_means, dtype=np.float64, copy=True)
        d = np.zeros((K, D))
        d[used] = sx[used] / n[used, None]
        means[used] = center + d[used]
        covs = np.array(self.emission_covs, dtype=np.float64, copy=True)
        ok = (n + n0) > 0
        Psi = np.diag(psi)
        if self.covariance_type == "full":
            scatter = symmetrize(xx - n[:, None, None] * np.einsum("ki,kj->kij", d, d))
            covs[ok] = (scatter[ok] + Psi) / (n[ok] + n0)[:, None, None]
        elif self.covariance_type == "tied":
            total = n.sum()
            if total + n0 > 0:
                scatter = symmetrize(xx - np.einsum("k,ki,kj->ij", n, d, d))
                covs = np.tile((scatter + Psi) / (total + n0), (K, 1, 1))
        else:
            scatter = xx - n[:, None] * d**2  # (K, D) diagonal
            if self.covariance_type == "diag":
                var = (scatter + psi) / np.where(ok, n + n0, 1.0)[:, None]
            else:
                v = (scatter.sum(axis=1) + psi.sum()) / (D * np.where(ok, n + n0, 1.0))
                var = np.repeat(v[:, None], D, axis=1)
            covs[ok] = var[ok][:, :, None] * np.eye(D)
        covs = symmetrize(covs)
        check = covs[:1] if self.covariance_type == "tied" else covs
        if n0 == 0.0:  # maximum likelihood: a degenerate scatter is the data's fault
            bad = [
                k
                for k in singular_states(check, self.data_scale)
                if self.covariance_type == "tied" or ok[k]
            ]
        else:  # the prior keeps covariances positive definite; only round-off can break it
            bad = [k for k in range(check.shape[0]) if np.any(np.linalg.eigvalsh(check[k]) <= 0)]
        if bad:
            k = bad[0]
            count = n.sum() if self.covariance_type == "tied" else n[k]
            if n0 == 0.0:
                raise singular_covariance_error("emission_covs", k, float(count), D)
            raise ValueError(
                f"emission_covs[{k}] is not positive definite after the M-step although the prior "
                f"is on (state {k} holds {count:.4g} expected frames): the prior is too weak for "
                "the data's units; raise prior_count, leave prior_scale at None (relative to the "
                "data), or drop constant dimensions"
            )
        self.emission_means = means
        self.emission_covs = covs

    def log_prior(self) -> float:
        """Log prior density of the current parameters, up to a constant.

        Returns
        -------
        float
            The inverse-Wishart / inverse-gamma kernel of the module docstring with scale
            ``n0 diag(s0)`` (the flat prior on the means adds nothing); 0 for ``prior=None``.
        """
        n0 = self.prior_count
        if n0 == 0.0:
            return 0.0
        psi = self.prior_psi()
        covs = np.asarray(self.emission_covs, dtype=np.float64)
        if self.covariance_type == "full":
            return psi_kernel(covs, n0, psi)
        if self.covariance_type == "tied":
            return psi_kernel(covs[:1], n0, psi)
        var = np.diagonal(covs, axis1=1, axis2=2)
        if self.covariance_type == "spherical":
            v = var[:, 0]
            return float(np.sum(-0.5 * n0 * self.data_dim * np.log(v) - 0.5 * psi.sum() / v))
        return float(np.sum(-0.5 * n0 * np.log(var) - 0.5 * psi / var))

    def num_parameters(self) -> int:
        """Number of free parameters: K D means plus the covariance entries by type.

        Returns
        -------
        int
            ``K D`` + ``K D (D + 1) / 2`` (full), ``K D`` (diag), ``D (D + 1) / 2`` (tied)
            or ``K`` (spherical).
        """
        K, D = self.num_states, self.data_dim
        cov = {
            "full": K * D * (D + 1) // 2,
            "diag": K * D,
            "tied": D * (D + 1) // 2,
            "spherical": K,
        }
        return K * D + cov[self.covariance_type]
