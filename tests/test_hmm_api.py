"""The full face of the HMM: predict, score, posterior, sample, permute, parameter counts,
AIC/BIC, one array or a list of arrays, and clear errors for bad arguments."""

import numpy as np
import pytest

from ethogram import HMM, GaussianHMM, forward_backward, viterbi


@pytest.fixture(scope="module")
def fitted():
    truth = GaussianHMM(3, 2)
    truth.emission_means = np.array([[0.0, 0.0], [3.0, 0.0], [0.0, 3.0]])
    truth.emission_covs = np.tile(0.3 * np.eye(2), (3, 1, 1))
    states, data = truth.sample(1200, seed=0)
    model = HMM(3, "gaussian", dict(data_dim=2))
    model.fit(data, num_iters=30, seed=0)
    return model, states, data


def test_fit_result_unpacks_to_course_pair(fitted):
    model, _, data = fitted
    result = HMM(3, "gaussian", dict(data_dim=2)).fit(data, num_iters=3, tol=0.0, seed=0)
    lls, posterior = result
    np.testing.assert_array_equal(lls, result.marginal_lls)
    assert posterior.expected_states.shape == (1200, 3)
    assert result.lls is result.marginal_lls


def test_predict_viterbi_and_marginal(fitted):
    model, states, data = fitted
    ll = model.log_likelihoods(data)
    np.testing.assert_array_equal(
        model.predict(data), viterbi(model.initial_probs, model.transition_matrix, ll)
    )
    post = forward_backward(model.initial_probs, model.transition_matrix, ll)
    np.testing.assert_array_equal(
        model.predict(data, method="marginal"), post.expected_states.argmax(1)
    )
    with pytest.raises(ValueError, match="method"):
        model.predict(data, method="mode")


def test_score_total_and_per_frame(fitted):
    model, _, data = fitted
    total = model.score(data)
    frames = model.score(data, per_frame=True)
    assert frames.shape == (1200,)
    assert frames.sum() == pytest.approx(total, rel=1e-12)
    assert total == pytest.approx(model.posterior(data).marginal_ll, rel=1e-12)


def test_list_input_matches_separate_calls(fitted):
    model, _, data = fitted
    parts = [data[:500], data[500:]]
    assert model.score(parts) == pytest.approx(
        model.score(parts[0]) + model.score(parts[1]), rel=1e-12
    )
    preds = model.predict(parts)
    np.testing.assert_array_equal(preds[1], model.predict(parts[1]))
    posts = model.posterior(parts)
    np.testing.assert_allclose(posts[0].expected_states, model.posterior(parts[0]).expected_states)


def test_permute_relabels_consistently(fitted):
    model, _, data = fitted
    before_score = model.score(data)
    before_pred = model.predict(data)
    clone = HMM(3, "gaussian", dict(data_dim=2))
    clone.set_params(model.get_params())
    order = np.array([2, 0, 1])
    clone.permute(order)
    assert clone.score(data) == pytest.approx(before_score, rel=1e-12)
    inverse = np.argsort(order)
    np.testing.assert_array_equal(clone.predict(data), inverse[before_pred])
    np.testing.assert_allclose(
        clone.observations.emission_means, model.observations.emission_means[order]
    )
    with pytest.raises(ValueError, match="permutation"):
        clone.permute([0, 0, 1])


def test_parameter_counts_aic_bic(fitted):
    model, _, data = fitted
    K, D = 3, 2
    expected = (K - 1) + K * (K - 1) + K * D + K * D * (D + 1) // 2
    assert model.num_parameters() == expected
    ll = model.score(data)
    assert model.aic(data) == pytest.approx(-2 * ll + 2 * expected)
    assert model.bic(data) == pytest.approx(-2 * ll + expected * np.log(1200))
    fixed = HMM(3, "gaussian", dict(data_dim=2), learn_transitions=False, learn_initial=False)
    assert fixed.num_parameters() == K * D + K * D * (D + 1) // 2


def test_sample_shapes_and_reproducibility(fitted):
    model, _, _ = fitted
    s1, x1 = model.sample(300, seed=5)
    s2, x2 = model.sample(300, seed=5)
    assert s1.shape == (300,) and x1.shape == (300, 2)
    np.testing.assert_array_equal(s1, s2)
    np.testing.assert_array_equal(x1, x2)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(num_iters=-1), "num_iters"),
        (dict(num_restarts=0), "num_restarts"),
        (dict(tol=float("nan")), "tol"),
        (dict(init="spectral"), "init"),
        (dict(init="params", num_restarts=2), "num_restarts"),
    ],
)
def test_fit_argument_errors(fitted, kwargs, match):
    _, _, data = fitted
    with pytest.raises(ValueError, match=match):
        HMM(3, "gaussian", dict(data_dim=2)).fit(data, **kwargs)


def test_constructor_errors():
    with pytest.raises(ValueError, match="num_states"):
        HMM(0)
    with pytest.raises(ValueError, match="unknown observation model"):
        HMM(3, "laplace")
    with pytest.raises(ValueError, match="kappa"):
        HMM(3, "gaussian", dict(data_dim=2), kappa=-1)
    with pytest.raises(ValueError, match="transition_alpha"):
        HMM(3, "gaussian", dict(data_dim=2), transition_alpha=0.5)
    with pytest.raises(ValueError, match="transition_matrix"):
        HMM(3, "gaussian", dict(data_dim=2), transition_matrix=np.ones((3, 3)))


def test_mask_errors(fitted):
    model, _, data = fitted
    with pytest.raises(ValueError, match="mask"):
        model.score(data, mask=np.ones(10, bool))
    with pytest.raises(ValueError, match="mask must be a list"):
        model.score([data[:10], data[10:20]], mask=[np.ones(10, bool)])


def test_progress_bar_shows_objective(fitted, capsys, monkeypatch):
    import io
    import sys

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    _, _, data = fitted
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)  # on a terminal: tqdm's bar
    HMM(3, "gaussian", dict(data_dim=2)).fit(data, num_iters=3, tol=0.0, seed=0, progress=True)
    assert "EM" in terminal.getvalue() and "objective=" in terminal.getvalue()
    monkeypatch.undo()
    capsys.readouterr()
    HMM(3, "gaussian", dict(data_dim=2)).fit(data, num_iters=3, tol=0.0, seed=0, progress=False)
    assert "objective=" not in capsys.readouterr().err
