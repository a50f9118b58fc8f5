"""The default fit finds the answer on the course's experiments, every time.

As a new user runs them: for seeds s = 0..11, 10,000 frames sampled with seed s from the
course's spiral ARHMM and from its ring of five Gaussians, fitted with
``AutoregressiveHMM(5, 2).fit(data, num_iters=100, seed=s)`` and
``GaussianHMM(5, 2).fit(...)``: the posterior's most likely states match the sampled truth on
at least 95% of the frames for all 12 seeds of both (a single k-means start fails on about 1
seed in 15 of the spiral; bench/bench_default_fit.py), and wherever a single start fails
on seeds 0..47 the default succeeds. And the
short starts behave as documented: the kept start has the highest starting objective of all
starts (each recomputed independently from its own initialisation), its history continues
without a repeated E-step, and ``num_starts=1`` is one plain start.
"""

import numpy as np
import pytest

from ethogram import AutoregressiveHMM, GaussianHMM
from ethogram.analysis import match_states
from ethogram.fitting import spawn_seeds
from ethogram.models.examples import course_gaussian_hmm, course_spiral_arhmm


@pytest.mark.parametrize("experiment", ["spiral", "ring"])
def test_default_fit_recovers_the_states_for_every_seed(experiment):
    truth = course_spiral_arhmm(5) if experiment == "spiral" else course_gaussian_hmm(5)
    cls = AutoregressiveHMM if experiment == "spiral" else GaussianHMM
    accuracies = []
    for s in range(12):
        states, data = truth.sample(10000, seed=s)
        result = cls(5, 2).fit(data, num_iters=100, seed=s)
        acc, _ = match_states(states, np.argmax(result.posterior.expected_states, axis=1), 5)
        accuracies.append(acc)
    assert min(accuracies) >= 0.95, accuracies


@pytest.mark.parametrize(
    "seeds",
    [
        pytest.param((24, 26, 39), id="the-seeds-one-start-fails"),
        pytest.param(range(48), id="seeds-0-47", marks=pytest.mark.slow),
    ],
)
def test_where_a_single_start_fails_the_default_succeeds(seeds):
    """Seeds 0..47 of the spiral (`make test-all`): wherever one k-means start stops in a poor
    optimum (seeds 24, 26 and 39 with today's k-means start, which `make test` runs), the
    default's best of two starts finds the answer, at an objective thousands of nats higher."""
    truth = course_spiral_arhmm(5)
    rescued = 0
    for s in seeds:
        states, data = truth.sample(10000, seed=s)
        one = AutoregressiveHMM(5, 2).fit(data, num_iters=100, seed=s, num_starts=1)
        acc_one, _ = match_states(states, np.argmax(one.posterior.expected_states, axis=1), 5)
        if acc_one >= 0.95:
            continue
        default = AutoregressiveHMM(5, 2).fit(data, num_iters=100, seed=s)
        acc, _ = match_states(states, np.argmax(default.posterior.expected_states, axis=1), 5)
        assert acc >= 0.95, (s, acc)
        assert default.objectives[-1] > one.objectives[-1] + 1000
        rescued += 1
    if rescued == 0:
        pytest.skip(
            f"every single k-means start succeeded on seeds {list(seeds)}: "
            "nothing for the second start to rescue (look for the seeds it fails on now)"
        )


def test_the_kept_start_has_the_best_starting_objective():
    _, data = course_spiral_arhmm(5).sample(3000, seed=7)
    seed, num_starts = 11, 4
    model = AutoregressiveHMM(5, 2)
    result = model.fit(data, num_iters=100, seed=seed, num_starts=num_starts, start_iters=0)
    # the starts, rebuilt by hand from the same generators
    (restart_rng,) = list(spawn_seeds(seed, 1))
    starting = []
    for rng in spawn_seeds(restart_rng, num_starts):
        probe = AutoregressiveHMM(5, 2)
        d, m, _ = probe._prepare(data)
        probe._initialize(d, m, "kmeans", rng)
        starting.append(probe.score(data) + probe.log_prior())
    assert result.objectives[0] == pytest.approx(max(starting), rel=1e-12)
    assert len(result.objectives) == result.num_iters + 1
    assert np.all(np.diff(result.objectives) > 0)
    assert result.objectives[-1] == pytest.approx(model.score(data) + model.log_prior(), rel=1e-12)


def test_start_argument_errors():
    x = np.random.default_rng(0).normal(size=(100, 2))
    for kwargs, match in (
        (dict(num_starts=0), "num_starts"),
        (dict(start_iters=-1), "start_iters"),
        (dict(init="params", num_starts=2), "num_starts"),
    ):
        with pytest.raises(ValueError, match=match):
            GaussianHMM(2, 2).fit(x, **kwargs)
