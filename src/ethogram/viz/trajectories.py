"""Syllable trajectory plots: the average egocentric pose sequence of each syllable, drawn.

The trajectories are computed by :func:`syllable_trajectories`
(:mod:`ethogram.viz._trajectory_data`, keypoint-moseq's ``get_trajectories``; importable from
here); this room draws them as keypoint-moseq's ``generate_trajectory_plots`` does: one syllable
(:func:`plot_trajectory`) or a grid of them on shared axes (:func:`plot_trajectories`), poses in
pixel coordinates with the y axis pointing down (as in the video), the animal facing right at
onset, body parts coloured and named in a legend, and a scale bar of a round length.
"""

from __future__ import annotations

import numpy as np

from ._common import finish, syllable_colors
from ._trajectory_data import check_edges, skeleton_edges, syllable_trajectories

__all__ = ["syllable_trajectories", "plot_trajectory", "plot_trajectories", "skeleton_edges"]

#: frames before onset in a trajectory, and poses drawn from onset: the defaults of
#: :func:`plot_trajectory` and :func:`plot_trajectories` (and of a redrawn plot's)
DEFAULT_PRE, DEFAULT_NUM_POSES = 5, 5


def _limits(trajs):
    pts = np.asarray(trajs)[..., :2].reshape(-1, 2)
    pts = pts[np.isfinite(pts).all(axis=1)]
    if pts.size == 0:
        return (-1.0, 1.0), (-1.0, 1.0)
    # the whole extent: trajectories are averages (no tracking outliers to ignore), and limits
    # from the 1st-99th percentiles clipped the widest syllables when they were shared
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    half = 0.55 * max(float((hi - lo).max()), 1e-9)
    mid = 0.5 * (lo + hi)
    return (mid[0] - half, mid[0] + half), (mid[1] - half, mid[1] + half)


def nice_length(span: float, fraction: float = 0.25) -> float:
    """A round length (1, 2 or 5 times a power of ten) near ``fraction`` of ``span``."""
    target = max(float(span) * fraction, 1e-12)
    base = 10.0 ** np.floor(np.log10(target))
    for m in (5.0, 2.0, 1.0):
        if m * base <= target:
            return m * base
    return base


def _scale_bar(ax, units: str, color="black"):
    """A bar of a round length in the lower left corner of ``ax``, labelled with it."""
    from matplotlib.font_manager import FontProperties
    from mpl_toolkits.axes_grid1.anchored_artists import AnchoredSizeBar

    x0, x1 = ax.get_xlim()
    length = nice_length(abs(x1 - x0))
    bar = AnchoredSizeBar(
        ax.transData,
        length,
        f"{length:g} {units}",
        "lower left",
        pad=0.3,
        borderpad=0.2,
        sep=2,
        frameon=False,
        color=color,
        size_vertical=0,
        fontproperties=FontProperties(size=8),
    )
    bar.set_zorder(50)
    ax.add_artist(bar)
    return length


def bodypart_colors(num_bodyparts: int) -> np.ndarray:
    """RGBA colour of each body part in the trajectory plots (matplotlib's plasma)."""
    from matplotlib import colormaps

    return colormaps["plasma"](np.linspace(0.05, 0.85, int(num_bodyparts)))


def bodypart_legend(target, bodyparts, ncol=None, fontsize: float = 8, **kwargs):
    """A legend of the body parts' colours on ``target`` (a Figure or Axes); returns it."""
    from matplotlib.lines import Line2D

    colors = bodypart_colors(len(bodyparts))
    handles = [
        Line2D(
            [],
            [],
            ls="",
            marker="o",
            markersize=5,
            markerfacecolor=c,
            markeredgecolor="black",
            markeredgewidth=0.4,
            label=str(n),
        )
        for n, c in zip(bodyparts, colors)
    ]
    ncol = ncol or min(len(handles), 4)
    return target.legend(
        handles=handles,
        ncol=ncol,
        fontsize=fontsize,
        frameon=False,
        handletextpad=0.2,
        columnspacing=0.8,
        **kwargs,
    )


