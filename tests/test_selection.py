"""Model selection on synthetic data: cross-validation over K, kappa to a target duration,
pruning and merging states, stability across seeds, run lengths, parallel = serial."""

import numpy as np
import pytest

import ethogram as eg
from ethogram.selection import (
    cross_validate,
    find_kappa,
    matched_confusion,
    merge_groups,
    merge_states,
    prune_states,
    run_lengths,
    stability,
    summarize,
    syllable_distances,
    syllable_linkage,
)
from ethogram.selection._common import viterbi_labels
from ethogram.selection._parallel import sub_model


def _true_arhmm(K=5, D=2, stay=0.95, noise=0.3, radius=2.0):
    """K rotating AR(1) states around centres on a circle (as the course's spiral example)."""
    m = eg.HMM(K, "autoregressive", dict(data_dim=D, num_lags=1))
    m.transition_matrix = stay * np.eye(K) + (1 - stay) / K
    th = np.linspace(0, 2 * np.pi, K, endpoint=False)
    rot = np.stack(
        [
            0.8 * np.array([[np.cos(t / 4), -np.sin(t / 4)], [np.sin(t / 4), np.cos(t / 4)]])
            for t in th
        ]
    )
    m.observations.emission_dynamics = rot
    m.observations.emission_bias = radius * np.stack([np.cos(th), np.sin(th)], 1)
    m.observations.emission_covs = np.tile(noise * np.eye(D), (K, 1, 1))
    return m


def test_run_lengths_against_a_loop():
    rng = np.random.default_rng(0)
    lab = rng.integers(-1, 3, size=500)
    lab[100:140] = 2
    expected, cur, n = [], lab[0], 1
    for x in lab[1:]:
        if x == cur:
            n += 1
        else:
            if cur >= 0:
                expected.append(n)
            cur, n = x, 1
    if cur >= 0:
        expected.append(n)
    assert run_lengths(lab).tolist() == expected
    # runs never continue across sequences
    assert run_lengths([np.array([1, 1]), np.array([1, 1, 1])]).tolist() == [2, 3]


def test_cross_validation_peaks_near_the_true_number_of_states():
    true = _true_arhmm(K=5)
    sequences = [true.sample(1200, seed=s)[1] for s in range(2)]
    Ks = [2, 3, 4, 5, 6, 8, 10]
    cv = cross_validate(sequences, Ks, model="arhmm", num_restarts=3, num_iters=50, seed=0)
    assert len(cv.table) == len(Ks) * 3
    assert set(cv.table.columns) >= {
        "num_states",
        "restart",
        "fold",
        "heldout_ll_per_frame",
        "train_ll_per_frame",
        "aic",
        "bic",
        "num_parameters",
    }
    assert cv.best_num_states in (4, 5, 6)
    assert cv.one_se_num_states <= cv.best_num_states
    # the held-out score of one fit equals the course's difference of marginal likelihoods
    row = cv.table.iloc[0]
    assert np.isfinite(row["heldout_ll_per_frame"]) and row["num_heldout_frames"] == 2 * 240
    # summary recomputed by hand
    g = cv.table[cv.table.num_states == 5]["heldout_ll_per_frame"]
    s = cv.summary.set_index("num_states").loc[5]
    assert s["mean"] == pytest.approx(g.mean()) and s["std"] == pytest.approx(g.std(ddof=1))
    assert s["sem"] == pytest.approx(g.std(ddof=1) / np.sqrt(3))


def test_heldout_score_is_the_course_difference_of_marginal_likelihoods():
    """Time split: the held-out score of a fit trained on the first 80% equals
    (log p(x_{1:T}) - log p(x_{1:train})) / held-out frames, as in the course's problem 2b."""
    true = _true_arhmm(K=3)
    x = true.sample(500, seed=3)[1]
    cv = cross_validate([x], [3], model="autoregressive", num_restarts=1, num_iters=20, seed=4)
    from ethogram.selection._common import fit_model, model_spec
    from ethogram.selection._parallel import task_seed

    mask = np.ones(500, bool)
    mask[400:] = False
    model, _, _ = fit_model(
        model_spec(3, "autoregressive", None, 2), [x], [mask], 20, None, rng=task_seed(4, 3, 0, 0)
    )
    expected = (model.score(x) - model.score(x[:400])) / 100
    assert cv.table["heldout_ll_per_frame"].iloc[0] == pytest.approx(expected, rel=1e-10)


