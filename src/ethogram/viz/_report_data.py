"""What the report says about a fit, gathered from a results object: summary, tables, words.

Kept apart from the rendering (:mod:`ethogram.viz.report`) and from the files found beside the
fit (:mod:`ethogram.viz._report_files`): here are the fit summary and its warnings, the
recordings, the syllable tables (from :mod:`ethogram.analysis`, also written as CSV), the
configuration and versions, and the preparation, frame rates and units in words.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np


def _finite(x):
    try:
        x = float(x)
    except (TypeError, ValueError):
        return None
    return x if np.isfinite(x) else None


def applied_model(results) -> dict | None:
    """For the results of ``ethogram apply`` (``config["command"] == "apply"``): the training
    recordings (``fitted_on``: names, a few then how many more) and ``model_file``; None for a
    fit."""
    cfg = dict(results.config or {})
    if cfg.get("command") != "apply":
        return None
    names = [
        str(r.get("name", "?")) if isinstance(r, dict) else str(r)
        for r in (cfg.get("fitted_on") or [])
    ]
    shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    return {
        "fitted_on": shown or "recordings not recorded in the file",
        "num_fitted_on": len(names),
        "model_file": str(cfg.get("model_file") or ""),
    }


def objective_frames(results) -> int | None:
    """The frames the EM objective was summed over: the fit's ``usable_frames``; for a fit
    without it, the usable frames of its recordings; None for applied results without it (their
    recordings are not the ones the model was fitted on)."""
    fit = dict(results.fit or {})
    if fit.get("usable_frames"):
        return int(fit["usable_frames"])
    if applied_model(results) is not None:
        return None
    return sum(int(np.count_nonzero(r.mask)) for r in results.recordings)


def fit_summary(results) -> list:
    """(label, value) rows describing the fit, as strings.

    For applied results (``ethogram apply``) the EM rows are the training fit's, labelled so, and
    the objective per frame is over the training fit's frames (left out when unknown)."""
    recs = results.recordings
    frames = sum(r.num_frames for r in recs)
    usable = sum(int(np.count_nonzero(r.mask)) for r in recs)
    K = int(results.num_states)
    used = np.zeros(K, dtype=bool)
    for r in recs:
        z = r.syllables[r.syllables >= 0]
        used[np.unique(z)] = True
    cfg, fit = dict(results.config or {}), dict(results.fit or {})
    kappa = cfg.get("kappa_used", cfg.get("kappa"))
    if kappa is None:
        kappa = getattr(getattr(results.model, "transitions", None), "kappa", None)
    obj = np.asarray(fit.get("objectives", []), dtype=float)
    seconds = [r.num_frames / r.fps for r in recs if r.fps]
    obs_kwargs = getattr(getattr(results.model, "observations", None), "num_lags", None)
    rows = [
        ("recordings", f"{len(recs)}"),
        ("frames", f"{frames:,} ({usable:,} usable, {100.0 * usable / max(frames, 1):.1f}%)"),
    ]
    if seconds:
        rows.append(("duration", f"{sum(seconds):,.1f} s"))
    rows.append(("syllables", f"{int(used.sum())} used of K = {K}"))
    if kappa is not None:
        rows.append(("kappa (stickiness)", f"{float(kappa):.4g}"))
    if obs_kwargs is not None:
        rows.append(("autoregressive lags", f"{obs_kwargs}"))
    D = recs[0].inputs.shape[1] if recs else 0
    rows.append(("latent pose dimensions" if _is_slds(results) else "input dimensions", f"{D}"))
    applied = applied_model(results)
    training = " (training fit)" if applied else ""
    if applied:
        rows.append(
            (
                "model",
                f"fitted on {applied['fitted_on']} by 'ethogram fit', "
                "applied to these recordings by 'ethogram apply'"
                + (f" from {applied['model_file']}" if applied["model_file"] else "")
                + "; the EM numbers below are the training fit's",
            )
        )
    rows += _method_rows(cfg, fit, training)
    if "num_iters" in fit:
        conv = fit.get("converged")
        rows.append(
            (
                f"EM iterations{training}",
                f"{int(fit['num_iters'])}"
                + ("" if conv is None else (" (converged)" if conv else " (not converged)")),
            )
        )
    if obj.size:
        n_obj = objective_frames(results)
        per = (
            f" ({obj[-1] / n_obj:.4f} per usable {'training ' if applied else ''}frame)"
            if n_obj
            else ""
        )
        rows.append((f"final objective{training}", f"{obj[-1]:,.2f}{per}"))
    ro = np.asarray(fit.get("restart_objectives", []), dtype=float)
    if ro.size > 1:
        rows.append(
            (
                f"restarts{training}",
                f"{ro.size} (kept #{int(fit.get('chosen_restart', int(np.argmax(ro))))}; "
                f"finals {', '.join(f'{v:,.1f}' for v in ro)})",
            )
        )
    if results.created:
        rows.append(("created", str(results.created)))
    if cfg.get("command"):
        rows.append(("command", str(cfg["command"])))
    return rows


