"""EM that reaches the optimum: SQUAREM, a stopping rule that sees a crawl, restarts that explore.

- SQUAREM's extrapolation (:mod:`ethogram.fitting.squarem`) lands exactly on the fixed
  point of a linear iteration, shortens a step whose point the model refuses (a negative
  probability) until it is accepted, and gives the same bits whatever order the parameter
  dicts were built in (a checkpoint reads them back sorted).
- The accelerated loop keeps the decrease check meaningful: an M-step corrupted from any
  iteration on still raises :class:`EMDecreaseError` (an extrapolation never hides it).
- The crawl: the synthetic analog of a 2-state AR(1) switching model with tied noise on a
  226-frame quarterly series (two regimes with intercepts 0.72 and -0.10, AR coefficients
  0.76 and 1.06, noise variance 0.48, staying probabilities 0.64 and 0.87, the Federal-funds
  fit of statsmodels' Markov-switching example). Plain EM with the default tolerance stops
  0.03 to 0.09 nats below the maximum because each of its slow steps gains less than the
  tolerance; the default (accelerated) fit ends within 1e-3 nats of plain EM run to
  ``tol=1e-12`` from the same start.
- Two optima: a 2-state AR(1) with full noise that switches fast (staying probabilities
  0.75 and 0.32, 521 frames, the shape of a weekly-returns fit). From the sticky start
  ``0.9 I + 0.1 / K`` EM settles in a sticky optimum (one staying probability above 0.95, both
  higher than at the better optimum, 2.8 and 19 nats below it); both optima are verified by
  long runs (``tol=1e-12``): the better from the planted parameters, the sticky one from the
  sticky start. A default fit (one restart) ends in the sticky one; three restarts, the
  second of which starts flat, end in the better one.
"""

import numpy as np
import pytest

from ethogram import HMM
from ethogram.fitting.em import EMDecreaseError, run_em
from ethogram.fitting.squarem import extrapolate, set_extrapolated, step_length


# ---------------------------------------------------------------------- the extrapolation
def test_squarem_lands_on_the_fixed_point_of_a_linear_iteration():
    rho, c = 0.97, np.array([2.0, -1.0])
    star = np.array([0.5, 0.25])
    p = [{"theta": star + rho**k * c} for k in range(3)]
    alpha = step_length(*p)
    assert alpha == pytest.approx(-1.0 / (1.0 - rho), rel=1e-9)
    np.testing.assert_allclose(extrapolate(*p, alpha)["theta"], star, atol=1e-12)
    # no change in the second step: nothing to extrapolate (alpha -1 gives theta_2)
    same = [{"theta": star.copy()} for _ in range(3)]
    assert step_length(*same) == -1.0


class _Probs:
    """A parameter that must stay a probability vector (as HMM.set_params refuses)."""

    def __init__(self):
        self.p = None

    def set_params(self, params):
        q = np.asarray(params["p"])
        if np.any(q < 0):
            raise ValueError("p has a negative probability")
        self.p = q


def test_an_infeasible_extrapolation_is_shortened_until_accepted():
    p0, p1, p2 = ({"p": np.array(v)} for v in ([0.5, 0.5], [0.2, 0.8], [0.05, 0.95]))
    full = step_length(p0, p1, p2)
    assert np.any(extrapolate(p0, p1, p2, full)["p"] < 0)  # the full step leaves the simplex
    model = _Probs()
    alpha = set_extrapolated(model, p0, p1, p2)
    assert alpha is not None and full < alpha < -1.0
    assert np.all(model.p >= 0) and model.p.sum() == pytest.approx(1.0)
    np.testing.assert_array_equal(model.p, extrapolate(p0, p1, p2, alpha)["p"])


class _OnlyEMSteps(_Probs):
    """Refuses every point but the plain EM step ``p2``."""

    def __init__(self, p2):
        super().__init__()
        self.p2 = p2

    def set_params(self, params):
        if not np.array_equal(params["p"], self.p2):
            raise ValueError("refused")
        super().set_params(params)


def test_nothing_feasible_leaves_the_plain_em_step():
    p0, p1, p2 = ({"p": np.array(v)} for v in ([0.9, 0.1], [0.5, 0.5], [0.3, 0.7]))
    model = _OnlyEMSteps(p2["p"])
    assert set_extrapolated(model, p0, p1, p2) is None
    np.testing.assert_array_equal(model.p, p2["p"])


def test_step_length_does_not_depend_on_dict_order():
    rng = np.random.default_rng(0)
    p = [{k: rng.normal(size=7) for k in "abcdef"} for _ in range(3)]
    rev = [dict(reversed(list(d.items()))) for d in p]
    assert step_length(*p) == step_length(*rev)


# ---------------------------------------------------------------------- the decrease check
def _gaussian_data():
    rng = np.random.default_rng(2)
    z = np.repeat(rng.integers(0, 3, 60), 10)
    return rng.normal(size=(600, 3)) + 3.0 * z[:, None]


