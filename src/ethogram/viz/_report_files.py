"""What the report finds in the fit's folder: the results file, movies, other commands' outputs.

Kept apart from what the report says about the fit (:mod:`ethogram.viz._report_data`): here are
the search for the results file in a folder, and the discovery of the outputs other commands
left beside it (movies, and why a syllable has none; comparison, statistics and selection tables
and plots), which are linked or copied into the report so that the folder stands alone.
"""

from __future__ import annotations

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
