"""Syllable tables against hand computation on planted sequences and against plain loops."""

import statistics

import numpy as np
import pytest

from ethogram.analysis import (
    bigram_counts,
    frame_speed,
    match_states,
    relabel,
    relabel_by_frequency,
    runs,
    syllable_durations,
    syllable_summary,
    syllable_usage,
    transition_probabilities,
)

#       frames: 0  1  2  3  4   5  6  7  8  9
A = np.array([0, 0, 1, 1, 1, -1, 1, 2, 2, 0])
B = np.array([2, 2, 2, 1])
LABELS = {"a": A, "b": B}


def loop_runs(x):
    out, t = [], 0
    while t < len(x):
        e = t
        while e < len(x) and x[e] == x[t]:
            e += 1
        if x[t] >= 0:
            out.append((int(x[t]), t, e))
        t = e
    return out


def loop_bigrams(x, K):
    c = np.zeros((K, K), int)
    r = loop_runs(x)
    for (s1, _, e1), (s2, b2, _) in zip(r, r[1:]):
        if e1 == b2:
            c[s1, s2] += 1
    return c


def random_labels(seed, n=4, K=5):
    rng = np.random.default_rng(seed)
    out = {}
    for i in range(n):
        T = int(rng.integers(1, 300))
        x = np.repeat(rng.integers(-1, K, size=T), rng.integers(1, 6, size=T))[:T]
        out[f"r{i}"] = x
    return out


def test_runs_by_hand():
    df = runs(LABELS)
    assert list(df.columns) == ["recording", "syllable", "start", "stop"]
    assert [tuple(r) for r in df.itertuples(index=False)] == [
        ("a", 0, 0, 2),
        ("a", 1, 2, 5),
        ("a", 1, 6, 7),
        ("a", 2, 7, 9),
        ("a", 0, 9, 10),
        ("b", 2, 0, 3),
        ("b", 1, 3, 4),
    ]
    assert len(runs({"x": np.array([-1, -1])})) == 0
    assert len(runs({"x": np.zeros(0, int)})) == 0


def test_usage_by_hand():
    df = syllable_usage(LABELS, num_states=4).set_index(["recording", "syllable"])
    # recording a: instances 0:2, 1:2, 2:1 of 5; frames 0:3, 1:4, 2:2 of 9 labelled
    np.testing.assert_array_equal(df.loc["a", "instances"], [2, 2, 1, 0])
    np.testing.assert_allclose(df.loc["a", "usage"], [0.4, 0.4, 0.2, 0])
    np.testing.assert_array_equal(df.loc["a", "frames"], [3, 4, 2, 0])
    np.testing.assert_allclose(df.loc["a", "frame_usage"], [3 / 9, 4 / 9, 2 / 9, 0])
    np.testing.assert_allclose(df.loc["b", "usage"], [0, 0.5, 0.5, 0])
    np.testing.assert_allclose(df.loc["b", "frame_usage"], [0, 0.25, 0.75, 0])
    empty = syllable_usage({"z": np.array([-1, -1])}, 2)
    assert empty["instances"].tolist() == [0, 0] and empty["usage"].isna().all()


def test_durations_by_hand():
    df = syllable_durations(LABELS, fps={"a": 30.0, "b": 10.0})
    assert df["duration_frames"].tolist() == [2, 3, 1, 2, 1, 3, 1]
    assert df["start"].tolist() == [0, 2, 6, 7, 9, 0, 3]
    np.testing.assert_allclose(df["duration_s"], [2 / 30, 3 / 30, 1 / 30, 2 / 30, 1 / 30, 0.3, 0.1])
    assert syllable_durations(LABELS)["duration_s"].isna().all()
    np.testing.assert_allclose(
        syllable_durations(LABELS, 20)["duration_s"], np.array([2, 3, 1, 2, 1, 3, 1]) / 20
    )


