"""What the report finds in the fit's folder: the results file, movies, other commands' outputs.

Kept apart from what the report says about the fit (:mod:`ethogram.viz._report_data`): here are
the search for the results file in a folder, and the discovery of the outputs other commands
left beside it (movies, and why a syllable has none; comparison, statistics and selection tables
and plots), which are linked or copied into the report so that the folder stands alone. Only
what those commands write for this fit is taken, by their folders and file names: the report is
zipped and sent, so nothing else in the folder (other projects' files) may ride along.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import numpy as np

_MOVIE_RE = re.compile(r"(?:syllable|syl)[ _\-]?(\d+)", re.IGNORECASE)


_KINDS = ("crowd", "grid", "skeleton")


#: the files each command writes into its folder, by the folder it writes by default: the one
#: list, which cli/compare.py (its first three: with annotations; the rest: with labels) and
#: cli/stats.py write by, and the report copies by (nothing else is copied in)
OUTPUTS = {
    "compare": (
        "annotations_summary.csv",
        "annotations_coverage.csv",
        "annotations_confusion.csv",
        "labels_scores.csv",
        "labels_confusion.csv",
        "labels_mapping.csv",
        "labels_durations.csv",
    ),
    "stats": ("group_stats.csv", "per_recording.csv", "usage.png", "duration.png"),
    "selection": (
        "selection.csv",
        "selection_summary.csv",
        "heldout_ll.png",
        "kappa_search.csv",
        "kappa_search.png",
        "durations.png",
        "stability.csv",
        "stability_agreement.csv",
        "stability.png",
        "dendrogram.png",
    ),
}
#: files that mark a folder as a command's output when it is not in its default place (``-o``):
#: one of these sets whole
_SIGNATURES = {
    "compare": (OUTPUTS["compare"][:3], OUTPUTS["compare"][3:]),
    "stats": (OUTPUTS["stats"],),
    "selection": (("selection.csv", "selection_summary.csv"),),
}
#: the manifests ``ethogram movies`` writes beside its movies (``movies.csv`` marks the folder)
MOVIE_MANIFESTS = ("movies.csv", "instances.csv", "skipped.csv")

#: headings for the folders the other commands write
_TITLES = {
    "compare": "Comparison with reference labels and annotations",
    "stats": "Group statistics",
    "selection": "Model selection",
}


def output_folder(results_file, command: str) -> Path:
    """Where ``ethogram COMMAND`` writes for the fit in ``results_file`` by default: the
    sub-folder ``COMMAND/`` of the fit's own folder (its file is ``results.h5``), else
    ``<stem>_COMMAND/`` beside the file (as its ``<stem>_csv/``), so that two results files in
    one folder never share a report, movies, statistics or comparison.

    Parameters
    ----------
    results_file : str or Path
        The fit's results file (``.h5``).
    command : str
        "report", "movies", "compare", "stats" or "nwb".

    Returns
    -------
    Path
    """
    p = Path(results_file)
    return p.parent / (command if p.name == "results.h5" else f"{p.stem}_{command}")


def _owned(sub: Path, results_file: Path) -> bool:
    """Whether the sub-folder ``sub`` of the results' folder belongs to this fit: every one
    when the folder is the fit's own (its file is ``results.h5``), else only those named after
    the file (``<stem>_...``, ``<stem>.…``)."""
    stem = results_file.stem
    return results_file.name == "results.h5" or sub.name.startswith((stem + "_", stem + "."))


def _is_output(sub: Path) -> bool:
    """Not a hidden folder (a report being built) nor another report."""
    return not sub.name.startswith(".") and not (sub / "index.html").exists()


def _movie_folders(fit_dir: Path, results_file: Path | None) -> list:
    """The folders whose movies are this fit's (see :func:`_owned`): ``movies/`` in the fit's
    own folder (where ``ethogram movies`` writes by default) and the fit's sub-folders holding
    its manifest ``movies.csv`` (``<stem>_movies/`` beside any other results file)."""
    out = []
    for sub in sorted(p for p in fit_dir.iterdir() if p.is_dir() and _is_output(p)):
        mine = results_file is None or _owned(sub, results_file)
        if mine and (sub.name == "movies" or (sub / "movies.csv").is_file()):
            out.append(sub)
    return out


def _output_folders(fit_dir: Path, results_file: Path) -> list:
    """``[(folder, command)]``: the sub-folders of ``fit_dir`` that ``ethogram compare``,
    ``stats`` or ``select`` wrote for this fit (see :func:`_owned`): their default folders in
    the fit's own folder, and the fit's folders holding one of a command's :data:`_SIGNATURES`
    whole (``<stem>_stats/`` beside any other results file)."""
    out = []
    for sub in sorted(p for p in fit_dir.iterdir() if p.is_dir() and _is_output(p)):
        if not _owned(sub, results_file):
            continue
        if sub.name in OUTPUTS:
            out.append((sub, sub.name))
            continue
        for command, sets in _SIGNATURES.items():
            if any(all((sub / n).is_file() for n in names) for names in sets):
                out.append((sub, command))
                break
    return out


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
            "give the folder 'ethogram fit -o' wrote, or its results file"
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


def _link_or_copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    if dst.exists():
        dst.unlink()
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def collect_movies(fit_dir: Path, report_dir: Path, results_file: Path | None = None) -> dict:
    """This fit's movies (``*.mp4``), copied into ``report_dir/movies``.

    Only from the folders ``ethogram movies`` writes (:func:`_movie_folders`: ``movies/`` and
    this fit's sub-folders holding its ``movies.csv``), never from other sub-folders.
    Returns ``{"by_syllable": {k: [(kind, relative path), ...]}, "other": [(title, relative
    path)], "manifests": [(name, relative path)], "folders": {source folders}}``; the syllable
    is read from the file name (``grid_syllable_03``, ``syllable3``, ``syl-3``), the kind
    (crowd, grid, skeleton) from the file or folder name; the manifests ``movies.csv``,
    ``instances.csv`` and ``skipped.csv`` beside the movies are copied too.
    """
    by_syl, other, manifests = {}, [], []
    report_dir = report_dir.resolve()
    folders = set()
    sources = [
        src for d in _movie_folders(fit_dir, results_file) for src in sorted(d.glob("*.mp4"))
    ]
    for src in sources:
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
        for name in MOVIE_MANIFESTS:
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
    """The comparison, statistics and selection outputs beside the results: plots and tables.

    Only the files ``ethogram compare``, ``stats`` and ``select`` write (:data:`OUTPUTS`), in
    the folders they wrote (:func:`_output_folders`), are copied into ``report_dir/extra``;
    anything else in the results' folder (other CSV files, other projects' folders) is neither
    copied nor linked. CSV files are shown as tables (at most ``max_rows`` rows). Folders in
    ``skip`` (e.g. the movies' folders) are left out. Returns one dict per folder: ``title``,
    ``anchor``, ``images`` (list of (name, relative path)), ``tables`` (list of (name,
    relative path, header, rows, truncated)).
    """
    sections = []
    skip = {Path(f) for f in skip}
    for sub, command in _output_folders(fit_dir, results_file):
        if any(f == sub or sub in f.parents for f in skip):
            continue
        images, tables = [], []
        for name in sorted(OUTPUTS[command]):
            src = sub / name
            if not src.is_file():
                continue
            rel = src.relative_to(fit_dir)
            dst_rel = Path("extra") / Path(*[_safe(p) for p in rel.parts])
            _link_or_copy(src, report_dir / dst_rel)
            if src.suffix.lower() == ".csv":
                tables.append(_table(src, rel, dst_rel, max_rows))
            else:
                images.append((str(rel), dst_rel.as_posix()))
        if images or tables:
            title = _TITLES[command]
            sections.append(
                {
                    "title": f"{title} ({sub.name}/)",
                    "anchor": "extra-" + _safe(sub.name),
                    "images": images,
                    "tables": tables,
                }
            )
    return sections


def _table(src: Path, rel: Path, dst_rel: Path, max_rows: int) -> tuple:
    """``(name, relative path, header, rows, truncated)`` of a CSV output shown in the report
    (an unreadable one is still linked, just not shown)."""
    import pandas as pd

    try:
        df = pd.read_csv(src)
    except Exception:
        return (str(rel), dst_rel.as_posix(), [], [], False)
    rows = [[_fmt(v) for v in row] for row in df.head(max_rows).itertuples(index=False)]
    return (str(rel), dst_rel.as_posix(), [str(c) for c in df.columns], rows, len(df) > max_rows)


def _fmt(v) -> str:
    if isinstance(v, (float, np.floating)):
        if not np.isfinite(v):
            return ""
        a = abs(float(v))
        if a != 0 and (a < 1e-3 or a >= 1e6):
            return f"{float(v):.3g}"
        return f"{float(v):.4g}"
    return str(v)


def movies_argument(results_file: Path) -> str:
    """What to give ``ethogram movies`` for the fit in ``results_file``, usable from any folder:
    the absolute path of its folder when the file is ``results.h5`` (which the command finds
    there), else of the file; in double quotes when the shell would split it."""
    import shlex

    path = Path(results_file).resolve()
    text = str(path.parent if path.name == "results.h5" else path)
    return text if shlex.quote(text) == text else '"' + text.replace('"', '\\"') + '"'


def movie_notes(fit_dir: Path, movies: dict, order, results_file: Path | None = None) -> dict:
    """Why each syllable of ``order`` without a movie has none: ``{syllable: sentence}``.

    From the ``skipped.csv`` that ``ethogram movies`` writes beside its movies (no instance
    long enough, or none in the recordings with a video); otherwise the syllable was not asked
    for, or no movie was made for this fit at all. The command that makes them names the fit by
    its full path (:func:`movies_argument` of ``results_file``; default
    ``fit_dir/results.h5``).
    """
    import pandas as pd

    target = movies_argument(Path(fit_dir) / "results.h5" if results_file is None else results_file)

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
                f"'ethogram movies {target} --syllables {k}{video}' makes one."
            )
        else:
            out[k] = f"No movie: none made for this fit; 'ethogram movies {target}' makes them."
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
