"""Re-seeding dead states during EM (``HMM.fit(..., reseed_dead=True)``,
``ethogram fit --reseed-dead``).

- planted: a state started far from all data dies in plain EM; re-seeded, it takes the
  cluster (or regime) the other states left uncovered: the true parameters are recovered
  (checked against the values the data were simulated with), the revived state holds many
  expected frames and the final objective is far higher (Gaussian, AR, robust AR, Poisson,
  categorical);
- the history records it (iteration, state, seed frame, objective before, checked against
  the objective of the starting parameters computed independently with ``score``);
- off by default, and a fit in which no state dies is the plain fit bit for bit;
- the same seed gives the same bits with 1 or 2 threads, a process pool and Dask, and a fit
  stopped after any of its checkpoints (the uninterrupted fit's checkpoints copied as written,
  one real stop) and resumed re-seeds exactly as the uninterrupted one;
- the limits: no re-seed in the quiet end of a run, at most 3 per state;
- random problems (hypothesis): tests/test_reseed_random.py;
- ``ethogram fit --reseed-dead`` end to end on a small synthetic recording.
"""

import functools
import multiprocessing
from collections import Counter
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest

from _fit_fixtures import assert_same_checkpoint, fit_copying_each_checkpoint, stop_after
from _same_fit import assert_same_fit
from ethogram import HMM
from ethogram.fitting import SerialExecutor
from ethogram.fitting.reseed import (
    DEAD_FRAMES,
    MAX_RESEEDS_PER_STATE,
    Reseeding,
    reseed_dead_states,
)

CENTERS = np.array([[-6.0, -6.0], [6.0, -6.0], [-6.0, 6.0], [6.0, 6.0]])
RATES = np.array([[1.0, 8.0, 2.0], [8.0, 1.0, 2.0], [2.0, 2.0, 10.0]])
SYMBOLS = np.array(
    [
        [0.7, 0.1, 0.1, 0.1, 0.0, 0.0],
        [0.1, 0.7, 0.1, 0.1, 0.0, 0.0],
        [0.05, 0.05, 0.1, 0.1, 0.7, 0.0],
    ]
)
LENGTHS = (400, 500, 300)


