"""Agreement with hmmlearn 0.3.3 on problems of realistic size.

The reference is hmmlearn's compiled C++ module ``hmmlearn._hmmc``, called directly with the
parameters and the per-frame likelihoods of each problem: ``forward_scaling``,
``backward_scaling`` and ``compute_scaling_xi_sum`` (the scaling implementation that
hmmlearn's ``fit`` uses), ``forward_log``, ``backward_log`` and ``compute_log_xi_sum`` (its
independent log-space implementation, a second reference for the marginal log-likelihood, the
posteriors and the expected transitions) and ``viterbi``. Calling the kernels directly
rather than a model with ``_compute_log_likelihood`` overridden removes every layer between
the two implementations (no parameter validation, no hidden normalisation, no
``lengths`` splitting), so any disagreement is in the message passing itself. Problems are
random: initial distribution and transition rows Dirichlet(1) (also with structural zeros in
the transition matrix), log-likelihoods N(0, 1) * 5, for T = 2000, K = 10 and T = 500,
K = 30 (and two more shapes). The marginal log-likelihood, filtered messages, backward
messages, posterior marginals and expected transition counts must agree to 1e-9 relative;
Viterbi paths must be identical and their scores agree to 1e-9 relative.
"""

import numpy as np
import pytest
from scipy.special import logsumexp

import ethogram as eg

hmmc = pytest.importorskip("hmmlearn._hmmc")

RTOL = 1e-9


def make_problem(T, K, seed, zeros):
    rng = np.random.default_rng(seed)
    pi = rng.dirichlet(np.ones(K))
    A = rng.dirichlet(np.ones(K), size=K)
    if zeros:  # about a third of the transitions impossible; every row keeps its diagonal
        A[(rng.random((K, K)) < 0.3) & ~np.eye(K, dtype=bool)] = 0.0
        A /= A.sum(axis=1, keepdims=True)
    ll = rng.standard_normal((T, K)) * 5.0
    return pi, A, ll


SHAPES = [(2000, 10, 0), (500, 30, 1), (5000, 3, 2), (300, 60, 3)]
CASES = [(T, K, seed, zeros) for (T, K, seed) in SHAPES for zeros in (False, True)]


@pytest.fixture(
    scope="module", params=CASES, ids=lambda c: f"T{c[0]}-K{c[1]}-{'zeros' if c[3] else 'dense'}"
)
def problem(request):
    T, K, seed, zeros = request.param
    pi, A, ll = make_problem(T, K, seed, zeros)
    if zeros:
        assert (A == 0).any()
    # hmmlearn's scaling implementation on the same likelihoods (|ll| <= ~30, no underflow)
    frameprob = np.exp(ll)
    log_prob, fwd, scaling = hmmc.forward_scaling(pi, A, frameprob)
    bwd = hmmc.backward_scaling(pi, A, frameprob, scaling)
    post = fwd * bwd
    post /= post.sum(axis=1, keepdims=True)
    xi_sum = hmmc.compute_scaling_xi_sum(fwd, A, bwd, frameprob)
    log_prob_log, fwd_log = hmmc.forward_log(pi, A, ll)
    bwd_log = hmmc.backward_log(pi, A, ll)
    log_gamma = fwd_log + bwd_log
    vit_score, vit_path = hmmc.viterbi(pi, A, ll)
    ref = dict(
        log_prob=log_prob,
        log_prob_log=log_prob_log,
        fwd=fwd,
        bwd=bwd / bwd.sum(axis=1, keepdims=True),
        posteriors=post,
        xi_sum=xi_sum,
        posteriors_log=np.exp(log_gamma - logsumexp(log_gamma, axis=1, keepdims=True)),
        xi_sum_log=np.exp(hmmc.compute_log_xi_sum(fwd_log, A, bwd_log, ll)),
        vit_score=vit_score,
        vit_path=vit_path,
    )
    return pi, A, ll, ref


def test_the_two_hmmlearn_references_agree(problem):
    """Sanity check of the reference itself: hmmlearn scaling and log implementations."""
    _, _, _, ref = problem
    np.testing.assert_allclose(ref["log_prob"], ref["log_prob_log"], rtol=RTOL)


def test_marginal_ll(problem):
    pi, A, ll, ref = problem
    post = eg.forward_backward(pi, A, ll)
    _, fwd_ll = eg.forward_pass(pi, A, ll)
    np.testing.assert_allclose(post.marginal_ll, ref["log_prob"], rtol=RTOL)
    np.testing.assert_allclose(fwd_ll, ref["log_prob"], rtol=RTOL)
    np.testing.assert_allclose(post.marginal_ll, ref["log_prob_log"], rtol=RTOL)
    np.testing.assert_allclose(eg.predictive_log_likes(pi, A, ll).sum(), ref["log_prob"], rtol=RTOL)


def test_forward_messages(problem):
    """hmmlearn's scaled forward lattice is normalised per frame: it is p(z_t | x_{1:t})."""
    pi, A, ll, ref = problem
    alphas, _ = eg.forward_pass(pi, A, ll)
    np.testing.assert_allclose(alphas, ref["fwd"], rtol=RTOL, atol=0)


def test_backward_messages(problem):
    _, A, ll, ref = problem
    betas = eg.backward_pass(A, ll)
    np.testing.assert_allclose(betas, ref["bwd"], rtol=RTOL, atol=0)


def test_posteriors(problem):
    pi, A, ll, ref = problem
    post = eg.forward_backward(pi, A, ll)
    np.testing.assert_allclose(post.expected_states, ref["posteriors"], rtol=RTOL, atol=0)
    # and hmmlearn's log-space implementation, a second reference (its own round-off in log
    # space leaves ~1e-12 absolute on probabilities near zero)
    np.testing.assert_allclose(post.expected_states, ref["posteriors_log"], rtol=RTOL, atol=1e-12)


def test_expected_transitions(problem):
    pi, A, ll, ref = problem
    post = eg.forward_backward(pi, A, ll)
    np.testing.assert_allclose(post.expected_transitions, ref["xi_sum"], rtol=RTOL, atol=0)
    np.testing.assert_allclose(post.expected_transitions, ref["xi_sum_log"], rtol=1e-8, atol=1e-9)
    # structural zeros stay exactly zero
    assert np.all(post.expected_transitions[A == 0] == 0.0)


def test_viterbi(problem):
    pi, A, ll, ref = problem
    states, score = eg.viterbi(pi, A, ll, return_score=True)
    np.testing.assert_array_equal(states, ref["vit_path"])
    np.testing.assert_allclose(score, ref["vit_score"], rtol=RTOL)