def _method_rows(cfg: dict, fit: dict, training: str) -> list:
    """The rows naming the fit's model (every method's) and a Gibbs fit's sweeps (EM's
    iterations follow)."""
    from ..pipeline.methods import MODEL_NAMES, sweeps_text

    method = cfg.get("method", "em")
    rows = [("method", f"{method}: {MODEL_NAMES.get(method, method)}")]
    sweeps = sweeps_text(cfg, fit)
    if sweeps is None:
        return rows
    final = np.asarray(fit.get("log_joint", []), dtype=float)
    last = f"; final log joint {final[-1]:,.2f}" if final.size else ""
    return rows + [(f"sampling{training}", sweeps + last)]


#: the captions of the report's figures whose words depend on the fitting method
_CAPTIONS = {
    "log_joint": {
        "gibbs-arhmm": "Gibbs sampling of the sticky HDP-ARHMM: the log joint after each sweep, "
        "the syllables' (z) and the inputs' under their syllables' AR models (x) summed "
        "(jax-moseq's model_likelihood groups).",
        "keypoint-slds": "Gibbs sampling of the keypoint SLDS: the log joint after each sweep, "
        "jax-moseq's model_likelihood groups (syllables z, latent pose x, keypoints Y, noise "
        "scales s, centroid v) summed; shaded: the AR-only stage, which samples the syllables "
        "and AR parameters only (the pose, centroid, heading and noise keep their start, so "
        "their terms are constant there).",
    },
    "over_time": {
        "em": "The model's inputs (standardized principal components)",
        "gibbs-arhmm": "The preparation's inputs (standardized principal components; the model "
        "sees them whitened)",
        "keypoint-slds": "The keypoint SLDS's latent pose (the last sample; no frame is masked)",
    },
}


def method_captions(results) -> dict:
    """The captions that depend on the fitting method (``config["method"]``): ``log_joint``
    (the Gibbs trace; ``""`` for EM, which has none) and ``over_time`` (what the inputs plot
    draws, without its end)."""
    method = (results.config or {}).get("method", "em")
    log_joint = _CAPTIONS["log_joint"].get(method, "")
    if log_joint and applied_model(results) is not None:
        log_joint += " From the training fit ('ethogram fit'); these recordings were only labelled."
    over_time = _CAPTIONS["over_time"].get(method, _CAPTIONS["over_time"]["em"])
    return {"log_joint": log_joint, "over_time": over_time}


def quality_warnings(results, names: dict | None = None) -> list:
    """The fit's warnings (:func:`ethogram.analysis.diagnostics.results_quality_warnings`), one
    string each, worded by :func:`_worded`."""
    from ..analysis.diagnostics import results_quality_warnings

    return _worded(results_quality_warnings(results), results, names)


def data_notes(results, names: dict | None = None) -> list:
    """The notes on the fit's data the command line's summary prints (too few usable frames,
    sparse recordings: :func:`ethogram.analysis._data_notes.data_notes`), one string each,
    worded by :func:`_worded`; the report shows them after the warnings, as notes."""
    from ..analysis._data_notes import data_notes as notes

    return _worded(notes(results), results, names)


def _worded(signs, results, names: dict | None) -> list:
    """``signs`` naming their arguments by ``names`` (the command line's options) when the
    results came from the ``ethogram`` command (their configuration holds its ``argv``) and by
    their Python names otherwise."""
    names = names if "argv" in (results.config or {}) else None
    return [w.worded(names) for w in signs]


def recordings_table(results) -> list:
    """One dict per recording: name, frames, fps, duration, usable share, source."""
    out = []
    for r in results.recordings:
        usable = int(np.count_nonzero(r.mask))
        out.append(
            {
                "name": r.name,
                "frames": r.num_frames,
                "fps": "" if r.fps is None else f"{r.fps:g}",
                "duration": "" if not r.fps else f"{r.num_frames / r.fps:,.1f} s",
                "usable": f"{100.0 * usable / max(r.num_frames, 1):.1f}%",
                "source": os.path.basename(r.source) if r.source else "",
            }
        )
    return out


