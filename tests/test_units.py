"""Physical units (issue 18): the scale from the file (JABS cm_per_pixel, NWB units, moseq2 mm
beside px) or the user (--px-per-mm X or a CSV), kept per recording in the results file, shown
by ``info``, and speeds in mm/s and distances in cm in the tables where every recording has a
scale (pixels where not)."""

from __future__ import annotations

import h5py
import numpy as np
import pandas as pd
import pytest

from _pose_files import BODYPARTS, mouse, write_pose_nwb
from conftest import SHARED, needs_shared
from ethogram.cli import main
from ethogram.io import Recording, read_recordings
from ethogram.io.units import read_scales_csv, set_scales
from test_io_jabs import write_jabs_v5

JABS_PX_PER_MM = 1.0 / (10.0 * float(np.float32(0.0795)))  # the file stores cm_per_pixel as float32


def _run(argv, capsys):
    code = main([str(a) for a in argv])
    cap = capsys.readouterr()
    return code, cap.out, cap.err


# --------------------------------------------------------------------------- from the file
def test_jabs_cm_per_pixel_gives_the_scale_and_info_shows_it(tmp_path, capsys):
    write_jabs_v5(tmp_path / "cage_pose_est_v5.h5", np.random.default_rng(0))
    recs = read_recordings(tmp_path / "cage_pose_est_v5.h5")
    assert len(recs) == 3
    for r in recs:
        assert r.px_per_mm == pytest.approx(JABS_PX_PER_MM, rel=1e-12)
        assert r.attrs["px_per_mm_from"].startswith("the file's cm_per_pixel 0.0795")
    code, out, _ = _run(["info", tmp_path / "cage_pose_est_v5.h5"], capsys)
    assert code == 0 and "  scale: 1.258 px/mm (from the file's cm_per_pixel 0.0795)" in out


def test_nwb_series_in_centimetres_are_physical_coordinates(tmp_path):
    write_pose_nwb(tmp_path / "cm.nwb", mouse(200) / 50.0, np.arange(200) / 30.0, unit="cm")
    write_pose_nwb(tmp_path / "px.nwb", mouse(200), np.arange(200) / 30.0, unit="pixels")
    (cm,) = read_recordings(tmp_path / "cm.nwb")
    (px,) = read_recordings(tmp_path / "px.nwb")
    assert cm.px_per_mm == pytest.approx(0.1) and px.px_per_mm is None


@needs_shared  # moseq2's real extraction may not be copied into the repository
def test_moseq2_extraction_scale_from_its_mm_and_px_centroids():
    data_dir = SHARED
    (rec,) = read_recordings(data_dir / "moseq2" / "proc" / "results_00.h5")
    with h5py.File(data_dir / "moseq2" / "proc" / "results_00.h5", "r") as f:
        sc = f["scalars"]
        px = np.concatenate([sc["centroid_x_px"][()], sc["centroid_y_px"][()]]).astype(float)
        mm = np.concatenate([sc["centroid_x_mm"][()], sc["centroid_y_mm"][()]]).astype(float)
    # independent check: the slope of mm on px per axis (numpy's polyfit), about 1.62 and 1.66
    half = px.size // 2
    slopes = [np.polyfit(px[s], mm[s], 1)[0] for s in (slice(0, half), slice(half, None))]
    assert min(slopes) < 1 / rec.px_per_mm < max(slopes)
    assert 1 / rec.px_per_mm == pytest.approx(np.mean(slopes), rel=0.02)


# --------------------------------------------------------------------------- from the user
def test_a_given_scale_wins_over_the_file_with_a_note(tmp_path):
    write_jabs_v5(tmp_path / "cage_pose_est_v5.h5", np.random.default_rng(0))
    with pytest.warns(
        UserWarning, match=r"2 px/mm given \(px_per_mm\) instead of 1\.258 px/mm from the file's"
    ):
        recs = read_recordings(tmp_path / "cage_pose_est_v5.h5", px_per_mm=2.0)
    assert all(r.px_per_mm == 2.0 for r in recs)


