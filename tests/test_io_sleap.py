"""SLEAP files (issue 18, case_27): tracks without an instance are left out with a note, ghost
tracks of a few frames are named, and SLEAP's "Export Analysis CSV" is read as poses.

Analysis ``.h5`` files are written with h5py in SLEAP's layout (``tracks`` (n_tracks, 2, nodes,
T), ``track_names``, ``node_names``, ``point_scores``, ``track_occupancy``); the CSV is written by
sleap-io's ``save_csv`` (SLEAP's own format) from the real two-fly ``clip.slp``, and by hand for
untracked and broken tables.
"""

from __future__ import annotations

import contextlib
import io
import warnings

import h5py
import numpy as np
import pytest

from conftest import DATA
from ethogram.io import ReadNoteWarning, guess_format, read_recordings
from ethogram.pipeline import fit_recordings

NODES = ["nose", "left_ear", "right_ear", "neck", "tail_base"]
T = 400


def mouse(seed) -> np.ndarray:
    """(T, 5, 2) a mouse turning and walking, pixels."""
    rng = np.random.default_rng(seed)
    base = np.array([[30, 0], [18, 8], [18, -8], [10, 0], [-30, 0]], float)
    h = np.cumsum(rng.normal(0, 0.05, T))
    pos = 300 + np.cumsum(rng.normal(0, 1.5, (T, 2)), 0)
    pose = base[None] * (1 + 0.2 * np.sin(np.arange(T) / 7.0))[:, None, None] + rng.normal(
        0, 1.5, (T, 5, 2)
    )
    c, s = np.cos(h), np.sin(h)
    return (
        np.stack(
            [
                c[:, None] * pose[..., 0] - s[:, None] * pose[..., 1],
                s[:, None] * pose[..., 0] + c[:, None] * pose[..., 1],
            ],
            -1,
        )
        + pos[:, None]
    )


def write_analysis(path, tracks, names, scores):
    """A SLEAP analysis file, in SLEAP's layout (float32 tracks, NaN where a track is absent)."""
    arr = np.stack([np.transpose(x, (2, 1, 0)) for x in tracks]).astype(
        np.float32
    )  # (n_tracks, 2, nodes, T)
    with h5py.File(path, "w") as f:
        f["tracks"] = arr
        f["track_names"] = np.array([n.encode() for n in names], dtype="S")
        f["node_names"] = np.array([n.encode() for n in NODES], dtype="S")
        f["point_scores"] = np.stack([sc.T for sc in scores]).astype(np.float32)
        f["track_occupancy"] = np.isfinite(arr[:, 0, 0, :]).T.astype(np.uint8)


@pytest.fixture
def sleap_files(tmp_path):
    a, b = mouse(1), mouse(2)
    sa, sb = np.full((T, 5), 0.9), np.full((T, 5), 0.9)
    sb[100:110] = np.nan  # proof-read frames: user points carry no score
    ghost = np.full((T, 5, 2), np.nan)
    ghost[10:13] = b[10:13] + 40
    empty = np.full((T, 5, 2), np.nan)
    nan_sc = np.full((T, 5), np.nan)
    files = {
        "a_two": ([a, b], ["bird_a", "bird_b"], [sa, sb]),
        "b_notrack": ([a], [], [sa]),
        "c_ghost": ([a, b, ghost], ["track_0", "track_1", "track_2"], [sa, sb, nan_sc]),
        "d_empty": ([a, b, empty], ["track_0", "track_1", "track_2"], [sa, sb, nan_sc]),
    }
    for stem, (tracks, names, scores) in files.items():
        write_analysis(tmp_path / f"{stem}.analysis.h5", tracks, names, scores)
    return tmp_path, a, b


def _fit(recs):
    return fit_recordings(recs, num_states=3, num_lags=1, num_iters=10, seed=0, progress=False)


def test_two_tracks_and_no_tracks_read_and_fit(sleap_files):
    d, a, b = sleap_files
    with warnings.catch_warnings():
        warnings.simplefilter("error", ReadNoteWarning)
        two = read_recordings(d / "a_two.analysis.h5", fps=30)
        (one,) = read_recordings(d / "b_notrack.analysis.h5", fps=30)
    assert [r.name for r in two] == ["a_two.analysis/bird_a", "a_two.analysis/bird_b"]
    np.testing.assert_allclose(two[1].data, b, atol=1e-3)  # float32 in the file
    assert one.name == "b_notrack.analysis"
    res = _fit(two)
    assert (
        res["a_two.analysis/bird_b"].mask[100:110].all()
    )  # proof-read points (NaN score) are used


def test_a_track_with_no_instance_is_left_out_with_a_note_and_the_fit_runs(sleap_files):
    d, a, b = sleap_files
    path = d / "d_empty.analysis.h5"
    with pytest.warns(ReadNoteWarning) as record:
        recs = read_recordings(path, fps=30)
    assert [str(w.message) for w in record] == [
        f"{path}: 'track_2' hold(s) no tracked point in any of the 400 frames (a track made in "
        "another video, or never used); left out"
    ]
    assert [r.name for r in recs] == ["d_empty.analysis/track_0", "d_empty.analysis/track_1"]
    res = _fit(recs)
    assert {r.name: int(r.mask.sum()) for r in res.recordings} == {r.name: T for r in recs}


