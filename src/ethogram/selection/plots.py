"""Figures of model selection for the report (matplotlib, Agg backend, PNG files).

Held-out log-likelihood against K with its spread over restarts; median syllable duration
against kappa with the target (and the model-free changepoint durations beside it); matched
agreement across restarts; the dendrogram of syllables. Each function takes the result
object of the selection function it draws and a path, writes one PNG and returns the path.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _figure(width=5.0, height=3.6):
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt, plt.figure(figsize=(width, height))


def _save(plt, fig, path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot_cross_validation(cv, path) -> Path:
    """Held-out log-likelihood per frame against K: every fit (dots), mean +- one standard
    error (line and band), the best K and the one-standard-error K marked."""
    plt, fig = _figure()
    ax = fig.add_subplot(111)
    t, s = cv.table, cv.summary
    ax.scatter(
        t["num_states"],
        t["heldout_ll_per_frame"],
        s=10,
        color="0.6",
        label="fits (restarts, folds)",
    )
    ax.plot(s["num_states"], s["mean"], "o-", color="C0", label="mean")
    ax.fill_between(
        s["num_states"],
        s["mean"] - s["sem"],
        s["mean"] + s["sem"],
        color="C0",
        alpha=0.2,
        label="+- 1 s.e.",
    )
    ax.axvline(
        cv.best_num_states, color="C3", ls="--", lw=1, label=f"best K = {cv.best_num_states}"
    )
    if cv.one_se_num_states != cv.best_num_states:
        ax.axvline(
            cv.one_se_num_states,
            color="C2",
            ls=":",
            lw=1,
            label=f"1-s.e. K = {cv.one_se_num_states}",
        )
    ax.set_xlabel("number of states K")
    ax.set_ylabel("held-out log-likelihood per frame")
    ax.legend(fontsize=7)
    return _save(plt, fig, path)


def plot_kappa_search(search, path, changepoint_durations=None, fps=None) -> Path:
    """Median syllable duration against kappa (log axis), every evaluated fit, the target
    band (+- 15%), the chosen kappa, and the median model-free changepoint block duration
    when given (frames)."""
    plt, fig = _figure()
    ax = fig.add_subplot(111)
    c = search.curve
    scale = 1.0 if fps is None else 1.0 / float(fps)
    unit = "frames" if fps is None else "s"
    ax.plot(
        c["kappa"], c["median_duration"] * scale, "o-", color="C0", label="median syllable duration"
    )
    tgt = search.target_frames * scale
    ax.axhline(tgt, color="C3", lw=1, label="target")
    ax.axhspan(0.85 * tgt, 1.15 * tgt, color="C3", alpha=0.1)
    ax.axvline(search.kappa, color="k", ls="--", lw=1, label=f"chosen kappa = {search.kappa:.3g}")
    if changepoint_durations is not None and len(changepoint_durations):
        ax.axhline(
            float(np.median(changepoint_durations)) * scale,
            color="C2",
            ls=":",
            label="median changepoint block",
        )
    ax.set_xscale("log")
    ax.set_xlabel("kappa (stickiness)")
    ax.set_ylabel(f"median duration ({unit})")
    ax.legend(fontsize=7)
    return _save(plt, fig, path)


def plot_durations(syllable_durations, changepoint_durations, path, fps=None) -> Path:
    """Histograms of syllable durations and model-free changepoint block durations."""
    plt, fig = _figure()
    ax = fig.add_subplot(111)
    scale = 1.0 if fps is None else 1.0 / float(fps)
    a = np.asarray(syllable_durations) * scale
    b = np.asarray(changepoint_durations) * scale
    hi = max(a.max() if a.size else 1, b.max() if b.size else 1)
    bins = np.linspace(0, hi, 40)
    ax.hist(
        a,
        bins=bins,
        alpha=0.6,
        density=True,
        label=f"syllables (median {np.median(a) if a.size else np.nan:.3g})",
    )
    ax.hist(
        b,
        bins=bins,
        alpha=0.6,
        density=True,
        label=f"changepoints (median {np.median(b) if b.size else np.nan:.3g})",
    )
    ax.set_xlabel("duration (" + ("frames" if fps is None else "s") + ")")
    ax.set_ylabel("density")
    ax.legend(fontsize=7)
    return _save(plt, fig, path)


def plot_stability(stab, path) -> Path:
    """Matched agreement between every pair of fits (heat map, consensus fit marked) and how
    reliably each consensus syllable recurs (bars)."""
    plt, fig = _figure(8.0, 3.6)
    ax = fig.add_subplot(121)
    im = ax.imshow(stab.agreement, vmin=0, vmax=1, cmap="viridis")
    N = stab.agreement.shape[0]
    for i in range(N):
        for j in range(N):
            ax.text(
                j, i, f"{stab.agreement[i, j]:.2f}", ha="center", va="center", fontsize=7, color="w"
            )
    ax.set_title(f"matched agreement (mean {stab.mean_agreement:.2f})", fontsize=9)
    ax.set_xlabel("fit")
    ax.set_ylabel("fit")
    ax.set_xticks(range(N))
    ax.set_yticks(range(N))
    ax.get_yticklabels()[stab.consensus].set_color("C3")
    fig.colorbar(im, ax=ax, fraction=0.046)
    ax2 = fig.add_subplot(122)
    p = stab.per_syllable
    ax2.bar(p["syllable"], p["recurrence_mean"], color="C0")
    ax2.set_ylim(0, 1)
    ax2.set_xlabel("syllable (consensus fit)")
    ax2.set_ylabel("recurrence in other fits")
    return _save(plt, fig, path)


def plot_dendrogram(linkage_matrix, path, threshold=None, labels=None) -> Path:
    """Dendrogram of syllables (from :func:`ethogram.selection.syllable_linkage`), with the
    merge threshold drawn when given."""
    from scipy.cluster.hierarchy import dendrogram

    plt, fig = _figure(6.0, 3.6)
    ax = fig.add_subplot(111)
    dendrogram(linkage_matrix, ax=ax, labels=labels, color_threshold=threshold)
    if threshold is not None:
        ax.axhline(threshold, color="C3", ls="--", lw=1)
    ax.set_xlabel("syllable")
    ax.set_ylabel("distance between dynamics")
    return _save(plt, fig, path)
