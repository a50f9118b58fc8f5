"""One EM step of ethogram equals one EM step of hmmlearn 0.3.3 from the same start.

With every prior switched off (maximum likelihood), both libraries must report the same
log-likelihood of the starting parameters and reach the same parameters after one E-step and
one M-step, to 1e-8 relative, for Gaussian (all four covariance types), Poisson and
categorical emissions, on a single sequence and on several sequences of different lengths.
"""

import numpy as np
import pytest

hmm = pytest.importorskip("hmmlearn.hmm")

from ethogram import HMM  # noqa: E402

RTOL = 1e-8


def _start(K, rng):
    pi = rng.dirichlet(np.ones(K))
    A = rng.dirichlet(np.ones(K) * 2, K) + 0.5 * np.eye(K)
    A /= A.sum(1, keepdims=True)
    return pi, A


def _random_covs(K, D, covariance_type, rng):
    if covariance_type == "full":
        B = rng.normal(size=(K, D, D))
        return np.einsum("kij,klj->kil", B, B) / D + 0.5 * np.eye(D)
    if covariance_type == "diag":
        return np.stack([np.diag(v) for v in rng.uniform(0.5, 2.0, (K, D))])
    if covariance_type == "spherical":
        return np.stack([v * np.eye(D) for v in rng.uniform(0.5, 2.0, K)])
    B = rng.normal(size=(D, D))
    return np.tile(B @ B.T / D + 0.5 * np.eye(D), (K, 1, 1))


def _hmmlearn_covars(covs, covariance_type):
    if covariance_type == "full":
        return covs
    if covariance_type == "diag":
        return np.stack([np.diag(c) for c in covs])
    if covariance_type == "spherical":
        return covs[:, 0, 0]
    return covs[0]


def _one_step_ours(model, data):
    result = model.fit(data, num_iters=1, init="params", tol=0.0)
    assert result.num_iters == 1
    return result.marginal_lls[0]


@pytest.mark.parametrize("lengths", [[600], [250, 400, 120]])
@pytest.mark.parametrize("covariance_type", ["full", "diag", "spherical", "tied"])
def test_gaussian_one_em_step_matches_hmmlearn(covariance_type, lengths):
    rng = np.random.default_rng(1)
    K, D = 3, 4
    pi, A = _start(K, rng)
    means = rng.normal(size=(K, D)) * 2
    covs = _random_covs(K, D, covariance_type, rng)
    X = rng.normal(size=(sum(lengths), D)) * 1.5 + rng.integers(0, K, sum(lengths))[:, None]

    ref = hmm.GaussianHMM(
        K,
        covariance_type=covariance_type,
        covars_prior=0.0,
        n_iter=1,
        tol=-np.inf,
        init_params="",
        params="stmc",
        implementation="scaling",
    )
    ref.startprob_, ref.transmat_, ref.means_ = pi, A, means
    ref.covars_ = _hmmlearn_covars(covs, covariance_type)
    ref.fit(X, lengths)

    ours = HMM(
        K,
        "gaussian",
        dict(data_dim=D, covariance_type=covariance_type, prior=None),
        initial_probs=pi,
        transition_matrix=A,
    )
    ours.observations.emission_means = means.copy()
    ours.observations.emission_covs = covs.copy()
    seqs = np.split(X, np.cumsum(lengths)[:-1])
    ll0 = _one_step_ours(ours, seqs if len(lengths) > 1 else X)

    np.testing.assert_allclose(ll0, ref.monitor_.history[0], rtol=RTOL)
    np.testing.assert_allclose(ours.initial_probs, ref.startprob_, rtol=RTOL, atol=1e-14)
    np.testing.assert_allclose(ours.transition_matrix, ref.transmat_, rtol=RTOL, atol=1e-14)
    np.testing.assert_allclose(ours.observations.emission_means, ref.means_, rtol=RTOL)
    np.testing.assert_allclose(
        ours.observations.emission_covs, _full_covs(ref, K, D), rtol=RTOL, atol=1e-14
    )


def _full_covs(ref, K, D):
    """hmmlearn's fitted covariances as (K, D, D) (its spherical ``covars_`` is not)."""
    if ref.covariance_type == "spherical":
        return ref._covars_[:, 0][:, None, None] * np.eye(D)
    if ref.covariance_type == "tied":
        return np.tile(ref._covars_, (K, 1, 1))
    return ref.covars_


@pytest.mark.parametrize("lengths", [[500], [300, 200, 90]])
def test_poisson_one_em_step_matches_hmmlearn(lengths):
    rng = np.random.default_rng(2)
    K, D = 3, 5
    pi, A = _start(K, rng)
    rates = rng.uniform(0.5, 8.0, (K, D))
    z = rng.integers(0, K, sum(lengths))
    X = rng.poisson(rates[z])

    ref = hmm.PoissonHMM(
        K, n_iter=1, tol=-np.inf, init_params="", params="stl", implementation="scaling"
    )
    ref.startprob_, ref.transmat_, ref.lambdas_ = pi, A, rates
    ref.fit(X, lengths)

    ours = HMM(K, "poisson", dict(data_dim=D, prior=None), initial_probs=pi, transition_matrix=A)
    ours.observations.emission_rates = rates.copy()
    seqs = np.split(X, np.cumsum(lengths)[:-1])
    ll0 = _one_step_ours(ours, seqs if len(lengths) > 1 else X)

    np.testing.assert_allclose(ll0, ref.monitor_.history[0], rtol=RTOL)
    np.testing.assert_allclose(ours.initial_probs, ref.startprob_, rtol=RTOL, atol=1e-14)
    np.testing.assert_allclose(ours.transition_matrix, ref.transmat_, rtol=RTOL, atol=1e-14)
    np.testing.assert_allclose(ours.observations.emission_rates, ref.lambdas_, rtol=RTOL)


@pytest.mark.parametrize("lengths", [[700], [100, 350, 250]])
def test_categorical_one_em_step_matches_hmmlearn(lengths):
    rng = np.random.default_rng(3)
    K, C = 3, 6
    pi, A = _start(K, rng)
    B = rng.dirichlet(np.ones(C), K)
    X = rng.integers(0, C, sum(lengths))

    ref = hmm.CategoricalHMM(
        K,
        n_features=C,
        n_iter=1,
        tol=-np.inf,
        init_params="",
        params="ste",
        implementation="scaling",
    )
    ref.startprob_, ref.transmat_, ref.emissionprob_ = pi, A, B
    ref.fit(X[:, None], lengths)

    ours = HMM(
        K, "categorical", dict(num_classes=C, prior=None), initial_probs=pi, transition_matrix=A
    )
    ours.observations.emission_probs = B.copy()
    seqs = np.split(X, np.cumsum(lengths)[:-1])
    ll0 = _one_step_ours(ours, seqs if len(lengths) > 1 else X)

    np.testing.assert_allclose(ll0, ref.monitor_.history[0], rtol=RTOL)
    np.testing.assert_allclose(ours.initial_probs, ref.startprob_, rtol=RTOL, atol=1e-14)
    np.testing.assert_allclose(ours.transition_matrix, ref.transmat_, rtol=RTOL, atol=1e-14)
    np.testing.assert_allclose(
        ours.observations.emission_probs, ref.emissionprob_, rtol=RTOL, atol=1e-14
    )
