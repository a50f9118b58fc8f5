"""Group statistics: a planted usage difference is found, a null one is not; Dunn's test is
right."""

import numpy as np
import pandas as pd
import pytest
from scipy.stats import kruskal, mannwhitneyu, rankdata

from ethogram.analysis.groups import (
    compare_groups,
    dunn_test,
    group_table,
    plot_group_stats,
    read_groups,
)


def _labels(rng, probs, n_instances=400):
    """A label sequence of instances drawn from ``probs`` (no two consecutive equal)."""
    K = len(probs)
    out, prev = [], -1
    while len(out) < n_instances:
        k = rng.choice(K, p=probs)
        if k == prev:
            continue
        out.append(k)
        prev = k
    lens = rng.integers(3, 15, size=len(out))
    return np.repeat(out, lens)


def _cohort(seed, shift):
    rng = np.random.default_rng(seed)
    base = np.array([0.3, 0.25, 0.2, 0.15, 0.1])
    other = base.copy()
    other[0] += shift
    other[3] -= shift
    labels, groups = {}, {}
    for i in range(8):
        labels[f"a{i}"] = _labels(rng, base)
        groups[f"a{i}"] = "control"
        labels[f"b{i}"] = _labels(rng, other)
        groups[f"b{i}"] = "treated"
    return labels, groups


def test_planted_usage_difference_two_groups():
    labels, groups = _cohort(0, shift=0.1)
    table = group_table(labels, groups, fps=30.0, num_states=5)
    res = compare_groups(table, "usage")
    omni = res[res["comparison"] == "all"].set_index("syllable")
    assert (omni["test"] == "mann-whitney").all()
    assert omni.loc[0, "p_adjusted"] < 0.05 and omni.loc[0, "significant"]
    assert omni.loc[3, "p_adjusted"] < 0.05
    # the same p-value from scipy directly on the usage values computed independently
    usage = {}
    for n, lab in labels.items():
        starts = np.flatnonzero(np.diff(np.r_[-9, lab]) != 0)
        inst = lab[starts]
        usage[n] = np.mean(inst == 0)
    a = [usage[n] for n in labels if groups[n] == "control"]
    b = [usage[n] for n in labels if groups[n] == "treated"]
    assert omni.loc[0, "p_value"] == pytest.approx(
        mannwhitneyu(a, b, alternative="two-sided").pvalue, rel=1e-12
    )
    assert omni.loc[0, "mean_control"] == pytest.approx(np.mean(a))


def test_null_difference_not_found():
    labels, groups = _cohort(1, shift=0.0)
    res = compare_groups(group_table(labels, groups, fps=30.0, num_states=5), "usage")
    assert not res["significant"].any()
    assert res["p_adjusted"].min() > 0.05


def test_three_groups_kruskal_and_dunn():
    rng = np.random.default_rng(2)
    base = np.array([0.3, 0.25, 0.2, 0.15, 0.1])
    shifted = base + np.array([0.12, 0, 0, -0.12, 0])
    labels, groups = {}, {}
    for g, p in (("A", base), ("B", base), ("C", shifted)):
        for i in range(8):
            labels[f"{g}{i}"] = _labels(rng, p)
            groups[f"{g}{i}"] = g
    table = group_table(labels, groups, fps=30.0, num_states=5)
    res = compare_groups(table, "usage")
    omni = res[res["comparison"] == "all"].set_index("syllable")
    assert (omni["test"] == "kruskal-wallis").all()
    s0 = table[table["syllable"] == 0]
    samples = [s0.loc[s0["group"] == g, "usage"].to_numpy() for g in "ABC"]
    assert omni.loc[0, "p_value"] == pytest.approx(kruskal(*samples).pvalue, rel=1e-12)
    assert omni.loc[0, "significant"]
    pw = res[(res["test"] == "dunn") & (res["syllable"] == 0)].set_index("comparison")
    assert pw.loc["A vs C", "significant"] and pw.loc["B vs C", "significant"]
    assert not pw.loc["A vs B", "significant"]


def test_dunn_matches_kruskal_for_two_groups_with_ties():
    rng = np.random.default_rng(4)
    x = rng.integers(0, 6, size=9).astype(float)  # many ties
    y = rng.integers(2, 8, size=12).astype(float)
    ((_, _, z, p),) = dunn_test([x, y])
    H = kruskal(x, y)
    assert z**2 == pytest.approx(H.statistic, rel=1e-12)
    assert p == pytest.approx(H.pvalue, rel=1e-10)


