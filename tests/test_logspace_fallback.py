"""The exact log-space path on the problems that send whole sequences to it.

Learned transition matrices are often sparse (a syllable follows only a few others), and a
recording the model was not fitted on then has frames whose best state the scaled messages
have already lost to underflow, so whole sequences are recomputed in log space
(:mod:`ethogram.inference._logspace`). These tests check that path on such realistic
problems against an independent reference: the textbook log-space recursions written here
with ``scipy.special.logsumexp`` over every pair of states.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import logsumexp

import ethogram as eg
from _log_reference import _lse, _normalize, _path_log_joint
from ethogram.inference import _one_sequence as one_sequence


def _sparse_problem(seed, K=12, T=600, nnz=2):
    """A sticky transition matrix with ``nnz`` random exits per state and log-likelihoods
    whose best state jumps anywhere (as off-model data do): sharp, so alphas underflow."""
    rng = np.random.default_rng(seed)
    A = np.eye(K) * 0.9
    for i in range(K):
        A[i, rng.choice(np.delete(np.arange(K), i), nnz, replace=False)] += 0.1 / nnz
    pi = np.full(K, 1.0 / K)
    z = rng.integers(0, K, T)
    L = -0.5 * 40.0 * (np.arange(K)[None, :] != z[:, None]) * rng.uniform(20, 60, (T, K))
    return pi, A, L


def _reference(pi, A, L):
    """Forward-backward in log space over all K x K pairs (numpy + scipy only)."""
    T, K = L.shape
    with np.errstate(divide="ignore"):
        lA, lpi = np.log(A), np.log(pi)
    la = np.empty((T, K))
    la[0] = lpi + L[0]
    for t in range(1, T):
        la[t] = logsumexp(la[t - 1][:, None] + lA, axis=0) + L[t]
    lb = np.zeros((T, K))
    for t in range(T - 2, -1, -1):
        lb[t] = logsumexp(lA + (L[t + 1] + lb[t + 1])[None, :], axis=1)
    ll = logsumexp(la[-1])
    gamma = np.exp(la + lb - ll)
    xi = np.zeros((K, K))
    for t in range(T - 1):
        xi += np.exp(la[t][:, None] + lA + (L[t + 1] + lb[t + 1])[None, :] - ll)
    return ll, gamma, xi


@pytest.mark.parametrize("seed", range(4))
def test_sparse_transitions_off_model_data_are_exact(seed):
    pi, A, L = _sparse_problem(seed)
    assert one_sequence._run_forward(pi, A, L) is None  # the problem does take the log-space path
    ll, gamma, xi = _reference(pi, A, L)
    post = eg.forward_backward(pi, A, L)
    np.testing.assert_allclose(post.marginal_ll, ll, rtol=1e-12)
    np.testing.assert_allclose(post.expected_states, gamma, atol=1e-10)
    np.testing.assert_allclose(post.expected_transitions, xi, atol=1e-9, rtol=1e-9)
    assert np.all(post.expected_transitions[A == 0] == 0)
    alphas, ll_f = eg.forward_pass(pi, A, L)
    np.testing.assert_allclose(ll_f, ll, rtol=1e-12)
    np.testing.assert_allclose(eg.predictive_log_likes(pi, A, L).sum(), ll, rtol=1e-12)
    betas = eg.backward_pass(A, L)
    assert np.all(np.isfinite(betas)) and np.allclose(betas.sum(axis=1), 1.0)


def test_dense_matrix_with_tiny_entries_is_exact():
    """Entries below 1e-100 send every sequence to the log-space path; a dense matrix there
    takes its fast product, and must give the reference's answer."""
    pi, A, L = _sparse_problem(7, K=8, T=300, nnz=5)
    A = A + 1e-150
    A /= A.sum(axis=1, keepdims=True)
    assert one_sequence._tiny_transitions(A)
    ll, gamma, xi = _reference(pi, A, L)
    post = eg.forward_backward(pi, A, L)
    np.testing.assert_allclose(post.marginal_ll, ll, rtol=1e-12)
    np.testing.assert_allclose(post.expected_states, gamma, atol=1e-10)
    np.testing.assert_allclose(post.expected_transitions, xi, atol=1e-9, rtol=1e-9)


def test_log_space_posterior_counts_every_transition():
    """Each frame's two-slice marginals sum to 1 on the log-space path, also with masked
    frames and states with -inf log-likelihood."""
    pi, A, L = _sparse_problem(3, K=10, T=400)
    L[50:60] = 0.0
    L[100, :5] = -np.inf
    mask = np.ones(400, dtype=bool)
    mask[200:220] = False
    post = eg.forward_backward(pi, A, L, mask=mask)
    assert post.expected_transitions.sum() == pytest.approx(399, rel=1e-12)
    assert np.all(post.expected_states[100, :5] == 0)


