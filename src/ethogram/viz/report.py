"""The HTML report of a fit: one folder with ``index.html``, its plots, tables and movies.

:func:`write_report` reads a results file (or the output folder of ``ethogram fit``), draws
every plot of :mod:`ethogram.viz` as PNG (in worker processes when asked), writes the
syllable tables of :mod:`ethogram.analysis` as CSV, copies the movies and the comparison and
statistics outputs found in the fit's folder, and renders ``index.html`` with Jinja2 from
the package's ``templates/``. Every link is relative and points inside the report folder, so
the folder can be zipped and sent. Syllables appear in usage order throughout. The report is
built in a hidden folder beside its destination and moved in only when complete; an earlier
report there is replaced only with ``overwrite=True`` (``--overwrite``), and stays whole when the
new one fails.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np

from .._files import built_beside
from ._common import frequency_order, syllable_colors

__all__ = ["write_report", "plot_jobs", "existing_report"]

#: at most this many recordings get their own time-series plots
MAX_RECORDING_PLOTS = 4
#: the report's own folders, replaced as a whole when a report is written again
REPORT_FOLDERS = ("plots", "tables", "movies", "extra")
#: everything a report writes into its folder (other files there are the user's and are kept)
REPORT_ITEMS = ("index.html",) + REPORT_FOLDERS
#: window of the time-series plots, seconds (frames when fps is unknown: 30 x this)
WINDOW_SECONDS = 60.0


def _plot_function(name: str):
    from . import dynamics, gibbs_plots, plots, trajectories, transitions

    return {
        "log_joint": gibbs_plots.plot_log_joint,
        "keypoint_estimates": gibbs_plots.plot_keypoint_estimates,
        "syllables_and_data": plots.plot_syllables_and_data,
        "state_probabilities": plots.plot_state_probabilities,
        "usage": plots.plot_usage,
        "durations": plots.plot_durations,
        "log_likelihood": plots.plot_log_likelihood,
        "transition_matrix": transitions.plot_transition_matrix,
        "transition_graph": transitions.plot_transition_graph,
        "trajectory": trajectories.plot_trajectory,
        "trajectories": trajectories.plot_trajectories,
        "ar_dynamics": dynamics.plot_ar_dynamics,
    }[name]


def _render(job, out_dir: str) -> str:
    """Draw one plot job and write it as PNG; returns its relative path."""
    from ._common import save_figure

    name, kwargs, rel = job
    fig = _plot_function(name)(**kwargs)
    save_figure(fig, Path(out_dir) / rel)
    fig.clear()
    return rel


def _window(rec):
    n = int(round(WINDOW_SECONDS * (rec.fps if rec.fps else 30.0)))
    return 0, min(rec.num_frames, n)


def plot_jobs(
    results, order, trajectories=None, num_instances=None, pre: int = 5, units: str = "px"
) -> list:
    """The report's plots as ``(function name, keyword arguments, relative PNG path)`` jobs.

    Parameters
    ----------
    results : ethogram.results.Results
    order : sequence of int
        Used syllables, most used first.
    trajectories : ndarray (K, L, B, 2), optional
        From :func:`ethogram.viz.syllable_trajectories`; adds the trajectory plots.
    num_instances : ndarray (K,), optional
        Instances behind each trajectory (syllables without any are skipped).
    pre : int
        Onset index in ``trajectories``.
    units : str, default "px"
        Unit of ``trajectories`` ("mm" when scaled by the recordings' pixels per mm).

    Returns
    -------
    list of tuple
    """
    from . import _report_data as rd

    K = int(results.num_states)
    labels = [r.syllables for r in results.recordings]
    fps = [r.fps for r in results.recordings]
    fps_arg = fps if all(f is not None for f in fps) else None
    n = max(len(order), 1)
    wide = (max(6.0, 0.32 * n + 2.5), 3.6)
    jobs = [
        (
            "usage",
            dict(syllables=labels, num_states=K, normalize=True, figsize=wide),
            "plots/usage.png",
        ),
        (
            "durations",
            dict(syllables=labels, fps=fps_arg, num_states=K, order=list(order), figsize=wide),
            "plots/durations.png",
        ),
    ]
    from ..analysis import syllable_usage, transition_probabilities

    labs = results.syllables()
    P = transition_probabilities(labs, num_states=K, normalize="rows").to_numpy()
    P = np.nan_to_num(P, nan=0.0)
    inst = (
        syllable_usage(labs, num_states=K)
        .groupby("syllable")["instances"]
        .sum()
        .reindex(range(K))
        .to_numpy()
    )
    side = max(5.0, min(11.0, 0.28 * n + 3.0))
    jobs.append(
        (
            "transition_matrix",
            dict(
                transition_matrix=P,
                order=list(order),
                figsize=(side + 1.0, side),
                title="transition probabilities (from labels, self excluded)",
            ),
            "plots/transition_probabilities.png",
        )
    )
    jobs.append(
        (
            "transition_matrix",
            dict(
                transition_matrix=np.asarray(results.model.transition_matrix),
                order=list(order),
                log_scale=True,
                figsize=(side + 1.0, side),
                title="model transition matrix (log10)",
            ),
            "plots/model_transition_matrix.png",
        )
    )
    jobs.append(
        (
            "transition_graph",
            dict(
                transition_matrix=P,
                usage=inst.astype(float),
                order=list(order),
                threshold=0.05 if n <= 30 else 0.1,
                figsize=(7.0, 7.0),
            ),
            "plots/transition_graph.png",
        )
    )
    obj = np.asarray((results.fit or {}).get("objectives", []), dtype=float)
    if obj.size:
        from ._report_data import applied_model, objective_frames

        mll = (results.fit or {}).get("marginal_lls")
        jobs.append(
            (
                "log_likelihood",
                dict(
                    objectives=obj,
                    marginal_lls=None if mll is None else np.asarray(mll, dtype=float),
                    per_frame=objective_frames(results),
                    title="EM objective of the training fit" if applied_model(results) else None,
                ),
                "plots/log_likelihood.png",
            )
        )
    from .gibbs_plots import gibbs_plot_jobs

    jobs += gibbs_plot_jobs(results)  # a Gibbs fit: log joint per sweep, estimated keypoints
    for i, rec in enumerate(results.recordings[:MAX_RECORDING_PLOTS]):
        a, b = _window(rec)
        # only the window travels to the worker (a = 0: the window opens the recording)
        jobs.append(
            (
                "syllables_and_data",
                dict(
                    data=rec.inputs[:b],
                    syllables=rec.syllables[:b],
                    fps=rec.fps,
                    num_states=K,
                    start=a,
                    stop=b,
                    title=f"{rec.name}: inputs and syllables",
                ),
                f"plots/data_{i}.png",
            )
        )
        if rec.expected_states is not None:
            jobs.append(
                (
                    "state_probabilities",
                    dict(
                        expected_states=np.asarray(rec.expected_states[:b], dtype=float),
                        fps=rec.fps,
                        start=a,
                        stop=b,
                        title=f"{rec.name}: state probabilities",
                        figsize=(10.0, max(3.0, 0.12 * K + 1.5)),
                    ),
                    f"plots/probabilities_{i}.png",
                )
            )
    params = results.model.get_params()
    if "emission_dynamics" in params and params["emission_dynamics"].shape[1] >= 2:
        data = np.concatenate([r.inputs for r in results.recordings])
        if (
            data.shape[0] > 20000
        ):  # enough for the extent and the grey cloud; less to send to a worker
            data = data[np.linspace(0, data.shape[0] - 1, 20000).astype(int)]
        jobs.append(
            (
                "ar_dynamics",
                dict(
                    dynamics=params["emission_dynamics"],
                    bias=params.get("emission_bias"),
                    syllables=list(order),
                    data=data,
                    ncols=4,
                    panel_size=3.0,
                    input_names=rd.input_names(results, data.shape[1]),
                ),
                "plots/ar_dynamics.png",
            )
        )
    if trajectories is not None:
        shown = [k for k in order if num_instances is None or num_instances[k] > 0]
        if shown:
            bodyparts = rd.shared_bodyparts(results, trajectories.shape[2])
            jobs.append(
                (
                    "trajectories",
                    dict(
                        trajectories=trajectories,
                        syllables=shown,
                        pre=pre,
                        ncols=6,
                        bodyparts=bodyparts,
                        units=units,
                    ),
                    "plots/trajectories.png",
                )
            )
            from .trajectories import _limits, skeleton_edges

            lims = _limits(trajectories[shown, pre:])
            edges = skeleton_edges(trajectories[shown])
            for k in shown:
                kw = dict(
                    trajectory=trajectories[k],
                    syllable=k,
                    num_states=K,
                    pre=pre,
                    edges=edges,
                    lims=lims,
                    bodyparts=bodyparts,
                    units=units,
                )
                jobs.append(("trajectory", kw, f"plots/trajectory_{k}.png"))
    return jobs


#: plots drawn first in parallel runs (the big multi-panel figures), so no worker waits on one at
#: the end
_SLOW_FIRST = (
    "ar_dynamics",
    "trajectories",
    "transition_graph",
    "transition_matrix",
    "state_probabilities",
)


def _start_method() -> str:
    """fork when this process runs no other thread (workers then inherit the imports), else
    forkserver/spawn."""
    import multiprocessing as mp
    import threading

    methods = mp.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return "fork"
    return "forkserver" if "forkserver" in methods else "spawn"


def _run_jobs(jobs, out_dir: Path, num_workers: int, progress: bool) -> None:
    from tqdm.auto import tqdm

    if num_workers <= 1 or len(jobs) <= 1:
        with tqdm(total=len(jobs), desc="report plots", unit="plot", disable=not progress) as bar:
            for job in jobs:
                _render(job, str(out_dir))
                bar.update()
        return
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed

    import matplotlib.figure  # noqa: F401  (imported once here, inherited by forked workers)
    from matplotlib.backends import backend_agg  # noqa: F401

    rank = {name: i for i, name in enumerate(_SLOW_FIRST)}
    ordered = sorted(jobs, key=lambda j: rank.get(j[0], len(rank)))
    with ProcessPoolExecutor(
        max_workers=min(num_workers, len(jobs)), mp_context=mp.get_context(_start_method())
    ) as pool:
        futures = [
            pool.submit(_render, job, str(out_dir)) for job in ordered
        ]  # workers start before the bar's thread
        with tqdm(total=len(jobs), desc="report plots", unit="plot", disable=not progress) as bar:
            for fut in as_completed(futures):
                fut.result()
                bar.update()


def _hex(c) -> str:
    return "#%02x%02x%02x" % tuple(int(round(255 * v)) for v in c[:3])


def _syllable_cards(results, tables, order, plots_done, movies, trajectories_ok, movie_notes=None):
    summ = tables["summary"]
    trans = tables["transitions"].to_numpy()
    colors = syllable_colors(int(results.num_states))
    cards = []
    for k in order:
        row = summ.loc[k]
        nxt = []
        if np.isfinite(trans[k]).any():
            p = np.nan_to_num(trans[k], nan=0.0)
            for j in np.argsort(-p, kind="stable")[:3]:
                if p[j] > 0:
                    lum = 0.299 * colors[j][0] + 0.587 * colors[j][1] + 0.114 * colors[j][2]
                    nxt.append(
                        {
                            "syllable": int(j),
                            "p": f"{100 * p[j]:.0f}%",
                            "color": _hex(colors[j]),
                            "text": "#111" if lum > 0.6 else "#fff",
                        }
                    )
        facts = [
            ("instances", f"{int(row['instances'])}"),
            ("frequency", f"{100 * float(row['frequency']):.1f}%"),
        ]
        if np.isfinite(row.get("median_duration_s", np.nan)):
            facts.append(("median duration", f"{float(row['median_duration_s']):.2f} s"))
        else:
            facts.append(("median duration", f"{float(row['median_duration_frames']):.0f} frames"))
        if "mean_speed_mm_s" in row and np.isfinite(row["mean_speed_mm_s"]):
            facts.append(("mean speed", f"{float(row['mean_speed_mm_s']):.1f} mm/s"))
        elif "mean_speed_px_s" in row and np.isfinite(row["mean_speed_px_s"]):
            facts.append(("mean speed", f"{float(row['mean_speed_px_s']):.0f} px/s"))
        traj = f"plots/trajectory_{k}.png"
        cards.append(
            {
                "k": int(k),
                "color": _hex(colors[k]),
                "facts": facts,
                "next": nxt,
                "trajectory": traj if traj in plots_done else None,
                "no_trajectory": trajectories_ok and traj not in plots_done,
                "movies": movies["by_syllable"].get(int(k), []),
                "no_movie": (movie_notes or {}).get(int(k)),
            }
        )
    return cards


def _options_markup(text: str):
    """``text`` escaped, each command-line option (``--target-duration S``) in a ``<code>`` that
    does not break at its hyphens."""
    import re

    from markupsafe import Markup, escape

    return Markup(
        re.sub(r"(--[a-z][\w-]*(?: S)?)", r'<code class="opt">\1</code>', str(escape(text)))
    )


def _cell(v, integer: bool) -> str:
    if integer:
        return f"{int(v):,}"
    v = float(v)
    if not np.isfinite(v):
        return ""
    a = abs(v)
    if a == 0 or 1e-3 <= a < 1e6:
        return f"{v:,.4g}" if a < 1e3 else f"{v:,.1f}"
    return f"{v:.3g}"


def _table_rows(df, order):
    """Rows of ``df`` for ``order``, formatted per column (integers whole, floats to 4 digits)."""
    ints = [np.issubdtype(df[c].dtype, np.integer) for c in df.columns]
    return [[_cell(v, i) for v, i in zip(df.loc[k].tolist(), ints)] for k in order]


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
        Report folder (default: ``report/`` beside the results file). The report is built in
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
        Copy in and show the movies and the comparison/statistics outputs found in
        sub-folders of the results' folder.
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
    from . import _report_data as rd

    if hasattr(results_path, "recordings") and hasattr(results_path, "model"):
        results = results_path
        rfile = Path(results.path) if getattr(results, "path", None) else None
    else:
        results = None
        rfile = rd.find_results_file(results_path)
    if out_dir is None:
        if rfile is None:
            raise ValueError(
                "out_dir is needed when results_path is a Results object without a path"
            )
        out_dir = rfile.parent / "report"
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

    K = int(results.num_states)

    tables = rd.syllable_tables(results, out_dir / "tables")
    summ = tables["summary"]
    inst = summ["instances"].to_numpy()
    order = [int(k) for k in frequency_order(inst) if inst[k] > 0]

    traj = counts = None
    recs = results.recordings
    scales, unit = rd.length_scales(results)
    if (
        trajectories
        and recs
        and all(
            r.keypoints is not None and r.centroid is not None and r.heading is not None
            for r in recs
        )
    ):
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
            num_states=K,
            pre=pre,
            post=post,
            num_samples=num_samples,
            seed=seed,
        )
    jobs = plot_jobs(results, order, traj, counts, pre=pre, units=unit)
    _run_jobs(jobs, out_dir, int(num_workers), bool(progress))
    done = {rel for _, _, rel in jobs}

    movies = {"by_syllable": {}, "other": [], "manifests": [], "folders": set()}
    extra_sections = []
    if extras and rfile is not None:
        movies = rd.collect_movies(rfile.parent, out_dir)
        extra_sections = rd.collect_extras(rfile.parent, out_dir, rfile, skip=movies["folders"])

    colors = syllable_colors(K)
    notes = rd.movie_notes(rfile.parent, movies, order) if extras and rfile is not None else None
    dsum = tables["durations"]
    trans = tables["transitions"]
    usage = tables["usage"]
    ctx = {
        "title": f"ethogram report: {rfile.parent.name if rfile is not None else 'fit'}",
        "results_name": rfile.name if rfile is not None else "",
        "summary": rd.fit_summary(results),
        "warnings": rd.quality_warnings(results, argument_names),
        "applied": rd.applied_model(results),
        "recordings": rd.recordings_table(results),
        "order": order,
        "colors": {k: _hex(colors[k]) for k in range(K)},
        "summary_header": [c.replace("_", " ") for c in summ.columns],
        "summary_rows": list(zip(order, _table_rows(summ, order))),
        "duration_unit": tables["duration_unit"],
        "durations_header": list(dsum.columns),
        "durations_rows": list(zip(order, _table_rows(dsum, order))),
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
        "cards": _syllable_cards(results, tables, order, done, movies, traj is not None, notes),
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
    env.filters["options"] = _options_markup
    return env.get_template("report.html.j2").render(**ctx, seconds=time.perf_counter() - t_start)
