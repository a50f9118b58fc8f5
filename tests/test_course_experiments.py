"""The course's experiments, run through the course's own class and method names.

- The discrete-HMM worksheet (../shared/course/worksheet_discrete_hmm.md): Alice's chain has
  P(happy | happy) = 4/5 and P(happy | sad) = 1/2, so its transition matrix is
  [[0.8, 0.2], [0.5, 0.5]]; the joint probabilities of (sing, TV) with (happy, happy) and
  (happy, sad) are the worksheet's 0.04 and 0.035, the marginal is the sum of the four joints
  worked by hand (0.0975), and the chain's stationary distribution is (5/7, 2/7). The
  worksheet's separate Markov-chain exercise, A = [[0.8, 0.2], [0.6, 0.4]], converges to its
  answer (0.75, 0.25).
- Part 2: a Gaussian HMM with K = 5 means on the unit circle, fitted by EM with the course's
  fixed initial distribution and transitions (learn_initial=False, learn_transitions=False),
  recovers the state sequence (matched accuracy >= 0.9).
- Part 3: the spiral autoregressive HMM, fitted by EM with the course's fixed (true)
  transition matrix (best of 8 k-means restarts), recovers the states (matched accuracy >=
  0.95) and each state's fixed point (I - A_k)^-1 b_k to within 0.05.
"""

import numpy as np
import pytest

from ethogram import AutoregressiveHMM, CategoricalHMM, GaussianHMM, stationary_distribution
from ethogram.analysis import match_states
from ethogram.models.examples import course_gaussian_hmm, course_spiral_arhmm

# The worksheet's chain: states (happy, sad); observations (sing, walk, TV).
WORKSHEET_PI = np.array([0.5, 0.5])
WORKSHEET_A = np.array([[0.8, 0.2], [0.5, 0.5]])  # P(happy | happy) = 4/5, P(happy | sad) = 1/2
WORKSHEET_B = np.array([[0.5, 0.3, 0.2], [0.1, 0.2, 0.7]])
HAPPY, SAD = 0, 1
SING, WALK, TV = 0, 1, 2


def _worksheet_model():
    model = CategoricalHMM(
        2,
        3,
        initial_probs=WORKSHEET_PI,
        transition_matrix=WORKSHEET_A,
        learn_initial=False,
        learn_transitions=False,
    )
    model.emission_probs = WORKSHEET_B
    return model


def test_worksheet_joint_probabilities():
    model = _worksheet_model()
    x = np.array([SING, TV])
    assert np.exp(model.log_joint(np.array([HAPPY, HAPPY]), x)) == pytest.approx(0.04, abs=1e-12)
    assert np.exp(model.log_joint(np.array([HAPPY, SAD]), x)) == pytest.approx(0.035, abs=1e-12)


def test_worksheet_marginal_is_sum_of_joints():
    model = _worksheet_model()
    x = np.array([SING, TV])
    joints = [np.exp(model.log_joint(np.array(z), x)) for z in [(0, 0), (0, 1), (1, 0), (1, 1)]]
    # by hand: 1/2*4/5*5/10*2/10 + 1/2*1/5*5/10*7/10 + 1/2*1/2*1/10*2/10 + 1/2*1/2*1/10*7/10
    by_hand = [0.04, 0.035, 0.005, 0.0175]
    np.testing.assert_allclose(joints, by_hand, rtol=1e-12)
    assert np.exp(model.compute_marginal_ll(x)) == pytest.approx(0.0975, rel=1e-12)


def test_worksheet_hmm_chain_stationary_distribution():
    # pi_sad = P(sad | happy) / (P(sad | happy) + P(happy | sad)) = 0.2 / 0.7
    np.testing.assert_allclose(stationary_distribution(WORKSHEET_A), [5 / 7, 2 / 7], atol=1e-12)


def test_worksheet_markov_chain_exercise():
    """The worksheet's separate steady-state exercise, A = [[0.8, 0.2], [0.6, 0.4]]: the
    worksheet's answer (0.75, 0.25) and its s @ A^6 printout from s = (0, 1)."""
    A = np.array([[0.8, 0.2], [0.6, 0.4]])
    np.testing.assert_allclose(stationary_distribution(A), [0.75, 0.25], atol=1e-12)
    np.testing.assert_allclose(
        np.array([0.0, 1.0]) @ np.linalg.matrix_power(A, 6), [0.749952, 0.250048], atol=1e-12
    )


def test_course_gaussian_experiment():
    K, D, T = 5, 2, 2000
    truth = course_gaussian_hmm(K)
    np.testing.assert_allclose(
        truth.emission_means[1], [np.cos(2 * np.pi / 5), np.sin(2 * np.pi / 5)]
    )
    np.testing.assert_allclose(truth.emission_covs[0], 0.0625 * np.eye(2))
    states, data = truth.sample(T, seed=0)
    assert data.shape == (T, D) and states.shape == (T,)

    model = GaussianHMM(
        K, D, seed=1, learn_initial=False, learn_transitions=False
    )  # the course's setting
    result = model.fit(data, num_iters=50)
    lls, posterior = result
    objective = result.objectives
    assert np.all(np.diff(objective) >= -1e-8 * np.abs(objective[:-1]))
    acc, _ = match_states(states, np.argmax(posterior.expected_states, axis=1), K)
    assert acc >= 0.9


def test_course_gaussian_e_step_m_step_by_hand():
    """The course's loop: e_step, m_step, repeat; the MAP objective (marginal LL plus the
    weak default prior) never decreases."""
    K, D = 5, 2
    truth = course_gaussian_hmm(K)
    _, data = truth.sample(1000, seed=3)
    model = GaussianHMM(K, D, seed=4, learn_initial=False, learn_transitions=False)
    lls = []
    for _ in range(15):
        posterior = model.e_step(data)
        lls.append(posterior.marginal_ll + model.log_prior())
        model.m_step(data, posterior)
    assert np.all(np.diff(lls) >= -1e-8 * np.abs(lls[:-1]))
    assert lls[-1] > lls[0]


def test_course_spiral_arhmm():
    K, D, T = 5, 2, 10000
    truth = course_spiral_arhmm(K)
    dynamics, bias, P = truth.emission_dynamics, truth.emission_bias, truth.transition_matrix
    np.testing.assert_allclose(np.diag(P), 0.946, atol=5e-4)
    np.testing.assert_allclose(P[0, 1], 0.053, atol=5e-4)
    states, data = truth.sample(T, seed=0)

    model = AutoregressiveHMM(
        K, D, num_lags=1, transition_matrix=P, seed=1, learn_initial=False, learn_transitions=False
    )
    # ARHMM likelihoods have local optima: restarts (kept by objective) are part of the recipe
    lls, posterior = model.fit(data, num_iters=100, num_restarts=8, seed=0)
    acc, order = match_states(states, np.argmax(posterior.expected_states, axis=1), K)
    assert acc >= 0.95
    model.permute(order)
    eye = np.eye(D)
    for k in range(K):
        true_fp = np.linalg.solve(eye - dynamics[k], bias[k])
        fit_fp = np.linalg.solve(eye - model.emission_dynamics[k], model.emission_bias[k])
        assert np.linalg.norm(fit_fp - true_fp) < 0.05
