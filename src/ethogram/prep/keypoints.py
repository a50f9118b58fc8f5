"""Keypoint cleaning and egocentric alignment: the array steps of the preparation.

Pure functions on ``(T, B, S)`` keypoint arrays (frames x body parts x 2 or 3 coordinates,
pixels, NaN = missing): low-confidence points and outliers become NaN, short gaps are
interpolated per body part, and each frame gets a centroid, a heading and egocentric
coordinates (the animal at the origin facing +x). They follow keypoint-moseq's preprocessing
(``jax_moseq.models.keypoint_slds.alignment.align_egocentric`` and
``keypoint_moseq.util.find_medoid_distance_outliers`` / ``interpolate_keypoints``), except that
long gaps stay missing so the model can mask them, and that the centroid and heading are
computed from the body parts present rather than from all of them. No Python loop over frames.
"""

from __future__ import annotations

import re
import warnings

import numpy as np

__all__ = [
    "ANTERIOR_NAMES",
    "POSTERIOR_NAMES",
    "NO_CONFIDENCE",
    "chosen_confidence",
    "mask_low_confidence",
    "medoid_outliers",
    "interpolate_gaps",
    "guess_axis_bodyparts",
    "centroid_and_heading",
    "egocentric",
    "present_mean",
]

#: Anterior names tried in order (lower case, non-alphanumerics removed); the first tier
#: with at least one match gives the anterior body parts.
ANTERIOR_NAMES = (
    ("nose", "snout", "nosetip", "snouttip"),
    ("head", "headcenter", "headcentre", "headtop", "forehead"),
    ("neck", "baseneck", "neckbase"),
)
#: Posterior names tried in order, as for :data:`ANTERIOR_NAMES` (``tail`` alone comes after
#: the explicit tail-base names; tail tips and mid-tail points are never guessed).
POSTERIOR_NAMES = (
    ("tailbase", "basetail", "tailroot", "tailstart", "tail0", "rootoftail"),
    ("tail", "tail1"),
    ("abdomen", "rump", "pelvis", "hips", "hip", "spinelow", "lowerspine"),
)


def _norm(name: str) -> str:
    return re.sub(r"[^0-9a-z]", "", str(name).lower())


