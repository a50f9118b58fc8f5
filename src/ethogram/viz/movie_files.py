"""Movies of a fit: from a results file to ``OUT/movies/<kind>_syllable_<k>.mp4``.

This room wires :mod:`ethogram.viz.movie_render` to :mod:`ethogram.results`: it picks the kind
of movie the recordings allow (crowd movies from MoSeq depth frames, re-read lazily through
the recording's own reader; grid movies from keypoints and the tracked videos, found by name
in a folder or named per recording by :mod:`ethogram.viz.video_match`; skeleton movies from
keypoints alone), checks that a video has as many frames as the recording (or aligns them by
timestamps, never silently), samples instances per syllable with a seed, renders the
syllables in parallel threads and writes a manifest ``movies.csv`` (one row per movie),
``instances.csv`` (the instances each movie shows) and ``skipped.csv`` (syllables without a
movie, and why) beside the movies. The movies are rendered in a hidden folder beside the
destination and moved in only when all are done, so a failure leaves the folder as it was; a
movie already there is replaced only with ``overwrite=True`` (``--overwrite``), and runs for
other syllables or kinds add to the folder and its manifests.

Headings in results files follow their source: keypoint recordings have the pixel convention
of :mod:`ethogram.prep`; MoSeq recordings (``format`` ``"moseq2"``/``"moseq-nwb"``) keep
MoSeq's ``angle``, counter-clockwise on screen, which is negated here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .._files import built_beside, written_atomically
from ..errors import ArgumentError, OutputExistsError

__all__ = [
    "make_movies",
    "fit_folder",
    "usable_rule",
    "why_no_movie",
    "KINDS",
    "MOSEQ_FORMATS",
    "MANIFEST_COLUMNS",
    "INSTANCE_COLUMNS",
]

KINDS = ("crowd", "grid", "skeleton")
#: columns of ``movies.csv``, one row per movie
MANIFEST_COLUMNS = [
    "syllable",
    "kind",
    "file",
    "num_instances",
    "usable_instances",
    "all_instances",
    "num_frames",
    "height",
    "width",
    "fps",
    "window",
]
#: columns of ``instances.csv``, one row per instance shown (``video``: its file, grid movies)
INSTANCE_COLUMNS = ["syllable", "kind", "instance", "recording", "start", "stop", "video"]
#: formats whose heading is MoSeq's on-screen angle and whose frames are depth crops
MOSEQ_FORMATS = ("moseq2", "moseq-nwb")


def fit_folder(path) -> Path:
    """The output folder of a fit: ``OUT`` itself, or the folder of ``OUT`` when it is a .h5
    file."""
    p = Path(path).expanduser()
    return p.parent if p.suffix.lower() in (".h5", ".hdf5") else p


def _results(results):
    from ..results import load_results

    if isinstance(results, (str, Path)):
        p = Path(results).expanduser()
        if p.is_dir():
            p = p / "results.h5"
        if not p.is_file():
            raise FileNotFoundError(
                f"results file {str(p)!r} not found; "
                "give the output folder of 'ethogram fit' or its .h5 file"
            )
        return load_results(p)
    return results


def _pixel_heading(rec) -> np.ndarray | None:
    if rec.heading is None:
        return None
    h = np.asarray(rec.heading, dtype=np.float64)
    return -h if rec.format in MOSEQ_FORMATS else h


def _depth_frames(rec):
    """The recording's depth frames (lazy), re-read through its reader; None when it has none."""
    if rec.format not in MOSEQ_FORMATS or not rec.source or not Path(rec.source).exists():
        return None
    from ..io import read_recordings

    found = read_recordings(rec.source, format=rec.format)
    match = (
        [r for r in found if r.name == rec.name]
        or [r for r in found if rec.name.endswith(r.name)]
        or (found if len(found) == 1 else [])
    )
    for r in match[:1]:
        if r.frames is not None and len(r.frames) == rec.num_frames:
            return r.frames
    return None