def test_bigrams_and_transition_probabilities_by_hand():
    # a: 0->1, (1 | -1 | 1: no transition), 1->2, 2->0 ; b: 2->1
    want = np.array([[0, 1, 0], [0, 0, 1], [1, 1, 0]])
    c = bigram_counts(LABELS)
    np.testing.assert_array_equal(c.to_numpy(), want)
    assert c.index.name == "from" and c.columns.name == "to"
    np.testing.assert_allclose(transition_probabilities(LABELS).to_numpy(), want / 4)
    np.testing.assert_allclose(
        transition_probabilities(LABELS, normalize="rows").to_numpy(),
        [[0, 1, 0], [0, 0, 1], [0.5, 0.5, 0]],
    )
    np.testing.assert_allclose(
        transition_probabilities(LABELS, normalize="columns").to_numpy(),
        [[0, 0.5, 0], [0, 0, 1], [1, 0.5, 0]],
    )
    p = transition_probabilities(LABELS, num_states=4, normalize="rows").to_numpy()
    assert np.isnan(p[3]).all() and np.isfinite(p[:3]).all()
    with pytest.raises(ValueError, match="normalize"):
        transition_probabilities(LABELS, normalize="row")


def test_tables_against_loops_on_random_labels():
    K = 5
    for seed in range(5):
        labs = random_labels(seed, K=K)
        fps = {n: 10.0 + i for i, n in enumerate(labs)}
        d = syllable_durations(labs, fps)
        want = [
            (n, s, b, e - b, (e - b) / fps[n]) for n, x in labs.items() for s, b, e in loop_runs(x)
        ]
        got = list(d.itertuples(index=False, name=None))
        assert [g[:4] for g in got] == [w[:4] for w in want]
        np.testing.assert_allclose([g[4] for g in got], [w[4] for w in want])
        c = sum(loop_bigrams(x, K) for x in labs.values())
        np.testing.assert_array_equal(bigram_counts(labs, K).to_numpy(), c)
        assert np.trace(c) == 0
        u = syllable_usage(labs, K)
        for n, x in labs.items():
            inst = np.bincount([s for s, _, _ in loop_runs(x)], minlength=K)
            np.testing.assert_array_equal(u[u.recording == n]["instances"], inst)
            np.testing.assert_array_equal(
                u[u.recording == n]["frames"], [(x == k).sum() for k in range(K)]
            )


def test_summary_by_hand_with_speed():
    cen_a = np.array(
        [[0, 0], [3, 4], [6, 8], [6, 8], [6, 9], [6, 10], [7, 10], [7, 10], [10, 14], [10, 14]],
        float,
    )
    cen_b = np.array([[0, 0], [1, 0], [3, 0], [6, 0]], float)
    fps = {"a": 30.0, "b": 10.0}
    s = syllable_summary(LABELS, fps, centroid={"a": cen_a, "b": cen_b}, num_states=4)
    assert s.index.name == "syllable" and len(s) == 4
    # instances: 0: 2 (a), 1: 2 (a) + 1 (b), 2: 1 (a) + 1 (b); 7 in all
    np.testing.assert_array_equal(s["instances"], [2, 3, 2, 0])
    np.testing.assert_allclose(s["frequency"], [2 / 7, 3 / 7, 2 / 7, 0])
    np.testing.assert_array_equal(s["frames"], [3, 5, 5, 0])
    np.testing.assert_allclose(s["frame_fraction"], [3 / 13, 5 / 13, 5 / 13, 0])
    np.testing.assert_allclose(s["median_duration_frames"].iloc[:3], [1.5, 1, 2.5])
    # seconds: 0: a 2/30, 1/30; 1: a 3/30, 1/30, b 1/10; 2: a 2/30, b 3/10
    np.testing.assert_allclose(
        s["median_duration_s"].iloc[:3],
        [
            statistics.median([2 / 30, 1 / 30]),
            statistics.median([3 / 30, 1 / 30, 0.1]),
            statistics.median([2 / 30, 0.3]),
        ],
    )
    assert np.isnan(s.loc[3, "median_duration_s"]) and np.isnan(s.loc[3, "mean_speed_px_s"])

    def speeds(c, f):  # central differences inside, one-sided at the ends
        v = np.empty_like(c)
        v[1:-1] = (c[2:] - c[:-2]) / 2
        v[0], v[-1] = c[1] - c[0], c[-1] - c[-2]
        return np.hypot(v[:, 0], v[:, 1]) * f

    sa, sb = speeds(cen_a, 30), speeds(cen_b, 10)
    np.testing.assert_allclose(frame_speed(cen_a, 30), sa)
    want0 = np.mean(sa[[0, 1, 9]])
    want1 = np.mean(np.r_[sa[[2, 3, 4, 6]], sb[3]])
    want2 = np.mean(np.r_[sa[[7, 8]], sb[:3]])
    np.testing.assert_allclose(s["mean_speed_px_s"].iloc[:3], [want0, want1, want2])
    assert "mean_speed_px_s" not in syllable_summary(LABELS, 30).columns