def _states(rng, T, K, dwell=25):
    return np.repeat(rng.integers(0, K, T // dwell + 1), dwell)[:T]


def _gaussian_data(seed=0):
    rng = np.random.default_rng(seed)
    return [
        CENTERS[z] + rng.normal(size=(T, 2)) for T, z in ((T, _states(rng, T, 4)) for T in LENGTHS)
    ]


def _ar_data(seed=0, lengths=LENGTHS):
    """x_t = 0.7 x_{t-1} + 1.5 (z_t - 1) + noise: regimes with fixed points -5, 0, 5 in each
    dimension."""
    rng = np.random.default_rng(seed)
    out = []
    for T in lengths:
        z = _states(rng, T, 3)
        x = np.zeros((T, 2))
        for t in range(1, T):
            x[t] = 0.7 * x[t - 1] + 1.5 * (z[t] - 1.0) + 0.3 * rng.normal(size=2)
        out.append(x)
    return out


def _poisson_data(seed=0):
    rng = np.random.default_rng(seed)
    return [rng.poisson(RATES[_states(rng, T, 3)]).astype(float) for T in LENGTHS]


def _categorical_data(seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for T in LENGTHS:
        z = _states(rng, T, 3)
        u = rng.random(T)[:, None]
        out.append((u > np.cumsum(SYMBOLS[z], axis=1)).sum(axis=1).astype(float))
    return out


def _planted(kind):
    """(model with one state far from every frame, data, the dead state, truth check)."""
    if kind == "gaussian":
        sequences = _gaussian_data()
        model = HMM(4, "gaussian", dict(data_dim=2))
        model.initialize(sequences, seed=0)
        model.observations.emission_means = [[-6.0, -6.0], [6.0, -6.0], [0.0, 6.0], [300.0, 300.0]]
        model.observations.emission_covs = np.tile(np.eye(2), (4, 1, 1))

        def truth(m):
            got = np.asarray(m.observations.emission_means)
            return max(
                np.abs(got - c).sum(axis=1).min() for c in CENTERS
            )  # every true centre has a state

        return model, sequences, 3, truth
    if kind in ("autoregressive", "robust_autoregressive"):
        sequences = _ar_data()
        model = HMM(3, kind, dict(data_dim=2, num_lags=1), kappa=10.0)
        model.initialize(sequences, seed=0)
        bias = np.array(model.observations.emission_bias)
        bias[2] = [500.0, 500.0]
        model.observations.emission_bias = bias

        def truth(m):
            A, b = (
                np.asarray(m.observations.emission_dynamics),
                np.asarray(m.observations.emission_bias),
            )
            fixed = np.stack(
                [np.linalg.solve(np.eye(2) - A[k], b[k]) for k in range(3)]
            )  # each state's fixed point
            return max(np.abs(fixed - v).sum(axis=1).min() for v in (-5.0, 0.0, 5.0))

        return model, sequences, 2, truth
    if kind == "poisson":
        sequences = _poisson_data()
        model = HMM(3, "poisson", dict(data_dim=3))
        model.initialize(sequences, seed=0)
        rates = np.array(model.observations.emission_rates)
        rates[2] = [300.0, 300.0, 300.0]
        model.observations.emission_rates = rates

        def truth(m):
            got = np.asarray(m.observations.emission_rates)
            return max(np.abs(got - r).sum(axis=1).min() for r in RATES)

        return model, sequences, 2, truth
    sequences = _categorical_data()
    model = HMM(3, "categorical", dict(num_classes=6))
    model.initialize(sequences, seed=0)
    model.observations.emission_probs = [
        [0.4, 0.1, 0.2, 0.2, 0.09, 0.01],
        [0.1, 0.4, 0.2, 0.2, 0.09, 0.01],
        [0.002] * 5 + [0.99],
    ]

    def truth(m):
        got = np.asarray(m.observations.emission_probs)
        return max(np.abs(got - p).sum(axis=1).min() for p in SYMBOLS)

    return model, sequences, 2, truth


def _objective(model, sequences):
    """The MAP objective computed without the EM loop: sum of log p(x_n) plus the log prior."""
    return sum(model.score(d) for d in sequences) + model.log_prior()


def _expected_frames(result):
    return sum(p.expected_states.sum(axis=0) for p in result.posterior)


def _assert_monotone_except_reseeds(result):
    at = {e.iteration for e in result.reseeds}
    obj = np.asarray(result.objectives)
    assert np.all(np.isfinite(obj))
    for i in range(1, obj.size):
        if i not in at:
            assert obj[i] >= obj[i - 1] - 1e-8 * max(1.0, abs(obj[i - 1])), (i, obj[i - 1], obj[i])


# --------------------------------------------------------------------------- planted dead states
@pytest.mark.parametrize(
    "kind", ["gaussian", "autoregressive", "robust_autoregressive", "poisson", "categorical"]
)
def test_a_planted_dead_state_is_revived_and_the_fit_improves(kind):
    plain, sequences, dead, truth = _planted(kind)
    start = _objective(plain, sequences)
    revived = HMM.from_description(plain.describe(), plain.get_params())
    r_plain = plain.fit(sequences, init="params", num_iters=60, seed=0, progress=False)
    r_new = revived.fit(
        sequences, init="params", num_iters=60, seed=0, progress=False, reseed_dead=True
    )

    # plain EM leaves the state dead, and one true cluster has no state of its own
    assert r_plain.reseeds == []
    assert _expected_frames(r_plain)[dead] < DEAD_FRAMES
    miss, hit = (
        (0.5, 0.15) if kind == "categorical" else (2.0, 0.5)
    )  # L1 distances: probabilities sum to 1
    assert truth(plain) > miss
    # re-seeded at the first E-step, it takes that cluster: the truth is recovered
    (event,) = r_new.reseeds
    assert (event.iteration, event.state) == (0, dead)
    assert event.expected_frames < DEAD_FRAMES
    assert event.objective_before == pytest.approx(start, rel=1e-12)
    assert 0 <= event.sequence < len(sequences) and 0 <= event.frame < len(
        sequences[event.sequence]
    )
    scored = sum(len(d) - getattr(revived.observations, "num_lags", 0) for d in sequences)
    m = -(
        -scored // revived.num_states
    )  # an average state's frames (the seed frame may come on top)
    assert event.num_frames in (m, m + 1)
    assert r_new.objectives[0] > event.objective_before  # the far state explained nothing
    n = _expected_frames(r_new)
    assert n[dead] > 200 and n.sum() == pytest.approx(sum(map(len, sequences)))
    assert truth(revived) < hit, truth(revived)
    assert r_new.objectives[-1] > r_plain.objectives[-1] + 100.0
    _assert_monotone_except_reseeds(r_new)
    assert all(np.all(np.isfinite(v)) for v in revived.get_params().values())


def test_off_by_default_and_identical_when_no_state_dies():
    sequences = _gaussian_data(seed=1)
    runs = []
    for kwargs in ({}, dict(reseed_dead=False), dict(reseed_dead=True)):
        model = HMM(4, "gaussian", dict(data_dim=2))
        runs.append(
            (
                model,
                model.fit(
                    sequences, num_iters=40, num_restarts=2, seed=3, progress=False, **kwargs
                ),
            )
        )
    for model, result in runs[1:]:
        assert_same_fit(runs[0][0], runs[0][1], model, result)
    assert runs[2][1].reseeds == [] and _expected_frames(runs[2][1]).min() > 200
    # a seed given as a generator: the restarts are those of the same generator without re-seeding
    a, b = HMM(4, "gaussian", dict(data_dim=2)), HMM(4, "gaussian", dict(data_dim=2))
    ra = a.fit(
        sequences, num_iters=10, num_restarts=2, seed=np.random.default_rng(5), progress=False
    )
    rb = b.fit(
        sequences,
        num_iters=10,
        num_restarts=2,
        seed=np.random.default_rng(5),
        progress=False,
        reseed_dead=True,
    )
    assert_same_fit(a, ra, b, rb)


def test_argument_must_be_a_bool():
    model, sequences, _, _ = _planted("gaussian")
    with pytest.raises(TypeError, match="reseed_dead must be True or False"):
        model.fit(sequences, init="params", num_iters=2, reseed_dead="yes", progress=False)


# --------------------------------------------------------------------------- determinism
def _ar_fit(**kwargs):
    model, sequences, _, _ = _planted("autoregressive")
    result = model.fit(
        sequences, init="params", num_iters=20, seed=4, progress=False, reseed_dead=True, **kwargs
    )
    assert len(result.reseeds) == 1
    return model, result


def test_same_bits_across_threads_processes_and_dask():
    base = _ar_fit(executor=SerialExecutor())
    assert_same_fit(*base, *_ar_fit(num_threads=1))
    assert_same_fit(*base, *_ar_fit(num_threads=2))
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        assert_same_fit(*base, *_ar_fit(executor=pool))
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        with distributed.Client(cluster) as client:
            assert_same_fit(*base, *_ar_fit(client=client))


def _sticky_ar():
    """Six states on three AR regimes with a strong stickiness: state 4 dies three times."""
    return HMM(6, "autoregressive", dict(data_dim=2, num_lags=1), kappa=3000.0)


KW = dict(num_iters=30, seed=2, progress=False, reseed_dead=True)


@functools.cache
def _sticky_fit():
    """(model, result): the sticky ARHMM fitted with ``KW`` on ``_ar_data()``, made once for the
    two tests that read it (read only)."""
    model = _sticky_ar()
    return model, model.fit(_ar_data(), **KW)


def test_at_most_three_reseeds_per_state_then_it_is_left_dead():
    _, result = _sticky_fit()
    counts = Counter(e.state for e in result.reseeds)
    assert counts[4] == MAX_RESEEDS_PER_STATE and max(counts.values()) == MAX_RESEEDS_PER_STATE
    assert (
        _expected_frames(result)[4] < DEAD_FRAMES
    )  # it died again, and is not re-seeded a fourth time
    assert [e.iteration for e in result.reseeds] == sorted(e.iteration for e in result.reseeds)
    assert (
        max(e.iteration for e in result.reseeds) >= 3
    )  # re-seeds later in the run, not only at the start
    _assert_monotone_except_reseeds(result)


def test_resume_after_every_checkpoint_reseeds_as_the_uninterrupted_fit(tmp_path, monkeypatch):
    sequences = _ar_data()
    plain, r_plain = _sticky_fit()

    def fit(path, resume=False, model=None):
        return (model or _sticky_ar()).fit(
            sequences, checkpoint=path, checkpoint_every=1, resume=resume, **KW
        )

    # each checkpoint of the uninterrupted fit is copied as written: the file a fit stopped
    # right there leaves (checked for one real stop below), so each stop is resumed without
    # fitting up to it again
    whole = _sticky_ar()
    r_whole, copies = fit_copying_each_checkpoint(
        monkeypatch, tmp_path, lambda path: fit(path, model=whole)
    )
    assert_same_fit(plain, r_plain, whole, r_whole)
    assert len(copies) >= 6
    # stopped for real, by an exception after the write, about the last re-seed (iteration 4)
    real_stop = min(len(copies), max(e.iteration for e in r_plain.reseeds) + 2)
    for stop, (_, path) in enumerate(copies, start=1):
        if stop == real_stop:
            path = tmp_path / "stopped.h5"
            stop_after(monkeypatch, real_stop, fit, path)
            assert_same_checkpoint(path, copies[real_stop - 1][1])
        resumed = _sticky_ar()
        assert_same_fit(plain, r_plain, resumed, fit(path, resume=True, model=resumed))
    # a checkpoint of a fit with re-seeding is not continued without it
    with pytest.raises(ValueError, match=r"its fitting settings \(.*\) differ from"):
        _sticky_ar().fit(
            sequences,
            checkpoint=path,
            checkpoint_every=1,
            resume=True,
            **dict(KW, reseed_dead=False),
        )


# --------------------------------------------------------------------------- limits
def test_quiet_end_of_a_run():
    assert Reseeding(100, 0).last_iteration() == 80
    assert Reseeding(10, 0).last_iteration() == 8
    assert Reseeding(1, 0).last_iteration() == -1
    # a one-iteration fit never re-seeds: it is the plain fit
    a, sequences, _, _ = _planted("gaussian")
    b = HMM.from_description(a.describe(), a.get_params())
    assert_same_fit(
        a,
        a.fit(sequences, init="params", num_iters=1, seed=0, progress=False),
        b,
        b.fit(sequences, init="params", num_iters=1, seed=0, progress=False, reseed_dead=True),
    )


def test_reseed_function_respects_its_limits_and_leaves_the_model_unchanged():
    from ethogram.fitting import e_step
    from ethogram.fitting.reseed import ReseedEvent

    model, sequences, dead, _ = _planted("poisson")
    d, m, _ = model._prepare(sequences)
    stats = e_step(model, d, m)
    before = model.get_params()
    policy = Reseeding(50, 0)
    old = [ReseedEvent(i, dead, 0.0, -1.0, 0, 0, 1) for i in range(MAX_RESEEDS_PER_STATE)]
    for iteration, history in (
        (41, ()),
        (5, old),
    ):  # in the quiet end; the state's re-seeds used up
        assert reseed_dead_states(model, d, m, stats, policy, iteration, -1.0, history) == []
        after = model.get_params()
        assert all(np.array_equal(before[k], after[k]) for k in before)
    (event,) = reseed_dead_states(model, d, m, stats, policy, 40, -1.0, old[:-1])
    assert event.state == dead and event.iteration == 40
    assert np.allclose(model.transition_matrix.sum(axis=1), 1.0) and np.isclose(
        model.initial_probs.sum(), 1.0
    )
    assert model.initial_probs[dead] == pytest.approx(1 / 3)
    P0, P1 = before["transition_matrix"], model.transition_matrix
    np.testing.assert_allclose(
        np.diag(P1)[:dead], np.diag(P0)[:dead]
    )  # the live states keep their stickiness
    np.testing.assert_allclose(P1[dead, dead], np.diag(P0)[:dead].mean())
    np.testing.assert_allclose(P1[:dead, dead], (1 - np.diag(P0)[:dead]) / 2)


# --------------------------------------------------------------------------- the command line
def test_cli_flag_end_to_end(tmp_path, capsys):
    from ethogram.cli import main
    from ethogram.results import load_results

    rec = tmp_path / "rec.npy"
    np.save(
        rec, _ar_data(lengths=(1500,))[0]
    )  # three regimes, six syllables: one dies at iteration 1
    common = [str(rec), "--fps", "30", "--states", "6", "--iters", "40", "--quiet"]
    assert main(["fit", *common, "-o", str(tmp_path / "plain")]) == 0
    plain_out = capsys.readouterr().out
    assert main(["fit", *common, "--reseed-dead", "-o", str(tmp_path / "reseed")]) == 0
    out = capsys.readouterr().out
    plain, res = (
        load_results(tmp_path / "plain" / "results.h5"),
        load_results(tmp_path / "reseed" / "results.h5"),
    )
    assert (
        "reseed_dead" not in plain.config
        and "reseeds" not in plain.fit
        and "re-seed" not in plain_out
    )
    assert res.config["reseed_dead"] is True
    rows = np.asarray(res.fit["reseeds"])
    assert rows.ndim == 2 and rows.shape[1] == 4 and rows.shape[0] >= 1
    assert np.all(rows[:, 2] < DEAD_FRAMES) and np.all((rows[:, 1] >= 0) & (rows[:, 1] < 6))
    assert (
        f"--reseed-dead: {rows.shape[0]} re-seed" in out
        and "(syllables numbered as in the results)" in out
    )
    for syl in np.unique(rows[:, 1]).astype(int):  # one entry per syllable, listing its iterations
        its = [str(int(i)) for i in rows[rows[:, 1] == syl, 0]]
        assert f"syllable {syl} at iteration{'s' if len(its) > 1 else ''} {', '.join(its)}" in out
    objectives = np.asarray(res.fit["objectives"])
    assert np.all(np.isfinite(objectives))
    for i, _, _, before in rows[
        rows[:, 0] > 0
    ]:  # the objective before a re-seed is EM's step up from the last
        assert before >= objectives[int(i) - 1] - 1e-8 * abs(objectives[int(i) - 1])
    # the Python API gives the same fit
    from ethogram.io import read_recordings
    from ethogram.pipeline import fit_recordings
    from ethogram.prep import Preparation

    again = fit_recordings(
        read_recordings([rec], fps=30),
        num_states=6,
        num_iters=40,
        seed=0,
        progress=False,
        reseed_dead=True,
        prep=Preparation(confidence_threshold=0.5),
    )
    np.testing.assert_array_equal(again.fit["reseeds"], rows)
    np.testing.assert_array_equal(again.syllables()["rec"], res.syllables()["rec"])
    # with a target duration too: the kappa search fits without re-seeding, the fit at its kappa
    # re-seeds
    out = tmp_path / "search"
    assert main(["fit", *common, "--reseed-dead", "--target-duration", "0.3", "-o", str(out)]) == 0
    searched = load_results(tmp_path / "search" / "results.h5")
    assert searched.config["reseed_dead"] is True and searched.config["target_duration"] == 0.3
    assert searched.config["kappa_used"] in [r["kappa"] for r in searched.config["kappa_search"]]