def test_the_fit_command_reads_the_file_with_an_empty_track(sleap_files):
    from ethogram.cli import main

    d, _, _ = sleap_files
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(
            [
                "fit",
                str(d / "d_empty.analysis.h5"),
                "--fps",
                "30",
                "--states",
                "3",
                "--iters",
                "5",
                "--quiet",
                "-o",
                str(d / "out"),
            ]
        )
    assert code == 0
    lines = err.getvalue().splitlines()
    # the reader's note comes first; after the summary, only the fit's own word on 5 iterations
    assert lines[0] == (
        f"ethogram: warning: {d / 'd_empty.analysis.h5'}: 'track_2' hold(s) no "
        "tracked point in any of the 400 frames (a track made in another video, "
        "or never used); left out"
    )
    assert all(
        x.startswith("ethogram: warning: EM did not converge in 5 iterations") for x in lines[1:]
    )


def test_a_ghost_track_of_a_few_frames_is_named_and_kept(sleap_files):
    d, _, _ = sleap_files
    path = d / "c_ghost.analysis.h5"
    with pytest.warns(
        ReadNoteWarning,
        match=r"c_ghost\.analysis\.h5: 'track_2' \(3 frames\) tracked in only a few "
        r"of the 400 frames \(a ghost track of the tracker\?\); kept",
    ):
        recs = read_recordings(path, fps=30)
    assert [int(np.isfinite(r.data).all(axis=2).any(axis=1).sum()) for r in recs] == [400, 400, 3]
    _fit(recs)


def test_sleap_analysis_csv_reads_as_the_slp_it_was_exported_from(tmp_path):
    import sleap_io

    sleap_io.save_csv(
        sleap_io.load_slp(str(DATA / "flies" / "clip.slp")), str(tmp_path / "clip.csv")
    )
    assert guess_format(tmp_path / "clip.csv") == "sleap"
    csv_recs = read_recordings(tmp_path / "clip.csv", fps=25)
    slp_recs = read_recordings(DATA / "flies" / "clip.slp", fps=25)
    assert [r.name for r in csv_recs] == [
        "clip/male",
        "clip/female",
    ]  # tracks in the order of the table
    by_name = {r.name: r for r in slp_recs}
    for r in csv_recs:
        assert (
            r.kind == "keypoints"
            and r.format == "sleap"
            and sorted(r.bodyparts) == sorted(by_name[r.name].bodyparts)
        )
        order = [by_name[r.name].bodyparts.index(b) for b in r.bodyparts]
        ref = by_name[r.name].data[:, order]
        n = min(len(ref), r.num_frames)  # the csv ends at the last labelled frame
        np.testing.assert_array_equal(r.data[:n], ref[:n])
        assert np.isnan(ref[n:]).all()


def test_sleap_csv_with_scores_untracked_rows_and_broken_tables(tmp_path):
    header = "track,frame_idx,instance.score,nose.x,nose.y,nose.score,tail.x,tail.y,tail.score\n"
    rows = [
        "mouse_1,0,0.95,100.5,200.3,0.98,150.2,250.1,0.92",
        "mouse_1,2,0.94,102.1,198.5,0.97,148.8,248.3,0.91",
        "mouse_2,0,0.93,300.2,400.1,0.96,350.5,450.8,0.89",
        ",1,0.5,10,10,0.5,20,20,0.5",
    ]
    (tmp_path / "two.csv").write_text(header + "\n".join(rows) + "\n")
    with pytest.warns(ReadNoteWarning, match=r"two\.csv: 1 instance\(s\) without a track left out"):
        recs = read_recordings(tmp_path / "two.csv")
    assert [r.name for r in recs] == ["two/mouse_1", "two/mouse_2"] and recs[0].bodyparts == (
        "nose",
        "tail",
    )
    np.testing.assert_array_equal(
        recs[0].data[[0, 2]], [[[100.5, 200.3], [150.2, 250.1]], [[102.1, 198.5], [148.8, 248.3]]]
    )
    assert (
        np.isnan(recs[0].data[1]).all()
        and recs[1].data.shape == (3, 2, 2)
        and np.isnan(recs[1].data[1:]).all()
    )
    np.testing.assert_array_equal(recs[1].confidence[0], [0.96, 0.89])
    # the tracker off, one animal: one recording named after the file
    (tmp_path / "alone.csv").write_text(header + ",0,0.9,1,2,0.9,3,4,0.9\n,1,0.9,5,6,0.9,7,8,0.9\n")
    (rec,) = read_recordings(tmp_path / "alone.csv")
    assert rec.name == "alone" and rec.data.shape == (2, 2, 2)
    # the tracker off, two animals in a frame: cannot be told apart
    (tmp_path / "many.csv").write_text(header + ",0,0.9,1,2,0.9,3,4,0.9\n,0,0.9,5,6,0.9,7,8,0.9\n")
    with pytest.raises(
        ValueError,
        match=r"many\.csv: the file \(no track names.*two instances in one frame \(first "
        r"at frame 0\); run SLEAP's tracker",
    ):
        read_recordings(tmp_path / "many.csv")


def test_a_given_fps_that_contradicts_the_tracked_video_is_said():
    """The flies' video runs at 25 fps with as many frames as the tracking: fps=30 would make
    every duration 20% short, so it is said in one warning (a fresh user's report: it used to
    pass without a word); the given rate is still used, as a video's header can be wrong; the
    video's own rate passes quietly."""
    from ethogram.errors import ArgumentWarning

    with pytest.warns(ArgumentWarning) as record:
        recs = read_recordings(DATA / "flies" / "clip.slp", fps=30)
    said = [str(w.message) for w in record if isinstance(w.message, ArgumentWarning)]
    assert said == [
        f"{DATA / 'flies' / 'clip.slp'}: its video clip.mp4 runs at 25 fps (the same 300 frames) "
        "but fps=30 was given; the given rate is used: if the video's rate is the true one, "
        "leave fps out"
    ]
    assert [r.fps for r in recs] == [30.0, 30.0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert [r.fps for r in read_recordings(DATA / "flies" / "clip.slp", fps=25)] == [25.0] * 2
