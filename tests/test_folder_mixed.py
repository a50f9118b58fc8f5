"""A new user's folder of mixed real files (issue 18, "done when"): one correct recording per
animal, or one clear warning line per file that cannot be read, never an abort.

The folder holds the real recordings of ../shared/data (DeepLabCut csv, NWB ndx-pose, SLEAP
.slp, JABS v2 and v3, moseq2 scores with their extraction) and files written here like the real
formats: DeepLabCut .h5 single animal and multi-animal csv with unique body parts and .h5
under the key ``df``, SLEAP's analysis .h5 (with a track that has no instance) and analysis CSV
(exported by sleap-io from the real .slp), JABS v4 and v5 from the mouse-tracking pipeline, the
course's MoSeq NWB, a (T, 1, parts, 2) .npy, and five files that are not readable recordings.
"""

from __future__ import annotations

import shutil
import warnings

import numpy as np

from conftest import DATA, SHARED, needs_shared
from ethogram.io import ReadNoteWarning, SkippedFilesWarning, read_recordings
from test_io_dlc import table as dlc_table
from test_io_jabs import write_jabs_v5
from test_io_sleap import NODES, mouse, write_analysis

UUIDS = ["5c72bf30-9596-4d4d-ae38-db9a7a28e912", "abe92017-1d40-495e-95ef-e420b7f0f4b9"]