def test_dunn_by_hand_three_groups():
    a, b, c = [1.0, 2.0, 2.0], [3.0, 4.0, 5.0, 5.0], [6.0, 7.0]
    pooled = np.array(a + b + c)
    N = len(pooled)
    r = rankdata(pooled)
    ties = 2 * (2**3 - 2)  # two pairs of ties
    var0 = N * (N + 1) / 12 - ties / (12 * (N - 1))
    ra, rb, rc = r[:3].mean(), r[3:7].mean(), r[7:].mean()
    from scipy.stats import norm

    expect = {
        (0, 1): (ra - rb) / np.sqrt(var0 * (1 / 3 + 1 / 4)),
        (0, 2): (ra - rc) / np.sqrt(var0 * (1 / 3 + 1 / 2)),
        (1, 2): (rb - rc) / np.sqrt(var0 * (1 / 4 + 1 / 2)),
    }
    for i, j, z, p in dunn_test([a, b, c]):
        assert z == pytest.approx(expect[(i, j)], rel=1e-12)
        assert p == pytest.approx(2 * norm.sf(abs(expect[(i, j)])), rel=1e-12)


def test_durations_and_index(tmp_path):
    labels = {"x": np.array([0, 0, 0, 1, 1, 0, 0, -1, 1]), "y": np.array([1, 1, 1, 1])}
    table = group_table(labels, {"x": "g1", "y": "g2"}, fps={"x": 10.0, "y": 2.0}, num_states=3)
    t = table.set_index(["recording", "syllable"])
    assert t.loc[("x", 0), "duration_s"] == pytest.approx(0.25)  # (3 + 2) / 2 frames at 10 fps
    assert t.loc[("x", 1), "duration_s"] == pytest.approx(0.15)  # (2 + 1) / 2
    assert t.loc[("y", 1), "duration_s"] == pytest.approx(2.0)
    assert np.isnan(t.loc[("y", 0), "duration_s"])
    assert t.loc[("x", 0), "usage"] == pytest.approx(2 / 4)
    idx = tmp_path / "index.csv"
    pd.DataFrame({"recording": ["x", "y"], "group": ["g1", "g2"]}).to_csv(idx, index=False)
    assert read_groups(idx, ["x", "y"]) == {"x": "g1", "y": "g2"}
    with pytest.raises(ValueError, match="no group for"):
        read_groups(idx, ["x", "y", "z"])
    with pytest.raises(ValueError, match="two groups"):
        read_groups({"x": "g", "y": "g"})


def test_plot_group_stats_png(tmp_path):
    import matplotlib.image as mpimg

    labels, groups = _cohort(0, shift=0.1)
    table = group_table(labels, groups, fps=30.0, num_states=5)
    res = compare_groups(table, "usage")
    fig = plot_group_stats(table, res, "usage", path=tmp_path / "usage.png")
    img = mpimg.imread(tmp_path / "usage.png")
    w, h = fig.get_size_inches() * fig.dpi
    assert img.shape[:2] == (int(round(h)), int(round(w)))
    assert img[..., :3].std() > 0.05  # not a blank image
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "*" in "".join(texts)


def test_an_empty_group_leaves_a_recording_out_and_long_lists_are_shortened(tmp_path):
    import pandas as pd

    from ethogram.analysis.groups import read_groups

    names = [f"m{i}" for i in range(9)]
    df = pd.DataFrame({"recording": names, "group": ["a", "b"] * 4 + [""]})
    df.to_csv(tmp_path / "index.csv", index=False)
    groups = read_groups(tmp_path / "index.csv", names)
    assert "m8" not in groups and len(groups) == 8 and set(groups.values()) == {"a", "b"}
    with pytest.raises(
        ValueError,
        match=r"no group for recording\(s\) 'x0', 'x1', 'x2', 'x3', 'x4' and 2 more; add them",
    ):
        read_groups(tmp_path / "index.csv", names + [f"x{i}" for i in range(7)])
    with pytest.raises(
        ValueError,
        match=(
            r"recording\(s\) 'm0' are not in the results "
            r"\(known: 'm1', 'm2', 'm3', 'm4', 'm5' and 3 more\)"
        ),
    ):
        read_groups(tmp_path / "index.csv", names[1:])