def test_cross_validation_by_recordings_and_folds():
    true = _true_arhmm(K=3)
    sequences = [true.sample(300, seed=s)[1] for s in range(4)]
    cv = cross_validate(
        sequences,
        [2, 3],
        model="autoregressive",
        split="recordings",
        heldout_fraction=0.25,
        num_folds=4,
        num_restarts=1,
        num_iters=15,
    )
    assert len(cv.table) == 2 * 4
    assert (
        cv.table["num_heldout_frames"] == 299
    ).all()  # one recording of 300 frames, minus the lag
    with pytest.raises(ValueError, match="at least two recordings"):
        cross_validate(sequences[:1], [2], split="recordings")
    with pytest.raises(ValueError, match="split"):
        cross_validate(sequences, [2], split="folds")
    with pytest.raises(ValueError, match="num_states_list"):
        cross_validate(sequences, [])


def test_summary_one_standard_error_rule():
    import pandas as pd

    t = pd.DataFrame(
        {
            "num_states": [2, 2, 4, 4, 8, 8],
            "fold": 0,
            "restart": [0, 1] * 3,
            "heldout_ll_per_frame": [-2.0, -2.2, -1.50, -1.56, -1.48, -1.60],
            "train_objective": [0, 1, 0, 1, 0, 1],
            "train_ll_per_frame": 0.0,
            "aic": 0.0,
            "bic": 0.0,
            "num_parameters": 1,
        }
    )
    summary, best, one_se = summarize(t)
    assert best == 4  # means: -2.1, -1.53, -1.54
    assert one_se == 4
    # the best restart (highest training objective) per fold
    assert summary.set_index("num_states").loc[8, "best_restart_heldout"] == -1.60


def test_parallel_results_equal_serial():
    true = _true_arhmm(K=3)
    sequences = [true.sample(300, seed=s)[1] for s in range(2)]
    a = cross_validate(sequences, [2, 3], num_restarts=2, num_iters=10, seed=1, num_workers=1)
    b = cross_validate(sequences, [2, 3], num_restarts=2, num_iters=10, seed=1, num_workers=2)
    np.testing.assert_array_equal(
        a.table["heldout_ll_per_frame"].to_numpy(), b.table["heldout_ll_per_frame"].to_numpy()
    )
    # a K's fits do not depend on which other K are in the list
    c = cross_validate(sequences, [3], num_restarts=2, num_iters=10, seed=1)
    np.testing.assert_array_equal(
        c.table["heldout_ll_per_frame"].to_numpy(),
        a.table.loc[a.table.num_states == 3, "heldout_ll_per_frame"].to_numpy(),
    )


def test_find_kappa_hits_a_known_median_duration():
    """4 true states whose median run lasts 16 frames, fitted with 8 states (more than needed,
    as MoSeq does): at kappa = 0.1 the extra states cut runs short (12 frames; at kappa = 1,
    14, since EM runs to the optimum); the search brackets upward and lands within 15% of the
    true median."""
    true = _true_arhmm(K=4, stay=0.95, noise=0.3, radius=2.0)
    states, x = true.sample(4000, seed=7)
    truth = float(np.median(run_lengths(states)))
    s = find_kappa(
        [x[:2000], x[2000:]], 8, target_frames=truth, kappa_start=0.1, num_iters=60, seed=0
    )
    assert abs(s.median_duration - truth) <= 0.15 * truth, (s.message, s.curve)
    assert s.curve["kappa"].is_monotonic_increasing and len(s.curve) >= 2
    assert s.curve["median_duration"].iloc[0] < 0.85 * truth  # it did have to search
    # the chosen row is the closest to the target
    i = np.argmin(np.abs(s.curve["median_duration"] - truth))
    assert s.kappa == s.curve["kappa"].iloc[i]
    m = s.model()
    labs = viterbi_labels(m, [x[:2000], x[2000:]], [None, None])
    assert np.median(run_lengths(labs)) == s.median_duration


def test_find_kappa_errors():
    x = np.random.default_rng(0).standard_normal((100, 2))
    with pytest.raises(ValueError, match="fps"):
        find_kappa(x, 2)
    with pytest.raises(ValueError, match="more than one frame"):
        find_kappa(x, 2, target_frames=0.5)


def test_prune_states_removes_unused_states():
    true = _true_arhmm(K=3)
    sequences = [true.sample(600, seed=s)[1] for s in range(2)]
    model = eg.HMM(6, "autoregressive", dict(data_dim=2, num_lags=1))
    model.fit(sequences, num_iters=30, seed=0, progress=False)
    # make two states useless: push their bias far from the data
    model.observations.emission_bias[4:] = 1e3
    pr = prune_states(model, sequences, min_usage=0.01, num_iters=20)
    assert pr.num_states_used <= 4 and 4 not in pr.kept and 5 not in pr.kept
    assert (pr.usage > 0.01).all() and pr.usage.sum() == pytest.approx(1.0)
    assert pr.history[0] == 6 and pr.history[-1] == pr.num_states_used


