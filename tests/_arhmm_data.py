"""Sequences drawn from a sticky ARHMM with well-separated dynamics, for the Gibbs tests."""

from __future__ import annotations

import numpy as np

from ethogram.models.moseq_arhmm import MoseqPrior, StickyHDPARHMM


def true_model(num_states=4, data_dim=2, num_lags=2, stay=0.98, seed=0) -> StickyHDPARHMM:
    """Rotations of different speeds and fixed points, one per syllable; sticky transitions."""
    rng = np.random.default_rng(seed)
    K, D, L = num_states, data_dim, num_lags
    model = StickyHDPARHMM(D, num_states=K, num_lags=L)
    model.initialize(None, None, rng)
    Ab = np.zeros((K, D, D * L + 1))
    for k in range(K):
        th = 0.25 * (k + 1)
        R = np.eye(D)
        R[:2, :2] = [[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]]
        Ab[k, :, D * (L - 1) : D * L] = 0.9 * R
        Ab[k, :, -1] = 0.8 * rng.normal(size=D)
    model.ar_weights = Ab
    model.ar_covs = np.broadcast_to(0.03 * np.eye(D), (K, D, D)).copy()
    P = np.full((K, K), (1 - stay) / (K - 1))
    np.fill_diagonal(P, stay)
    model.transition_matrix = P
    return model


def draw_sequences(lengths=(200, 150, 90), seed=1, **kw):
    """Sequences with their true syllables (T - L,), one with NaN rows and one with a mask."""
    model = true_model(**kw)
    rng = np.random.default_rng(seed)
    sequences, truth = [], []
    for T in lengths:
        x, z = model.sample(T, rng)
        sequences.append(x)
        truth.append(z)
    sequences[0][40:43] = np.nan
    masks = [None, np.arange(lengths[1]) < lengths[1] - 12, None]
    return sequences, masks, truth


def small_model(num_states=6, **kw) -> StickyHDPARHMM:
    return StickyHDPARHMM(2, num_states=num_states, num_lags=2, prior=MoseqPrior(kappa=100.0), **kw)
