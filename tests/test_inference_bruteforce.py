"""Exactness of the inference kernels against brute-force enumeration of every state path.

For small problems (K <= 3 states, T <= 6 frames, so at most 3^6 = 729 paths; including
K = 1, T = 1, transition matrices and initial distributions with zeros, and -inf
log-likelihoods) every quantity the kernels return is computed a second time by listing all
K^T paths and their log joint probabilities ``log p(x, z)`` in log space: the marginal
log-likelihood (from ``forward_pass``, ``forward_backward`` and the sum of
``predictive_log_likes``), the filtered forward messages ``p(z_t | x_{1:t})``, the backward
messages ``p(x_{t+1:T} | z_t)`` normalised per row, the posterior marginals, the summed
two-slice marginals, the Viterbi path and its score ``log p(x, z*)``, and the empirical
distribution of ``sample_posterior`` paths. Exact quantities must agree to 1e-12 relative
(probabilities) or 1e-12 absolute on log scale (which is 1e-12 relative on the probability
itself); exact zeros must come out exactly zero.
"""

import itertools

import numpy as np
import pytest
from scipy.special import logsumexp
from scipy.stats import chi2

import ethogram as eg

RTOL = 1e-12  # relative, on probabilities
LOG_ATOL = 1e-12  # absolute on a log-probability == relative on the probability


# ----------------------------------------------------------------------------- reference


def _log(x):
    with np.errstate(divide="ignore"):
        return np.log(x)


def _paths(K, T):
    return np.array(list(itertools.product(range(K), repeat=T)), dtype=int).reshape(-1, T)


def _log_joint(log_pi, log_A, ll, paths):
    """log p(x_{1:T}, z_{1:T}) for every row of ``paths``; log_pi may be any start weights."""
    T = ll.shape[0]
    lj = log_pi[paths[:, 0]] + ll[np.arange(T), paths].sum(axis=1)
    if T > 1:
        lj = lj + log_A[paths[:, :-1], paths[:, 1:]].sum(axis=1)
    return lj


class BruteForce:
    """Every posterior quantity of an HMM by enumerating all K^T paths (log space)."""

    def __init__(self, pi, A, ll):
        self.pi, self.A, self.ll = pi, A, ll
        self.T, self.K = ll.shape
        self.log_pi, self.log_A = _log(pi), _log(A)
        self.paths = _paths(self.K, self.T)
        self.lj = _log_joint(self.log_pi, self.log_A, ll, self.paths)
        self.marginal_ll = logsumexp(self.lj)
        self.path_probs = np.exp(self.lj - self.marginal_ll)

    def expected_states(self):
        g = np.zeros((self.T, self.K))
        for t in range(self.T):
            np.add.at(g[t], self.paths[:, t], self.path_probs)
        return g

    def expected_transitions(self):
        xi = np.zeros((self.K, self.K))
        for t in range(self.T - 1):
            np.add.at(xi, (self.paths[:, t], self.paths[:, t + 1]), self.path_probs)
        return xi

    def filtered(self):
        """alphas[t, k] = p(z_t = k | x_{1:t}) from the prefixes of length t + 1."""
        out = np.zeros((self.T, self.K))
        for t in range(self.T):
            prefix = _paths(self.K, t + 1)
            lj = _log_joint(self.log_pi, self.log_A, self.ll[: t + 1], prefix)
            for k in range(self.K):
                out[t, k] = logsumexp(lj[prefix[:, t] == k])
            out[t] = np.exp(out[t] - logsumexp(out[t]))
        return out

    def log_backward(self):
        """log p(x_{t+1:T} | z_t = k), unnormalised (0 in the last row)."""
        out = np.zeros((self.T, self.K))
        for t in range(self.T - 1):
            suffix = _paths(self.K, self.T - t - 1)
            for k in range(self.K):
                # a "start" distribution equal to row k of A gives sum_z A[k, z_{t+1}] ...
                out[t, k] = logsumexp(
                    _log_joint(self.log_A[k], self.log_A, self.ll[t + 1 :], suffix)
                )
        return out

    def predictive(self):
        """log p(x_t | x_{1:t-1}) as differences of prefix marginals."""
        prefix_ll = [
            logsumexp(_log_joint(self.log_pi, self.log_A, self.ll[: t + 1], _paths(self.K, t + 1)))
            for t in range(self.T)
        ]
        return np.diff(np.concatenate([[0.0], prefix_ll]))


