"""``ethogram compare --labels`` with keypoint-moseq's outputs (issue 18): its ``results.h5`` and
its CSV folder, written here in the exact layout of keypoint-moseq 0.8.1
(``keypoint_moseq.io.extract_results`` + ``save_hdf5``; ``save_results_as_csv``), as a second
labelling: agreement, the matched confusion table and syllable durations on both sides."""

from __future__ import annotations

import h5py
import numpy as np
import pandas as pd
import pytest

from _pose_files import mouse, write_pose_nwb
from ethogram.cli import main

NLAGS = 3


def write_kpms_results(path, recordings: dict, latent_dim: int = 4, seed: int = 0) -> None:
    """keypoint-moseq's results.h5: per recording a group (attribute type = "dict", as its
    ``_savetree_hdf5`` marks dicts) with syllable (T,) int32, latent_state (T, d) float32,
    centroid (T, 2) float32 and heading (T,) float32."""
    rng = np.random.default_rng(seed)
    with h5py.File(path, "w") as f:
        for name, z in recordings.items():
            g = f.create_group(name)
            g.attrs["type"] = "dict"
            T = len(z)
            g.create_dataset("syllable", data=np.asarray(z, dtype=np.int32))
            g.create_dataset(
                "latent_state", data=rng.normal(size=(T, latent_dim)).astype(np.float32)
            )
            g.create_dataset("centroid", data=rng.uniform(0, 500, (T, 2)).astype(np.float32))
            g.create_dataset("heading", data=rng.uniform(-np.pi, np.pi, T).astype(np.float32))


def write_kpms_csvs(folder, path_h5) -> None:
    """keypoint-moseq's save_results_as_csv of that file: <recording>.csv with syllable,
    centroid x, centroid y, heading, latent_state i, floats rounded to 4 decimals."""
    folder.mkdir()
    with h5py.File(path_h5, "r") as f:
        for name in f:
            g = f[name]
            cols = {"syllable": g["syllable"][()]}
            cols["centroid x"], cols["centroid y"] = g["centroid"][:, 0], g["centroid"][:, 1]
            cols["heading"] = g["heading"][()]
            for i in range(g["latent_state"].shape[1]):
                cols[f"latent_state {i}"] = g["latent_state"][:, i]
            df = pd.DataFrame(cols)
            for c in df.select_dtypes(include=[np.floating]).columns:
                df[c] = df[c].astype(float).round(4)
            df.to_csv(folder / f"{name}.csv", index=False)


def _kpms_labels(z, perm, seed):
    """keypoint-moseq-like labels of the same frames: renamed, 60 frames changed, every frame
    labelled, the first NLAGS frames repeating the first syllable."""
    rng = np.random.default_rng(seed)
    k = np.where(z >= 0, perm[np.clip(z, 0, None)], perm[0])
    start = rng.integers(50, len(z) - 70)
    k[start : start + 60] = perm[-1]
    k[:NLAGS] = k[NLAGS]
    return k