def syllable_tables(results, tables_dir: Path) -> dict:
    """The syllable tables (pandas, from :mod:`ethogram.analysis`), written as CSV.

    ``tables_dir`` gets the files of the fit's ``results_tables/``
    (:func:`ethogram.results.csv_files.syllable_tables`: same names, columns and values) and two
    of the report's own: ``durations_summary.csv`` and ``transitions_rows.csv``. Returns a dict
    with DataFrames ``summary``, ``usage`` (recording x syllable), ``durations`` (per-syllable
    statistics in seconds), ``transitions`` (rows-normalised bigram probabilities, self
    excluded), ``bigrams`` (counts) and ``csv`` (name -> file name).
    """
    import pandas as pd

    from ..analysis import transition_probabilities
    from ..results.csv_files import syllable_tables as fit_tables
    from ..results.csv_files import write_tables

    labels = results.syllables()
    K = int(results.num_states)
    shared = fit_tables(results)
    fps_known = all(r.fps is not None for r in results.recordings)
    summary, usage_long, durs = shared["summary"], shared["usage"], shared["durations"]
    usage = usage_long.pivot(index="recording", columns="syllable", values="usage").reindex(
        list(labels)
    )
    col = "duration_s" if fps_known else "duration_frames"
    g = durs.groupby("syllable")[col]
    dsum = pd.DataFrame(
        {
            "instances": g.size(),
            "mean": g.mean(),
            "median": g.median(),
            "q25": g.quantile(0.25),
            "q75": g.quantile(0.75),
            "min": g.min(),
            "max": g.max(),
        }
    ).reindex(np.arange(K))
    dsum.index.name = "syllable"
    dsum["instances"] = dsum["instances"].fillna(0).astype(int)
    trans = transition_probabilities(labels, num_states=K, normalize="rows")
    csv = write_tables(tables_dir, {**shared, "durations_summary": dsum, "transitions_rows": trans})
    return {
        "summary": summary,
        "usage": usage,
        "durations": dsum,
        "duration_unit": "s" if fps_known else "frames",
        "transitions": trans,
        "bigrams": shared["bigrams"],
        "csv": csv,
    }


def config_rows(results) -> list:
    """(key, pretty JSON) rows of the fit's configuration."""
    rows = []
    for k, v in (results.config or {}).items():
        if isinstance(v, (dict, list)):
            flat = isinstance(v, list) and all(not isinstance(x, (dict, list)) for x in v)
            text = json.dumps(v, default=str) if flat else json.dumps(v, indent=1, default=str)
        else:
            text = str(v)
        rows.append((str(k), text))
    return rows


def version_rows(results) -> list:
    """(library, version) rows."""
    return [(str(k), str(v)) for k, v in sorted((results.versions or {}).items())]


def length_scales(results):
    """``(scales, unit)``: pixels per millimetre of each recording and ``"mm"`` when every
    recording has a scale (``px_per_mm``), else ``(None, "px")`` (distances stay in pixels:
    recordings of different scales cannot be averaged in pixels, nor pixels mixed with mm)."""
    scales = [getattr(r, "px_per_mm", None) for r in results.recordings]
    if scales and all(s is not None and np.isfinite(s) and s > 0 for s in scales):
        return [float(s) for s in scales], "mm"
    return None, "px"


def _fps_text(recs) -> str:
    rates = sorted({r.fps for r in recs if r.fps})
    unknown = sum(1 for r in recs if not r.fps)
    text = ", ".join(f"{f:g}" for f in rates) + " fps" if rates else ""
    if unknown:
        text += f"; unknown for {unknown} recording(s)" if text else "unknown (durations in frames)"
    return text


def _units_text(results) -> str:
    scales, unit = length_scales(results)
    if unit == "mm":
        vals = sorted(set(scales))
        shown = ", ".join(f"{v:.4g}" for v in vals[:4]) + (" ..." if len(vals) > 4 else "")
        return f"millimetres ({shown} pixels per mm); angles in radians, time in seconds"
    some = [r.name for r in results.recordings if getattr(r, "px_per_mm", None)]
    why = (
        f"only {len(some)} of {len(results.recordings)} recordings have a scale"
        if some
        else "no scale in the files; give --px-per-mm to 'ethogram fit'"
    )
    return f"pixels ({why}); angles in radians, time in seconds"


