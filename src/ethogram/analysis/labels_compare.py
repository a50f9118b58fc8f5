"""Compare syllables with reference labels of the same frames (MoSeq's labels, another model).

Two labelings of one recording agree up to renaming, so the scores here do not care about
label names: the Hungarian matched accuracy (each predicted syllable paired with at most one
reference label so that the most frames agree, scipy's ``linear_sum_assignment`` on the
confusion matrix; the two sides may have different numbers of labels), normalized mutual
information and the adjusted Rand index (scikit-learn), and how well the *boundaries*
(frames where the label changes) line up: a predicted boundary counts as found when a
reference boundary lies within ``tolerance`` frames of it (precision), and a reference
boundary as found when a predicted one does (recall). Frames where either side has no label
(-1, e.g. masked or dropped frames) are left out of every score; boundaries are only taken
between two labelled frames.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

__all__ = [
    "LabelComparison",
    "compare_labels",
    "compare_durations",
    "label_boundaries",
    "boundary_scores",
    "pair_labels",
]


@dataclass
class LabelComparison:
    """Scores of predicted syllables against reference labels.

    Attributes
    ----------
    accuracy : float
        Fraction of compared frames whose predicted syllable, renamed by ``mapping``, equals
        the reference label (Hungarian matching; unmatched syllables count as wrong).
    nmi : float
        Normalized mutual information (arithmetic normalisation, scikit-learn's default).
    ari : float
        Adjusted Rand index.
    boundary_precision, boundary_recall, boundary_f1 : float
        Boundary agreement within ``tolerance`` frames (NaN when a side has no boundary).
    tolerance : int
        In frames.
    num_frames : int
        Frames compared (labelled on both sides).
    mapping : dict of int to int
        Predicted syllable -> matched reference label.
    confusion : pandas.DataFrame
        Frame counts, reference labels as rows, predicted syllables as columns.
    """

    accuracy: float
    nmi: float
    ari: float
    boundary_precision: float
    boundary_recall: float
    boundary_f1: float
    tolerance: int
    num_frames: int
    mapping: dict
    confusion: object

    def matched_confusion(self):
        """The confusion table with matched pairs on the diagonal: rows the reference labels,
        columns the predicted syllables, each row's matched syllable in the same position
        (matched pairs first, by reference label), the unmatched ones after.

        Returns
        -------
        pandas.DataFrame
        """
        matched = sorted(self.mapping.items(), key=lambda kv: kv[1])
        refs = set(self.mapping.values())
        rows = [r for _, r in matched] + [r for r in self.confusion.index if r not in refs]
        cols = [c for c, _ in matched] + [
            c for c in self.confusion.columns if c not in self.mapping
        ]
        return self.confusion.loc[rows, cols]

    def scores(self):
        """One-row pandas DataFrame of the scalar scores."""
        import pandas as pd

        keys = (
            "accuracy",
            "nmi",
            "ari",
            "boundary_precision",
            "boundary_recall",
            "boundary_f1",
            "tolerance",
            "num_frames",
        )
        return pd.DataFrame([{k: getattr(self, k) for k in keys}])


def _pairs(reference, predicted) -> list[tuple[str, np.ndarray, np.ndarray]]:
    if isinstance(reference, Mapping) != isinstance(predicted, Mapping):
        raise TypeError(
            "reference and predicted must both be arrays or both be mappings of recording name "
            "to arrays"
        )
    if isinstance(reference, Mapping):
        missing = [k for k in predicted if k not in reference]
        if missing:
            raise ValueError(
                f"reference labels missing for recording(s) {missing[:5]}; give labels for every "
                "recording"
            )
        items = [(k, reference[k], predicted[k]) for k in predicted]
    else:
        items = [("0", reference, predicted)]
    out = []
    for name, a, b in items:
        a, b = np.asarray(a), np.asarray(b)
        if a.ndim != 1 or a.shape != b.shape:
            raise ValueError(
                f"recording {name!r}: reference and predicted labels must be 1-D of the same "
                f"length, got {a.shape} and {b.shape}"
            )
        for what, x in (("reference", a), ("predicted", b)):
            if x.size and not np.issubdtype(x.dtype, np.integer):
                if not np.all(np.equal(np.mod(x, 1), 0)):
                    raise ValueError(
                        f"recording {name!r}: {what} labels must be integers (-1 = none)"
                    )
        out.append((name, a.astype(np.int64), b.astype(np.int64)))
    return out


def label_boundaries(labels) -> np.ndarray:
    """Frames ``t`` where ``labels[t] != labels[t - 1]``, both labelled (>= 0).

    Parameters
    ----------
    labels : array_like of int, shape (T,)

    Returns
    -------
    ndarray of int64
    """
    a = np.asarray(labels)
    t = np.flatnonzero((a[1:] != a[:-1]) & (a[1:] >= 0) & (a[:-1] >= 0)) + 1
    return t.astype(np.int64)


def _within(query: np.ndarray, targets: np.ndarray, tolerance: int) -> np.ndarray:
    """For each query frame, whether some target lies within tolerance frames."""
    if targets.size == 0:
        return np.zeros(query.shape, dtype=bool)
    pos = np.searchsorted(targets, query)
    left = targets[np.clip(pos - 1, 0, targets.size - 1)]
    right = targets[np.clip(pos, 0, targets.size - 1)]
    return (np.abs(query - left) <= tolerance) | (np.abs(right - query) <= tolerance)


def boundary_scores(reference, predicted, tolerance: int = 2) -> tuple[float, float, float]:
    """Boundary precision, recall and F1 within ``tolerance`` frames.

    Parameters
    ----------
    reference, predicted : array_like of int, shape (T,), or mappings of them
    tolerance : int, default 2
        Frames.

    Returns
    -------
    precision, recall, f1 : float
        NaN when the side they divide by has no boundary.
    """
    tolerance = int(tolerance)
    if tolerance < 0:
        raise ValueError(f"tolerance must be >= 0 frames, got {tolerance}")
    hit_p = n_p = hit_r = n_r = 0
    for _, a, b in _pairs(reference, predicted):
        both = (a >= 0) & (b >= 0)
        ra, rb = np.where(both, a, -1), np.where(both, b, -1)
        ba, bb = label_boundaries(ra), label_boundaries(rb)
        hit_p += int(_within(bb, ba, tolerance).sum())
        n_p += bb.size
        hit_r += int(_within(ba, bb, tolerance).sum())
        n_r += ba.size
    p = hit_p / n_p if n_p else np.nan
    r = hit_r / n_r if n_r else np.nan
    f = 2 * p * r / (p + r) if n_p and n_r and (p + r) > 0 else (0.0 if n_p and n_r else np.nan)
    return float(p), float(r), float(f)


def compare_labels(reference, predicted, tolerance: int = 2) -> LabelComparison:
    """Score predicted syllables against reference labels of the same frames.

    Parameters
    ----------
    reference : array_like of int, shape (T,), or mapping of str to such arrays
        Reference labels (e.g. MoSeq ``labels_clean``), -1 = none.
    predicted : same structure as ``reference``
        Syllables to score (e.g. a fit's ``syllables``), -1 = none. With mappings, every
        predicted recording needs a reference of the same length; scores pool all frames.
    tolerance : int, default 2
        Frames within which boundaries count as the same.

    Returns
    -------
    LabelComparison

    Raises
    ------
    ValueError
        On shape mismatches, missing recordings, or no frame labelled on both sides.

    Notes
    -----
    Matching: Kuhn's Hungarian algorithm on the confusion matrix (scipy
    ``linear_sum_assignment``, maximising matched frames); NMI and ARI from scikit-learn
    (``normalized_mutual_info_score``, ``adjusted_rand_score``).
    """
    import pandas as pd
    from scipy.optimize import linear_sum_assignment
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    pairs = _pairs(reference, predicted)
    ref = np.concatenate([a[(a >= 0) & (b >= 0)] for _, a, b in pairs])
    pred = np.concatenate([b[(a >= 0) & (b >= 0)] for _, a, b in pairs])
    if ref.size == 0:
        raise ValueError("no frame is labelled on both sides (labels >= 0); nothing to compare")
    ref_ids, ref_inv = np.unique(ref, return_inverse=True)
    pred_ids, pred_inv = np.unique(pred, return_inverse=True)
    confusion = np.zeros((ref_ids.size, pred_ids.size), dtype=np.int64)
    np.add.at(confusion, (ref_inv, pred_inv), 1)
    rows, cols = linear_sum_assignment(confusion, maximize=True)
    accuracy = float(confusion[rows, cols].sum() / ref.size)
    mapping = {int(pred_ids[c]): int(ref_ids[r]) for r, c in zip(rows, cols)}
    p, r, f = boundary_scores(reference, predicted, tolerance)
    table = pd.DataFrame(
        confusion,
        index=pd.Index(ref_ids, name="reference"),
        columns=pd.Index(pred_ids, name="syllable"),
    )
    return LabelComparison(
        accuracy=accuracy,
        nmi=float(normalized_mutual_info_score(ref, pred)),
        ari=float(adjusted_rand_score(ref, pred)),
        boundary_precision=p,
        boundary_recall=r,
        boundary_f1=f,
        tolerance=int(tolerance),
        num_frames=int(ref.size),
        mapping=mapping,
        confusion=table,
    )


def _track_names(predicted) -> dict:
    """``{"<stem>/<animal>": "<stem>_track<i>" (canonical)}``: the i-th animal of each file in
    order, as keypoint-moseq names SLEAP tracks."""
    seen, out = {}, {}
    for k in predicted:
        if "/" in k:
            stem = k.rsplit("/", 1)[0]
            i = seen.get(stem, 0)
            seen[stem] = i + 1
            out[k] = _canonical(f"{stem}_track{i}")
    return out


def _canonical(name: str) -> str:
    """A name as other tools spell it: lower case, every run of other characters than letters
    and digits one ``_`` (``clip/male`` and keypoint-moseq's ``clip_male`` or ``clip-male``)."""
    import re

    return re.sub(r"[^0-9a-z]+", "_", str(name).lower()).strip("_")


def pair_labels(
    reference: Mapping, predicted: Mapping, unpaired: list | None = None
) -> tuple[dict, dict]:
    """Pair reference and predicted recordings by name (or the only one with the only one).

    Names pair when equal, else when equal after :func:`_canonical` (one candidate only), so
    keypoint-moseq's ``<stem>_<individual>`` pairs with ethogram's ``<stem>/<individual>``, else
    keypoint-moseq's ``<stem>_track<i>`` (its SLEAP names) with the i-th animal of ``<stem>``.

    Parameters
    ----------
    reference, predicted : mapping of str to ndarray (T,)
    unpaired : list, optional
        When given, the predicted names without a reference are appended to it.

    Returns
    -------
    reference, predicted : dict
        Both restricted to the paired recordings, keyed by the predicted names.

    Raises
    ------
    ValueError
        No name in common (both sides' names shown), or a pair of different lengths.
    """
    if len(reference) == 1 and len(predicted) == 1:
        pairs = [(next(iter(predicted)), next(iter(reference)))]
    else:
        canon = {}
        for k in reference:
            canon.setdefault(_canonical(k), []).append(k)
        tracks = _track_names(predicted)
        pairs = []
        for k in predicted:
            found = [k] if k in reference else canon.get(_canonical(k)) or canon.get(tracks.get(k))
            if found and len(found) == 1:
                pairs.append((k, found[0]))
            elif unpaired is not None:
                unpaired.append(k)
        if not pairs:
            raise ValueError(
                f"no recording names in common: results {list(predicted)[:5]}, "
                f"labels {list(reference)[:5]}"
            )
    ref, pred = {}, {}
    for kp, kr in pairs:
        a, b = np.asarray(reference[kr]), np.asarray(predicted[kp])
        if a.shape != b.shape:
            raise ValueError(
                f"recording {kp!r}: {b.size} frames in the results but {a.size} reference labels"
            )
        ref[kp], pred[kp] = a, b
    return ref, pred


def compare_durations(reference: Mapping, predicted: Mapping, mapping: dict, fps=None):
    """Syllable durations under two labellings of the same recordings.

    Parameters
    ----------
    reference, predicted : mapping of str to ndarray of int (T,)
        The same recordings (e.g. from :func:`pair_labels`); -1 = none. Each labelling's
        instances are its own runs (frames labelled on one side only count on that side).
    mapping : dict of int to int
        Predicted syllable -> matched reference label (:attr:`LabelComparison.mapping`).
    fps : float or mapping of str to float, optional
        For durations in seconds (NaN without).

    Returns
    -------
    pandas.DataFrame
        First row ``reference = syllable = "all"`` (every instance), then one row per matched
        pair: ``reference``, ``syllable``, ``reference_instances``, ``syllable_instances``,
        ``reference_median_frames``, ``syllable_median_frames``, ``reference_median_s``,
        ``syllable_median_s`` (medians over instances).
    """
    import pandas as pd

    from .tables import syllable_durations

    rates = {k: (fps.get(k) if isinstance(fps, Mapping) else fps) for k in predicted}
    ref = syllable_durations({k: np.asarray(reference[k]) for k in predicted}, rates)
    pred = syllable_durations(dict(predicted), rates)

    def median(table, column):
        return float(table[column].median()) if len(table) else np.nan

    def row(a, b, ref_label, syllable):
        return {
            "reference": ref_label,
            "syllable": syllable,
            "reference_instances": len(a),
            "syllable_instances": len(b),
            "reference_median_frames": median(a, "duration_frames"),
            "syllable_median_frames": median(b, "duration_frames"),
            "reference_median_s": median(a, "duration_s"),
            "syllable_median_s": median(b, "duration_s"),
        }

    rows = [row(ref, pred, "all", "all")]
    for syl, lab in sorted(mapping.items(), key=lambda kv: kv[1]):
        rows.append(
            row(ref[ref["syllable"] == lab], pred[pred["syllable"] == syl], str(lab), str(syl))
        )
    return pd.DataFrame(rows)
