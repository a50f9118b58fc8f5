"""Crowd, grid and skeleton movies from arrays: many instances of one syllable, side by side or on
top.

Crowd movies follow moseq2-viz's ``make_crowd_matrix``: each instance's egocentric depth
crops are rotated back by the heading and pasted at the centroid on one arena canvas,
overlapping pixels blended half and half, pixels below ``min_height`` treated as floor, with
a white dot at the animal's centre while the syllable lasts. Grid movies follow keypoint-
moseq's ``grid_movie``: one tile per instance, the video warped so that the animal at onset
faces right with its whole body in the tile (:func:`tile_window`), keypoints and skeleton
drawn on top (clipped to the tile), the dot while the syllable lasts; without a video the
tiles show only the keypoints (a skeleton movie). The functions here take plain arrays (and
lazily indexed frame sources) and return uint8 arrays; :func:`render_movies` writes many
movies in parallel threads, each worker holding one movie at a time, so memory does not grow
with the number of syllables. :mod:`ethogram.viz.movie_files` wires them to a results file
(:func:`make_movies`); :mod:`ethogram.viz.movies` is the public face of both.

Heading convention: radians, the animal faces ``(cos h, sin h)`` in pixel coordinates (x to
the right, y down), as :func:`ethogram.prep.centroid_and_heading` computes it. MoSeq's
``angle`` is counter-clockwise *on screen*, i.e. the negative of this: pass ``-angle``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

__all__ = [
    "crowd_movie",
    "grid_movie",
    "skeleton_movie",
    "guess_skeleton",
    "tile_window",
    "tile_transform",
    "render_movies",
]

_COLORS = [
    (255, 99, 71),
    (255, 215, 0),
    (50, 205, 50),
    (30, 144, 255),
    (238, 130, 238),
    (0, 206, 209),
    (255, 140, 0),
    (173, 255, 47),
    (255, 105, 180),
    (135, 206, 250),
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


def _onset_pose(centroid, heading, start: int, stop: int):
    """Centroid and heading at onset, or at the first frame of the instance that has both."""
    for t in range(start, max(stop, start + 1)):
        c, h = centroid[t], heading[t]
        if np.all(np.isfinite(c)) and np.isfinite(h):
            return np.asarray(c, dtype=np.float64), float(h)
    return None, None


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


def guess_skeleton(keypoints, centroids=None, headings=None) -> list[tuple[int, int]]:
    """A default skeleton: the minimum spanning tree of the mean egocentric pose.

    Parameters
    ----------
    keypoints : ndarray, shape (T, B, 2 or 3)
        Keypoints in pixels (NaN = missing). Made egocentric with ``centroids`` and
        ``headings`` when given, else used as they are.
    centroids : ndarray, shape (T, 2), optional
    headings : ndarray, shape (T,), optional

    Returns
    -------
    list of (int, int)
        B - 1 edges between body-part indices joining each body part to its nearest
        neighbours in the average pose (e.g. snout-ears, ears-tail base); empty for B < 2.

    Notes
    -----
    Chosen over guessing from body-part names because it works for any naming scheme; give
    ``edges`` explicitly where the anatomy matters.
    """
    from scipy.sparse.csgraph import minimum_spanning_tree
    from scipy.spatial.distance import pdist, squareform

    kp = np.asarray(keypoints, dtype=np.float64)[..., :2]
    B = kp.shape[1]
    if B < 2:
        return []
    if centroids is not None and headings is not None:
        c = np.asarray(centroids, dtype=np.float64)[:, None, :]
        h = np.asarray(headings, dtype=np.float64)
        d = kp - c
        cos, sin = np.cos(h)[:, None], np.sin(h)[:, None]
        kp = np.stack(
            [cos * d[..., 0] + sin * d[..., 1], -sin * d[..., 0] + cos * d[..., 1]], axis=-1
        )
    with np.errstate(all="ignore"):
        mean = np.nanmean(kp, axis=0)
    if not np.all(np.isfinite(mean)):
        return []
    dist = squareform(pdist(mean)) + 1e-9  # strictly positive so every edge is kept
    np.fill_diagonal(dist, 0)
    tree = minimum_spanning_tree(dist).tocoo()
    return sorted((int(min(a, b)), int(max(a, b))) for a, b in zip(tree.row, tree.col))


def _instance_boxes(keypoints, centroids, headings, name, start, stop, post):
    """Egocentric boxes (xmin, xmax, ymin, ymax) of one instance: of its body at onset, and of
    everything (keypoints and centroid) from onset to its end (at most ``post`` frames); None
    when the onset pose or the points are missing."""
    cen = np.asarray(centroids[name], dtype=np.float64)
    c0, h = _onset_pose(cen, np.asarray(headings[name], dtype=np.float64), start, stop)
    if c0 is None:
        return None
    hi = min(max(stop, start + 1), start + max(int(post), 1), len(cen))
    kp = np.asarray(keypoints[name], dtype=np.float64)[start:hi, :, :2]
    pts = np.concatenate([kp, cen[start:hi, None, :]], axis=1) - c0
    cos, sin = np.cos(h), np.sin(h)
    x = cos * pts[..., 0] + sin * pts[..., 1]
    y = -sin * pts[..., 0] + cos * pts[..., 1]
    ok = np.isfinite(x) & np.isfinite(y)
    if not ok.any():
        return None
    first = int(np.flatnonzero(ok.any(axis=1))[0])

    def box(xs, ys):
        return np.array([xs.min(), xs.max(), ys.min(), ys.max()])

    return box(x[first][ok[first]], y[first][ok[first]]), box(x[ok], y[ok])


def tile_window(
    keypoints: Mapping,
    centroids: Mapping,
    headings: Mapping,
    instances,
    *,
    post: int,
    margin: float = 0.25,
    block: int = 8,
    min_size: int = 16,
) -> tuple[int, np.ndarray]:
    """The video window of a grid movie's tiles: the whole body at onset, and room to move.

    Each instance is seen in the frame of its tile (centred on the onset centroid, turned to
    face right: :func:`tile_transform`). The window is the square around the union of (1) every
    instance's body at onset (all keypoints of the first frame that has them) and (2) where the
    median instance goes while the syllable lasts (the median over instances of each side of
    the box of its keypoints and centroid from onset to its end, at most ``post`` frames),
    widened by ``margin``. Its centre is offset from the centroid when the body is: a mouse's
    centroid from snout, ears and tail base sits near its head, and a window centred on it cut
    the tail off.

    Parameters
    ----------
    keypoints, centroids, headings : mapping of str to ndarray
        Per recording: (T, B, 2 or 3) keypoints, (T, 2) centroid and (T,) heading, pixels and
        radians (module docstring).
    instances : list of (str, int, int)
        ``(recording, start, stop)`` of the tiles.
    post : int
        Frames from onset shown (later frames of an instance are not).
    margin : float, default 0.25
        Fraction added to the side.
    block, min_size : int, default 8, 16
        The side is rounded up to a multiple of ``block``, and at least ``min_size``.

    Returns
    -------
    size : int
        Side of the window in video pixels (64 when no instance has a pose).
    offset : ndarray, shape (2,)
        Centre of the window in the tile's frame (pixels ahead of and beside the onset
        centroid); the tile's centre shows the point ``centroid + R(heading) offset``.

    Notes
    -----
    keypoint-moseq's ``get_grid_movie_window_size`` takes a percentile of the keypoints'
    distances from the onset centroid over the whole clip, centred on the centroid: one
    animal running across the arena then shrinks every animal of the movie. Here an instance
    that runs farther than the median one may leave its tile; its body at onset never does.
    """
    onset, moving = [], []
    for name, start, stop in instances:
        boxes = _instance_boxes(keypoints, centroids, headings, name, start, stop, post)
        if boxes is not None:
            onset.append(boxes[0])
            moving.append(boxes[1])
    if not onset:
        return 64, np.zeros(2)
    onset, typical = np.array(onset), np.median(np.array(moving), axis=0)
    x0, x1 = min(onset[:, 0].min(), typical[0]), max(onset[:, 1].max(), typical[1])
    y0, y1 = min(onset[:, 2].min(), typical[2]), max(onset[:, 3].max(), typical[3])
    side = max(x1 - x0, y1 - y0, 1.0) * (1.0 + float(margin))
    size = int(max(min_size, np.ceil(side / block) * block))
    return size, np.array([(x0 + x1) / 2.0, (y0 + y1) / 2.0])


def tile_transform(centroid, heading: float, window_size: float, tile_size: int, offset=(0.0, 0.0)):
    """The affine map from video pixels to a tile's pixels (:func:`grid_movie`).

    Parameters
    ----------
    centroid : (float, float)
        Onset centroid, video pixels.
    heading : float
        Onset heading, radians (module docstring).
    window_size : float
        Side of the video window shown, video pixels.
    tile_size : int
        Side of the tile, pixels.
    offset : (float, float), default (0, 0)
        Centre of the window relative to the centroid, in the rotated frame (video pixels).

    Returns
    -------
    A : ndarray, shape (2, 2)
        Rotation by minus the heading, times ``tile_size / window_size``.
    M : ndarray, shape (2, 3)
        ``[A | b]``: a video point ``p`` lands at ``A @ p + b`` (OpenCV's ``warpAffine`` matrix).
    """
    h = float(heading)
    scale = float(tile_size) / float(window_size)
    A = np.array([[np.cos(h), np.sin(h)], [-np.sin(h), np.cos(h)]]) * scale
    c, o = np.asarray(centroid, dtype=np.float64), np.asarray(offset, dtype=np.float64)
    b = tile_size / 2.0 - A @ c - scale * o
    return A, np.hstack([A, b[:, None]])


def _clip_segment(p, q, size: int):
    """The part of segment p-q inside the square [0, size]^2 (Liang-Barsky), or None."""
    d = q - p
    t0, t1 = 0.0, 1.0
    for pk, qk in ((-d[0], p[0]), (d[0], size - p[0]), (-d[1], p[1]), (d[1], size - p[1])):
        if pk == 0:
            if qk < 0:
                return None
            continue
        r = qk / pk
        if pk < 0:
            t0 = max(t0, r)
        else:
            t1 = min(t1, r)
        if t0 > t1:
            return None
    return p + t0 * d, p + t1 * d


def _draw_pose(tile, pts, edges, radius: int):
    """Skeleton and keypoints on one tile, clipped to it: lines are cut at the tile's edge
    (in floating point, so a keypoint thousands of pixels away draws no stray line), and a
    keypoint whose dot would not touch the tile is not drawn."""
    import cv2

    S = tile.shape[0]
    ok = np.all(np.isfinite(pts), axis=1)
    for a, b in edges:
        if ok[a] and ok[b]:
            seg = _clip_segment(pts[a], pts[b], S - 1)
            if seg is not None:
                p, q = (tuple(int(round(v)) for v in end) for end in seg)
                cv2.line(tile, p, q, (200, 200, 200), 1, cv2.LINE_AA)
    with np.errstate(invalid="ignore"):
        inside = ok & np.all((pts >= -radius) & (pts <= S - 1 + radius), axis=1)
    for j in np.flatnonzero(inside):
        centre = (int(round(pts[j, 0])), int(round(pts[j, 1])))
        cv2.circle(tile, centre, radius, _COLORS[j % len(_COLORS)], -1, cv2.LINE_AA)


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
    dot_radius: int = 4,
    keypoint_radius: int = 2,
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
    L = int(pre) + int(post)
    out = np.zeros((L, rows * S, cols * S, 3), dtype=np.uint8)
    # per instance: (tile view, A, M, frames of the recording shown, which movie frames have one)
    plans = []
    for n, (name, start, stop) in enumerate(instances):
        r, c = divmod(n, cols)
        tile = out[:, r * S : (r + 1) * S, c * S : (c + 1) * S]
        plans.append(
            _tile_plan(
                tile,
                centroids[name],
                headings[name],
                start,
                stop,
                window_size,
                S,
                offset,
                pre,
                post,
            )
        )
    if videos is not None:
        _warp_video_frames(videos, instances, plans, frame_index, S)
    for n, (name, start, stop) in enumerate(instances):
        if plans[n] is None:
            continue
        kp = None if keypoints is None else np.asarray(keypoints[name], dtype=np.float64)[..., :2]
        cen = np.asarray(centroids[name], dtype=np.float64)
        _draw_tile(plans[n], cen, kp, edges, (start, stop), S, dot_radius, keypoint_radius)
    return out


def _tile_plan(tile, centroid, heading, start, stop, window_size, S, offset, pre, post):
    """``(tile, A, M, recording frames shown, which movie frames have one)`` of one instance, or
    None when the animal's pose at onset is unknown (the tile stays black)."""
    cen = np.asarray(centroid, dtype=np.float64)
    c0, h = _onset_pose(cen, np.asarray(heading, dtype=np.float64), start, stop)
    if c0 is None:
        return None
    A, M = tile_transform(c0, h, window_size, S, offset)
    t_rows = np.arange(start - pre, start + post)
    ok = (t_rows >= 0) & (t_rows < len(cen))
    return tile, A, M, t_rows, ok


def _warp_video_frames(videos, instances, plans, frame_index, S) -> None:
    """One forward pass over each video: every needed frame decoded once, warped into every tile
    showing it."""
    import cv2

    needs: dict = {}  # recording -> video frame -> [(instance, movie frame)]
    for n, (name, _, _) in enumerate(instances):
        if plans[n] is None:
            continue
        t_rows, ok = plans[n][3], plans[n][4]
        if frame_index is None or name not in frame_index:
            fi = t_rows[ok]
        else:
            fi = np.asarray(frame_index[name])[t_rows[ok]]
        for k, v in zip(np.flatnonzero(ok), fi):
            needs.setdefault(name, {}).setdefault(int(v), []).append((n, int(k)))
    for name, by_frame in needs.items():
        source = videos[name]
        for v in sorted(by_frame):
            frame = np.asarray(source[v])
            for n, k in by_frame[v]:
                tile, _, M, _, _ = plans[n]
                warped = cv2.warpAffine(frame, M, (S, S), flags=cv2.INTER_LINEAR, borderValue=0)
                tile[k] = warped if warped.ndim == 3 else warped[..., None]


def _draw_tile(plan, cen, kp, edges, span, S, dot_radius, keypoint_radius) -> None:
    """Draw the pose (keypoints ``kp``, or None) and, while the syllable lasts (``span``: start,
    stop), a dot at the centroid on each frame of one tile; then its grey frame."""
    import cv2

    tile, A, M, t_rows, ok = plan
    start, stop = span
    for k in np.flatnonzero(ok):
        t = t_rows[k]
        img = np.ascontiguousarray(tile[k])
        if kp is not None:
            with np.errstate(invalid="ignore", over="ignore"):  # inf keypoints: not drawn
                pts = kp[t] @ A.T + M[:, 2]
            _draw_pose(img, pts, edges, keypoint_radius)
        p = A @ cen[t] + M[:, 2]
        near = np.all(np.abs(p - S / 2.0) <= S / 2.0 + dot_radius)  # finite, touches the tile
        if dot_radius > 0 and start <= t < stop and near:
            centre = (int(round(p[0])), int(round(p[1])))
            cv2.circle(img, centre, int(dot_radius), (255, 255, 255), -1, cv2.LINE_AA)
        tile[k] = img
    tile[:, [0, -1]] = tile[:, :, [0, -1]] = 128  # a grey frame tells neighbouring tiles apart


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
        Show a tqdm bar.

    Returns
    -------
    list
        The jobs' return values, in the order of ``jobs``.
    """
    from concurrent.futures import ThreadPoolExecutor, as_completed

    from tqdm.auto import tqdm

    num_workers = int(num_workers)
    if num_workers < 1:
        raise ValueError(f"num_workers must be at least 1, got {num_workers}")
    jobs = list(jobs)
    results = [None] * len(jobs)
    bar = tqdm(total=len(jobs), desc=desc, unit="movie", disable=not progress)
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