# ----------------------------------------------------------------------------- regressions
# Problems the fuzzing found (each failed before the kernels fell back to log space when a
# state dropped by underflow turned out to be needed), checked against brute-force
# enumeration of every state path.


_E = np.eye(2)
REGRESSIONS = {
    # the only state that explains frame 1 underflowed at frame 0: was refused as impossible
    "lost state needed": ([0.5, 0.5], _E, [[0.0, -800.0], [-np.inf, 0.0]]),
    # the lost state explains frame 1 by 1000 nats: marginal_ll was 200 nats too low
    "lost state revived": ([0.5, 0.5], _E, [[0.0, -800.0], [0.0, 1000.0]]),
    # two equally likely paths, one lost at frame 0: marginal_ll was off by log 2
    "lost twin": ([0.5, 0.5], _E, [[0.0, -800.0], [-800.0, 0.0]]),
    # a lost state, tiny transitions, a subnormal-free but 1e-144 normaliser
    "tiny transitions": (
        [0.3163, 0.6837],
        [[1.0, 1.7719e-252], [3.9263e-144, 1.0]],
        [
            [-800.0, 800.0],
            [0.0, -800.0],
            [-800.0, 800.0],
            [-800.0, 0.0],
            [0.0, 0.0],
            [-np.inf, 0.0],
        ],
    ),
    # a cycle where the state 1e300 more likely at frame 0 cannot continue
    "permutation chain": (
        [0.0, 0.0, 0.7879, 0.2121],
        [[0, 0, 0, 1.0], [1.0, 0, 0, 0], [0, 1.0, 0, 0], [0, 0, 1.0, 0]],
        [
            [5.1577e299, -7.4572e299, 1.0193e300, -8.1326e298],
            [5.4350e299, -3.6279e299, 8.3398e299, 1.3588e300],
        ],
    ),
}


def _brute_force(pi, A, L):
    """Every K^T path: marginal_ll, expected_states, expected_transitions, best score."""
    import itertools

    pi, A, L = np.asarray(pi, float), np.asarray(A, float), np.asarray(L, float)
    T, K = L.shape
    paths = np.array(list(itertools.product(range(K), repeat=T)))
    lj = np.array([_path_log_joint(pi, A, L, z) for z in paths])
    w = np.exp(_normalize(lj, axis=0)[0])
    gamma = np.zeros((T, K))
    xi = np.zeros((K, K))
    for z, wz in zip(paths, w):
        gamma[np.arange(T), z] += wz
        np.add.at(xi, (z[:-1], z[1:]), wz)
    return _lse(lj, axis=0), gamma, xi, lj.max()


@pytest.mark.parametrize("name", list(REGRESSIONS))
def test_found_by_fuzzing(name):
    pi, A, L = (np.asarray(x, dtype=float) for x in REGRESSIONS[name])
    marginal, gamma, xi, best = _brute_force(pi, A, L)
    post = eg.forward_backward(pi, A, L)
    rtol = 1e-12
    np.testing.assert_allclose(post.marginal_ll, marginal, rtol=rtol)
    np.testing.assert_allclose(post.expected_states, gamma, atol=1e-12)
    np.testing.assert_allclose(post.expected_transitions, xi, atol=1e-12)
    np.testing.assert_allclose(eg.forward_pass(pi, A, L)[1], marginal, rtol=rtol)
    np.testing.assert_allclose(eg.predictive_log_likes(pi, A, L).sum(), marginal, rtol=rtol)
    states, score = eg.viterbi(pi, A, L, return_score=True)
    np.testing.assert_allclose(score, best, rtol=rtol)
    np.testing.assert_allclose(_path_log_joint(pi, A, L, states), best, rtol=rtol)
    for z in eg.sample_posterior(pi, A, L, num_samples=20, seed=0):
        assert np.isfinite(_path_log_joint(pi, A, L, z))


def test_viterbi_keeps_initial_probabilities_next_to_huge_log_likelihoods():
    """Equal log-likelihoods of -2e299: the initial distribution decides (it was rounded away)."""
    states, score = eg.viterbi(
        [0.25, 0.75], np.full((2, 2), 0.5), [[-2e299, -2e299]], return_score=True
    )
    assert states.tolist() == [1]
    assert score == -2e299  # log 0.75 is below the resolution of -2e299
