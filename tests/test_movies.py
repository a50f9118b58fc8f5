"""Movies on synthetic inputs: mp4 round trips, where crowd crops and grid tiles land, sampling."""

import numpy as np
import pytest

from ethogram.viz._instances import parse_syllables, sample_instances, syllable_instances
from ethogram.viz._video import VideoReader, align_video_frames, count_frames, write_mp4
from ethogram.viz.movies import (
    crowd_movie,
    grid_movie,
    guess_skeleton,
    render_movies,
    skeleton_movie,
)


def _decode(path):
    """Frames of an mp4 decoded by imageio-ffmpeg (not the reader under test)."""
    import imageio_ffmpeg

    gen = imageio_ffmpeg.read_frames(str(path), pix_fmt="gray", bits_per_pixel=8)
    meta = next(gen)
    W, H = meta["size"]
    frames = [np.frombuffer(b, dtype=np.uint8).reshape(H, W) for b in gen]
    return np.stack(frames), meta


def _planted_crop(T=120, size=80):
    """Egocentric crops: a dim body in the middle and a bright 'nose' block at +x."""
    crop = np.zeros((T, size, size), np.uint8)
    crop[:, 30:50, 25:55] = 60
    crop[:, 35:45, 60:70] = 220  # centre (64.5, 39.5) -> 24.5 px ahead of the crop centre (40, 40)
    return crop


@pytest.mark.parametrize("kind", ["gray", "rgb", "odd"])
def test_mp4_decodes_with_frame_count_and_size(tmp_path, kind):
    T, H, W = 17, 48, 64
    yy, xx = np.mgrid[:H, :W]
    if kind == "odd":
        H, W = 47, 63
        yy, xx = yy[:H, :W], xx[:H, :W]
    frames = np.stack([((xx * 3 + yy * 2 + 5 * t) % 200 + 20).astype(np.uint8) for t in range(T)])
    if kind == "rgb":
        frames = np.repeat(frames[..., None], 3, axis=-1)
    p = write_mp4(tmp_path / "m.mp4", frames, fps=30)
    dec, meta = _decode(p)
    assert dec.shape[0] == T == count_frames(p)
    assert meta["size"] == (W + W % 2, H + H % 2)
    assert meta["codec"] == "h264"
    gray = frames if frames.ndim == 3 else frames[..., 0]
    assert np.abs(dec[:, :H, :W].astype(int) - gray).mean() < 4  # lossy, but the same picture
    assert not list(tmp_path.glob("*.tmp-*"))


def test_mp4_errors(tmp_path):
    with pytest.raises(ValueError, match="no frames"):
        write_mp4(tmp_path / "e.mp4", [], fps=30)
    with pytest.raises(ValueError, match="same shape"):
        write_mp4(
            tmp_path / "e.mp4", [np.zeros((8, 8), np.uint8), np.zeros((8, 10), np.uint8)], fps=30
        )
    assert not (tmp_path / "e.mp4").exists() and not list(tmp_path.glob("*.tmp-*"))


@pytest.mark.parametrize("heading", [0.0, np.pi / 2, np.pi, -np.pi / 4, 2.5])
def test_crowd_crop_lands_at_centroid_and_heading(heading):
    T = 120
    crop = _planted_crop(T)
    cen = np.tile([[201.3, 148.6]], (T, 1))
    head = np.full(T, heading)
    movie = crowd_movie(
        {"r": crop},
        {"r": cen},
        {"r": head},
        [("r", 50, 60)],
        canvas_shape=(300, 400),
        pre=30,
        min_height=10,
    )
    assert movie.shape == (30 + 10, 300, 400)
    frame = movie[5]  # before onset: no dot
    ys, xs = np.nonzero(frame > 150)
    expect = (
        cen[0]
        + 24.5 * np.array([np.cos(heading), np.sin(heading)])
        + (-0.5) * np.array([-np.sin(heading), np.cos(heading)])
    )
    assert xs.mean() == pytest.approx(expect[0], abs=0.6)
    assert ys.mean() == pytest.approx(expect[1], abs=0.6)
    # the body (value 60) is centred on the centroid
    ys, xs = np.nonzero((frame > 20) & (frame < 100))
    body = cen[0] + np.array(
        [[np.cos(heading), -np.sin(heading)], [np.sin(heading), np.cos(heading)]]
    ) @ np.array([-0.5, -0.5])
    assert abs(np.average(xs) - body[0]) < 1.5 and abs(np.average(ys) - body[1]) < 1.5
    # while the syllable lasts, a white dot at the centroid
    c = np.round(cen[0]).astype(int)
    assert movie[35][c[1], c[0]] == 255 and movie[5][c[1], c[0]] == 60


