"""Exactness of the message-passing kernels.

Against brute-force enumeration of all K^T state paths (T <= 6, K <= 3, including K = 1,
T = 1 and transition matrices with zeros): marginal log-likelihood, filtered forward
messages, backward messages, posterior marginals, summed two-slice marginals, Viterbi path
and score, per-frame predictive log-likelihoods, and the distribution of posterior samples.
Against hmmlearn 0.3.3's compiled scaling implementation on problems of realistic size:
log-likelihood and posteriors to 1e-9 relative, expected transitions, identical Viterbi paths.
"""

import itertools

import numpy as np
import pytest
from scipy.special import logsumexp

import ethogram as eg


def _problem(K, T, seed, zeros=False):
    rng = np.random.default_rng(seed)
    pi = rng.dirichlet(np.ones(K))
    A = rng.dirichlet(np.ones(K), K)
    if zeros and K > 1:
        A[0, 1] = 0.0
        A[K - 1, K - 1] = 0.0
        A /= A.sum(1, keepdims=True)
    ll = rng.normal(size=(T, K)) * 2
    return pi, A, ll


def _enumerate(pi, A, ll):
    """Log joint of every path, the paths themselves."""
    T, K = ll.shape
    paths = np.array(list(itertools.product(range(K), repeat=T)))
    with np.errstate(divide="ignore"):
        lpi, lA = np.log(pi), np.log(A)
    lj = lpi[paths[:, 0]] + ll[np.arange(T), paths].sum(1)
    if T > 1:
        lj = lj + lA[paths[:, :-1], paths[:, 1:]].sum(1)
    return lj, paths


CASES = [(K, T, seed, zeros) for K in (1, 2, 3) for T in (1, 2, 5, 6) for seed in (0, 1) for zeros in (False, True) if not (K == 1 and zeros)]


@pytest.mark.parametrize("K,T,seed,zeros", CASES)
def test_against_brute_force(K, T, seed, zeros):
    pi, A, ll = _problem(K, T, seed, zeros)
    lj, paths = _enumerate(pi, A, ll)
    log_z = logsumexp(lj)
    p = np.exp(lj - log_z)

    post = eg.forward_backward(pi, A, ll)
    assert post.marginal_ll == pytest.approx(log_z, rel=1e-12, abs=1e-12)
    gamma = np.array([[p[paths[:, t] == k].sum() for k in range(K)] for t in range(T)])
    np.testing.assert_allclose(post.expected_states, gamma, rtol=1e-10, atol=1e-13)
    xi = np.zeros((K, K))
    for t in range(T - 1):
        np.add.at(xi, (paths[:, t], paths[:, t + 1]), p)
    np.testing.assert_allclose(post.expected_transitions, xi, rtol=1e-10, atol=1e-13)

    # filtered messages: p(z_t | x_{1:t}) from enumerating the prefix
    alphas, mll = eg.forward_pass(pi, A, ll)
    assert mll == pytest.approx(log_z, rel=1e-12, abs=1e-12)
    for t in range(T):
        lj_t, paths_t = _enumerate(pi, A, ll[: t + 1])
        pt = np.exp(lj_t - logsumexp(lj_t))
        filt = np.array([pt[paths_t[:, t] == k].sum() for k in range(K)])
        np.testing.assert_allclose(alphas[t], filt, rtol=1e-10, atol=1e-13)

    # backward messages: proportional to p(x_{t+1:T} | z_t), normalised to sum to 1
    betas = eg.backward_pass(A, ll)
    np.testing.assert_allclose(betas.sum(1), 1.0, rtol=1e-12)
    for t in range(T - 1):
        suffix = ll[t + 1:]
        lj_s, paths_s = _enumerate(np.ones(K) / K, A, suffix)  # placeholder start, replaced below
        with np.errstate(divide="ignore"):
            lA = np.log(A)
        exact = np.array([logsumexp(lA[k, paths_s[:, 0]] + lj_s - np.log(1.0 / K)) for k in range(K)])
        np.testing.assert_allclose(betas[t], np.exp(exact - logsumexp(exact)), rtol=1e-10, atol=1e-13)

    # gamma is alpha * beta normalised
    ab = alphas * betas
    np.testing.assert_allclose(ab / ab.sum(1, keepdims=True), post.expected_states, rtol=1e-10, atol=1e-13)

    states, score = eg.viterbi(pi, A, ll, return_score=True)
    assert score == pytest.approx(lj.max(), rel=1e-12, abs=1e-12)
    best = paths[np.argmax(lj)]
    np.testing.assert_array_equal(states, best)

    frames = eg.predictive_log_likes(pi, A, ll)
    assert frames.sum() == pytest.approx(log_z, rel=1e-12, abs=1e-12)
    assert frames[0] == pytest.approx(logsumexp(np.log(pi) + ll[0]), rel=1e-12, abs=1e-12)


