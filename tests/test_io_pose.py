"""Pose readers against the raw files read by other means (csv module, h5py).

DeepLabCut csv (single animal, with blanks), DeepLabCut h5 and multi-animal csv/h5 written here,
SLEAP .slp (two flies) and an analysis .h5 written here, NWB ndx-pose, JABS v2, v3 (tracklets
to identities) and v4/v5 files written here with known identities.
"""

import csv
import json
import shutil

import h5py
import numpy as np
import pytest

from conftest import DATA
from ethogram.io import read_recordings
from ethogram.io.pose import JABS_BODYPARTS

OPENFIELD = DATA / "openfield"
FLIES = DATA / "flies" / "clip.slp"
JABS = DATA / "jabs"


def _dlc_csv_raw(path):
    """(T, B, 3) x, y, likelihood and body-part names parsed with the csv module."""
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][0] == "scorer" and rows[1][0] == "bodyparts" and rows[2][0] == "coords"
    names = rows[1][1::3]
    vals = np.array([[float(v) if v != "" else np.nan for v in r[1:]] for r in rows[3:]])
    return vals.reshape(len(vals), len(names), 3), names


def _slp_raw(path):
    """{track name: (T, B, 2)} from the .slp tables (frames, instances, points) with h5py."""
    with h5py.File(path, "r") as f:
        frames, inst, pts = f["frames"][()], f["instances"][()], f["points"][()]
        tracks = [json.loads(t)[1] for t in f["tracks_json"][()]]
        meta = json.loads(f["metadata"].attrs["json"])
        # points of an instance follow the skeleton's node order (ids into the global node list)
        nodes = [meta["nodes"][n["id"]] for n in meta["skeletons"][0]["nodes"]]
    T = int(frames["frame_idx"].max()) + 1
    B = len(nodes)
    out = {t: np.full((T, B, 2), np.nan) for t in tracks}
    for i in inst:
        t = int(frames[i["frame_id"]]["frame_idx"])
        p = pts[i["point_id_start"] : i["point_id_end"]]
        xy = np.stack([p["x"], p["y"]], axis=1)
        xy[~p["visible"]] = np.nan
        out[tracks[i["track"]]][t] = xy
    return out, [n["name"] for n in nodes], T


def test_dlc_csv_matches_the_csv_module_values():
    raw, names = _dlc_csv_raw(OPENFIELD / "keypoints.csv")
    (rec,) = read_recordings(OPENFIELD / "keypoints.csv", fps=30)
    assert rec.name == "keypoints" and rec.format == "dlc" and rec.kind == "keypoints"
    assert rec.bodyparts == tuple(names) == ("snout", "leftear", "rightear", "tailbase")
    assert rec.data.shape == (2330, 4, 2) and rec.fps == 30.0
    np.testing.assert_array_equal(rec.data, raw[:, :, :2])
    np.testing.assert_array_equal(rec.confidence, raw[:, :, 2])
    # a few spelled-out values from the file's first data row
    assert rec.data[0, 0, 0] == 76.67398834228516 and rec.data[0, 3, 1] == 181.9264678955078
    assert rec.confidence[1, 2] == 0.9915583729743958


def test_dlc_csv_blanks_become_nan_and_fps_stays_unknown_without_it():
    raw, _ = _dlc_csv_raw(OPENFIELD / "keypoints_missingdata.csv")
    (rec,) = read_recordings(OPENFIELD / "keypoints_missingdata.csv")
    assert rec.fps is None
    blank = np.isnan(raw[:, :, :2])
    assert 0 < blank.sum() <= 6  # the README: 6 values blanked
    np.testing.assert_array_equal(np.isnan(rec.data), blank)
    np.testing.assert_array_equal(rec.data, raw[:, :, :2])  # NaN compare equal here
    np.testing.assert_array_equal(rec.confidence, raw[:, :, 2])


