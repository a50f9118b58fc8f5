"""A grid movie in three steps, so that several movies can share one pass over a video.

Kept apart from the public functions (:mod:`ethogram.viz.movie_render`) and from the tiles'
geometry and drawing (:mod:`ethogram.viz._movie_tiles`): :func:`layout_grid` places each
instance in its tile and fixes the map from the video to the tile at onset (a
:class:`GridLayout`, no pixels yet); :func:`warp_video_frames` decodes each video once, forward,
for every layout given, warping each frame it needs into every tile that shows it (the tiles are
kept as the video gives them, grey frames one byte a pixel); :func:`draw_grid` lays the tiles
out in the movie's frames, RGB, and draws the keypoints, skeleton and dot on them. One movie
(:func:`ethogram.viz.movie_render.grid_movie`) and a batch of movies
(:class:`ethogram.viz._movie_plan.GridBatches`) go through the same steps, so their frames are
the same.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._movie_tiles import draw_pose, onset_pose, tile_transform

#: radius in pixels of the dot at the centroid while the syllable lasts, in a grid movie's tiles
DOT_RADIUS = 4
#: radius in pixels of each keypoint drawn on a tile
KEYPOINT_RADIUS = 2


@dataclass
class GridLayout:
    """One grid movie before its pixels: the instances, where each is drawn, and its warped video.

    ``plans[n]`` is ``(A, M, recording frames shown, which movie frames have one)`` of instance
    ``n`` (``A`` the 2 x 2 rotation and scale, ``M`` the 2 x 3 affine map from video pixels to
    tile pixels), or None when its pose at onset is unknown (the tile stays black);
    ``tiles[n]`` its warped video frames, shape (length, size, size) or (length, size, size, 3)
    uint8, or None until a frame is warped into it.
    """

    instances: list
    plans: list
    rows: int
    cols: int
    size: int
    length: int
    tiles: list

    def tile_bytes(self, channels: int = 1) -> int:
        """Bytes of the warped tiles once every instance has video (``channels`` per pixel)."""
        return len(self.instances) * self.length * self.size**2 * int(channels)


def layout_grid(
    centroids, headings, instances, *, rows, cols, window_size, offset, size, pre, post
) -> GridLayout:
    """The :class:`GridLayout` of ``instances`` (at most ``rows * cols``), row by row; the window
    of ``window_size`` video pixels centred ``offset`` from the onset centroid, scaled to tiles
    of ``size`` pixels, ``pre`` frames before onset and ``post`` from it."""
    plans = []
    for name, start, stop in instances:
        cen = np.asarray(centroids[name], dtype=np.float64)
        c0, h = onset_pose(cen, np.asarray(headings[name], dtype=np.float64), start, stop)
        if c0 is None:
            plans.append(None)
            continue
        A, M = tile_transform(c0, h, window_size, size, offset)
        t_rows = np.arange(start - pre, start + post)
        ok = (t_rows >= 0) & (t_rows < len(cen))
        plans.append((A, M, t_rows, ok))
    length = int(pre) + int(post)
    return GridLayout(list(instances), plans, rows, cols, size, length, [None] * len(plans))


def warp_video_frames(videos, layouts, frame_index=None) -> None:
    """One forward pass over each video for all ``layouts``: every video frame some tile shows
    is read once, in increasing order, and warped into every tile of every layout showing it.

    ``videos`` maps recording names to frame sources (``source[i]`` -> (H, W) or (H, W, 3)
    uint8); ``frame_index`` optionally maps them to the video frame of each tracked frame
    (identity otherwise). Fills ``layout.tiles`` in place.
    """
    import cv2

    needs: dict = {}  # recording -> video frame -> [(layout, instance, movie frame)]
    for g in layouts:
        for n, (name, _, _) in enumerate(g.instances):
            if g.plans[n] is None:
                continue
            t_rows, ok = g.plans[n][2], g.plans[n][3]
            if frame_index is None or name not in frame_index:
                fi = t_rows[ok]
            else:
                fi = np.asarray(frame_index[name])[t_rows[ok]]
            by_frame = needs.setdefault(name, {})
            for k, v in zip(np.flatnonzero(ok), fi):
                by_frame.setdefault(int(v), []).append((g, n, int(k)))
    for name, by_frame in needs.items():
        source = videos[name]
        for v in sorted(by_frame):
            frame = np.asarray(source[v])
            for g, n, k in by_frame[v]:
                S = g.size
                warped = cv2.warpAffine(
                    frame, g.plans[n][1], (S, S), flags=cv2.INTER_LINEAR, borderValue=0
                )
                if g.tiles[n] is None:
                    g.tiles[n] = np.zeros((g.length, S, S) + warped.shape[2:], dtype=np.uint8)
                g.tiles[n][k] = warped


def draw_grid(layout, centroids, keypoints, edges, dot_radius, keypoint_radius) -> np.ndarray:
    """The movie of ``layout``, shape (length, rows * size, cols * size, 3) uint8: its warped
    tiles (grey ones in the three channels; released from the layout), then on each tile the
    pose, the dot while the syllable lasts and a grey frame. Tiles without an instance, or whose
    instance has no pose at onset, stay black."""
    g, S = layout, layout.size
    out = np.zeros((g.length, g.rows * S, g.cols * S, 3), dtype=np.uint8)
    for n, (name, start, stop) in enumerate(g.instances):
        if g.plans[n] is None:
            continue
        r, c = divmod(n, g.cols)
        tile = out[:, r * S : (r + 1) * S, c * S : (c + 1) * S]
        warped, g.tiles[n] = g.tiles[n], None
        if warped is not None:
            tile[...] = warped if warped.ndim == 4 else warped[..., None]
        kp = None if keypoints is None else np.asarray(keypoints[name], dtype=np.float64)[..., :2]
        cen = np.asarray(centroids[name], dtype=np.float64)
        _draw_tile(tile, g.plans[n], cen, kp, edges, (start, stop), dot_radius, keypoint_radius)
    return out


def _draw_tile(tile, plan, cen, kp, edges, span, dot_radius, keypoint_radius) -> None:
    """Draw the pose (keypoints ``kp``, or None) and, while the syllable lasts (``span``: start,
    stop), a dot at the centroid on each frame of one tile; then its grey frame."""
    import cv2

    A, M, t_rows, ok = plan
    S = tile.shape[1]
    start, stop = span
    for k in np.flatnonzero(ok):
        t = t_rows[k]
        img = np.ascontiguousarray(tile[k])
        if kp is not None:
            with np.errstate(invalid="ignore", over="ignore"):  # inf keypoints: not drawn
                pts = kp[t] @ A.T + M[:, 2]
            draw_pose(img, pts, edges, keypoint_radius)
        p = A @ cen[t] + M[:, 2]
        near = np.all(np.abs(p - S / 2.0) <= S / 2.0 + dot_radius)  # finite, touches the tile
        if dot_radius > 0 and start <= t < stop and near:
            centre = (int(round(p[0])), int(round(p[1])))
            cv2.circle(img, centre, int(dot_radius), (255, 255, 255), -1, cv2.LINE_AA)
        tile[k] = img
    tile[:, [0, -1]] = tile[:, :, [0, -1]] = 128  # a grey frame tells neighbouring tiles apart
