"""Movies of a fit: from a results file to ``RESULTS/movies/<kind>_syllable_<k>.mp4``.

This room chooses what the movies show: :func:`make_movies` reads the results, picks the kind
of movie the recordings allow (crowd movies from MoSeq depth frames; grid movies from keypoints
and the tracked videos, found by name in a folder or named per recording by
:mod:`ethogram.viz.video_match`; skeleton movies from keypoints alone), takes the headings in
the pixel convention (MoSeq recordings, ``format`` ``"moseq2"``/``"moseq-nwb"``, keep MoSeq's
``angle``, counter-clockwise on screen, which is negated here), and samples instances per
syllable with a seed, saying in words (:func:`usable_rule`, :func:`why_no_movie`) why a syllable
has none. The recordings' frames and videos are read and the movies rendered by
:mod:`ethogram.viz._movie_plan`; they are written, atomically, with their manifests
``movies.csv``, ``instances.csv`` and ``skipped.csv``, by :mod:`ethogram.viz._movie_output`.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from ..errors import ArgumentError, ArgumentWarning
from ._movie_output import INSTANCE_COLUMNS, MANIFEST_COLUMNS, refuse_existing, write_movies
from ._movie_plan import MOSEQ_FORMATS, MoviePlan
from ._report_files import output_folder

__all__ = [
    "make_movies",
    "usable_rule",
    "why_no_movie",
    "KINDS",
    "MOSEQ_FORMATS",
    "MANIFEST_COLUMNS",
    "INSTANCE_COLUMNS",
]

KINDS = ("crowd", "grid", "skeleton")


def _results(results):
    from ..results import load_results

    if isinstance(results, (str, Path)):
        p = Path(results).expanduser()
        if p.is_dir():
            p = p / "results.h5"
        if not p.is_file():
            raise FileNotFoundError(
                f"results file {str(p)!r} not found; "
                "give the folder 'ethogram fit -o' wrote, or its results .h5 file"
            )
        return load_results(p)
    return results


def _pixel_heading(rec) -> np.ndarray | None:
    if rec.heading is None:
        return None
    h = np.asarray(rec.heading, dtype=np.float64)
    return -h if rec.format in MOSEQ_FORMATS else h


def _choose_kind(recs, kind, has_video: bool):
    if kind in (None, "auto"):
        if all(r.format in MOSEQ_FORMATS for r in recs):
            return "crowd"
        if all(r.keypoints is not None for r in recs):
            return "grid" if has_video else "skeleton"
        raise ValueError(
            "the recordings have neither depth frames nor keypoints; no movie can be made"
        )
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    return kind


def make_movies(
    results,
    out_dir=None,
    *,
    syllables=None,
    kind: str = "auto",
    video=None,
    num_instances: int | None = None,
    seed: int = 0,
    num_workers: int = 1,
    progress: bool = False,
    pre_s: float = 1.0,
    post_s: float | None = None,
    min_duration: int = 3,
    rows: int = 4,
    cols: int = 6,
    tile_size: int = 128,
    align_timestamps: bool = True,
    skeleton=None,
    overwrite: bool = False,
):
    """Write one movie per syllable for a fit.

    Parameters
    ----------
    results : Results, or path of a results file or of its folder
    out_dir : str or Path, optional
        Where the movies go; default ``movies/`` in the fit's folder, ``<stem>_movies/`` beside
        any other results file (:func:`ethogram.viz._report_files.output_folder`).
    syllables : list of int, optional
        Default: every syllable that occurs in the recordings (those without a usable instance
        are listed in ``manifest.attrs["skipped"]``).
    kind : {"auto", "crowd", "grid", "skeleton"}, default "auto"
        ``auto``: crowd for MoSeq depth recordings, grid when a keypoint recording has a
        video (from ``video`` or the one its reader found), else skeleton.
    video : str, Path, mapping, or a list of them, optional
        Where the videos are (:func:`ethogram.viz.video_match.resolve_videos`): a video file
        (a single recording, or the animals of a single file), a folder whose videos are
        matched to the recordings by name, ``{name: path}`` or ``"NAME=PATH"`` strings (a
        recording's name, or a file name for all its animals). Recordings without a video
        are left out of grid movies and listed in ``attrs["no_video"]``.
    num_instances : int, optional
        Instances per movie: default 40 for crowd movies, ``rows * cols`` for grid and
        skeleton movies (at most that).
    seed : int, default 0
        Instances are sampled per syllable with ``(seed, syllable)``.
    num_workers : int, default 1
        Movies rendered at the same time (threads).
    progress : bool, default False
    pre_s : float, default 1.0
        Seconds shown before onset.
    post_s : float, optional
        Crowd: seconds after the end of the longest instance (default 0; instances are cut
        at 2 s); grid/skeleton: seconds from onset (default 2).
    min_duration : int, default 3
        Shortest instance shown, in frames. An instance is *usable* when it lasts at least
        ``min_duration`` frames and the recording holds the movie's window around it:
        ``pre_s`` before its onset and, for grid and skeleton movies, ``post_s`` after its end
        (:func:`ethogram.viz._instances.syllable_instances`).
    rows, cols, tile_size : int, default 4, 6, 128
        Grid layout and tile side in pixels; a movie of fewer than ``rows * cols`` instances
        has only the rows it fills (and fewer columns when it has fewer instances than
        ``cols``).
    align_timestamps : bool, default True
        When a video's frame count differs from the recording's and the recording has
        timestamps, align by them (else refuse).
    skeleton : list of (str, str), optional
        Body-part pairs to join in grid and skeleton movies; default
        :func:`ethogram.viz.movies.guess_skeleton` of the first recording.
    overwrite : bool, default False
        Replace movies of the same kind and syllable already in ``out_dir`` (their rows in the
        manifests too); without it they are refused before anything is rendered. Movies of
        other syllables or kinds in ``out_dir`` are kept either way.

    Returns
    -------
    pandas.DataFrame
        The manifest (also written to ``movies.csv``): ``syllable``, ``kind``, ``file``
        (relative to ``out_dir``), ``num_instances`` (shown), ``usable_instances``,
        ``all_instances`` (every run of the syllable), ``num_frames``, ``height``, ``width``,
        ``fps``. Its ``attrs`` hold ``skipped`` (syllables asked for without a usable
        instance: no movie), ``instance_counts`` (syllable -> dict of ``all``, ``short``
        (fewer than ``min_duration`` frames), ``edge`` (long enough, but the window leaves the
        recording) and ``usable``, for every syllable asked for), ``requested`` (instances
        wanted per movie), ``min_duration``, ``rule`` (the usability rule in words),
        ``no_video`` (recordings left out of grid movies for want of a video) and
        ``num_recordings``. Beside it, ``instances.csv`` lists the instances shown (with their
        video) and ``skipped.csv`` the syllables asked for without a movie and why. When no
        syllable has a usable instance nothing is written.

    Raises
    ------
    ValueError
        When the recordings cannot give the movie asked for (no depth frames for crowd, no
        keypoints for grid/skeleton, no recording with a video for grid), a video is not one
        FFmpeg reads, its frame count does not match, or ``video`` names no recording.
    FileNotFoundError
        When the results file or a video is missing.
    FileExistsError
        When a movie to write exists in ``out_dir`` and ``overwrite`` is False (nothing is
        written).

    Warns
    -----
    ArgumentWarning
        ``kind="auto"`` on keypoints when no recording has a video: the skeleton movies drawn
        instead of grid movies, the recordings, how to give their videos (``video``) and a
        video file beside their keypoints under another name, the likely one.
    """
    import pandas as pd

    from ._instances import syllable_instances

    res = _results(results)
    recs, kind, found, no_video = _recordings_for(res, kind, video)
    fps_all = [r.fps for r in recs if r.fps]
    fps = float(fps_all[0]) if fps_all else 30.0
    pre = int(round(pre_s * fps))
    if out_dir is None:
        out_dir = output_folder(res.path, "movies") if res.path else Path("movies")
    out_dir = Path(out_dir)
    plan = MoviePlan(kind, fps, pre, *_poses(recs), cols=cols, tile_size=tile_size)
    if kind == "crowd":
        plan.set_up_crowd(recs, post_s)
        n_inst = num_instances or 40
    else:
        plan.set_up_tiles(recs, found, post_s, align_timestamps, skeleton)
        n_inst = min(num_instances or rows * cols, rows * cols)
    post_kept = plan.post if kind != "crowd" else 0
    inst = syllable_instances(plan.labels, pre=pre, post=post_kept, min_duration=min_duration)
    counts, chosen, skipped = _choose_instances(
        plan.labels, inst, syllables, res.num_states, n_inst, seed, min_duration
    )
    names = {k: f"{kind}_syllable_{k:02d}.mp4" for k in chosen}
    rule = usable_rule(min_duration, pre, post_kept, fps if fps_all else None)
    attrs = {
        "skipped": skipped,
        "instance_counts": counts,
        "requested": n_inst,
        "min_duration": int(min_duration),
        "rule": rule,
        "no_video": no_video,
        "num_recordings": len(res.recordings),
    }
    if not chosen:  # nothing to render: write nothing (no folder, no manifest)
        manifest = pd.DataFrame(columns=MANIFEST_COLUMNS)
        manifest.attrs.update(attrs)
        return manifest
    refuse_existing(out_dir, [names[k] for k in sorted(chosen)], overwrite)
    why = pd.DataFrame(
        [(k, kind, why_no_movie(counts[k], rule, min_duration)) for k in skipped],
        columns=["syllable", "kind", "reason"],
    )
    manifest = write_movies(plan, chosen, counts, names, out_dir, why, num_workers, progress)
    manifest.attrs.update(attrs)
    return manifest


def _recordings_for(res, kind, video):
    """The recordings to show, the kind of movie, their videos, and the recordings left out for
    want of a video: ``(recordings, kind, videos found, names left out)``."""
    from .video_match import resolve_videos

    recs = list(res.recordings)
    if not recs:
        raise ValueError("the results hold no recording")
    found = {}
    if kind in (None, "auto", "grid") and not all(r.format in MOSEQ_FORMATS for r in recs):
        found = resolve_videos(recs, video)
    has_video = video is not None or any(v is not None for v in found.values())
    asked, kind = kind, _choose_kind(recs, kind, has_video)
    if kind == "skeleton" and asked in (None, "auto"):  # grid movies wanted a video
        warnings.warn(_skeleton_for_want_of_video(recs), stacklevel=3)
    no_video = []
    if kind == "grid":
        no_video = [r.name for r in recs if found.get(r.name) is None]
        if len(no_video) == len(recs):
            raise ArgumentError(_no_video_message(recs, video), ("video", "kind"))
        recs = [r for r in recs if found.get(r.name) is not None]  # the recordings with a video
    return recs, kind, found, no_video


def _poses(recs) -> tuple[dict, dict, dict]:
    """Centroids, headings (pixel convention) and syllables of the recordings, by name."""
    cents, heads, labels = {}, {}, {}
    for r in recs:
        if r.centroid is None or r.heading is None:
            raise ValueError(
                f"recording {r.name!r} has no centroid/heading in the results; movies need them"
            )
        cents[r.name] = np.asarray(r.centroid, dtype=np.float64)
        heads[r.name] = _pixel_heading(r)
        labels[r.name] = r.syllables
    return cents, heads, labels


def _choose_instances(labels, inst, syllables, num_states, n_inst, seed, min_duration):
    """``(counts, chosen, skipped)``: the ``instance_counts`` of every syllable asked for, the
    instances sampled for those that have usable ones, and those that have none."""
    from ._instances import sample_instances, syllable_instances

    every = syllable_instances(labels, min_duration=1, require_window=False)
    long_enough = syllable_instances(labels, min_duration=min_duration, require_window=False)
    wanted = sorted(every) if syllables is None else [int(k) for k in syllables]
    bad = [k for k in wanted if k < 0 or k >= num_states]
    if bad:
        raise ValueError(
            f"syllable(s) {bad} do not exist; the model has syllables 0-{num_states - 1}"
        )
    counts = {}
    for k in wanted:
        n_all, n_long = len(every.get(k, ())), len(long_enough.get(k, ()))
        n_ok = len(inst.get(k, ()))
        counts[k] = {"all": n_all, "short": n_all - n_long, "edge": n_long - n_ok, "usable": n_ok}
    chosen = {k: sample_instances(inst[k], n_inst, seed, k) for k in wanted if inst.get(k)}
    return counts, chosen, [k for k in wanted if k not in chosen]


def why_no_movie(counts: dict, rule: str, min_duration: int) -> str:
    """Why a syllable has no movie, in words, from its ``instance_counts`` entry.

    E.g. ``"no instance at least 3 frames long, with ... (of its 2 instances, 2 shorter than 3
    frames)"`` or ``"it does not occur in the recordings shown"``.
    """
    if not counts.get("all"):
        return "it does not occur in the recordings shown"
    parts = []
    if counts.get("short"):
        parts.append(f"{counts['short']} shorter than {min_duration} frames")
    if counts.get("edge"):
        parts.append(f"{counts['edge']} too close to the recording's start or end")
    return f"no instance {rule} (of its {counts['all']} instances, {', '.join(parts)})"


def _skeleton_for_want_of_video(recs) -> ArgumentWarning:
    """The recordings no video was found for (``kind="auto"`` then draws skeleton movies), how
    to give one, and the video files beside their keypoints, the likely ones, by name."""
    from .video_match import VIDEO_EXTENSIONS

    names = [str(r.name) for r in recs]
    shown = ", ".join(repr(n) for n in names[:5]) + (
        f" and {len(names) - 5} more" if len(names) > 5 else ""
    )
    beside = {}  # the pose file's name (all its animals) -> the videos in its folder
    for r in recs:
        folder = Path(str(r.source or "")).parent if r.source else None
        if folder is not None and folder.is_dir():
            videos = sorted(
                p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in VIDEO_EXTENSIONS
            )
            if videos:
                beside[str(r.name).split("/")[0]] = videos
    one = len(recs) == 1
    head = (
        f"no video found for {'recording' if one else f'the {len(names)} recordings'} {shown} "
        "(a video is found when its name begins the recording's file name), so these are "
        "skeleton movies, not grid movies; "
    )
    sources = {str(r.name).split("/")[0] for r in recs}
    if len(sources) == 1 and beside:
        (videos,) = beside.values()
        if len(videos) == 1:
            return ArgumentWarning(
                head + f"{videos[0]}, beside its keypoints under another name, is likely its "
                f"video: give {{video:{videos[0]}}}",
                "video",
            )
        listed = ", ".join(str(v) for v in videos[:3]) + (" ..." if len(videos) > 3 else "")
        return ArgumentWarning(
            head + f"videos beside its keypoints under other names: {listed}; give "
            "{video:PATH} with its video",
            "video",
        )
    if len(sources) == 1:
        return ArgumentWarning(head + "give {video:PATH} with its video", "video")
    likely = "; ".join(f"{name}={vs[0]}" for name, vs in list(beside.items())[:3] if len(vs) == 1)
    return ArgumentWarning(
        head + "give {video} as NAME=PATH for each, or a folder of videos named like the "
        "recordings"
        + (f" (likely, from the videos beside their keypoints: {likely})" if likely else ""),
        "video",
    )


def _no_video_message(recs, video) -> str:
    """Why no recording has a video, and what to give."""
    if video is None:
        return (
            "the recordings name no video; give {video:FILE} (one recording), a folder (videos "
            "named like the recordings) or NAME=PATH pairs, or use {kind:skeleton}"
        )
    names = ", ".join(repr(r.name.split("/")[0]) for r in recs[:3])
    names += " ..." if len(recs) > 3 else ""
    return (
        f"no video given matches a recording: a video's file name must begin the recording's "
        f"({names}); give {{video}} as NAME=PATH for each, or use {{kind:skeleton}}"
    )


def usable_rule(min_duration: int, pre: int, post: int, fps: float | None) -> str:
    """The rule an instance must meet to be shown, in words (frames, and seconds when ``fps`` is
    known).

    E.g. ``"at least 3 frames long, with 1 s (30 frames) of recording before its onset and 2 s
    (60 frames) after its end"``.
    """

    def span(n):
        return f"{n / fps:g} s ({n} frames)" if fps else f"{n} frames"

    text = f"at least {int(min_duration)} frames long"
    window = ([f"{span(pre)} of recording before its onset"] if pre > 0 else []) + (
        [f"{span(post)} after its end"] if post > 0 else []
    )
    return text + (", with " + " and ".join(window) if window else "")