def legend_columns(bodyparts, width_inches: float, fontsize: float = 8, most: int = 8) -> int:
    """Columns of a body-part legend that fit ``width_inches`` (its longest name sets the width)."""
    entry = max(len(str(b)) for b in bodyparts) * 0.58 * fontsize + 1.9 * fontsize  # points
    return int(max(1, min(len(bodyparts), most, (0.95 * width_inches * 72) // entry)))


def _legend_rows(bodyparts, ncol: int) -> int:
    return int(np.ceil(len(bodyparts) / max(1, ncol)))


def _mean_over_parts(xy: np.ndarray) -> np.ndarray:
    """Per frame, the mean of the body parts seen (L, 2); NaN (a gap in the path) where none is
    (numpy's "mean of empty slice" warning is that gap, not a fault)."""
    seen = np.isfinite(xy).all(axis=2)
    count = seen.sum(axis=1)
    total = np.where(seen[..., None], xy, 0.0).sum(axis=1)
    out = np.full((xy.shape[0], 2), np.nan)
    np.divide(total, count[:, None], out=out, where=count[:, None] > 0)
    return out


def _draw_poses(ax, X, pre: int, num_poses: int, edges, color, kp_colors) -> None:
    """The mean path (dotted) and ``num_poses`` poses from onset, earlier ones fainter."""
    L = X.shape[0]
    times = np.unique(np.round(np.linspace(pre, L - 1, max(int(num_poses), 1))).astype(int))
    alphas = np.linspace(0.25, 1.0, times.size)
    path_xy = _mean_over_parts(X[pre:, :, :2]) if np.isfinite(X).any() else np.zeros((L - pre, 2))
    ax.plot(path_xy[:, 0], path_xy[:, 1], color=color[:3], lw=1.0, ls=":", zorder=1)
    for n, (t, a) in enumerate(zip(times, alphas)):
        P = X[t, :, :2]
        z = 2 + 3 * n
        if len(edges):  # one line per pose, its edges apart (NaN between them)
            seg = np.full((len(edges), 3, 2), np.nan)
            seg[:, 0], seg[:, 1] = P[[i for i, _ in edges]], P[[j for _, j in edges]]
            seg = seg.reshape(-1, 2)[:-1]
            ax.plot(
                seg[:, 0],
                seg[:, 1],
                color=color[:3],
                alpha=a,
                lw=2.0,
                zorder=z,
                solid_capstyle="round",
            )
        ax.scatter(
            P[:, 0],
            P[:, 1],
            s=28,
            c=kp_colors,
            alpha=a,
            edgecolors="black",
            linewidths=0.4,
            zorder=z + 1,
        )


def _frame_axes(ax, lims, color, units: str, axis_labels: bool, scale_bar: bool) -> None:
    """Limits (y down, as in the video), equal aspect, a frame in the syllable's colour, ticks,
    the axes' names and the scale bar."""
    ax.set_xlim(*lims[0])
    ax.set_ylim(lims[1][1], lims[1][0])  # y down, as in the video
    ax.set_aspect("equal")
    for spine in ax.spines.values():  # the syllable's colour frames the panel
        spine.set_edgecolor(color[:3])
        spine.set_linewidth(1.5)
    ax.tick_params(labelsize=8, length=2, pad=1)
    ax.locator_params(nbins=4)
    if axis_labels:
        ax.set_xlabel(f"forward ({units})", fontsize=9, labelpad=1)
        ax.set_ylabel(f"sideways ({units})", fontsize=9, labelpad=1)
    if scale_bar:
        _scale_bar(ax, units)


def _pose_style(X, syllable, num_states, edges, bodyparts):
    """The skeleton's edges, the syllable's colour and the body parts' colours of one
    trajectory plot (drawn afresh or redrawn)."""
    B = X.shape[1]
    E = check_edges(edges, bodyparts, B) if edges is not None else skeleton_edges(X)
    K = int(num_states) if num_states is not None else int(syllable) + 1
    return E, syllable_colors(K)[int(syllable)], bodypart_colors(B)


def plot_trajectory(
    trajectory,
    syllable: int = 0,
    num_states=None,
    pre: int = DEFAULT_PRE,
    num_poses: int = DEFAULT_NUM_POSES,
    edges=None,
    bodyparts=None,
    lims=None,
    ax=None,
    title=None,
    figsize=None,
    dpi: int = 100,
    path=None,
    units: str = "px",
    legend=None,
    scale_bar: bool = True,
    axis_labels: bool = True,
):
    """One syllable's average pose sequence: ``num_poses`` poses from onset, earlier ones fainter.

    Parameters
    ----------
    trajectory : array_like, shape (L, B, 2)
        One row of :func:`syllable_trajectories` (egocentric at onset, in ``units``).
    syllable : int, default 0
        Which syllable it is (colour and title).
    num_states : int, optional
        K, for the palette (default ``syllable + 1``; the colour does not depend on it).
    pre : int, default 5
        Index of the onset frame in ``trajectory``.
    num_poses : int, default 5
        Poses drawn, evenly spaced from onset to the last frame.
    edges : list of pairs, optional
        Skeleton as pairs of body-part indices or names (needs ``bodyparts``); default:
        :func:`skeleton_edges` of the trajectory's mean pose.
    bodyparts : list of str, optional
        Names of the B body parts, shown in a legend of their colours.
    lims : ((xmin, xmax), (ymin, ymax)), optional
        Axis limits (shared across panels by :func:`plot_trajectories`).
    ax, title, dpi, path : as in :func:`ethogram.viz.plot_usage`.
    figsize : (float, float), optional
        Default 3 x 3 inches, taller by the legend's rows.
    units : str, default "px"
        Unit of the coordinates, on the axes and the scale bar ("mm" for trajectories scaled
        by the recordings' pixels per mm).
    legend : bool, optional
        Body-part legend below the axes; default: when ``bodyparts`` are given and the figure
        is this plot's own.
    scale_bar : bool, default True
        A bar of a round length (1, 2 or 5 times a power of ten, about a quarter of the width)
        in the lower left corner.
    axis_labels : bool, default True
        Name the axes: forward (along the heading at onset) and sideways.

    Returns
    -------
    matplotlib.figure.Figure
        The ``num_poses`` pose markers are ``ax.collections`` in time order.
    """
    from ._common import new_figure

    X = np.asarray(trajectory, dtype=float)
    if X.ndim != 3 or X.shape[2] < 2:
        raise ValueError(f"trajectory must have shape (L, B, 2), got {X.shape}")
    L, B = X.shape[:2]
    if not 0 <= pre < L:
        raise ValueError(f"pre={pre} must index a frame of the {L}-frame trajectory")
    if bodyparts is not None and len(bodyparts) != B:
        raise ValueError(f"bodyparts names {len(bodyparts)} body parts but the trajectory has {B}")
    E, color, kp_colors = _pose_style(X, syllable, num_states, edges, bodyparts)
    own = ax is None
    legend = (own if legend is None else bool(legend)) and bodyparts is not None
    width = 3.0 if figsize is None else float(figsize[0])
    ncol = legend_columns(bodyparts, width) if legend else 0
    rows = _legend_rows(bodyparts, ncol) if legend else 0
    if figsize is None:
        figsize = (width, 3.0 + 0.17 * rows)
    fig, ax = new_figure(ax, figsize, dpi)
    _draw_poses(ax, X, pre, num_poses, E, color, kp_colors)
    lims = _limits(X[pre:]) if lims is None else lims
    _frame_axes(ax, lims, color, units, axis_labels, scale_bar)
    # a fixed title position (y given) skips matplotlib's search for overlaps, slow on many panels
    ax.set_title(
        title if title is not None else f"syllable {syllable}",
        color="black",
        fontsize=10,
        y=1.0,
        pad=4,
    )
    if own:
        h = fig.get_figheight()
        bottom = (0.42 + 0.17 * rows + (0.1 if rows else 0)) / h
        fig.subplots_adjust(left=0.2, right=0.97, bottom=bottom, top=1 - 0.3 / h)
        if legend:
            bodypart_legend(fig, bodyparts, ncol=ncol, loc="lower center", bbox_to_anchor=(0.5, 0))
    return finish(fig, path, layout=False)


#: arguments of :func:`plot_trajectory` that :func:`_redraw_trajectory` changes (the others set
#: the figure's frame: limits, ticks, legend, scale bar)
_SWAPPABLE = ("trajectory", "syllable")


def _same(a, b) -> bool:
    if a is b:
        return True
    try:
        return bool(np.array_equal(np.asarray(a), np.asarray(b)))
    except (TypeError, ValueError):  # ragged or incomparable: treated as different
        return False


def _redraw_trajectory(fig, first: dict, kwargs: dict) -> bool:
    """Redraw ``fig``, drawn by ``plot_trajectory(**first)`` on its own figure, for another
    syllable: the poses, the frame's colour and the title change, the rest (ticks, legend, scale
    bar) is kept, so the PNG is the one ``plot_trajectory(**kwargs)`` draws at a fraction of the
    cost. Returns False, changing nothing, unless ``kwargs`` differ from ``first`` only in
    ``trajectory`` and ``syllable`` and the limits are given (the report's trajectory plots)."""
    rest = {k: v for k, v in kwargs.items() if k not in _SWAPPABLE}
    if set(rest) != set(first) - set(_SWAPPABLE) or not all(
        _same(v, first[k]) for k, v in rest.items()
    ):
        return False
    if rest.get("lims") is None or rest.get("ax") is not None or rest.get("path") is not None:
        return False
    if rest.get("num_states") is None or rest.get("title") is not None:
        return False
    X = np.asarray(kwargs["trajectory"], dtype=float)
    if X.shape != np.shape(first["trajectory"]):
        return False
    ax = fig.axes[0]
    for artist in [*ax.lines, *ax.collections]:
        artist.remove()
    syllable = int(kwargs.get("syllable", 0))
    E, color, kp_colors = _pose_style(
        X, syllable, rest["num_states"], rest.get("edges"), rest.get("bodyparts")
    )
    pre = rest.get("pre", DEFAULT_PRE)  # plot_trajectory's defaults when not given
    num_poses = rest.get("num_poses", DEFAULT_NUM_POSES)
    _draw_poses(ax, X, pre, num_poses, E, color, kp_colors)
    for spine in ax.spines.values():
        spine.set_edgecolor(color[:3])
    ax.title.set_text(f"syllable {syllable}")
    return True


def plot_trajectories(
    trajectories,
    syllables=None,
    pre: int = DEFAULT_PRE,
    num_poses: int = DEFAULT_NUM_POSES,
    edges=None,
    bodyparts=None,
    ncols: int = 5,
    panel_size: float = 2.4,
    titles=None,
    dpi: int = 100,
    path=None,
    units: str = "px",
):
    """A grid of trajectory plots, one panel per syllable, on shared axis limits.

    Parameters
    ----------
    trajectories : array_like, shape (K, L, B, 2)
        From :func:`syllable_trajectories`.
    syllables : sequence of int, optional
        Which syllables and in which order (default: every syllable with a finite trajectory,
        in numeric order, which is usage order for renumbered models).
    pre, num_poses, edges, bodyparts, units : as in :func:`plot_trajectory`; with
        ``bodyparts`` one legend below the panels (and the figure taller by its rows).
    ncols : int, default 5
    panel_size : float, default 2.4
        Inches per panel; the figure is ``ncols * panel_size`` wide.
    titles : list of str, optional
        One per shown syllable.
    dpi, path : as in :func:`ethogram.viz.plot_usage`.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If ``trajectories`` is not 4-D or no syllable has a finite trajectory to show.
    """
    from matplotlib.figure import Figure

    T = np.asarray(trajectories, dtype=float)
    if T.ndim != 4:
        raise ValueError(f"trajectories must have shape (K, L, B, 2), got {T.shape}")
    K = T.shape[0]
    if syllables is None:
        syllables = [k for k in range(K) if np.isfinite(T[k]).any()]
    syllables = [int(k) for k in syllables]
    if not syllables:
        raise ValueError("no syllable has a finite trajectory to plot (too few instances?)")
    n = len(syllables)
    ncols = max(1, min(int(ncols), n))
    nrows = int(np.ceil(n / ncols))
    ncol_legend = legend_rows = 0
    if bodyparts is not None:
        ncol_legend = legend_columns(bodyparts, ncols * panel_size, fontsize=8, most=10)
        legend_rows = _legend_rows(bodyparts, ncol_legend)
    extra = 0.2 * legend_rows + (0.15 if legend_rows else 0.0)  # inches for the legend
    H = nrows * panel_size * 1.08 + extra
    fig = Figure(figsize=(ncols * panel_size, H), dpi=dpi)
    lims = _limits(T[syllables, pre:])
    if edges is None:
        edges = skeleton_edges(T[syllables])
    for i, k in enumerate(syllables):
        ax = fig.add_subplot(nrows, ncols, i + 1)
        row, col = divmod(i, ncols)
        plot_trajectory(
            T[k],
            syllable=k,
            num_states=K,
            pre=pre,
            num_poses=num_poses,
            edges=edges,
            bodyparts=bodyparts,
            lims=lims,
            ax=ax,
            units=units,
            legend=False,
            title=None if titles is None else titles[i],
            axis_labels=False,
        )
        if col:  # the same limits everywhere: tick labels on the outer panels only
            ax.tick_params(labelleft=False)
        if i + ncols < n:
            ax.tick_params(labelbottom=False)
    fig.supxlabel(
        f"forward, along the heading at onset ({units})", fontsize=9, y=(extra + 0.02) / H
    )
    fig.supylabel(f"sideways ({units})", fontsize=9, x=0.005)
    if legend_rows:
        bodypart_legend(
            fig,
            bodyparts,
            ncol=ncol_legend,
            fontsize=8,
            loc="lower center",
            bbox_to_anchor=(0.5, 0.0),
        )
    fig.subplots_adjust(
        left=0.35 / fig.get_figwidth() + 0.03,
        right=0.99,
        bottom=(extra + 0.45) / H,
        top=1 - 0.3 / H,
        wspace=0.12,
        hspace=0.3,
    )
    return finish(fig, path, layout=False)
