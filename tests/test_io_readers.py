"""read_recordings: paths, globs, folders, order, names, body-part selection, errors, plain arrays,
format guessing and the describe() summary."""

import shutil

import h5py
import numpy as np
import pytest

from conftest import DATA
from ethogram.io import FORMATS, describe, guess_format, read_recordings

OPENFIELD = DATA / "openfield"


def test_formats_are_the_documented_names():
    assert FORMATS == ("dlc", "sleap", "nwb-pose", "jabs", "moseq-nwb", "moseq2", "npy", "csv")


@pytest.mark.parametrize(
    "rel, fmt",
    [
        ("openfield/keypoints.csv", "dlc"),
        ("openfield/keypoints_ndx_pose.nwb", "nwb-pose"),
        ("flies/clip.slp", "sleap"),
        ("jabs/sample_pose_est_v2.h5", "jabs"),
        ("jabs/sample_pose_est_v3.h5", "jabs"),
    ],
)
def test_guess_format_on_the_real_files(rel, fmt):
    assert guess_format(DATA / rel) == fmt


def test_guess_format_on_moseq2s_layout(moseq2_dir):
    assert guess_format(moseq2_dir / "test_scores.h5") == "moseq2"
    assert guess_format(moseq2_dir / "proc" / "results_00.h5") == "moseq2"


def test_info_on_a_moseq2_extraction_names_the_scores_file_its_features_come_from(moseq2_dir):
    """A fresh user's ``ethogram info proc/results_00.h5``: its features are the PC scores of
    a neighbouring file (found through the project's index), which info now names."""
    from _moseq_files import UUID

    (rec,) = read_recordings(moseq2_dir / "proc" / "results_00.h5")
    text = describe(rec)
    assert (
        f"dimensions (moseq2-pca's PC scores, from {moseq2_dir / 'test_scores.h5'}, joined by its "
        f"uuid {UUID})"
    ) in text
    # read from the scores file itself, there is nothing to name
    (ref,) = [r for r in read_recordings(moseq2_dir / "test_scores.h5") if r.attrs["uuid"] == UUID]
    assert "PC scores, from" not in describe(ref)


def test_unguessable_files_name_the_file_and_the_choices(tmp_path, moseq2_dir):
    with pytest.raises(ValueError) as e:
        read_recordings(moseq2_dir / "testh5.h5")  # a PCA model, not a recording
    # said to be no recording, with what to give (no format would read it)
    assert "testh5.h5 is not a recording: it holds a PCA model" in str(e.value)
    assert "format=NAME" not in str(e.value) and "scores file" in str(e.value)
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ValueError, match="notes.txt.*format=NAME"):
        read_recordings(tmp_path / "notes.txt")
    with pytest.raises(ValueError, match="labelled"):
        read_recordings(OPENFIELD / "human_labels_other_video.csv")
    with pytest.raises(ValueError, match="format must be one of"):
        read_recordings(OPENFIELD / "keypoints.csv", format="deeplabcut")


def test_missing_paths_raise_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.csv"):
        read_recordings(tmp_path / "nope.csv")
    with pytest.raises(FileNotFoundError, match=r"\*.slp"):
        read_recordings(str(tmp_path / "*.slp"))
    with pytest.raises(FileNotFoundError, match="no recordings"):
        read_recordings(tmp_path)  # an empty folder
    with pytest.raises(ValueError, match="empty"):
        read_recordings([])


def test_folder_glob_and_list_give_the_same_sorted_recordings():
    from ethogram.io.readers import SkippedFilesWarning

    with pytest.warns(
        SkippedFilesWarning,
        match=r"human_labels_other_video\.csv: skipped: not a recording .*labelled",
    ):
        folder = read_recordings(OPENFIELD, fps=30)
    # the hand-labelled images table is skipped in a folder (named in a warning); the video has
    # another suffix
    assert [r.name for r in folder] == ["keypoints", "keypoints_missingdata", "keypoints_ndx_pose"]
    globbed = read_recordings(str(OPENFIELD / "keypoints*"), fps=30)
    listed = read_recordings(
        [
            OPENFIELD / "keypoints_ndx_pose.nwb",
            str(OPENFIELD / "keypoints.csv"),
            OPENFIELD / "keypoints_missingdata.csv",
            OPENFIELD / "keypoints.csv",
        ],
        fps=30,
    )
    for other in (globbed, listed):
        assert [r.name for r in other] == [r.name for r in folder]
        for a, b in zip(folder, other):
            np.testing.assert_array_equal(a.data, b.data)
    with pytest.warns(SkippedFilesWarning, match="human_labels_other_video"):
        only_dlc = read_recordings(
            OPENFIELD, format="dlc"
        )  # a folder with format: only those files
    assert [r.name for r in only_dlc] == ["keypoints", "keypoints_missingdata"]
    with pytest.raises(FileNotFoundError, match="'jabs'"):
        read_recordings(OPENFIELD, format="jabs")
    with pytest.raises(ValueError, match="keypoints_ndx_pose.nwb"):  # a file read as what it is not
        read_recordings(OPENFIELD / "keypoints_ndx_pose.nwb", format="dlc")
    mixed = read_recordings([DATA / "jabs", DATA / "flies" / "clip.slp"])
    assert [r.name for r in mixed][:3] == ["clip/female", "clip/male", "sample_pose_est_v2"]
    assert [r.source for r in mixed] == sorted(r.source for r in mixed)