def test_sub_model_renormalises_rows():
    model = eg.HMM(4, "gaussian", dict(data_dim=2))
    rng = np.random.default_rng(1)
    P = rng.dirichlet(np.ones(4), size=4)
    model.transition_matrix = P
    model.observations.emission_means = rng.standard_normal((4, 2))
    sub = sub_model(model, [2, 0])
    expected = P[np.ix_([2, 0], [2, 0])]
    np.testing.assert_allclose(sub.transition_matrix, expected / expected.sum(1, keepdims=True))
    np.testing.assert_array_equal(
        sub.observations.emission_means, model.observations.emission_means[[2, 0]]
    )


def test_distances_dendrogram_and_merge_of_duplicated_states():
    true = _true_arhmm(K=3)
    sequences = [true.sample(600, seed=s)[1] for s in range(2)]
    model = eg.HMM(3, "autoregressive", dict(data_dim=2, num_lags=1))
    model.fit(sequences, num_iters=40, seed=0, progress=False)
    # duplicate state 0 with a tiny change: 4 states, two of them twins
    dup = sub_model(model, [0, 1, 2, 0])
    dup.observations.emission_bias[3] += 1e-3
    d = syllable_distances(dup)
    assert d.shape == (4, 4) and np.allclose(d, d.T) and np.allclose(np.diag(d), 0)
    W = np.concatenate(
        [dup.observations.emission_dynamics.reshape(4, -1), dup.observations.emission_bias], 1
    )
    assert d[1, 2] == pytest.approx(np.linalg.norm(W[1] - W[2]))
    Z = syllable_linkage(d)
    assert Z.shape == (3, 4) and Z[0, 2] == pytest.approx(np.sqrt(2) * 1e-3)  # the twins join first
    assert sorted(Z[0, :2]) == [0, 3]
    groups = merge_groups(d, threshold=0.01)
    assert groups.tolist() == [0, 1, 2, 0]
    merged = merge_states(dup, sequences, groups, num_iters=20)
    assert merged.num_states == 3
    # merging the twins gives back the 3-state fit (up to EM tolerance)
    np.testing.assert_allclose(
        merged.observations.emission_bias, model.observations.emission_bias, atol=0.05
    )
    # with mean poses the distance includes them
    d2 = syllable_distances(dup, mean_poses=np.arange(8.0).reshape(4, 2))
    assert not np.allclose(d2, d / np.median(d[~np.eye(4, dtype=bool)]))


def test_matched_confusion_against_brute_force():
    import itertools

    rng = np.random.default_rng(2)
    a = rng.integers(0, 4, 300)
    b = np.array([2, 0, 3, 1])[a]
    noisy = rng.random(300) < 0.2
    b[noisy] = rng.integers(0, 4, int(noisy.sum()))
    acc, C, order = matched_confusion(a, b, 4)
    best = max(np.mean(np.array(p)[a] == b) for p in itertools.permutations(range(4)))
    assert acc == pytest.approx(best)
    assert np.trace(C) == round(best * 300)


def test_stability_of_a_clear_model():
    true = _true_arhmm(K=3, noise=0.1, radius=3.0)
    sequences = [true.sample(500, seed=s)[1] for s in range(2)]
    st = stability(sequences, 3, num_fits=3, num_iters=30, seed=0)
    assert st.agreement.shape == (3, 3) and np.allclose(np.diag(st.agreement), 1)
    assert st.mean_agreement > 0.95
    assert st.consensus == int(np.argmax(st.objectives))
    assert (st.per_syllable["recurrence_mean"] > 0.9).all()
    C = st.confusions[(0, 1)]
    assert C.sum() == 2 * 499 or C.sum() == 1000  # every labelled frame counted once
    with pytest.raises(ValueError, match="num_fits"):
        stability(sequences, 3, num_fits=1)


def test_find_kappa_parallel_and_executor_equal_serial():
    from concurrent.futures import ThreadPoolExecutor

    true = _true_arhmm(K=3)
    sequences = [true.sample(400, seed=s)[1] for s in range(2)]
    kw = dict(target_frames=15, kappa_start=1.0, num_iters=15, seed=3, max_rounds=3)
    a = find_kappa(sequences, 5, num_workers=1, **kw)
    b = find_kappa(sequences, 5, num_workers=2, **kw)
    with ThreadPoolExecutor(2) as ex:
        c = find_kappa(sequences, 5, executor=ex, **kw)
    for other in (b, c):
        assert other.kappa == a.kappa
        np.testing.assert_array_equal(
            other.curve["median_duration"].to_numpy(), a.curve["median_duration"].to_numpy()
        )
        np.testing.assert_array_equal(
            other.curve["objective"].to_numpy(), a.curve["objective"].to_numpy()
        )


