"""AR dynamics as vector fields: where each syllable's autoregression pushes a 2-D state.

For an autoregressive syllable ``x_t = sum_l A_l x_{t-l} + b + noise``, the arrow at a point
``x`` of the plane is the expected one-step change ``(sum_l A_l) x + b - x`` (all lags held at
``x``, i.e. the field seen by a slowly moving state; with one lag this is exactly
``A x + b - x``). This is the course's ``helpers.plot_dynamics`` picture (STATS305C hw7, after
the ssm ARHMM notebook): one panel per syllable, arrows in the syllable's colour. For inputs of
more than two dimensions the field is drawn in the plane of two chosen dimensions with the
others held at 0 (their mean for standardized inputs), a slice, said in the title.
"""

from __future__ import annotations

import numpy as np

from ._common import finish, syllable_colors

__all__ = ["ar_vector_field", "plot_ar_dynamics"]


def _check_dynamics(dynamics, bias):
    A = np.asarray(dynamics, dtype=float)
    if A.ndim != 3 or A.shape[2] % A.shape[1] != 0:
        raise ValueError(
            f"dynamics must have shape (K, D, L * D) (ethogram's emission_dynamics), got {A.shape}"
        )
    K, D, LD = A.shape
    b = np.zeros((K, D)) if bias is None else np.asarray(bias, dtype=float)
    if b.shape != (K, D):
        raise ValueError(f"bias must have shape ({K}, {D}) to match dynamics, got {b.shape}")
    return A, b