def test_crowd_blends_overlaps_and_skips_missing_frames():
    T = 100
    a = np.zeros((T, 20, 20), np.uint8)
    a[:, 5:15, 5:15] = 100
    b = a.copy()
    b[:, 5:15, 5:15] = 200
    cen = np.tile([[50.0, 50.0]], (T, 1))
    cen_nan = cen.copy()
    cen_nan[35] = np.nan
    movie = crowd_movie(
        {"a": a, "b": b},
        {"a": cen, "b": cen_nan},
        {"a": np.zeros(T), "b": np.zeros(T)},
        [("a", 40, 45), ("b", 40, 45)],
        canvas_shape=(100, 100),
        pre=10,
        dot_radius=0,
    )
    assert movie[0][50, 50] == 150  # half and half where both have the animal
    assert movie[5][50, 50] == 100  # frame 35 of b has no centroid: only a is drawn
    # instances near the start of a recording: frames before 0 stay empty
    movie = crowd_movie(
        {"a": a}, {"a": cen}, {"a": np.zeros(T)}, [("a", 3, 8)], canvas_shape=(100, 100), pre=10
    )
    assert movie[:7].max() == 0 and movie[7:].max() > 0
    with pytest.raises(ValueError, match="no instances"):
        crowd_movie({"a": a}, {"a": cen}, {"a": np.zeros(T)}, [], canvas_shape=(100, 100))


def test_crowd_movie_frame_after_mp4_round_trip(tmp_path):
    T = 120
    movie = crowd_movie(
        {"r": _planted_crop(T)},
        {"r": np.tile([[160.0, 120.0]], (T, 1))},
        {"r": np.full(T, np.pi / 2)},
        [("r", 40, 55)],
        canvas_shape=(240, 320),
        pre=30,
    )
    p = write_mp4(tmp_path / "crowd.mp4", movie, fps=30)
    dec, meta = _decode(p)
    assert dec.shape == (45, 240, 320)
    ys, xs = np.nonzero(dec[10] > 150)
    assert xs.mean() == pytest.approx(160.5, abs=1.0) and ys.mean() == pytest.approx(144.5, abs=1.0)


def _synthetic_scene(T, heading, nose_dist=30.0):
    """A video with a bright block at the 'nose' of an animal at (320, 240) facing ``heading``."""
    c = np.array([320.0, 240.0])
    d = np.array([np.cos(heading), np.sin(heading)])
    nose = c + nose_dist * d
    tail = c - nose_dist * d
    video = np.zeros((T, 480, 640), np.uint8)
    x, y = np.round(nose).astype(int)
    video[:, y - 4 : y + 5, x - 4 : x + 5] = 255
    kp = np.tile(np.stack([nose, c, tail])[None], (T, 1, 1))
    return video, kp, np.tile(c, (T, 1)), np.full(T, heading)


@pytest.mark.parametrize("heading", [0.3, 2.0, -2.6])
def test_grid_tile_faces_right_with_keypoints_and_dot(heading):
    T = 200
    video, kp, cen, head = _synthetic_scene(T, heading)
    inst = [("r", 60 + 10 * i, 70 + 10 * i) for i in range(6)]
    movie = grid_movie(
        {"r": video},
        {"r": cen},
        {"r": head},
        inst,
        keypoints={"r": kp},
        edges=[(0, 1), (1, 2)],
        rows=2,
        cols=3,
        window_size=128,
        tile_size=128,
        pre=30,
        post=60,
        keypoint_radius=0,
    )
    assert movie.shape == (90, 256, 384, 3)
    tile = movie[10, 128:256, 256:384]  # instance 5, before onset
    grey = tile.min(axis=-1)
    ys, xs = np.nonzero(grey > 200)
    # the nose block sits 30 px right of the tile centre (64, 64)
    assert xs.mean() == pytest.approx(64 + 30, abs=1.0) and ys.mean() == pytest.approx(64, abs=1.0)
    # the skeleton line runs left of the centre along the midline
    line = tile[64, 36:60]
    assert (line.astype(int).sum(axis=-1) > 300).all()
    # the dot is drawn during the syllable only (frames 30..39 for a 10-frame instance)
    assert movie[35, 64, 64].min() == 255 and movie[45, 64, 64].max() < 255


