"""The course's classes learn the initial distribution and the transitions by default.

- On a classic data set with a published maximum-likelihood fit, the annual counts of major
  earthquakes 1900-2006 (Zucchini & MacDonald, "Hidden Markov Models for Time Series"; the
  example of hmmlearn's and dynamax's Poisson HMM docs), the course's ``PoissonHMM`` with
  maximum likelihood (``prior=None``) reaches the optimum found by hmmlearn 0.3.3 with 30
  random restarts (log p(x) = -341.8787 for 2 states, -328.5275 for 3), as ``HMM`` does;
  with the course's fixed transitions (``learn_transitions=False, learn_initial=False``) it
  stops more than 1 nat short.
- Every course class (Gaussian, autoregressive, categorical, Poisson) learns both parts by
  default and follows exactly the same EM path as the general ``HMM`` with the same
  observation model and seed; with both flags False the initial distribution and the
  transition matrix stay bit-for-bit at their given values, through ``fit`` and through the
  course's own ``e_step`` / ``m_step`` loop.
"""

import warnings

import numpy as np
import pytest

from ethogram import HMM, AutoregressiveHMM, CategoricalHMM, GaussianHMM, PoissonHMM

# magnitude >= 7 earthquakes per year, 1900-2006 (USGS), as in the textbook and hmmlearn's example
EARTHQUAKES = np.array(
    [
        13,
        14,
        8,
        10,
        16,
        26,
        32,
        27,
        18,
        32,
        36,
        24,
        22,
        23,
        22,
        18,
        25,
        21,
        21,
        14,
        8,
        11,
        14,
        23,
        18,
        17,
        19,
        20,
        22,
        19,
        13,
        26,
        13,
        14,
        22,
        24,
        21,
        22,
        26,
        21,
        23,
        24,
        27,
        41,
        31,
        27,
        35,
        26,
        28,
        36,
        39,
        21,
        17,
        22,
        17,
        19,
        15,
        34,
        10,
        15,
        22,
        18,
        15,
        20,
        15,
        22,
        19,
        16,
        30,
        27,
        29,
        23,
        20,
        16,
        21,
        21,
        25,
        16,
        18,
        15,
        18,
        14,
        10,
        15,
        8,
        15,
        6,
        11,
        8,
        7,
        18,
        16,
        13,
        12,
        13,
        20,
        15,
        16,
        12,
        18,
        15,
        16,
        13,
        15,
        16,
        11,
        11,
    ]
)
PUBLISHED = {2: -341.8787, 3: -328.5275}


def _hmmlearn_best(K: int) -> float:
    hl = pytest.importorskip("hmmlearn.hmm")
    X = EARTHQUAKES[:, None]
    best = -np.inf
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for r in range(30):
            best = max(
                best, hl.PoissonHMM(K, n_iter=3000, tol=1e-10, random_state=r).fit(X).score(X)
            )
    return best


@pytest.mark.parametrize("K", [2, 3])
def test_course_poisson_hmm_reaches_the_published_optimum(K):
    reference = _hmmlearn_best(K)
    assert reference == pytest.approx(PUBLISHED[K], abs=1e-4)
    x = EARTHQUAKES[:, None].astype(float)
    learned = PoissonHMM(K, 1, prior=None).fit(x, num_iters=3000, tol=1e-12, seed=0)
    general = HMM(K, "poisson", dict(data_dim=1, prior=None)).fit(
        x, num_iters=3000, tol=1e-12, seed=0
    )
    fixed = PoissonHMM(K, 1, prior=None, learn_initial=False, learn_transitions=False).fit(
        x, num_iters=3000, tol=1e-12, seed=0
    )
    assert learned.marginal_lls[-1] == pytest.approx(reference, abs=1e-4)
    assert general.marginal_lls[-1] == pytest.approx(reference, abs=1e-4)
    assert fixed.marginal_lls[-1] < reference - 1.0


def _course_and_general(which):
    rng = np.random.default_rng(11)
    if which == "gaussian":
        x = np.concatenate([rng.normal(m, 0.5, (150, 2)) for m in (0.0, 3.0, -3.0, 0.0)])
        return GaussianHMM(3, 2), HMM(3, "gaussian", dict(data_dim=2)), x
    if which == "autoregressive":
        x = np.cumsum(rng.normal(size=(600, 2)), axis=0) * 0.05 + np.repeat(
            rng.normal(size=(4, 2)), 150, axis=0
        )
        return (
            AutoregressiveHMM(3, 2),
            HMM(3, "autoregressive", dict(data_dim=2, first_frames="standard_normal")),
            x,
        )
    if which == "categorical":
        x = np.concatenate(
            [
                rng.choice(4, 150, p=p)
                for p in (
                    [0.7, 0.1, 0.1, 0.1],
                    [0.1, 0.1, 0.1, 0.7],
                    [0.25] * 4,
                    [0.7, 0.1, 0.1, 0.1],
                )
            ]
        )
        return CategoricalHMM(3, 4), HMM(3, "categorical", dict(num_classes=4)), x
    x = np.concatenate([rng.poisson(lam, (150, 2)) for lam in (1.0, 8.0, 3.0, 1.0)]).astype(float)
    return PoissonHMM(3, 2), HMM(3, "poisson", dict(data_dim=2)), x


@pytest.mark.parametrize("which", ["gaussian", "autoregressive", "categorical", "poisson"])
def test_course_classes_learn_by_default_like_hmm(which):
    course, general, x = _course_and_general(which)
    assert course.initial.learn and course.transitions.learn
    a = course.fit(x, num_iters=50, seed=5)
    b = general.fit(x, num_iters=50, seed=5)
    np.testing.assert_array_equal(a.objectives, b.objectives)
    np.testing.assert_array_equal(course.transition_matrix, general.transition_matrix)
    np.testing.assert_array_equal(course.initial_probs, general.initial_probs)
    K = course.num_states
    assert not np.allclose(course.transition_matrix, 0.9 * np.eye(K) + 0.1 / K)


@pytest.mark.parametrize("which", ["gaussian", "autoregressive", "categorical", "poisson"])
def test_fixed_flags_reproduce_the_course(which):
    course, _, x = _course_and_general(which)
    K = course.num_states
    P = np.full((K, K), 0.1 / (K - 1)) + (0.9 - 0.1 / (K - 1)) * np.eye(K)
    pi = np.arange(1.0, K + 1) / np.arange(1.0, K + 1).sum()
    fixed = type(course).__new__(type(course))
    args = dict(learn_initial=False, learn_transitions=False, initial_probs=pi, transition_matrix=P)
    if which == "categorical":
        fixed.__init__(K, 4, **args)
    else:
        fixed.__init__(K, 2, **args)
    fixed.fit(x, num_iters=20, seed=1)
    np.testing.assert_array_equal(fixed.transition_matrix, P)
    np.testing.assert_array_equal(fixed.initial_probs, pi)
    for _ in range(3):  # the course's own loop
        posterior = fixed.e_step(x)
        fixed.m_step(x, posterior)
    np.testing.assert_array_equal(fixed.transition_matrix, P)
    np.testing.assert_array_equal(fixed.initial_probs, pi)
    assert fixed.num_parameters() == HMM(K, fixed.observations).num_parameters() - (K - 1) - K * (
        K - 1
    )