def _depth_vmax(frames, min_height: int = 10, num: int = 100) -> float | None:
    """The 99.5th percentile of the animal's heights in up to ``num`` frames spread over each
    recording."""
    vals = []
    for fr in frames.values():
        idx = np.unique(np.linspace(0, len(fr) - 1, min(num, len(fr))).astype(int))
        x = np.asarray(fr[idx])
        vals.append(x[x >= min_height])
    v = np.concatenate(vals) if vals else np.zeros(0)
    return float(np.percentile(v, 99.5)) if v.size else None


def _video_for(rec, path, align_timestamps: bool):
    """(video path, frame index) for a recording: the file checked to be a video whose frames
    go with the recording's (same count, or aligned by timestamps)."""
    from ._video import align_video_frames, count_frames, read_video_timestamps
    from .video_match import check_video

    path = Path(path if path is not None else rec.video_path).expanduser()
    check_video(path, rec.name)  # one line for a CSV or a truncated file, not an FFmpeg code
    try:
        n_video = count_frames(path)
    except RuntimeError as exc:
        raise ValueError(
            f"video {str(path)!r} for recording {rec.name!r} cannot be decoded to its "
            f"end ({str(exc).splitlines()[0][:80]}); give a complete video"
        ) from None
    vts = None
    if n_video != rec.num_frames and rec.timestamps is not None and align_timestamps:
        vts = read_video_timestamps(path)
    where = f"video {str(path)!r}" + (f" (for recording {rec.name!r})" if rec.name else "")
    index = align_video_frames(rec.num_frames, n_video, rec.timestamps, vts, video_path=where)
    if n_video == rec.num_frames:
        _check_video_rate(rec, path, where)
    return str(path), index


def _check_video_rate(rec, path, where: str) -> None:
    """Warn when the video shows the recording frame for frame at another rate than the fit's:
    the movies are right, but every duration of the fit (and the movies' windows in seconds)
    is off by the ratio."""
    import warnings

    from ..io.rates import FrameRateWarning, video_rate_against

    video_fps = video_rate_against(path, None, rec.fps)  # the caller matched the counts
    if video_fps is None:
        return
    warnings.warn(
        FrameRateWarning(
            f"{where} runs at {video_fps:g} fps, frame for frame, but the results were fitted at "
            f"{rec.fps:g} fps: the fit's durations and speeds are off by "
            f"{rec.fps / video_fps:.3g}x; "
            f"refit with {{fps:{video_fps:g}}} if the video's rate is the true one",
            "fps",
        ),
        stacklevel=2,
    )


