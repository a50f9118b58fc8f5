"""Input checks for the inference kernels: every bad input becomes a clear error.

Each check converts its argument with ``np.asarray`` (so lists, NumPy arrays and CPU torch
tensors are all accepted), verifies shape, finiteness and normalisation, and raises a
``ValueError`` or ``TypeError`` that names the argument, says what is wrong and how to fix it.
"""

from __future__ import annotations

import numpy as np

#: Absolute tolerance on the sum of a probability vector (float32 inputs sum to 1 within ~1e-6).
PROB_ATOL = 1e-6


def as_float_array(x, name: str, ndim: int) -> np.ndarray:
    """Convert ``x`` to a C-contiguous float64 array with ``ndim`` dimensions or raise."""
    try:
        arr = np.asarray(x)
    except Exception as exc:  # pragma: no cover - exotic objects
        raise TypeError(f"{name} could not be converted to a NumPy array: {exc}") from exc
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
        raise TypeError(f"{name} must be a numeric array, got dtype {arr.dtype}")
    if np.iscomplexobj(arr):
        raise TypeError(f"{name} must be real-valued, got complex dtype {arr.dtype}")
    if arr.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimension(s), got shape {arr.shape}")
    return np.ascontiguousarray(arr, dtype=np.float64)


def check_initial_probs(initial_probs, num_states: int | None = None) -> np.ndarray:
    """Validate a probability vector of shape (K,)."""
    p = as_float_array(initial_probs, "initial_probs", 1)
    if p.shape[0] == 0:
        raise ValueError("initial_probs is empty; it needs one probability per state")
    if num_states is not None and p.shape[0] != num_states:
        raise ValueError(
            f"initial_probs has {p.shape[0]} entries but transition_matrix has {num_states} "
            "states; give one initial probability per state"
        )
    _check_probabilities(p[None, :], "initial_probs", "its entries")
    return p


def check_transition_matrix(transition_matrix) -> np.ndarray:
    """Validate a row-stochastic matrix of shape (K, K)."""
    A = as_float_array(transition_matrix, "transition_matrix", 2)
    if A.shape[0] != A.shape[1] or A.shape[0] == 0:
        raise ValueError(
            f"transition_matrix must be square (num_states, num_states), got shape {A.shape}"
        )
    _check_probabilities(A, "transition_matrix", "each row")
    return A


def _check_probabilities(P: np.ndarray, name: str, what: str) -> None:
    if not np.all(np.isfinite(P)):
        raise ValueError(f"{name} contains NaN or inf; it must hold probabilities in [0, 1]")
    if np.any(P < 0):
        i = np.argwhere(P < 0)[0]
        raise ValueError(
            f"{name} has a negative probability ({P[tuple(i)]:.3g} at index "
            f"{tuple(int(j) for j in i)}); probabilities must be >= 0"
        )
    sums = P.sum(axis=1)
    bad = np.flatnonzero(np.abs(sums - 1.0) > PROB_ATOL)
    if bad.size:
        where = f" (row {bad[0]})" if P.shape[0] > 1 else ""
        raise ValueError(
            f"{what} of {name} must sum to 1, but sums to {sums[bad[0]]:.9g}{where}; "
            "normalise it, e.g. P / P.sum(axis=-1, keepdims=True)"
        )


def check_log_likes(
    log_likes, num_states: int, name: str = "log_likes", return_finite: bool = False
):
    """Validate log-likelihoods of shape (T, K): no NaN, no +inf, T >= 1.

    With ``return_finite`` also return whether every entry is finite (no -inf), which the
    caller can use to skip the impossible-frame check.
    """
    L = as_float_array(log_likes, name, 2)
    if L.shape[1] != num_states:
        raise ValueError(
            f"{name} has {L.shape[1]} columns but the model has {num_states} states; "
            "it must have shape (num_timesteps, num_states)"
        )
    if L.shape[0] == 0:
        raise ValueError(f"{name} has no frames (shape {L.shape}); give at least one time step")
    if np.isfinite(L).all():  # one pass for the common case
        return (L, True) if return_finite else L
    if np.isnan(L).any():
        t = int(np.argwhere(np.isnan(L))[0, 0])
        raise ValueError(
            f"{name} contains NaN (first at frame {t}); compute log-likelihoods on valid "
            "data, or mark missing frames with a mask instead of NaN"
        )
    if np.isposinf(L).any():
        t = int(np.argwhere(np.isposinf(L))[0, 0])
        raise ValueError(
            f"{name} contains +inf (first at frame {t}); log-likelihoods must be finite or -inf"
        )
    return (L, False) if return_finite else L


def check_mask(mask, num_timesteps: int, name: str = "mask") -> np.ndarray | None:
    """Validate a boolean mask of shape (T,) (True = observed frame); ``None`` passes through."""
    if mask is None:
        return None
    m = np.asarray(mask)
    if m.dtype != np.bool_:
        if np.issubdtype(m.dtype, np.number) and np.all(np.isin(m, (0, 1))):
            m = m.astype(bool)
        else:
            raise TypeError(
                f"{name} must be boolean (True where the frame is observed), got dtype {m.dtype}"
            )
    if m.shape != (num_timesteps,):
        raise ValueError(
            f"{name} must have shape ({num_timesteps},) to match the frames, got {m.shape}"
        )
    return m


def apply_mask(log_likes: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    """Masked frames (``mask == False``) contribute no likelihood: their row becomes 0."""
    if mask is None or mask.all():
        return log_likes
    out = log_likes.copy()
    out[~mask] = 0.0
    return out


def check_all_impossible(log_likes: np.ndarray, name: str = "log_likes") -> None:
    """Raise when a frame has log-likelihood -inf for every state."""
    dead = np.all(np.isneginf(log_likes), axis=1)
    if dead.any():
        t = int(np.flatnonzero(dead)[0])
        raise ValueError(
            f"{name} is -inf for every state at frame {t}: that observation is impossible under "
            "every state; check the data at that frame or mask it out"
        )
