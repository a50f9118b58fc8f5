"""Geweke's joint-distribution test (Geweke 2004, JASA 99) of the sticky HDP-ARHMM's Gibbs sampler.

Two ways to draw (parameters, syllables, frames) from the model's joint distribution must
agree: the marginal-conditional simulator (parameters from the prior as the sampler's
initialisation draws them, then syllables and frames from the model) and the
successive-conditional simulator (from one such draw, alternate one Gibbs sweep, exactly the
library's global step and local step, with a fresh draw of the frames given the current
parameters and syllables). If any conditional of the sweep were wrong (the table counts, the
override correction, the global weights, the transition rows, the MNIW posterior, the FFBS
draw or the statistics that feed them), the second simulator would drift away from the prior.
Test functions: means of scalar functionals of parameters, syllables and frames; the
successive-conditional chain's standard errors by batch means. A small model (3 syllables,
1-D frames, 2 lags, 25 frames, 3000 sweeps) keeps the fast version cheap; the slow version
runs longer with 2-D frames and also checks that the test has power (a sampler with one
deliberately wrong conditional fails it).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from ethogram.models.gibbs import arhmm as sweep
from ethogram.models.gibbs import hdp
from ethogram.models.moseq_arhmm import MoseqPrior, StickyHDPARHMM

PRIOR = MoseqPrior(gamma=3.0, alpha=3.0, kappa=4.0, S_0_scale=0.4, K_0_scale=0.1, nu_0=None)


def _model(D):
    # nu_0 = D + 5 so that every functional below has a finite variance
    return StickyHDPARHMM(D, num_states=3, num_lags=2, prior=replace(PRIOR, nu_0=D + 5.0))


def functionals(params, z, x) -> np.ndarray:
    beta, pi = params["global_weights"], params["transition_matrix"]
    Ab, Q = params["ar_weights"], params["ar_covs"]
    return np.array(
        [
            beta[0],
            np.sum(beta**2),
            np.mean(np.diag(pi)),
            pi[0, 1],
            np.linalg.slogdet(Q[0])[1],
            Ab[0, 0, -2],  # the newest lag's first coefficient
            Ab[1, 0, -1],  # a bias
            np.mean(z[1:] == z[:-1]),
            len(np.unique(z)),
            float(z[0] == 0),
            np.mean(z == 1),
            np.mean(x[:, 0] ** 2) ** 0.25,
        ]
    )


NAMES = [
    "beta_0",
    "sum beta^2",
    "mean pi_kk",
    "pi_01",
    "log|Q_0|",
    "A_0 (lag 1)",
    "b_1",
    "self-transition rate",
    "distinct syllables",
    "z_L == 0",
    "usage of 1",
    "(mean x^2)^1/4",
]


def _draw_data(model, rng, T):
    return sweep.sample_arhmm(rng, model.get_params(), T, model.num_lags)


def marginal_conditional(model, rng, n, T):
    out = []
    for _ in range(n):
        model.initialize(None, None, rng, "prior")
        x, z = _draw_data(model, rng, T)
        out.append(functionals(model.get_params(), z, x))
    return np.array(out)


def successive_conditional(model, rng, n, T, local_step=sweep.arhmm_local_step):
    model.initialize(None, None, rng, "prior")
    x, z = _draw_data(model, rng, T)
    K, L = model.num_states, model.num_lags
    mask = np.ones(T, bool)
    desc = model.describe()
    out = []
    for _ in range(n):
        model.global_step(sweep.sequence_stats(x, z, mask, K, L), rng)
        seed = np.random.SeedSequence(int(rng.integers(2**63)))
        z = local_step(model.local_params(), desc, x, mask, None, seed)[0]["syllables"]
        x, _ = sweep.sample_arhmm(rng, model.get_params(), T, L, syllables=z)
        out.append(functionals(model.get_params(), z, x))
    return np.array(out)


def z_scores(mc, sc, batches=40):
    se_mc = mc.std(axis=0, ddof=1) / np.sqrt(len(mc))
    b = sc[: len(sc) // batches * batches].reshape(batches, -1, sc.shape[1]).mean(axis=1)
    se_sc = b.std(axis=0, ddof=1) / np.sqrt(batches)
    return (mc.mean(axis=0) - sc.mean(axis=0)) / np.sqrt(se_mc**2 + se_sc**2)


def _run(D, n, T, seed, local_step=sweep.arhmm_local_step):
    model = _model(D)
    mc = marginal_conditional(model, np.random.default_rng(seed), n, T)
    sc = successive_conditional(model, np.random.default_rng(seed + 1), n, T, local_step)
    return z_scores(mc, sc[n // 20 :])


def _report(z):
    return ", ".join(f"{name}: {v:+.2f}" for name, v in zip(NAMES, z))


def test_geweke_arhmm_fast():
    # About 5 s; the slow version below runs about 8 times longer.
    # 3000 sweeps: the largest |z| is 1.7 here, and each wrong conditional of the power test
    # below already gives 152 (uniform transitions), 9.3 (no override correction) and 8.0 (one
    # extra degree of freedom) at this length, far beyond the 4.0 asserted
    z = _run(D=1, n=3000, T=25, seed=10)
    assert np.all(np.abs(z) < 4.0), _report(z)


@pytest.mark.slow
def test_geweke_arhmm_slow():
    z = _run(D=2, n=24000, T=30, seed=20)
    assert np.all(np.abs(z) < 4.0), _report(z)


def _uniform_transitions_ffbs(monkeypatch):
    """FFBS under a transition matrix that ignores stickiness (uniform rows)."""
    real = sweep.arhmm_local_step

    def wrong(params, description, data, mask, local_state, seed, collect=None):
        K = int(description["num_states"])
        flat = np.full((K, K), 1.0 / K)
        return real(
            dict(params, transition_matrix=flat, transition_T=flat),
            description,
            data,
            mask,
            local_state,
            seed,
            collect,
        )

    monkeypatch.setattr(sweep, "arhmm_local_step", wrong)


def _no_override_correction(monkeypatch):
    """Global weights drawn from every table, the sticky overrides included."""
    monkeypatch.setattr(hdp, "override_tables", lambda rng, m, c, k: np.array(m, dtype=np.int64))


def _one_extra_degree_of_freedom(monkeypatch):
    """The noise covariances' posterior with nu_n = nu_0 + n + 1."""
    real = sweep.mniw_posterior
    monkeypatch.setattr(
        sweep, "mniw_posterior", lambda *a, **k: real(*a, **k)._replace(nu=real(*a, **k).nu + 1)
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    "mutant", [_uniform_transitions_ffbs, _no_override_correction, _one_extra_degree_of_freedom]
)
def test_geweke_detects_a_wrong_conditional(mutant, monkeypatch):
    """The test has power: one wrong conditional and some functional is far off."""
    mutant(monkeypatch)
    z = _run(D=1, n=6000, T=25, seed=10, local_step=lambda *a: sweep.arhmm_local_step(*a))
    assert np.max(np.abs(z)) > 6.0, _report(z)