def test_grid_tile_scaled_and_empty_tiles():
    T = 200
    video, kp, cen, head = _synthetic_scene(T, 0.0)
    movie = grid_movie(
        {"r": video},
        {"r": cen},
        {"r": head},
        [("r", 60, 70)],
        keypoints={"r": kp},
        rows=2,
        cols=2,
        window_size=128,
        tile_size=64,
        pre=30,
        post=60,
        keypoint_radius=0,
        dot_radius=0,
    )
    assert movie.shape == (90, 128, 128, 3)
    ys, xs = np.nonzero(movie[5, :64, :64].min(axis=-1) > 200)
    assert xs.mean() == pytest.approx(32 + 15, abs=1.0)
    assert movie[:, 64:, :].max() == 0 and movie[:, :, 64:].max() == 0  # unused tiles stay black
    with pytest.raises(ValueError, match="do not fit"):
        grid_movie({"r": video}, {"r": cen}, {"r": head}, [("r", 60, 70)] * 5, rows=2, cols=2)
    with pytest.raises(ValueError, match="videos or keypoints"):
        grid_movie(None, {"r": cen}, {"r": head}, [("r", 60, 70)])


def test_skeleton_movie_and_guessed_skeleton():
    T = 200
    _, kp, cen, head = _synthetic_scene(T, 1.0)
    # openfield-like layout: snout, two ears, tail base
    c = np.array([[30.0, 0.0], [15.0, 12.0], [15.0, -12.0], [-40.0, 1.0]])
    assert guess_skeleton(np.tile(c[None], (5, 1, 1))) == [(0, 1), (0, 2), (1, 3)]
    movie = skeleton_movie(
        {"r": kp},
        {"r": cen},
        {"r": head},
        [("r", 60, 70)],
        rows=1,
        cols=1,
        window_size=100,
        tile_size=100,
        pre=10,
        post=20,
        dot_radius=0,
    )
    assert movie.shape == (30, 100, 100, 3)
    frame = movie[0]
    # the nose keypoint (first colour, tomato red) is 30 px right of the centre
    r, g, b = frame[..., 0].astype(int), frame[..., 1].astype(int), frame[..., 2].astype(int)
    ys, xs = np.nonzero((r > 200) & (g < 150) & (b < 120))
    assert xs.mean() == pytest.approx(50 + 30, abs=1.5) and ys.mean() == pytest.approx(50, abs=1.5)


def test_align_video_frames():
    assert align_video_frames(5, 5).tolist() == [0, 1, 2, 3, 4]
    with pytest.raises(ValueError, match="has 90 frames but the recording has 100"):
        align_video_frames(100, 90)
    # tracked at 15 Hz from a 30 Hz video: every other frame, by timestamps
    idx = align_video_frames(
        50, 100, timestamps=10 + np.arange(50) / 15, video_timestamps=np.arange(100) / 30
    )
    assert idx.tolist() == list(range(0, 100, 2))
    with pytest.raises(ValueError, match="no video frame within half a frame"):
        align_video_frames(
            50, 20, timestamps=np.arange(50) / 15, video_timestamps=np.arange(20) / 30
        )


def test_video_reader_seeks_and_reads_in_any_order(tmp_path):
    T = 300
    frames = np.zeros((T, 32, 48), np.uint8)
    for t in range(T):  # the frame number written in the pixels: 8 bits of t in 8 blocks
        for bit in range(9):
            frames[t, :, bit * 5 : (bit + 1) * 5] = 255 if (t >> bit) & 1 else 0
    p = write_mp4(tmp_path / "v.mp4", frames, fps=30, quality=10)

    def number(img):
        return sum(1 << bit for bit in range(9) if img[:, bit * 5 + 1 : bit * 5 + 4].mean() > 128)

    with VideoReader(p) as r:
        assert len(r) == T and r.shape == (T, 32, 48)
        order = [5, 250, 251, 3, 299, 0, 140, 141, 142, 10]
        got = r[order]
        assert [number(f) for f in got] == order
        assert number(r[7]) == 7
        with pytest.raises(IndexError):
            r[T]


