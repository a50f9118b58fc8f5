"""MoSeq readers: moseq2 scores + extraction (dropped frames as NaN rows) and the course's NWB
layout.

The NWB file is written here with :func:`ethogram.io.write_moseq_nwb` from the real moseq2
recording, then read back; every value is compared with the raw datasets read with h5py.
"""

import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest

from ethogram.io import LazyFrames, read_recordings, write_moseq_nwb

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
pytestmark = pytest.mark.skipif(not DATA.exists(), reason=f"real recordings not found at {DATA}")

MOSEQ = DATA / "moseq2"
UUID = "5c72bf30-9596-4d4d-ae38-db9a7a28e912"  # the uuid stored in proc/results_00.h5


def _raw(uuid=UUID):
    with h5py.File(MOSEQ / "test_scores.h5", "r") as f:
        scores = f[f"scores/{uuid}"][()].astype(float)
        idx = f[f"scores_idx/{uuid}"][()]
    with h5py.File(MOSEQ / "proc" / "results_00.h5", "r") as f:
        ts_ms = f["timestamps"][()]
        cx, cy = f["scalars/centroid_x_px"][()], f["scalars/centroid_y_px"][()]
        angle = f["scalars/angle"][()]
        frames = f["frames"][()]
    return scores, idx, ts_ms, cx, cy, angle, frames


def test_moseq2_scores_file_dropped_frames_are_nan_rows_and_extras_align():
    scores, idx, ts_ms, cx, cy, angle, frames = _raw()
    recs = read_recordings(MOSEQ / "test_scores.h5")
    assert [r.name for r in recs] == sorted(
        f"test_scores/{u}" for u in (UUID, "abe92017-1d40-495e-95ef-e420b7f0f4b9")
    )
    rec = next(r for r in recs if r.attrs["uuid"] == UUID)
    assert rec.kind == "features" and rec.format == "moseq2" and rec.data.shape == (908, 50)
    assert rec.fps == 30.0  # the extraction's parameters/fps
    np.testing.assert_array_equal(rec.data, scores)  # NaN rows included
    dropped = np.isnan(idx)
    assert dropped.sum() == 8 == 908 - 900
    np.testing.assert_array_equal(np.isnan(rec.data).all(axis=1), dropped)
    np.testing.assert_array_equal(np.flatnonzero(dropped), [1, 2, 3, 4, 18, 19, 20, 22])
    rows = idx[~dropped].astype(int)
    np.testing.assert_array_equal(rows, np.arange(900))
    np.testing.assert_array_equal(rec.centroid[~dropped], np.stack([cx, cy], 1)[rows].astype(float))
    np.testing.assert_array_equal(rec.heading[~dropped], angle[rows].astype(float))
    assert np.isnan(rec.centroid[dropped]).all() and np.isnan(rec.heading[dropped]).all()
    # seconds from the first frame; kept frames on the camera clock, dropped ones in between
    np.testing.assert_allclose(
        rec.timestamps[~dropped], (ts_ms[rows] - ts_ms[0]) / 1000.0, rtol=0, atol=1e-9
    )
    assert np.all(np.diff(rec.timestamps) > 0)
    assert rec.attrs["start_time_s"] == ts_ms[0] / 1000.0
    # lazy depth frames: the extraction's rows, zeros at dropped frames
    assert isinstance(rec.frames, LazyFrames) and rec.frames.shape == (908, 80, 80)
    for i in (0, 5, 17, 21, 23, 907):
        np.testing.assert_array_equal(rec.frames[i], frames[int(idx[i])])
    np.testing.assert_array_equal(rec.frames[[1, 22]], np.zeros((2, 80, 80), np.uint8))
    np.testing.assert_array_equal(rec.frames[[907, 0, 5]], frames[[899, 0, 1]])