def test_relabel_by_frequency_orders_by_instances_then_frames():
    # instances: 0 -> 1, 1 -> 2, 2 -> 2 (more frames than 1), 3 -> 0
    x = {"x": np.array([1, 2, 2, 2, 0, 1, 2, -1, 2, 0])}
    # 0 has 2 instances (frames 4, 9), 1 has 2 (0, 5), 2 has 3 (1-3, 6, 8)
    order = relabel_by_frequency(x, num_states=4)
    np.testing.assert_array_equal(
        order, [2, 0, 1, 3]
    )  # ties (0 and 1: 2 instances, 2 frames) by old label
    new = relabel(x, order)["x"]
    np.testing.assert_array_equal(new, [2, 0, 0, 0, 1, 2, 0, -1, 0, 1])
    u = syllable_usage({"x": new}, 4)["instances"].to_numpy()
    assert (np.diff(u) <= 0).all()
    y = {"y": np.array([0, 1, 1, 1, 0, 1, 1])}  # 0: 2 instances 2 frames; 1: 2 instances 5 frames
    np.testing.assert_array_equal(relabel_by_frequency(y), [1, 0])
    with pytest.raises(ValueError, match="permutation"):
        relabel(x, [0, 0, 1, 2])


def test_relabel_order_matches_hmm_permute():
    import ethogram as eg

    rng = np.random.default_rng(0)
    data = np.concatenate(
        [rng.normal(m, 0.3, size=(n, 2)) for m, n in ((0, 50), (3, 200), (-3, 20), (3, 80))]
    )
    model = eg.HMM(3, "gaussian", dict(data_dim=2))
    model.fit(data, num_iters=5, seed=0)
    before = model.predict(data)
    order = relabel_by_frequency({"d": before}, 3)
    model.permute(order)
    after = model.predict(data)
    np.testing.assert_array_equal(after, relabel(before, order))
    u = syllable_usage({"d": after}, 3)
    assert (np.diff(u["instances"].to_numpy()) <= 0).all()


def test_inputs_accepted_and_errors():
    one = syllable_usage(A)  # a single array is one recording named "0"
    assert set(one["recording"]) == {"0"}
    two = syllable_usage([A, B])
    assert set(two["recording"]) == {"0", "1"}
    with pytest.raises(ValueError, match="num_states"):
        syllable_usage(LABELS, num_states=2)
    with pytest.raises(ValueError, match="-2"):
        runs({"x": np.array([0, -2])})
    with pytest.raises(ValueError, match="integer"):
        runs({"x": np.array([0.5, 1.0])})
    with pytest.raises(ValueError, match="1-D"):
        runs({"x": np.zeros((2, 2), int)})
    with pytest.raises(ValueError, match="fps"):
        syllable_durations(LABELS, {"a": 30})
    with pytest.raises(ValueError, match="fps"):
        syllable_durations(LABELS, -1)
    with pytest.raises(ValueError, match="centroid"):
        syllable_summary(LABELS, 30, centroid=np.zeros((10, 2)))


def test_match_states_still_importable_from_behavior_with_a_deprecation_warning():
    with pytest.warns(DeprecationWarning, match="import match_states from ethogram.analysis"):
        from ethogram.behavior import match_states as old

    assert old is match_states
    with pytest.raises(AttributeError, match="no attribute 'other'"):
        import ethogram.behavior as behavior

        behavior.other
    acc, order = match_states(np.array([0, 0, 1, 1, 2]), np.array([2, 2, 0, 0, 1]))
    assert acc == 1.0 and order.tolist() == [2, 0, 1]