def test_instances_and_sampling():
    lab = np.array([0, 0, 1, 1, 1, -1, 0, 2, 2, 0, 0, 0, 1])
    inst = syllable_instances({"a": lab}, min_duration=1, require_window=False)
    assert inst[0] == [("a", 0, 2), ("a", 6, 7), ("a", 9, 12)]
    assert inst[1] == [("a", 2, 5), ("a", 12, 13)]
    inst = syllable_instances({"a": lab}, pre=2, post=1, min_duration=2)
    assert inst == {0: [("a", 9, 12)], 1: [("a", 2, 5)], 2: [("a", 7, 9)]}
    many = [("r", i, i + 3) for i in range(0, 300, 3)]
    s1 = sample_instances(many, 10, seed=1, syllable=4)
    assert s1 == sample_instances(many, 10, seed=1, syllable=4)  # reproducible
    assert s1 != sample_instances(many, 10, seed=2, syllable=4)
    assert s1 != sample_instances(many, 10, seed=1, syllable=5)
    assert len(set(s1)) == 10 and s1 == sorted(s1) and set(s1) <= set(many)
    assert sample_instances(many[:5], 10) == many[:5]


def test_parse_syllables():
    assert parse_syllables("0-3") == [0, 1, 2, 3]
    assert parse_syllables("1,4,7") == [1, 4, 7]
    assert parse_syllables("0-2, 8,1") == [0, 1, 2, 8]
    assert parse_syllables("all", 3) == [0, 1, 2]
    for bad in ("x", "3-1", "", "-1", "2-x"):
        # each message names the argument and says what it takes
        with pytest.raises(
            ValueError, match=r"^syllables: (cannot read|no syllable in|syllables ar)"
        ):
            parse_syllables(bad)
    with pytest.raises(ValueError, match="0-4"):
        parse_syllables("2-7", num_states=5)


def test_render_movies_parallel_equals_serial(tmp_path):
    T = 150
    crop = _planted_crop(T)
    rng = np.random.default_rng(0)
    cen = np.cumsum(rng.normal(0, 2, size=(T, 2)), axis=0) + 150
    head = np.cumsum(rng.normal(0, 0.1, size=T))

    def job(k, folder):
        def run():
            m = crowd_movie(
                {"r": crop},
                {"r": cen},
                {"r": head},
                [("r", 40 + 10 * k, 50 + 10 * k)],
                canvas_shape=(300, 300),
                pre=20,
            )
            return write_mp4(tmp_path / folder / f"s{k}.mp4", m, fps=30)

        return run

    serial = render_movies([job(k, "a") for k in range(4)], num_workers=1)
    parallel = render_movies([job(k, "b") for k in range(4)], num_workers=2)
    assert [p.name for p in serial] == [p.name for p in parallel] == [f"s{k}.mp4" for k in range(4)]
    for a, b in zip(serial, parallel):
        assert np.array_equal(_decode(a)[0], _decode(b)[0])
    with pytest.raises(ValueError, match="num_workers"):
        render_movies([], num_workers=0)


def test_shipped_openfield_video_with_its_licence():
    """The package ships the openfield video (LGPL-3.0, licence named beside it) matching its
    keypoints."""
    from ethogram.data import data_path, openfield_keypoints
    from ethogram.io import read_recordings

    video = data_path("openfield/video.mp4")
    licence = data_path("openfield/LICENSE-video-LGPL-3.0.txt").read_text()
    assert "GNU LESSER GENERAL PUBLIC LICENSE" in licence and "Version 3" in licence
    assert "video.mp4" in data_path("openfield/PROVENANCE.txt").read_text()
    rec = read_recordings(str(openfield_keypoints()), format="dlc", fps=30.0)[0]
    assert count_frames(video) == rec.num_frames == 2330
    assert align_video_frames(rec.num_frames, count_frames(video)).tolist() == list(range(2330))


