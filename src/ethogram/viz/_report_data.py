"""What the report says, gathered from a results object: summary, tables, files found beside it.

Kept apart from the rendering (:mod:`ethogram.viz.report`): here are the fit summary, the
syllable tables (from :mod:`ethogram.analysis`, also written as CSV), the preparation and units
in words, and the discovery of the outputs other commands left in the fit's folder (movies and
why a syllable has none; comparison and statistics tables and plots), which are copied into the
report so that the folder stands alone.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import numpy as np

#: sub-folders of the fit's folder never scanned for extra outputs
_SKIP_DIRS = {"report", "__pycache__"}  # (and hidden folders: reports being built)
_MOVIE_RE = re.compile(r"(?:syllable|syl)[ _\-]?(\d+)", re.IGNORECASE)
_KINDS = ("crowd", "grid", "skeleton")
#: headings for the folders the other commands write (``ethogram compare``, ``ethogram stats``)
_TITLES = {
    "compare": "Comparison with reference labels and annotations",
    "stats": "Group statistics",
    "select": "Model selection",
}


def find_results_file(path) -> Path:
    """The results file for ``path``: the file itself, or the one results file inside a folder.

    Raises
    ------
    FileNotFoundError
        If nothing is there, or a folder holds no ``.h5`` results file.
    ValueError
        If a folder holds several candidate files and none is called ``results.h5``.
    """
    p = Path(path).expanduser()
    if p.is_file():
        return p
    if not p.exists():
        raise FileNotFoundError(
            f"results path {str(p)!r} does not exist; "
            "give the output folder of 'ethogram fit' or its results file"
        )
    if (p / "results.h5").is_file():
        return p / "results.h5"
    cands = sorted(q for q in p.glob("*.h5") if q.is_file()) + sorted(
        q for q in p.glob("*.hdf5") if q.is_file()
    )
    if not cands:
        raise FileNotFoundError(
            f"no results file (.h5) in {str(p)!r}; run 'ethogram fit ... -o {p}' first"
        )
    if len(cands) > 1:
        raise ValueError(
            f"{str(p)!r} holds several .h5 files ({', '.join(q.name for q in cands)}); "
            "give the results file itself"
        )
    return cands[0]


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
    rows.append(("input dimensions", f"{D}"))
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


def quality_warnings(results, names: dict | None = None) -> list:
    """The fit's warnings (:func:`ethogram.analysis.diagnostics.results_quality_warnings`), one
    string each, naming the arguments by ``names`` (the command line's options) when the
    results came from the ``ethogram`` command (their configuration holds its ``argv``) and by
    their Python names otherwise."""
    from ..analysis.diagnostics import results_quality_warnings

    names = names if "argv" in (results.config or {}) else None
    return [w.worded(names) for w in results_quality_warnings(results)]


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


def _link_or_copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    if dst.exists():
        dst.unlink()
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def collect_movies(fit_dir: Path, report_dir: Path) -> dict:
    """Movies (``*.mp4``) under the fit's folder, copied into ``report_dir/movies``.

    Returns ``{"by_syllable": {k: [(kind, relative path), ...]}, "other": [(title, relative path)],
    "manifests": [(name, relative path)], "folders": {source folders}}``; the syllable is read
    from the file name (``grid_syllable_03``, ``syllable3``, ``syl-3``), the kind (crowd, grid,
    skeleton) from the file or folder name; the manifests ``movies.csv`` and ``instances.csv``
    beside the movies are copied too.
    """
    by_syl, other, manifests = {}, [], []
    report_dir = report_dir.resolve()
    folders = set()
    for src in sorted(fit_dir.rglob("*.mp4")):
        rs = src.resolve()
        rel_parts = src.relative_to(fit_dir).parts[:-1]
        if (
            report_dir in rs.parents
            or any(p.startswith(".") for p in rel_parts)
            or any((p / "index.html").exists() for p in src.parents if fit_dir in p.parents)
        ):
            continue  # this report's own copies, another report's, or hidden folders
        rel_src = src.relative_to(fit_dir)
        parts = [_safe(p) for p in rel_src.parts]
        dst_rel = (
            Path(*parts) if parts[0] == "movies" and len(parts) > 1 else Path("movies", *parts)
        )
        _link_or_copy(src, report_dir / dst_rel)
        folders.add((src.parent, dst_rel.parent))
        low = str(rel_src).lower()
        kind = next((k for k in _KINDS if k in low), "movie")
        m = _MOVIE_RE.search(src.stem)
        if m:
            by_syl.setdefault(int(m.group(1)), []).append((kind, dst_rel.as_posix()))
        else:
            other.append((str(rel_src), dst_rel.as_posix()))
    for src_dir, dst_dir in sorted(folders):
        for name in ("movies.csv", "instances.csv", "skipped.csv"):  # written by ethogram movies
            if (src_dir / name).is_file():
                _link_or_copy(src_dir / name, report_dir / dst_dir / name)
                manifests.append(((dst_dir / name).as_posix(), (dst_dir / name).as_posix()))
    for k in by_syl:
        by_syl[k].sort(
            key=lambda kp: (_KINDS.index(kp[0]) if kp[0] in _KINDS else len(_KINDS), kp[1])
        )
    return {
        "by_syllable": by_syl,
        "other": other,
        "manifests": manifests,
        "folders": {str(d) for d, _ in folders},
    }


def _safe(part: str) -> str:
    s = re.sub(r"[^A-Za-z0-9._\-]+", "_", part).strip("._") or "file"
    return s


def collect_extras(
    fit_dir: Path, report_dir: Path, results_file: Path, max_rows: int = 60, skip=()
) -> list:
    """Comparison and statistics outputs beside the results: PNG plots and CSV tables.

    Every sub-folder of the fit's folder except the report itself and the results' own CSV
    and tables folders is scanned (not the fit folder's top level, where the results live). PNG
    and SVG files are copied into ``report_dir/extra``; CSV files are copied too and shown as
    tables (at most ``max_rows`` rows). Folders in ``skip`` (e.g. the movies' folder) and other
    reports (folders with an ``index.html``) are left out. Returns one dict per folder:
    ``title``, ``images`` (list of (name, relative path)), ``tables`` (list of (name, relative
    path, header, rows, truncated)).
    """
    import pandas as pd

    own_csv = {
        f"{results_file.stem}_csv",
        f"{results_file.stem}_tables",
        "results_csv",
        "results_tables",
    }
    sections = []
    report_dir = report_dir.resolve()
    for sub in sorted(p for p in fit_dir.iterdir() if p.is_dir()):
        if (
            sub.name in _SKIP_DIRS
            or sub.name.startswith(".")
            or sub.name in own_csv
            or sub.resolve() == report_dir
            or (sub / "index.html").exists()
            or any(Path(f) == sub or sub in Path(f).parents for f in skip)
        ):
            continue
        images, tables = [], []
        for src in sorted(sub.rglob("*")):
            if not src.is_file() or report_dir in src.resolve().parents:
                continue
            ext = src.suffix.lower()
            if ext not in (".png", ".svg", ".csv", ".jpg", ".jpeg"):
                continue
            rel = src.relative_to(fit_dir)
            dst_rel = Path("extra") / Path(*[_safe(p) for p in rel.parts])
            _link_or_copy(src, report_dir / dst_rel)
            if ext == ".csv":
                try:
                    df = pd.read_csv(src)
                except Exception:  # an unreadable CSV is still linked, just not shown
                    tables.append((str(rel), dst_rel.as_posix(), [], [], False))
                    continue
                rows = [[_fmt(v) for v in row] for row in df.head(max_rows).itertuples(index=False)]
                tables.append(
                    (
                        str(rel),
                        dst_rel.as_posix(),
                        [str(c) for c in df.columns],
                        rows,
                        len(df) > max_rows,
                    )
                )
            else:
                images.append((str(rel), dst_rel.as_posix()))
        if images or tables:
            title = f"{_TITLES[sub.name]} ({sub.name}/)" if sub.name in _TITLES else f"{sub.name}/"
            sections.append(
                {
                    "title": title,
                    "anchor": "extra-" + _safe(sub.name),
                    "images": images,
                    "tables": tables,
                }
            )
    return sections


def _fmt(v) -> str:
    if isinstance(v, (float, np.floating)):
        if not np.isfinite(v):
            return ""
        a = abs(float(v))
        if a != 0 and (a < 1e-3 or a >= 1e6):
            return f"{float(v):.3g}"
        return f"{float(v):.4g}"
    return str(v)


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
    if prep is not None and getattr(prep, "kind", None) == "keypoints":
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
    if prep is not None and getattr(prep, "kind", None):
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


def movie_notes(fit_dir: Path, movies: dict, order) -> dict:
    """Why each syllable of ``order`` without a movie has none: ``{syllable: sentence}``.

    From the ``skipped.csv`` that ``ethogram movies`` writes beside its movies (no instance
    long enough, or none in the recordings with a video); otherwise the syllable was not asked
    for, or no movie was made for this fit at all.
    """
    import pandas as pd

    reasons = {}
    for folder in sorted({Path(d) for d in movies.get("folders", ())}):
        f = folder / "skipped.csv"
        if f.is_file():
            try:
                t = pd.read_csv(f)
            except (pd.errors.ParserError, pd.errors.EmptyDataError):
                continue
            for row in t.itertuples():
                reasons.setdefault(int(row.syllable), f"{row.kind} movie: {row.reason}")
    made = sorted(movies.get("by_syllable", {}))
    out = {}
    for k in order:
        if k in made:
            continue
        if k in reasons:
            out[k] = f"No movie: {reasons[k]}."
        elif made:
            grid = any(kind == "grid" for v in movies["by_syllable"].values() for kind, _ in v)
            video = " --video ..." if grid else ""
            out[k] = (
                f"No movie: not asked for (movies were made for syllables {_ranges(made)}); "
                f"'ethogram movies {fit_dir.name} --syllables {k}{video}' makes one."
            )
        else:
            out[k] = (
                f"No movie: none made for this fit; 'ethogram movies {fit_dir.name}' makes them."
            )
    return out


def _ranges(values) -> str:
    """``[0, 1, 2, 3, 7]`` -> ``"0-3, 7"``."""
    vals = sorted(int(v) for v in values)
    parts, start = [], None
    for i, v in enumerate(vals):
        if start is None:
            start = v
        if i + 1 == len(vals) or vals[i + 1] != v + 1:
            parts.append(f"{start}" if start == v else f"{start}-{v}")
            start = None
    return ", ".join(parts)


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
