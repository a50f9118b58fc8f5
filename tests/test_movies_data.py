"""Movies of real fits: grid movies from the openfield video, crowd movies from MoSeq depth frames,
CLI."""

import numpy as np
import pytest

from conftest import DATA, SHARED, needs_shared

OPENFIELD = DATA / "openfield"
MOSEQ = SHARED / "moseq2" / "proc" / "results_00.h5"  # may not be copied: needs ../shared


def _decode_count(path):
    import imageio_ffmpeg

    gen = imageio_ffmpeg.read_frames(str(path), pix_fmt="gray", bits_per_pixel=8)
    meta = next(gen)
    return sum(1 for _ in gen), meta["size"]


@pytest.fixture(scope="module")
def openfield_fit(tmp_path_factory):
    from ethogram.cli import main

    out = tmp_path_factory.mktemp("openfield")
    rc = main(
        [
            "fit",
            str(OPENFIELD / "keypoints.csv"),
            "--fps",
            "30",
            "-o",
            str(out),
            "--states",
            "6",
            "--iters",
            "15",
            "--kappa",
            "1000",  # the movies are checked, not the kappa search
            "--quiet",
        ]
    )
    assert rc == 0
    return out


@pytest.fixture(scope="module")
def moseq_fit(tmp_path_factory):
    from ethogram.cli import main

    out = tmp_path_factory.mktemp("moseq")
    rc = main(
        [
            "fit",
            str(MOSEQ),
            "-o",
            str(out),
            "--states",
            "6",
            "--pcs",
            "10",
            "--iters",
            "15",
            "--quiet",
        ]
    )
    assert rc == 0
    return out