def test_memory_of_many_movies_is_that_of_one(tmp_path):
    """Rendering 8 movies holds one movie at a time: the peak does not grow with the number of
    syllables."""
    import tracemalloc

    T = 400
    crop = _planted_crop(T)
    cen = np.tile([[150.0, 150.0]], (T, 1))

    def jobs(n):
        def job(k):
            def run():
                m = crowd_movie(
                    {"r": crop},
                    {"r": cen},
                    {"r": np.zeros(T)},
                    [("r", 40 + 20 * k, 70 + 20 * k)],
                    canvas_shape=(300, 300),
                    pre=30,
                )
                return write_mp4(tmp_path / f"{n}_{k}.mp4", m, fps=30).name

            return run

        return [job(k) for k in range(n)]

    peaks = {}
    for n in (2, 8):
        tracemalloc.start()
        render_movies(jobs(n), num_workers=1)
        peaks[n] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    one_movie = 60 * 300 * 300  # bytes of one uint8 movie
    assert peaks[8] < peaks[2] + one_movie
    assert peaks[8] < 4 * one_movie


def test_video_aligned_by_timestamps_in_make_movies_wiring(tmp_path):
    """Keypoints at 15 Hz with timestamps on a 30 Hz video: every other video frame, never a
    shift."""
    from types import SimpleNamespace

    from ethogram.viz._movie_plan import _video_for

    frames = np.zeros((100, 16, 16), np.uint8)
    video = write_mp4(tmp_path / "v.mp4", frames, fps=30)
    rec = SimpleNamespace(
        name="r", num_frames=50, timestamps=100.0 + np.arange(50) / 15, video_path=str(video)
    )
    path, index = _video_for(rec, None, align_timestamps=True)
    assert path == str(video) and index.tolist() == list(range(0, 100, 2))
    with pytest.raises(ValueError, match="refusing to guess"):
        _video_for(rec, None, align_timestamps=False)
    rec.timestamps = None
    with pytest.raises(ValueError, match="has 100 frames but the recording has 50"):
        _video_for(rec, None, align_timestamps=True)


def test_a_video_counted_again_is_read_once_and_a_rewritten_one_again(tmp_path, monkeypatch):
    """count_frames keeps its count per file, size, inode and modification time."""
    import ethogram.viz._video as video

    calls = []
    count = video.count_packets
    monkeypatch.setattr(video, "count_packets", lambda p: calls.append(p) or count(p))
    frames = np.zeros((12, 16, 16), dtype=np.uint8)
    p = write_mp4(tmp_path / "v.mp4", frames, fps=30)
    assert count_frames(p) == count_frames(str(p)) == 12 and len(calls) == 1
    write_mp4(tmp_path / "v.mp4", frames[:7], fps=30)  # the same name, another video
    assert count_frames(p) == 7 and len(calls) == 2


def test_frames_are_counted_in_the_file_not_its_header(tmp_path):
    """A video cut short keeps the frame count of its header; count_frames counts the frames
    the file still holds, and FFmpeg's error is said for a file that is not a video."""
    import subprocess

    import cv2
    import imageio_ffmpeg

    frames = np.random.default_rng(0).integers(0, 255, (60, 64, 64), dtype=np.uint8)
    whole = write_mp4(tmp_path / "whole.mp4", frames, fps=30)
    front = tmp_path / "front.mp4"  # the index (moov) first, so that a cut file still opens
    subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-i", str(whole)]
        + ["-c", "copy", "-movflags", "+faststart", str(front)],
        check=True,
    )
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(front.read_bytes()[: front.stat().st_size // 2])
    cap = cv2.VideoCapture(str(cut))
    assert cap.get(cv2.CAP_PROP_FRAME_COUNT) == 60  # the header still says 60
    grabbed = 0
    while cap.grab():
        grabbed += 1
    cap.release()
    assert count_frames(whole) == count_frames(front) == 60
    assert 0 < grabbed <= count_frames(cut) <= grabbed + 3 < 60
    (tmp_path / "notes.mp4").write_text("not a video")
    with pytest.raises(RuntimeError, match="could not read the video stream of .*notes.mp4"):
        count_frames(tmp_path / "notes.mp4")