def test_moseq2_extraction_file_finds_its_scores_and_matches_the_scores_file():
    (rec,) = read_recordings(MOSEQ / "proc" / "results_00.h5")
    (ref,) = [r for r in read_recordings(MOSEQ / "test_scores.h5") if r.attrs["uuid"] == UUID]
    assert rec.name == "results_00" and rec.attrs["uuid"] == UUID
    np.testing.assert_array_equal(rec.data, ref.data)
    np.testing.assert_array_equal(rec.centroid, ref.centroid)
    np.testing.assert_array_equal(rec.timestamps, ref.timestamps)


def test_moseq2_folder_and_duplicates():
    from ethogram.io.readers import SkippedFilesWarning

    with pytest.warns(SkippedFilesWarning) as record:
        recs = read_recordings(
            MOSEQ
        )  # testh5.h5 (PCA model) and changepoints.h5 are not recordings
    assert [str(w.message).split(": skipped: ")[0] for w in record] == [
        str(MOSEQ / "changepoints.h5"),
        str(MOSEQ / "testh5.h5"),
    ]
    assert [r.attrs["uuid"] for r in recs] == sorted([UUID, "abe92017-1d40-495e-95ef-e420b7f0f4b9"])
    both = read_recordings([MOSEQ / "proc" / "results_00.h5", MOSEQ / "test_scores.h5"])
    assert len(both) == 2  # the extraction's session is read once


def test_moseq2_fps_mismatch_and_missing_scores(tmp_path):
    with pytest.raises(ValueError, match="fps"):
        read_recordings(MOSEQ / "test_scores.h5", fps=25)
    lone = tmp_path / "proc"
    lone.mkdir()
    shutil.copy(MOSEQ / "proc" / "results_00.h5", lone / "results_00.h5")
    with pytest.raises(ValueError, match="no PC scores"):
        read_recordings(lone / "results_00.h5")
    # a scores file with no extraction anywhere near: the scores alone, fps from the caller
    shutil.copy(MOSEQ / "test_scores.h5", tmp_path / "elsewhere_scores.h5")
    shutil.rmtree(lone)
    recs = read_recordings(tmp_path / "elsewhere_scores.h5", fps=30)
    assert all(r.frames is None and r.centroid is None and r.fps == 30.0 for r in recs)
    scores, *_ = _raw()
    np.testing.assert_array_equal(next(r for r in recs if r.attrs["uuid"] == UUID).data, scores)


def test_moseq2_extraction_found_by_uuid_without_an_index(tmp_path):
    (tmp_path / "proc").mkdir()
    shutil.copy(MOSEQ / "proc" / "results_00.h5", tmp_path / "proc" / "results_00.h5")
    shutil.copy(MOSEQ / "test_scores.h5", tmp_path / "scores.h5")
    recs = read_recordings(tmp_path / "scores.h5")
    found = {r.attrs["uuid"]: r for r in recs}
    assert found[UUID].frames is not None  # matched by metadata/uuid
    assert (
        found["abe92017-1d40-495e-95ef-e420b7f0f4b9"].frames is None
    )  # no extraction has that uuid


