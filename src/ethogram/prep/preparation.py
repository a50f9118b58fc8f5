"""The preparation: recordings in, model inputs out, learned once and applied unchanged.

:class:`Preparation` turns :class:`~ethogram.io.recording.Recording` objects into
:class:`Prepared` inputs for the HMM. For keypoints it removes low-confidence points and
outliers, interpolates short gaps, aligns each frame egocentrically and projects the aligned
pose on principal components (scikit-learn ``PCA``) learned on the training recordings, then
standardizes; for features (MoSeq PC scores) it keeps the first columns and standardizes.
Everything learned is exported by :meth:`Preparation.to_dict` (arrays and JSON-able values, no
pickle), so ``ethogram apply`` prepares new recordings exactly as the training ones. The method
follows keypoint-moseq (egocentric alignment, PCA of the aligned keypoints, PCs keeping ~90% of
the variance) and moseq2 (10 standardized PCs of depth crops). The keypoint steps of the class are
in :mod:`ethogram.prep._keypoint_path`; :class:`Prepared` is defined in
:mod:`ethogram.prep.prepared`.
"""

from __future__ import annotations

import json

import numpy as np

from ..errors import ArgumentError
from ..io.recording import Recording
from ._keypoint_path import KeypointPathMixin
from .prepared import Prepared

__all__ = [
    "Preparation",
    "Prepared",
    "DEFAULT_SCORE_PCS",
    "FORMAT",
    "FORMAT_VERSION",
    "PC_SCORE_FORMATS",
]

FORMAT = "ethogram-preparation"
FORMAT_VERSION = 1
#: PC scores kept by default from MoSeq formats (moseq2-model ``learn-model --npcs 10``)
DEFAULT_SCORE_PCS = 10
#: formats whose features are principal-component scores ordered by explained variance
PC_SCORE_FORMATS = ("moseq2", "moseq-nwb")
_SETTINGS = (
    "confidence_threshold",
    "outlier_distance",
    "max_gap",
    "anterior",
    "posterior",
    "bodyparts",
    "variance",
    "num_pcs",
    "standardize",
)


def _plain(v):
    """A value read back from HDF5 attributes as plain Python (numpy scalars, arrays, bytes)."""
    if isinstance(v, bytes):
        return v.decode()
    if isinstance(v, np.ndarray):
        return [_plain(x) for x in v.tolist()]
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    return v


def _names(value, what):
    if value is None:
        return None
    names = (value,) if isinstance(value, str) else tuple(value)
    if not all(isinstance(n, str) for n in names) or not names:
        raise TypeError(f"{what} must be a body-part name or a list of names, got {value!r}")
    return names


