"""Label comparison and annotation metrics on planted labels with known scores."""

from itertools import combinations

import numpy as np
import pandas as pd
import pytest

from ethogram.analysis.annotations import (
    annotation_masks,
    best_syllable_set,
    compare_annotations,
    read_annotations,
)
from ethogram.analysis.labels_compare import boundary_scores, compare_labels, label_boundaries


def _segments(rng, T, K, mean_len=10):
    lens = rng.integers(1, 2 * mean_len, size=T)
    labs = rng.integers(0, K, size=lens.size)
    return np.repeat(labs, lens)[:T]


def test_permuted_labels_score_one():
    rng = np.random.default_rng(0)
    ref = _segments(rng, 3000, 6)
    perm = rng.permutation(6) + 10  # other names, other range
    pred = perm[ref]
    res = compare_labels(ref, pred, tolerance=0)
    assert res.accuracy == 1.0
    assert res.nmi == pytest.approx(1.0, abs=1e-12)
    assert res.ari == pytest.approx(1.0, abs=1e-12)
    assert res.boundary_precision == 1.0 and res.boundary_recall == 1.0 and res.boundary_f1 == 1.0
    assert res.mapping == {int(perm[k]): k for k in range(6)}
    assert res.num_frames == 3000


def test_known_confusion_and_accuracy():
    # reference: 0 x 60, 1 x 40; predicted: 5 on the first 50 frames, 7 on the last 50
    ref = np.array([0] * 60 + [1] * 40)
    pred = np.array([5] * 50 + [7] * 50)
    res = compare_labels(ref, pred, tolerance=0)
    assert res.confusion.to_numpy().tolist() == [[50, 10], [0, 40]]
    assert res.accuracy == pytest.approx(0.9)
    assert res.mapping == {5: 0, 7: 1}
    # one boundary each, 10 frames apart
    assert res.boundary_precision == 0.0 and res.boundary_recall == 0.0
    p, r, f = boundary_scores(ref, pred, tolerance=10)
    assert (p, r, f) == (1.0, 1.0, 1.0)
    p, r, f = boundary_scores(ref, pred, tolerance=9)
    assert (p, r) == (0.0, 0.0)


def test_matched_accuracy_brute_force_and_sklearn():
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    rng = np.random.default_rng(1)
    ref = rng.integers(0, 4, size=500)
    pred = np.where(rng.random(500) < 0.6, ref, rng.integers(0, 5, size=500))
    res = compare_labels(ref, pred)
    best = 0
    from itertools import permutations

    for perm in permutations(range(5), 4):  # predicted label assigned to reference 0..3
        best = max(best, sum(np.sum((ref == r) & (pred == p)) for r, p in enumerate(perm)))
    assert res.accuracy == best / 500
    assert res.nmi == normalized_mutual_info_score(ref, pred)
    assert res.ari == adjusted_rand_score(ref, pred)


def test_unlabelled_frames_are_left_out_and_dicts_pool():
    ref = {"a": np.array([0, 0, 1, 1, -1, 1]), "b": np.array([2, 2, 2])}
    pred = {"a": np.array([3, 3, 4, -1, 4, 4]), "b": np.array([5, 5, 5])}
    res = compare_labels(ref, pred, tolerance=0)
    assert res.num_frames == 7
    assert res.accuracy == 1.0
    assert label_boundaries([0, 0, -1, 1, 1, 2]).tolist() == [5]
    with pytest.raises(ValueError, match="same length"):
        compare_labels(np.zeros(3, int), np.zeros(4, int))
    with pytest.raises(ValueError, match="missing"):
        compare_labels({"a": np.zeros(3, int)}, {"b": np.zeros(3, int)})


