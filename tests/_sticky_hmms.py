"""Sticky HMMs to sample test data from, written with numpy alone (not with ethogram's models).

``gaussian_recordings``: the new user's data of issue 15 item 2 (5 states, self-transition
0.96, 2-D means 2.5 apart on a circle, variance 0.5). ``ar_recordings``: 4 autoregressive
states (2-D, one lag: damped rotations by 15, 30, 45 and 60 degrees towards fixed points set
by biases on the unit circle, noise variance 0.1), self-transition 0.96. Both have syllables
of median 17 frames (``log 0.5 / log 0.96``), longer than 0.4 s at 30 fps (12 frames).
"""

from __future__ import annotations

import numpy as np


def sticky_states(rng, num_states: int, num_frames: int, stay: float) -> np.ndarray:
    """A Markov chain (T,) that stays with probability ``stay`` and else moves uniformly."""
    K = num_states
    P = np.full((K, K), (1 - stay) / (K - 1))
    np.fill_diagonal(P, stay)
    cum = np.cumsum(P, axis=1)
    u = rng.random(num_frames)
    z = np.zeros(num_frames, dtype=np.int64)
    z[0] = rng.integers(K)
    for t in range(1, num_frames):
        z[t] = min(int(np.searchsorted(cum[z[t - 1]], u[t])), K - 1)
    return z


def gaussian_recordings(
    seed: int,
    num_recordings: int = 2,
    num_frames: int = 1500,
    num_states: int = 5,
    stay: float = 0.96,
) -> list:
    """Recordings (T, 2) of a sticky Gaussian HMM: means 2.5 apart on a circle, variance 0.5."""
    rng = np.random.default_rng(seed)
    K = num_states
    angles = 2 * np.pi * np.arange(K) / K
    radius = 2.5 / (2 * np.sin(np.pi / K))
    means = radius * np.column_stack([np.cos(angles), np.sin(angles)])
    out = []
    for _ in range(num_recordings):
        z = sticky_states(rng, K, num_frames, stay)
        out.append(means[z] + np.sqrt(0.5) * rng.standard_normal((num_frames, 2)))
    return out


def ar_recordings(
    seed: int,
    num_recordings: int = 2,
    num_frames: int = 1500,
    num_states: int = 4,
    stay: float = 0.96,
) -> list:
    """Recordings (T, 2) of a sticky AR(1) HMM: ``x_t = A_z x_{t-1} + b_z + noise``."""
    rng = np.random.default_rng(seed)
    K = num_states
    theta = np.pi / 12 * (np.arange(K) + 1)
    A = 0.9 * np.stack([[[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]] for t in theta])
    angles = 2 * np.pi * np.arange(K) / K
    b = np.column_stack([np.cos(angles), np.sin(angles)])
    out = []
    for _ in range(num_recordings):
        z = sticky_states(rng, K, num_frames, stay)
        noise = np.sqrt(0.1) * rng.standard_normal((num_frames, 2))
        x = np.zeros((num_frames, 2))
        for t in range(1, num_frames):
            x[t] = A[z[t]] @ x[t - 1] + b[z[t]] + noise[t]
        out.append(x)
    return out
