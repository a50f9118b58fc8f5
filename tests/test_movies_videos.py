"""Movies for every recording: videos found by name, ``--video NAME=PATH``, tiles holding the body.

Videos are matched to recordings as keypoint-moseq does (a video's name begins the
recording's file name), checked here on folders written in tmp_path with the names the
trackers give (DeepLabCut's ``videoDLC_resnet50_...csv`` beside ``video.mp4``, SLEAP's
``.predictions.slp``). Tiles are checked geometrically: every keypoint of every instance at
onset lands inside its tile, and the skeleton never draws outside it.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from conftest import DATA
from ethogram.viz._video import write_mp4
from ethogram.viz.movies import grid_movie, skeleton_movie, tile_transform, tile_window
from ethogram.viz.video_match import (
    check_video,
    find_matching_videos,
    parse_video_args,
    resolve_videos,
)

DLC = "DLC_resnet50_openfieldOct30shuffle1_1030000"


def _touch(folder: Path, *names) -> None:
    for n in names:
        p = folder / n
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"")


def _rec(name, source=None, video_path=None):
    return SimpleNamespace(name=name, source=source, video_path=video_path)


# --------------------------------------------------------------------------- matching by name
def test_videos_match_recordings_by_the_beginning_of_their_names(tmp_path):
    _touch(
        tmp_path,
        "video.mp4",
        "mouse1.avi",
        "mouse10.mov",
        "session1.mp4",
        "session1_top.mp4",
        "sub/Arena3.MP4",
        "notes.csv",
        "video.mp4.csv",
        ".hidden/mouse2.mp4",
    )
    names = [
        f"video{DLC}",
        f"mouse10{DLC}_filtered",
        f"mouse1{DLC}",
        f"mouse2{DLC}",
        "session1_top.predictions",
        "session1.predictions",
        "arena3_cam",
        "arena30",
    ]
    found = find_matching_videos(names, tmp_path)
    assert found == {
        f"video{DLC}": tmp_path / "video.mp4",
        f"mouse10{DLC}_filtered": tmp_path / "mouse10.mov",  # not mouse1.avi: the longest name wins
        f"mouse1{DLC}": tmp_path / "mouse1.avi",
        f"mouse2{DLC}": None,  # hidden folders are not searched
        "session1_top.predictions": tmp_path / "session1_top.mp4",
        "session1.predictions": tmp_path / "session1.mp4",
        "arena3_cam": tmp_path / "sub" / "Arena3.MP4",  # sub-folders, any case
        "arena30": None,  # a name followed by a digit is another recording
    }
    assert find_matching_videos(["arena3_cam"], tmp_path, recursive=False) == {"arena3_cam": None}


def test_two_videos_of_the_same_name_are_refused_not_picked(tmp_path):
    _touch(tmp_path, "a.mp4", "a.avi", "b.mp4")
    with pytest.raises(
        ValueError, match=r"recording 'aDLC' matches 2 videos .*a\.avi, a\.mp4.*--video aDLC=PATH"
    ):
        find_matching_videos(["aDLC"], tmp_path)
    assert find_matching_videos(["bDLC"], tmp_path) == {"bDLC": tmp_path / "b.mp4"}
    with pytest.raises(NotADirectoryError, match="not a folder"):
        find_matching_videos(["b"], tmp_path / "b.mp4")


def test_multi_animal_recordings_share_their_file_video(tmp_path):
    _touch(tmp_path, "vids/clip.mp4", "vids/other.mp4")
    recs = [
        _rec("clip/female", "/data/clip.slp"),
        _rec("clip/male", "/data/clip.slp"),
        _rec("other", f"/data/other{DLC}.h5"),
        _rec("lonely", "/data/lonely.h5"),
    ]
    found = resolve_videos(recs, tmp_path / "vids")
    assert found == {
        "clip/female": tmp_path / "vids" / "clip.mp4",
        "clip/male": tmp_path / "vids" / "clip.mp4",
        "other": tmp_path / "vids" / "other.mp4",
        "lonely": None,
    }
    # one video file alone serves the animals of one file, not recordings of several files
    assert set(resolve_videos(recs[:2], tmp_path / "vids" / "clip.mp4").values()) == {
        tmp_path / "vids" / "clip.mp4"
    }
    with pytest.raises(ValueError, match="one video but the results hold 4 recordings of 3 files"):
        resolve_videos(recs, tmp_path / "vids" / "clip.mp4")


# --------------------------------------------------------------------------- NAME=PATH
def test_name_equals_path_values_are_read_and_checked(tmp_path):
    _touch(tmp_path, "v1.mp4", "dir=with=equals/v.mp4", "folder/x.mp4")
    items = parse_video_args(
        [
            f"mouse0={tmp_path / 'v1.mp4'}",
            str(tmp_path / "folder"),
            str(tmp_path / "dir=with=equals" / "v.mp4"),
            f" clip = {tmp_path / 'v1.mp4'}",
        ]
    )
    assert items == [
        ("named", "mouse0", tmp_path / "v1.mp4"),
        ("folder", tmp_path / "folder"),
        ("file", tmp_path / "dir=with=equals" / "v.mp4"),
        ("named", "clip", tmp_path / "v1.mp4"),
    ]
    assert parse_video_args({"mouse0": tmp_path / "v1.mp4"}) == [
        ("named", "mouse0", tmp_path / "v1.mp4")
    ]
    assert parse_video_args(None) == []
    with pytest.raises(ValueError, match="give NAME=PATH"):
        parse_video_args([f"={tmp_path / 'v1.mp4'}"])
    with pytest.raises(ValueError, match="give NAME=PATH"):
        parse_video_args(["mouse0="])
    with pytest.raises(
        FileNotFoundError, match=r"--video mouse0=PATH: video '.*nope\.mp4' not found"
    ):
        parse_video_args([f"mouse0={tmp_path / 'nope.mp4'}"])
    with pytest.raises(IsADirectoryError, match="is a folder; after NAME= give the video file"):
        parse_video_args([f"mouse0={tmp_path / 'folder'}"])
    with pytest.raises(
        FileNotFoundError, match="give a video file, a folder of videos, or NAME=PATH"
    ):
        parse_video_args([str(tmp_path / "missing.mp4")])


def test_names_win_over_folders_and_unknown_names_list_the_recordings(tmp_path):
    _touch(tmp_path, "vids/mouse0.mp4", "vids/mouse1.mp4", "elsewhere/m0.mp4")
    recs = [_rec(f"mouse{i}", f"/data/mouse{i}{DLC}.csv") for i in range(3)]
    found = resolve_videos(
        recs, [str(tmp_path / "vids"), f"mouse0={tmp_path / 'elsewhere' / 'm0.mp4'}"]
    )
    assert found == {
        "mouse0": tmp_path / "elsewhere" / "m0.mp4",
        "mouse1": tmp_path / "vids" / "mouse1.mp4",
        "mouse2": None,
    }
    # a video the reader found is used when nothing else is given for that recording
    recs[2].video_path = str(tmp_path / "elsewhere" / "m0.mp4")
    assert resolve_videos(recs, tmp_path / "vids")["mouse2"] == tmp_path / "elsewhere" / "m0.mp4"
    with pytest.raises(
        ValueError,
        match=r"no recording is named 'mouse7'; the recordings are mouse0, mouse1, mouse2",
    ):
        resolve_videos(recs, [f"mouse7={tmp_path / 'vids' / 'mouse0.mp4'}"])
    with pytest.raises(ValueError, match="2 video files without saying whose"):
        resolve_videos(recs, [tmp_path / "vids" / "mouse0.mp4", tmp_path / "vids" / "mouse1.mp4"])


def test_a_file_that_is_not_a_video_is_one_clear_line(tmp_path):
    notes = tmp_path / "notes.csv"
    notes.write_text("frame,label\n0,rearing\n")
    with pytest.raises(
        ValueError, match=r"'.*notes\.csv' for recording 'r' is not a video FFmpeg can read"
    ):
        check_video(notes, "r")
    with pytest.raises(FileNotFoundError, match="not found"):
        check_video(tmp_path / "gone.mp4")
    video = write_mp4(tmp_path / "v.mp4", np.zeros((5, 12, 20), np.uint8), fps=25)
    w, h, fps = check_video(video)
    assert (w, h) == (20, 12) and fps == pytest.approx(25)


# --------------------------------------------------------------------- make_movies, many recordings
@pytest.fixture(scope="module")
def three_mice_once(tmp_path_factory):
    """A fit of three planted mice; videos (blank, the right length) for two of them, named as
    DeepLabCut names its files. Made once; each test gets its own copy (:func:`three_mice`)."""
    from ethogram.results import write_results
    from ethogram.viz._synthetic import synthetic_results

    tmp_path = tmp_path_factory.mktemp("three_mice")
    res = synthetic_results(
        num_states=3, num_recordings=3, num_frames=400, expected_states=False, seed=1
    )
    for r in res.recordings:
        r.source = f"/data/{r.name}{DLC}.csv"
    write_results(tmp_path / "fit" / "results.h5", res, csv=False)
    vids = tmp_path / "videos"
    for name in ("mouse0", "mouse2"):
        write_mp4(vids / f"{name}.mp4", np.full((400, 16, 16), 90, np.uint8), fps=30)
    (vids / "notes.csv").write_text("not a video\n")
    return tmp_path


@pytest.fixture()
def three_mice(three_mice_once, tmp_path):
    """:func:`three_mice_once` copied into this test's tmp_path (the tests write movies in the
    fit's folder, or check that none were written): the fit folder and the videos folder."""
    import shutil

    shutil.copytree(three_mice_once / "fit", tmp_path / "fit")
    shutil.copytree(three_mice_once / "videos", tmp_path / "videos")
    return tmp_path / "fit", tmp_path / "videos"