def test_dlc_h5_written_by_movement_reads_back_the_csv_values(tmp_path):
    from movement.io import load_poses, save_poses

    raw, names = _dlc_csv_raw(OPENFIELD / "keypoints_missingdata.csv")
    ds = load_poses.from_dlc_file(OPENFIELD / "keypoints_missingdata.csv")
    out = tmp_path / "session1.h5"
    save_poses.to_dlc_file(ds, out, split_individuals=True)
    written = sorted(tmp_path.glob("*.h5"))
    assert len(written) == 1
    with h5py.File(written[0], "r") as f:
        assert "df_with_missing" in f  # a genuine DeepLabCut (pandas) table
    (rec,) = read_recordings(written[0], fps=30)
    assert rec.format == "dlc" and rec.bodyparts == tuple(names)
    np.testing.assert_array_equal(rec.data, raw[:, :, :2])
    np.testing.assert_array_equal(rec.confidence, raw[:, :, 2])


def _write_multi_animal_dlc_csv(path, tracks, names, scorer="DLC_test"):
    """A DeepLabCut multi-animal csv (scorer/individuals/bodyparts/coords header) with the csv
    module."""
    animals = list(tracks)
    T = next(iter(tracks.values()))[0].shape[0]
    header = [["scorer"], ["individuals"], ["bodyparts"], ["coords"]]
    for a in animals:
        for b in names:
            for c in ("x", "y", "likelihood"):
                header[0].append(scorer)
                header[1].append(a)
                header[2].append(b)
                header[3].append(c)
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerows(header)
        for t in range(T):
            row = [t]
            for a in animals:
                xy, lik = tracks[a]
                for j in range(len(names)):
                    for v in (xy[t, j, 0], xy[t, j, 1], lik[t, j]):
                        row.append("" if np.isnan(v) else repr(float(v)))
            w.writerow(row)


def test_dlc_multi_animal_csv_splits_into_one_recording_per_individual(tmp_path):
    raw, names, T = _slp_raw(FLIES)
    rng = np.random.default_rng(0)
    tracks = {a: (raw[a], np.round(rng.uniform(0, 1, raw[a].shape[:2]), 4)) for a in raw}
    for a in tracks:  # likelihood missing where the point is
        tracks[a][1][np.isnan(raw[a][..., 0])] = np.nan
    _write_multi_animal_dlc_csv(tmp_path / "flies_dlc.csv", tracks, names)
    recs = read_recordings(tmp_path / "flies_dlc.csv", fps=25)
    assert [r.name for r in recs] == ["flies_dlc/female", "flies_dlc/male"]
    for r in recs:
        a = r.name.split("/")[1]
        assert r.bodyparts == tuple(names) and r.fps == 25.0
        np.testing.assert_array_equal(r.data, raw[a])
        np.testing.assert_array_equal(r.confidence, tracks[a][1])
    assert not np.array_equal(recs[0].data, recs[1].data, equal_nan=True)


def test_dlc_multi_animal_h5_from_movement_saver(tmp_path):
    from movement.io import load_poses, save_poses

    raw, names, T = _slp_raw(FLIES)
    ds = load_poses.from_sleap_file(FLIES)
    save_poses.to_dlc_file(ds, tmp_path / "flies_ma.h5", split_individuals=False)
    recs = read_recordings(tmp_path / "flies_ma.h5")
    assert [r.name for r in recs] == ["flies_ma/female", "flies_ma/male"]
    for r in recs:
        np.testing.assert_array_equal(r.data, raw[r.name.split("/")[1]])