def _edges_from_names(pairs, bodyparts) -> list[tuple[int, int]]:
    names = list(bodyparts)
    edges = []
    for pair in pairs:
        if len(pair) != 2 or any(p not in names for p in pair):
            raise ValueError(
                f"skeleton pair {tuple(pair)} must join two body parts of the recording: {names}"
            )
        edges.append((names.index(pair[0]), names.index(pair[1])))
    return edges


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
        Where the movies go; default ``<fit folder>/movies``.
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
    """
    import pandas as pd

    from ._instances import syllable_instances

    res = _results(results)
    recs, kind, found, no_video = _recordings_for(res, kind, video)
    fps_all = [r.fps for r in recs if r.fps]
    fps = float(fps_all[0]) if fps_all else 30.0
    pre = int(round(pre_s * fps))
    if out_dir is None:
        out_dir = fit_folder(res.path) / "movies" if res.path else Path("movies")
    out_dir = Path(out_dir)
    plan = _MoviePlan(kind, fps, pre, *_poses(recs), cols=cols, tile_size=tile_size)
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
    _refuse_existing(out_dir, [names[k] for k in sorted(chosen)], overwrite)
    why = pd.DataFrame(
        [(k, kind, why_no_movie(counts[k], rule, min_duration)) for k in skipped],
        columns=["syllable", "kind", "reason"],
    )
    manifest = _write_movies(plan, chosen, counts, names, out_dir, why, num_workers, progress)
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
    kind = _choose_kind(recs, kind, has_video)
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


@dataclass
class _MoviePlan:
    """What every movie of one call shares: the kind, the window around each instance and the
    recordings' arrays by name (depth frames for crowd movies; keypoints, videos and the
    skeleton for grid and skeleton movies)."""

    kind: str
    fps: float
    pre: int
    cents: dict
    heads: dict
    labels: dict
    cols: int = 6
    tile_size: int = 128
    post: int = 0
    frames: dict | None = None
    canvas: tuple = (0, 0)
    max_duration: int = 0
    vmax: float | None = None
    keypoints: dict | None = None
    videos: dict = field(default_factory=dict)
    index: dict = field(default_factory=dict)
    edges: list = field(default_factory=list)

    def set_up_crowd(self, recs, post_s) -> None:
        """Read the depth frames; the canvas that holds every animal's position."""
        frames = {}
        for r in recs:
            fr = _depth_frames(r)
            if fr is None:
                raise ArgumentError(
                    f"recording {r.name!r} ({r.format}) has no depth frames to read; crowd movies "
                    "need MoSeq frames (use {kind:grid} or skeleton for keypoints)",
                    "kind",
                )
            frames[r.name] = fr
        self.frames = frames
        self.post = int(round((post_s or 0.0) * self.fps))
        self.max_duration = int(round(2.0 * self.fps))
        crop = frames[recs[0].name].shape[1:3]
        R = int(np.ceil(np.hypot(*crop) / 2)) + 1
        ext = np.nanmax(np.concatenate([self.cents[n] for n in self.cents]), axis=0)
        W, H = (int(np.ceil((v + R) / 16) * 16) for v in ext)
        self.canvas = (H, W)
        self.vmax = _depth_vmax(frames)

    def set_up_tiles(self, recs, found, post_s, align_timestamps, skeleton) -> None:
        """Keypoints, the videos (grid movies) and the skeleton's edges."""
        from .movie_render import guess_skeleton

        if any(r.keypoints is None for r in recs):
            raise ValueError(
                f"{self.kind} movies need keypoints; these results have none (crowd "
                "movies need depth frames)"
            )
        self.keypoints = {r.name: np.asarray(r.keypoints, dtype=np.float64) for r in recs}
        self.post = int(round((2.0 if post_s is None else post_s) * self.fps))
        if self.kind == "grid":
            for r in recs:
                self.videos[r.name], self.index[r.name] = _video_for(
                    r, found[r.name], align_timestamps
                )
        first = recs[0].name
        if skeleton is None:
            self.edges = guess_skeleton(self.keypoints[first], self.cents[first], self.heads[first])
        else:
            self.edges = _edges_from_names(skeleton, recs[0].bodyparts or ())

    def render(self, sample):
        """``(movie, window)``: the frames of the movie of ``sample``'s instances, and the side
        of the tiles' window (None for crowd movies)."""
        from ._video import VideoReader
        from .movie_render import crowd_movie, grid_movie, tile_window

        if self.kind == "crowd":
            movie = crowd_movie(
                self.frames,
                self.cents,
                self.heads,
                sample,
                canvas_shape=self.canvas,
                pre=self.pre,
                post=self.post,
                max_duration=self.max_duration,
                vmax=self.vmax,
            )
            return movie, None
        vids = None
        if self.kind == "grid":
            shown = {s[0] for s in sample}
            vids = {n: VideoReader(p) for n, p in self.videos.items() if n in shown}
        window, offset = tile_window(self.keypoints, self.cents, self.heads, sample, post=self.post)
        try:
            n_cols = min(self.cols, len(sample))  # fewer instances than tiles: no black band
            movie = grid_movie(
                vids,
                self.cents,
                self.heads,
                sample,
                keypoints=self.keypoints,
                edges=self.edges,
                rows=-(-len(sample) // n_cols),
                cols=n_cols,
                window_size=window,
                window_offset=offset,
                tile_size=self.tile_size,
                pre=self.pre,
                post=self.post,
                frame_index=self.index or None,
            )
        finally:
            for v in (vids or {}).values():
                v.close()
        return movie, window

    def write(self, k, sample, path, counts) -> dict:
        """Render and write the movie of syllable ``k``; its row of the manifest."""
        from ._video import write_mp4

        movie, window = self.render(sample)
        path = write_mp4(path, movie, fps=self.fps)
        return {
            "syllable": k,
            "kind": self.kind,
            "file": path.name,
            "num_instances": len(sample),
            "usable_instances": counts["usable"],
            "all_instances": counts["all"],
            "num_frames": movie.shape[0],
            "height": movie.shape[1],
            "width": movie.shape[2],
            "fps": self.fps,
            "window": window,
        }


def _write_movies(plan, chosen, counts, names, out_dir, why, num_workers, progress):
    """Render the movies in a hidden folder beside ``out_dir``, then move them in and merge the
    manifests (``movies.csv``, ``instances.csv``, ``skipped.csv``); on failure nothing is left
    behind. Returns the manifest of the movies written."""
    import pandas as pd

    from .movie_render import render_movies

    kind = plan.kind
    with built_beside(out_dir) as build:
        jobs = [
            lambda k=k: plan.write(k, chosen[k], build / names[k], counts[k])
            for k in sorted(chosen)
        ]
        rows_out = render_movies(
            jobs, num_workers=num_workers, progress=progress, desc=f"{kind} movies"
        )
        manifest = pd.DataFrame(rows_out, columns=MANIFEST_COLUMNS)
        inst_rows = [
            (k, kind, i, n, a, b, plan.videos.get(n, "") if kind == "grid" else "")
            for k in sorted(chosen)
            for i, (n, a, b) in enumerate(chosen[k])
        ]
        instances = pd.DataFrame(inst_rows, columns=INSTANCE_COLUMNS)
        out_dir.mkdir(exist_ok=True)
        for k in sorted(chosen):  # every movie is complete: move them in, then the manifests
            os.replace(build / names[k], out_dir / names[k])
        _merge_csv(out_dir / "movies.csv", manifest, kind)
        _merge_csv(out_dir / "instances.csv", instances, kind)
        _merge_csv(out_dir / "skipped.csv", why, kind, drop={(k, kind) for k in chosen})
    return manifest


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


def _refuse_existing(out_dir: Path, names, overwrite: bool) -> None:
    """FileExistsError naming the movies of ``names`` already in ``out_dir`` (unless
    ``overwrite``)."""
    if overwrite:
        return
    existing = [n for n in names if (out_dir / n).exists()]
    if existing:
        listed = ", ".join(existing[:3]) + (
            f" and {len(existing) - 3} more" if len(existing) > 3 else ""
        )
        raise OutputExistsError(
            f"{str(out_dir)!r} already holds {listed} from an earlier run; "
            "pass {overwrite:True} to replace "
            "them, or write elsewhere with {out_dir}",
            ("overwrite", "out_dir"),
        )


def _merge_csv(path: Path, new, kind: str, drop=()) -> None:
    """Write ``new`` to ``path``, keeping the rows of earlier runs for other (syllable, kind) pairs
    (and not in ``drop``); an empty table removes the file."""
    import pandas as pd

    table = new
    drop = set(drop)
    if path.is_file():
        try:
            old = pd.read_csv(path)
        except (pd.errors.ParserError, pd.errors.EmptyDataError):
            old = None
        if (
            old is not None
            and {"syllable", "kind"} <= set(old.columns)
            and set(old.columns) <= set(new.columns)
        ):
            old = old.reindex(
                columns=new.columns
            )  # a manifest of an earlier version: its rows kept, new columns empty
            done = set(zip(new["syllable"], new["kind"])) | drop
            keep = [(s, k) not in done for s, k in zip(old["syllable"], old["kind"])]
            table = pd.concat([old[keep], new], ignore_index=True).sort_values(
                ["kind", "syllable"], kind="stable"
            )
    if table.empty:
        if path.is_file():
            path.unlink()
        return
    with written_atomically(path) as tmp:
        table.to_csv(tmp, index=False)
