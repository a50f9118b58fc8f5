"""The one in-memory structure every reader returns: a :class:`Recording`.

A recording is one animal in one session. Pose formats (DeepLabCut, SLEAP, NWB ndx-pose,
JABS) give keypoints ``(T, B, S)`` (frames x body parts x 2 or 3 coordinates, pixels, NaN =
missing) with confidences ``(T, B)``; MoSeq formats and plain arrays give features ``(T, D)``
(e.g. principal components; NaN rows = dropped frames). Whatever else the file holds (centroid,
heading, reference syllable labels, a video path, depth frames) rides along; depth frames are
read lazily through :class:`LazyFrames` so that a recording of an hour costs no memory until a
crowd movie asks for a few frames. Every later step (preparation, fitting, plots) takes
recordings, never files.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["Recording", "LazyFrames", "KINDS"]

#: what ``Recording.data`` holds
KINDS = ("keypoints", "features")


class LazyFrames:
    """Frames of an HDF5 dataset (e.g. MoSeq's ``frames``, (T, H, W) uint8), read on demand.

    Parameters
    ----------
    path : str
        HDF5 (or NWB) file.
    key : str
        Dataset path inside the file.
    frame_index : ndarray of int, shape (T,), optional
        Row of the dataset for each frame of the recording (-1 where the recording has a
        frame the dataset lacks, read as zeros); identity when None.

    Notes
    -----
    ``frames[i]`` or ``frames[[i, j, ...]]`` opens the file, reads only those rows and closes
    it, so the object is safe to send to other processes.
    """

    def __init__(self, path, key: str, frame_index=None):
        import h5py

        self.path = str(path)
        self.key = str(key)
        with h5py.File(self.path, "r") as f:
            if self.key not in f:
                raise ValueError(f"{self.path} has no dataset {self.key!r}")
            ds = f[self.key]
            self._shape = tuple(ds.shape)
            self.dtype = ds.dtype
        self.frame_index = None if frame_index is None else np.asarray(frame_index, dtype=np.int64)

    @property
    def shape(self) -> tuple:
        """(T, H, W) as seen by the recording."""
        n = self._shape[0] if self.frame_index is None else len(self.frame_index)
        return (n,) + self._shape[1:]

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, idx) -> np.ndarray:
        import h5py

        single = np.isscalar(idx)
        rows = np.atleast_1d(np.arange(len(self))[idx])
        src = rows if self.frame_index is None else self.frame_index[rows]
        out = np.zeros((len(rows),) + self._shape[1:], dtype=self.dtype)
        valid = src >= 0
        if valid.any():
            order = np.argsort(src[valid], kind="stable")
            wanted = src[valid][order]
            uniq, inv = np.unique(wanted, return_inverse=True)
            with h5py.File(self.path, "r") as f:
                block = f[self.key][uniq.tolist()]
            got = block[inv]
            tmp = np.empty_like(got)
            tmp[order] = got
            out[valid] = tmp
        return out[0] if single else out

    def __repr__(self) -> str:
        return f"LazyFrames({self.path!r}, {self.key!r}, shape={self.shape})"


@dataclass
class Recording:
    """One animal in one session, as read from any supported file.

    Attributes
    ----------
    name : str
        Unique name, ``<file stem>`` or ``<file stem>/<animal>`` for multi-animal files.
    data : ndarray
        ``kind == "keypoints"``: (T, B, S) float64 positions in pixels, S = 2 (x, y) or 3
        (x, y, z), NaN where a body part is missing. ``kind == "features"``: (T, D) float64
        (e.g. MoSeq PC scores), NaN rows where a frame was dropped.
    kind : {"keypoints", "features"}
    fps : float or None
        Frames per second (from the file's timestamps where it has them).
    bodyparts : tuple of str or None
        Names of the B body parts (keypoints only).
    confidence : ndarray, shape (T, B), or None
        Tracking confidence on the tracker's scale (DeepLabCut, SLEAP: in [0, 1]; JABS: heatmap
        peaks, above 1 on multi-mouse files), NaN where missing.
    timestamps : ndarray, shape (T,), or None
        Time of each frame in seconds.
    source : str or None
        Path of the file it came from.
    format : str or None
        Reader name (``"dlc"``, ``"sleap"``, ``"nwb-pose"``, ``"jabs"``, ``"moseq-nwb"``,
        ``"moseq2"``, ``"npy"``, ``"csv"``).
    centroid : ndarray, shape (T, 2), or None
        Centroid in pixels as stored by the file (MoSeq scalars); keypoint recordings get
        theirs from the preparation.
    heading : ndarray, shape (T,), or None
        Heading in radians, counter-clockwise from the +x axis, as stored by the file.
    labels : ndarray of int, shape (T,), or None
        Reference syllable labels stored in the file (e.g. MoSeq ``labels_clean``), -1 = none.
    video_path : str or None
        The video the keypoints were tracked on, when the file names one that exists.
    frames : LazyFrames or None
        Depth frames (T, H, W) read lazily (MoSeq formats).
    attrs : dict
        Anything else worth keeping (identity, file version, units), JSON-serialisable.
    px_per_mm : float or None
        Physical scale: keypoint (and centroid) units per millimetre, i.e. pixels per mm for
        pixel coordinates (from the file, e.g. JABS ``cm_per_pixel``, or given by the user:
        :func:`ethogram.io.units.set_scales`); None when unknown. Speeds and distances are
        reported in mm/s and cm where it is known, in pixels where not.
    """

    name: str
    data: np.ndarray
    kind: str
    fps: float | None = None
    bodyparts: tuple | None = None
    confidence: np.ndarray | None = None
    timestamps: np.ndarray | None = None
    source: str | None = None
    format: str | None = None
    centroid: np.ndarray | None = None
    heading: np.ndarray | None = None
    labels: np.ndarray | None = None
    video_path: str | None = None
    frames: LazyFrames | None = None
    attrs: dict = field(default_factory=dict)
    px_per_mm: float | None = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")
        self.data = np.asarray(self.data, dtype=np.float64)
        if np.isinf(self.data).any():
            t = int(np.argwhere(np.isinf(self.data))[0, 0])
            raise ValueError(
                f"recording {self.name!r}: data contains inf (first at frame {t}); mark missing "
                "values with NaN (they are masked), or fix the file"
            )
        want = 3 if self.kind == "keypoints" else 2
        if self.data.ndim != want:
            raise ValueError(
                f"recording {self.name!r}: {self.kind} data must have {want} dimensions, got shape "
                f"{self.data.shape}"
            )
        if self.kind == "keypoints":
            self._check_bodyparts()
        self._check_rates()
        self._check_per_frame()

    def _check_bodyparts(self) -> None:
        """Keypoints: 2 or 3 coordinates, one name per body part (``bodypart<i>`` by default)."""
        if self.data.shape[2] not in (2, 3):
            raise ValueError(
                f"recording {self.name!r}: keypoints must have 2 or 3 coordinates, "
                f"got {self.data.shape[2]}"
            )
        if self.bodyparts is None:
            self.bodyparts = tuple(f"bodypart{i}" for i in range(self.data.shape[1]))
        self.bodyparts = tuple(str(b) for b in self.bodyparts)
        if len(self.bodyparts) != self.data.shape[1]:
            raise ValueError(
                f"recording {self.name!r}: {len(self.bodyparts)} body-part names for "
                f"{self.data.shape[1]} body parts"
            )

    def _check_rates(self) -> None:
        """``fps`` and ``px_per_mm`` as floats, positive when given."""
        if self.fps is not None:
            self.fps = float(self.fps)
            if not (np.isfinite(self.fps) and self.fps > 0):
                raise ValueError(
                    f"recording {self.name!r}: fps must be a positive number, got {self.fps!r}"
                )
        if self.px_per_mm is not None:
            self.px_per_mm = float(self.px_per_mm)
            if not (np.isfinite(self.px_per_mm) and self.px_per_mm > 0):
                raise ValueError(
                    f"recording {self.name!r}: px_per_mm must be a positive number of "
                    f"pixels per millimetre, got {self.px_per_mm!r}"
                )

    def _check_per_frame(self) -> None:
        """The per-frame arrays (confidence, timestamps, centroid, heading, labels) as arrays of
        one row per frame."""
        T = self.data.shape[0]
        for attr, tail in (
            ("confidence", (self.data.shape[1],) if self.kind == "keypoints" else None),
            ("timestamps", ()),
            ("centroid", (2,)),
            ("heading", ()),
            ("labels", ()),
        ):
            v = getattr(self, attr)
            if v is None or tail is None and attr == "confidence":
                continue
            v = np.asarray(v)
            if v.shape != (T,) + tail:
                raise ValueError(
                    f"recording {self.name!r}: {attr} must have shape {(T,) + tail}, got {v.shape}"
                )
            setattr(self, attr, v)

    @property
    def num_frames(self) -> int:
        """T, the number of frames."""
        return int(self.data.shape[0])

    @property
    def duration(self) -> float | None:
        """Length in seconds (None when fps is unknown)."""
        return None if self.fps is None else self.num_frames / self.fps

    def times(self) -> np.ndarray:
        """Time of each frame in seconds: the stored timestamps, else ``frame / fps``.

        Raises
        ------
        ValueError
            When the recording has neither timestamps nor fps.
        """
        if self.timestamps is not None:
            return np.asarray(self.timestamps, dtype=np.float64)
        if self.fps is None:
            from ..errors import ArgumentError

            raise ArgumentError(f"recording {self.name!r} has no frame rate; give {{fps}}", "fps")
        return np.arange(self.num_frames) / self.fps

    def __repr__(self) -> str:
        extra = f", bodyparts={list(self.bodyparts)}" if self.kind == "keypoints" else ""
        return (
            f"Recording({self.name!r}, {self.kind} {self.data.shape}, fps={self.fps}, "
            f"format={self.format!r}{extra})"
        )
