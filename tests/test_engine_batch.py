"""Batches of ragged sequences with masks, threads, and the Markov-chain utilities.

A list of sequences of different lengths gives the same results as one call per sequence;
a masked frame is the same as a frame with zero log-likelihoods; results are bitwise
identical on 1 and 2 threads (argument, ``set_num_threads`` and ``ETHOGRAM_NUM_THREADS``).
The worksheet's stationary distribution and ``propagate`` are checked against exact answers.
"""

import numpy as np
import pytest

import ethogram as eg
from ethogram.inference import get_num_threads


@pytest.fixture(scope="module")
def batch():
    rng = np.random.default_rng(0)
    K = 5
    pi = rng.dirichlet(np.ones(K))
    A = rng.dirichlet(np.ones(K), K)
    lls = [rng.normal(size=(T, K)) * 3 for T in (1, 7, 300, 2000, 45)]
    masks = [None, np.array([True, False] * 3 + [True]), rng.random(300) > 0.2, None, np.zeros(45, bool)]
    return pi, A, lls, masks


def test_batch_equals_one_by_one(batch):
    pi, A, lls, masks = batch
    posts = eg.forward_backward(pi, A, lls, mask=masks)
    paths = eg.viterbi(pi, A, lls, mask=masks)
    fwd = eg.forward_pass(pi, A, lls, mask=masks)
    bwd = eg.backward_pass(A, lls, mask=masks)
    for i, (ll, m) in enumerate(zip(lls, masks)):
        one = eg.forward_backward(pi, A, ll, mask=m)
        np.testing.assert_array_equal(posts[i].expected_states, one.expected_states)
        assert posts[i].marginal_ll == one.marginal_ll
        np.testing.assert_array_equal(paths[i], eg.viterbi(pi, A, ll, mask=m))
        np.testing.assert_array_equal(fwd[i][0], eg.forward_pass(pi, A, ll, mask=m)[0])
        np.testing.assert_array_equal(bwd[i], eg.backward_pass(A, ll, mask=m))


def test_masked_frames_equal_zero_log_likes(batch):
    pi, A, lls, masks = batch
    ll, m = lls[2], masks[2]
    zeroed = ll.copy()
    zeroed[~m] = 0.0
    a = eg.forward_backward(pi, A, ll, mask=m)
    b = eg.forward_backward(pi, A, zeroed)
    np.testing.assert_array_equal(a.expected_states, b.expected_states)
    assert a.marginal_ll == b.marginal_ll
    # a fully masked sequence: posterior is the prior chain, marginal likelihood 0
    full = eg.forward_backward(pi, A, lls[4], mask=masks[4])
    assert full.marginal_ll == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(full.expected_states, eg.propagate(pi, A, 44, return_path=True), atol=1e-12)


def test_results_do_not_depend_on_threads(batch, monkeypatch):
    pi, A, lls, masks = batch
    one = eg.forward_backward(pi, A, lls, mask=masks, num_threads=1)
    two = eg.forward_backward(pi, A, lls, mask=masks, num_threads=2)
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a.expected_states, b.expected_states)
        np.testing.assert_array_equal(a.expected_transitions, b.expected_transitions)
        assert a.marginal_ll == b.marginal_ll
    s1 = eg.sample_posterior(pi, A, lls, 4, seed=3, mask=masks, num_threads=1)
    s2 = eg.sample_posterior(pi, A, lls, 4, seed=3, mask=masks, num_threads=2)
    for a, b in zip(s1, s2):
        np.testing.assert_array_equal(a, b)
    try:
        eg.set_num_threads(1)
        assert get_num_threads() == 1
        via_setting = eg.forward_backward(pi, A, lls, mask=masks)
        eg.set_num_threads(None)
        monkeypatch.setenv("ETHOGRAM_NUM_THREADS", "2")
        assert get_num_threads() == 2
        via_env = eg.forward_backward(pi, A, lls, mask=masks)
    finally:
        eg.set_num_threads(None)
    for a, b in zip(via_setting, via_env):
        np.testing.assert_array_equal(a.expected_states, b.expected_states)
    monkeypatch.setenv("ETHOGRAM_NUM_THREADS", "many")
    with pytest.raises(ValueError, match="ETHOGRAM_NUM_THREADS"):
        get_num_threads()
    with pytest.raises(ValueError, match="num_threads"):
        eg.set_num_threads(0)


def test_unpacking_gives_the_course_pair(batch):
    pi, A, lls, _ = batch
    post = eg.forward_backward(pi, A, lls[2])
    expected_states, marginal_ll = post
    assert expected_states is post.expected_states and marginal_ll == post.marginal_ll


def test_stationary_distribution_worksheet_and_random_chains():
    # the worksheet's Markov-chain exercise and its HMM chain (P(happy | sad) = 1/2)
    np.testing.assert_allclose(eg.stationary_distribution([[0.8, 0.2], [0.6, 0.4]]), [0.75, 0.25], atol=1e-12)
    np.testing.assert_allclose(eg.stationary_distribution([[0.8, 0.2], [0.5, 0.5]]), [5 / 7, 2 / 7], atol=1e-12)
    rng = np.random.default_rng(5)
    for K in (1, 3, 10):
        P = rng.dirichlet(np.ones(K), K)
        pi = eg.stationary_distribution(P)
        np.testing.assert_allclose(pi @ P, pi, atol=1e-12)
        assert pi.sum() == pytest.approx(1.0) and np.all(pi >= 0)
    # a periodic chain still has a unique stationary distribution
    np.testing.assert_allclose(eg.stationary_distribution([[0, 1], [1, 0]]), [0.5, 0.5])
    with pytest.raises(ValueError, match="reducible"):
        eg.stationary_distribution(np.eye(2))


def test_propagate_matches_matrix_powers():
    rng = np.random.default_rng(6)
    P = rng.dirichlet(np.ones(4), 4)
    p0 = rng.dirichlet(np.ones(4))
    np.testing.assert_allclose(eg.propagate(p0, P, 7), p0 @ np.linalg.matrix_power(P, 7), rtol=1e-12)
    path = eg.propagate(p0, P, 5, return_path=True)
    assert path.shape == (6, 4)
    np.testing.assert_array_equal(path[0], p0)
    np.testing.assert_allclose(eg.propagate([1, 0], [[0.8, 0.2], [0.6, 0.4]], 200), [0.75, 0.25], atol=1e-12)
    with pytest.raises(ValueError, match="num_steps"):
        eg.propagate(p0, P, -1)
    with pytest.raises(ValueError, match="distribution has 3 entries"):
        eg.propagate([0.5, 0.25, 0.25], P, 1)


def test_sample_states_follows_the_chain():
    P = np.array([[0.9, 0.1], [0.5, 0.5]])
    z = eg.sample_states([1.0, 0.0], P, 100_000, seed=0)
    assert z[0] == 0
    counts = np.zeros((2, 2))
    np.add.at(counts, (z[:-1], z[1:]), 1)
    empirical = counts / counts.sum(1, keepdims=True)
    np.testing.assert_allclose(empirical, P, atol=0.01)
