"""The autoregressive observation model on the course's spiral (STATS305C homework 7: five
states rotating around fixed points on a circle): parameters recovered from the true states of
1e5 frames, EM recovering the states, and every initialisation giving finite, well-posed
parameters. The model's other checks are in tests/test_obs_autoregressive.py."""

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

from ethogram.models.observations import get_observation_class
from test_obs_autoregressive import RNG, regressors


def spiral_truth():
    K, D = 5, 2
    th = -np.pi / 25
    R = np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
    m = get_observation_class("autoregressive")(K, data_dim=D)
    m.emission_dynamics = np.tile(0.8 * R, (K, 1, 1))
    ang = 2 * np.pi * np.arange(K) / K
    m.emission_bias = np.column_stack([np.cos(ang), np.sin(ang)])
    m.emission_covs = np.tile(0.001 * np.eye(D), (K, 1, 1))
    return m


SPIRAL_P = np.array([4.0**10, 3.0**10, 2.0**10, 1.0, 0.0]) / (4.0**10 + 3.0**10 + 2.0**10 + 1.0)


def spiral_states(T, seed):
    """State path of the cyclic chain ``P[k, (k + j) % 5] = p_j``: offsets are i.i.d. draws."""
    return np.cumsum(RNG(seed).choice(5, size=T, p=SPIRAL_P)) % 5


def fixed_points(m):
    return np.stack(
        [
            np.linalg.solve(np.eye(m.data_dim) - m.emission_dynamics[k], m.emission_bias[k])
            for k in range(m.num_states)
        ]
    )


def test_course_spiral_parameters_recovered_from_true_states():
    truth = spiral_truth()
    z = spiral_states(100000, seed=0)
    x = truth.sample(z, RNG(1))
    fit = get_observation_class("autoregressive")(5, data_dim=2)
    fit.m_step(fit.sufficient_stats(x, np.eye(5)[z]))
    U = regressors(x, 1, True)
    for k in range(5):
        rows = U[z[1:] == k]
        cov_W = np.kron(
            truth.emission_covs[k], np.linalg.inv(rows.T @ rows)
        )  # OLS covariance of vec(W)
        err = np.hstack([fit.emission_dynamics[k], fit.emission_bias[k][:, None]]) - np.hstack(
            [truth.emission_dynamics[k], truth.emission_bias[k][:, None]]
        )
        assert np.max(np.abs(err.ravel() / np.sqrt(np.diag(cov_W)))) < 5  # within 5 standard errors
        n = rows.shape[0]
        np.testing.assert_allclose(
            fit.emission_covs[k], truth.emission_covs[k], atol=6 * np.sqrt(2 / n) * 1e-3
        )
    assert np.abs(fixed_points(fit) - fixed_points(truth)).max() < 0.05
    assert np.abs(fit.emission_dynamics - truth.emission_dynamics).max() < 0.005


def test_course_spiral_em_recovers_states():
    from ethogram import HMM

    truth = spiral_truth()
    z = spiral_states(10000, seed=2)
    x = truth.sample(z, RNG(3))
    P = np.zeros((5, 5))
    for k in range(5):
        for j in range(5):
            P[k, (k + j) % 5] = SPIRAL_P[j]
    model = HMM(5, "autoregressive", dict(data_dim=2), transition_matrix=P, learn_transitions=False)
    result = model.fit(x, num_iters=100, num_restarts=2, seed=0)
    obj = result.objectives
    assert np.all(np.diff(obj) >= -1e-8 * np.abs(obj[:-1]))
    zhat = model.predict(x)
    C = np.zeros((5, 5))
    np.add.at(C, (z, zhat), 1)
    rows, cols = linear_sum_assignment(-C)
    assert C[rows, cols].sum() / len(z) >= 0.95
    model.observations.permute(cols)  # new state i is the fitted state matched to true state i
    assert np.abs(fixed_points(model.observations) - fixed_points(truth)).max() < 0.05


@pytest.mark.parametrize("method", ["kmeans", "random"])
def test_initialize_gives_finite_well_posed_parameters(method):
    x = spiral_truth().sample(spiral_states(3000, seed=4), RNG(5))
    mask = np.ones(3000, bool)
    mask[100:110] = False
    x[100:110] = np.nan
    m = get_observation_class("autoregressive")(5, data_dim=2, num_lags=2)
    eff = m.effective_mask(x, mask)
    m.initialize([x[:1500], x[1500:]], [eff[:1500], eff[1500:]], RNG(6), method)
    assert all(np.isfinite(v).all() for v in m.get_params().values())
    assert (np.linalg.eigvalsh(m.emission_covs) > 0).all()
    assert np.isfinite(m.log_likelihoods(x, eff)).all()
    with pytest.raises(ValueError, match="method"):
        m.initialize([x], [eff], RNG(0), "spectral")