def preparation_rows(results) -> list:
    """(label, value) rows saying how the recordings were prepared for the model: confidence
    threshold, outliers, gaps, body parts, heading, principal components and the variance they
    keep, standardization, frame rate and units. Empty when the results hold no preparation."""
    prep = getattr(results, "preparation", None)
    recs = results.recordings
    rows = []
    if _is_slds(results) and prep is not None:
        rows = _slds_preparation_rows(results, prep)
    elif prep is not None and getattr(prep, "kind", None) == "keypoints":
        thr = prep.confidence_threshold
        rows.append(
            (
                "confidence threshold",
                "none (every point kept)"
                if not thr
                else f"{thr:g}: keypoints tracked with a lower confidence are missing",
            )
        )
        out = prep.outlier_distance
        rows.append(
            (
                "outliers",
                "not removed"
                if out is None
                else f"keypoints farther than {out:g} body lengths "
                f"({out * prep.body_length_:.1f} px) from the frame's medoid are missing",
            )
        )
        rows.append(("gaps", f"up to {prep.max_gap} frames interpolated; longer gaps masked"))
        rows.append(("body parts", f"{len(prep.bodyparts_)}: {', '.join(prep.bodyparts_)}"))
        back, front = " + ".join(prep.posterior_), " + ".join(prep.anterior_)
        length = f"body length {prep.body_length_:.1f} px, median"
        rows.append(("heading", f"from {back} to {front} ({length})"))
        D = prep.num_inputs
        kept = float(np.sum(prep.explained_variance_ratio_[:D]))
        asked = (
            f"{prep.num_pcs} asked for"
            if prep.num_pcs
            else f"the fewest above {100 * prep.variance:g}%"
        )
        rows.append(
            (
                "principal components",
                f"{D} of the egocentric pose, keeping {100 * kept:.1f}% of its variance ({asked})",
            )
        )
    elif prep is not None and getattr(prep, "kind", None) == "features":
        D = prep.num_inputs
        rows.append(
            (
                "inputs",
                f"the first {D} of {prep.num_features_in_} feature columns"
                + (f" ({prep.num_pcs} asked for)" if prep.num_pcs else ""),
            )
        )
    if prep is not None and getattr(prep, "kind", None) and not _is_slds(results):
        rows.append(
            (
                "standardized",
                "yes: each input centred and scaled by its training standard deviation"
                if prep.standardize
                else "no",
            )
        )
    rows.append(("frame rate", _fps_text(recs)))
    rows.append(("units", _units_text(results)))
    return rows


def _is_slds(results) -> bool:
    return (results.config or {}).get("method") == "keypoint-slds"


def _slds_preparation_rows(results, prep) -> list:
    """The keypoint SLDS's rows of :func:`preparation_rows`: it gets the raw keypoints and
    confidences of the preparation's body parts and heading ends, and its own latent pose (the
    preparation's threshold only for the alignment that starts the fit; not its gaps, PCs or
    standardization)."""
    dim = getattr(results.model, "latent_dim", None)
    if dim is None and results.recordings:
        dim = results.recordings[0].inputs.shape[1]
    back, front = " + ".join(prep.posterior_), " + ".join(prep.anterior_)
    return [
        (
            "keypoints",
            "as tracked, with their confidences: every point kept, a missing or unsure one "
            "inferred (its noise set by its confidence); no frame masked",
        ),
        ("body parts", f"{len(prep.bodyparts_)}: {', '.join(prep.bodyparts_)}"),
        ("heading", f"from {back} to {front} (the start of the model's heading)"),
        (
            "latent pose",
            f"{dim} dimensions: the keypoint SLDS's own PCA of the aligned keypoints (the fewest "
            "components explaining 90% of their variance, at most 10)",
        ),
    ]


def shared_bodyparts(results, num_bodyparts: int):
    """The body-part names every recording shares (for the legends), or None."""
    names = {tuple(r.bodyparts) for r in results.recordings if r.bodyparts is not None}
    if len(names) == 1:
        (only,) = names
        if len(only) == num_bodyparts:
            return list(only)
    return None


def input_names(results, num_inputs: int) -> list:
    """Names of the model inputs for axis labels: standardized principal components of the
    egocentric pose (keypoints) or of MoSeq's depth crops, else the input columns."""
    from ..prep.preparation import PC_SCORE_FORMATS

    prep = getattr(results, "preparation", None)
    kind = getattr(prep, "kind", None)
    pcs = kind == "keypoints" or all(r.format in PC_SCORE_FORMATS for r in results.recordings)
    std = " (std.)" if prep is not None and getattr(prep, "standardize", False) else ""
    return [f"PC {d + 1}{std}" if pcs else f"input {d}{std}" for d in range(num_inputs)]