def test_grid_movies_from_every_recording_with_a_video(three_mice, capsys):
    from ethogram.cli import main

    fit, vids = three_mice
    code = main(["movies", str(fit), "--video", str(vids), "--syllables", "0,1", "--quiet"])
    cap = capsys.readouterr()
    assert code == 0 and cap.err == ""
    assert cap.out.splitlines()[0] == (
        "no video for 1 of 3 recordings (mouse1): their instances are not in the grid "
        "movies (give --video FOLDER or NAME=PATH)"
    )
    shown = pd.read_csv(fit / "movies" / "instances.csv")
    assert set(shown["recording"]) == {"mouse0", "mouse2"}
    assert {Path(v).name for v in shown["video"]} == {"mouse0.mp4", "mouse2.mp4"}
    assert all(Path(v).name == f"{r}.mp4" for r, v in zip(shown["recording"], shown["video"]))
    manifest = pd.read_csv(fit / "movies" / "movies.csv")
    assert (manifest["kind"] == "grid").all() and (manifest["window"] > 0).all()


def test_one_recording_named_on_the_command_line(three_mice, capsys):
    from ethogram.cli import main

    fit, vids = three_mice
    code = main(
        [
            "movies",
            str(fit),
            "--video",
            f"mouse2={vids / 'mouse2.mp4'}",
            "--syllables",
            "0",
            "--quiet",
        ]
    )
    assert code == 0
    assert "no video for 2 of 3 recordings (mouse0, mouse1)" in capsys.readouterr().out
    assert set(pd.read_csv(fit / "movies" / "instances.csv")["recording"]) == {"mouse2"}


