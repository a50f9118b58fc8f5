"""Crowd, grid and skeleton movies from arrays: many instances of one syllable, side by side or on
top.

Crowd movies follow moseq2-viz's ``make_crowd_matrix``: each instance's egocentric depth
crops are rotated back by the heading and pasted at the centroid on one arena canvas,
overlapping pixels blended half and half, pixels below ``min_height`` treated as floor, with
a white dot at the animal's centre while the syllable lasts. Grid movies follow keypoint-
moseq's ``grid_movie``: one tile per instance, the video warped so that the animal at onset
faces right with its whole body in the tile (:func:`tile_window`), keypoints and skeleton
drawn on top (clipped to the tile), the dot while the syllable lasts; without a video the
tiles show only the keypoints (a skeleton movie); the tiles' geometry and drawing are in
:mod:`ethogram.viz._movie_tiles`. The functions here take plain arrays (and
lazily indexed frame sources) and return uint8 arrays; a grid movie is laid out, warped from
its video and drawn in :mod:`ethogram.viz._movie_grid`, whose steps let the movies of one call
share a decoding pass. :func:`render_movies` writes many movies in parallel threads, each worker
holding one movie at a time, so memory does not grow with the number of syllables.
:mod:`ethogram.viz.movie_files` wires them to a results file
(:func:`make_movies`); :mod:`ethogram.viz.movies` is the public face of both. Heading
convention: radians, the animal faces ``(cos h, sin h)`` in pixel coordinates (x to
the right, y down), as :func:`ethogram.prep.centroid_and_heading` computes it. MoSeq's
``angle`` is counter-clockwise *on screen*, i.e. the negative of this: pass ``-angle``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ._movie_grid import DOT_RADIUS, KEYPOINT_RADIUS, draw_grid, layout_grid, warp_video_frames
from ._movie_tiles import guess_skeleton, tile_transform, tile_window

__all__ = [
    "crowd_movie",
    "grid_movie",
    "skeleton_movie",
    "guess_skeleton",
    "tile_window",
    "tile_transform",
    "render_movies",
]


def _as_map(x, name: str):
    if x is None:
        return None
    if not isinstance(x, Mapping):
        raise TypeError(
            f"{name} must be a mapping of recording name to arrays (like syllables), "
            f"got {type(x).__name__}"
        )
    return x


def crowd_movie(
    frames: Mapping,
    centroids: Mapping,
    headings: Mapping,
    instances,
    *,
    canvas_shape,
    pre: int = 30,
    post: int = 0,
    max_duration: int | None = 60,
    dot_radius: int = 3,
    min_height: int = 10,
    vmax: float | None = None,
) -> np.ndarray:
    """A crowd movie of depth crops: every instance on one arena canvas.

    Parameters
    ----------
    frames : mapping of str to frame source, each (T, h, w) uint8
        Egocentric depth crops per recording (animal centred, facing +x), e.g. MoSeq's
        ``frames`` through :class:`ethogram.io.recording.LazyFrames`; only the frames of the
        instances are read.
    centroids : mapping of str to ndarray, shape (T, 2)
        Centroid (x, y) in canvas pixels; NaN rows are not drawn.
    headings : mapping of str to ndarray, shape (T,)
        Heading in radians, pixel convention (module docstring); MoSeq's ``angle`` negated.
    instances : list of (str, int, int)
        ``(recording, start, stop)`` of the instances to overlay.
    canvas_shape : tuple of int
        (height, width) of the arena canvas in pixels.
    pre : int, default 30
        Frames shown before onset (1 s at 30 fps, as MoSeq's ``pad``).
    post : int, default 0
        Frames shown after the end of the longest instance (capped at ``max_duration``).
    max_duration : int or None, default 60
        Longest stretch of a syllable shown, in frames; None for no cap.
    dot_radius : int, default 3
        Radius in pixels of the dot drawn while the syllable lasts (0: none).
    min_height : int, default 10
        Crop values below this are floor (transparent), as in moseq2-viz.
    vmax : float, optional
        Crop value shown as white (values are scaled by ``255 / vmax`` after the floor is
        cut); None shows the values as they are. Depth crops hold heights in mm (a mouse is
        about 20-60), so a movie is brighter with ``vmax`` near the tallest heights.

    Returns
    -------
    ndarray of uint8, shape (pre + longest + post, height, width)

    Raises
    ------
    ValueError
        When there are no instances or the canvas shape is not two positive integers.

    Notes
    -----
    Source: moseq2-viz ``make_crowd_matrix`` (Wiltschko et al. 2015; Datta lab), rewritten:
    each crop is warped once (``cv2.warpAffine``) into a patch big enough for any rotation,
    at sub-pixel centroid precision, and blended into the canvas where it lands.
    """
    import cv2

    instances = list(instances)
    if not instances:
        raise ValueError("no instances to show")
    H, W = (int(v) for v in canvas_shape)
    if H < 1 or W < 1:
        raise ValueError(f"canvas_shape must be (height, width) in pixels, got {canvas_shape}")
    frames, centroids, headings = (
        _as_map(frames, "frames"),
        _as_map(centroids, "centroids"),
        _as_map(headings, "headings"),
    )
    lengths = [b - a for _, a, b in instances]
    shown = [min(d, max_duration) if max_duration else d for d in lengths]
    L = int(pre) + max(shown) + int(post)
    canvas = np.zeros((L, H, W), dtype=np.uint8)
    for (name, start, stop), dur in zip(instances, shown):
        cen, head = (
            np.asarray(centroids[name], dtype=np.float64),
            np.asarray(headings[name], dtype=np.float64),
        )
        T = len(cen)
        rows = np.arange(start - pre, start - pre + L)
        ok = (rows >= 0) & (rows < T)
        if not ok.any():
            continue
        crops = np.asarray(frames[name][rows[ok]])
        ch, cw = crops.shape[1:3]
        R = int(np.ceil(np.hypot(ch, cw) / 2)) + 1
        S = 2 * R + 1
        ccrop = np.array([cw / 2.0, ch / 2.0])
        for crop, k in zip(crops, np.flatnonzero(ok)):
            t = rows[k]
            c, h = cen[t], head[t]
            if not (np.all(np.isfinite(c)) and np.isfinite(h)):
                continue
            ix, iy = int(np.floor(c[0])), int(np.floor(c[1]))
            ox, oy = ix - R, iy - R
            A = np.array([[np.cos(h), -np.sin(h)], [np.sin(h), np.cos(h)]])
            local = c - (ox, oy)
            M = np.hstack([A, (local - A @ ccrop)[:, None]])
            patch = cv2.warpAffine(
                crop.astype(np.float32), M, (S, S), flags=cv2.INTER_LINEAR, borderValue=0
            )
            patch[patch < min_height] = 0
            if vmax:
                patch *= 255.0 / float(vmax)
            patch = np.clip(patch, 0, 255).astype(np.uint8)
            if dot_radius > 0 and pre <= k < pre + dur:
                cv2.circle(
                    patch,
                    (int(round(local[0])), int(round(local[1]))),
                    int(dot_radius),
                    255,
                    -1,
                    cv2.LINE_AA,
                )
            # intersect the patch with the canvas
            y0, x0 = max(oy, 0), max(ox, 0)
            y1, x1 = min(oy + S, H), min(ox + S, W)
            if y0 >= y1 or x0 >= x1:
                continue
            new = patch[y0 - oy : y1 - oy, x0 - ox : x1 - ox]
            old = canvas[k, y0:y1, x0:x1]
            new_nz, old_nz = new > 0, old > 0
            both = new_nz & old_nz
            only = new_nz & ~old_nz
            old[both] = ((old[both].astype(np.uint16) + new[both]) // 2).astype(np.uint8)
            old[only] = new[only]
    return canvas


def grid_movie(
    videos: Mapping | None,
    centroids: Mapping,
    headings: Mapping,
    instances,
    *,
    keypoints: Mapping | None = None,
    edges=None,
    rows: int = 4,
    cols: int = 6,
    window_size: int | None = None,
    window_offset=None,
    tile_size: int | None = 128,
    pre: int = 30,
    post: int = 60,
    dot_radius: int = DOT_RADIUS,
    keypoint_radius: int = KEYPOINT_RADIUS,
    frame_index: Mapping | None = None,
) -> np.ndarray:
    """A grid movie: one tile per instance, each showing the animal turned to face right at onset.

    Parameters
    ----------
    videos : mapping of str to frame source, or None
        Per recording, the video frames, (N, H, W) grey or (N, H, W, 3) RGB uint8, indexed
        lazily (:class:`ethogram.viz._video.VideoReader`, an array). None: keypoints only.
    centroids : mapping of str to ndarray, shape (T, 2)
        Centroid (x, y) in video pixels.
    headings : mapping of str to ndarray, shape (T,)
        Heading in radians, pixel convention (module docstring).
    instances : list of (str, int, int)
        At most ``rows * cols`` instances ``(recording, start, stop)``, filled row by row;
        missing tiles stay black.
    keypoints : mapping of str to ndarray, shape (T, B, 2 or 3), optional
        Raw keypoints in video pixels, drawn on the tiles (required without videos).
    edges : list of (int, int), optional
        Skeleton; :func:`guess_skeleton` of the first recording when None.
    rows, cols : int, default 4, 6
    window_size : int, optional
        Side of the video window around the animal, in video pixels; when None,
        :func:`tile_window` sizes it (and places it, unless ``window_offset`` is given) from
        the keypoints, else 128.
    window_offset : (float, float), optional
        Centre of the window relative to the onset centroid in the tile's frame (pixels
        ahead, pixels beside); default (0, 0) with a ``window_size``, else
        :func:`tile_window`'s.
    tile_size : int or None, default 128
        Side of each tile in the movie, in pixels (the window is scaled to it, which bounds
        the memory of a movie: ``(pre + post) * rows * cols * tile_size**2 * 3`` bytes);
        None keeps ``window_size``.
    pre, post : int, default 30, 60
        Frames shown before and from the onset; the movie has ``pre + post`` frames.
    dot_radius : int, default 4
        Dot at the centroid while the syllable lasts (0: none).
    keypoint_radius : int, default 2
    frame_index : mapping of str to ndarray of int, shape (T,), optional
        Video frame of each tracked frame (:func:`ethogram.viz._video.align_video_frames`);
        identity when None.

    Returns
    -------
    ndarray of uint8, shape (pre + post, rows * tile_size, cols * tile_size, 3)

    Raises
    ------
    ValueError
        With more instances than tiles, or neither videos nor keypoints.

    Notes
    -----
    Source: keypoint-moseq ``grid_movie`` / ``_grid_movie_tile`` (Weinreb et al. 2024): the
    rigid transform is fixed at onset, so the animal is seen moving through its tile.
    """
    import cv2  # noqa: F401 (missing: fail before any work)

    instances = list(instances)
    if len(instances) > rows * cols:
        raise ValueError(
            f"{len(instances)} instances do not fit in a {rows} x {cols} grid; "
            f"sample at most {rows * cols}"
        )
    if videos is None and keypoints is None:
        raise ValueError("a grid movie needs videos or keypoints (or both)")
    videos, keypoints = _as_map(videos, "videos"), _as_map(keypoints, "keypoints")
    centroids, headings = _as_map(centroids, "centroids"), _as_map(headings, "headings")
    offset = np.zeros(2)
    if window_size is None and keypoints:
        window_size, offset = tile_window(keypoints, centroids, headings, instances, post=post)
    elif window_size is None:
        window_size = 128
    if window_offset is not None:
        offset = np.asarray(window_offset, dtype=np.float64).reshape(2)
    S = int(window_size) if tile_size is None else int(tile_size)
    if edges is None and keypoints:
        first = next(iter(keypoints))
        edges = guess_skeleton(keypoints[first], centroids.get(first), headings.get(first))
    edges = list(edges or [])
    layout = layout_grid(
        centroids,
        headings,
        instances,
        rows=rows,
        cols=cols,
        window_size=window_size,
        offset=offset,
        size=S,
        pre=pre,
        post=post,
    )
    if videos is not None:
        warp_video_frames(videos, [layout], frame_index)
    return draw_grid(layout, centroids, keypoints, edges, dot_radius, keypoint_radius)


def skeleton_movie(
    keypoints: Mapping, centroids: Mapping, headings: Mapping, instances, **kwargs
) -> np.ndarray:
    """A grid movie without video: the keypoints and skeleton of each instance, egocentric.

    Same parameters and result as :func:`grid_movie` with ``videos=None``.
    """
    return grid_movie(None, centroids, headings, instances, keypoints=keypoints, **kwargs)


def render_movies(jobs, num_workers: int = 1, progress: bool = False, desc: str = "movies") -> list:
    """Run movie jobs in parallel threads and return their results in order.

    Parameters
    ----------
    jobs : list of callables
        Each renders and writes one movie and returns something small (its path); it must
        not keep the frames alive after returning.
    num_workers : int, default 1
        Threads; OpenCV's warps and decoding and the FFmpeg encoder release the GIL.
    progress : bool, default False
        Show a progress bar (:func:`ethogram._progress.progress_bar`: on a log file, a line
        every 30 s).

    Returns
    -------
    list
        The jobs' return values, in the order of ``jobs``.
    """
    from concurrent.futures import ThreadPoolExecutor, as_completed

    from .._progress import progress_bar

    num_workers = int(num_workers)
    if num_workers < 1:
        raise ValueError(f"num_workers must be at least 1, got {num_workers}")
    jobs = list(jobs)
    results = [None] * len(jobs)
    bar = progress_bar(len(jobs), desc, bool(progress), unit="movie")
    try:
        if num_workers == 1:
            for i, job in enumerate(jobs):
                results[i] = job()
                bar.update()
        else:
            import cv2

            threads = cv2.getNumThreads()
            cv2.setNumThreads(1)
            try:
                with ThreadPoolExecutor(max_workers=num_workers) as pool:
                    futures = {pool.submit(job): i for i, job in enumerate(jobs)}
                    for fut in as_completed(futures):
                        results[futures[fut]] = fut.result()
                        bar.update()
            finally:
                cv2.setNumThreads(threads)
    finally:
        bar.close()
    return results
