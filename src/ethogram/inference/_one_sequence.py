"""The work on one checked sequence: the scaled kernels of :mod:`._kernels` and, where float64
cannot represent what scaling would need (a state dropped by underflow that the transition
structure or the data later make necessary, a vanishing normaliser, transition probabilities
below :data:`TINY_TRANSITION`), the same quantity recomputed exactly in log space
(:mod:`._logspace`, slower; BENCHMARKS.md, "The exact log-space path"). Fuzzing
(``tests/test_fuzz_kernels.py``) found the extreme cases that need it; sparse learned
transition matrices scoring recordings the model was not fitted on are the everyday one
(``tests/test_logspace_fallback.py``). The public functions of :mod:`.core` check the inputs,
split batches and call one ``_*_one`` function here per sequence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np

from . import _kernels, _logspace


@dataclass(frozen=True)
class HMMPosterior:
    """Posterior summary of one sequence, as the course's ``HMMPosterior`` plus transitions.

    Attributes
    ----------
    expected_states : ndarray, shape (T, K)
        ``expected_states[t, k] = p(z_t = k | x_{1:T})``.
    marginal_ll : float
        ``log p(x_{1:T})``.
    expected_transitions : ndarray, shape (K, K)
        ``sum_t p(z_t = i, z_{t+1} = j | x_{1:T})``; all zeros when T = 1.

    Unpacking yields the course's two fields: ``expected_states, marginal_ll = posterior``.
    """

    expected_states: np.ndarray
    marginal_ll: float
    expected_transitions: np.ndarray

    def __iter__(self) -> Iterator:
        yield self.expected_states
        yield self.marginal_ll


def _scaled_likelihoods(L: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``exp(L - rowmax)`` (a fresh array), the row maxima (T,) and their states (T,)."""
    best = L.argmax(axis=1)
    rowmax = np.take_along_axis(L, best[:, None], axis=1)[:, 0]
    lik = np.subtract(L, rowmax[:, None])
    np.exp(lik, out=lik)
    return lik, rowmax, best


def _impossible(t: int, where: str) -> ValueError:
    if t == 0:
        return ValueError(
            "the first observation is impossible under initial_probs: every state with "
            "initial probability > 0 has log-likelihood -inf at frame 0"
        )
    return ValueError(
        f"the observations are impossible under transition_matrix: no state sequence with "
        f"non-zero probability explains frame {t} ({where}); check for -inf log-likelihoods, "
        "zeros in transition_matrix, or mask the offending frames"
    )


#: Transition probabilities below this (but not zero) send a sequence to the log-space
#: kernels: products of several of them with small messages underflow float64 even though
#: the paths through them may be the only ones, or the likeliest (fuzzing found such cases).
TINY_TRANSITION = 1e-100


def _tiny_transitions(A: np.ndarray) -> bool:
    positive = A[A > 0]
    return bool(positive.size) and float(positive.min()) < TINY_TRANSITION


def _run_forward(pi, A, L):
    """Scaled forward pass; ``None`` when the sequence must be recomputed in log space.

    Returns ``(alphas, norms, lik, marginal_ll, offsets)``, or None when a state dropped by
    underflow turned out to be needed (a rescaled frame whose best state can in truth occur,
    a vanished or subnormal normaliser); raises when the observations are impossible.
    """
    if _tiny_transitions(A):
        return None
    lik, offsets, best = _scaled_likelihoods(L)  # the kernel refits frames to reachable states
    T, K = L.shape
    alphas = np.empty((T, K))
    norms = np.empty(T)
    refitted = np.zeros(T, dtype=np.bool_)
    status = _kernels.forward_kernel(pi, A, L, lik, best, offsets, alphas, norms, refitted)
    if status != -1:
        return None
    if refitted.any() and _logspace.refit_reachable_kernel(pi, A, L, offsets, refitted):
        return None
    marginal_ll = float(np.log(norms).sum() + offsets.sum())
    return alphas, norms, lik, marginal_ll, offsets


