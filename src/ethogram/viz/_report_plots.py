"""The report's figures: which plots a fit gets, and drawing them as PNG, in worker processes.

Kept apart from the page (:mod:`ethogram.viz.report`): :func:`plot_jobs` turns a fit into a list
of ``(plot function, keyword arguments, relative PNG path)`` jobs (the fit's usage, durations,
transitions, dynamics, trajectories, and the time series of the first
:data:`MAX_RECORDING_PLOTS` recordings over :data:`WINDOW_SECONDS`); :func:`run_plot_jobs` draws
them in this process or in a pool of processes (forked when this process runs no other thread),
the big figures first.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

#: at most this many recordings get their own time-series plots
MAX_RECORDING_PLOTS = 4


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
    save_figure(fig, Path(out_dir) / rel)  # no fig.clear(): it cost a tenth of a trajectory plot
    return rel


def _render_trajectories(jobs, out_dir: str) -> list:
    """Draw "trajectory" jobs that share a frame on one figure, redrawn per syllable (its ticks,
    legend and scale bar made once: a third of each plot's cost); returns the relative paths."""
    from ._common import save_figure
    from .trajectories import _redraw_trajectory, plot_trajectory

    fig = first = None
    for _, kwargs, rel in jobs:
        if fig is None or not _redraw_trajectory(fig, first, kwargs):
            fig, first = plot_trajectory(**kwargs), kwargs
        save_figure(fig, Path(out_dir) / rel)
    return [rel for _, _, rel in jobs]


def _window(rec):
    n = int(round(WINDOW_SECONDS * (rec.fps if rec.fps else 30.0)))
    return 0, min(rec.num_frames, n)


def masked_in_plots(results) -> bool:
    """Whether a frame drawn by the inputs-and-syllables plots has no syllable (label -1, drawn
    grey): their caption names grey frames only then."""
    return any(
        bool((np.asarray(r.syllables[: _window(r)[1]]) < 0).any())
        for r in results.recordings[:MAX_RECORDING_PLOTS]
    )


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
    jobs = _syllable_jobs(results, order)
    jobs += _fit_jobs(results)
    jobs += _recording_jobs(results)
    jobs += _dynamics_jobs(results, order)
    if trajectories is not None:
        jobs += _trajectory_jobs(results, order, trajectories, num_instances, pre, units)
    return jobs


def _syllable_jobs(results, order) -> list:
    """Usage, durations, the transition matrices (from the labels and the model's) and graph."""
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
    return jobs


def _fit_jobs(results) -> list:
    """EM's objective per iteration (when the results hold it), and a Gibbs fit's own plots."""
    jobs = []
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
    return jobs


def _recording_jobs(results) -> list:
    """Inputs and syllables (and state probabilities, when kept) of the first recordings."""
    K = int(results.num_states)
    jobs = []
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
    return jobs


def _dynamics_jobs(results, order) -> list:
    """The AR dynamics of each syllable, when the model has them in two dimensions or more."""
    from . import _report_data as rd

    jobs = []
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
    return jobs


def _trajectory_jobs(results, order, trajectories, num_instances, pre, units) -> list:
    """The syllables' trajectories on shared axes, and one plot per syllable."""
    from . import _report_data as rd

    K = int(results.num_states)
    jobs = []
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


def _tasks(jobs, num_workers: int) -> list:
    """Jobs in tasks (lists of jobs drawn by one call of :func:`_run_task`): each job alone but
    the "trajectory" ones, which redraw one figure: all in one task in this process, in
    ``2 * num_workers`` tasks for a pool (and there the big multi-panel figures first, so that
    no worker waits on one at the end)."""
    if num_workers > 1:
        rank = {name: i for i, name in enumerate(_SLOW_FIRST)}
        jobs = sorted(jobs, key=lambda j: rank.get(j[0], len(rank)))
    tasks = [[job] for job in jobs if job[0] != "trajectory"]
    each = [job for job in jobs if job[0] == "trajectory"]
    if each:
        size = -(-len(each) // (2 * num_workers)) if num_workers > 1 else len(each)
        tasks += [each[i : i + size] for i in range(0, len(each), size)]
    return tasks


def _run_task(task, out_dir: str) -> int:
    """Draw a task of :func:`_tasks`; returns its number of plots."""
    if task[0][0] == "trajectory":
        _render_trajectories(task, out_dir)
    else:
        for job in task:
            _render(job, out_dir)
    return len(task)


def run_plot_jobs(jobs, out_dir: Path, num_workers: int, progress: bool) -> None:
    """Draw the plot jobs as PNG files under ``out_dir``, in this process (``num_workers`` 1)
    or in a pool of processes, with a progress bar over the plots when ``progress``."""
    from .._progress import progress_bar

    tasks = _tasks(jobs, num_workers)

    def new_bar():
        return progress_bar(len(jobs), "report plots", bool(progress), unit="plot")

    if num_workers <= 1 or len(tasks) <= 1:
        with new_bar() as bar:
            for task in tasks:
                bar.update(_run_task(task, str(out_dir)))
        return
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed

    import matplotlib.figure  # noqa: F401  (imported once here, inherited by forked workers)
    from matplotlib.backends import backend_agg  # noqa: F401

    with ProcessPoolExecutor(
        max_workers=min(num_workers, len(tasks)), mp_context=mp.get_context(_start_method())
    ) as pool:
        futures = [pool.submit(_run_task, task, str(out_dir)) for task in tasks]
        with new_bar() as bar:  # after the workers start: no thread of its own in a forked one
            for fut in as_completed(futures):
                bar.update(fut.result())
