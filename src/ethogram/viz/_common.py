"""Shared pieces of the plots: one syllable palette, figure creation, saving, label runs.

Every plot in :mod:`ethogram.viz` colours syllable ``k`` with ``syllable_colors(K)[k]``, and
the colour of a syllable does not depend on ``K`` (the palette is one fixed sequence cut to
length), so a syllable keeps its colour across plots, reports and models with different
numbers of states. Figures are built with :class:`matplotlib.figure.Figure` directly (no
pyplot state, no GUI backend), which keeps plotting headless and safe in worker processes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .._runs import label_runs

__all__ = ["syllable_colors", "NO_SYLLABLE_COLOR", "save_figure"]

#: colour of frames without a syllable (masked frames, label -1): light grey, RGBA
NO_SYLLABLE_COLOR = np.array([0.85, 0.85, 0.85, 1.0])

# matplotlib's tab10 then the light halves of tab20: the first 20 syllables get the
# well-known qualitative colours (hex to avoid importing matplotlib here). The two greys of
# those palettes are replaced (navy and gold from tab20b) so that no syllable looks like the
# grey of masked frames.
_BASE = [
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#393b79",
    "#bcbd22",
    "#17becf",
    "#aec7e8",
    "#ffbb78",
    "#98df8a",
    "#ff9896",
    "#c5b0d5",
    "#c49c94",
    "#f7b6d2",
    "#bd9e39",
    "#dbdb8d",
    "#9edae5",
]


def _hex_to_rgba(h: str) -> np.ndarray:
    return np.array([int(h[i : i + 2], 16) / 255.0 for i in (1, 3, 5)] + [1.0])


def _hls_to_rgb(h: float, lightness: float, s: float) -> tuple:
    import colorsys

    return colorsys.hls_to_rgb(h, lightness, s)


def syllable_colors(num_states: int) -> np.ndarray:
    """The colour of each syllable, the same in every plot.

    Parameters
    ----------
    num_states : int
        Number of syllables K (>= 1).

    Returns
    -------
    colors : ndarray, shape (K, 4)
        RGBA in [0, 1]. Row ``k`` is syllable ``k``'s colour and does not depend on K:
        the first 20 are matplotlib's ``tab10`` followed by the light half of ``tab20``
        (greys swapped for navy and gold);
        beyond that, hues advance by the golden angle with alternating lightness, so
        neighbours stay distinguishable.

    Raises
    ------
    ValueError
        If ``num_states`` is not a positive integer.
    """
    if (
        isinstance(num_states, bool)
        or not isinstance(num_states, (int, np.integer))
        or num_states < 1
    ):
        raise ValueError(f"num_states must be a positive integer, got {num_states!r}")
    out = np.empty((int(num_states), 4))
    for k in range(int(num_states)):
        if k < len(_BASE):
            out[k] = _hex_to_rgba(_BASE[k])
        else:
            j = k - len(_BASE)
            hue = (0.11 + j * 0.618033988749895) % 1.0
            light = (0.45, 0.62, 0.35)[j % 3]
            out[k, :3] = _hls_to_rgb(hue, light, 0.65)
            out[k, 3] = 1.0
    return out


def label_colors(labels, num_states: int) -> np.ndarray:
    """RGBA per frame for labels (T,), grey where the label is -1."""
    labels = np.asarray(labels)
    pal = np.vstack([syllable_colors(num_states), NO_SYLLABLE_COLOR])
    idx = np.where(labels < 0, num_states, labels)
    return pal[idx]


def new_figure(ax=None, figsize=(6.0, 4.0), dpi: int = 100):
    """(figure, axes): the axes' figure when ``ax`` is given, else a fresh headless Figure."""
    if ax is not None:
        return ax.figure, ax
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, dpi=dpi)
    return fig, fig.add_subplot(1, 1, 1)


def save_figure(fig, path, dpi: int | None = None) -> Path:
    """Write a figure as PNG.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    path : str or Path
        Destination; parent folders are created. The suffix is forced to ``.png``.
    dpi : int, optional
        Dots per inch (default: the figure's own), so the PNG is
        ``figsize * dpi`` pixels (no tight bounding box: sizes are predictable).

    Returns
    -------
    Path
        The path written.
    """
    path = Path(path)
    if path.suffix.lower() != ".png":
        path = path.with_suffix(".png")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", dpi=dpi if dpi is not None else fig.dpi)
    return path


def finish(fig, path, dpi=None, layout=True):
    """Tight layout, optional PNG, return the figure."""
    if layout:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fig.tight_layout()
    if path is not None:
        save_figure(fig, path, dpi=dpi)
    return fig


# ------------------------------------------------------------------ labels
def as_label_list(syllables, name: str = "syllables") -> list:
    """One (T,) int array or a list/dict of them -> list of int64 arrays."""
    if isinstance(syllables, dict):
        syllables = list(syllables.values())
    if isinstance(syllables, np.ndarray) and syllables.ndim == 1:
        syllables = [syllables]
    if not isinstance(syllables, (list, tuple)) or len(syllables) == 0:
        raise TypeError(f"{name} must be a (T,) integer array or a non-empty list or dict of them")
    out = []
    for i, s in enumerate(syllables):
        a = np.asarray(s)
        if a.ndim != 1:
            raise ValueError(f"{name}[{i}] must be one-dimensional (T,), got shape {a.shape}")
        if a.size and not np.issubdtype(a.dtype, np.integer):
            if not np.all(np.isfinite(a)) or not np.all(a == np.round(a)):
                raise ValueError(f"{name}[{i}] must hold integer labels (-1 = no syllable)")
        out.append(a.astype(np.int64))
    return out


def infer_num_states(labels: list, num_states) -> int:
    top = max((int(a.max()) for a in labels if a.size), default=-1)
    if num_states is None:
        return max(top + 1, 1)
    num_states = int(num_states)
    if top >= num_states:
        raise ValueError(
            f"syllables hold label {top} but num_states is {num_states}; give num_states > {top}"
        )
    return num_states


def usage_counts(labels: list, num_states: int, count: str = "instances") -> np.ndarray:
    """Per-syllable counts over recordings: runs ("instances") or frames."""
    out = np.zeros(num_states, dtype=np.int64)
    for a in labels:
        if count == "frames":
            v = a[a >= 0]
        else:
            v = label_runs(a)[2]
            v = v[v >= 0]
        out += np.bincount(v, minlength=num_states)[:num_states]
    return out


def frequency_order(counts) -> np.ndarray:
    """Syllables sorted by decreasing count (ties by syllable number)."""
    counts = np.asarray(counts)
    return np.lexsort((np.arange(counts.size), -counts))