def test_same_stem_in_two_folders_gets_the_folder_prefixed(tmp_path):
    for sub in ("mouse_a", "mouse_b"):
        (tmp_path / sub).mkdir()
        shutil.copy(OPENFIELD / "keypoints.csv", tmp_path / sub / "session.csv")
    shutil.copy(OPENFIELD / "keypoints_missingdata.csv", tmp_path / "mouse_a" / "other.csv")
    recs = read_recordings(str(tmp_path / "*" / "*.csv"))
    assert [r.name for r in recs] == ["other", "mouse_a/session", "mouse_b/session"]
    assert len({r.name for r in recs}) == 3


def test_bodyparts_keeps_only_the_named_points_in_that_order(moseq2_dir):
    (full,) = read_recordings(OPENFIELD / "keypoints.csv")
    (sub,) = read_recordings(OPENFIELD / "keypoints.csv", bodyparts=["tailbase", "snout"])
    assert sub.bodyparts == ("tailbase", "snout")
    np.testing.assert_array_equal(sub.data, full.data[:, [3, 0]])
    np.testing.assert_array_equal(sub.confidence, full.confidence[:, [3, 0]])
    (same,) = read_recordings(OPENFIELD / "keypoints.csv", bodyparts="tailbase,snout")
    np.testing.assert_array_equal(same.data, sub.data)
    with pytest.raises(ValueError) as e:
        read_recordings(OPENFIELD / "keypoints.csv", bodyparts=["snout", "tail_base"])
    msg = str(e.value)
    assert "tail_base" in msg and all(
        b in msg for b in ("snout", "leftear", "rightear", "tailbase")
    )
    with pytest.raises(ValueError, match="features"):
        read_recordings(moseq2_dir / "test_scores.h5", bodyparts=["snout"])


def test_npy_npz_and_csv_arrays(tmp_path):
    rng = np.random.default_rng(1)
    a = rng.normal(size=(50, 4))
    a[7] = np.nan
    np.save(tmp_path / "pcs.npy", a)
    np.savez(tmp_path / "many.npz", s2=a[:20], s1=a[20:], kp=rng.normal(size=(30, 5, 2)))
    (rec,) = read_recordings(tmp_path / "pcs.npy", fps=30)
    assert rec.kind == "features" and rec.format == "npy" and rec.fps == 30.0 and rec.name == "pcs"
    np.testing.assert_array_equal(rec.data, a)
    recs = read_recordings(tmp_path / "many.npz")
    assert [r.name for r in recs] == ["many/kp", "many/s1", "many/s2"]
    assert recs[0].kind == "keypoints" and recs[0].data.shape == (30, 5, 2)
    np.testing.assert_array_equal(recs[1].data, a[20:])
    np.testing.assert_array_equal(recs[2].data, a[:20])
    # csv with a header, a pandas index column and a blank cell
    lines = [",pc0,pc1"] + [
        f"{t},{float(a[t, 0])!r},{'' if t == 3 else repr(float(a[t, 1]))}" for t in range(10)
    ]
    (tmp_path / "feat.csv").write_text("\n".join(lines) + "\n")
    (rec,) = read_recordings(tmp_path / "feat.csv")
    assert (
        rec.format == "csv" and rec.attrs["columns"] == ["pc0", "pc1"] and rec.data.shape == (10, 2)
    )
    expect = a[:10, :2].copy()
    expect[3, 1] = np.nan
    np.testing.assert_array_equal(rec.data, expect)
    # csv without a header
    np.savetxt(tmp_path / "plain.csv", a[10:20], delimiter=",")
    (rec,) = read_recordings(tmp_path / "plain.csv")
    np.testing.assert_array_equal(rec.data, np.loadtxt(tmp_path / "plain.csv", delimiter=","))
    assert rec.data.shape == (10, 4)
    (tmp_path / "text.csv").write_text("a,b\n1,x\n2,y\n")
    with pytest.raises(ValueError, match=r"\['b'\]"):
        read_recordings(tmp_path / "text.csv")
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="pickle"):
        read_recordings(tmp_path / "obj.npy")
    with pytest.raises(ValueError, match="fps"):
        read_recordings(tmp_path / "pcs.npy", fps=-1)