def test_moseq_nwb_round_trip(tmp_path):
    scores, idx, ts_ms, cx, cy, angle, frames = _raw()
    keep = ~np.isnan(idx)
    rows = idx[keep].astype(int)
    pcs = scores[keep][:, :10]
    ts = (ts_ms[rows] - ts_ms[0]) / 1000.0
    centroid = np.stack([cx, cy], 1)[rows]
    labels = (np.arange(len(rows)) // 13) % 7
    labels[:3] = -1
    path = write_moseq_nwb(
        tmp_path / "session_1.nwb",
        pcs,
        ts,
        centroid,
        angle[rows],
        labels=labels,
        frames=frames[rows],
    )
    with h5py.File(path, "r") as f:  # the course's layout, read raw
        m = f["processing/MoSeq"]
        np.testing.assert_array_equal(m["PCs/pcs_clean/data"][()], pcs)
        np.testing.assert_array_equal(m["PCs/pcs_clean/timestamps"][()], ts)
        np.testing.assert_array_equal(m["Scalars/centroid_x_px/data"][()], cx[rows])
        np.testing.assert_array_equal(m["Scalars/angle/data"][()], angle[rows])
        np.testing.assert_array_equal(m["Labels/labels_clean/data"][()], labels)
        assert (
            m["Images/frames/data"].shape == (900, 80, 80)
            and m["Images/frames/data"].dtype == np.uint8
        )
    (rec,) = read_recordings(tmp_path / "*.nwb")
    assert rec.name == "session_1" and rec.format == "moseq-nwb" and rec.kind == "features"
    np.testing.assert_array_equal(rec.data, pcs)
    np.testing.assert_array_equal(rec.timestamps, ts)
    np.testing.assert_array_equal(rec.centroid, centroid.astype(float))
    np.testing.assert_array_equal(rec.heading, angle[rows].astype(float))
    np.testing.assert_array_equal(rec.labels, labels)
    d = np.diff(
        ts
    )  # 3 gaps of dropped frames; the other intervals are the camera's 1/30 s with jitter
    regular = d[d < 0.05]
    assert len(regular) == len(d) - 3
    assert rec.fps == pytest.approx(1 / regular.mean(), rel=1e-12)
    assert abs(rec.fps - 30) < 0.05
    np.testing.assert_array_equal(rec.frames[[0, 450, 899]], frames[rows][[0, 450, 899]])
    assert rec.frames.shape == (900, 80, 80)


def test_moseq_nwb_without_extras_and_with_nan_labels(tmp_path):
    pcs = np.arange(40, dtype=float).reshape(20, 2)
    ts = np.arange(20) / 30.0
    write_moseq_nwb(tmp_path / "bare.nwb", pcs, ts, np.zeros((20, 2)), np.zeros(20))
    (rec,) = read_recordings(tmp_path / "bare.nwb")
    assert rec.labels is None and rec.frames is None and rec.fps == pytest.approx(30.0)
    np.testing.assert_array_equal(rec.data, pcs)
    with pytest.raises(ValueError, match="centroid"):
        write_moseq_nwb(tmp_path / "bad.nwb", pcs, ts, np.zeros((19, 2)), np.zeros(20))


def test_moseq2_dropped_frames_at_the_start_get_timestamps_one_frame_apart(tmp_path):
    (tmp_path / "proc").mkdir()
    shutil.copy(MOSEQ / "proc" / "results_00.h5", tmp_path / "proc" / "results_00.h5")
    scores, idx, ts_ms, *_ = _raw()
    idx2 = idx.copy()
    idx2[:3] = np.nan  # the first three rows dropped as well
    with h5py.File(tmp_path / "scores.h5", "w") as f:
        f[f"scores/{UUID}"] = scores.astype(np.float32)
        f[f"scores_idx/{UUID}"] = idx2.astype(np.float32)
    (rec,) = read_recordings(tmp_path / "scores.h5")
    first = 5  # idx[5] == 1 is the first kept row
    assert np.isnan(idx2[:first]).all() and idx2[first] == 1
    # times count from row 0; the dropped rows before the first kept one sit 1/30 s apart
    np.testing.assert_allclose(
        rec.timestamps[: first + 1], np.arange(first + 1) / 30.0, rtol=0, atol=1e-9
    )
    assert rec.attrs["start_time_s"] == pytest.approx(ts_ms[1] / 1000.0 - first / 30.0, abs=1e-9)
    kept = ~np.isnan(idx2)
    np.testing.assert_allclose(
        rec.timestamps[kept] + rec.attrs["start_time_s"],
        ts_ms[idx2[kept].astype(int)] / 1000.0,
        rtol=0,
        atol=1e-6,
    )
    assert np.all(np.diff(rec.timestamps) > 0)