def test_scales_csv_by_recording_or_file_name(tmp_path):
    recs = [
        Recording(n, mouse(50), "keypoints", fps=30, bodyparts=BODYPARTS, source=str(tmp_path / s))
        for n, s in (
            ("a", "a.csv"),
            ("clip/male", "clip.slp"),
            ("clip/female", "clip.slp"),
            ("b", "b.csv"),
        )
    ]
    (tmp_path / "scales.csv").write_text("recording,px_per_mm\na,2.5\nclip,4\nother,9\n")
    assert read_scales_csv(tmp_path / "scales.csv") == {"a": 2.5, "clip": 4.0, "other": 9.0}
    set_scales(recs, tmp_path / "scales.csv")
    assert [r.px_per_mm for r in recs] == [2.5, 4.0, 4.0, None]
    (tmp_path / "none.csv").write_text("recording,px_per_mm\nx,1\n")
    with pytest.raises(ValueError, match="no recording is named in the scales"):
        set_scales(recs, tmp_path / "none.csv")
    (tmp_path / "bad.csv").write_text("recording,px_per_mm\na,-1\n")
    with pytest.raises(ValueError, match=r"row 2 \('a'\): px_per_mm must be a positive number"):
        set_scales(recs, tmp_path / "bad.csv")
    with pytest.raises(ValueError, match="px_per_mm"):
        set_scales(recs, 0)


# --------------------------------------------------------------------------- in the tables
def _brute_speed_mm(labels, cents, scales, fps, K):
    sums, counts = np.zeros(K), np.zeros(K)
    for name in labels:
        c, z = cents[name], labels[name]
        v = np.linalg.norm(np.gradient(c, axis=0), axis=1) * fps / scales[name]
        for t in range(z.size):
            if z[t] >= 0 and np.isfinite(v[t]):
                sums[z[t]] += v[t]
                counts[z[t]] += 1
    return sums / counts


def test_summary_speed_in_mm_per_second_and_distances_in_cm_against_loops():
    from ethogram.analysis import syllable_durations, syllable_summary

    rng = np.random.default_rng(4)
    labels = {n: rng.integers(-1, 3, 200) for n in ("a", "b")}
    cents = {n: np.cumsum(rng.normal(size=(200, 2)), 0) for n in ("a", "b")}
    cents["b"][50] = np.nan
    scales = {"a": 2.0, "b": 5.0}
    s = syllable_summary(labels, fps=30, centroid=cents, num_states=3, px_per_mm=scales)
    np.testing.assert_allclose(
        s["mean_speed_mm_s"], _brute_speed_mm(labels, cents, scales, 30, 3), rtol=1e-12
    )
    assert "mean_speed_mm_s" not in syllable_summary(labels, fps=30, centroid=cents, num_states=3)
    d = syllable_durations(labels, fps=30, centroid=cents, px_per_mm=scales)
    for row in d.itertuples():
        c = cents[row.recording][row.start : row.start + row.duration_frames]
        want = np.sum(np.linalg.norm(np.diff(c, axis=0), axis=1))  # NaN when a centroid is missing
        if np.isnan(want):
            assert np.isnan(row.distance_px) and np.isnan(row.distance_cm)
        else:
            assert row.distance_px == pytest.approx(want, rel=1e-12, abs=1e-12)
            assert row.distance_cm == pytest.approx(
                want / scales[row.recording] / 10, rel=1e-12, abs=1e-12
            )
    assert "distance_cm" not in syllable_durations(labels, fps=30, centroid=cents)


