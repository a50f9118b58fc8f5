"""A movie tile's geometry and drawing: the window around an animal, and its pose drawn in it.

Kept apart from assembling movies (:mod:`ethogram.viz.movie_render`): the centroid and heading
at an instance's onset, the skeleton guessed from the keypoints (:func:`guess_skeleton`), the
window that holds every instance's whole body (:func:`tile_window`, keypoint-moseq's
``get_grid_movie_window_size``), the affine map from a video frame to a tile in which the animal
at onset faces right (:func:`tile_transform`), and keypoints and skeleton drawn on a tile,
clipped to it. Headings are radians in pixel coordinates (x to the right, y down).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

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


def onset_pose(centroid, heading, start: int, stop: int):
    """Centroid and heading at onset, or at the first frame of the instance that has both."""
    for t in range(start, max(stop, start + 1)):
        c, h = centroid[t], heading[t]
        if np.all(np.isfinite(c)) and np.isfinite(h):
            return np.asarray(c, dtype=np.float64), float(h)
    return None, None


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
    c0, h = onset_pose(cen, np.asarray(headings[name], dtype=np.float64), start, stop)
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


def draw_pose(tile, pts, edges, radius: int):
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