def test_sleap_slp_two_flies_match_the_raw_tables():
    raw, names, T = _slp_raw(FLIES)
    recs = read_recordings(FLIES, fps=25)
    assert [r.name for r in recs] == ["clip/female", "clip/male"]
    for r in recs:
        assert r.format == "sleap" and r.fps == 25.0 and r.bodyparts == tuple(names)
        assert r.data.shape == (T, 13, 2) == (300, 13, 2)
        np.testing.assert_array_equal(r.data, raw[r.name.split("/")[1]])
        assert r.video_path == str((DATA / "flies" / "clip.mp4").resolve())
    assert any(np.isnan(r.data).any() for r in recs)  # some nodes are missing in this clip
    # spot values from the first instance (frame 0, track male): the first row of `points`
    male = recs[1]
    assert tuple(male.data[0, 0]) == (335.25, 444.75)


def test_sleap_analysis_h5_written_by_movement(tmp_path):
    from movement.io import load_poses, save_poses

    raw, names, T = _slp_raw(FLIES)
    save_poses.to_sleap_analysis_file(
        load_poses.from_sleap_file(FLIES), tmp_path / "clip.analysis.h5"
    )
    with h5py.File(tmp_path / "clip.analysis.h5", "r") as f:
        tracks = f["tracks"][()]  # (n_tracks, 2, n_nodes, T)
        track_names = [t.decode() for t in f["track_names"][()]]
    recs = read_recordings(tmp_path / "clip.analysis.h5")
    assert [r.name for r in recs] == [f"clip.analysis/{t}" for t in track_names]
    for j, r in enumerate(recs):
        assert r.format == "sleap" and r.bodyparts == tuple(names)
        np.testing.assert_array_equal(r.data, tracks[j].transpose(2, 1, 0))
        np.testing.assert_array_equal(r.data, raw[track_names[j]])


def test_nwb_pose_matches_h5py_and_frame_number_timestamps_are_not_seconds():
    path = OPENFIELD / "keypoints_ndx_pose.nwb"
    grp = "processing/behavior/PoseEstimation"
    with h5py.File(path, "r") as f:
        raw = {
            k[len("ind1_") :]: (f[f"{grp}/{k}/data"][()], f[f"{grp}/{k}/confidence"][()])
            for k in f[grp]
            if k.startswith("ind1_")
        }
        ts = f[f"{grp}/ind1_snout/timestamps"][()]
    np.testing.assert_array_equal(ts, np.arange(600))  # this file stores frame numbers
    (rec,) = read_recordings(path)
    assert rec.format == "nwb-pose" and rec.name == "keypoints_ndx_pose"
    assert sorted(rec.bodyparts) == sorted(raw) == ["leftear", "rightear", "snout", "tailbase"]
    assert rec.fps is None and rec.timestamps is None  # not 1 Hz
    (rec30,) = read_recordings(path, fps=30)
    assert rec30.fps == 30.0
    for j, b in enumerate(rec.bodyparts):
        np.testing.assert_array_equal(rec.data[:, j], raw[b][0])
        np.testing.assert_array_equal(rec.confidence[:, j], raw[b][1])


def test_nwb_pose_with_real_timestamps_takes_fps_from_them(tmp_path):
    path = tmp_path / "timed.nwb"
    shutil.copy(OPENFIELD / "keypoints_ndx_pose.nwb", path)
    grp = "processing/behavior/PoseEstimation"
    with h5py.File(path, "r+") as f:
        for k in f[grp]:
            if k.startswith("ind1_"):
                f[f"{grp}/{k}/timestamps"][...] = 12.5 + np.arange(600) / 29.97
        t = f[f"{grp}/ind1_snout/timestamps"][()]
    (rec,) = read_recordings(path)
    assert rec.fps == pytest.approx(29.97, rel=1e-9)
    np.testing.assert_array_equal(rec.timestamps, t)
    with pytest.raises(ValueError, match="fps"):
        read_recordings(path, fps=25)