def present_mean(x: np.ndarray, axis: int) -> np.ndarray:
    """Mean over ``axis`` of the finite entries (NaN where there are none), without warnings."""
    ok = np.isfinite(x)
    count = ok.sum(axis=axis)
    total = np.where(ok, x, 0.0).sum(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


#: the start of :func:`chosen_confidence`'s warning, as a ``warnings`` filter's message pattern
NO_CONFIDENCE = r"recording .* has no confidence for its body parts \(all NaN\)"


def chosen_confidence(recording, idx, instead: str):
    """The confidences of a recording's body parts ``idx``, or None when it has none.

    A recording whose confidences of these body parts are all NaN (a SLEAP file of proofread
    or user-labelled instances, a column left empty) has none either: said in a
    ``UserWarning`` naming the recording, its file and ``instead`` (what is done without them).

    Parameters
    ----------
    recording : ethogram.io.Recording
        With ``confidence`` (T, B) or None.
    idx : list of int
        The body parts' columns.
    instead : str
        The end of the warning's sentence: how the points are read without confidences. The
        warning is raised from here, so the same recording is said once per process (Python's
        default filter), not once per pass of the preparation.

    Returns
    -------
    ndarray, shape (T, len(idx)), float64, or None
    """
    if recording.confidence is None:
        return None
    conf = np.asarray(recording.confidence, dtype=np.float64)[:, idx]
    if conf.size and np.isnan(conf).all():
        import warnings

        where = "" if recording.source is None else f" ({recording.source})"
        warnings.warn(
            f"recording {recording.name!r}{where} has no confidence for its body parts (all "
            f"NaN): read as a file without confidences, {instead}",
            UserWarning,
            stacklevel=1,
        )
        return None
    return conf


def mask_low_confidence(coords: np.ndarray, confidence, threshold) -> np.ndarray:
    """Set body parts whose confidence is below ``threshold`` to NaN.

    Parameters
    ----------
    coords : ndarray, shape (T, B, S)
        Keypoints in pixels.
    confidence : ndarray, shape (T, B), or None
        Tracking confidence; None leaves ``coords`` unchanged. A NaN confidence is not below
        any threshold (the point is kept if its coordinates are finite).
    threshold : float or None
        Points with ``confidence < threshold`` become missing; None or 0 keeps all.

    Returns
    -------
    ndarray, shape (T, B, S)
        A copy with the low-confidence points set to NaN.
    """
    out = np.array(coords, dtype=np.float64, copy=True)
    if confidence is None or threshold is None or threshold <= 0:
        return out
    low = np.asarray(confidence, dtype=np.float64) < threshold
    out[low] = np.nan
    return out


def medoid_outliers(coords: np.ndarray, max_distance: float) -> np.ndarray:
    """Body parts farther than ``max_distance`` pixels from the frame's medoid.

    The medoid is the coordinate-wise median of the body parts present in the frame (x, y only),
    as in keypoint-moseq's ``get_distance_to_medoid``. keypoint-moseq then thresholds each body
    part at its median distance plus ``outlier_scale_factor`` (default 6) median absolute
    deviations; here the threshold is one distance for all body parts, given by the caller in
    pixels (the preparation uses a multiple of the median body length).

    Parameters
    ----------
    coords : ndarray, shape (T, B, S)
        Keypoints in pixels, NaN = missing.
    max_distance : float
        Distance in pixels.

    Returns
    -------
    ndarray of bool, shape (T, B)
        True where a present body part is an outlier.
    """
    xy = coords[..., :2]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN frames give NaN medoids
        medoid = np.nanmedian(xy, axis=1)  # (T, 2)
    dist = np.linalg.norm(xy - medoid[:, None, :], axis=-1)
    with np.errstate(invalid="ignore"):
        return dist > max_distance


def interpolate_gaps(coords: np.ndarray, max_gap: int) -> np.ndarray:
    """Fill gaps of at most ``max_gap`` missing frames per body part by linear interpolation.

    A body part is missing in a frame when any of its coordinates is NaN. Only gaps with a
    present frame on both sides are filled (no extrapolation at the ends of the recording);
    longer gaps stay NaN. keypoint-moseq's ``interpolate_keypoints`` fills every gap; keeping
    the long ones lets the HMM mask those frames instead of fitting invented poses.

    Parameters
    ----------
    coords : ndarray, shape (T, B, S)
        Keypoints in pixels, NaN = missing.
    max_gap : int
        Longest gap filled, in frames (0 fills nothing).

    Returns
    -------
    ndarray, shape (T, B, S)
        A copy with short gaps filled; a partly missing point is entirely NaN.
    """
    out = np.array(coords, dtype=np.float64, copy=True)
    T = out.shape[0]
    missing = ~np.isfinite(out).all(axis=-1)  # (T, B)
    out[missing] = np.nan
    if max_gap <= 0 or T == 0 or not missing.any():
        return out
    idx = np.broadcast_to(np.arange(T)[:, None], missing.shape)
    prev = np.maximum.accumulate(np.where(missing, -1, idx), axis=0)
    nxt = np.minimum.accumulate(np.where(missing, T, idx)[::-1], axis=0)[::-1]
    fill = missing & (prev >= 0) & (nxt < T) & (nxt - prev - 1 <= max_gap)
    if not fill.any():
        return out
    t, b = np.nonzero(fill)
    p, n = prev[t, b], nxt[t, b]
    w = ((t - p) / (n - p))[:, None]
    out[t, b] = out[p, b] + w * (out[n, b] - out[p, b])
    return out


def guess_axis_bodyparts(bodyparts, anterior=None, posterior=None) -> tuple[tuple, tuple]:
    """The anterior and posterior body parts that define the heading.

    Parameters
    ----------
    bodyparts : sequence of str
        The body parts kept for the preparation.
    anterior, posterior : str or sequence of str, optional
        Names given by the user; guessed from common names when None: anterior from
        :data:`ANTERIOR_NAMES` (nose, snout, then head, then neck), posterior from
        :data:`POSTERIOR_NAMES` (tail base, then tail, then abdomen/rump/hips), matching names
        case-insensitively and ignoring ``_``, ``-`` and spaces (``Tail_Base`` = ``tailbase``).

    Returns
    -------
    anterior, posterior : tuple of str

    Raises
    ------
    ValueError
        When a given name is not among ``bodyparts``, when anterior and posterior share a body
        part, or when no guess is possible (the message lists the body parts there are).
    """
    bodyparts = tuple(bodyparts)
    chosen = {}
    for side, given, tiers in (
        ("anterior", anterior, ANTERIOR_NAMES),
        ("posterior", posterior, POSTERIOR_NAMES),
    ):
        if given is not None:
            names = (given,) if isinstance(given, str) else tuple(given)
            if not names:
                raise ValueError(
                    f"{side} is empty; name at least one body part of {list(bodyparts)}"
                )
            unknown = [n for n in names if n not in bodyparts]
            if unknown:
                raise ValueError(
                    f"{side} body part(s) {unknown} not found; the body parts kept are "
                    f"{list(bodyparts)}"
                )
            chosen[side] = tuple(names)
            continue
        normed = [_norm(b) for b in bodyparts]
        found = ()
        for tier in tiers:
            found = tuple(b for b, n in zip(bodyparts, normed) if n in tier)
            if found:
                break
        if not found:
            from ..errors import ArgumentError

            raise ArgumentError(
                f"cannot guess the {side} body parts from {list(bodyparts)}; give "
                f"{{anterior:[...]}} and "
                "{posterior:[...]}, e.g. the nose and the tail base",
                ("anterior", "posterior"),
            )
        chosen[side] = found
    both = set(chosen["anterior"]) & set(chosen["posterior"])
    if both:
        raise ValueError(
            f"body part(s) {sorted(both)} are both anterior and posterior; the heading needs two "
            "ends"
        )
    return chosen["anterior"], chosen["posterior"]


def centroid_and_heading(
    coords: np.ndarray, anterior_idx, posterior_idx
) -> tuple[np.ndarray, np.ndarray]:
    """Centroid and heading of each frame.

    Parameters
    ----------
    coords : ndarray, shape (T, B, S)
        Keypoints in pixels, NaN = missing.
    anterior_idx, posterior_idx : sequence of int
        Indices of the anterior and posterior body parts.

    Returns
    -------
    centroid : ndarray, shape (T, 2)
        Mean (x, y) of the body parts present, pixels; NaN where none is.
    heading : ndarray, shape (T,)
        Angle in radians in [-pi, pi] (``numpy.arctan2``), counter-clockwise from +x, of (mean
        anterior - mean posterior), each mean over the parts present; NaN where either end is
        absent. This is
        keypoint-moseq's ``align_egocentric`` heading (``vector_to_angle``).
    """
    xy = coords[..., :2]
    centroid = present_mean(xy, axis=1)
    ant = present_mean(xy[:, list(anterior_idx)], axis=1)
    post = present_mean(xy[:, list(posterior_idx)], axis=1)
    v = ant - post
    heading = np.arctan2(v[:, 1], v[:, 0])  # NaN propagates
    return centroid, heading


def egocentric(coords: np.ndarray, centroid: np.ndarray, heading: np.ndarray) -> np.ndarray:
    """Rotate ``(x - centroid)`` by ``-heading`` so that the animal faces +x.

    Parameters
    ----------
    coords : ndarray, shape (T, B, S)
        Keypoints in pixels.
    centroid : ndarray, shape (T, 2)
    heading : ndarray, shape (T,)
        Radians.

    Returns
    -------
    ndarray, shape (T, B, S)
        Egocentric keypoints in pixels; a third coordinate (z) is kept as it is (keypoint-moseq
        also leaves z uncentred). NaN where the input, centroid or heading is NaN.
    """
    out = np.array(coords, dtype=np.float64, copy=True)
    dx = coords[..., 0] - centroid[:, None, 0]
    dy = coords[..., 1] - centroid[:, None, 1]
    c = np.cos(heading)[:, None]
    s = np.sin(heading)[:, None]
    out[..., 0] = c * dx + s * dy
    out[..., 1] = -s * dx + c * dy
    if out.shape[-1] > 2:
        bad = ~np.isfinite(heading) | ~np.isfinite(centroid).all(axis=1)
        out[bad, :, 2:] = np.nan
    return out


def unseen_stretches(keypoints, confidence, longer_than: int) -> np.ndarray:
    """Frames in stretches of more than ``longer_than`` frames in which no body part was seen.

    A body part is seen in a frame when its coordinates are finite and, with confidences, its
    confidence is above 0 (JABS and SLEAP give 0 to a point they did not place). The keypoint
    SLDS infers every frame, but a syllable inferred through a stretch with no point at all
    longer than a syllable lasts is the prior's guess, not the animal's behavior (a ghost
    track of the tracker, an animal out of view): the fit's labels leave those frames out.

    Parameters
    ----------
    keypoints : ndarray, shape (T, B, D)
        NaN where missing.
    confidence : ndarray, shape (T, B), or None
    longer_than : int
        Frames; shorter stretches (a brief dropout) keep their inferred syllables.

    Returns
    -------
    ndarray of bool, shape (T,)
        True on the frames of the long unseen stretches.
    """
    from .._runs import label_runs

    seen = np.isfinite(keypoints).all(axis=-1)
    if confidence is not None:
        seen &= np.asarray(confidence) > 0
    starts, stops, values = label_runs(seen.any(axis=1))
    out = np.zeros(len(seen), dtype=bool)
    for a, b, v in zip(starts, stops, values):
        if not v and b - a > longer_than:
            out[a:b] = True
    return out
