"""The fused FFBS draw (ethogram.inference.ffbs) is sample_posterior's draw, faster.

For the same seed both draw the same uniforms, so their paths must be equal (the law of
``sample_posterior`` is checked against enumeration in tests/test_inference_bruteforce.py),
and ``log p(x)`` must equal ``forward_pass``'s: on random problems, masked rows, the sticky
100-state matrices of MoSeq, and the cases where the fused kernel hands the draw to the exact
general path (a transition matrix with zeros, log-likelihoods of -inf, a frame whose best
state is a priori negligible, a vanishing predicted probability). Also its input checks.
"""

from __future__ import annotations

import numpy as np
import pytest

from ethogram.inference import _ffbs_kernels, forward_pass, sample_posterior
from ethogram.inference.ffbs import ffbs
from ethogram.models.gibbs import init_hdp_transitions


def _problem(rng, T, K, scale=5.0):
    A = rng.dirichlet(np.ones(K) * 0.5, size=K) + 3 * np.eye(K)
    A /= A.sum(axis=1, keepdims=True)
    return rng.dirichlet(np.ones(K)), A, rng.normal(size=(T, K)) * scale


def _same(pi, A, L, seed):
    ours, mll = ffbs(pi, A, L, seed)
    ref = sample_posterior(pi, A, L, seed=seed)[0]
    np.testing.assert_array_equal(ours, ref)
    np.testing.assert_allclose(mll, forward_pass(pi, A, L)[1], rtol=1e-12, atol=1e-9)
    return ours


@pytest.mark.parametrize("K", [1, 2, 7, 8, 9, 23])
def test_equals_sample_posterior(K):
    rng = np.random.default_rng(K)
    for seed in range(20):
        pi, A, L = _problem(rng, int(rng.integers(1, 60)), K)
        _same(pi, A, L, seed)


def test_moseq_sticky_matrix_and_masked_rows():
    rng = np.random.default_rng(0)
    A = init_hdp_transitions(rng, 100, 5.7, 1e6, 1e3).transition_matrix
    L = rng.normal(size=(500, 100)) * 30
    L[100:130] = 0.0  # masked frames follow the transitions alone
    for seed in range(5):
        _same(np.full(100, 0.01), A, L, seed)


def _fast_path_status(pi, A, L):
    T, K = L.shape
    return _ffbs_kernels.ffbs_forward_kernel(
        pi, True, A, L, np.empty((T, K)), np.empty(T), np.empty(T)
    )


def test_hands_over_to_the_exact_path_where_float64_falls_short():
    rng = np.random.default_rng(3)
    K, T = 4, 40
    pi, A, L = _problem(rng, T, K)
    # a zero in the matrix: a state can vanish from the prediction
    A0 = A.copy()
    A0[:, 2] = 0.0
    A0[2] = [0.5, 0.5, 0.0, 0.0]
    A0 /= A0.sum(axis=1, keepdims=True)
    # -inf log-likelihoods (the fast path handles them: exp(-inf) = 0)
    Linf = L.copy()
    Linf[5, [0, 1]] = -np.inf
    # the best state of a frame a priori negligible (tiny transitions into it, huge evidence)
    Atiny = np.full((K, K), 1e-160)
    np.fill_diagonal(Atiny, 1.0)
    Atiny /= Atiny.sum(axis=1, keepdims=True)
    Ltiny = np.zeros((T, K))
    Ltiny[20:, 3] = 800.0
    cases = [(pi, A0, L), (pi, A, Linf), (np.array([1.0, 0, 0, 0]), Atiny, Ltiny)]
    assert _fast_path_status(*cases[0]) != -1 and _fast_path_status(*cases[2]) != -1
    for p, M, LL in cases:
        for seed in range(5):
            path = _same(p, M, LL, seed)
            assert np.all(M[path[:-1], path[1:]] > 0)
    # the evidence wins: the draw enters state 3 where the data demand it
    assert _same(cases[2][0], Atiny, Ltiny, 0)[25] == 3


def test_input_checks():
    pi, A, L = _problem(np.random.default_rng(0), 10, 3)
    with pytest.raises(ValueError, match="transition_matrix"):
        ffbs(pi, A[:2], L)
    with pytest.raises(ValueError, match="log_likes"):
        ffbs(pi, A, L[:, :2])
    with pytest.raises(ValueError, match="NaN"):
        ffbs(pi, A, np.where(L > 1, np.nan, L))
    Lbad = L.copy()
    Lbad[3] = -np.inf
    with pytest.raises(ValueError, match="frame 3"):
        ffbs(pi, A, Lbad)
