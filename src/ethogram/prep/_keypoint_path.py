"""The keypoint path of the preparation: select the kept body parts, clean, align, project.

:class:`KeypointPathMixin` holds the methods of :class:`~ethogram.prep.preparation.Preparation`
that handle keypoint recordings: ``_select`` (body parts in the preparation's order,
low-confidence points removed, with the errors for mismatched recordings), ``_fit_keypoints``
(body length, PCA and standardization learned on the training recordings), ``_clean``
(outliers, gaps, egocentric alignment) and ``_project`` (PCA projection and standardization).
The array steps themselves are in :mod:`ethogram.prep.keypoints`; the settings, the feature
path and the export are in :mod:`ethogram.prep.preparation`, which mixes this in.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..errors import ArgumentError, ArgumentWarning
from ..io.recording import Recording
from .keypoints import (
    centroid_and_heading,
    chosen_confidence,
    egocentric,
    guess_axis_bodyparts,
    interpolate_gaps,
    mask_low_confidence,
    medoid_outliers,
    present_mean,
)
from .prepared import Prepared

__all__ = ["KeypointPathMixin", "VALID_POINTS_REMOVED"]

#: the start of :func:`_warn_valid_points_removed`'s warning, as a ``warnings`` filter's pattern
VALID_POINTS_REMOVED = r"recording .*: \d+ of \d+ points that JABS counts valid"


def _warn_valid_points_removed(r: Recording, before, after, threshold) -> None:
    """Say when the confidence threshold removes points the tracker's own rule counts valid.

    A reader whose format has its own validity rule records it in ``attrs`` (JABS:
    ``jabs_min_confidence``, points valid above 0.3; its confidences are heatmap peaks, not
    probabilities), so a threshold above it, like the default 0.5, removes valid points.
    """
    floor = (r.attrs or {}).get("jabs_min_confidence")
    if floor is None or threshold is None or threshold <= floor:
        return
    had = np.isfinite(before).all(axis=2)
    removed = int((had & ~np.isfinite(after).all(axis=2)).sum())
    if removed:
        warnings.warn(
            ArgumentWarning(
                f"recording {r.name!r}: {removed} of {int(had.sum())} points that JABS counts "
                f"valid (confidence above {floor:g}; its confidences are heatmap peaks, not "
                f"probabilities) are below {{confidence_threshold:{threshold:g}}} and become "
                f"missing; {{confidence_threshold:{floor:g}}} keeps the points JABS keeps",
                "confidence_threshold",
            ),
            stacklevel=2,
        )


def _check_threshold_in_range(r: Recording, conf, threshold, fitting: bool) -> None:
    """Refuse a confidence threshold above every confidence of the chosen body parts.

    Such a threshold removes every scored point of the recording (typically a percentage,
    ``50``, given for scores in [0, 1]); the error names the recording and the range of its
    finite, nonzero confidences (0 is JABS' padding). The threshold has no fixed upper bound
    otherwise: JABS confidences are heatmap peaks, above 1 on multi-mouse files.

    Raises
    ------
    ArgumentError
        Named ``confidence_threshold``; the remedy is a threshold inside the range (while
        fitting) or fitting again with one (a fitted preparation applied to ``r``); None when
        every confidence is 0.
    """
    if threshold is None or threshold <= 0:
        return
    finite = conf[np.isfinite(conf)]
    if finite.size == 0 or threshold <= finite.max():
        return
    scored = finite[finite > 0]
    if scored.size == 0:
        have, want = "they are all 0", "{confidence_threshold:None}, which keeps every point"
    elif scored.min() == scored.max():
        have, want = f"they are all {scored.max():.3g}", "a threshold at or below it"
    else:
        have = f"they range from {scored.min():.3g} to {scored.max():.3g}"
        want = "a threshold inside that range"
    usual = (
        f"JABS counts points valid above {r.attrs['jabs_min_confidence']:g}"
        if (r.attrs or {}).get("jabs_min_confidence") is not None
        else "DeepLabCut and SLEAP scores are in [0, 1], e.g. 0.5"
    )
    fix = (
        f"give {want}"
        if fitting
        else f"every point would be missing; fit the model again with {want}"
    )
    raise ArgumentError(
        f"{{confidence_threshold:{threshold:g}}} is above every confidence in recording "
        f"{r.name!r} ({have}); {fix} ({usual})",
        "confidence_threshold",
    )


class KeypointPathMixin:
    """Keypoint methods of :class:`~ethogram.prep.preparation.Preparation` (select, fit, clean,
    project); they read the settings and learned attributes of the preparation."""

    def check_bodyparts(self, r: Recording, fitting: bool = False) -> None:
        """Refuse a keypoint recording without the preparation's body parts.

        Parameters
        ----------
        r : Recording
            Keypoints, with ``bodyparts``.
        fitting : bool, default False
            True while fitting (``r`` is compared with the first training recording), False
            for a recording the fitted preparation (a saved model) is applied to.

        Raises
        ------
        ValueError
            ``r`` shares no body part with them (both lists named; renaming or another model is
            the remedy), or lacks some of the body parts chosen with ``bodyparts``.
        ArgumentError
            ``r`` lacks some of them, or has others, and ``bodyparts`` was not chosen: the
            shared ones named, ``bodyparts`` the remedy.
        """
        have, want = list(r.bodyparts), list(self.bodyparts_)
        shared = [b for b in want if b in have]
        if not shared:
            raise ValueError(
                f"recording {r.name!r} shares no body part with the first training recording: "
                f"it has {have}, that one has {want}; fit recordings tracked with the same body "
                "parts together"
                if fitting
                else f"recording {r.name!r} shares no body part with the preparation's (the "
                f"model's) training recordings: it has {have}, they had {want}; if these are the "
                "same points under other names, rename them in the file to the model's, else fit "
                "a model on recordings tracked like it"
            )
        where = (
            "the first training recording" if fitting else "the preparation's training recordings"
        )
        # the remedy: choose the body parts; on new recordings that means fitting again
        choose = (
            "pass {bodyparts:[...]}" if fitting else "fit the model again with {bodyparts:[...]}"
        )
        missing = [b for b in want if b not in have]
        if missing and self.bodyparts is not None:
            raise ValueError(f"recording {r.name!r} lacks body part(s) {missing}; it has {have}")
        if missing:
            raise ArgumentError(
                f"recording {r.name!r} lacks body part(s) {missing}; it has {have}, {where} had "
                f"{want}; {choose} to keep the body parts they share, {shared}",
                "bodyparts",
            )
        if self.bodyparts is None and set(have) != set(want):
            raise ArgumentError(
                f"recording {r.name!r} has body parts {have} but {where} had {want}; use "
                f"recordings tracked with the same body parts, or {choose} to keep a common subset",
                "bodyparts",
            )

    def _select(self, r: Recording, fitting: bool) -> np.ndarray:
        """The kept body parts of ``r`` in the preparation's order, confidence applied."""
        self.check_bodyparts(r, fitting)
        have, want = list(r.bodyparts), self.bodyparts_
        where = (  # said by the 3-D check below
            "the first training recording" if fitting else "the preparation's training recordings"
        )
        if r.data.shape[2] != self.num_coords_:
            raise ValueError(
                f"recording {r.name!r} has {r.data.shape[2]}-D keypoints but {where} had "
                f"{self.num_coords_}-D"
            )
        idx = [have.index(b) for b in want]
        conf = chosen_confidence(
            r,
            idx,
            "every point with coordinates kept whatever the confidence threshold; give the "
            "tracker's scores in the file to leave unsure points out",
        )
        if conf is not None:  # before the JABS warning and _absent_error: the cause, said once
            _check_threshold_in_range(r, conf, self.confidence_threshold, fitting)
        coords = mask_low_confidence(r.data[:, idx], conf, self.confidence_threshold)
        _warn_valid_points_removed(r, r.data[:, idx], coords, self.confidence_threshold)
        absent = [b for b, ok in zip(want, np.isfinite(coords).all(axis=2).any(axis=0)) if not ok]
        if absent:
            raise self._absent_error(r, absent, fitting, np.isfinite(r.data[:, idx]).all(axis=2))
        return coords

    def _absent_error(self, r: Recording, absent, fitting: bool, tracked) -> ArgumentError:
        """Body parts missing in every frame: leave them out; when the tracker placed them
        but the confidence threshold removed them, lowering it is said first."""
        leave = (
            "with {bodyparts:[...]}"
            if fitting
            else "by fitting the model again with {bodyparts:[...]}"
        )
        th = f"{{confidence_threshold:{self.confidence_threshold}}}"
        cut = [b for b, ok in zip(self.bodyparts_, tracked.any(axis=0)) if ok and b in absent]
        if cut:  # tracked somewhere, every frame under the threshold
            fix = f"lower {th} (their confidences are all below it), or leave them out {leave}"
        else:
            fix = f"leave them out {leave}"
        return ArgumentError(
            f"recording {r.name!r}: body part(s) {absent} are missing (or below {th}) in every "
            f"frame; {fix}",
            ("confidence_threshold", "bodyparts"),
        )

    def _fit_keypoints(self, recs) -> list[Prepared]:
        from sklearn.decomposition import PCA

        first = recs[0]
        if self.bodyparts is not None:
            unknown = [b for b in self.bodyparts if b not in first.bodyparts]
            if unknown:
                raise ValueError(
                    f"bodyparts {unknown} not found in {first.name!r}; its body parts are "
                    f"{list(first.bodyparts)}"
                )
        self.bodyparts_ = (
            tuple(self.bodyparts) if self.bodyparts is not None else tuple(first.bodyparts)
        )
        self.num_coords_ = first.data.shape[2]
        self.anterior_, self.posterior_ = guess_axis_bodyparts(
            self.bodyparts_, self.anterior, self.posterior
        )
        ai = [self.bodyparts_.index(b) for b in self.anterior_]
        pi = [self.bodyparts_.index(b) for b in self.posterior_]
        lengths = []
        for r in recs:
            xy = self._select(r, fitting=True)[..., :2]
            d = np.linalg.norm(
                present_mean(xy[:, ai], axis=1) - present_mean(xy[:, pi], axis=1), axis=1
            )
            lengths.append(d[np.isfinite(d)])
        lengths = np.concatenate(lengths)
        if lengths.size == 0:
            raise ArgumentError(
                f"no training frame has both an anterior {list(self.anterior_)} and a posterior "
                f"{list(self.posterior_)} body part; check {{anterior}}, {{posterior}} and "
                "{confidence_threshold}",
                ("anterior", "posterior", "confidence_threshold"),
            )
        self.body_length_ = float(np.median(lengths))
        cleaned = [self._clean(r) for r in recs]
        X = np.concatenate([c["flat"][c["mask"]] for c in cleaned])
        D_in = X.shape[1]
        self.num_features_in_ = D_in
        if X.shape[0] < 2:
            raise ArgumentError(
                f"only {X.shape[0]} training frame(s) have every body part present after cleaning; "
                "the PCA needs more: lower {confidence_threshold}, raise max_gap or keep fewer "
                "body parts ({bodyparts})",
                ("confidence_threshold", "bodyparts"),
            )
        pca = PCA(n_components=None, svd_solver="full").fit(X)
        ratio = pca.explained_variance_ratio_
        if self.num_pcs is not None:
            if self.num_pcs > ratio.shape[0]:
                raise ArgumentError(
                    f"{{num_pcs:{self.num_pcs}}} but only {ratio.shape[0]} components exist "
                    f"({len(self.bodyparts_)} body parts x {self.num_coords_} coordinates, "
                    f"{X.shape[0]} complete frames); give {{num_pcs:{ratio.shape[0]}}} or fewer, "
                    "or {variance} to keep a fraction of the variance",
                    ("num_pcs", "variance"),
                )
            n = self.num_pcs
        else:  # scikit-learn's rule for a fractional n_components
            n = min(
                int(np.searchsorted(np.cumsum(ratio), self.variance, side="right")) + 1,
                ratio.shape[0],
            )
        self.components_ = np.array(pca.components_[:n], dtype=np.float64)
        self.pca_mean_ = np.array(pca.mean_, dtype=np.float64)
        self.explained_variance_ratio_ = np.array(ratio, dtype=np.float64)
        self.input_mean_, self.input_scale_ = np.zeros(n), np.ones(n)
        raw = [self._project(c) for c in cleaned]
        self.input_mean_, self.input_scale_ = self._standardization(
            np.concatenate([p.inputs[p.mask] for p in raw])
        )
        self.kind = "keypoints"
        return [self._project(c) for c in cleaned]

    def _clean(self, r: Recording) -> dict:
        """Confidence, outliers, gaps, alignment: everything before the projection."""
        coords = self._select(r, fitting=False)
        if self.outlier_distance is not None:
            coords[medoid_outliers(coords, self.outlier_distance * self.body_length_)] = np.nan
        coords = interpolate_gaps(coords, self.max_gap)
        ai = [self.bodyparts_.index(b) for b in self.anterior_]
        pi = [self.bodyparts_.index(b) for b in self.posterior_]
        centroid, heading = centroid_and_heading(coords, ai, pi)
        aligned = egocentric(coords, centroid, heading)
        flat = aligned.reshape(aligned.shape[0], -1)
        mask = np.isfinite(flat).all(axis=1)
        return {
            "name": r.name,
            "fps": r.fps,
            "centroid": centroid,
            "heading": heading,
            "aligned": aligned,
            "flat": flat,
            "mask": mask,
        }

    def _project(self, c: dict) -> Prepared:
        T = c["flat"].shape[0]
        x = np.full((T, self.components_.shape[0]), np.nan)
        m = c["mask"]
        x[m] = (c["flat"][m] - self.pca_mean_) @ self.components_.T
        x[m] = (x[m] - self.input_mean_) / self.input_scale_
        return Prepared(c["name"], x, m.copy(), c["centroid"], c["heading"], c["aligned"], c["fps"])
