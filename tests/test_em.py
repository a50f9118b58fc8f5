"""EM on the full HMM: the MAP objective never decreases, for every observation model and
covariance/noise type, with priors on and stickiness; restarts keep the best run; masks and
NaN frames are honoured; a batch of sequences gives the same statistics on 1 or 2 threads.
Convergence is judged by the improvement per scored frame: plain EM stops at the first
iteration that improves the objective by at most ``tol`` nats per scored frame and not before
(the accelerated rule is tested in tests/test_em_acceleration.py), and an
ARHMM on data offset by 1e6 (whose first frame adds a constant of about -1e12 to the
objective under the course's N(0, I) convention) runs the same iterations and reaches the
same labels as without the offset. A decrease raises an error that names the likely causes,
without suggesting fewer states to a one-state model.
"""

import numpy as np
import pytest

from ethogram import HMM, AutoregressiveHMM
from ethogram.fitting import e_step
from ethogram.fitting.em import EMDecreaseError, run_em
from ethogram.models.examples import course_spiral_arhmm

CASES = [
    ("gaussian", dict(data_dim=3, covariance_type="full")),
    ("gaussian", dict(data_dim=3, covariance_type="diag")),
    ("gaussian", dict(data_dim=3, covariance_type="tied")),
    ("gaussian", dict(data_dim=3, covariance_type="spherical")),
    ("poisson", dict(data_dim=3)),
    ("categorical", dict(num_classes=5)),
    ("autoregressive", dict(data_dim=2, num_lags=1, covariance_type="full")),
    ("autoregressive", dict(data_dim=2, num_lags=2, covariance_type="diag")),
    ("autoregressive", dict(data_dim=2, num_lags=3, covariance_type="tied", bias=False)),
    ("robust_autoregressive", dict(data_dim=2, num_lags=1)),
]


def _sample_truth(obs, kwargs, T, seed):
    """Data from a random model of the same family (so EM has structure to find)."""
    truth = HMM(3, obs, kwargs)
    rng = np.random.default_rng(seed)
    o = truth.observations
    if obs == "gaussian":
        o.emission_means = rng.normal(size=(3, kwargs["data_dim"])) * 3
        if kwargs["covariance_type"] == "tied":
            o.emission_covs = np.tile(np.eye(kwargs["data_dim"]), (3, 1, 1))
        else:
            o.emission_covs = np.stack([s * np.eye(kwargs["data_dim"]) for s in (0.5, 1.0, 2.0)])
    elif obs == "poisson":
        o.emission_rates = rng.uniform(0.5, 10, (3, kwargs["data_dim"]))
    elif obs == "categorical":
        o.emission_probs = rng.dirichlet(np.ones(kwargs["num_classes"]) * 0.5, 3)
    else:
        D, L = kwargs["data_dim"], kwargs["num_lags"]
        dyn = np.zeros((3, D, D * L))
        for k in range(3):
            th = 0.3 * (k + 1)
            dyn[k, :, :D] = 0.9 * np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
        o.emission_dynamics = dyn
        if kwargs.get("bias", True):
            o.emission_bias = rng.normal(size=(3, D))
        o.emission_covs = np.tile(0.05 * np.eye(D), (3, 1, 1))
    return truth.sample(T, seed=seed)


@pytest.mark.parametrize(
    "obs,kwargs", CASES, ids=[f"{o}-{'-'.join(map(str, k.values()))}" for o, k in CASES]
)
def test_em_objective_never_decreases(obs, kwargs):
    _, data = _sample_truth(obs, kwargs, 1500, seed=0)
    model = HMM(3, obs, kwargs, kappa=5.0, transition_alpha=1.5, initial_alpha=2.0)
    result = model.fit([data[:900], data[900:]], num_iters=25, tol=0.0, init="random", seed=1)
    obj = result.objectives
    assert len(obj) == result.num_iters + 1
    assert np.all(np.diff(obj) >= -1e-8 * np.abs(obj[:-1])), np.diff(obj).min()
    assert obj[-1] > obj[0]


def test_objective_is_marginal_ll_plus_log_prior():
    _, data = _sample_truth("gaussian", dict(data_dim=3, covariance_type="full"), 500, seed=1)
    model = HMM(3, "gaussian", dict(data_dim=3), kappa=10.0)
    result = model.fit(data, num_iters=5, tol=0.0, seed=0)
    assert result.objectives[-1] == pytest.approx(model.score(data) + model.log_prior(), rel=1e-10)
    assert result.marginal_lls[-1] == pytest.approx(model.score(data), rel=1e-10)


