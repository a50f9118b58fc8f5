"""Robustness of the kernels and their input checks.

Outputs are never NaN or inf for log-likelihoods offset by +-1e5 (whole array or per state),
-inf entries (impossible states), transition matrices with zeros, K = 1, T = 1 and
T = 10^6; offsets change only the marginal log-likelihood, by exactly the offset. Every
bad input raises a ValueError (TypeError for non-numbers) that names the argument.
"""

import numpy as np
import pytest

import ethogram as eg


def _problem(T=300, K=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.dirichlet(np.ones(K)), rng.dirichlet(np.ones(K), K), rng.normal(size=(T, K)) * 3


def _all_finite(post):
    return np.isfinite(post.marginal_ll) and np.all(np.isfinite(post.expected_states)) and np.all(np.isfinite(post.expected_transitions))


@pytest.mark.parametrize("offset", [1e5, -1e5])
def test_constant_offsets_shift_only_the_marginal(offset):
    pi, A, ll = _problem()
    base = eg.forward_backward(pi, A, ll)
    shifted = eg.forward_backward(pi, A, ll + offset)
    assert _all_finite(shifted)
    assert shifted.marginal_ll == pytest.approx(base.marginal_ll + offset * ll.shape[0], rel=1e-12)
    np.testing.assert_allclose(shifted.expected_states, base.expected_states, atol=1e-9)
    np.testing.assert_allclose(shifted.expected_transitions, base.expected_transitions, rtol=1e-8, atol=1e-9)
    np.testing.assert_array_equal(eg.viterbi(pi, A, ll + offset), eg.viterbi(pi, A, ll))


def test_per_state_offsets_stay_finite():
    pi, A, ll = _problem()
    ll2 = ll + np.array([1e5, -1e5, 0.0, 5e4])
    post = eg.forward_backward(pi, A, ll2)
    assert _all_finite(post)
    # state 0 dominates every frame by ~1e5 nats
    np.testing.assert_allclose(post.expected_states[:, 0], 1.0)
    assert np.all(eg.viterbi(pi, A, ll2) == 0)
    assert np.all(np.isfinite(eg.forward_pass(pi, A, ll2)[0]))
    assert np.all(np.isfinite(eg.backward_pass(A, ll2)))


def test_impossible_states_and_zero_transitions():
    pi, A, ll = _problem(K=3)
    A = np.array([[0.9, 0.1, 0.0], [0.0, 0.8, 0.2], [0.3, 0.0, 0.7]])
    ll = ll.copy()
    ll[::3, 1] = -np.inf
    post = eg.forward_backward(pi, A, ll)
    assert _all_finite(post)
    assert np.all(post.expected_states[::3, 1] == 0.0)
    assert post.expected_transitions[0, 2] == 0.0 and post.expected_transitions[1, 0] == 0.0
    states = eg.viterbi(pi, A, ll)
    assert np.all(A[states[:-1], states[1:]] > 0) and np.all(states[::3] != 1)


def test_single_state_and_single_frame():
    post = eg.forward_backward([1.0], [[1.0]], np.array([[-2.0], [-3.0]]))
    assert post.marginal_ll == pytest.approx(-5.0)
    np.testing.assert_array_equal(post.expected_states, [[1.0], [1.0]])
    np.testing.assert_array_equal(post.expected_transitions, [[1.0]])
    pi, A, ll = _problem(T=1)
    one = eg.forward_backward(pi, A, ll)
    np.testing.assert_allclose(one.expected_states[0], pi * np.exp(ll[0]) / (pi * np.exp(ll[0])).sum())
    np.testing.assert_array_equal(one.expected_transitions, np.zeros((4, 4)))
    assert eg.viterbi(pi, A, ll).shape == (1,)
    assert eg.sample_posterior(pi, A, ll, 3, seed=0).shape == (3, 1)


def test_a_million_frames():
    pi, A, _ = _problem(K=3)
    ll = np.random.default_rng(1).normal(size=(1_000_000, 3)) * 4
    post = eg.forward_backward(pi, A, ll)
    assert _all_finite(post)
    np.testing.assert_allclose(post.expected_states.sum(1), 1.0, rtol=1e-12)
    assert post.expected_transitions.sum() == pytest.approx(999_999, rel=1e-10)
    states, score = eg.viterbi(pi, A, ll, return_score=True)
    assert np.isfinite(score) and states.shape == (1_000_000,)


def test_torchless_array_likes_are_accepted():
    post = eg.forward_backward([0.5, 0.5], [[0.9, 0.1], [0.2, 0.8]], [[0.0, -1.0], [-2.0, 0.0]])
    assert post.expected_states.shape == (2, 2)
    f32 = eg.forward_backward(np.float32([0.5, 0.5]), np.float32([[0.9, 0.1], [0.2, 0.8]]), np.float32([[0.0, -1.0]]))
    assert f32.expected_states.dtype == np.float64


GOOD_PI, GOOD_A = np.array([0.5, 0.5]), np.array([[0.9, 0.1], [0.2, 0.8]])
GOOD_LL = np.zeros((4, 2))


@pytest.mark.parametrize(
    "args,match",
    [
        ((GOOD_PI, [[0.9, 0.2], [0.2, 0.8]], GOOD_LL), "transition_matrix must sum to 1"),
        (([0.6, 0.6], GOOD_A, GOOD_LL), "initial_probs must sum to 1"),
        (([1.5, -0.5], GOOD_A, GOOD_LL), "initial_probs has a negative probability"),
        ((GOOD_PI, [[1.1, -0.1], [0.2, 0.8]], GOOD_LL), "transition_matrix has a negative"),
        ((GOOD_PI, GOOD_A, np.zeros((4, 3))), "log_likes has 3 columns"),
        (([1.0 / 3] * 3, GOOD_A, GOOD_LL), "initial_probs has 3 entries"),
        ((GOOD_PI, np.ones((2, 3)) / 3, GOOD_LL), "transition_matrix must be square"),
        ((GOOD_PI, GOOD_A, np.zeros(4)), "log_likes must have 2 dimension"),
        ((GOOD_PI, GOOD_A, np.zeros((0, 2))), "log_likes has no frames"),
        ((GOOD_PI, GOOD_A, np.array([[0.0, np.nan]])), "log_likes contains NaN"),
        ((GOOD_PI, GOOD_A, np.array([[0.0, np.inf]])), r"log_likes contains \+inf"),
        ((GOOD_PI, GOOD_A, np.array([[0.0, 0.0], [-np.inf, -np.inf]])), "every state at frame 1"),
        ((GOOD_PI, [[np.nan, 1.0], [0.2, 0.8]], GOOD_LL), "transition_matrix contains NaN"),
    ],
)
def test_bad_inputs_raise_naming_the_argument(args, match):
    for func in (eg.forward_backward, eg.forward_pass, eg.viterbi, eg.sample_posterior):
        with pytest.raises(ValueError, match=match):
            func(*args)


def test_impossible_under_the_transition_structure():
    A = np.eye(2)
    ll = np.zeros((5, 2))
    ll[0, 1] = -np.inf  # must start in state 0 ...
    ll[3, 0] = -np.inf  # ... and be in state 1 at frame 3: no path
    for func in (eg.forward_backward, eg.viterbi, eg.sample_posterior):
        with pytest.raises(ValueError, match="impossible under transition_matrix.*frame 3"):
            func([0.5, 0.5], A, ll)
    ll0 = np.array([[0.0, -np.inf]])
    with pytest.raises(ValueError, match="impossible under initial_probs"):
        eg.forward_backward([0.0, 1.0], A, ll0)


def test_other_bad_arguments():
    with pytest.raises(TypeError, match="log_likes must be a numeric array"):
        eg.forward_backward(GOOD_PI, GOOD_A, [["a", "b"]])
    with pytest.raises(TypeError, match=r"log_likes\[1\] must be a numeric array"):
        eg.forward_backward(GOOD_PI, GOOD_A, [GOOD_LL, np.array([["a", "b"]])])
    with pytest.raises(ValueError, match="num_samples"):
        eg.sample_posterior(GOOD_PI, GOOD_A, GOOD_LL, num_samples=0)
    with pytest.raises(ValueError, match="mask must have shape"):
        eg.forward_backward(GOOD_PI, GOOD_A, GOOD_LL, mask=np.ones(3, bool))
    with pytest.raises(TypeError, match="mask must be boolean"):
        eg.forward_backward(GOOD_PI, GOOD_A, GOOD_LL, mask=np.full(4, 0.5))
    with pytest.raises(ValueError, match="one mask"):
        eg.forward_backward(GOOD_PI, GOOD_A, [GOOD_LL, GOOD_LL], mask=[None])
    with pytest.raises(ValueError, match="num_threads"):
        eg.forward_backward(GOOD_PI, GOOD_A, [GOOD_LL, GOOD_LL], num_threads=0)


def test_cpu_torch_tensors_are_accepted():
    torch = pytest.importorskip("torch")
    pi, A, ll = _problem()
    ref = eg.forward_backward(pi, A, ll)
    post = eg.forward_backward(torch.tensor(pi), torch.tensor(A), torch.tensor(ll))
    np.testing.assert_array_equal(post.expected_states, ref.expected_states)
