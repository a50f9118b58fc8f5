"""JABS pose files: the version is decided from the file name and what the file holds, never from
the ``version`` attribute alone (issue 18).

The files are written here the way the KumarLabJax mouse-tracking pipeline writes them: three
mice in five instance slots, instances in any order within a frame, tracklets broken every few
hundred frames (``instance_track_id``), long-term identities (``instance_embed_id`` 1..3, other
values for instances without an identity, ``id_mask``), ``instance_id_center``, the arena corners
as a static object, ``cm_per_pixel``, and a ``version`` attribute left at 3.0 by the first stage
of the pipeline although the file is v5. Read as v3 tracklets, such a file gave four
"identities", three of them 31-50% missing; each mouse is present in 97% or more of the frames.
"""

from __future__ import annotations

import warnings

import h5py
import numpy as np
import pytest

from conftest import DATA
from ethogram.io import ReadNoteWarning, describe, read_recordings
from ethogram.io.jabs import JABS_BODYPARTS

T, SLOTS, MICE = 900, 5, 3


def _mice(rng) -> np.ndarray:
    """(T, MICE, 12, 2) x, y pixels of three mice walking in a 700 px arena."""
    centre = 350 + np.cumsum(rng.normal(0, 2.0, (T, MICE, 2)), axis=0)
    body = rng.normal(0, 15, (1, MICE, 12, 2)) + rng.normal(0, 1.0, (T, MICE, 12, 2))
    return np.clip(centre[:, :, None, :] + body, 5, 695)


def write_jabs_v5(path, rng, version_attribute=(3, 0), with_identities=True):
    """A pose file as the mouse-tracking pipeline writes it; returns (xy, present, embed_of_mouse).

    xy: (T, MICE, 12, 2) the written positions (after uint16 rounding); present: (T, MICE)
    whether the mouse was detected and given its identity in that frame.
    """
    xy = np.round(_mice(rng))
    present = rng.random((T, MICE)) > 0.015  # each mouse missed in about 1.5% of the frames
    spurious = rng.random(T) < 0.03  # a fourth, spurious detection in 3% of the frames
    points = np.zeros((T, SLOTS, 12, 2), np.uint16)
    conf = np.zeros((T, SLOTS, 12), np.float32)
    count = np.zeros(T, np.uint8)
    track = np.zeros((T, SLOTS), np.uint32)
    embed = np.zeros((T, SLOTS), np.uint32)
    id_mask = np.ones((T, SLOTS), bool)
    # tracklets are unbroken runs: a mouse's track gets a new id after each gap and at 4 frames
    breaks = {
        m: set(rng.choice(np.arange(50, T), size=4, replace=False).tolist()) for m in range(MICE)
    }
    tracklet, next_id = {}, 1
    for t in range(T):
        for m in range(MICE):
            if present[t, m] and (t == 0 or not present[t - 1, m] or t in breaks[m]):
                tracklet[m], next_id = next_id, next_id + 1
        who = [m for m in range(MICE) if present[t, m]] + (["ghost"] if spurious[t] else [])
        rng.shuffle(who)
        for i, m in enumerate(who):
            if m == "ghost":
                points[t, i] = (rng.uniform(10, 690, (12, 2))).astype(np.uint16)
                conf[t, i] = rng.uniform(0.1, 0.4, 12)
                track[t, i] = 100000 + t
                embed[t, i] = MICE + 1 + t % 3  # a valid instance with no long-term identity
            else:
                points[t, i] = xy[t, m, :, ::-1].astype(np.uint16)  # stored as (y, x)
                conf[t, i] = rng.uniform(0.5, 1.0, 12)
                track[t, i] = tracklet[m]
                embed[t, i] = m + 1
                id_mask[t, i] = False
        count[t] = len(who)
    with h5py.File(path, "w") as f:
        g = f.create_group("poseest")
        if version_attribute is not None:
            g.attrs["version"] = np.array(version_attribute, dtype=np.uint16)
        g.attrs["cm_per_pixel"] = np.float32(0.0795)
        g.attrs["cm_per_pixel_source"] = "corner_detection"
        g["points"], g["confidence"], g["instance_count"] = points, conf, count
        g["instance_embedding"] = np.zeros((T, SLOTS, 12), np.float32)
        g["instance_track_id"] = track
        if with_identities:
            g["instance_embed_id"], g["id_mask"] = embed, id_mask
            g["identity_embeds"] = rng.normal(size=(T, SLOTS, 16)).astype(np.float32)
            g["instance_id_center"] = rng.normal(size=(MICE, 16)).astype(np.float32)
        f.create_dataset(
            "static_objects/corners",
            data=np.array([[10, 10], [690, 10], [690, 690], [10, 690]], dtype=np.uint16),
        )
    return xy, present


