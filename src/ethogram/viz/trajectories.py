"""Syllable trajectory plots: the average egocentric pose sequence of each syllable.

For every syllable, up to ``num_samples`` instances are drawn reproducibly; each instance's
keypoints from ``pre`` frames before to ``post`` frames after its onset are centred on the
centroid *at onset* and rotated by minus the heading *at onset*, so the average shows how the
body moves and turns during the syllable relative to where it started. This is
keypoint-moseq's ``generate_trajectory_plots`` / ``get_trajectories`` (Weinreb et al. 2024,
Nature Methods), computed here from plain arrays. Poses are drawn in pixel coordinates with
the y axis pointing down (as in the video), the animal facing right at onset.
"""

from __future__ import annotations

import numpy as np

from .._runs import label_runs
from ._common import as_label_list, finish, infer_num_states, syllable_colors

__all__ = ["syllable_trajectories", "plot_trajectory", "plot_trajectories", "skeleton_edges"]


def _as_list(x, n, name, ndim):
    if isinstance(x, dict):
        x = list(x.values())
    if isinstance(x, np.ndarray) or (not isinstance(x, (list, tuple))):
        x = [x]
    x = [np.asarray(a, dtype=float) for a in x]
    if len(x) != n:
        raise ValueError(
            f"{name} has {len(x)} recordings but syllables has {n}; give one per recording"
        )
    for i, a in enumerate(x):
        if a.ndim != ndim:
            raise ValueError(f"{name}[{i}] must have {ndim} dimensions, got shape {a.shape}")
    return x


def syllable_trajectories(
    keypoints,
    centroids,
    headings,
    syllables,
    num_states=None,
    pre: int = 5,
    post: int = 15,
    min_duration: int = 3,
    num_samples: int = 40,
    seed: int = 0,
):
    """Average egocentric keypoint trajectory around the onset of each syllable.

    Parameters
    ----------
    keypoints : array_like (T, B, S) or a list or dict of them
        Keypoints in pixels per recording (S >= 2; only x, y are used), NaN = missing.
    centroids : array_like (T, 2) or list of them
        Body centre in pixels.
    headings : array_like (T,) or list of them
        Heading in radians (angle of the posterior-to-anterior vector, pixel axes).
    syllables : array_like of int (T,) or list of them
        Labels, -1 = no syllable.
    num_states : int, optional
        K (default: largest label + 1).
    pre, post : int, default 5, 15
        Frames before and after onset in the window (``pre + post`` frames in all).
    min_duration : int, default 3
        Only instances lasting at least this many frames are used.
    num_samples : int, default 40
        At most this many instances per syllable, drawn without replacement.
    seed : int, default 0
        The draw for syllable k uses ``numpy.random.default_rng([seed, k])``, so it does not
        depend on the other syllables.

    Returns
    -------
    trajectories : ndarray, shape (K, pre + post, B, 2)
        Mean over instances of ``R(-heading[onset]) (keypoints[onset + t] - centroid[onset])``
        for t = -pre .. post-1, ignoring NaN; all NaN for a syllable without instances.
    num_instances : ndarray of int, shape (K,)
        Instances averaged per syllable.

    Raises
    ------
    ValueError
        If the recordings' lengths or counts disagree, or ``pre``/``post`` are negative.
    """
    labels = as_label_list(syllables)
    n = len(labels)
    kps = _as_list(keypoints, n, "keypoints", 3)
    cents = _as_list(centroids, n, "centroids", 2)
    heads = _as_list(headings, n, "headings", 1)
    if pre < 0 or post < 1:
        raise ValueError(f"pre must be >= 0 and post >= 1, got pre={pre}, post={post}")
    for i in range(n):
        T = labels[i].shape[0]
        if kps[i].shape[0] != T or cents[i].shape[0] != T or heads[i].shape[0] != T:
            raise ValueError(
                f"recording {i}: syllables, keypoints, centroids and headings "
                f"must all have {T} frames"
            )
        if kps[i].shape[2] < 2 or cents[i].shape[1] != 2:
            raise ValueError(
                f"recording {i}: keypoints need x and y (S >= 2) and centroids shape (T, 2)"
            )
    K = infer_num_states(labels, num_states)
    B = kps[0].shape[1]
    # candidate instances per syllable: (recording, onset)
    cand = [[] for _ in range(K)]
    for i, z in enumerate(labels):
        s, e, v = label_runs(z)
        d = e - s
        T = z.shape[0]
        ok = (v >= 0) & (d >= min_duration) & (s - pre >= 0) & (s + post <= T)
        ok &= np.isfinite(heads[i][s]) & np.isfinite(cents[i][s]).all(axis=1)
        for k, onset in zip(v[ok], s[ok]):
            cand[int(k)].append((i, int(onset)))
    L = pre + post
    out = np.full((K, L, B, 2), np.nan)
    counts = np.zeros(K, dtype=np.int64)
    for k in range(K):
        c = cand[k]
        if not c:
            continue
        rng = np.random.default_rng([int(seed), k])  # per syllable: independent of the others
        pick = sorted(rng.choice(len(c), size=min(num_samples, len(c)), replace=False).tolist())
        stack = np.empty((len(pick), L, B, 2))
        for j, p in enumerate(pick):
            i, onset = c[p]
            X = kps[i][onset - pre : onset + post, :, :2] - cents[i][onset]
            h = heads[i][onset]
            c_, s_ = np.cos(h), np.sin(h)
            # rotate by -h: [x, y] -> [c x + s y, -s x + c y]
            stack[j, ..., 0] = c_ * X[..., 0] + s_ * X[..., 1]
            stack[j, ..., 1] = -s_ * X[..., 0] + c_ * X[..., 1]
        with np.errstate(invalid="ignore"):
            valid = np.isfinite(stack)
            num = np.where(valid, stack, 0.0).sum(axis=0)
            den = valid.sum(axis=0)
            out[k] = np.where(den > 0, num / np.maximum(den, 1), np.nan)
        counts[k] = len(pick)
    return out, counts


