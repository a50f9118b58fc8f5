"""Markov chain utilities: ``stationary_distribution``, ``propagate`` and ``sample_states``.

The stationary distribution of the worksheet's Markov-chain exercise [[0.8, 0.2], [0.6, 0.4]] is
(0.75, 0.25), and that of the worksheet's HMM chain (Alice: P(happy | happy) = 4/5, P(happy | sad) =
1/2, i.e. [[0.8, 0.2], [0.5, 0.5]]) is (5/7, 2/7); random ergodic chains (Dirichlet rows, K from 2
to 40, also sparse ones) give a probability vector with pi P = pi to 1e-12; chains with a unique
closed class but transient states, and periodic chains, give their unique answer; reducible chains
with several closed classes (so several stationary distributions) raise ValueError. ``propagate``
must equal ``p @ matrix_power(P, n)`` and, with ``return_path``, return shape (num_steps + 1, K)
starting at ``p``; ``sample_states`` must follow the chain (only allowed transitions, empirical
transition frequencies within binomial error of P, reproducible with a seed). Bad arguments raise
ValueError naming the argument.
"""

import numpy as np
import pytest

import ethogram as eg


def _ergodic(K, seed, sparse=False):
    rng = np.random.default_rng(seed)
    P = rng.dirichlet(np.ones(K), size=K)
    if sparse:  # zeros everywhere except a cycle 0 -> 1 -> ... -> K-1 -> 0 and the diagonal
        keep = np.eye(K, dtype=bool) | np.roll(np.eye(K, dtype=bool), 1, axis=1)
        P[(rng.random((K, K)) < 0.6) & ~keep] = 0.0
        P /= P.sum(axis=1, keepdims=True)
    return P


# ----------------------------------------------------------------------------- stationary


def test_worksheet_chains():
    pi = eg.stationary_distribution([[0.8, 0.2], [0.6, 0.4]])  # the Markov-chain exercise
    assert pi.shape == (2,)
    np.testing.assert_allclose(pi, [0.75, 0.25], rtol=1e-12, atol=0)
    hmm_chain = eg.stationary_distribution([[0.8, 0.2], [0.5, 0.5]])  # Alice's HMM
    np.testing.assert_allclose(hmm_chain, [5 / 7, 2 / 7], rtol=1e-12, atol=0)


@pytest.mark.parametrize("K", [2, 3, 5, 10, 40])
@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("sparse", [False, True])
def test_random_ergodic_chains(K, seed, sparse):
    P = _ergodic(K, seed, sparse)
    if sparse and K > 3:
        assert (P == 0).any()
    pi = eg.stationary_distribution(P)
    assert pi.shape == (K,)
    assert np.all(pi > 0)  # irreducible: every state has positive stationary mass
    np.testing.assert_allclose(pi.sum(), 1.0, rtol=1e-12)
    np.testing.assert_allclose(pi @ P, pi, rtol=1e-12, atol=1e-15)
    # the chain forgets its start: propagating any distribution far enough reaches pi
    # (the sparse chains have self-loops, so they are aperiodic)
    start = np.zeros(K)
    start[0] = 1.0
    np.testing.assert_allclose(eg.propagate(start, P, 5000), pi, rtol=1e-9, atol=1e-12)


def test_known_three_state_chain():
    # detailed balance: birth-death chain with pi proportional to (1, 2, 4)
    P = np.array([[0.6, 0.4, 0.0], [0.2, 0.4, 0.4], [0.0, 0.2, 0.8]])
    np.testing.assert_allclose(eg.stationary_distribution(P), np.array([1, 2, 4]) / 7, rtol=1e-12)


def test_periodic_chain_has_a_unique_stationary_distribution():
    P = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    np.testing.assert_allclose(eg.stationary_distribution(P), np.full(3, 1 / 3), rtol=1e-12)
    np.testing.assert_allclose(
        eg.stationary_distribution([[0.0, 1.0], [1.0, 0.0]]), [0.5, 0.5], rtol=1e-12
    )


def test_transient_states_get_zero_mass():
    """One closed class {1, 2} plus a transient state 0: the stationary law is unique."""
    P = np.array([[0.5, 0.5, 0.0], [0.0, 0.3, 0.7], [0.0, 0.6, 0.4]])
    pi = eg.stationary_distribution(P)
    assert pi[0] == 0.0
    np.testing.assert_allclose(pi, [0.0, 6 / 13, 7 / 13], rtol=1e-12, atol=0)
    np.testing.assert_allclose(pi @ P, pi, rtol=1e-12, atol=1e-15)


def test_single_state():
    np.testing.assert_array_equal(eg.stationary_distribution([[1.0]]), [1.0])


@pytest.mark.parametrize(
    "P",
    [
        np.eye(2),
        np.eye(4),
        np.array(
            [[0.5, 0.5, 0.0, 0.0], [0.5, 0.5, 0.0, 0.0], [0.0, 0.0, 0.1, 0.9], [0.0, 0.0, 0.9, 0.1]]
        ),
        # two closed classes {0} and {2}, reachable from the transient state 1
        np.array([[1.0, 0.0, 0.0], [0.3, 0.4, 0.3], [0.0, 0.0, 1.0]]),
        # block-diagonal random chain
        np.block([[_ergodic(3, 5), np.zeros((3, 2))], [np.zeros((2, 3)), _ergodic(2, 6)]]),
    ],
    ids=["identity2", "identity4", "two-blocks", "two-absorbing", "random-blocks"],
)
def test_reducible_chains_raise(P):
    with pytest.raises(
        ValueError, match=r"independent stationary distributions \(the chain is reducible\)"
    ):
        eg.stationary_distribution(P)