@pytest.mark.parametrize(
    "value, message",
    [
        (
            "mouse0={vids}/notes.csv",
            "notes.csv' for recording 'mouse0' is not a video FFmpeg can read",
        ),
        ("{vids}/missing.mp4", "not found: give a video file, a folder of videos, or NAME=PATH"),
        ("mouse9={vids}/mouse0.mp4", "no recording is named 'mouse9'"),
        ("{vids}/mouse0.mp4", "one video but the results hold 3 recordings of 3 files"),
    ],
)
def test_a_bad_video_is_one_line_and_exit_2(three_mice, capsys, value, message):
    from ethogram.cli import main

    fit, vids = three_mice
    code = main(
        ["movies", str(fit), "--video", value.format(vids=vids), "--syllables", "0", "--quiet"]
    )
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and message in err
    assert "error code" not in err.lower() and "returncode" not in err.lower()
    assert not (fit / "movies").exists()


def test_a_folder_matching_nothing_says_how_to_name_the_videos(three_mice, tmp_path, capsys):
    from ethogram.cli import main

    fit, _ = three_mice
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["movies", str(fit), "--video", str(empty), "--syllables", "0", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert (
        "no video given matches a recording" in err
        and "give --video as NAME=PATH for each" in err
        and "--kind skeleton" in err
    )


# --------------------------------------------------------------------------- tiles
def _walkers(seed=0, num=12, T=300):
    """Rigid bodies walking and turning, their centroid near the head (as snout, ears and tail
    base give): snout 8 px ahead of it, ears 4 px behind, tail base 52 px behind."""
    rng = np.random.default_rng(seed)
    rel = np.array([[8.0, 0.0], [-4.0, -6.0], [-4.0, 6.0], [-52.0, 0.0]])
    kps, cents, heads, inst = {}, {}, {}, []
    for i in range(num):
        speed, turn = rng.uniform(0, 2), rng.uniform(-0.05, 0.05)
        h = rng.uniform(-np.pi, np.pi) + np.cumsum(np.full(T, turn))
        c = 300 + np.cumsum(speed * np.column_stack([np.cos(h), np.sin(h)]), axis=0)
        cos, sin = np.cos(h)[:, None], np.sin(h)[:, None]
        name = f"r{i}"
        kps[name] = np.stack(
            [
                c[:, :1] + cos * rel[:, 0] - sin * rel[:, 1],
                c[:, 1:] + sin * rel[:, 0] + cos * rel[:, 1],
            ],
            axis=-1,
        )
        cents[name], heads[name] = c, h
        start = int(rng.integers(40, 150))
        inst.append((name, start, start + int(rng.integers(5, 40))))
    return kps, cents, heads, inst


def _in_tile(kp, centroid, heading, size, offset, tile=128):
    A, M = tile_transform(centroid, heading, size, tile, offset)
    p = kp @ A.T + M[:, 2]
    return np.all((p >= 0) & (p <= tile), axis=-1)


def test_tiles_hold_every_keypoint_of_every_instance_at_onset():
    kps, cents, heads, inst = _walkers()
    size, offset = tile_window(kps, cents, heads, inst, post=60)
    for name, start, stop in inst:
        assert _in_tile(
            kps[name][start], cents[name][start], heads[name][start], size, offset
        ).all(), name
    # the typical (median) instance stays inside while the syllable lasts
    inside = [
        _in_tile(kps[n][a:b], cents[n][a], heads[n][a], size, offset).all() for n, a, b in inst
    ]
    assert np.mean(inside) >= 0.5


def test_the_window_follows_the_body_not_the_centroid():
    """Without movement the window fits the body; centred on the centroid it would cut the tail."""
    kps, cents, heads, inst = _walkers()
    size, offset = tile_window(kps, cents, heads, inst, post=1)
    assert size == 80  # (8 + 52) px long, 25% margin, rounded up to 8
    assert offset[0] == pytest.approx(-22.0) and offset[1] == pytest.approx(0.0, abs=1e-9)
    n, a, _ = inst[0]
    assert _in_tile(kps[n][a], cents[n][a], heads[n][a], size, offset).all()
    assert not _in_tile(kps[n][a], cents[n][a], heads[n][a], size, (0.0, 0.0))[3]  # the tail base


def test_one_runner_does_not_shrink_the_others():
    kps, cents, heads, inst = _walkers(seed=2, num=9)
    alone, _ = tile_window(kps, cents, heads, inst, post=60)
    name, start, _ = inst[0]
    far = cents[name].copy()
    far[start:] += np.arange(far.shape[0] - start)[:, None] * np.array(
        [15.0, 0.0]
    )  # 15 px per frame
    kps[name] = kps[name] + (far - cents[name])[:, None, :]
    cents[name] = far
    with_runner, _ = tile_window(kps, cents, heads, inst, post=60)
    assert (
        with_runner <= alone + 16
    )  # the median instance decides the room to move, not the fastest one


def test_skeleton_is_drawn_only_inside_its_tile():
    T = 40
    kp = np.tile(np.array([[[60.0, 50.0], [40.0, 50.0], [1e9, 50.0], [60.0, -1e12]]]), (T, 1, 1))
    kp[5, 2] = np.inf  # movie frame 0: that line is not drawn
    cen = np.tile(np.array([[50.0, 50.0]]), (T, 1))
    head = np.zeros(T)
    movie = skeleton_movie(
        {"a": kp, "b": np.full_like(kp, np.nan)},
        {"a": cen, "b": cen},
        {"a": head, "b": head},
        [("a", 10, 20), ("b", 10, 20)],
        edges=[(0, 1), (1, 2), (0, 3)],
        rows=1,
        cols=3,
        window_size=100,
        tile_size=100,
        pre=5,
        post=10,
        dot_radius=0,
    )
    assert movie.shape == (15, 100, 300, 3)
    first, second, third = movie[:, :, :100], movie[:, :, 100:200], movie[:, :, 200:]
    # the lines towards the far keypoints run to the tile's edge (tile pixels = video pixels here)
    assert first[1:, 50, 95:99].min() > 100 and first[:, 2:4, 60].min() > 100
    assert first[0, 50, 95:99].max() == 0
    assert (
        second[:, 1:-1, 1:-1].max() == 0
    )  # nothing spilled into the next tile; NaN keypoints draw nothing
    assert third.max() == 0  # no instance: black


# --------------------------------------------------------------------------- real data
@pytest.fixture(scope="module")
def openfield_fit(tmp_path_factory):
    from ethogram.cli import main

    out = tmp_path_factory.mktemp("openfield")
    assert (
        main(
            [
                "fit",
                str(DATA / "openfield" / "keypoints.csv"),
                "--fps",
                "30",
                "-o",
                str(out),
                "--states",
                "6",
                "--iters",
                "10",
                "--quiet",
            ]
        )
        == 0
    )
    return out


def test_notes_csv_given_as_the_video_of_one_recording(openfield_fit, tmp_path, capsys):
    from ethogram.cli import main

    notes = tmp_path / "notes.csv"
    notes.write_text("frame,behavior\n0,groom\n")
    assert (
        main(["movies", str(openfield_fit), "--video", str(notes), "--syllables", "0", "--quiet"])
        == 2
    )
    err = capsys.readouterr().err
    assert err == (
        f"ethogram: error: {str(notes)!r} for recording 'keypoints' is not a video FFmpeg can read "
        "(no "
        "frame could be decoded); give the video the keypoints were tracked on with --video\n"
    )
    assert not (openfield_fit / "movies").exists()


def test_openfield_tiles_hold_the_whole_mouse_at_onset(openfield_fit):
    """The openfield mouse's centroid (snout, ears, tail base) sits near its head; the tail base
    stays in its tile."""
    from ethogram.results import load_results
    from ethogram.viz._instances import sample_instances, syllable_instances

    r = load_results(openfield_fit / "results.h5").recordings[0]
    kps, cents, heads = {"r": r.keypoints}, {"r": r.centroid}, {"r": r.heading}
    inst = syllable_instances({"r": r.syllables}, pre=30, post=60, min_duration=3)
    checked = 0
    for k in sorted(inst)[:4]:
        sample = sample_instances(inst[k], 24, seed=0, syllable=k)
        size, offset = tile_window(kps, cents, heads, sample, post=60)
        for _, start, stop in sample:
            A, M = tile_transform(r.centroid[start], r.heading[start], size, 128, offset)
            p = r.keypoints[start, :, :2] @ A.T + M[:, 2]
            assert np.all((p >= 0) & (p <= 128))
            checked += 1
        movie = grid_movie(
            None,
            cents,
            heads,
            sample[:6],
            keypoints=kps,
            rows=2,
            cols=3,
            window_size=size,
            window_offset=offset,
            tile_size=128,
            pre=30,
            post=60,
            dot_radius=0,
        )
        # the four coloured keypoints of every tile are drawn at onset
        for n in range(len(sample[:6])):
            row, col = divmod(n, 3)
            tile = movie[
                30, row * 128 + 1 : (row + 1) * 128 - 1, col * 128 + 1 : (col + 1) * 128 - 1
            ].astype(int)
            colours = {
                tuple(c) for c in tile.reshape(-1, 3) if c.max() > 200 and c.max() - c.min() > 100
            }
            assert len(colours) >= 4
    assert checked > 20