@pytest.fixture(scope="module")
def fit(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("kpms")
    write_pose_nwb(
        tmp / "pair.nwb",
        [mouse(400, 0), mouse(400, 1)],
        np.arange(400) / 30.0,
        animals=["male", "female"],
    )
    assert (
        main(
            [
                "fit",
                str(tmp / "pair.nwb"),
                "-o",
                str(tmp / "out"),
                "--states",
                "4",
                "--iters",
                "5",
                "--quiet",
            ]
        )
        == 0
    )
    from ethogram.results import load_results

    ours = load_results(tmp / "out" / "results.h5").syllables()
    perm = np.array([2, 0, 3, 1, 4])
    # keypoint-moseq names a DeepLabCut individual <stem>_<individual>
    kpms = {
        name.replace("/", "_"): _kpms_labels(z, perm, i) for i, (name, z) in enumerate(ours.items())
    }
    write_kpms_results(tmp / "results.h5", kpms)
    write_kpms_csvs(tmp / "results", tmp / "results.h5")
    return tmp, ours, kpms


def _median_run(labels: dict) -> float:
    lengths = []
    for z in labels.values():
        t = 0
        while t < len(z):
            u = t
            while u < len(z) and z[u] == z[t]:
                u += 1
            if z[t] >= 0:
                lengths.append(u - t)
            t = u
    return float(np.median(lengths))


@pytest.mark.parametrize("which", ["results.h5", "results"])
def test_keypoint_moseq_results_as_a_second_labelling(fit, which, capsys):
    from ethogram.analysis.labels_compare import compare_labels

    tmp, ours, kpms = fit
    code = main(["compare", str(tmp / "out"), "--labels", str(tmp / which), "--overwrite"])
    cap = capsys.readouterr()
    assert code == 0, cap.err
    assert cap.err == ""
    ref = {name: kpms[name.replace("/", "_")] for name in ours}
    direct = compare_labels(ref, ours)
    scores = pd.read_csv(tmp / "out" / "compare" / "labels_scores.csv")
    row = scores[scores["recording"] == "all"].iloc[0]
    assert row["accuracy"] == pytest.approx(direct.accuracy) and row["nmi"] == pytest.approx(
        direct.nmi
    )
    assert sorted(scores["recording"]) == ["all", "pair/female", "pair/male"]
    assert f"matched accuracy {direct.accuracy:.3f}" in cap.out
    # the matched confusion: each matched pair on the diagonal, all agreeing frames there
    conf = pd.read_csv(tmp / "out" / "compare" / "labels_confusion.csv", index_col=0)
    n = len(direct.mapping)
    assert np.trace(conf.to_numpy()[:n, :n]) == round(direct.accuracy * direct.num_frames)
    mapping = dict(zip(*pd.read_csv(tmp / "out" / "compare" / "labels_mapping.csv").to_numpy().T))
    assert [mapping[int(c)] for c in conf.columns[:n]] == [int(r) for r in conf.index[:n]]
    # durations on both sides, against runs counted by a loop
    durations = pd.read_csv(tmp / "out" / "compare" / "labels_durations.csv")
    first = durations.iloc[0]
    assert first["reference_median_frames"] == _median_run(ref)
    assert first["syllable_median_frames"] == _median_run(ours)
    assert first["syllable_median_s"] == pytest.approx(_median_run(ours) / 30.0)
    assert (
        f"median duration (ms): syllables {1000 * _median_run(ours) / 30:.0f}" in cap.out
        and f"reference {1000 * _median_run(ref) / 30:.0f}" in cap.out
    )


def test_the_layout_is_read_exactly(fit):
    from ethogram.io.kpms import is_kpms_results, read_kpms_csvs, read_kpms_results

    tmp, _, kpms = fit
    assert is_kpms_results(tmp / "results.h5") and not is_kpms_results(tmp / "out" / "results.h5")
    read = read_kpms_results(tmp / "results.h5")
    assert list(read) == sorted(kpms)
    for name, z in kpms.items():
        np.testing.assert_array_equal(read[name]["syllable"], z)
        assert read[name]["latent_state"].shape == (len(z), 4) and read[name]["centroid"].shape == (
            len(z),
            2,
        )
    csvs = read_kpms_csvs(tmp / "results")
    assert sorted(csvs) == sorted(kpms) and all(np.array_equal(csvs[k], kpms[k]) for k in kpms)


def test_recordings_without_labels_are_named_and_names_that_never_match_refused(
    fit, tmp_path, capsys
):
    tmp, ours, kpms = fit
    write_kpms_results(tmp_path / "one.h5", {"pair_male": kpms["pair_male"]})
    code = main(
        [
            "compare",
            str(tmp / "out"),
            "--labels",
            str(tmp_path / "one.h5"),
            "--out",
            str(tmp_path / "c"),
        ]
    )
    cap = capsys.readouterr()
    assert code == 0
    assert cap.err.splitlines() == [
        "ethogram: warning: no labels in one.h5 for 1 recording(s) of the fit "
        "(pair/female); compared the other 1"
    ]
    write_kpms_results(
        tmp_path / "other.h5", {"cage_a": kpms["pair_male"], "cage_b": kpms["pair_female"]}
    )
    code = main(
        [
            "compare",
            str(tmp / "out"),
            "--labels",
            str(tmp_path / "other.h5"),
            "--out",
            str(tmp_path / "d"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "no recording names in common" in err
    assert not (tmp_path / "d").exists()


def test_names_as_keypoint_moseq_gives_them():
    from ethogram.analysis.labels_compare import pair_labels

    z = np.zeros(5, int)
    ours = {"clip/female": z, "clip/male": z + 1, "solo": z + 2, "cage/id0": z + 3}
    kpms = {"clip_track0": z, "clip_track1": z + 1, "solo": z + 2, "cage-id0": z + 3}
    ref, pred = pair_labels(kpms, ours)
    assert sorted(ref) == sorted(ours)
    assert all(np.array_equal(ref[k], pred[k]) for k in ours)  # each paired with its own