def test_a_v5_file_whose_version_attribute_says_3_is_read_by_its_long_term_identities(tmp_path):
    path = tmp_path / "cage3_2023-05-01_pose_est_v5.h5"
    xy, present = write_jabs_v5(path, np.random.default_rng(0))
    with warnings.catch_warnings():
        warnings.simplefilter("error", ReadNoteWarning)  # name and contents agree: nothing to note
        recs = read_recordings(path)
    assert [r.name for r in recs] == [f"{path.stem}/id{k}" for k in range(MICE)]
    for m, r in enumerate(recs):
        tracked = np.isfinite(r.data).all(axis=2).any(axis=1)
        assert tracked.mean() >= 0.97
        np.testing.assert_array_equal(tracked, present[:, m])
        np.testing.assert_array_equal(r.data[present[:, m]], xy[present[:, m], m])
        assert r.bodyparts == JABS_BODYPARTS and r.fps == 30.0
        assert r.attrs["jabs_version"] == 5 and r.attrs["jabs_identities"] == "instance_embed_id"
        assert (
            r.attrs["jabs_version_from"] == "file name _pose_est_v5; its version attribute says 3.0"
        )
        assert r.attrs["cm_per_pixel"] == pytest.approx(0.0795) and r.attrs["static_objects"] == [
            "corners"
        ]
    text = describe(recs[0])
    assert (
        "  JABS pose v5 (from the file name _pose_est_v5; its version attribute says 3.0); "
        "animals: long-term identities (instance_embed_id)"
    ) in text.splitlines()


def test_info_says_which_version_was_used(tmp_path, capsys):
    from ethogram.cli import main

    path = tmp_path / "cage3_pose_est_v5.h5"
    write_jabs_v5(path, np.random.default_rng(1))
    assert main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    assert (
        out.count("JABS pose v5 (from the file name _pose_est_v5; its version attribute says 3.0)")
        == MICE
    )


def test_a_file_name_that_contradicts_the_contents_is_noted_and_the_contents_win(tmp_path):
    # identities in a file named v3: read by identity (JABS would use the tracklets), with a note
    named_v3 = tmp_path / "a_pose_est_v3.h5"
    xy, present = write_jabs_v5(named_v3, np.random.default_rng(2))
    with pytest.warns(ReadNoteWarning) as record:
        recs = read_recordings(named_v3)
    [msg] = [str(w.message) for w in record]
    assert msg == (
        f"{named_v3}: the file name says v3 but the file holds long-term identities "
        "(instance_embed_id); read as v5 from its contents"
    )
    assert len(recs) == MICE and recs[0].attrs["jabs_version"] == 5
    np.testing.assert_array_equal(recs[1].data[present[:, 1]], xy[present[:, 1], 1])
    # a file named v5 without identities: its tracklets, as v3, with a note
    no_ids = tmp_path / "b_pose_est_v5.h5"
    write_jabs_v5(no_ids, np.random.default_rng(3), version_attribute=None, with_identities=False)
    with pytest.warns(
        ReadNoteWarning,
        match=r"b_pose_est_v5.h5: the file name says v5 but the file holds tracklets",
    ):
        recs = read_recordings(no_ids)
    assert all(
        r.attrs["jabs_version"] == 3 and r.attrs["jabs_identities"] == "instance_track_id"
        for r in recs
    )
    assert recs[0].attrs["jabs_version_from"] == "contents"