def test_decrease_raises_clear_error():
    """Corrupt the M-step so that it moves away from the optimum: EM must refuse to go on."""
    _, data = _sample_truth("gaussian", dict(data_dim=3, covariance_type="diag"), 500, seed=2)
    model = HMM(3, "gaussian", dict(data_dim=3, covariance_type="diag"))
    model.initialize(data, seed=0)
    original = model.observations.m_step

    def bad_m_step(stats):
        original(stats)
        model.observations.emission_means = model.observations.emission_means + 5.0

    model.observations.m_step = bad_m_step
    d, m, _ = model._prepare(data)
    with pytest.raises(EMDecreaseError, match="decreased"):
        run_em(model, d, m, num_iters=5, tol=0.0, progress=False)


def test_stops_on_tolerance_per_scored_frame_and_reports_convergence():
    _, data = _sample_truth("gaussian", dict(data_dim=3, covariance_type="full"), 1000, seed=3)
    mask = np.ones(1000, bool)
    mask[::4] = False  # 750 scored frames
    tol = 1e-4
    result = HMM(3, "gaussian", dict(data_dim=3)).fit(
        data, mask=mask, num_iters=500, tol=tol, seed=0, num_starts=1, accelerate=False
    )
    assert result.converged and result.num_iters < 500
    gains = np.diff(result.objectives)
    assert gains[-1] <= tol * 750  # the stopping step
    assert np.all(gains[:-1] > tol * 750)  # and not one step earlier
    short = HMM(3, "gaussian", dict(data_dim=3)).fit(data, num_iters=2, tol=0.0, seed=0)
    assert not short.converged and short.num_iters == 2


def test_large_offset_does_not_stop_an_arhmm_early():
    """The course's ARHMM scores its first frame under N(0, I): at an offset of 1e6 that puts
    about -1e12 into the objective, so a tolerance relative to the objective (1e-6 of it is
    1e6 nats) would call the first step converged. Per scored frame, EM goes on exactly as
    without the offset."""
    states, x = course_spiral_arhmm(5).sample(4000, seed=6)
    offset = 1e6
    plain = AutoregressiveHMM(5, 2)
    far = AutoregressiveHMM(5, 2)
    a = plain.fit(x, num_iters=100, seed=1)
    b = far.fit(x + offset, num_iters=100, seed=1)
    first_gain = b.objectives[1] - b.objectives[0]
    assert (
        0 < first_gain < 1e-6 * abs(b.objectives[0])
    )  # what a relative rule would have stopped on
    assert b.num_iters > 1 and b.num_iters == a.num_iters
    np.testing.assert_array_equal(far.predict(x + offset), plain.predict(x))
    # the objectives differ by the first frame's N(0, I) term only
    shift = -0.5 * (np.sum((x[0] + offset) ** 2) - np.sum(x[0] ** 2))
    np.testing.assert_allclose(b.objectives - a.objectives, shift, rtol=1e-12, atol=1e-2)


def test_decrease_error_names_causes_not_fewer_states_for_one_state():
    _, data = _sample_truth("gaussian", dict(data_dim=3, covariance_type="diag"), 500, seed=2)
    for K, fewer in ((1, False), (3, True)):
        model = HMM(K, "gaussian", dict(data_dim=3, covariance_type="diag"))
        model.initialize(data, seed=0)
        original = model.observations.m_step

        def bad_m_step(stats, model=model, original=original):
            original(stats)
            model.observations.emission_means = model.observations.emission_means + 5.0

        model.observations.m_step = bad_m_step
        d, m, _ = model._prepare(data)
        with pytest.raises(EMDecreaseError) as info:
            run_em(model, d, m, num_iters=5, tol=0.0, progress=False)
        msg = str(info.value)
        assert "per scored frame" in msg and "centre and scale" in msg and "prior" in msg
        assert ("fewer states" in msg) == fewer


def test_restarts_keep_the_best_and_are_reproducible():
    _, data = _sample_truth("gaussian", dict(data_dim=3, covariance_type="full"), 800, seed=4)
    model = HMM(3, "gaussian", dict(data_dim=3))
    result = model.fit(data, num_iters=20, num_restarts=4, init="random", seed=7)
    assert result.restart_objectives.shape == (4,)
    assert result.chosen_restart == int(np.argmax(result.restart_objectives))
    assert result.objectives[-1] == result.restart_objectives.max()
    assert model.score(data) + model.log_prior() == pytest.approx(
        result.restart_objectives.max(), rel=1e-10
    )
    again = HMM(3, "gaussian", dict(data_dim=3)).fit(
        data, num_iters=20, num_restarts=4, init="random", seed=7
    )
    np.testing.assert_array_equal(again.restart_objectives, result.restart_objectives)