def test_boundary_tolerance_counts():
    ref = np.zeros(100, int)
    ref[20:] = 1
    ref[50:] = 2  # boundaries at 20, 50
    pred = np.zeros(100, int)
    pred[22:] = 1
    pred[70:] = 3
    pred[90:] = 4  # boundaries at 22, 70, 90
    p, r, f = boundary_scores(ref, pred, tolerance=2)
    assert p == pytest.approx(1 / 3) and r == pytest.approx(1 / 2)
    assert f == pytest.approx(2 * (1 / 3) * (1 / 2) / (1 / 3 + 1 / 2))


# ------------------------------------------------------------------- annotations
def test_read_annotations_seconds_and_frames():
    df = pd.DataFrame(
        {
            "recording": ["r", "r", "r"],
            "start": [1.0, 10, 0.5],
            "stop": [2.0, 15, 0.6],
            "behavior": ["groom", "rear", "groom"],
            "units": ["seconds", "frames", "s"],
        }
    )
    ann = read_annotations(df, fps=10)
    # [1.0, 2.0) s at 10 fps -> frames 10..19; frames 10..14; [0.5, 0.6) s -> frame 5
    assert ann["start_frame"].tolist() == [10, 10, 5]
    assert ann["stop_frame"].tolist() == [20, 15, 6]
    with pytest.raises(ValueError, match="units"):
        read_annotations(df.drop(columns="units"))
    with pytest.raises(ValueError, match="fps"):
        read_annotations(df)
    with pytest.raises(ValueError, match="missing column"):
        read_annotations(df.drop(columns="behavior"), units="frames")


def test_planted_annotations():
    # syllable 1 is exactly "rear"; "groom" is syllables 2 and 3 plus 10 frames of syllable 0
    lab = np.zeros(200, int)
    lab[20:40] = 1
    lab[60:70] = 2
    lab[70:80] = 3
    lab[120:140] = 1
    lab[150:160] = 3
    ann = pd.DataFrame(
        {
            "recording": ["r"] * 4,
            "behavior": ["rear", "rear", "groom", "groom"],
            "start_frame": [20, 120, 50, 150],
            "stop_frame": [40, 140, 80, 160],
        }
    )
    summary, coverage, confusion = compare_annotations({"r": lab}, ann, num_states=4)
    rear = summary.set_index("behavior").loc["rear"]
    assert (
        rear["syllables"] == "1"
        and rear["precision"] == 1
        and rear["recall"] == 1
        and rear["f1"] == 1
    )
    groom = summary.set_index("behavior").loc["groom"]
    assert groom["frames"] == 40
    assert groom["syllables"] == "2 3"  # adding 0 (10 of 150 frames inside) lowers F1
    assert groom["precision"] == 1.0 and groom["recall"] == pytest.approx(30 / 40)
    assert coverage.loc["groom"].tolist() == pytest.approx([10 / 40, 0, 10 / 40, 20 / 40])
    assert confusion.loc["(none)"].tolist() == [200 - 40 - 40, 0, 0, 0]
    assert confusion.loc["rear"].tolist() == [0, 40, 0, 0]
    assert confusion.to_numpy().sum() == 200


def test_best_syllable_set_is_exact():
    rng = np.random.default_rng(3)
    for _ in range(200):
        K = rng.integers(1, 8)
        tp = rng.integers(0, 30, size=K)
        fp = rng.integers(0, 30, size=K)
        P = int(tp.sum() + rng.integers(0, 20))
        if P == 0:
            continue
        _, _, _, f = best_syllable_set(tp, fp, P)
        brute = 0.0
        for n in range(1, K + 1):
            for S in combinations(range(K), n):
                TP, FP = tp[list(S)].sum(), fp[list(S)].sum()
                brute = max(brute, 2 * TP / (TP + FP + P))
        assert f == pytest.approx(brute, abs=1e-12)


def test_annotation_unknown_recording():
    ann = pd.DataFrame(
        {"recording": ["x"], "behavior": ["b"], "start_frame": [0], "stop_frame": [3]}
    )
    with pytest.raises(ValueError, match="not in the results"):
        annotation_masks(ann, {"r": 10})