@pytest.mark.parametrize("bad_from", [1, 2, 3, 4])
def test_a_corrupted_m_step_still_raises_under_acceleration(bad_from):
    data = _gaussian_data()
    model = HMM(3, "gaussian", dict(data_dim=3, covariance_type="diag"))
    model.initialize(data, seed=0)
    original, calls = model.observations.m_step, [0]

    def bad_m_step(stats):
        original(stats)
        calls[0] += 1
        if calls[0] >= bad_from:
            model.observations.emission_means = model.observations.emission_means + 5.0

    model.observations.m_step = bad_m_step
    d, m, _ = model._prepare(data)
    with pytest.raises(EMDecreaseError, match="decreased"):
        run_em(model, d, m, num_iters=20, tol=0.0, progress=False, accelerate=True)


def test_accelerated_history_is_monotone_and_counts_rejected_points():
    data = _gaussian_data()
    model = HMM(3, "gaussian", dict(data_dim=3))
    model.initialize(data, seed=1)
    d, m, _ = model._prepare(data)
    run = run_em(model, d, m, num_iters=40, tol=0.0, progress=False, accelerate=True)
    obj = np.asarray(run.objectives)
    assert len(obj) == run.num_iters + 1
    assert np.all(np.diff(obj) >= -1e-8 * np.abs(obj[:-1]))
    assert run.num_e_steps >= len(obj)  # one per entry, plus one per rejected extrapolation


# ---------------------------------------------------------------------- the crawl
def _switching_ar(P, dynamics, bias, covs, noise):
    m = HMM(2, "autoregressive", dict(data_dim=1, num_lags=1, covariance_type=noise))
    m.transition_matrix = np.asarray(P)
    m.initial_probs = np.array([0.5, 0.5])
    m.observations.emission_dynamics = np.reshape(dynamics, (2, 1, 1))
    m.observations.emission_bias = np.reshape(bias, (2, 1))
    m.observations.emission_covs = np.reshape(covs, (2, 1, 1))
    return m


def _rates_series(seed):
    truth = _switching_ar(
        [[0.64, 0.36], [0.13, 0.87]], [0.76, 1.06], [0.72, -0.10], [0.48, 0.48], "tied"
    )
    return truth.sample(227, seed=seed)[1] + 3.0  # 226 scored frames


def _tied_ar():
    return HMM(2, "autoregressive", dict(data_dim=1, num_lags=1, covariance_type="tied"))


@pytest.mark.parametrize("seed", [6, 7, 18])
def test_a_crawl_is_followed_to_the_optimum(seed):
    x = _rates_series(seed)
    exact = _tied_ar().fit(x, seed=0, tol=1e-12, num_iters=20000, accelerate=False, posterior=False)
    assert exact.converged
    plain = _tied_ar().fit(x, seed=0, accelerate=False, posterior=False)
    assert exact.objectives[-1] - plain.objectives[-1] > 0.03  # the crawl stops plain EM short
    fast = _tied_ar().fit(x, seed=0, posterior=False)
    assert fast.converged
    assert abs(exact.objectives[-1] - fast.objectives[-1]) < 1e-3
    assert fast.num_iters < exact.num_iters / 3


# ---------------------------------------------------------------------- two optima
FAST_SWITCHING = {
    "ar-dynamics": ([-0.28, -0.62], [0.43, 0.7], [0.31, 0.52], 9),
    "noise-levels": ([0.89, 0.14], [0.08, -1.43], [0.87, 0.46], 20),
}


def _full_ar():
    return HMM(2, "autoregressive", dict(data_dim=1, num_lags=1, covariance_type="full"))


def _polish(model, x):
    """Objective and staying probabilities of the optimum whose basin ``model`` is in."""
    res = model.fit(x, init="params", tol=1e-12, num_iters=20000, posterior=False)
    assert res.converged
    return res.objectives[-1], np.diag(model.transition_matrix)


@pytest.mark.parametrize("case", sorted(FAST_SWITCHING))
def test_restarts_leave_the_sticky_optimum(case):
    dynamics, bias, scale, seed = FAST_SWITCHING[case]
    truth = _switching_ar([[0.75, 0.25], [0.68, 0.32]], dynamics, bias, scale, "full")
    x = truth.sample(521, seed=seed)[1]
    best, best_stay = _polish(truth, x)  # the fast-switching optimum, from the planted parameters
    sticky_model = _full_ar()
    sticky_model.fit(x, seed=0, num_starts=1, posterior=False)
    sticky, sticky_stay = _polish(sticky_model, x)
    assert best - sticky > 2.0
    assert best_stay.max() < 0.9 and best_stay.min() < 0.4
    assert sticky_stay.max() > 0.95 and sticky_stay.sum() > best_stay.sum() + 0.5

    one = _full_ar()
    one.fit(x, seed=0, posterior=False)  # the default: one restart, from the sticky start
    assert _polish(one, x)[0] == pytest.approx(sticky, abs=1e-6)
    three = _full_ar()
    res = three.fit(x, seed=0, num_restarts=3, posterior=False)
    assert res.chosen_restart > 0
    assert res.objectives[-1] > best - 0.05
    assert _polish(three, x)[0] == pytest.approx(best, abs=1e-6)
