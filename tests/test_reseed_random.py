"""Re-seeding dead states on random problems (hypothesis): every observation model, 2-5 states,
a state planted far from every frame; the fit never turns NaN, the objective decreases only at
re-seeds, re-seeds stop in the quiet end of the run and at most 3 per state. The planted and
deterministic cases are in tests/test_reseed.py.
"""

from collections import Counter

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ethogram import HMM
from ethogram.fitting.reseed import DEAD_FRAMES, MAX_RESEEDS_PER_STATE, Reseeding
from test_reseed import _assert_monotone_except_reseeds, _states

KINDS = [
    "gaussian-full",
    "gaussian-diag",
    "gaussian-tied",
    "gaussian-spherical",
    "ar-full",
    "ar-diag",
    "ar-tied",
    "robust",
    "poisson",
    "categorical",
]


def _random_problem(kind, K, seed):
    rng = np.random.default_rng(seed)
    lengths = [int(n) for n in rng.integers(30, 120, size=rng.integers(1, 4))]
    if kind.startswith("gaussian") or kind.startswith("ar") or kind == "robust":
        D = int(rng.integers(1, 4))
        centres = rng.normal(scale=5.0, size=(3, D))
        sequences = [centres[_states(rng, T, 3, 10)] + rng.normal(size=(T, D)) for T in lengths]
        if rng.random() < 0.3:  # duplicated frames
            sequences = [np.round(x) for x in sequences]
        if kind.startswith("gaussian"):
            model = HMM(K, "gaussian", dict(data_dim=D, covariance_type=kind.split("-")[1]))
            name = "emission_means"
        else:
            obs = "robust_autoregressive" if kind == "robust" else "autoregressive"
            kw = dict(
                data_dim=D,
                num_lags=1,
                covariance_type="full" if kind == "robust" else kind.split("-")[1],
            )
            model = HMM(K, obs, kw, kappa=float(rng.choice([0.0, 50.0])))
            name = "emission_bias"
        model.initialize(sequences, seed=seed)
        value = np.array(getattr(model.observations, name))
        value[rng.integers(K)] = 1e3  # a state far from every frame
        setattr(model.observations, name, value)
    elif kind == "poisson":
        sequences = [
            rng.poisson(rng.choice([0.5, 4.0, 20.0], size=(3, 2))[_states(rng, T, 3, 10)]).astype(
                float
            )
            for T in lengths
        ]
        model = HMM(K, "poisson", dict(data_dim=2))
        model.initialize(sequences, seed=seed)
        rates = np.array(model.observations.emission_rates)
        rates[rng.integers(K)] = 1e4
        model.observations.emission_rates = rates
    else:
        sequences = [rng.integers(0, 3, T).astype(float) for T in lengths]
        model = HMM(K, "categorical", dict(num_classes=5))
        model.initialize(sequences, seed=seed)
        probs = np.array(model.observations.emission_probs)
        probs[rng.integers(K)] = [1e-4, 1e-4, 1e-4, 0.4997, 0.5]  # symbols that never occur
        model.observations.emission_probs = probs
    return model, sequences


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from(KINDS), K=st.integers(2, 5), seed=st.integers(0, 2**16))
def test_random_problems_stay_finite_and_decrease_only_at_reseeds(kind, K, seed):
    model, sequences = _random_problem(kind, K, seed)
    result = model.fit(
        sequences, init="params", num_iters=12, seed=seed, progress=False, reseed_dead=True
    )
    _assert_monotone_except_reseeds(result)
    assert all(np.all(np.isfinite(v)) for v in model.get_params().values())
    assert all(np.all(np.isfinite(p.expected_states)) for p in result.posterior)
    last = Reseeding(12, seed).last_iteration()
    assert all(e.iteration <= last and e.expected_frames < DEAD_FRAMES for e in result.reseeds)
    assert (
        max(Counter(e.state for e in result.reseeds).values(), default=0) <= MAX_RESEEDS_PER_STATE
    )