def test_jabs_v2_flips_y_x_to_x_y():
    path = JABS / "sample_pose_est_v2.h5"
    with h5py.File(path, "r") as f:
        pts = f["poseest/points"][()]
        conf = f["poseest/confidence"][()]
    (rec,) = read_recordings(path)
    assert rec.name == "sample_pose_est_v2" and rec.format == "jabs" and rec.fps == 30.0
    assert (
        rec.bodyparts == JABS_BODYPARTS
        and rec.bodyparts[0] == "nose"
        and rec.bodyparts[11] == "tip_tail"
    )
    for t, k in [(0, 0), (17, 3), (900, 9), (1799, 11)]:
        assert rec.data[t, k, 0] == pts[t, k, 1]  # x = second stored value
        assert rec.data[t, k, 1] == pts[t, k, 0]  # y = first stored value
    ok = conf > 0
    np.testing.assert_array_equal(rec.data[ok], pts[ok][:, ::-1].astype(float))
    assert np.isnan(rec.data[~ok]).all()
    np.testing.assert_array_equal(rec.confidence, conf.astype(float))
    assert read_recordings(path, fps=15)[0].fps == 15.0


def test_jabs_v3_partitions_every_tracked_instance_into_identities():
    path = JABS / "sample_pose_est_v3.h5"
    with h5py.File(path, "r") as f:
        pts = f["poseest/points"][()]
        conf = f["poseest/confidence"][()].astype(float)
        count = f["poseest/instance_count"][()]
        track = f["poseest/instance_track_id"][()]
    recs = read_recordings(path)
    assert len(recs) >= count.max() >= 2
    assert all(r.name.startswith("sample_pose_est_v3/id") for r in recs)
    T = pts.shape[0]
    owner = {}  # track id -> identity holding it
    for t in range(0, T, 7):
        for i in range(count[t]):
            hits = [k for k, r in enumerate(recs) if np.array_equal(r.confidence[t], conf[t, i])]
            assert len(hits) == 1, (t, i)
            r = recs[hits[0]]
            ok = conf[t, i] > 0
            np.testing.assert_array_equal(r.data[t, ok], pts[t, i, ok][:, ::-1].astype(float))
            assert np.isnan(r.data[t, ~ok]).all()
            owner.setdefault(int(track[t, i]), set()).add(hits[0])
        present = [k for k, r in enumerate(recs) if np.isfinite(r.confidence[t]).any()]
        assert len(present) == count[t]
    assert all(len(v) == 1 for v in owner.values())  # a tracklet stays with one identity


@pytest.mark.parametrize("version", [4, 5])
def test_jabs_v4_v5_long_term_identities(tmp_path, version):
    """Instances shuffled per frame; instance_embed_id says which mouse each one is."""
    with h5py.File(JABS / "sample_pose_est_v3.h5", "r") as f:
        pts = f["poseest/points"][()]
        conf = f["poseest/confidence"][()]
    T, n, B, _ = pts.shape
    rng = np.random.default_rng(version)
    n_id = 3  # mice 1..3 are the first three slots of the source file
    perm = np.array([rng.permutation(n) for _ in range(T)])
    shuffled_pts = np.take_along_axis(pts, perm[:, :, None, None], axis=1)
    shuffled_conf = np.take_along_axis(conf, perm[:, :, None], axis=1)
    embed = np.where(
        perm < n_id, perm + 1, n_id + 1 + perm
    )  # slots >= n_id: tracked, not identified
    id_mask = perm >= n_id
    drop = rng.random((T, n)) < 0.05  # some identified instances masked out anyway
    id_mask |= drop
    path = tmp_path / f"mice_pose_est_v{version}.h5"
    with h5py.File(path, "w") as f:
        g = f.create_group("poseest")
        g.attrs["version"] = np.array([version, 0], dtype=np.uint16)
        g.attrs["cm_per_pixel"] = np.float32(0.0795)
        g["points"], g["confidence"] = shuffled_pts, shuffled_conf
        g["instance_count"] = np.full(T, n, dtype=np.uint8)
        g["instance_embed_id"] = embed.astype(np.uint32)
        g["id_mask"] = id_mask
        g["instance_id_center"] = np.zeros((n_id, 16), dtype=np.float32)
        g["instance_track_id"] = np.zeros((T, n), dtype=np.uint32)
        if version == 5:
            g["external_identity_mapping"] = np.array([b"black", b"white", b"agouti"])
            f.create_dataset("static_objects/corners", data=np.zeros((4, 2), dtype=np.uint16))
    recs = read_recordings(path)
    labels = ["black", "white", "agouti"] if version == 5 else ["id0", "id1", "id2"]
    assert [r.name for r in recs] == [f"{path.stem}/{lab}" for lab in labels]
    for k, r in enumerate(recs):
        assert r.attrs["jabs_version"] == version and r.attrs["cm_per_pixel"] == pytest.approx(
            0.0795
        )
        kept = ~drop[np.arange(T), np.argmax(perm == k, axis=1)]
        ok = (conf[:, k] > 0) & kept[:, None]
        np.testing.assert_array_equal(r.data[ok], pts[:, k][ok][:, ::-1].astype(float))
        assert np.isnan(r.data[~ok]).all()
        np.testing.assert_array_equal(r.confidence[kept], conf[kept, k].astype(float))
        assert np.isnan(r.confidence[~kept]).all()