def test_format_argument_overrides_the_guess(tmp_path):
    a = np.arange(12.0).reshape(6, 2)
    np.savetxt(tmp_path / "x.txt.csv", a, delimiter=",")
    (rec,) = read_recordings(tmp_path / "x.txt.csv", format="csv")
    np.testing.assert_array_equal(rec.data, a)
    with h5py.File(tmp_path / "odd.h5", "w") as f:
        f["something"] = a
    with pytest.raises(ValueError, match="odd.h5"):
        read_recordings(tmp_path / "odd.h5")
    with pytest.raises(ValueError, match="odd.h5"):
        read_recordings(tmp_path / "odd.h5", format="jabs")


def test_describe_summarises_a_recording(moseq2_dir):
    (rec,) = read_recordings(OPENFIELD / "keypoints_missingdata.csv", fps=30)
    text = describe(rec)
    lines = text.splitlines()
    assert lines[0].startswith("keypoints_missingdata") and "dlc" in lines[0]
    assert "600 frames x 4 body parts x 2 coordinates" in text  # the excerpt's first 600
    assert "fps: 30, duration 20.00 s" in text
    assert "snout, leftear, rightear, tailbase" in text
    frac = np.isnan(rec.data).any(axis=2).mean()
    assert f"missing: {frac:.1%} of points" in text
    assert "confidence" in text
    moseq = [r for r in read_recordings(moseq2_dir / "test_scores.h5")][0]
    text = describe(moseq)
    assert "908 frames x 50 dimensions" in text and "8 frames with NaN" in text
    assert "frames (908, 80, 80)" in text and "centroid" in text and "heading" in text
    (nofps,) = read_recordings(OPENFIELD / "keypoints.csv")
    assert "give --fps" in describe(nofps)


def test_describe_reports_points_below_the_default_confidence():
    import inspect

    from ethogram.io import Recording, describe
    from ethogram.io.readers import CONFIDENCE_DEFAULT
    from ethogram.prep import Preparation

    assert (
        CONFIDENCE_DEFAULT
        == inspect.signature(Preparation).parameters["confidence_threshold"].default
    )
    conf = np.array([[0.9, 0.2], [0.4, 0.95], [0.7, 0.8], [0.1, 0.99]])
    rec = Recording(
        "m", np.zeros((4, 2, 2)), "keypoints", fps=30.0, bodyparts=["a", "b"], confidence=conf
    )
    assert (
        "  low confidence: 3 of the 8 points with coordinates (37.5%) are below 0.5 (masked by "
        "default; --confidence)"
    ) in describe(rec).splitlines()
    # a point without coordinates is missing already, whatever its confidence: not counted
    data = np.zeros((4, 2, 2))
    data[3, 0] = np.nan  # the point of confidence 0.1
    rec = Recording("m", data, "keypoints", fps=30.0, bodyparts=["a", "b"], confidence=conf)
    assert (
        "  low confidence: 2 of the 7 points with coordinates (28.6%) are below 0.5 (masked by "
        "default; --confidence)"
    ) in describe(rec).splitlines()


def test_describe_says_why_the_frame_rate_is_unknown():
    from ethogram.io import Recording, describe

    rec = Recording(
        "m",
        np.zeros((4, 2, 2)),
        "keypoints",
        bodyparts=["a", "b"],
        attrs={"timestamps_were_frame_numbers": True},
    )
    assert (
        "  fps: unknown (its timestamps are frame numbers 0, 1, 2, ..., not seconds); give --fps"
        in describe(rec).splitlines()
    )
    plain = Recording("m", np.zeros((4, 2, 2)), "keypoints", bodyparts=["a", "b"])
    assert "  fps: unknown; give --fps" in describe(plain).splitlines()