# ----------------------------------------------------------------------------- problems


def make_problem(K, T, seed, variant):
    """A random HMM problem that is feasible by construction.

    variant "dense": Dirichlet(1) initial and transition rows, log-likes N(0, 1) * 2.
    variant "zeros": about 40% of the entries of pi and A set to zero.
    variant "neginf": zeros as above and about 35% of the log-likes set to -inf.
    Zeros and -inf are never placed on a random "witness" path, so at least one path has
    positive probability; no row of A and no frame is left without a possible state.
    """
    rng = np.random.default_rng(seed)
    pi = rng.dirichlet(np.ones(K))
    A = rng.dirichlet(np.ones(K), size=K)
    ll = rng.normal(size=(T, K)) * 2.0
    if variant == "dense" or K == 1:
        return pi, A, ll
    witness = rng.integers(K, size=T)
    keep_A = np.zeros((K, K), dtype=bool)
    keep_A[witness[:-1], witness[1:]] = True
    keep_A[np.arange(K), rng.integers(K, size=K)] = True  # every row keeps an entry
    zero_A = (rng.random((K, K)) < 0.4) & ~keep_A
    A[zero_A] = 0.0
    A /= A.sum(axis=1, keepdims=True)
    zero_pi = rng.random(K) < 0.4
    zero_pi[witness[0]] = False
    pi[zero_pi] = 0.0
    pi /= pi.sum()
    if variant == "neginf":
        dead = rng.random((T, K)) < 0.35
        dead[np.arange(T), witness] = False
        ll[dead] = -np.inf
    return pi, A, ll


VARIANTS = ("dense", "zeros", "neginf")
CASES = [
    (K, T, variant, seed)
    for K in (1, 2, 3)
    for T in (1, 2, 3, 4, 6)
    for variant in VARIANTS
    for seed in (0, 1)
    if not (K == 1 and variant != "dense")
]


def _case_id(case):
    K, T, variant, seed = case
    return f"K{K}-T{T}-{variant}-s{seed}"


@pytest.fixture(params=CASES, ids=_case_id)
def case(request):
    K, T, variant, seed = request.param
    pi, A, ll = make_problem(K, T, 1000 * K + 10 * T + seed + 7 * VARIANTS.index(variant), variant)
    return pi, A, ll, BruteForce(pi, A, ll)


def test_problem_generator_makes_what_it_says():
    """The zero / -inf variants really contain zeros and -inf (so those cases test something)."""
    pi, A, ll = make_problem(3, 6, 5, "neginf")
    assert (A == 0).any() and np.isneginf(ll).any()
    assert np.isfinite(BruteForce(pi, A, ll).marginal_ll)
    zeros = [make_problem(3, T, s, "zeros")[1] for T in (2, 3, 4, 6) for s in range(2)]
    assert sum(int((A_ == 0).sum()) for A_ in zeros) >= 8


# ----------------------------------------------------------------------------- exact checks


def test_marginal_ll(case):
    pi, A, ll, bf = case
    assert np.isfinite(bf.marginal_ll)
    _, ll_fwd = eg.forward_pass(pi, A, ll)
    post = eg.forward_backward(pi, A, ll)
    assert isinstance(ll_fwd, float) and isinstance(post.marginal_ll, float)
    np.testing.assert_allclose(ll_fwd, bf.marginal_ll, rtol=0, atol=LOG_ATOL)
    np.testing.assert_allclose(post.marginal_ll, bf.marginal_ll, rtol=0, atol=LOG_ATOL)