@dataclass
class _Exact:
    """A sequence computed in log space (the fallback for what scaling cannot represent)."""

    log_pi: np.ndarray
    lt: _logspace.LogTransitions
    L: np.ndarray
    log_alphas: np.ndarray
    log_norms: np.ndarray  # log p(x_t | x_{1:t-1})
    log_preds: np.ndarray  # log p(z_t | x_{1:t-1})

    @property
    def alphas(self) -> np.ndarray:
        return np.exp(self.log_alphas)

    @property
    def marginal_ll(self) -> float:
        return float(self.log_norms.sum())

    def posterior(self) -> HMMPosterior:
        # states that cannot occur at a frame get -inf there, so that they cannot dominate
        # the normalised backward messages and round away the ones that matter
        lt = self.lt
        L = np.where(np.isneginf(self.log_alphas), -np.inf, self.L)
        log_betas = np.empty_like(L)
        status = _logspace.log_backward_kernel(
            lt.A_T, lt.log_A_T, lt.row_ptr, lt.row_idx, L, log_betas, True
        )
        if status >= 0:  # pragma: no cover - a forward path exists, so a backward one does
            raise _impossible(int(status) + 1, "backward pass")
        T, K = L.shape
        expected_states = np.empty((T, K))
        scaled_alphas = np.empty((max(T - 1, 1), K))
        weights = np.empty((max(T - 1, 1), K))
        exact = np.empty((K, K))
        _logspace.log_posterior_kernel(
            self.log_alphas,
            self.log_preds,
            log_betas,
            lt.A,
            lt.log_A,
            lt.col_ptr,
            lt.col_idx,
            lt.row_ptr,
            lt.row_idx,
            L,
            expected_states,
            scaled_alphas,
            weights,
            exact,
        )
        if T > 1:
            exact += lt.A * np.dot(scaled_alphas.T, weights)
        return HMMPosterior(expected_states, self.marginal_ll, exact)


def _exact_forward(pi, A, L) -> _Exact:
    """Forward pass in log space; raises the impossible-observation error when it is."""
    log_pi, lt = _log(pi), _logspace.log_transitions(A)
    log_alphas = np.empty_like(L)
    log_norms = np.empty(L.shape[0])
    log_preds = np.empty_like(L)
    status = _logspace.log_forward_kernel(
        log_pi, lt.A, lt.log_A, lt.col_ptr, lt.col_idx, L, log_alphas, log_norms, log_preds
    )
    if status >= 0:
        raise _impossible(int(status), "forward pass")
    return _Exact(log_pi, lt, L, log_alphas, log_norms, log_preds)


def _forward_one(pi, A, L):
    fast = _run_forward(pi, A, L)
    if fast is None:
        exact = _exact_forward(pi, A, L)
        return exact.alphas, exact.marginal_ll
    alphas, _, _, marginal_ll, _ = fast
    return alphas, marginal_ll


def _predictive_one(pi, A, L):
    fast = _run_forward(pi, A, L)
    if fast is None:
        return _exact_forward(pi, A, L).log_norms
    _, norms, _, _, offsets = fast
    return np.log(norms) + offsets


def _backward_one(A, L):
    if not _tiny_transitions(A):
        lik, _, best = _scaled_likelihoods(L)
        betas = np.empty_like(lik)
        status = _kernels.backward_kernel(np.ascontiguousarray(A.T), lik, betas, L, best, True)
        if status == -1:
            return betas
    # a vanished message, or a rescaled frame whose best state may only have underflowed:
    # recompute in log space, where a vanished message means a truly impossible sequence
    log_betas = np.empty_like(L)
    lt = _logspace.log_transitions(A)
    status = _logspace.log_backward_kernel(
        lt.A_T, lt.log_A_T, lt.row_ptr, lt.row_idx, L, log_betas, False
    )
    if status >= 0:
        raise _impossible(int(status) + 1, "backward pass")
    return np.exp(log_betas)


def _exact_posterior(pi, A, L) -> HMMPosterior:
    return _exact_forward(pi, A, L).posterior()


def _posterior_one(pi, A, AT, L) -> HMMPosterior:
    fast = _run_forward(pi, A, L)
    if fast is None:
        return _exact_posterior(pi, A, L)
    alphas, norms, lik, marginal_ll, _ = fast
    T, K = L.shape
    expected_states = np.empty((T, K))
    unused = np.empty(0, dtype=np.intp)  # lik is already fitted to the reachable states
    status = _kernels.backward_kernel(AT, lik, expected_states, L, unused, False)
    if status >= 0:  # the backward message underflowed: log space
        return _exact_posterior(pi, A, L)
    status = _kernels.posterior_kernel(alphas, norms, expected_states, lik)
    if status >= 0:
        return _exact_posterior(pi, A, L)
    if T > 1:
        expected_transitions = alphas[:-1].T @ lik[1:]
        expected_transitions *= A
    else:
        expected_transitions = np.zeros((K, K))
    return HMMPosterior(expected_states, marginal_ll, expected_transitions)


def _log(x: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.log(x)


def _viterbi_one(log_pi, log_A, L, return_score):
    states = np.empty(L.shape[0], dtype=np.int32)
    status, score = _kernels.viterbi_kernel(log_pi, log_A, L, states)
    if status >= 0:
        raise _impossible(int(status), "Viterbi")
    states = states.astype(np.intp)
    return (states, float(score)) if return_score else states


def _sample_one(pi, A, L, uniforms):
    fast = _run_forward(pi, A, L)
    samples = np.empty(uniforms.shape, dtype=np.intp)
    if fast is None:
        exact = _exact_forward(pi, A, L)
        _logspace.log_backward_sample_kernel(exact.lt.log_A, exact.log_alphas, uniforms, samples)
        return samples
    _kernels.backward_sample_kernel(A, fast[0], uniforms, samples)
    return samples