def build(d):
    """Write the folder; returns the file names expected to be skipped."""
    import pandas as pd
    import sleap_io

    from ethogram.io.moseq import write_moseq_nwb

    d.mkdir()
    for rel in (
        "openfield/keypoints.csv",
        "openfield/keypoints_ndx_pose.nwb",
        "flies/clip.slp",
        "jabs/sample_pose_est_v2.h5",
        "jabs/sample_pose_est_v3.h5",
        "moseq2/test_scores.h5",
        "moseq2/test_index.yaml",
    ):
        shutil.copy(SHARED / rel, d / rel.split("/")[1])  # the full recordings (needs_shared)
    (d / "proc").mkdir()
    shutil.copy(SHARED / "moseq2/proc/results_00.h5", d / "proc" / "results_00.h5")
    # DeepLabCut writes its table to h5 (df_with_missing, pandas table format), the csv from it
    pd.read_csv(DATA / "openfield/keypoints.csv", header=[0, 1, 2], index_col=0).to_hdf(
        d / "single_dlc.h5", key="df_with_missing", format="table", mode="w"
    )
    df, _ = dlc_table(120)
    df.to_csv(d / "arena_ma.csv")
    dlc_table(80, unique=False)[0].to_hdf(d / "arena_df.h5", key="df")
    sleap_io.save_csv(sleap_io.load_slp(str(DATA / "flies/clip.slp")), str(d / "clip.csv"))
    a, b = mouse(1), mouse(2)
    sc = np.full((len(a), len(NODES)), 0.9)
    write_analysis(
        d / "mice.analysis.h5",
        [a, b, np.full_like(a, np.nan)],
        ["track_0", "track_1", "track_2"],
        [sc, sc, np.full_like(sc, np.nan)],
    )
    write_jabs_v5(d / "cage_pose_est_v4.h5", np.random.default_rng(4), version_attribute=(4, 0))
    write_jabs_v5(d / "cage_pose_est_v5.h5", np.random.default_rng(5))
    rng = np.random.default_rng(6)
    write_moseq_nwb(
        d / "session_moseq.nwb",
        pcs=rng.normal(size=(200, 10)),
        timestamps=np.arange(200) / 30,
        centroid=rng.uniform(0, 400, (200, 2)),
        angle=rng.uniform(-3, 3, 200),
    )
    np.save(d / "mouse.npy", rng.normal(200, 30, (150, 1, 6, 2)))
    # five files that are not readable recordings
    (d / "notes.csv").write_text("date,experimenter,comment\n2024-05-01,ana,mouse 3 jumped out\n")
    (d / "broken.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + b"\x00" * 40)
    df.to_hdf(d / "two_tables.h5", key="df")
    df.to_hdf(d / "two_tables.h5", key="tracks")
    (d / "empty.slp").write_bytes(b"")
    np.save(d / "movement_order.npy", rng.normal(size=(40, 2, 6, 4)))
    return ["broken.h5", "empty.slp", "movement_order.npy", "notes.csv", "two_tables.h5"]


@needs_shared  # the folder holds moseq2's real files, which may not be copied
def test_a_folder_of_mixed_real_files_reads_every_animal_or_names_the_file(tmp_path):
    skipped = build(tmp_path / "mixed")
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        recs = read_recordings(tmp_path / "mixed", fps=30)
    lines = {}
    for w in record:
        assert issubclass(w.category, (SkippedFilesWarning, ReadNoteWarning)), str(w.message)
        assert "\n" not in str(w.message)
        lines.setdefault(str(w.message).split(": ")[0], []).append((w.category, str(w.message)))
    unread = sorted(p.split("/")[-1] for p, ws in lines.items() if ws[0][0] is SkippedFilesWarning)
    assert unread == skipped
    assert all(len(ws) == 1 for ws in lines.values())  # one line per file
    why = {
        p.split("/")[-1]: ws[0][1][len(p) + 2 :].removeprefix("skipped: ")
        for p, ws in lines.items()
    }
    assert (
        why["two_tables.h5"] == "several DeepLabCut tables (/df, /tracks); save one table per file"
    )
    assert why["movement_order.npy"].startswith("expected an array of shape")
    assert (
        why["notes.csv"] == "not a recording of a known format (csv: text where numbers should be)"
    )
    assert "unique body parts ['corner1', 'corner2']" in why["arena_ma.csv"]
    assert why["mice.analysis.h5"].startswith("'track_2' hold(s) no tracked point")

    names = [r.name for r in recs]
    assert len(names) == 29
    assert names == (
        [
            "arena_df/mouse1",
            "arena_df/mouse2",
            "arena_ma/mouse1",
            "arena_ma/mouse2",
            "cage_pose_est_v4/id0",
            "cage_pose_est_v4/id1",
            "cage_pose_est_v4/id2",
            "cage_pose_est_v5/id0",
            "cage_pose_est_v5/id1",
            "cage_pose_est_v5/id2",
            "clip.csv/male",
            "clip.csv/female",
            "clip.slp/female",
            "clip.slp/male",
            "keypoints",
            "keypoints_ndx_pose",
            "mice.analysis/track_0",
            "mice.analysis/track_1",
            "mouse",
            "sample_pose_est_v2",
        ]
        + [f"sample_pose_est_v3/id{k}" for k in range(5)]
        + ["session_moseq", "single_dlc"]
        + [f"test_scores/{u}" for u in UUIDS]
    )
    by = {r.name: r for r in recs}
    shapes = {
        "arena_ma/mouse1": (120, 4, 2),
        "arena_df/mouse2": (80, 4, 2),
        "keypoints": (2330, 4, 2),
        "single_dlc": (2330, 4, 2),
        "keypoints_ndx_pose": (2330, 4, 2),
        "clip.slp/male": (1500, 13, 2),
        "mice.analysis/track_1": (400, 5, 2),
        "sample_pose_est_v2": (1800, 12, 2),
        "cage_pose_est_v5/id2": (900, 12, 2),
        "mouse": (150, 6, 2),
        "session_moseq": (200, 10),
        f"test_scores/{UUIDS[0]}": (908, 50),
    }
    assert {n: by[n].data.shape for n in shapes} == shapes
    np.testing.assert_array_equal(by["single_dlc"].data, by["keypoints"].data)
    male_csv, male_slp = by["clip.csv/male"], by["clip.slp/male"]
    order = [male_slp.bodyparts.index(p) for p in male_csv.bodyparts]
    np.testing.assert_array_equal(male_csv.data, male_slp.data[: male_csv.num_frames, order])
    for r in recs:  # every animal is tracked in most of its frames (no halved or scrambled tables)
        tracked = np.isfinite(r.data).reshape(r.num_frames, -1).any(axis=1).mean()
        assert tracked > (0.005 if r.name == "sample_pose_est_v3/id4" else 0.5), r.name
    assert {by[f"cage_pose_est_v{v}/id0"].attrs["jabs_version"] for v in (4, 5)} == {4, 5}


@needs_shared  # the folder holds moseq2's real files, which may not be copied
def test_the_command_line_prints_one_line_per_file_and_describes_every_animal(tmp_path, capsys):
    from ethogram.cli import main

    skipped = build(tmp_path / "mixed")
    assert main(["info", str(tmp_path / "mixed"), "--fps", "30"]) == 0
    out, err = capsys.readouterr()
    warned = [
        line.split(": ")[2].split("/")[-1] for line in err.splitlines() if ": skipped: " in line
    ]
    assert sorted(warned) == skipped
    assert all(line.startswith("ethogram: warning: ") for line in err.splitlines())
    assert out.count("JABS pose v") == 1 + 5 + 3 + 3
    assert out.count("  keypoints: ") == 26 and out.count("  features: ") == 3  # 29 recordings
