"""``ethogram stats`` on a results file with planted per-recording syllables."""

import numpy as np
import pandas as pd
import pytest

from conftest import DATA


def _labels(rng, probs, n_instances=300):
    out, prev = [], -1
    while len(out) < n_instances:
        k = int(rng.choice(len(probs), p=probs))
        if k != prev:
            out.append(k)
            prev = k
    return np.repeat(out, rng.integers(3, 15, size=len(out)))


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    """A results file of 16 recordings: group 'treated' uses syllable 0 more and syllable 3 less."""
    from ethogram.cli import main
    from ethogram.results import RecordingResult, Results, load_results, write_results

    base = tmp_path_factory.mktemp("base")
    assert (
        main(
            [
                "fit",
                str(DATA / "openfield" / "keypoints.csv"),
                "--fps",
                "30",
                "-o",
                str(base),
                "--states",
                "5",
                "--iters",
                "5",
                "--quiet",
            ]
        )
        == 0
    )
    fitted = load_results(base / "results.h5")
    rng = np.random.default_rng(0)
    p0 = np.array([0.3, 0.25, 0.2, 0.15, 0.1])
    p1 = p0 + np.array([0.1, 0, 0, -0.1, 0])
    recs, groups = [], []
    for g, p in (("control", p0), ("treated", p1)):
        for i in range(8):
            lab = _labels(rng, p)
            recs.append(
                RecordingResult(
                    name=f"{g}_{i}",
                    syllables=lab,
                    mask=np.ones(lab.size, bool),
                    inputs=np.zeros((lab.size, 1)),
                    fps=30.0,
                )
            )
            groups.append((f"{g}_{i}", g))
    out = tmp_path_factory.mktemp("cohort")
    write_results(
        out / "results.h5",
        Results(
            model=fitted.model,
            preparation=fitted.preparation,
            recordings=recs,
            config=fitted.config,
            fit=fitted.fit,
            versions=fitted.versions,
            created=fitted.created,
        ),
        csv=False,
    )
    pd.DataFrame(groups, columns=["recording", "group"]).to_csv(out / "index.csv", index=False)
    return out


def test_stats_finds_the_planted_difference(cohort, capsys):
    import matplotlib.image as mpimg

    from ethogram.cli import main

    assert main(["stats", str(cohort), "--groups", str(cohort / "index.csv")]) == 0
    out = capsys.readouterr().out
    assert "Mann-Whitney" in out and "usage differs for syllable(s): 0" in out
    res = pd.read_csv(cohort / "stats" / "group_stats.csv")
    usage = res[(res["stat"] == "usage") & (res["comparison"] == "all")].set_index("syllable")
    assert usage.loc[0, "p_adjusted"] < 0.05 and usage.loc[3, "p_adjusted"] < 0.05
    per = pd.read_csv(cohort / "stats" / "per_recording.csv")
    assert len(per) == 16 * 5 and set(per["group"]) == {"control", "treated"}
    for png in ("usage.png", "duration.png"):
        img = mpimg.imread(cohort / "stats" / png)
        assert (
            img.ndim == 3
            and img.shape[0] > 100
            and img.shape[1] > 100
            and img[..., :3].std() > 0.05
        )


def test_stats_errors_are_one_line(cohort, tmp_path, capsys):
    from ethogram.cli import main

    pd.DataFrame({"recording": ["control_0"], "group": ["a"]}).to_csv(
        tmp_path / "short.csv", index=False
    )
    assert main(["stats", str(cohort), "--overwrite", "--groups", str(tmp_path / "short.csv")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no group for recording" in err
    assert (
        main(["stats", str(cohort), "--overwrite", "--groups", str(tmp_path / "missing.csv")]) == 2
    )
    assert "not found" in capsys.readouterr().err


def test_stats_leaves_out_empty_groups_and_recordings_without_labels(cohort, tmp_path, capsys):
    from ethogram.cli import main

    index = pd.read_csv(cohort / "index.csv")
    index.loc[index["recording"] == "control_0", "group"] = ""
    index.to_csv(tmp_path / "index.csv", index=False)
    out = tmp_path / "stats"
    assert (
        main(["stats", str(cohort), "--groups", str(tmp_path / "index.csv"), "--out", str(out)])
        == 0
    )
    assert "15 recordings in 2 groups (1 left out)" in capsys.readouterr().out
    per = pd.read_csv(out / "per_recording.csv")
    assert "control_0" not in set(per["recording"]) and per["recording"].nunique() == 15
