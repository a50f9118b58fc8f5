"""Pictures of how syllables follow one another: the transition matrix and a transition graph.

Both take a (K, K) row-stochastic matrix, either the model's transition matrix or the
bigram transition probabilities counted from the labels (self-transitions excluded, as
MoSeq shows them); :func:`off_diagonal_probabilities` turns one into the other. The graph
is laid out with networkx: nodes sized by usage, edges by probability, self-transitions left
out.
"""

from __future__ import annotations

import numpy as np

from ._common import finish, new_figure, syllable_colors

__all__ = ["plot_transition_matrix", "plot_transition_graph", "off_diagonal_probabilities"]


def _check_square(P, name="transition_matrix") -> np.ndarray:
    P = np.asarray(P, dtype=float)
    if P.ndim != 2 or P.shape[0] != P.shape[1] or P.shape[0] == 0:
        raise ValueError(f"{name} must be a square (K, K) array, got shape {P.shape}")
    if not np.all(np.isfinite(P)) or P.min() < 0:
        raise ValueError(f"{name} must hold finite non-negative probabilities")
    return P


def off_diagonal_probabilities(transition_matrix) -> np.ndarray:
    """Probabilities of the next *different* syllable: zero the diagonal, renormalise rows.

    Parameters
    ----------
    transition_matrix : array_like, shape (K, K)

    Returns
    -------
    ndarray, shape (K, K)
        ``P[i, j] / (1 - P[i, i])`` off the diagonal, 0 on it; a row with no way out stays 0.
    """
    P = _check_square(transition_matrix).copy()
    np.fill_diagonal(P, 0.0)
    s = P.sum(axis=1, keepdims=True)
    return np.divide(P, s, out=np.zeros_like(P), where=s > 0)


def plot_transition_matrix(
    transition_matrix,
    order=None,
    exclude_self: bool = False,
    log_scale: bool = False,
    ax=None,
    title=None,
    figsize=(6.0, 5.0),
    dpi: int = 100,
    path=None,
):
    """Heat map of a transition matrix, rows = from, columns = to.

    Parameters
    ----------
    transition_matrix : array_like, shape (K, K)
        Row-stochastic probabilities.
    order : sequence of int, optional
        Syllables to show and their order (default: 0..K-1, which is usage order for models
        renumbered by frequency).
    exclude_self : bool, default False
        Show :func:`off_diagonal_probabilities` instead (what follows when the syllable ends).
    log_scale : bool, default False
        Colour by log10 probability (floored at 1e-4).
    ax, title, figsize, dpi, path : as in :func:`ethogram.viz.plot_usage`.

    Returns
    -------
    matplotlib.figure.Figure
        The image's data (``ax.images[0].get_array()``) is the matrix shown.

    Raises
    ------
    ValueError
        If the matrix is not square with finite non-negative entries, or ``order`` is not a
        list of distinct syllables.
    """
    P = (
        off_diagonal_probabilities(transition_matrix)
        if exclude_self
        else _check_square(transition_matrix)
    )
    K = P.shape[0]
    order = np.arange(K) if order is None else np.asarray(order, dtype=int)
    if (
        order.ndim != 1
        or len(set(order.tolist())) != order.size
        or order.min(initial=0) < 0
        or order.max(initial=0) >= K
    ):
        raise ValueError(f"order must list distinct syllables in 0..{K - 1}")
    M = P[np.ix_(order, order)]
    fig, ax = new_figure(ax, figsize, dpi)
    if log_scale:
        shown = np.log10(np.maximum(M, 1e-4))
        im = ax.imshow(shown, cmap="magma_r", vmin=-4, vmax=0, interpolation="nearest")
        label = "log10 probability"
    else:
        im = ax.imshow(
            M, cmap="Greys", vmin=0, vmax=max(float(M.max()), 1e-12), interpolation="nearest"
        )
        label = "probability"
    cb = fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    cb.set_label(label)
    n = order.size
    step = max(1, int(np.ceil(n / 25)))
    ticks = np.arange(0, n, step)
    ax.set_xticks(ticks)
    ax.set_xticklabels([str(order[t]) for t in ticks], fontsize=8)
    ax.set_yticks(ticks)
    ax.set_yticklabels([str(order[t]) for t in ticks], fontsize=8)
    colors = syllable_colors(K)
    from matplotlib.colors import to_rgb

    for t, lab in zip(np.concatenate([ticks, ticks]), ax.get_yticklabels() + ax.get_xticklabels()):
        # the syllable's colour as the label's background, the text black or white by luminance
        # (pale palette colours as text were unreadable on white)
        r, g, b = to_rgb(colors[order[t]])
        lab.set_bbox(dict(facecolor=(r, g, b), edgecolor="none", boxstyle="square,pad=0.2"))
        lab.set_color("black" if 0.299 * r + 0.587 * g + 0.114 * b > 0.5 else "white")
    ax.set_xlabel("to syllable")
    ax.set_ylabel("from syllable")
    ax.set_title(
        title
        if title is not None
        else ("transitions (self excluded)" if exclude_self else "transition matrix")
    )
    return finish(fig, path)


