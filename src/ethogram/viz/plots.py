"""Plots of labels over time and of their statistics: arrays in, a matplotlib Figure out.

The pictures a user of the course or of MoSeq recognises: the model's inputs with the
syllables as coloured bands behind them (the course's ``plot_data_and_states``), the state
probabilities over time, syllable usage in frequency order, duration distributions per
syllable, and the EM objective over iterations. Each function takes plain arrays, draws on
the given axes or on a new headless figure, optionally writes a PNG (``path=``) and returns
the figure. Colours come from :func:`ethogram.viz.syllable_colors`.
"""

from __future__ import annotations

import numpy as np

from .._runs import label_runs
from ._common import (
    as_label_list,
    finish,
    frequency_order,
    infer_num_states,
    label_colors,
    new_figure,
    syllable_colors,
    usage_counts,
)

__all__ = [
    "plot_syllables_and_data",
    "plot_state_probabilities",
    "plot_usage",
    "plot_durations",
    "plot_log_likelihood",
    "syllable_durations_seconds",
]


def _time_axis(num_frames: int, start: int, fps):
    if fps is None:
        return start + np.arange(num_frames + 1, dtype=float), "time (frames)"
    fps = float(fps)
    if not np.isfinite(fps) or fps <= 0:
        raise ValueError(f"fps must be a positive number of frames per second, got {fps!r}")
    return (start + np.arange(num_frames + 1)) / fps, "time (s)"


