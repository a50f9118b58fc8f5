"""Categorical emissions ``x_t | z_t = k ~ Categorical(emission_probs[k])`` (the worksheet's model).

Data is one integer label per frame in ``[0, num_classes)`` (for instance syllable labels
from another model, or a discretised behaviour code). The prior on each row of
``emission_probs`` is a symmetric Dirichlet with ``concentration`` alpha (default 1.01:
barely informative, it only keeps every probability strictly positive); its log density up
to a constant is ``(alpha - 1) sum_kc log p_kc``, and the MAP M-step is
``p_kc = (N_kc + alpha - 1) / (N_k + C (alpha - 1))`` with N_kc the expected count of
symbol c in state k. ``prior=None`` (alpha = 1) is maximum likelihood.
"""

from __future__ import annotations

import numpy as np

from ...inference import check_mask
from ._checks import check_positive_int, check_shape
from ._common import frame_weights
from ._kmeans import kmeans_labels
from ._linalg import check_init_method, check_states
from .base import ObservationModel, register

#: half-width of the label histograms that k-means clusters in ``initialize``
_HALF_WINDOW = 5
#: at most this many frames (windows) go into k-means
_MAX_INIT_WINDOWS = 20_000


@register("categorical")
class CategoricalObservations(ObservationModel):
    """Discrete emissions over ``num_classes`` symbols.

    Parameters
    ----------
    num_states : int
        Number of states K.
    num_classes : int
        Number of symbols C.
    prior : {"default", None}, default "default"
        ``None`` gives maximum-likelihood M-steps (and ``log_prior() == 0``).
    concentration : float, default 1.01
        Symmetric Dirichlet concentration (>= 1, so that the MAP exists) of each row.

    Attributes
    ----------
    emission_probs : ndarray, shape (K, C)
        Rows sum to 1.
    """

    param_names = ("emission_probs",)
    sequence_ndim = 1

    def __init__(self, num_states, num_classes, prior="default", concentration=1.01):
        super().__init__(num_states)
        self.num_classes = check_positive_int(num_classes, "num_classes")
        if prior not in ("default", None):
            raise ValueError(f"prior must be 'default' or None, got {prior!r}")
        self.prior = prior
        if prior is not None and not (np.isfinite(concentration) and concentration >= 1.0):
            raise ValueError(
                "concentration must be a finite number >= 1 for the MAP to exist, got "
                f"{concentration!r}"
            )
        self.concentration = 1.0 if prior is None else float(concentration)
        self.emission_probs = np.full((self.num_states, self.num_classes), 1.0 / self.num_classes)

    def validate_param(self, name, value) -> np.ndarray:
        """``emission_probs`` checked where written: shape (K, C), finite, non-negative,
        rows summing to 1 within 1e-8 (stored as given). Raises ValueError naming
        the parameter."""
        p = check_shape(name, value, (self.num_states, self.num_classes))
        if np.any(p < 0):
            k, c = np.argwhere(p < 0)[0]
            raise ValueError(f"{name} must be non-negative; {name}[{k}, {c}] = {p[k, c]:g}")
        sums = p.sum(axis=1)
        if np.any(np.abs(sums - 1.0) > 1e-8):
            k = int(np.argmax(np.abs(sums - 1.0)))
            raise ValueError(
                f"{name} rows must sum to 1 (probabilities over the {self.num_classes} classes); "
                f"row {k} sums to {sums[k]:.12g}"
            )
        return p

    # ------------------------------------------------------------------ data
    def check_data(self, data) -> np.ndarray:
        """Validate one sequence of labels.

        Parameters
        ----------
        data : array_like, shape (T,) or (T, 1)
            Whole numbers in ``[0, num_classes)``; NaN marks a missing frame.

        Returns
        -------
        data : ndarray, shape (T,), float64
        """
        x = np.asarray(data)
        if x.ndim == 2 and x.shape[1] == 1:
            x = x[:, 0]
        if x.ndim != 1 or x.shape[0] == 0:
            raise ValueError(
                "data must be a non-empty 1-D array of class labels (or shape (T, 1)), got shape "
                f"{x.shape}"
            )
        if not (
            np.issubdtype(x.dtype, np.integer)
            or np.issubdtype(x.dtype, np.floating)
            or x.dtype == bool
        ):
            raise TypeError(f"data must hold integer class labels, got dtype {x.dtype}")
        xf = x.astype(np.float64)
        finite = xf[~np.isnan(xf)]
        if np.any(np.isinf(finite)) or np.any(finite != np.round(finite)):
            raise ValueError("data must hold whole-number class labels (NaN marks a missing frame)")
        self._check_range(finite)
        return xf

    def _check_range(self, labels: np.ndarray) -> None:
        if labels.size and (labels.min() < 0 or labels.max() >= self.num_classes):
            raise ValueError(
                f"data labels must lie in [0, {self.num_classes}); got values from "
                f"{labels.min():g} to {labels.max():g}"
            )

    def _labels(self, data, mask) -> tuple[np.ndarray, np.ndarray | None]:
        """Integer labels (T,) with masked frames set to 0, and the checked mask."""
        x = np.asarray(data)
        if x.ndim == 2 and x.shape[1] == 1:
            x = x[:, 0]
        if x.ndim != 1:
            raise ValueError(f"data must be a 1-D array of class labels, got shape {x.shape}")
        mask = check_mask(mask, x.shape[0])
        if mask is not None and not mask.all():
            x = np.where(mask, x, 0)
        if np.issubdtype(x.dtype, np.integer) or x.dtype == bool:
            labels = x.astype(np.intp)
        else:
            xf = np.asarray(x, dtype=np.float64)
            if np.isnan(xf).any():
                t = int(np.flatnonzero(np.isnan(xf))[0])
                raise ValueError(
                    f"data has NaN at frame {t}, which the mask marks as observed; mask that frame"
                )
            labels = xf.astype(np.intp)
            if np.any(labels != xf):
                raise ValueError("data must hold whole-number class labels")
        self._check_range(labels)
        return labels, mask

    # ------------------------------------------------------------------ likelihoods
    def log_likelihoods(self, data, mask=None) -> np.ndarray:
        """``log emission_probs[k, x_t]`` for every frame and state.

        Parameters
        ----------
        data : array_like, shape (T,)
            Labels; NaN allowed only in masked frames.
        mask : array_like of bool, shape (T,), optional

        Returns
        -------
        log_likes : ndarray, shape (T, K)
            Zero rows for masked frames; ``-inf`` where a probability is 0.
        """
        labels, mask = self._labels(data, mask)
        probs = np.asarray(self.emission_probs, dtype=np.float64)
        if probs.shape != (self.num_states, self.num_classes):
            raise ValueError(
                f"emission_probs must have shape ({self.num_states}, {self.num_classes}), got "
                f"{probs.shape}"
            )
        with np.errstate(divide="ignore"):
            log_probs_t = np.ascontiguousarray(np.log(probs).T)  # (C, K)
        out = log_probs_t[labels]
        if mask is not None and not mask.all():
            out[~mask] = 0.0
        return out

    # ------------------------------------------------------------------ EM
    def sufficient_stats(self, data, expected_states, mask=None) -> dict:
        """Expected symbol counts of one sequence.

        Parameters
        ----------
        data : array_like, shape (T,)
        expected_states : array_like, shape (T, K)
        mask : array_like of bool, shape (T,), optional
            Masked frames get no weight.

        Returns
        -------
        dict
            ``counts`` (K, C): ``sum_t w_tk [x_t = c]``.
        """
        labels, mask = self._labels(data, mask)
        w = frame_weights(expected_states, mask, labels.shape[0], self.num_states)
        counts = np.stack(
            [
                np.bincount(labels, weights=w[:, k], minlength=self.num_classes)
                for k in range(self.num_states)
            ]
        )
        return {"counts": counts}

    def m_step(self, stats) -> None:
        """Set ``emission_probs`` to the Dirichlet MAP (MLE when ``prior=None``).

        A state with no counts and no prior mass keeps its row.

        Parameters
        ----------
        stats : dict
            Summed :meth:`sufficient_stats` (``counts`` of shape (K, C)).
        """
        if "counts" not in stats:
            raise ValueError("stats lacks 'counts'; pass the (summed) output of sufficient_stats")
        counts = np.asarray(stats["counts"], dtype=np.float64)
        if counts.shape != (self.num_states, self.num_classes):
            raise ValueError(
                f"stats['counts'] must have shape ({self.num_states}, {self.num_classes}), got "
                f"{counts.shape}"
            )
        w = counts + (self.concentration - 1.0)
        sums = w.sum(axis=1)
        ok = sums > 0
        probs = np.array(self.emission_probs, dtype=np.float64, copy=True)
        probs[ok] = w[ok] / sums[ok, None]
        self.emission_probs = probs

    def log_prior(self) -> float:
        """Dirichlet log density of ``emission_probs``, up to a constant.

        Returns
        -------
        float
            ``(alpha - 1) sum_kc log p_kc``; 0 for ``prior=None``.
        """
        if self.concentration == 1.0:
            return 0.0
        with np.errstate(divide="ignore"):
            return float((self.concentration - 1.0) * np.log(self.emission_probs).sum())

    # ------------------------------------------------------------------ generation
    def sample(self, states, rng) -> np.ndarray:
        """Draw labels given a state path.

        Parameters
        ----------
        states : array_like of int, shape (T,)
        rng : numpy.random.Generator

        Returns
        -------
        data : ndarray of int, shape (T,)
        """
        z = check_states(states, self.num_states)
        cdf = np.cumsum(self.emission_probs, axis=1)
        u = rng.random(z.shape[0]) * cdf[z, -1]
        return (u[:, None] >= cdf[z]).sum(axis=1).clip(0, self.num_classes - 1)

    def initialize(self, sequences, masks, rng, method="kmeans") -> None:
        """Set starting ``emission_probs`` from the observed labels.

        ``"kmeans"``: each observed frame is described by the histogram of the labels in a
        window of 11 frames around it (states last several frames in behaviour); k-means
        (scikit-learn, seeded from ``rng``) on up to 20,000 such histograms groups frames
        by their local label mix, and each state starts from the label frequencies of its
        cluster (plus one pseudo-count per symbol, mixed 98:2 with Dirichlet(1) noise so
        that no two states start identical). ``"random"``: Dirichlet(1) rows.

        Parameters
        ----------
        sequences : list of ndarray, each of shape (T_n,)
        masks : list of (ndarray of bool, shape (T_n,), or None)
        rng : numpy.random.Generator
        method : {"kmeans", "random"}
        """
        check_init_method(method)
        K, C = self.num_states, self.num_classes
        if method == "random":
            self.emission_probs = rng.dirichlet(np.ones(C), K)
            return
        h = _HALF_WINDOW
        padded, frames = [], []  # labels padded by h with -1 (missing); observed frames
        for d, m in zip(sequences, masks):
            d = np.asarray(d, dtype=np.float64).reshape(-1)
            keep = ~np.isnan(d) if m is None else (np.asarray(m, bool) & ~np.isnan(d))
            lab = np.full(d.shape[0] + 2 * h, -1, dtype=np.intp)
            lab[h : h + d.shape[0]][keep] = d[keep].astype(np.intp)
            padded.append(lab)
            frames.append(np.flatnonzero(keep))
        total = sum(f.shape[0] for f in frames)
        if total < K:
            raise ValueError(
                f"initialisation needs at least num_states={K} observed frames, got {total}"
            )
        seq = np.repeat(np.arange(len(frames)), [f.shape[0] for f in frames])
        t = np.concatenate(frames)
        if total > _MAX_INIT_WINDOWS:
            pick = np.sort(rng.choice(total, _MAX_INIT_WINDOWS, replace=False))
            seq, t = seq[pick], t[pick]
        # windows of 2h + 1 labels around each chosen frame (centre at column h)
        win = np.concatenate(
            [
                np.lib.stride_tricks.sliding_window_view(padded[i], 2 * h + 1)[t[seq == i]]
                for i in range(len(padded))
            ]
        )
        rows = np.broadcast_to(np.arange(win.shape[0])[:, None], win.shape)
        valid = win >= 0
        hist = np.zeros((win.shape[0], C))
        np.add.at(hist, (rows[valid], win[valid]), 1.0)
        hist /= hist.sum(axis=1, keepdims=True)
        cluster = kmeans_labels(hist, K, rng)
        counts = np.zeros((K, C))
        np.add.at(counts, (cluster, win[:, h]), 1.0)
        freq = (counts + 1.0) / (counts.sum(axis=1, keepdims=True) + C)
        # a little Dirichlet(1) noise keeps states distinct even if k-means left clusters
        # empty (EM cannot separate states that start identical)
        self.emission_probs = 0.98 * freq + 0.02 * rng.dirichlet(np.ones(C), K)

    def num_parameters(self) -> int:
        """Number of free parameters, ``K (C - 1)``.

        Returns
        -------
        int
        """
        return self.num_states * (self.num_classes - 1)