def test_the_real_v2_and_v3_files_name_their_version():
    (v2,) = read_recordings(DATA / "jabs" / "sample_pose_est_v2.h5")
    assert v2.attrs["jabs_version"] == 2 and v2.attrs["jabs_version_attribute"] is None
    assert (
        "  JABS pose v2 (from the file name _pose_est_v2); animals: one mouse"
        in describe(v2).splitlines()
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the excerpt's first 600 frames: no ghost identity
        v3 = read_recordings(DATA / "jabs" / "sample_pose_est_v3.h5")
    assert [r.name for r in v3] == [f"sample_pose_est_v3/id{i}" for i in range(4)]
    assert {r.attrs["jabs_version"] for r in v3} == {3}
    assert (
        v3[0].attrs["jabs_version_from"] == "file name _pose_est_v3"
        and v3[0].attrs["jabs_version_attribute"] == "3.0"
    )


# JABS confidences are heatmap peaks, not probabilities, and JABS counts a point valid when its
# confidence is above 0.3 (JABS-behavior-classifier ``MINIMUM_CONFIDENCE``, ``confidence >
# MINIMUM_CONFIDENCE`` in every ``PoseEstimationV*``; the mouse-tracking pipeline uses the same
# 0.3). Before, a point at 0.2 was read as present (only 0, the padding, was missing), and the
# default threshold of 0.5 removed points JABS keeps without saying so.


def test_the_real_files_confidences_are_heatmap_peaks_and_every_valid_point_is_read():
    v2_path, v3_path = (
        DATA / "jabs" / "sample_pose_est_v2.h5",
        DATA / "jabs" / "sample_pose_est_v3.h5",
    )
    with h5py.File(v2_path, "r") as f:
        c2 = f["poseest/confidence"][()]
    with h5py.File(v3_path, "r") as f:
        c3, count = f["poseest/confidence"][()], f["poseest/instance_count"][()]
    c3 = c3[np.arange(c3.shape[1])[None, :] < count[:, None]]  # the instances of each frame
    # single-mouse model: 0.5565 to 1.049, none missing; multi-mouse: 0 (missing) or 1.0008 to 5.17
    assert (c2.min(), c2.max()) == pytest.approx((0.5565, 1.0486), abs=1e-4)
    assert (c3 == 0).sum() == 6756 and c3.size == 23640
    assert (c3[c3 > 0].min(), c3.max()) == pytest.approx((1.0008, 5.1675), abs=1e-4)
    assert np.median(c3) == pytest.approx(2.17, abs=0.01)
    (v2,) = read_recordings(v2_path)
    v3 = read_recordings(v3_path)
    for r in (v2, *v3):
        present = np.isfinite(r.data).all(axis=2)
        # the points read are exactly those JABS counts valid (its own rule, on the same slots)
        np.testing.assert_array_equal(present, np.nan_to_num(r.confidence) > 0.3)
        assert r.attrs["jabs_min_confidence"] == 0.3
    assert [int(np.isfinite(r.data).all(axis=2).sum()) for r in (v2, *v3)] == [
        21600,
        4081,
        4268,
        4760,
        3775,
    ]
    assert (
        "  JABS points: valid when their confidence is above 0.3, missing otherwise (JABS' rule; "
        "the confidences are heatmap peaks, not probabilities); 0 of the 4081 valid points are "
        "below 0.5, the default --confidence (so lowering --confidence changes nothing)"
    ) in describe(v3[0]).splitlines()
    # JABS' padding (confidence 0: no point at all) is missing, not low confidence: the one
    # line above says it, and no second line contradicts it
    assert "low confidence" not in describe(v3[0])


def _one_mouse_file(path, conf) -> np.ndarray:
    """A v2 file of 300 frames with the given (300, 12) confidences; returns the (x, y) points."""
    xy = np.round(_mice(np.random.default_rng(4))[:300, 0])
    with h5py.File(path, "w") as f:
        f["poseest/points"] = xy[..., ::-1].astype(np.uint16)
        f["poseest/confidence"] = conf.astype(np.float32)
    return xy


def test_points_at_or_below_jabs_minimum_confidence_are_missing_as_jabs_reads_them(tmp_path):
    from ethogram.errors import ArgumentWarning
    from ethogram.prep import Preparation

    conf = np.full((300, 12), 0.9)
    conf[10:20, 4], conf[30:40, 5] = 0.2, 0.3  # invalid for JABS (confidence <= 0.3)
    conf[50:60, 7], conf[70:80, 8] = 0.31, 0.45  # valid for JABS, below the default 0.5
    path = tmp_path / "cage1_pose_est_v2.h5"
    xy = _one_mouse_file(path, conf)
    (rec,) = read_recordings(path)
    present = np.isfinite(rec.data).all(axis=2)
    assert not present[10:20, 4].any() and not present[30:40, 5].any()
    assert present.sum() == 300 * 12 - 20
    np.testing.assert_array_equal(rec.data[present], xy[present])
    np.testing.assert_allclose(rec.confidence, conf.astype(np.float32))  # stored as is
    # info says it once, in the JABS line, counting only the points JABS reads
    text = describe(rec)
    assert (
        "20 of the 3580 valid points are below 0.5, the default --confidence (masked by "
        "default; --confidence 0.3 keeps them)"
    ) in text
    assert "low confidence" not in text
    # the default threshold removes the 20 points JABS keeps between 0.3 and 0.5, and says so
    with pytest.warns(ArgumentWarning) as record:
        Preparation(max_gap=0).fit(read_recordings(path))
    # the same line each time the preparation selects the points (a user sees it once)
    [msg] = {
        str(w.message): w.message for w in record if isinstance(w.message, ArgumentWarning)
    }.values()
    assert str(msg) == (
        "recording 'cage1_pose_est_v2': 20 of 3580 points that JABS counts valid (confidence "
        "above 0.3; its confidences are heatmap peaks, not probabilities) are below "
        "confidence_threshold=0.5 and become missing; confidence_threshold=0.3 keeps the "
        "points JABS keeps"
    )
    assert msg.worded({"confidence_threshold": "--confidence"}).endswith(
        "are below --confidence 0.5 and become missing; --confidence 0.3 keeps the points JABS "
        "keeps"
    )
    # at JABS' own threshold, or with none, the valid points are kept and nothing is said; the
    # invalid ones stay missing even with no threshold at all
    for threshold in (0.3, None):
        with warnings.catch_warnings():
            warnings.simplefilter("error", ArgumentWarning)
            prep = Preparation(confidence_threshold=threshold, max_gap=0).fit([rec])
            kept = np.isfinite(prep._select(rec, fitting=False)).all(axis=2)
        np.testing.assert_array_equal(kept, present)
