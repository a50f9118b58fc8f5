"""Feature tables and plain arrays (issue 18): index and label columns are never fitted silently,
a model too large for the frames is refused before any fitting, and (T, animals, parts, 2)
arrays are poses.

The table is written like a SimBA "targets_inserted" file: pandas' unnamed index column, the
body parts' x, y and probability columns, hundreds of features, a ``frame`` column and two
human-label columns of 0/1 (552 columns, 303 frames); what fitting every column of such a
table cost is in docs/design-notes.md, "io/arrays.py".
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from ethogram.io import ReadNoteWarning, describe, read_recordings
from ethogram.io.arrays import non_feature_columns
from ethogram.prep.model_size import check_model_size, parameters_per_syllable

T = 303


def simba_table(path, rng) -> pd.DataFrame:
    parts = [
        "Ear_left_1",
        "Ear_right_1",
        "Nose_1",
        "Center_1",
        "Tail_base_1",
        "Ear_left_2",
        "Ear_right_2",
        "Nose_2",
        "Center_2",
        "Tail_base_2",
    ]
    cols = {}
    for p in parts:
        cols[f"{p}_x"] = rng.uniform(0, 600, T)
        cols[f"{p}_y"] = rng.uniform(0, 400, T)
        cols[f"{p}_p"] = rng.uniform(0.5, 1, T)
    for i in range(552 - 1 - len(cols) - 3):
        cols[f"Feature_{i}"] = rng.normal(size=T)
    cols["frame"] = np.arange(T)
    cols["Attack"] = (rng.random(T) < 0.2).astype(int)
    cols["Sniffing"] = (rng.random(T) < 0.4).astype(int)
    df = pd.DataFrame(cols)
    df.to_csv(path)  # with pandas' index: 552 columns in the file
    return df


def test_index_and_label_columns_of_a_simba_table_are_left_out_with_a_note(tmp_path):
    df = simba_table(tmp_path / "Video1.csv", np.random.default_rng(0))
    assert len(pd.read_csv(tmp_path / "Video1.csv").columns) == 552
    with pytest.warns(ReadNoteWarning) as record:
        (rec,) = read_recordings(tmp_path / "Video1.csv", fps=30)
    assert [str(w.message) for w in record] == [
        f"{tmp_path / 'Video1.csv'}: frame index/time column(s) 'Unnamed: 0', 'frame' and 0/1 "
        "label column(s) 'Attack', 'Sniffing' left out of the features (not measurements of the "
        "animal); 548 feature column(s) kept"
    ]
    kept = [c for c in df.columns if c not in ("frame", "Attack", "Sniffing")]
    assert rec.attrs["columns"] == kept and rec.data.shape == (T, 548)
    np.testing.assert_array_equal(rec.data, df[kept].to_numpy(dtype=float))
    assert rec.attrs["index_columns"] == ["Unnamed: 0", "frame"] and rec.attrs["label_columns"] == [
        "Attack",
        "Sniffing",
    ]
    assert "  left out as 0/1 label column(s): Attack, Sniffing" in describe(rec).splitlines()


def test_a_model_larger_than_the_frames_is_refused_before_fitting(tmp_path, monkeypatch):
    from ethogram.models import HMM
    from ethogram.pipeline import fit_recordings

    def never(*args, **kwargs):
        raise AssertionError("EM started on a model that cannot be learned")

    monkeypatch.setattr(HMM, "fit", never)
    simba_table(tmp_path / "Video1.csv", np.random.default_rng(1))
    with pytest.warns(ReadNoteWarning):
        recs = read_recordings(tmp_path / "Video1.csv", fps=30)
    with pytest.raises(ValueError) as info:
        fit_recordings(recs)
    msg = str(info.value)
    assert msg.startswith(
        f"the model would have {parameters_per_syllable(548, 3):,} parameters per syllable "
        "(548 input columns x 3 lags) but the recordings hold only 303 usable frames"
    )
    assert "keep at most 1 input(s) with num_pcs=1" in msg and "num_states=K" in msg


def test_the_command_line_names_pcs_and_states(tmp_path, capsys):
    from ethogram.cli import main

    simba_table(tmp_path / "Video1.csv", np.random.default_rng(2))
    assert (
        main(
            [
                "fit",
                str(tmp_path / "Video1.csv"),
                "--fps",
                "30",
                "-o",
                str(tmp_path / "out"),
                "--quiet",
            ]
        )
        == 2
    )
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith(
        f"ethogram: warning: {tmp_path / 'Video1.csv'}: frame index/time column(s)"
    )
    assert err[1].startswith(
        "ethogram: error: the model would have 1,051,886 parameters per syllable"
    )
    assert "keep at most 1 input(s) with --pcs 1" in err[1] and "--states K" in err[1]
    assert not (tmp_path / "out").exists()
    assert (
        main(
            [
                "select",
                str(tmp_path / "Video1.csv"),
                "--fps",
                "30",
                "-o",
                str(tmp_path / "sel"),
                "--states",
                "5,10",
                "--quiet",
            ]
        )
        == 2
    )
    assert "keep at most 2 input(s) with --pcs 2" in capsys.readouterr().err


@pytest.mark.parametrize("D, L", [(1, 1), (3, 2), (10, 3)])
def test_parameters_per_syllable_counts_the_model_arrays(D, L):
    from ethogram import HMM

    m = HMM(2, "autoregressive", dict(data_dim=D, num_lags=L))
    m.fit(np.random.default_rng(0).normal(size=(60, D)), num_iters=1)
    o = m.observations
    free_cov = D * (D + 1) // 2  # symmetric
    assert (
        parameters_per_syllable(D, L)
        == o.emission_dynamics[0].size + o.emission_bias[0].size + free_cov
    )


def test_the_suggested_number_of_inputs_is_the_largest_that_fits():
    for frames, K in [(303, 20), (303, 5), (5000, 20), (20, 1)]:
        with pytest.raises(ValueError) as info:
            check_model_size(548, 3, K, frames)
        n = int(re.search(r"\bnum_pcs=(\d+)", str(info.value)).group(1))
        assert parameters_per_syllable(n, 3) * K <= frames or n == 1
        assert parameters_per_syllable(n + 1, 3) * K > frames
    per = parameters_per_syllable(10, 3)
    check_model_size(10, 3, 1, per)  # as many frames as parameters: allowed
    # 20 such syllables hold 20 x 365 parameters, more than the 365 x 10 values: refused
    with pytest.raises(ValueError, match=r"7,300 parameters, more than the 3,650 values"):
        check_model_size(10, 3, 20, per)


def test_non_feature_columns_by_content_and_name():
    rng = np.random.default_rng(3)
    x = np.column_stack(
        [
            np.arange(1, 11),
            rng.normal(size=10),
            rng.integers(0, 2, 10),
            np.arange(0, 20, 2),
            np.linspace(0, 0.3, 10),
            rng.normal(size=10),
        ]
    )
    assert non_feature_columns(x) == (
        [0],
        [2],
    )  # 0, 2, 4, ... and increasing times are measurements here
    assert non_feature_columns(x, ["a", "b", "c", "frame_idx", "time_s", "f"]) == ([0, 3, 4], [2])
    assert non_feature_columns(x[:2]) == ([], [])  # too few rows to tell


def test_plain_arrays_drop_index_and_labels_and_4d_arrays_are_poses(tmp_path):
    rng = np.random.default_rng(4)
    pcs = rng.normal(size=(50, 3))
    np.save(
        tmp_path / "with_index.npy", np.column_stack([np.arange(50), pcs, rng.integers(0, 2, 50)])
    )
    with pytest.warns(
        ReadNoteWarning,
        match=r"with_index\.npy: frame index/time column\(s\) 0 and 0/1 label column\(s\) 4",
    ):
        (rec,) = read_recordings(tmp_path / "with_index.npy")
    np.testing.assert_array_equal(rec.data, pcs)
    np.save(tmp_path / "labels.npy", rng.integers(0, 2, 50))
    with pytest.raises(ValueError, match=r"labels\.npy: no feature column left"):
        read_recordings(tmp_path / "labels.npy")
    one = rng.normal(size=(40, 1, 6, 2)) * 50 + 200
    np.save(tmp_path / "mouse.npy", one)
    (rec,) = read_recordings(tmp_path / "mouse.npy", fps=30)
    assert rec.name == "mouse" and rec.kind == "keypoints" and rec.data.shape == (40, 6, 2)
    np.testing.assert_array_equal(rec.data, one[:, 0])
    two = rng.normal(size=(40, 2, 6, 3))
    np.save(tmp_path / "pair.npy", two)
    recs = read_recordings(tmp_path / "pair.npy")
    assert [r.name for r in recs] == ["pair/animal0", "pair/animal1"]
    np.testing.assert_array_equal(recs[1].data, two[:, 1])
    np.save(
        tmp_path / "movement_order.npy", rng.normal(size=(40, 2, 6, 4))
    )  # (time, space, keypoints, individuals)
    with pytest.raises(
        ValueError, match=r"movement_order\.npy: expected .* got \(40, 2, 6, 4\) .*transpose"
    ):
        read_recordings(tmp_path / "movement_order.npy")