def test_movement_prints_nothing(capfd):
    read_recordings(OPENFIELD / "keypoints.csv")
    read_recordings(FLIES)
    read_recordings(OPENFIELD / "keypoints_ndx_pose.nwb")
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_nwb_pose_written_by_movement_with_a_frame_rate(tmp_path):
    from movement.io import load_poses, save_poses
    from pynwb import NWBHDF5IO

    raw, names = _dlc_csv_raw(OPENFIELD / "keypoints_missingdata.csv")
    nwb = save_poses.to_nwb_file(
        load_poses.from_dlc_file(OPENFIELD / "keypoints_missingdata.csv", fps=30)
    )
    with NWBHDF5IO(str(tmp_path / "from_dlc.nwb"), "w") as io:
        io.write(nwb)
    (rec,) = read_recordings(tmp_path / "from_dlc.nwb")
    assert rec.fps == pytest.approx(30.0, rel=1e-12)
    np.testing.assert_allclose(rec.timestamps, np.arange(len(raw)) / 30.0, rtol=0, atol=1e-12)
    assert sorted(rec.bodyparts) == sorted(names)
    for j, b in enumerate(rec.bodyparts):
        k = names.index(b)
        np.testing.assert_array_equal(rec.data[:, j], raw[:, k, :2])
        np.testing.assert_array_equal(rec.confidence[:, j], raw[:, k, 2])


def test_nwb_pose_two_pose_estimation_containers_are_two_animals(tmp_path):
    from datetime import datetime, timezone

    from ndx_pose import PoseEstimation, PoseEstimationSeries, Skeleton, Skeletons
    from pynwb import NWBHDF5IO, NWBFile

    raw, names, T = _slp_raw(FLIES)
    nwb = NWBFile(
        session_description="two flies",
        identifier="flies",
        session_start_time=datetime(2020, 1, 1, tzinfo=timezone.utc),
    )
    mod = nwb.create_processing_module("behavior", "pose")
    skeletons, poses = [], []
    rng = np.random.default_rng(3)
    conf = {}
    for animal in ("female", "male"):
        sk = Skeleton(
            name=f"skeleton_{animal}", nodes=names, edges=np.array([[0, 1]], dtype="uint8")
        )
        skeletons.append(sk)
        conf[animal] = rng.uniform(size=(T, len(names)))
        series = [
            PoseEstimationSeries(
                name=b,
                data=raw[animal][:, j],
                confidence=conf[animal][:, j],
                unit="pixels",
                reference_frame="top left",
                timestamps=np.arange(T) / 25.0,
            )
            for j, b in enumerate(names)
        ]
        poses.append(
            PoseEstimation(
                name=animal, pose_estimation_series=series, skeleton=sk, source_software="SLEAP"
            )
        )
    mod.add(Skeletons(skeletons=skeletons))
    for p in poses:
        mod.add(p)
    with NWBHDF5IO(str(tmp_path / "flies.nwb"), "w") as io:
        io.write(nwb)
    recs = read_recordings(tmp_path / "flies.nwb")
    assert [r.name for r in recs] == ["flies/female", "flies/male"]
    for r in recs:
        a = r.name.split("/")[1]
        assert r.fps == pytest.approx(25.0, rel=1e-12)
        order = [names.index(b) for b in r.bodyparts]
        assert sorted(order) == list(range(len(names)))
        np.testing.assert_array_equal(r.data, raw[a][:, order])
        np.testing.assert_array_equal(r.confidence, conf[a][:, order])