def test_predictive_log_likes(case):
    pi, A, ll, bf = case
    pll = eg.predictive_log_likes(pi, A, ll)
    assert pll.shape == (bf.T,)
    np.testing.assert_allclose(pll, bf.predictive(), rtol=0, atol=LOG_ATOL)
    np.testing.assert_allclose(pll.sum(), bf.marginal_ll, rtol=0, atol=LOG_ATOL)


def test_expected_states(case):
    pi, A, ll, bf = case
    post = eg.forward_backward(pi, A, ll)
    assert post.expected_states.shape == (bf.T, bf.K)
    np.testing.assert_allclose(post.expected_states, bf.expected_states(), rtol=RTOL, atol=0)


def test_expected_transitions(case):
    pi, A, ll, bf = case
    post = eg.forward_backward(pi, A, ll)
    ref = bf.expected_transitions()
    assert post.expected_transitions.shape == (bf.K, bf.K)
    np.testing.assert_allclose(post.expected_transitions, ref, rtol=RTOL, atol=0)
    # the summed two-slice marginals have total mass T - 1, rows summing to the occupancy of
    # frames 0..T-2 and columns summing to the occupancy of frames 1..T-1
    np.testing.assert_allclose(post.expected_transitions.sum(), bf.T - 1, rtol=RTOL, atol=0)
    g = post.expected_states
    np.testing.assert_allclose(
        post.expected_transitions.sum(axis=1), g[:-1].sum(axis=0), rtol=RTOL, atol=0
    )
    np.testing.assert_allclose(
        post.expected_transitions.sum(axis=0), g[1:].sum(axis=0), rtol=RTOL, atol=0
    )
    if bf.T == 1:
        assert np.array_equal(post.expected_transitions, np.zeros((bf.K, bf.K)))


def test_forward_messages_are_filtered_marginals(case):
    pi, A, ll, bf = case
    alphas, _ = eg.forward_pass(pi, A, ll)
    assert alphas.shape == (bf.T, bf.K)
    np.testing.assert_allclose(alphas, bf.filtered(), rtol=RTOL, atol=0)


def test_backward_messages(case):
    pi, A, ll, bf = case
    betas = eg.backward_pass(A, ll)
    log_b = bf.log_backward()
    # every row of the exact backward message has some positive entry (feasible problems)
    ref = np.exp(log_b - logsumexp(log_b, axis=1, keepdims=True))
    assert betas.shape == (bf.T, bf.K)
    np.testing.assert_allclose(betas, ref, rtol=RTOL, atol=0)
    np.testing.assert_allclose(betas[-1], np.full(bf.K, 1.0 / bf.K), rtol=RTOL, atol=0)
    # and together with the forward messages they give the smoothed marginals
    alphas, _ = eg.forward_pass(pi, A, ll)
    ab = alphas * betas
    np.testing.assert_allclose(
        ab / ab.sum(axis=1, keepdims=True), bf.expected_states(), rtol=RTOL, atol=0
    )


def test_viterbi_path_and_score(case):
    pi, A, ll, bf = case
    order = np.argsort(bf.lj)[::-1]
    best = bf.paths[order[0]]
    if len(order) > 1:  # the maximiser is unique, so the path comparison is meaningful
        assert bf.lj[order[0]] - bf.lj[order[1]] > 1e-9
    states, score = eg.viterbi(pi, A, ll, return_score=True)
    assert isinstance(score, float)
    np.testing.assert_array_equal(states, best)
    np.testing.assert_allclose(score, bf.lj[order[0]], rtol=0, atol=LOG_ATOL)
    np.testing.assert_array_equal(eg.viterbi(pi, A, ll), best)  # return_score=False: path only


def test_viterbi_ties_go_to_the_lowest_state():
    """With all paths equally likely the documented tie-break gives the all-zeros path."""
    K, T = 3, 5
    states, score = eg.viterbi(
        np.full(K, 1 / K), np.full((K, K), 1 / K), np.zeros((T, K)), return_score=True
    )
    np.testing.assert_array_equal(states, np.zeros(T, dtype=int))
    np.testing.assert_allclose(score, T * np.log(1 / K), rtol=0, atol=LOG_ATOL)


