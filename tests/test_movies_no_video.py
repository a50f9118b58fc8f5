"""``ethogram movies`` without ``--video`` says which recordings got no video, so skeleton
movies, and names the video beside their keypoints under another name as the likely one (the
shipped open-field folder: ``keypoints.csv`` beside ``video.mp4``, a name that does not begin
the recording's)."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import DATA
from ethogram.errors import ArgumentWarning
from ethogram.viz._video import write_mp4


def _fit(tmp_path, sources):
    """A planted fit of ``len(sources)`` recordings whose pose files are ``sources``."""
    from ethogram.results import write_results
    from ethogram.viz._synthetic import synthetic_results

    res = synthetic_results(
        num_states=3, num_recordings=len(sources), num_frames=300, expected_states=False, seed=1
    )
    for r, source in zip(res.recordings, sources):
        r.source = str(source)
    write_results(tmp_path / "fit" / "results.h5", res, csv=False)
    return tmp_path / "fit"


def test_no_video_by_name_is_one_line_naming_the_video_beside_the_keypoints(tmp_path, capsys):
    from ethogram.cli import main

    keypoints = DATA / "openfield" / "keypoints.csv"
    fit = _fit(tmp_path, [keypoints])
    argv = ["movies", str(fit), "--syllables", "0", "--rows", "1", "--cols", "2", "--quiet"]
    assert main(argv) == 0
    cap = capsys.readouterr()
    assert cap.out.startswith("1 skeleton movie(s) in ")
    assert cap.err.splitlines() == [
        "ethogram: warning: no video found for recording 'mouse0' (a video is found when its "
        "name begins the recording's file name), so these are skeleton movies, not grid "
        f"movies; {keypoints.parent / 'video.mp4'}, beside its keypoints under another name, "
        f"is likely its video: give --video {keypoints.parent / 'video.mp4'}"
    ]
    # the kind asked for is drawn without a word
    assert main([*argv, "--kind", "skeleton", "--overwrite"]) == 0
    assert capsys.readouterr().err == ""


def test_several_recordings_without_a_video_are_told_name_equals_path(tmp_path):
    from ethogram.viz.movie_files import make_movies

    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    write_mp4(a / "cam.mp4", np.full((300, 16, 16), 90, np.uint8), fps=30)
    fit = _fit(tmp_path, [a / "s1.csv", b / "s2.csv", "/nowhere/s3.csv"])
    kw = dict(syllables=[0], rows=1, cols=1, tile_size=32, progress=False)
    with pytest.warns(ArgumentWarning) as record:
        make_movies(fit, tmp_path / "m", **kw)
    (w,) = [r.message for r in record if isinstance(r.message, ArgumentWarning)]
    assert w.arguments == ("video",)
    assert w.worded({"video": "--video"}) == (
        "no video found for the 3 recordings 'mouse0', 'mouse1', 'mouse2' (a video is found "
        "when its name begins the recording's file name), so these are skeleton movies, not "
        "grid movies; give --video as NAME=PATH for each, or a folder of videos named like "
        f"the recordings (likely, from the videos beside their keypoints: mouse0={a / 'cam.mp4'})"
    )