def _edges(edges, bodyparts, B):
    if edges is None:
        return None
    out = []
    for a, b in edges:
        if isinstance(a, str) or isinstance(b, str):
            if bodyparts is None:
                raise ValueError("edges given by body-part names need bodyparts")
            names = list(bodyparts)
            for nm in (a, b):
                if nm not in names:
                    raise ValueError(f"edge body part {nm!r} is not one of {names}")
            out.append((names.index(a), names.index(b)))
        else:
            if not (0 <= int(a) < B and 0 <= int(b) < B):
                raise ValueError(f"edge ({a}, {b}) is out of range for {B} body parts")
            out.append((int(a), int(b)))
    return out


def skeleton_edges(pose) -> list:
    """A default skeleton: the minimum spanning tree of a pose (scipy).

    Parameters
    ----------
    pose : array_like, shape (B, 2) or (..., B, 2)
        One pose, or several averaged (NaN ignored).

    Returns
    -------
    list of (int, int)
        B - 1 edges joining each body part to its nearest neighbours (snout-ears, ears-tail
        base, ...); empty when B < 2 or the pose is not finite. The rule of the grid movies'
        default skeleton, so plots and movies draw the same body.
    """
    from scipy.sparse.csgraph import minimum_spanning_tree
    from scipy.spatial.distance import pdist, squareform

    P = np.asarray(pose, dtype=float)[..., :2]
    if P.ndim > 2:
        with np.errstate(all="ignore"), __import__("warnings").catch_warnings():
            __import__("warnings").simplefilter("ignore")
            P = np.nanmean(P.reshape(-1, P.shape[-2], 2), axis=0)
    if P.shape[0] < 2 or not np.all(np.isfinite(P)):
        return []
    dist = squareform(pdist(P)) + 1e-9
    np.fill_diagonal(dist, 0)
    tree = minimum_spanning_tree(dist).tocoo()
    return sorted((int(min(a, b)), int(max(a, b))) for a, b in zip(tree.row, tree.col))


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
        for i, j in edges:
            ax.plot(
                [P[i][0], P[j][0]],
                [P[i][1], P[j][1]],
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


def plot_trajectory(
    trajectory,
    syllable: int = 0,
    num_states=None,
    pre: int = 5,
    num_poses: int = 5,
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
    E = _edges(edges, bodyparts, B) if edges is not None else skeleton_edges(X)
    K = int(num_states) if num_states is not None else int(syllable) + 1
    color = syllable_colors(K)[int(syllable)]
    kp_colors = bodypart_colors(B)
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


def plot_trajectories(
    trajectories,
    syllables=None,
    pre: int = 5,
    num_poses: int = 5,
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