# ----------------------------------------------------------------------------- sampling


def _path_codes(paths, K):
    return paths @ (K ** np.arange(paths.shape[1] - 1, -1, -1))


@pytest.mark.parametrize(
    "K,T,seed",
    [(2, 4, 0), (3, 3, 0)],
)
def test_posterior_samples_follow_the_exact_path_distribution(K, T, seed):
    """20000 FFBS paths vs the exact posterior over the K^T paths.

    Each path count is Binomial(n, p): it must lie within 5 standard deviations
    sqrt(n p (1 - p)) of n p (plus one count, for paths so rare that n p << 1; a
    two-sided 5 sigma excursion has probability < 6e-7 per path). Paths of probability zero
    must never be drawn, and a chi-square goodness-of-fit test over the possible paths must
    not reject at level 1e-4. The seed is fixed, so the test is deterministic.
    """
    rng = np.random.default_rng(seed)
    pi = rng.dirichlet(np.ones(K))
    A = np.full((K, K), 0.3 / (K - 1)) + np.eye(K) * (0.7 - 0.3 / (K - 1))  # sticky
    A[0, 1] = 0.0  # some paths have probability zero
    A /= A.sum(axis=1, keepdims=True)
    ll = rng.normal(size=(T, K)) * 0.5  # a spread-out posterior over paths
    bf = BruteForce(pi, A, ll)
    n = 20000

    samples = eg.sample_posterior(pi, A, ll, num_samples=n, seed=12345)
    assert samples.shape == (n, T)
    assert np.issubdtype(samples.dtype, np.integer)
    counts = np.bincount(_path_codes(samples, K), minlength=K**T)
    expected = np.zeros(K**T)
    expected[_path_codes(bf.paths, K)] = bf.path_probs
    assert (expected == 0).any()
    assert counts[expected == 0].sum() == 0

    sd = np.sqrt(n * expected * (1 - expected))
    assert np.all(np.abs(counts - n * expected) <= 5 * sd + 1)

    pos = expected > 0
    stat = ((counts[pos] - n * expected[pos]) ** 2 / (n * expected[pos])).sum()
    assert chi2.sf(stat, df=pos.sum() - 1) > 1e-4

    # power: sampling each frame independently from its posterior marginal would be
    # detected (its path probabilities differ from the exact ones by many standard deviations)
    g = bf.expected_states()
    independent = np.zeros(K**T)
    independent[_path_codes(bf.paths, K)] = np.prod(g[np.arange(T), bf.paths], axis=1)
    assert np.max(np.abs(n * independent[pos] - n * expected[pos]) / sd[pos]) > 20


def test_sampling_is_reproducible_and_uses_only_possible_paths():
    pi, A, ll = make_problem(3, 6, 4, "neginf")
    a = eg.sample_posterior(pi, A, ll, num_samples=2000, seed=7)
    b = eg.sample_posterior(pi, A, ll, num_samples=2000, seed=np.random.default_rng(7))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, eg.sample_posterior(pi, A, ll, num_samples=2000, seed=8))
    assert np.all(pi[a[:, 0]] > 0)
    assert np.all(A[a[:, :-1], a[:, 1:]] > 0)
    assert np.all(np.isfinite(ll[np.arange(6), a]))


def test_single_sample_and_single_frame():
    pi = np.array([0.3, 0.7])
    A = np.array([[0.5, 0.5], [0.2, 0.8]])
    ll = np.array([[0.0, np.log(3.0)]])
    s = eg.sample_posterior(pi, A, ll, seed=0)
    assert s.shape == (1, 1)
    # p(z = 1 | x) = 0.7 * 3 / (0.3 + 2.1) = 0.875
    draws = eg.sample_posterior(pi, A, ll, num_samples=20000, seed=1)[:, 0]
    p = 0.875
    assert abs(draws.mean() - p) <= 5 * np.sqrt(p * (1 - p) / 20000)