def test_changepoints_of_a_piecewise_constant_signal():
    """A new random level every 30 frames plus small noise: every changepoint is at a step,
    most steps are found (moseq2's per-frame z-scoring across projections misses steps that
    barely change the pattern across dimensions), blocks last 30 frames."""
    from ethogram.selection import changepoints

    rng = np.random.default_rng(0)
    levels = rng.standard_normal((20, 3)) * 3
    x = np.repeat(levels, 30, axis=0) + 0.05 * rng.standard_normal((600, 3))
    cp = changepoints(x, num_projections=50, seed=1)
    steps = np.arange(30, 600, 30)
    inside = steps[(steps > 21) & (steps < 600 - 21)]  # moseq2 blanks 6 * sigma frames at each end
    found = [np.abs(cp.frames - s).min() <= 1 for s in inside]
    assert np.mean(found) >= 0.7
    assert all(np.abs(steps - f).min() <= 1 for f in cp.frames)
    assert np.median(cp.durations) == pytest.approx(30, abs=1)
    # masked frames are NaN in the score and removed before the computation
    mask = np.ones(600, bool)
    mask[300:305] = False
    cp2 = changepoints(x, mask=mask, num_projections=50, seed=1)
    assert np.isnan(cp2.score[300:305]).all() and np.isfinite(cp2.score[100:290]).all()


def test_cross_validation_with_pruning_reports_states_used():
    true = _true_arhmm(K=3, noise=0.1, radius=3.0)
    sequences = [true.sample(500, seed=s)[1] for s in range(2)]
    cv = cross_validate(sequences, [8], num_restarts=1, num_iters=30, seed=0, prune_usage=0.05)
    row = cv.table.iloc[0]
    assert row["states_used"] < 8
    p_per_state = 2 * 2 + 2 + 3  # dynamics, bias, full noise covariance (D = 2, one lag)
    K = row["states_used"]
    assert row["num_parameters"] == K * p_per_state + (K - 1) + K * (K - 1)


def test_mean_poses_by_hand():
    from ethogram.selection import mean_poses

    z = [np.array([0, 0, 1, -1]), np.array([1, 2])]
    x = [np.array([[1.0, 2], [3, 4], [5, np.nan], [9, 9]]), np.array([[7.0, 8], [0, 1]])]
    m = mean_poses(z, x, 4)
    np.testing.assert_allclose(m[0], [2, 3])
    np.testing.assert_allclose(m[1], [6, 8])
    np.testing.assert_allclose(m[2], [0, 1])
    assert np.isnan(m[3]).all()


def test_one_standard_error_rule_counts_the_held_out_frames():
    """Restarts that agree to the last digit give a standard error of 0 over restarts; two K
    that score alike on the held-out frames (a tie of 1e-5 nats per frame, as a dead extra
    state gives) are then told apart by the paired standard error of their difference
    (batch means over the frames), and the smaller K is chosen."""
    import pandas as pd

    from ethogram.selection.crossval import NUM_BATCHES, paired_se

    rng = np.random.default_rng(0)
    base = rng.normal(-1.4, 1.0, size=600)
    jitter = rng.normal(0, 1e-3, size=600)
    pointwise = {
        4: base,
        6: base + 1e-5 + jitter - jitter.mean(),
        2: base - 0.5 + rng.normal(0, 0.1, size=600),
    }
    t = pd.DataFrame(
        {
            "num_states": [2, 2, 4, 4, 6, 6],
            "fold": 0,
            "restart": [0, 1] * 3,
            "heldout_ll_per_frame": np.repeat([pointwise[K].mean() for K in (2, 4, 6)], 2),
            "train_objective": 0.0,
            "train_ll_per_frame": 0.0,
            "aic": 0.0,
            "bic": 0.0,
            "num_parameters": 1,
        }
    )
    without = summarize(t)
    assert without[1] == 6 and without[2] == 6  # the restarts' spread alone: no margin at all
    summary, best, one_se = summarize(t, pointwise)
    assert best == 6 and one_se == 4
    # the paired standard error by hand: means of 10 contiguous batches of the differences
    d = pointwise[6] - pointwise[4]
    means = d.reshape(NUM_BATCHES, -1).mean(axis=1)
    se = summary.set_index("num_states")["se_diff"]
    by_hand = means.std(ddof=1) / np.sqrt(NUM_BATCHES)
    assert se[4] == pytest.approx(by_hand) == paired_se(pointwise[6], pointwise[4])
    assert se[6] == 0.0 and se[2] > 0
    assert np.isnan(paired_se(base, base[:-1])) and np.isnan(paired_se(base[:5], base[:5]))
