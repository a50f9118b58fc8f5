"""What a fit produced, in memory: :class:`Results` and one :class:`RecordingResult` per recording.

This room holds the two dataclasses that :func:`ethogram.pipeline.fit_recordings` and
:func:`ethogram.pipeline.apply_model` return and that :mod:`ethogram.results` writes to and
reads from the results file: per recording the syllables, mask, model inputs and the optional
arrays (centroid, heading, timestamps, state probabilities, raw keypoints), checked for
consistent frame counts on construction; for the fit the model, preparation, configuration,
EM history and versions. They know nothing of files; import them from
:mod:`ethogram.results`, which re-exports them.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

__all__ = ["RecordingResult", "Results"]

#: per-recording arrays that may be None; each has T frames along its first axis
_OPTIONAL_ARRAYS = (
    "centroid",
    "heading",
    "timestamps",
    "expected_states",
    "keypoints",
    "estimated_keypoints",
    "noise_variance",
)


@dataclass
class RecordingResult:
    """What a fit says about one recording.

    Attributes
    ----------
    name : str
        The recording's name (``<file stem>`` or ``<file stem>/<animal>``).
    syllables : ndarray of int64, shape (T,)
        Syllable of each frame, 0 = the most used syllable of the fit, -1 where the frame
        could not be used (masked).
    mask : ndarray of bool, shape (T,)
        True where the frame was usable by the model.
    inputs : ndarray of float64, shape (T, D)
        What the model saw (standardized PCs), NaN rows where masked.
    fps : float or None
        Frames per second.
    centroid : ndarray, shape (T, 2), or None
        Centroid in pixels.
    heading : ndarray, shape (T,), or None
        Heading in radians, counter-clockwise from +x.
    timestamps : ndarray, shape (T,), or None
        Time of each frame in seconds, as stored by the source file.
    expected_states : ndarray of float32, shape (T, K), or None
        Posterior state probabilities, when asked for.
    keypoints : ndarray, shape (T, B, S), or None
        Raw keypoints in pixels (NaN = missing), for plots and grid movies.
    bodyparts : tuple of str or None
        Names of the B body parts.
    source, format, video_path : str or None
        Where the recording came from, its reader, and the tracked video when known.
    px_per_mm : float or None
        Pixels (keypoint units) per millimetre, None when unknown: multiply pixel distances
        by ``1 / px_per_mm`` for millimetres (:meth:`mm`).
    estimated_keypoints : ndarray, shape (T, B, S), or None
        The keypoint SLDS's estimate of the keypoints (method ``keypoint-slds``), pixels.
    noise_variance : ndarray, shape (T, B), or None
        Its noise variance per frame and body part (``s * sigmasq``), pixels squared.
    """

    name: str
    syllables: np.ndarray
    mask: np.ndarray
    inputs: np.ndarray
    fps: float | None = None
    centroid: np.ndarray | None = None
    heading: np.ndarray | None = None
    timestamps: np.ndarray | None = None
    expected_states: np.ndarray | None = None
    keypoints: np.ndarray | None = None
    bodyparts: tuple | None = None
    source: str | None = None
    format: str | None = None
    video_path: str | None = None
    px_per_mm: float | None = None
    estimated_keypoints: np.ndarray | None = None
    noise_variance: np.ndarray | None = None

    def __post_init__(self):
        self.syllables = np.asarray(self.syllables, dtype=np.int64)
        if self.syllables.ndim != 1:
            raise ValueError(
                f"recording {self.name!r}: syllables must have shape (T,), got "
                f"{self.syllables.shape}"
            )
        T = self.syllables.shape[0]
        self.mask = np.asarray(self.mask, dtype=bool)
        self.inputs = np.asarray(self.inputs, dtype=np.float64)
        if self.mask.shape != (T,):
            raise ValueError(
                f"recording {self.name!r}: mask must have shape ({T},), got {self.mask.shape}"
            )
        if self.inputs.ndim != 2 or self.inputs.shape[0] != T:
            raise ValueError(
                f"recording {self.name!r}: inputs must have shape ({T}, D), got {self.inputs.shape}"
            )
        for attr in _OPTIONAL_ARRAYS:
            v = getattr(self, attr)
            if v is not None:
                v = np.asarray(v)
                if v.shape[:1] != (T,):
                    raise ValueError(
                        f"recording {self.name!r}: {attr} must have {T} frames, got shape {v.shape}"
                    )
                setattr(self, attr, v)
        if self.bodyparts is not None:
            self.bodyparts = tuple(str(b) for b in self.bodyparts)
        if self.fps is not None:
            self.fps = float(self.fps)
        if self.px_per_mm is not None:
            self.px_per_mm = float(self.px_per_mm)
            if not (np.isfinite(self.px_per_mm) and self.px_per_mm > 0):
                self.px_per_mm = None

    def mm(self, pixels):
        """Pixel distances (or coordinates) in millimetres; None when the scale is unknown.

        Parameters
        ----------
        pixels : array_like
            Any shape, pixels.

        Returns
        -------
        ndarray or None
            ``pixels / px_per_mm``.
        """
        if self.px_per_mm is None:
            return None
        return np.asarray(pixels, dtype=np.float64) / self.px_per_mm

    @property
    def num_frames(self) -> int:
        """T, the number of frames."""
        return int(self.syllables.shape[0])

    def times(self) -> np.ndarray:
        """Time of each frame in seconds: the stored timestamps, else ``frame / fps``, else NaN."""
        if self.timestamps is not None:
            return np.asarray(self.timestamps, dtype=np.float64)
        if self.fps is None:
            return np.full(self.num_frames, np.nan)
        return np.arange(self.num_frames) / self.fps

    def __repr__(self) -> str:
        used = int(np.sum(self.syllables >= 0))
        fps = "fps unknown" if self.fps is None else f"{self.fps:g} fps"
        scale = "" if self.px_per_mm is None else f", {self.px_per_mm:g} px/mm"
        return (
            f"RecordingResult({self.name!r}: {self.num_frames} frames, {used} labelled, "
            f"{fps}{scale})"
        )


@dataclass
class Results:
    """Everything one fit (or one application of a saved model) produced.

    Attributes
    ----------
    model : ethogram.HMM
        The fitted model, its states renumbered by frequency (0 = most used).
    preparation : ethogram.prep.Preparation
        The preparation learned on the training recordings.
    recordings : list of RecordingResult
        One per recording, in input order.
    config : dict
        Every argument of the fit (JSON-able).
    fit : dict
        ``objectives``, ``marginal_lls`` (ndarrays, one entry per EM iteration of the kept
        restart), ``restart_objectives`` (final objective of each restart), ``converged``,
        ``num_iters``, ``chosen_restart``.
    versions : dict
        Versions of ethogram and of the libraries it ran with.
    created : str
        ISO 8601 time (UTC) of the fit.
    path : str or None
        The file these results were loaded from or last written to.
    """

    model: object
    preparation: object
    recordings: list
    config: dict = field(default_factory=dict)
    fit: dict = field(default_factory=dict)
    versions: dict = field(default_factory=dict)
    created: str = ""
    path: str | None = None

    @property
    def num_states(self) -> int:
        """K, the number of syllables of the model."""
        return int(self.model.num_states)

    @property
    def names(self) -> list:
        """Recording names in order."""
        return [r.name for r in self.recordings]

    def __repr__(self) -> str:
        command = self.config.get("command", "?")
        where = f", path={self.path!r}" if self.path else ""
        return (
            f"Results({command}: {len(self.recordings)} recording(s) {self.names[:3]}"
            f"{' ...' if len(self.recordings) > 3 else ''}, K = {self.num_states}{where})"
        )

    def __getitem__(self, name: str) -> RecordingResult:
        for r in self.recordings:
            if r.name == name:
                return r
        raise KeyError(f"no recording named {name!r}; there are {self.names}")

    def syllables(self) -> dict:
        """``{name: syllables (T,) int}`` (-1 = masked), as the tables in :mod:`ethogram.analysis`
        take them."""
        return {r.name: r.syllables for r in self.recordings}

    def labels(self) -> dict:
        """Deprecated: :meth:`syllables` (one word for the syllables across the results)."""
        warnings.warn(
            "Results.labels() is deprecated; use Results.syllables() (the same dict)",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.syllables()

    def fps(self) -> dict:
        """``{name: fps}`` per recording (None where unknown)."""
        return {r.name: r.fps for r in self.recordings}

    def px_per_mm(self) -> dict:
        """``{name: pixels per millimetre}`` per recording (None where unknown)."""
        return {r.name: r.px_per_mm for r in self.recordings}