def test_masks_and_nan_rows():
    _, data = _sample_truth("gaussian", dict(data_dim=3, covariance_type="full"), 600, seed=5)
    model = HMM(3, "gaussian", dict(data_dim=3))
    model.initialize(data, seed=0)
    mask = np.ones(600, bool)
    mask[100:150] = False
    with_nan = data.copy()
    with_nan[100:150] = np.nan
    a = model.score(data, mask=mask)
    b = model.score(with_nan)  # NaN rows are masked automatically
    assert a == pytest.approx(b, rel=1e-12)
    assert np.isfinite(b)
    # a masked frame contributes nothing to the M-step statistics
    d1, m1, _ = model._prepare(with_nan)
    d2, m2, _ = model._prepare(data, mask)
    s1, s2 = e_step(model, d1, m1), e_step(model, d2, m2)
    for key in s1.observations:
        np.testing.assert_allclose(
            s1.observations[key], s2.observations[key], rtol=1e-12, atol=1e-12
        )
    with pytest.raises(ValueError, match="NaN"):
        model.fit(with_nan, num_iters=1, mask_nan=False)
    result = model.fit(with_nan, num_iters=10, seed=0)
    assert np.all(np.isfinite(result.objectives))


def test_batch_statistics_do_not_depend_on_threads():
    _, data = _sample_truth(
        "autoregressive", dict(data_dim=2, num_lags=2, covariance_type="full"), 3000, seed=6
    )
    seqs = [data[:700], data[700:1900], data[1900:2300], data[2300:]]
    model = HMM(3, "autoregressive", dict(data_dim=2, num_lags=2))
    model.initialize(seqs, seed=0)
    d, m, _ = model._prepare(seqs)
    one = e_step(model, d, m, num_threads=1)
    two = e_step(model, d, m, num_threads=2)
    assert one.marginal_ll == two.marginal_ll
    np.testing.assert_array_equal(one.expected_transitions, two.expected_transitions)
    for key in one.observations:
        np.testing.assert_array_equal(one.observations[key], two.observations[key])


def test_sticky_prior_lengthens_dwell_times():
    _, data = _sample_truth("gaussian", dict(data_dim=3, covariance_type="full"), 1500, seed=8)
    plain = HMM(3, "gaussian", dict(data_dim=3))
    plain.fit(data, num_iters=30, seed=0)
    sticky = HMM(3, "gaussian", dict(data_dim=3), kappa=1e4)
    sticky.fit(data, num_iters=30, seed=0)
    assert np.diag(sticky.transition_matrix).mean() > np.diag(plain.transition_matrix).mean()


def test_fixed_transitions_stay_fixed():
    _, data = _sample_truth("poisson", dict(data_dim=3), 500, seed=9)
    A = np.full((3, 3), 1 / 3)
    model = HMM(
        3,
        "poisson",
        dict(data_dim=3),
        transition_matrix=A,
        learn_transitions=False,
        learn_initial=False,
    )
    model.fit(data, num_iters=5, seed=0)
    np.testing.assert_array_equal(model.transition_matrix, A)
    np.testing.assert_array_equal(model.initial_probs, np.full(3, 1 / 3))


@pytest.mark.parametrize("num_restarts", [1, 3])
def test_fit_posterior_is_that_of_the_fitted_parameters(num_restarts):
    """The fit's posterior (kept from its last E-step) equals a fresh forward-backward pass
    at the returned parameters, for one sequence and for a list."""
    _, data = _sample_truth(
        "autoregressive", dict(data_dim=2, num_lags=1, covariance_type="full"), 1200, seed=12
    )
    for given in (data, [data[:500], data[500:]]):
        model = HMM(3, "autoregressive", dict(data_dim=2))
        result = model.fit(given, num_iters=30, seed=2, num_restarts=num_restarts)
        fresh = model.posterior(given)
        got = result.posterior if isinstance(given, list) else [result.posterior]
        want = fresh if isinstance(given, list) else [fresh]
        assert len(got) == len(want)
        for g, w in zip(got, want):
            np.testing.assert_allclose(g.expected_states, w.expected_states, rtol=1e-12, atol=1e-14)
            np.testing.assert_allclose(
                g.expected_transitions, w.expected_transitions, rtol=1e-12, atol=1e-12
            )
            assert g.marginal_ll == pytest.approx(w.marginal_ll, rel=1e-13)