def _movement_arrays(path):
    from movement.io import load_poses

    ds = load_poses.from_dlc_file(path)
    return (
        ds["position"].transpose("time", "individuals", "keypoints", "space").values,
        ds["confidence"].transpose("time", "individuals", "keypoints").values,
        [str(k) for k in ds["keypoints"].values],
        [str(i) for i in ds["individuals"].values],
    )


def test_dlc_reader_agrees_with_movement_on_plain_tables(tmp_path):
    """Where movement reads a table right (every individual with the same body parts), our
    column-by-name reader gives the same arrays, csv and h5."""
    from movement.io import load_poses, save_poses

    from ethogram.io.dlc import dlc_table, split_individuals

    raw, names, T = _slp_raw(FLIES)
    tracks = {a: (raw[a], np.where(np.isnan(raw[a][..., 0]), np.nan, 0.5)) for a in raw}
    _write_multi_animal_dlc_csv(tmp_path / "ma.csv", tracks, names)
    save_poses.to_dlc_file(
        load_poses.from_dlc_file(tmp_path / "ma.csv"), tmp_path / "ma.h5", split_individuals=False
    )
    files = [
        OPENFIELD / "keypoints.csv",
        OPENFIELD / "keypoints_missingdata.csv",
        tmp_path / "ma.csv",
        tmp_path / "ma.h5",
    ]
    for path in files:
        ours = split_individuals(*dlc_table(path)[:2])
        pos, conf, kp, ind = _movement_arrays(path)
        assert [a["individual"] for a in ours] == ind
        for j, a in enumerate(ours):
            assert a["bodyparts"] == kp
            np.testing.assert_array_equal(a["position"], pos[:, j])
            np.testing.assert_array_equal(a["confidence"], conf[:, j])
    with pytest.raises(
        ValueError, match="hand-labelled images"
    ):  # indexed by image: not a recording
        dlc_table(OPENFIELD / "human_labels_other_video.csv")


def test_video_beside_dlc_and_jabs_files_by_their_naming_rules(tmp_path):
    shutil.copy(
        OPENFIELD / "keypoints.csv",
        tmp_path / "m3v1mp4DLC_resnet50_openfieldOct30shuffle1_6000.csv",
    )
    shutil.copy(JABS / "sample_pose_est_v2.h5", tmp_path / "cage7_pose_est_v2.h5")
    shutil.copy(OPENFIELD / "keypoints.csv", tmp_path / "plain.csv")
    (tmp_path / "plain.mp4").write_bytes(b"")  # a csv not named by DeepLabCut's rule: no link
    recs = read_recordings(tmp_path)
    assert [r.video_path for r in recs] == [None, None, None]
    (tmp_path / "m3v1mp4.mp4").write_bytes(b"")
    (tmp_path / "cage7.avi").write_bytes(b"")
    recs = {r.name: r for r in read_recordings(tmp_path)}
    assert recs["m3v1mp4DLC_resnet50_openfieldOct30shuffle1_6000"].video_path == str(
        tmp_path / "m3v1mp4.mp4"
    )
    assert recs["cage7_pose_est_v2"].video_path == str(tmp_path / "cage7.avi")
    assert recs["plain"].video_path is None