def plot_transition_graph(
    transition_matrix,
    usage,
    threshold: float = 0.05,
    order=None,
    layout: str = "circular",
    seed: int = 0,
    max_node_size: float = 1500.0,
    max_edge_width: float = 6.0,
    ax=None,
    title=None,
    figsize=(6.5, 6.5),
    dpi: int = 100,
    path=None,
):
    """Syllables as nodes (area ~ usage), transitions as arrows (width ~ probability).

    Parameters
    ----------
    transition_matrix : array_like, shape (K, K)
        Row-stochastic; the diagonal (self-transitions) is never drawn. Pass bigram
        probabilities, or the model's matrix with :func:`off_diagonal_probabilities`.
    usage : array_like, shape (K,)
        Non-negative usage per syllable (counts or fractions); node area is proportional.
    threshold : float, default 0.05
        Leave out edges with probability below this.
    order : sequence of int, optional
        Syllables to draw (default: those with usage > 0), placed in this order around the
        circle.
    layout : {"circular", "spring"}, default "circular"
        ``networkx.circular_layout`` in ``order`` (reads like a clock, deterministic), or
        ``networkx.spring_layout`` weighted by probability (``seed`` fixes it).
    seed : int, default 0
    max_node_size : float, default 1500
        Marker area (points^2) of the most used syllable.
    max_edge_width : float, default 6
        Line width (points) of an edge of probability 1.
    ax, title, figsize, dpi, path : as in :func:`ethogram.viz.plot_usage`.

    Returns
    -------
    matplotlib.figure.Figure
        Node sizes are ``max_node_size * usage / max(usage)``; edge widths
        ``max_edge_width * P[i, j]``.

    Raises
    ------
    ValueError
        If shapes disagree, usage is negative, or ``layout`` is unknown.

    Notes
    -----
    The picture keypoint-moseq and moseq2-viz draw (``plot_transition_graph``), built on
    networkx's layouts and drawing functions.
    """
    import networkx as nx

    P = _check_square(transition_matrix)
    K = P.shape[0]
    u = np.asarray(usage, dtype=float)
    if u.shape != (K,):
        raise ValueError(f"usage must have shape ({K},) to match transition_matrix, got {u.shape}")
    if not np.all(np.isfinite(u)) or u.min() < 0:
        raise ValueError("usage must hold finite non-negative numbers")
    if layout not in ("circular", "spring"):
        raise ValueError(f"layout must be 'circular' or 'spring', got {layout!r}")
    nodes = [int(k) for k in (np.flatnonzero(u > 0) if order is None else order)]
    G = nx.DiGraph()
    G.add_nodes_from(nodes)
    for i in nodes:
        for j in nodes:
            if i != j and P[i, j] >= threshold and P[i, j] > 0:
                G.add_edge(i, j, weight=float(P[i, j]))
    if layout == "circular":
        pos = nx.circular_layout(nodes)  # counter-clockwise from 3 o'clock, in ``order``
    else:
        pos = nx.spring_layout(G, weight="weight", seed=seed)
    fig, ax = new_figure(ax, figsize, dpi)
    colors = syllable_colors(K)
    umax = float(u[nodes].max()) if nodes and u[nodes].max() > 0 else 1.0
    sizes = [max_node_size * u[k] / umax for k in nodes]
    edges = list(G.edges())
    widths = [max_edge_width * G.edges[e]["weight"] for e in edges]
    if edges:
        nx.draw_networkx_edges(
            G,
            pos,
            edgelist=edges,
            width=widths,
            ax=ax,
            edge_color=[colors[i] for i, _ in edges],
            alpha=0.75,
            arrows=True,
            arrowsize=10,
            node_size=sizes,
            nodelist=nodes,
            connectionstyle="arc3,rad=0.12",
        )
    nx.draw_networkx_nodes(
        G,
        pos,
        nodelist=nodes,
        node_size=sizes,
        node_color=[colors[k] for k in nodes],
        edgecolors="#333333",
        linewidths=0.8,
        ax=ax,
    )
    nx.draw_networkx_labels(G, pos, labels={k: str(k) for k in nodes}, font_size=9, ax=ax)
    ax.set_xlim(-1.25, 1.25)
    ax.set_ylim(-1.25, 1.25)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(
        title if title is not None else f"transition graph (p >= {threshold:g}, self excluded)"
    )
    return finish(fig, path)
