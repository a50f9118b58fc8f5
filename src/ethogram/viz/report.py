"""The HTML report of a fit: one folder with ``index.html``, its plots, tables and movies.

This room assembles and writes the page. :func:`write_report` reads a results file (or the
output folder of ``ethogram fit``), has the plots drawn (:mod:`ethogram.viz._report_plots`, in
worker processes when asked), the syllable tables written as CSV and the fit's words gathered
(:mod:`ethogram.viz._report_data`), the movies and the comparison and statistics outputs the
other commands wrote for this fit copied in (:mod:`ethogram.viz._report_files`), and renders
``index.html`` with Jinja2 from the package's ``templates/`` (its pieces:
:mod:`ethogram.viz._report_markup`).
Every link is relative and points inside the report folder, so the folder can be zipped and
sent. Syllables appear in usage order throughout. The report is built in a hidden folder beside
its destination and moved in only when complete; an earlier report there is replaced only with
``overwrite=True`` (``--overwrite``), and stays whole when the new one fails.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np

from .._files import built_beside
from ._common import frequency_order, syllable_colors
from ._report_markup import hex_color, options_markup, syllable_cards, table_rows
from ._report_plots import (
    MAX_RECORDING_PLOTS,
    WINDOW_SECONDS,
    masked_in_plots,
    plot_jobs,
    run_plot_jobs,
)

__all__ = ["write_report", "plot_jobs", "existing_report"]

#: the report's own folders, replaced as a whole when a report is written again
REPORT_FOLDERS = ("plots", "tables", "movies", "extra")
#: everything a report writes into its folder (other files there are the user's and are kept)
REPORT_ITEMS = ("index.html",) + REPORT_FOLDERS


def existing_report(out_dir) -> list:
    """The parts of an earlier report in ``out_dir``: ``index.html`` and its folders, as found.

    Parameters
    ----------
    out_dir : str or Path

    Returns
    -------
    list of Path
        Empty when ``out_dir`` holds no report (or does not exist).
    """
    out_dir = Path(out_dir).expanduser()
    return [out_dir / name for name in REPORT_ITEMS if os.path.lexists(out_dir / name)]


def write_report(
    results_path,
    out_dir=None,
    *,
    num_workers: int = 1,
    progress=None,
    trajectories: bool = True,
    pre: int = 5,
    post: int = 15,
    num_samples: int = 40,
    seed: int = 0,
    extras: bool = True,
    overwrite: bool = False,
    argument_names: dict | None = None,
) -> Path:
    """Write the HTML report of a fit.

    Parameters
    ----------
    results_path : str, Path or Results
        A results file, the output folder of ``ethogram fit`` (its ``results.h5``, or its
        only ``.h5`` file), or a :class:`ethogram.results.Results` already loaded.
    out_dir : str or Path, optional
        Report folder (default: ``report/`` beside a ``results.h5``, ``<stem>_report/``
        beside any other results file, e.g. ``fit_report/`` for ``fit.h5``). It is built in
        a hidden folder beside it and moved in only when complete (a failure leaves nothing
        new and an earlier report whole); other files in the folder are kept.
    num_workers : int, default 1
        Processes drawing the plots (1 = in this process).
    progress : bool, optional
        Progress bar over the plots (default: when stderr is a terminal).
    trajectories : bool, default True
        Draw syllable trajectory plots when the results hold keypoints, centroids and headings.
    pre, post, num_samples, seed : int
        Window (frames before and after onset), instances per syllable and seed of the
        trajectory plots (:func:`ethogram.viz.syllable_trajectories`).
    extras : bool, default True
        Copy in and show this fit's movies and the outputs of ``ethogram compare``, ``stats``
        and ``select`` found in sub-folders of the results' folder (only the files those
        commands write, in the folders they write; nothing else there is copied).
    overwrite : bool, default False
        Replace an earlier report in ``out_dir`` (its ``index.html``, ``plots/``, ``tables/``,
        ``movies/`` and ``extra/``); without it an earlier report is refused before any work.
    argument_names : dict of str -> str, optional
        How the advice of the fit's warnings names the arguments of a fit made by the
        ``ethogram`` command (its options, which ``ethogram report`` passes; default: their
        Python names; :class:`ethogram.errors.Worded`).

    Returns
    -------
    Path
        ``out_dir / "index.html"``.

    Raises
    ------
    FileNotFoundError
        If no results file is found at ``results_path``.
    ValueError
        If ``num_workers`` is not a positive integer or ``out_dir`` is a file.
    FileExistsError
        If ``out_dir`` holds an earlier report and ``overwrite`` is False.
    """
    t_start = time.perf_counter()
    if (
        isinstance(num_workers, bool)
        or not isinstance(num_workers, (int, np.integer))
        or num_workers < 1
    ):
        raise ValueError(f"num_workers must be a positive integer, got {num_workers!r}")
    results, rfile, final = _report_target(results_path, out_dir, overwrite)
    if progress is None:
        progress = bool(getattr(sys.stderr, "isatty", lambda: False)())
    # built in a hidden folder beside the destination, moved in only when complete: a failed
    # report leaves nothing half-written, and an earlier report whole
    with built_beside(final) as build:
        html = _build(
            results,
            rfile,
            build,
            num_workers,
            progress,
            trajectories,
            pre,
            post,
            num_samples,
            seed,
            extras,
            t_start,
            argument_names,
        )
        (build / "index.html").write_text(html, encoding="utf-8")
        _move_in(build, final)
    return final / "index.html"


def _report_target(results_path, out_dir, overwrite: bool):
    """``(results, results file, report folder)``: the results loaded (or None when they are
    not yet), the file they come from, and the folder the report goes to, checked to hold no
    earlier report unless ``overwrite``."""
    from . import _report_files as rf

    if hasattr(results_path, "recordings") and hasattr(results_path, "model"):
        results = results_path
        rfile = Path(results.path) if getattr(results, "path", None) else None
    else:
        results = None
        rfile = rf.find_results_file(results_path)
    if out_dir is None:
        if rfile is None:
            raise ValueError(
                "out_dir is needed when results_path is a Results object without a path"
            )
        out_dir = rf.output_folder(rfile, "report")
    final = Path(out_dir).expanduser()
    if final.exists() and not final.is_dir():
        raise ValueError(f"out_dir {str(final)!r} is a file; give a folder for the report")
    earlier = existing_report(final)
    if earlier and not overwrite:
        from ..errors import OutputExistsError

        raise OutputExistsError(
            f"{str(final)!r} holds an earlier report ({', '.join(p.name for p in earlier)}); pass "
            "{overwrite:True} to replace it, or write elsewhere with {out_dir}",
            ("overwrite", "out_dir"),
        )
    if results is None:
        from ..results import load_results

        results = load_results(rfile)
    return results, rfile, final


def _move_in(build: Path, final: Path) -> None:
    """Move a complete report from ``build`` into ``final``, replacing an earlier report there.

    A new folder is one rename. Otherwise the earlier report's items are renamed aside (its
    page first, so it never links to a missing file), the new ones renamed in (the page last,
    so it appears only with everything it links to), and the earlier ones deleted; if a rename
    fails, the earlier report is put back.
    """
    if not final.exists():
        os.replace(build, final)
        return
    from .._files import swap_items

    swap_items(
        build,
        final,
        REPORT_ITEMS,
        sorted((p.name for p in build.iterdir()), key=lambda n: n == "index.html"),
    )
    build.rmdir()


def _build(
    results,
    rfile,
    out_dir: Path,
    num_workers,
    progress,
    trajectories,
    pre,
    post,
    num_samples,
    seed,
    extras,
    t_start,
    argument_names=None,
) -> str:
    """Write tables, plots and copies into ``out_dir``; return the page's HTML."""
    import jinja2

    from .._version import __version__
    from . import _report_data as rd
    from . import _report_files as rf

    K = int(results.num_states)

    tables = rd.syllable_tables(results, out_dir / "tables")
    summ = tables["summary"]
    inst = summ["instances"].to_numpy()
    order = [int(k) for k in frequency_order(inst) if inst[k] > 0]

    recs = results.recordings
    unit, traj, counts = _trajectories(results, trajectories, pre, post, num_samples, seed)
    jobs = plot_jobs(results, order, traj, counts, pre=pre, units=unit)
    run_plot_jobs(jobs, out_dir, int(num_workers), bool(progress))
    done = {rel for _, _, rel in jobs}

    movies = {"by_syllable": {}, "other": [], "manifests": [], "folders": set()}
    extra_sections = []
    if extras and rfile is not None:
        movies = rf.collect_movies(rfile.parent, out_dir, rfile)
        extra_sections = rf.collect_extras(rfile.parent, out_dir, rfile, skip=movies["folders"])

    colors = syllable_colors(K)
    notes = (
        rf.movie_notes(rfile.parent, movies, order, rfile) if extras and rfile is not None else None
    )
    dsum = tables["durations"]
    trans = tables["transitions"]
    usage = tables["usage"]
    ctx = {
        "title": f"ethogram report: {rfile.parent.name if rfile is not None else 'fit'}",
        "results_name": rfile.name if rfile is not None else "",
        "summary": rd.fit_summary(results),
        "captions": dict(rd.method_captions(results), masked=masked_in_plots(results)),
        "warnings": rd.quality_warnings(results, argument_names),
        "notes": rd.data_notes(results, argument_names),
        "applied": rd.applied_model(results),
        "recordings": rd.recordings_table(results),
        "order": order,
        "colors": {k: hex_color(colors[k]) for k in range(K)},
        "summary_header": [c.replace("_", " ") for c in summ.columns],
        "summary_rows": list(zip(order, table_rows(summ, order))),
        "duration_unit": tables["duration_unit"],
        "durations_header": list(dsum.columns),
        "durations_rows": list(zip(order, table_rows(dsum, order))),
        "transition_cols": order,
        "transition_rows": [
            (k, [(j, float(np.nan_to_num(trans.loc[k, j], nan=0.0))) for j in order]) for k in order
        ],
        "usage_rows": [
            (name, [float(np.nan_to_num(usage.loc[name, k], nan=0.0)) for k in order])
            for name in usage.index
        ],
        "csv": {k: "tables/" + v for k, v in tables["csv"].items()},
        "plots": done,
        "recording_plots": [
            (
                rec.name,
                f"plots/data_{i}.png",
                f"plots/probabilities_{i}.png" if f"plots/probabilities_{i}.png" in done else None,
            )
            for i, rec in enumerate(recs[:MAX_RECORDING_PLOTS])
        ],
        "more_recordings": max(0, len(recs) - MAX_RECORDING_PLOTS),
        "window_seconds": WINDOW_SECONDS,
        "cards": syllable_cards(results, tables, order, done, movies, traj is not None, notes),
        "units": unit,
        "preparation": rd.preparation_rows(results),
        "other_movies": movies["other"],
        "movie_manifests": movies["manifests"],
        "num_movies": sum(len(v) for v in movies["by_syllable"].values()) + len(movies["other"]),
        "extras": extra_sections,
        "config": rd.config_rows(results),
        "versions": rd.version_rows(results),
        "ethogram_version": __version__,
        "generated": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "num_states": K,
        "trajectory_window": (pre, post),
        "trajectory_samples": num_samples,
    }
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(Path(__file__).parent / "templates")),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["options"] = options_markup
    return env.get_template("report.html.j2").render(**ctx, seconds=time.perf_counter() - t_start)


def _trajectories(results, trajectories: bool, pre, post, num_samples, seed):
    """``(unit, trajectories, instances)`` of the report's trajectory plots (both None when not
    drawn: not asked for, or a recording lacks keypoints, centroid or heading)."""
    from . import _report_data as rd

    recs = results.recordings
    scales, unit = rd.length_scales(results)
    if not (
        trajectories
        and recs
        and all(
            r.keypoints is not None and r.centroid is not None and r.heading is not None
            for r in recs
        )
    ):
        return unit, None, None
    from .trajectories import syllable_trajectories

    # in millimetres when every recording has a scale (averaged across recordings of
    # different scales), else in pixels
    per = scales or [1.0] * len(recs)
    kps = [np.asarray(r.keypoints, dtype=float) / s for r, s in zip(recs, per)]
    cents = [np.asarray(r.centroid, dtype=float) / s for r, s in zip(recs, per)]
    traj, counts = syllable_trajectories(
        kps,
        cents,
        [r.heading for r in recs],
        [r.syllables for r in recs],
        num_states=int(results.num_states),
        pre=pre,
        post=post,
        num_samples=num_samples,
        seed=seed,
    )
    return unit, traj, counts