@pytest.fixture(scope="module")
def two_sessions(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("units")
    for name, seed in (("s1", 0), ("s2", 1)):
        write_pose_nwb(tmp / f"{name}.nwb", mouse(400, seed), np.arange(400) / 30.0)
    return tmp


def test_fit_with_px_per_mm_reports_mm_and_stores_the_scale(two_sessions, tmp_path, capsys):
    out = tmp_path / "fit"
    code, stdout, err = _run(
        [
            "fit",
            two_sessions / "s1.nwb",
            two_sessions / "s2.nwb",
            "--px-per-mm",
            "2.5",
            "-o",
            out,
            "--states",
            "3",
            "--iters",
            "3",
            "--quiet",
        ],
        capsys,
    )
    assert code == 0, err
    assert "mean speed mm/s" in stdout and "px/s" not in stdout
    with h5py.File(out / "results.h5", "r") as f:
        assert [float(f[f"recordings/{i}"].attrs["px_per_mm"]) for i in range(2)] == [2.5, 2.5]
    summary = pd.read_csv(out / "results_tables" / "summary.csv")
    np.testing.assert_allclose(
        summary["mean_speed_mm_s"], summary["mean_speed_px_s"] / 2.5, rtol=1e-12
    )
    durations = pd.read_csv(out / "results_tables" / "durations.csv")
    np.testing.assert_allclose(
        durations["distance_cm"], durations["distance_px"] / 25.0, rtol=1e-12
    )
    code, stdout, _ = _run(["info", out], capsys)
    assert code == 0 and stdout.count("2.5 px/mm") == 2


def test_a_recording_without_scale_keeps_pixels_for_all_and_says_so(two_sessions, tmp_path, capsys):
    (tmp_path / "scales.csv").write_text("recording,px_per_mm\ns1,2.5\n")
    out = tmp_path / "fit"
    code, stdout, err = _run(
        [
            "fit",
            two_sessions / "s1.nwb",
            two_sessions / "s2.nwb",
            "--px-per-mm",
            tmp_path / "scales.csv",
            "-o",
            out,
            "--states",
            "3",
            "--iters",
            "3",
            "--quiet",
        ],
        capsys,
    )
    assert code == 0, err
    assert "mean speed px/s" in stdout
    assert (
        "note: 1 of 2 recordings have no scale (s2): speeds and distances stay in pixels; "
        "give --px-per-mm "
        "(a number, or a CSV of recording,px_per_mm)"
    ) in stdout
    summary = pd.read_csv(out / "results_tables" / "summary.csv")
    assert "mean_speed_mm_s" not in summary and "mean_speed_px_s" in summary
    from ethogram.results import load_results

    assert load_results(out / "results.h5").px_per_mm() == {"s1": 2.5, "s2": None}


def test_a_missing_scales_file_is_one_line_before_reading(tmp_path, capsys):
    code, _, err = _run(
        [
            "fit",
            tmp_path / "nothing.nwb",
            "--px-per-mm",
            tmp_path / "scales.csv",
            "-o",
            tmp_path / "o",
        ],
        capsys,
    )
    assert (
        code == 2 and err.count("\n") == 1 and "--px-per-mm" in err and "recording,px_per_mm" in err
    )


def test_results_written_before_the_scale_existed_read_as_unknown(tmp_path):
    from ethogram.results import load_results, write_results
    from ethogram.viz._synthetic import synthetic_results

    res = synthetic_results(
        num_states=2, num_recordings=1, num_frames=60, fps=25.0, expected_states=False
    )
    write_results(tmp_path / "r.h5", res, csv=False)
    with h5py.File(tmp_path / "r.h5", "r+") as f:
        del f["recordings/0"].attrs["px_per_mm"]
    assert load_results(tmp_path / "r.h5").recordings[0].px_per_mm is None


@needs_shared
def test_moseq2_speed_in_mm_agrees_with_moseq2s_own_velocity():
    """The scale read from the extraction turns our pixel speed into moseq2's mm speed: the mean
    of ``velocity_2d_mm`` (mm per frame, forward differences of its mm centroid) times the frame
    rate is within 15% of ours (central differences, ``numpy.gradient``, which average the
    tracking noise of two steps and so come out a little lower)."""
    data_dir = SHARED
    from ethogram.analysis import syllable_summary

    path = data_dir / "moseq2" / "proc" / "results_00.h5"
    (rec,) = read_recordings(path)
    with h5py.File(path, "r") as f:
        theirs = float(np.nanmean(f["scalars/velocity_2d_mm"][()])) * rec.fps
    labels = {rec.name: np.where(np.isfinite(rec.centroid).all(axis=1), 0, -1)}
    s = syllable_summary(
        labels,
        fps=rec.fps,
        centroid={rec.name: rec.centroid},
        num_states=1,
        px_per_mm={rec.name: rec.px_per_mm},
    )
    assert s["mean_speed_mm_s"].iloc[0] == pytest.approx(theirs, rel=0.15)
    assert s["mean_speed_mm_s"].iloc[0] < theirs