def test_posterior_samples_follow_the_exact_path_distribution():
    pi, A, ll = _problem(2, 4, seed=3)
    lj, paths = _enumerate(pi, A, ll)
    p = np.exp(lj - logsumexp(lj))
    n = 40000
    samples = eg.sample_posterior(pi, A, ll, num_samples=n, seed=11)
    assert samples.shape == (n, 4)
    codes = samples @ (2 ** np.arange(3, -1, -1))
    freq = np.bincount(codes, minlength=16) / n
    path_codes = paths @ (2 ** np.arange(3, -1, -1))
    expected = np.zeros(16)
    expected[path_codes] = p
    # every cell within 5 binomial standard errors (and a chi-square sanity check)
    se = np.sqrt(expected * (1 - expected) / n)
    assert np.all(np.abs(freq - expected) <= 5 * se + 1e-12)
    keep = expected > 0
    chi2 = n * ((freq[keep] - expected[keep]) ** 2 / expected[keep]).sum()
    assert chi2 < 45.0  # 15 degrees of freedom: P(chi2 > 45) < 1e-4


def test_sampling_reproducible_and_respects_zero_transitions():
    pi, A, ll = _problem(3, 6, seed=4, zeros=True)
    a = eg.sample_posterior(pi, A, ll, num_samples=500, seed=1)
    b = eg.sample_posterior(pi, A, ll, num_samples=500, seed=1)
    np.testing.assert_array_equal(a, b)
    assert np.all(A[a[:, :-1], a[:, 1:]] > 0)


hmmc = pytest.importorskip("hmmlearn._hmmc")


@pytest.mark.parametrize("T,K,seed", [(2000, 10, 0), (500, 30, 1), (5000, 4, 2)])
def test_against_hmmlearn(T, K, seed):
    rng = np.random.default_rng(seed)
    pi = rng.dirichlet(np.ones(K))
    A = rng.dirichlet(np.ones(K), K)
    ll = rng.standard_normal((T, K)) * 5
    # hmmlearn's log implementation (exact in log space) as the reference
    log_prob, fwd = hmmc.forward_log(pi, A, ll)
    bwd = hmmc.backward_log(pi, A, ll)
    log_gamma = fwd + bwd
    gamma = np.exp(log_gamma - logsumexp(log_gamma, axis=1, keepdims=True))
    xi = np.exp(hmmc.compute_log_xi_sum(fwd, A, bwd, ll))

    post = eg.forward_backward(pi, A, ll)
    assert post.marginal_ll == pytest.approx(log_prob, rel=1e-9)
    np.testing.assert_allclose(post.expected_states, gamma, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(post.expected_transitions, xi, rtol=1e-8, atol=1e-9)

    ref_ll, ref_path = hmmc.viterbi(pi, A, ll)
    states, score = eg.viterbi(pi, A, ll, return_score=True)
    np.testing.assert_array_equal(states, ref_path)
    assert score == pytest.approx(ref_ll, rel=1e-9)