def ar_vector_field(dynamics, bias, points, dims=(0, 1)):
    """Expected one-step change of every syllable's AR model at points of a plane.

    Parameters
    ----------
    dynamics : array_like, shape (K, D, L * D)
        Lag matrices side by side, ``[A_1, ..., A_L]`` (ethogram's ``emission_dynamics``).
    bias : array_like, shape (K, D), or None
    points : array_like, shape (N, 2)
        Coordinates in the plane of ``dims``; the other dimensions are 0.
    dims : pair of int, default (0, 1)

    Returns
    -------
    ndarray, shape (K, N, 2)
        ``((sum_l A_l) x + b - x)[dims]`` with ``x`` the point embedded in D dimensions.

    Raises
    ------
    ValueError
        If shapes disagree or ``dims`` are not two distinct dimensions of the data.
    """
    A, b = _check_dynamics(dynamics, bias)
    K, D, LD = A.shape
    d0, d1 = (int(d) for d in dims)
    if d0 == d1 or not (0 <= d0 < D and 0 <= d1 < D):
        raise ValueError(f"dims must be two distinct dimensions in 0..{D - 1}, got {dims}")
    pts = np.asarray(points, dtype=float)
    if pts.ndim != 2 or pts.shape[1] != 2:
        raise ValueError(f"points must have shape (N, 2), got {pts.shape}")
    Asum = A.reshape(K, D, LD // D, D).sum(axis=2)  # (K, D, D)
    x = np.zeros((pts.shape[0], D))
    x[:, d0], x[:, d1] = pts[:, 0], pts[:, 1]
    dx = np.einsum("kij,nj->kni", Asum, x) + b[:, None, :] - x[None]
    return dx[:, :, [d0, d1]]


def _plane_limits(data, dims):
    """The plane's extent: the 1st to 99th percentile of ``data`` (padded by a tenth), else +-3."""
    if data is None:
        return ((-3.0, 3.0), (-3.0, 3.0))
    X = np.asarray(data, dtype=float)[:, list(dims)]
    X = X[np.isfinite(X).all(axis=1)]
    lo, hi = np.percentile(X, 1, axis=0), np.percentile(X, 99, axis=0)
    pad = 0.1 * (hi - lo)
    return ((lo[0] - pad[0], hi[0] + pad[0]), (lo[1] - pad[1], hi[1] + pad[1]))


def _shared_arrow_scale(field, syllables, gx, gy, num_grid):
    """The quiver scale at which the 95th percentile of the arrows spans 90% of a grid step."""
    lengths = np.hypot(field[syllables, :, 0], field[syllables, :, 1])
    big = float(np.percentile(lengths, 95)) if lengths.size else 0.0
    step = min(np.ptp(gx[0]), np.ptp(gy[:, 0])) / max(num_grid - 1, 1)
    return big / (0.9 * step) if big > 0 and step > 0 else None


def _panels(axes, n: int, ncols: int, panel_size: float, dpi: int):
    """``(figure, axes)``: ``n`` panels of a new figure, or the ``axes`` given (one per panel)."""
    if axes is None:
        from matplotlib.figure import Figure

        ncols = max(1, min(int(ncols), n))
        nrows = int(np.ceil(n / ncols))
        fig = Figure(figsize=(ncols * panel_size, nrows * panel_size), dpi=dpi)
        return fig, [fig.add_subplot(nrows, ncols, i + 1) for i in range(n)]
    axes = list(axes)
    if len(axes) != n:
        raise ValueError(f"axes has {len(axes)} entries for {n} syllables")
    return axes[0].figure, axes


def plot_ar_dynamics(
    dynamics,
    bias=None,
    syllables=None,
    lims=None,
    data=None,
    num_grid: int = 13,
    dims=(0, 1),
    ncols: int = 5,
    panel_size: float = 2.6,
    dpi: int = 100,
    path=None,
    axes=None,
    input_names=None,
    shared_scale: bool = False,
):
    """One quiver plot per syllable of its AR dynamics in a plane.

    Parameters
    ----------
    dynamics : array_like, shape (K, D, L * D)
    bias : array_like, shape (K, D), optional
    syllables : sequence of int, optional
        Which to draw (default: all K, in order).
    lims : ((xmin, xmax), (ymin, ymax)), optional
        Plane extent; default from ``data`` (1st to 99th percentile, padded) or +-3.
    data : array_like, shape (T, D), optional
        Inputs, used for the extent and drawn as a faint cloud behind the arrows.
    num_grid : int, default 13
        Arrows per side.
    dims : pair of int, default (0, 1)
        The plane (other dimensions held at 0).
    ncols, panel_size, dpi, path : layout (inches per panel), resolution and PNG output.
    axes : sequence of Axes, optional
        One per shown syllable, to draw into instead of a new figure.
    input_names : sequence of str, optional
        Names of the D inputs, for the axis labels (default ``input 0``, ``input 1``, ...).
    shared_scale : bool, default False
        Arrows on one scale in every panel (the 95th percentile of the arrow lengths over
        all shown syllables spans 90% of a grid step), so that lengths compare across
        panels; by default matplotlib scales each panel on its own, which shows the shape of
        a weak field as well as of a strong one (lengths compare within a panel only).

    Returns
    -------
    matplotlib.figure.Figure
        Each panel's quiver (``ax.collections``) holds the arrows of :func:`ar_vector_field`.
    """
    A, b = _check_dynamics(dynamics, bias)
    K, D, _ = A.shape
    if D < 2:
        raise ValueError(
            "AR dynamics can be drawn as a vector field only for data with at least 2 dimensions"
        )
    syllables = list(range(K)) if syllables is None else [int(k) for k in syllables]
    if lims is None:
        lims = _plane_limits(data, dims)
    gx, gy = np.meshgrid(np.linspace(*lims[0], num_grid), np.linspace(*lims[1], num_grid))
    pts = np.column_stack([gx.ravel(), gy.ravel()])
    field = ar_vector_field(A, b, pts, dims)
    colors = syllable_colors(K)
    names = [f"input {d}" for d in range(D)] if input_names is None else list(map(str, input_names))
    if len(names) != D:
        raise ValueError(f"input_names has {len(names)} names for {D} inputs")
    scale = _shared_arrow_scale(field, syllables, gx, gy, num_grid) if shared_scale else None
    own = axes is None
    fig, axes = _panels(axes, len(syllables), ncols, panel_size, dpi)
    cloud = None
    if data is not None:
        cloud = np.asarray(data, dtype=float)[:, list(dims)]
        cloud = cloud[np.isfinite(cloud).all(axis=1)]
        if cloud.shape[0] > 3000:
            cloud = cloud[np.linspace(0, cloud.shape[0] - 1, 3000).astype(int)]
    for ax, k in zip(axes, syllables):
        if cloud is not None:
            ax.plot(cloud[:, 0], cloud[:, 1], ".", color="#e2e2e2", ms=1.0, zorder=0)
        ax.quiver(
            pts[:, 0],
            pts[:, 1],
            field[k, :, 0],
            field[k, :, 1],
            color=colors[k],
            angles="xy",
            zorder=2,
            width=0.007,
            headwidth=3.5,
            headlength=4.0,
            **({"scale": scale, "scale_units": "xy"} if scale else {}),
        )
        ax.set_xlim(*lims[0])
        ax.set_ylim(*lims[1])
        ax.set_aspect("equal", adjustable="box")
        ax.tick_params(labelsize=9, length=3, pad=2)
        ax.locator_params(nbins=5)
        ax.set_xlabel(names[dims[0]], fontsize=9, labelpad=1)
        ax.set_ylabel(names[dims[1]], fontsize=9, labelpad=0)
        ax.set_title(f"syllable {k}", fontsize=11, y=1.0, pad=4)  # fixed: no overlap search
    others = " (others at 0)" if D > 2 else ""
    one_scale = ", arrows on one scale" if scale else ""
    fig.suptitle(
        f"AR dynamics: expected one-step change in the plane of {names[dims[0]]} and "
        f"{names[dims[1]]}{others}{one_scale}",
        fontsize=12,
        y=1 - 0.12 / fig.get_figheight(),
    )
    if own:  # fixed margins: tight_layout over many panels is the slow part
        h, w = fig.get_figheight(), fig.get_figwidth()
        fig.subplots_adjust(
            left=0.55 / w,
            right=1 - 0.1 / w,
            bottom=0.5 / h,
            top=1 - 0.75 / h,
            wspace=0.35,
            hspace=0.5,
        )
    return finish(fig, path, layout=False)