def test_grid_movies_from_the_openfield_video(openfield_fit, capsys):
    import pandas as pd

    from ethogram.cli import main

    rc = main(
        [
            "movies",
            str(openfield_fit),
            "--syllables",
            # 10 and 9 instances (2 rows, the second one short), not syllables 0 and 1's 15 and
            # 12: fewer video frames to decode, and the layout checked below is the same
            "2,3",
            "--video",
            str(OPENFIELD / "video.mp4"),
            "--workers",
            "2",
            "--quiet",
            "--seed",
            "3",
        ]
    )
    assert rc == 0
    man = pd.read_csv(openfield_fit / "movies" / "movies.csv")
    assert man["syllable"].tolist() == [2, 3] and (man["kind"] == "grid").all()
    for row in man.itertuples():
        n, size = _decode_count(openfield_fit / "movies" / row.file)
        assert n == row.num_frames == 90  # 1 s before onset + 2 s from onset at 30 fps
        # 6 columns, and only the rows the instances fill (e.g. 12 instances: 2 rows, no black band)
        assert size == (row.width, row.height) == (6 * 128, -(-row.num_instances // 6) * 128)
        assert row.num_instances <= 24 and row.height <= 4 * 128  # at most 24 tiles by default
    inst = pd.read_csv(openfield_fit / "movies" / "instances.csv")
    assert (inst.groupby("syllable").size() <= 24).all()
    # the instances are real instances of the syllable, whole, with room for the window
    from ethogram.results import load_results

    lab = load_results(openfield_fit / "results.h5").recordings[0].syllables
    for r in inst.itertuples():
        assert (
            (lab[r.start : r.stop] == r.syllable).all()
            and r.start >= 30
            and r.start + 60 <= lab.size
        )
        assert lab[r.start - 1] != r.syllable and (r.stop == lab.size or lab[r.stop] != r.syllable)


def test_a_video_shorter_than_the_keypoints_is_refused(openfield_fit, capsys):
    from ethogram.cli import main
    from ethogram.viz.movie_files import make_movies

    with pytest.raises(ValueError, match=r"has 300 frames but the recording has 2330"):
        make_movies(openfield_fit, syllables=[0], kind="grid", video=DATA / "flies" / "clip.mp4")
    rc = main(
        [
            "movies",
            str(openfield_fit),
            "--syllables",
            "0",
            "--video",
            str(DATA / "flies" / "clip.mp4"),
            "--quiet",
        ]
    )
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "refusing to guess" in err


def test_skeleton_movies_without_video(openfield_fit):
    from ethogram.viz.movie_files import make_movies

    man = make_movies(
        openfield_fit, syllables=[0], kind="skeleton", num_instances=6, rows=2, cols=3, tile_size=96
    )
    n, size = _decode_count(openfield_fit / "movies" / man["file"][0])
    assert n == 90 and size == (3 * 96, 2 * 96)


def test_crowd_movie_cli_refuses_keypoints(openfield_fit, capsys):
    from ethogram.cli import main

    assert (
        main(["movies", str(openfield_fit), "--kind", "crowd", "--syllables", "0", "--quiet"]) == 2
    )
    assert "depth frames" in capsys.readouterr().err


@needs_shared
def test_moseq_heading_is_the_on_screen_angle():
    """MoSeq's angle is counter-clockwise on screen: the animal moves along (cos a, -sin a) in
    pixels."""
    import h5py

    with h5py.File(MOSEQ, "r") as f:
        x = f["scalars/centroid_x_px"][()].astype(float)
        y = f["scalars/centroid_y_px"][()].astype(float)
        a = f["scalars/angle"][()].astype(float)
    dx, dy = x[3:] - x[:-3], y[3:] - y[:-3]
    fast = np.hypot(dx, dy) > np.percentile(np.hypot(dx, dy), 70)
    along = np.cos(np.arctan2(dy, dx)[fast] - (-a[:-3][fast]))  # pixel heading = -angle
    assert along.mean() > 0.5  # mostly forward
    against = np.cos(np.arctan2(dy, dx)[fast] - a[:-3][fast])
    assert abs(against.mean()) < 0.2  # the other sign is unrelated to the motion


@needs_shared
def test_crowd_movie_places_real_crops_as_moseq2_viz(moseq_fit):
    """Each pasted crop equals the crop rotated by MoSeq's angle about its centre (moseq2-viz's
    way)."""
    import cv2
    import h5py

    from ethogram.viz.movies import crowd_movie

    with h5py.File(MOSEQ, "r") as f:
        frames = f["frames"][:200]
        cx, cy = (
            f["scalars/centroid_x_px"][:200].astype(float),
            f["scalars/centroid_y_px"][:200].astype(float),
        )
        ang = f["scalars/angle"][:200].astype(float)
    cen = np.stack([cx, cy], axis=1)
    t = 120
    movie = crowd_movie(
        {"r": frames},
        {"r": cen},
        {"r": -ang},
        [("r", t, t + 5)],
        canvas_shape=(320, 320),
        pre=0,
        dot_radius=0,
        min_height=0,
    )
    got = movie[0].astype(float)
    # moseq2-viz: rotate the 80x80 crop about (40, 40) by +angle degrees, paste its top-left at
    # centroid - 40
    rot = cv2.warpAffine(
        frames[t].astype(np.float32),
        cv2.getRotationMatrix2D((40, 40), np.rad2deg(ang[t]), 1),
        (80, 80),
    )
    x0, y0 = int(np.floor(cx[t])) - 40, int(np.floor(cy[t])) - 40
    ref = np.zeros_like(got)
    ref[y0 : y0 + 80, x0 : x0 + 80] = rot
    m = (ref > 10) | (got > 10)
    corr = np.corrcoef(got[m], ref[m])[0, 1]
    assert corr > 0.9
    # the same check with the other rotation sign fails (the test can tell them apart)
    wrong = cv2.warpAffine(
        frames[t].astype(np.float32),
        cv2.getRotationMatrix2D((40, 40), -np.rad2deg(ang[t]), 1),
        (80, 80),
    )
    ref[y0 : y0 + 80, x0 : x0 + 80] = wrong
    assert np.corrcoef(got[m], ref[m])[0, 1] < corr - 0.1


@needs_shared
def test_crowd_movies_from_a_moseq_fit(moseq_fit):
    import pandas as pd

    from ethogram.viz.movie_files import make_movies

    man = make_movies(moseq_fit, syllables=[0, 1, 2], num_workers=2)
    assert (man["kind"] == "crowd").all()
    for row in man.itertuples():
        n, size = _decode_count(moseq_fit / "movies" / row.file)
        assert n == row.num_frames and size == (row.width, row.height)
        assert row.num_instances <= 40
    inst = pd.read_csv(moseq_fit / "movies" / "instances.csv")
    longest = inst.assign(d=inst.stop - inst.start).groupby("syllable")["d"].max().clip(upper=60)
    assert man.set_index("syllable")["num_frames"].tolist() == (30 + longest).tolist()


@needs_shared
def test_crowd_movies_from_a_moseq_nwb(tmp_path):
    """The course's NWB layout: depth frames re-read lazily from Images/frames for the crowd
    movie."""
    import h5py
    import pandas as pd

    from ethogram.cli import main
    from ethogram.io.moseq import write_moseq_nwb

    with h5py.File(MOSEQ, "r") as f:
        frames = f["frames"][()]
        cen = np.stack([f["scalars/centroid_x_px"][()], f["scalars/centroid_y_px"][()]], axis=1)
        ang = f["scalars/angle"][()]
        ts = (f["timestamps"][()] - f["timestamps"][0]) / 1000.0
    rng = np.random.default_rng(0)
    lens = rng.integers(8, 25, size=len(ts))
    seg = np.repeat(np.arange(lens.size) % 3, lens)[: len(ts)]  # planted switches every 8-24 frames
    pcs = 5.0 * np.eye(3)[seg] + rng.normal(scale=0.3, size=(len(ts), 3))
    write_moseq_nwb(
        tmp_path / "session.nwb", pcs=pcs, timestamps=ts, centroid=cen, angle=ang, frames=frames
    )
    out = tmp_path / "fit"
    assert (
        main(
            [
                "fit",
                str(tmp_path / "session.nwb"),
                "-o",
                str(out),
                "--states",
                "3",
                "--iters",
                "5",
                "--quiet",
            ]
        )
        == 0
    )
    assert main(["movies", str(out), "--syllables", "0", "--instances", "5", "--quiet"]) == 0
    man = pd.read_csv(out / "movies" / "movies.csv")
    assert man["kind"].tolist() == ["crowd"] and man["num_instances"].tolist() == [5]
    n, size = _decode_count(out / "movies" / man["file"][0])
    assert n == man["num_frames"][0] and size == (man["width"][0], man["height"][0])


def test_grid_tiles_are_centred_on_the_mouse(openfield_fit):
    """In the real video the mouse is dark on a light floor: at onset every tile's centre is
    dark."""
    from ethogram.results import load_results
    from ethogram.viz._instances import sample_instances, syllable_instances
    from ethogram.viz._video import VideoReader
    from ethogram.viz.movies import grid_movie

    r = load_results(openfield_fit / "results.h5").recordings[0]
    inst = syllable_instances({"r": r.syllables}, pre=30, post=60, min_duration=3)
    k = max(inst, key=lambda s: len(inst[s]))
    sample = sample_instances(inst[k], 6, seed=0, syllable=k)
    with VideoReader(OPENFIELD / "video.mp4") as v:
        movie = grid_movie(
            {"r": v},
            {"r": r.centroid},
            {"r": r.heading},
            sample,
            keypoints=None,
            rows=2,
            cols=3,
            window_size=224,
            tile_size=112,
            pre=30,
            post=1,  # only the onset frame (movie[30]) is checked: the 59 after it are not decoded
            dot_radius=0,
        )
    frame = movie[30].min(axis=-1).astype(float)
    along, across = [], []
    for n in range(len(sample)):
        row, col = divmod(n, 3)
        tile = frame[row * 112 : (row + 1) * 112, col * 112 : (col + 1) * 112]
        centre = tile[51:61, 51:61].mean()
        ring = np.r_[tile[:12].ravel(), tile[-12:].ravel()]
        assert centre < 0.5 * np.median(ring[ring > 0])
        along.append(np.mean([tile[54:59, 56 + d - 2 : 56 + d + 3].mean() for d in (-18, 18)]))
        across.append(np.mean([tile[56 + d - 2 : 56 + d + 3, 54:59].mean() for d in (-18, 18)]))
    # turned to face right: the body lies along the horizontal axis of the tile
    assert np.median(along) < 0.6 * np.median(across)


def test_skeleton_by_body_part_names(openfield_fit, capsys):
    from ethogram.cli import main
    from ethogram.viz._movie_plan import _edges_from_names

    assert _edges_from_names(
        [("snout", "leftear"), ("leftear", "tailbase")],
        ("snout", "leftear", "rightear", "tailbase"),
    ) == [(0, 1), (1, 3)]
    assert (
        main(
            [
                "movies",
                str(openfield_fit),
                "--kind",
                "skeleton",
                "--syllables",
                "1",
                "--quiet",
                "--skeleton",
                "snout-leftear,snout-rightear,leftear-tailbase",
            ]
        )
        == 0
    )
    assert (openfield_fit / "movies" / "skeleton_syllable_01.mp4").is_file()
    assert (
        main(
            [
                "movies",
                str(openfield_fit),
                "--kind",
                "skeleton",
                "--syllables",
                "1",
                "--quiet",
                "--skeleton",
                "snout-nose",
            ]
        )
        == 2
    )
    assert "['snout', 'leftear', 'rightear', 'tailbase']" in capsys.readouterr().err


def test_a_video_at_another_rate_than_the_fit_is_named():
    """Frame for frame the same video at 30 fps against a fit at 60 fps (a wrong --fps given to
    the fit): the movies are right, but the fit's durations are off by 2x, and that is said
    (a fresh user's report); at the fit's own rate nothing is said."""
    import types
    import warnings

    from ethogram.errors import ArgumentWarning
    from ethogram.viz._movie_plan import _check_video_rate

    video = OPENFIELD / "video.mp4"
    with pytest.warns(ArgumentWarning) as record:
        _check_video_rate(types.SimpleNamespace(fps=60.0), video, "video 'v.mp4'")
    assert str(record[0].message) == (
        "video 'v.mp4' runs at 30 fps, frame for frame, but the results were fitted at 60 fps: "
        "the fit's durations and speeds are off by 2x; refit with fps=30 if the video's rate is "
        "the true one"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _check_video_rate(types.SimpleNamespace(fps=30.0), video, "video 'v.mp4'")