class Preparation(KeypointPathMixin):
    """Learned preparation of recordings for the HMM (keypoints or features).

    Parameters
    ----------
    confidence_threshold : float or None, default 0.5
        Keypoints whose tracking confidence is below it become missing (keypoint-moseq's
        ``conf_threshold`` default is also 0.5). None or 0 keeps all. Any finite number >= 0:
        DeepLabCut and SLEAP scores are in [0, 1], JABS confidences are heatmap peaks (above 1
        on multi-mouse files). A threshold above every confidence of a recording's body parts
        is refused when the recording is prepared (an ``ArgumentError`` naming the recording
        and the range of its confidences).
    outlier_distance : float or None, default None
        Keypoints farther than ``outlier_distance`` times the median body length (the median
        distance between the anterior and posterior ends over the training frames) from the
        frame's medoid (coordinate-wise median of the body parts) become missing; the body
        length is learned on the training recordings and reused for new ones. None turns
        outlier removal off; 1.0 to 1.5 suits a mouse, whose farthest body part (nose or tail
        base) sits about half a body length from the medoid. keypoint-moseq's medoid test
        (``outlier_scale_factor``) thresholds each body part at its median distance plus 6
        median absolute deviations instead.
    max_gap : int, default 5
        Gaps of at most this many frames (per body part, with a present frame on each side)
        are interpolated linearly; longer gaps stay missing and their frames are masked
        (keypoint-moseq interpolates all gaps; we keep the mask).
    anterior, posterior : str or list of str, optional
        Body parts at the front and the back; the heading is the angle of (mean anterior -
        mean posterior). Guessed from common names when None (nose/snout, head, neck; tail
        base, tail, abdomen: see :func:`ethogram.prep.keypoints.guess_axis_bodyparts`).
    bodyparts : str or list of str, optional
        Keep only these body parts (e.g. to drop arena corners); all when None.
    variance : float, default 0.9
        Keypoints: keep the fewest principal components whose explained variance exceeds this
        fraction (keypoint-moseq advises choosing ``latent_dim`` to explain about 90%).
    num_pcs : int, optional
        Keypoints: number of principal components (overrides ``variance``). Features: keep the
        first ``num_pcs`` columns. When None, MoSeq PC scores (formats ``"moseq2"`` and
        ``"moseq-nwb"``, ordered by explained variance) keep the first
        :data:`DEFAULT_SCORE_PCS` (10, moseq2-model's and keypoint-moseq's default: 50 depth PCs
        give an AR syllable thousands of parameters), other features all their columns.
    standardize : bool, default True
        Subtract the training mean and divide by the training standard deviation (ddof 0) of
        each input; directions with no variance in training are only centred.

    Attributes
    ----------
    kind : {"keypoints", "features"} or None
        What the preparation was fitted on (None before fitting).
    bodyparts_ : tuple of str
        Body parts kept, in order (keypoints).
    anterior_, posterior_ : tuple of str
        Body parts used for the heading (keypoints).
    body_length_ : float
        Median anterior-to-posterior distance on the training recordings, pixels (keypoints).
    components_ : ndarray, shape (D, B*S)
        Principal axes in the flattened egocentric space (keypoints), whose coordinates are
        ordered body part by body part: ``x0, y0, x1, y1, ...`` (``aligned.reshape(T, -1)``).
    pca_mean_ : ndarray, shape (B*S,)
        Mean of the flattened egocentric keypoints of the training frames.
    explained_variance_ratio_ : ndarray, shape (min(N, B*S),)
        Fraction of variance of every principal component (kept or not).
    input_mean_, input_scale_ : ndarray, shape (D,)
        Standardization (zeros and ones when ``standardize`` is False).
    num_features_in_ : int
        B*S for keypoints, the number of feature columns for features.

    Examples
    --------
    >>> prep = Preparation(variance=0.9)
    >>> prepared = prep.fit_transform(recordings)          # doctest: +SKIP
    >>> same = Preparation.from_dict(prep.to_dict()).transform(recordings)   # doctest: +SKIP
    """

    def __init__(
        self,
        confidence_threshold=0.5,
        outlier_distance=None,
        max_gap=5,
        anterior=None,
        posterior=None,
        bodyparts=None,
        variance=0.9,
        num_pcs=None,
        standardize=True,
    ):
        if confidence_threshold is not None:
            confidence_threshold = float(confidence_threshold)
            # no upper bound here: JABS confidences are heatmap peaks, above 1; a threshold
            # above a recording's confidences is refused against the data (_keypoint_path)
            if not (np.isfinite(confidence_threshold) and confidence_threshold >= 0):
                raise ArgumentError(
                    "{confidence_threshold} must be a finite number >= 0 (points with a lower "
                    "confidence become missing; {confidence_threshold:None} keeps every point), "
                    f"got {confidence_threshold!r}",
                    "confidence_threshold",
                )
        if outlier_distance is not None:
            outlier_distance = float(outlier_distance)
            if not (np.isfinite(outlier_distance) and outlier_distance > 0):
                raise ValueError(
                    "outlier_distance must be a positive number of body lengths or None (off), got "
                    f"{outlier_distance!r}"
                )
        if isinstance(max_gap, bool) or int(max_gap) != max_gap or max_gap < 0:
            raise ValueError(f"max_gap must be a whole number of frames >= 0, got {max_gap!r}")
        variance = float(variance)
        if not 0 < variance <= 1:
            raise ArgumentError(
                f"{{variance}} must be a fraction in (0, 1], got {variance!r}", "variance"
            )
        if num_pcs is not None and (
            isinstance(num_pcs, bool) or int(num_pcs) != num_pcs or num_pcs < 1
        ):
            raise ArgumentError(
                f"{{num_pcs}} must be a positive integer or None, got {num_pcs!r}", "num_pcs"
            )
        self.confidence_threshold = confidence_threshold
        self.outlier_distance = outlier_distance
        self.max_gap = int(max_gap)
        self.anterior = _names(anterior, "anterior")
        self.posterior = _names(posterior, "posterior")
        self.bodyparts = _names(bodyparts, "bodyparts")
        self.variance = variance
        self.num_pcs = None if num_pcs is None else int(num_pcs)
        self.standardize = bool(standardize)
        self.kind = None

    # ------------------------------------------------------------------ public
    @property
    def fitted(self) -> bool:
        """True once :meth:`fit` (or :meth:`from_dict`) has run."""
        return self.kind is not None

    @property
    def num_inputs(self) -> int:
        """D, the number of model inputs per frame (after fitting)."""
        self._check_fitted()
        return int(self.input_mean_.shape[0])

    def fit(self, recordings) -> "Preparation":
        """Learn the preparation from training recordings (see :meth:`fit_transform`)."""
        self.fit_transform(recordings)
        return self

    def fit_transform(self, recordings) -> list[Prepared]:
        """Learn the preparation on ``recordings`` and return them prepared.

        Parameters
        ----------
        recordings : Recording or list of Recording
            All of one kind ("keypoints" or "features").

        Returns
        -------
        list of Prepared
            One per recording, in order; identical to ``transform(recordings)`` afterwards.

        Raises
        ------
        ValueError
            Empty input, mixed kinds, body parts missing or misspelled, a kept body part absent
            from every frame, no complete frame to fit the PCA on, or too few columns/PCs.
            ``confidence_threshold`` above every confidence of a recording's body parts is an
            ``ArgumentError`` (a ``ValueError``) naming it, the recording and their range.
        """
        recs = self._as_list(recordings)
        kinds = {r.kind for r in recs}
        if len(kinds) > 1:
            raise ValueError(
                f"recordings mix kinds {sorted(kinds)}: fit keypoint and feature recordings "
                "separately"
            )
        kind = kinds.pop()
        self.kind = None  # a failed refit must not leave a half-updated, "fitted" preparation
        if kind == "keypoints":
            return self._fit_keypoints(recs)
        return self._fit_features(recs)

    def transform(self, recordings) -> list[Prepared]:
        """Prepare recordings with what was learned, unchanged.

        Parameters
        ----------
        recordings : Recording or list of Recording

        Returns
        -------
        list of Prepared

        Raises
        ------
        ValueError
            Before fitting; a recording of another kind, with other body parts or coordinates,
            or with fewer feature columns than the preparation needs; a recording whose
            confidences are all below ``confidence_threshold`` (an ``ArgumentError``).
        """
        self._check_fitted()
        recs = self._as_list(recordings)
        out = []
        for r in recs:
            if r.kind != self.kind:
                raise ValueError(
                    f"recording {r.name!r} holds {r.kind} but the preparation was fitted on "
                    f"{self.kind}"
                )
            out.append(
                self._project(self._clean(r)) if self.kind == "keypoints" else self._features(r)
            )
        return out

    def to_dict(self) -> dict:
        """Everything the preparation holds, as ``{"arrays": {...}, "attrs": {...}}``.

        ``arrays`` maps names to float64 ndarrays; ``attrs`` holds only JSON-able values
        (settings, kind, body parts, format name and version). :meth:`from_dict` rebuilds an
        identical preparation.
        """
        self._check_fitted()
        attrs = {"format": FORMAT, "format_version": FORMAT_VERSION, "kind": self.kind}
        attrs.update(
            {
                k: (list(v) if isinstance(v, tuple) else v)
                for k in _SETTINGS
                for v in [getattr(self, k)]
            }
        )
        attrs["num_features_in"] = int(self.num_features_in_)
        arrays = {"input_mean": self.input_mean_.copy(), "input_scale": self.input_scale_.copy()}
        if self.kind == "keypoints":
            attrs.update(
                bodyparts_kept=list(self.bodyparts_),
                anterior_used=list(self.anterior_),
                posterior_used=list(self.posterior_),
                num_coords=int(self.num_coords_),
                body_length=float(self.body_length_),
            )
            arrays.update(
                components=self.components_.copy(),
                pca_mean=self.pca_mean_.copy(),
                explained_variance_ratio=self.explained_variance_ratio_.copy(),
            )
        return {"arrays": arrays, "attrs": attrs}

    @classmethod
    def from_dict(cls, state: dict) -> "Preparation":
        """Rebuild a fitted preparation from :meth:`to_dict` output.

        Raises
        ------
        ValueError
            When ``state`` is not a preparation, or its format version is newer than this
            ethogram reads.
        """
        try:
            attrs, arrays = state["attrs"], state["arrays"]
            if isinstance(attrs, (str, bytes)):
                attrs = json.loads(attrs)
            attrs = {str(k): _plain(v) for k, v in dict(attrs).items()}
        except (KeyError, TypeError, ValueError):
            raise ValueError(
                "state must be a dict with 'arrays' and 'attrs' (from Preparation.to_dict())"
            ) from None
        if attrs.get("format") != FORMAT:
            raise ValueError(
                f"state is not an ethogram preparation (format={attrs.get('format')!r})"
            )
        if int(attrs.get("format_version", 0)) > FORMAT_VERSION:
            raise ValueError(
                f"preparation format version {attrs['format_version']} is newer than this ethogram "
                f"reads ({FORMAT_VERSION}); upgrade ethogram"
            )
        prep = cls(**{k: attrs.get(k) for k in _SETTINGS})
        prep.kind = attrs["kind"]
        prep.num_features_in_ = int(attrs["num_features_in"])
        prep.input_mean_ = np.array(arrays["input_mean"], dtype=np.float64)
        prep.input_scale_ = np.array(arrays["input_scale"], dtype=np.float64)
        if prep.kind == "keypoints":
            prep.bodyparts_ = tuple(attrs["bodyparts_kept"])
            prep.anterior_ = tuple(attrs["anterior_used"])
            prep.posterior_ = tuple(attrs["posterior_used"])
            prep.num_coords_ = int(attrs["num_coords"])
            prep.body_length_ = float(attrs["body_length"])
            prep.components_ = np.array(arrays["components"], dtype=np.float64)
            prep.pca_mean_ = np.array(arrays["pca_mean"], dtype=np.float64)
            prep.explained_variance_ratio_ = np.array(
                arrays["explained_variance_ratio"], dtype=np.float64
            )
        return prep

    def __repr__(self) -> str:
        set_ = ", ".join(f"{k}={getattr(self, k)!r}" for k in _SETTINGS)
        if not self.fitted:
            return f"Preparation({set_})"
        extra = f"kind={self.kind!r}, num_inputs={self.num_inputs}"
        if self.kind == "keypoints":
            kept = float(self.explained_variance_ratio_[: self.num_inputs].sum())
            extra += f", bodyparts={list(self.bodyparts_)}, variance_kept={kept:.3f}"
        return f"Preparation({set_}; fitted: {extra})"

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _as_list(recordings) -> list[Recording]:
        recs = [recordings] if isinstance(recordings, Recording) else list(recordings)
        if not recs:
            raise ValueError("recordings is empty: give at least one Recording")
        for r in recs:
            if not isinstance(r, Recording):
                raise TypeError(
                    f"recordings must be Recording objects (ethogram.io), got {type(r).__name__}"
                )
        return recs

    def _check_fitted(self):
        if not self.fitted:
            raise ValueError(
                "the preparation is not fitted: call fit or fit_transform on training recordings "
                "first"
            )

    def _standardization(self, rows: np.ndarray):
        D = rows.shape[1]
        if not self.standardize:
            return np.zeros(D), np.ones(D)
        mean = rows.mean(axis=0)
        std = rows.std(axis=0)
        tiny = std <= 1e-12 * max(float(std.max(initial=0.0)), 1e-300)
        return mean, np.where(tiny, 1.0, std)

    # features ------------------------------------------------------------
    def _fit_features(self, recs) -> list[Prepared]:
        D = recs[0].data.shape[1]
        for r in recs:
            if r.data.shape[1] != D:
                raise ValueError(
                    f"recording {r.name!r} has {r.data.shape[1]} feature columns but "
                    f"{recs[0].name!r} has {D}; all training recordings need the same columns"
                )
        if self.num_pcs is not None and self.num_pcs > D:
            raise ArgumentError(
                f"{{num_pcs:{self.num_pcs}}} but the recordings have only {D} feature columns; "
                f"give {{num_pcs:{D}}} or fewer",
                "num_pcs",
            )
        self.num_features_in_ = D
        n = D if self.num_pcs is None else self.num_pcs
        if self.num_pcs is None and all(r.format in PC_SCORE_FORMATS for r in recs):
            n = min(D, DEFAULT_SCORE_PCS)
        self.input_mean_, self.input_scale_ = np.zeros(n), np.ones(n)
        raw = [self._features(r) for r in recs]
        rows = np.concatenate([p.inputs[p.mask] for p in raw])
        if rows.shape[0] == 0:
            raise ValueError(
                "no training frame has all its features finite; nothing to learn the "
                "standardization from"
            )
        self.input_mean_, self.input_scale_ = self._standardization(rows)
        self.kind = "features"
        return [self._features(r) for r in recs]

    def _features(self, r: Recording) -> Prepared:
        D = r.data.shape[1]
        n = self.input_mean_.shape[0]
        if (self.num_pcs is None and D != self.num_features_in_) or D < n:
            raise ValueError(
                f"recording {r.name!r} has {D} feature columns; the preparation was fitted on "
                f"{self.num_features_in_} and uses the first {n}"
            )
        x = np.array(r.data[:, :n], dtype=np.float64)
        mask = np.isfinite(x).all(axis=1)
        x = (x - self.input_mean_) / self.input_scale_
        x[~mask] = np.nan
        centroid = None if r.centroid is None else np.asarray(r.centroid, dtype=np.float64)
        heading = None if r.heading is None else np.asarray(r.heading, dtype=np.float64)
        return Prepared(r.name, x, mask, centroid, heading, None, r.fps)