@pytest.mark.parametrize(
    "P, exc, match",
    [
        ([[0.8, 0.3], [0.6, 0.4]], ValueError, r"transition_matrix must sum to 1"),
        ([[1.2, -0.2], [0.6, 0.4]], ValueError, r"transition_matrix has a negative probability"),
        ([[0.5, 0.5]], ValueError, r"transition_matrix must be square"),
        ([0.5, 0.5], ValueError, r"transition_matrix must have 2 dimension"),
        ([["a", "b"], ["c", "d"]], TypeError, r"transition_matrix must be a numeric array"),
    ],
)
def test_stationary_bad_input(P, exc, match):
    with pytest.raises(exc, match=match):
        eg.stationary_distribution(P)


# ----------------------------------------------------------------------------- propagate


@pytest.mark.parametrize("K", [1, 2, 5, 9])
@pytest.mark.parametrize("num_steps", [0, 1, 2, 7, 50])
def test_propagate_matches_matrix_powers(K, num_steps):
    rng = np.random.default_rng(K * 100 + num_steps)
    P = _ergodic(K, K + num_steps, sparse=True)
    p = rng.dirichlet(np.ones(K))
    out = eg.propagate(p, P, num_steps)
    assert out.shape == (K,)
    np.testing.assert_allclose(
        out, p @ np.linalg.matrix_power(P, num_steps), rtol=1e-12, atol=1e-15
    )

    path = eg.propagate(p, P, num_steps, return_path=True)
    assert path.shape == (num_steps + 1, K)
    np.testing.assert_array_equal(path[0], p)
    np.testing.assert_array_equal(path[-1], out)
    for s in range(num_steps + 1):
        np.testing.assert_allclose(
            path[s], p @ np.linalg.matrix_power(P, s), rtol=1e-12, atol=1e-15
        )
    np.testing.assert_allclose(path.sum(axis=1), 1.0, rtol=1e-12)


def test_propagate_stationary_is_a_fixed_point():
    P = _ergodic(6, 3)
    pi = eg.stationary_distribution(P)
    np.testing.assert_allclose(
        eg.propagate(pi, P, 100, return_path=True), np.tile(pi, (101, 1)), rtol=1e-12
    )


def test_propagate_periodic_chain():
    P = np.array([[0.0, 1.0], [1.0, 0.0]])
    path = eg.propagate([1.0, 0.0], P, 5, return_path=True)
    np.testing.assert_array_equal(path, [[1, 0], [0, 1], [1, 0], [0, 1], [1, 0], [0, 1]])


def test_propagate_does_not_modify_its_inputs():
    P = _ergodic(3, 1)
    p = np.array([0.2, 0.3, 0.5])
    P0, p0 = P.copy(), p.copy()
    eg.propagate(p, P, 10, return_path=True)
    assert np.array_equal(P, P0) and np.array_equal(p, p0)


@pytest.mark.parametrize(
    "args, match",
    [
        (([0.5, 0.5], [[0.9, 0.1], [0.2, 0.8]], -1), r"num_steps must be a non-negative integer"),
        (([0.5, 0.5], [[0.9, 0.1], [0.2, 0.8]], 1.5), r"num_steps must be a non-negative integer"),
        (([0.5, 0.5], [[0.9, 0.1], [0.2, 0.8]], True), r"num_steps must be a non-negative integer"),
        (
            ([0.2, 0.3, 0.5], [[0.9, 0.1], [0.2, 0.8]], 3),
            r"distribution has 3 entries but transition_matrix has 2 states",
        ),
        (([0.5, 0.6], [[0.9, 0.1], [0.2, 0.8]], 3), r"entries of distribution must sum to 1"),
        (([1.5, -0.5], [[0.9, 0.1], [0.2, 0.8]], 3), r"distribution has a negative probability"),
        (([0.5, 0.5], [[0.9, 0.2], [0.2, 0.8]], 3), r"transition_matrix must sum to 1"),
    ],
)
def test_propagate_bad_input(args, match):
    with pytest.raises(ValueError, match=match):
        eg.propagate(*args)


# ----------------------------------------------------------------------------- sample_states


def test_sample_states_follows_the_chain():
    P = np.array([[0.7, 0.3, 0.0], [0.1, 0.6, 0.3], [0.5, 0.0, 0.5]])
    T = 200_000
    z = eg.sample_states([1.0, 0.0, 0.0], P, T, seed=0)
    assert z.shape == (T,) and z[0] == 0
    assert np.all(P[z[:-1], z[1:]] > 0)
    counts = np.zeros((3, 3))
    np.add.at(counts, (z[:-1], z[1:]), 1)
    n = counts.sum(axis=1, keepdims=True)
    # each row of counts is Multinomial(n_i, P[i]): every cell within 5 binomial sd
    assert np.all(np.abs(counts - n * P) <= 5 * np.sqrt(n * P * (1 - P)))


def test_sample_states_reproducible_and_first_state():
    P = _ergodic(4, 2)
    a = eg.sample_states([0.25] * 4, P, 100, seed=5)
    b = eg.sample_states([0.25] * 4, P, 100, seed=np.random.default_rng(5))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, eg.sample_states([0.25] * 4, P, 100, seed=6))
    firsts = np.array([eg.sample_states([0.0, 0.0, 1.0, 0.0], P, 1, seed=s)[0] for s in range(20)])
    assert np.all(firsts == 2)


@pytest.mark.parametrize("T", [0, -3, 2.5, True])
def test_sample_states_bad_length(T):
    with pytest.raises(ValueError, match=r"num_timesteps must be a positive integer"):
        eg.sample_states([0.5, 0.5], [[0.9, 0.1], [0.2, 0.8]], T)