def plot_syllables_and_data(
    data,
    syllables,
    fps=None,
    num_states=None,
    start: int = 0,
    stop=None,
    max_dims: int = 10,
    dim_names=None,
    ax=None,
    title=None,
    figsize=(10.0, 5.0),
    dpi: int = 100,
    path=None,
):
    """The model's inputs over time with each frame's syllable as a coloured band behind them.

    Parameters
    ----------
    data : array_like, shape (T, D)
        Inputs (e.g. standardized principal components); NaN rows are left blank.
    syllables : array_like of int, shape (T,)
        Label per frame, -1 = no syllable (drawn grey).
    fps : float, optional
        Frames per second; the time axis is in seconds when given, else in frames.
    num_states : int, optional
        Number of syllables K (default: largest label + 1); fixes the colours.
    start, stop : int, optional
        Frame window to draw (default: all frames from ``start``).
    max_dims : int, default 10
        Draw at most this many input dimensions (the first ones).
    dim_names : list of str, optional
        Tick label per dimension (default ``"0", "1", ...``).
    ax : matplotlib Axes, optional
        Draw here instead of on a new figure.
    title : str, optional
    figsize, dpi : used for a new figure (pixels = figsize * dpi).
    path : str or Path, optional
        Also write the figure as PNG there.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If ``data`` is not 2-D, if its length differs from ``syllables``, or the window is empty.

    Notes
    -----
    After the course's ``helpers.plot_data_and_states`` (STATS305C, hw7): traces are offset by
    a fixed spacing (1.1 times the widest 0.5-99.5 percentile range, each trace centred on its
    median) and the labels are an image behind them.
    """
    x = np.asarray(data, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise ValueError(f"data must have shape (T, D), got {x.shape}")
    (z,) = as_label_list(np.asarray(syllables), "syllables")
    if z.shape[0] != x.shape[0]:
        raise ValueError(
            f"syllables has {z.shape[0]} frames but data has {x.shape[0]}; they must match"
        )
    K = infer_num_states([z], num_states)
    stop = x.shape[0] if stop is None else min(int(stop), x.shape[0])
    start = int(start)
    if not 0 <= start < stop:
        raise ValueError(
            f"the frame window start={start}, stop={stop} is empty for {x.shape[0]} frames"
        )
    x, z = x[start:stop, :max_dims], z[start:stop]
    T, D = x.shape
    edges, xlabel = _time_axis(T, start, fps)
    centers = 0.5 * (edges[:-1] + edges[1:])

    finite = x[np.isfinite(x).all(axis=1)]
    if finite.shape[0]:
        center = np.median(finite, axis=0)
        spread = float(
            np.max(np.percentile(finite, 99.5, axis=0) - np.percentile(finite, 0.5, axis=0))
        )
    else:
        center, spread = np.zeros(D), 0.0
    spacing = 1.1 * spread if spread > 0 else 1.0
    x = x - center

    fig, ax = new_figure(ax, figsize, dpi)
    band = label_colors(z, K)[None, :, :].copy()
    band[..., 3] = 0.45
    ax.imshow(
        band,
        aspect="auto",
        interpolation="nearest",
        extent=(edges[0], edges[-1], -spacing * (D - 0.5), spacing * 0.5),
        zorder=0,
    )
    for d in range(D):
        ax.plot(centers, x[:, d] - spacing * d, color="white", lw=2.4, zorder=1)
        ax.plot(centers, x[:, d] - spacing * d, color="#222222", lw=1.1, zorder=2)
    ax.set_yticks(-spacing * np.arange(D))
    ax.set_yticklabels(list(dim_names)[:D] if dim_names is not None else [str(d) for d in range(D)])
    ax.set_ylim(-spacing * (D - 0.5), spacing * 0.5)
    ax.set_xlim(edges[0], edges[-1])
    ax.set_xlabel(xlabel)
    ax.set_ylabel("input dimension")
    ax.set_title(title if title is not None else "inputs and syllables")
    return finish(fig, path)


def plot_state_probabilities(
    expected_states,
    fps=None,
    start: int = 0,
    stop=None,
    ax=None,
    title=None,
    figsize=(10.0, 4.0),
    dpi: int = 100,
    path=None,
):
    """Posterior probability of each syllable over time: row k in syllable k's colour, opacity = p.

    Parameters
    ----------
    expected_states : array_like, shape (T, K)
        ``p(z_t = k | x)``, rows summing to 1 (NaN rows, e.g. unsaved frames, are blank).
    fps : float, optional
        Time axis in seconds when given, else frames.
    start, stop : int, optional
        Frame window (default: all).
    ax, title, figsize, dpi, path : as in :func:`plot_syllables_and_data`.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If ``expected_states`` is not (T, K) or holds values outside [0, 1].

    Notes
    -----
    The course draws ``expected_states.T`` in grey levels; here each row carries its
    syllable's colour so it reads together with the other plots.
    """
    p = np.asarray(expected_states, dtype=float)
    if p.ndim != 2:
        raise ValueError(f"expected_states must have shape (T, K), got {p.shape}")
    fin = p[np.isfinite(p)]
    if fin.size and (fin.min() < -1e-9 or fin.max() > 1 + 1e-9):
        raise ValueError("expected_states must hold probabilities in [0, 1]")
    stop = p.shape[0] if stop is None else min(int(stop), p.shape[0])
    start = int(start)
    if not 0 <= start < stop:
        raise ValueError(
            f"the frame window start={start}, stop={stop} is empty for {p.shape[0]} frames"
        )
    p = p[start:stop]
    T, K = p.shape
    edges, xlabel = _time_axis(T, start, fps)
    img = np.empty((K, T, 4))
    img[:, :, :] = syllable_colors(K)[:, None, :]
    img[:, :, 3] = np.clip(np.nan_to_num(p.T, nan=0.0), 0.0, 1.0)
    fig, ax = new_figure(ax, figsize, dpi)
    ax.set_facecolor("white")
    ax.imshow(
        img, aspect="auto", interpolation="nearest", extent=(edges[0], edges[-1], K - 0.5, -0.5)
    )
    step = max(1, int(np.ceil(K / 25)))
    ax.set_yticks(np.arange(0, K, step))
    ax.set_xlabel(xlabel)
    ax.set_ylabel("syllable")
    ax.set_title(title if title is not None else "state probabilities")
    return finish(fig, path)


def plot_usage(
    syllables,
    num_states=None,
    count: str = "instances",
    normalize: bool = False,
    min_fraction: float = 0.0,
    ax=None,
    title=None,
    figsize=(8.0, 3.5),
    dpi: int = 100,
    path=None,
):
    """Syllable usage as a bar chart in decreasing frequency.

    Parameters
    ----------
    syllables : array_like of int (T,), or a list or dict of them (one per recording)
        Labels, -1 = no syllable (not counted).
    num_states : int, optional
        K (default: largest label + 1); unused syllables get empty bars when shown.
    count : {"instances", "frames"}, default "instances"
        Count syllable instances (runs of the same label; MoSeq's usage) or frames.
    normalize : bool, default False
        Plot fractions of the total instead of counts.
    min_fraction : float, default 0
        Leave out syllables below this fraction of the total.
    ax, title, figsize, dpi, path : as in :func:`plot_syllables_and_data`.

    Returns
    -------
    matplotlib.figure.Figure
        One bar per syllable shown, left to right from the most used; the tick labels are
        the syllable numbers.

    Raises
    ------
    ValueError
        If ``count`` is not "instances" or "frames", or labels exceed ``num_states``.
    """
    if count not in ("instances", "frames"):
        raise ValueError(f"count must be 'instances' or 'frames', got {count!r}")
    labels = as_label_list(syllables)
    K = infer_num_states(labels, num_states)
    counts = usage_counts(labels, K, count)
    total = counts.sum()
    frac = counts / total if total > 0 else np.zeros(K)
    order = [int(k) for k in frequency_order(counts) if frac[k] >= min_fraction]
    heights = (frac if normalize else counts)[order]
    fig, ax = new_figure(ax, figsize, dpi)
    ax.bar(
        np.arange(len(order)), heights, color=syllable_colors(K)[order], width=0.8, edgecolor="none"
    )
    ax.set_xticks(np.arange(len(order)))
    ax.set_xticklabels([str(k) for k in order], fontsize=8 if len(order) > 30 else 10)
    ax.set_xlim(-0.6, max(len(order), 1) - 0.4)
    ax.set_xlabel("syllable (most used first)")
    unit = "instances" if count == "instances" else "frames"
    ax.set_ylabel(f"fraction of {unit}" if normalize else unit)
    ax.set_title(title if title is not None else "syllable usage")
    ax.spines[["top", "right"]].set_visible(False)
    return finish(fig, path)


def syllable_durations_seconds(syllables, num_states=None, fps=None) -> list:
    """Durations of every syllable instance, per syllable.

    Parameters
    ----------
    syllables : array_like of int (T,), or a list or dict of them
    num_states : int, optional
    fps : float or sequence of float, optional
        Frame rate (one per recording or one for all); durations in seconds when given,
        else in frames.

    Returns
    -------
    list of ndarray
        ``out[k]`` holds the duration of each run of syllable k (runs are cut by -1 and by
        recording ends), in recording order.
    """
    labels = as_label_list(syllables)
    K = infer_num_states(labels, num_states)
    rates = (
        [None] * len(labels)
        if fps is None
        else (list(np.broadcast_to(np.asarray(fps, dtype=float), (len(labels),))))
    )
    out = [[] for _ in range(K)]
    for a, r in zip(labels, rates):
        s, e, v = label_runs(a)
        n = e - s
        d = n.astype(float) / (r if r is not None else 1.0)
        for k in np.unique(v[v >= 0]):
            out[int(k)].append(d[v == k])
    return [np.concatenate(x) if x else np.zeros(0) for x in out]


def plot_durations(
    syllables,
    fps=None,
    num_states=None,
    order=None,
    max_syllables=None,
    ax=None,
    title=None,
    figsize=(8.0, 3.5),
    dpi: int = 100,
    path=None,
):
    """Duration distribution of each syllable as coloured box plots (seconds when ``fps`` is given).

    Parameters
    ----------
    syllables : array_like of int (T,), or a list or dict of them
        Labels, -1 = no syllable.
    fps : float or sequence of float, optional
        Frames per second (one per recording or one for all).
    num_states : int, optional
    order : sequence of int, optional
        Syllables to show, left to right (default: decreasing usage in instances, unused
        syllables left out).
    max_syllables : int, optional
        Show at most this many (the first of ``order``).
    ax, title, figsize, dpi, path : as in :func:`plot_syllables_and_data`.

    Returns
    -------
    matplotlib.figure.Figure
        Box plots (median line, quartile box, whiskers at 1.5 IQR, no outlier markers);
        the grey dashed line is the median over all instances.
    """
    labels = as_label_list(syllables)
    K = infer_num_states(labels, num_states)
    durs = syllable_durations_seconds(labels, K, fps)
    if order is None:
        counts = np.array([d.size for d in durs])
        order = [int(k) for k in frequency_order(counts) if counts[k] > 0]
    order = [int(k) for k in order]
    if max_syllables is not None:
        order = order[: int(max_syllables)]
    fig, ax = new_figure(ax, figsize, dpi)
    shown = [k for k in order if durs[k].size > 0]
    if shown:
        bp = ax.boxplot(
            [durs[k] for k in shown],
            positions=np.arange(len(shown)),
            widths=0.65,
            patch_artist=True,
            showfliers=False,
            medianprops=dict(color="black", lw=1.5, label="_median"),
        )
        colors = syllable_colors(K)
        for patch, k in zip(bp["boxes"], shown):
            patch.set_facecolor(colors[k])
            patch.set_edgecolor("#333333")
        alld = np.concatenate([durs[k] for k in shown])
        ax.axhline(float(np.median(alld)), color="#777777", ls="--", lw=1, zorder=0)
    ax.set_xticks(np.arange(len(shown)))
    ax.set_xticklabels([str(k) for k in shown], fontsize=8 if len(shown) > 30 else 10)
    ax.set_xlim(-0.6, max(len(shown), 1) - 0.4)
    ax.set_xlabel("syllable")
    ax.set_ylabel("duration (s)" if fps is not None else "duration (frames)")
    ax.set_title(title if title is not None else "syllable durations")
    ax.spines[["top", "right"]].set_visible(False)
    return finish(fig, path)


def plot_log_likelihood(
    objectives,
    marginal_lls=None,
    per_frame=None,
    ax=None,
    title=None,
    figsize=(6.0, 3.5),
    dpi: int = 100,
    path=None,
):
    """The EM objective over iterations (it must never go down).

    Parameters
    ----------
    objectives : array_like, shape (n,)
        MAP objective ``sum log p(x) + log p(theta)`` after each iteration (0 = initialisation).
    marginal_lls : array_like, shape (n,), optional
        ``sum log p(x)`` per iteration, drawn dashed.
    per_frame : int, optional
        Divide by this number of frames (the y axis then reads "per frame").
    ax, title, figsize, dpi, path : as in :func:`plot_syllables_and_data`.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If ``objectives`` is empty or not one-dimensional.
    """
    y = np.asarray(objectives, dtype=float)
    if y.ndim != 1 or y.size == 0:
        raise ValueError(f"objectives must be a non-empty 1-D array, got shape {y.shape}")
    div = float(per_frame) if per_frame else 1.0
    fig, ax = new_figure(ax, figsize, dpi)
    it = np.arange(y.size)
    ax.plot(it, y / div, "-o", ms=3, color="#1f77b4", label="objective (log joint)")
    if marginal_lls is not None:
        m = np.asarray(marginal_lls, dtype=float)
        ax.plot(np.arange(m.size), m / div, "--", color="#ff7f0e", label="marginal log likelihood")
        ax.legend(frameon=False, fontsize=9)
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("EM iteration")
    ax.set_ylabel("per frame" if per_frame else "log likelihood")
    ax.grid(True, alpha=0.3)
    ax.set_title(title if title is not None else "EM objective")
    ax.spines[["top", "right"]].set_visible(False)
    return finish(fig, path)
