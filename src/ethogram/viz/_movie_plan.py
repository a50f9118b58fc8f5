"""What every movie of one call shares, read from the recordings, and one movie rendered from it.

Kept apart from choosing what to show (:mod:`ethogram.viz.movie_files`) and from writing
(:mod:`ethogram.viz._movie_output`): :class:`MoviePlan` holds the kind, the window around each
instance and the recordings' arrays by name: MoSeq depth frames re-read lazily through the
recording's own reader (crowd movies), or keypoints, the skeleton's edges and the videos, each
checked to have as many frames as its recording or aligned to it by timestamps, never silently,
with a warning when it runs at another rate than the fit (grid movies); it renders one syllable's
movie with :mod:`ethogram.viz.movie_render` and writes it as mp4. :class:`GridBatches` groups the
grid movies of a call in batches whose warped tiles fit :data:`BATCH_BYTES`, each video decoded
once per batch rather than once per movie.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import ArgumentError

#: formats whose heading is MoSeq's on-screen angle and whose frames are depth crops
MOSEQ_FORMATS = ("moseq2", "moseq-nwb")


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


@dataclass
class MoviePlan:
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
        from .movie_render import crowd_movie

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
        layout, window = self.layouts({0: sample})[0]
        return self.draw(layout), window

    def layouts(self, samples: dict) -> dict:
        """``{key: (layout, window)}`` of the grid or skeleton movies of ``samples`` (``{key:
        instances}``), their video frames warped in one forward pass over each video
        (:func:`ethogram.viz._movie_grid.warp_video_frames`)."""
        from ._movie_grid import layout_grid, warp_video_frames
        from ._video import VideoReader
        from .movie_render import tile_window

        out = {}
        for key, sample in samples.items():
            window, offset = tile_window(
                self.keypoints, self.cents, self.heads, sample, post=self.post
            )
            n_cols = min(self.cols, len(sample))  # fewer instances than tiles: no black band
            layout = layout_grid(
                self.cents,
                self.heads,
                sample,
                rows=-(-len(sample) // n_cols),
                cols=n_cols,
                window_size=window,
                offset=np.asarray(offset, dtype=np.float64).reshape(2),
                size=int(self.tile_size),
                pre=self.pre,
                post=self.post,
            )
            out[key] = (layout, window)
        if self.kind == "grid":
            shown = {s[0] for sample in samples.values() for s in sample}
            vids = {n: VideoReader(p) for n, p in self.videos.items() if n in shown}
            try:
                warp_video_frames(vids, [g for g, _ in out.values()], self.index or None)
            finally:
                for v in vids.values():
                    v.close()
        return out

    def draw(self, layout) -> np.ndarray:
        """The frames of a grid or skeleton movie from its layout (:meth:`layouts`)."""
        from ._movie_grid import DOT_RADIUS, KEYPOINT_RADIUS, draw_grid

        return draw_grid(
            layout, self.cents, self.keypoints, self.edges, DOT_RADIUS, KEYPOINT_RADIUS
        )

    def write(self, k, sample, path, counts, rendered=None) -> dict:
        """Render (unless ``rendered`` gives ``(movie, window)``) and write the movie of syllable
        ``k``; its row of the manifest."""
        from ._video import write_mp4

        movie, window = self.render(sample) if rendered is None else rendered
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


#: bytes of warped video tiles a batch of grid movies may hold between its decoding pass and its
#: drawing (grey tiles, one byte a pixel: a movie of 24 tiles of 128 px and 90 frames holds
#: 35 MB, so 7 such movies share a pass)
BATCH_BYTES = 256 * 2**20


class GridBatches:
    """The grid movies of one call in batches that share a decoding pass.

    Consecutive syllables are grouped while their warped tiles fit in ``budget`` bytes
    (:data:`BATCH_BYTES` by default; a movie bigger than the budget is a batch of its own).
    The first movie of a batch asked for (:meth:`take`) runs the batch's pass
    (:meth:`MoviePlan.layouts`: each video decoded once, forward, for all its movies) while the
    other threads asking for the batch's movies wait; each movie is then drawn by the thread
    that takes it, and its tiles released. Safe to share between threads. A worker starts the
    next batch's pass only once every movie of the batch before has been taken, so the memory
    held is at most one batch's tiles and one RGB movie per worker.

    Parameters
    ----------
    plan : MoviePlan
        A plan of grid movies.
    chosen : dict of int to list of (str, int, int)
        The instances of each syllable's movie.
    budget : int, optional
        Bytes of tiles per batch.
    """

    def __init__(self, plan, chosen: dict, budget: int | None = None):
        import threading

        budget = BATCH_BYTES if budget is None else int(budget)
        frame_bytes = (plan.pre + plan.post) * int(plan.tile_size) ** 2
        self.plan, self.chosen = plan, chosen
        self.batches: list[list] = []
        used = 0
        for k in sorted(chosen):
            size = len(chosen[k]) * frame_bytes
            if not self.batches or used + size > budget:
                self.batches.append([])
                used = 0
            self.batches[-1].append(k)
            used += size
        self._batch_of = {k: i for i, batch in enumerate(self.batches) for k in batch}
        self._locks = [threading.Lock() for _ in self.batches]
        self._ready: list = [None] * len(self.batches)

    def take(self, k):
        """``(movie, window)`` of syllable ``k``, as :meth:`MoviePlan.render` gives it; each
        syllable taken once."""
        i = self._batch_of[k]
        with self._locks[i]:
            if isinstance(self._ready[i], BaseException):  # the pass failed: not tried again
                raise self._ready[i]
            if self._ready[i] is None:
                try:
                    self._ready[i] = self.plan.layouts({j: self.chosen[j] for j in self.batches[i]})
                except BaseException as exc:
                    self._ready[i] = exc
                    raise
            layout, window = self._ready[i].pop(k)
        return self.plan.draw(layout), window
