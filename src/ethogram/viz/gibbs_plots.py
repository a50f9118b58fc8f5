"""Plots of fits by Gibbs sampling: the log joint per sweep and the keypoint SLDS's estimates.

:func:`plot_log_joint` draws the sampler's log joint (jax-moseq's ``model_likelihood``
groups summed) after each sweep, the AR-only stage shaded; :func:`plot_keypoint_estimates`
draws, for a stretch of frames, each body part's tracked coordinates (dots, faint where the
confidence gave a large noise) against the keypoint SLDS's estimate (lines).
:func:`gibbs_plot_jobs` adds both to the report (:mod:`ethogram.viz.report`).
"""

from __future__ import annotations

import numpy as np

from ._common import finish, new_figure

__all__ = ["gibbs_plot_jobs", "plot_keypoint_estimates", "plot_log_joint"]

#: frames of the raw-against-estimated plot
ESTIMATE_FRAMES = 300


def plot_log_joint(log_joint, ar_iters: int = 0, ax=None, title=None, figsize=(6.0, 3.5),
                   dpi: int = 100, path=None):  # fmt: skip
    """The sampler's log joint over sweeps.

    Parameters
    ----------
    log_joint : array_like, shape (n,)
        After each sweep (0 = the start).
    ar_iters : int
        Sweeps of the AR-only stage (shaded); its log joint keeps the start's pose terms.
    ax, title, figsize, dpi, path
        As the other plots (a new figure when ``ax`` is None; written as PNG to ``path``).

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If ``log_joint`` is empty or not one-dimensional.
    """
    y = np.asarray(log_joint, dtype=float)
    if y.ndim != 1 or y.size == 0:
        raise ValueError(f"log_joint must be a non-empty 1-D array, got shape {y.shape}")
    fig, ax = new_figure(ax, figsize, dpi)
    if ar_iters:
        ax.axvspan(0, ar_iters, color="0.9", label="AR-only stage")
    ax.plot(np.arange(y.size), y, "-", lw=1.2, color="#1f77b4", label="log joint")
    ax.legend(frameon=False, fontsize=9)
    ax.set_xlabel("Gibbs sweep")
    ax.set_ylabel("log joint")
    ax.grid(True, alpha=0.3)
    ax.set_title(title if title is not None else "Gibbs sampler's log joint")
    ax.spines[["top", "right"]].set_visible(False)
    return finish(fig, path)


def plot_keypoint_estimates(raw, estimated, noise_variance=None, bodyparts=None, fps=None,
                            start: int = 0, figsize=(10.0, 5.0), dpi: int = 100, title=None,
                            path=None):  # fmt: skip
    """Tracked against estimated keypoints, x and y over time, one colour per body part.

    Parameters
    ----------
    raw, estimated : array_like, shape (T, B, S)
        The tracked keypoints (NaN = missing) and the model's estimate, pixels.
    noise_variance : array_like, shape (T, B), optional
        Points with a variance above 10x the body part's median are drawn hollow.
    bodyparts : sequence of str, optional
    fps : float, optional
        Seconds on the x axis (frames without it).
    start : int
        Frame index of the first row (for the axis).

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure

    Y, E = np.asarray(raw, dtype=float), np.asarray(estimated, dtype=float)
    T, B = Y.shape[:2]
    t = (start + np.arange(T)) / (fps or 1.0)
    fig = Figure(figsize=figsize, dpi=dpi)
    axes = fig.subplots(2, 1, sharex=True)
    colors = [f"C{b % 10}" for b in range(B)]
    noisy = np.zeros((T, B), bool)
    if noise_variance is not None:
        nv = np.asarray(noise_variance, dtype=float)
        noisy = nv > 10 * np.median(nv, axis=0, keepdims=True)
    for c, ax in enumerate(axes):
        for b in range(B):
            name = bodyparts[b] if bodyparts is not None else f"part {b}"
            ax.plot(t, E[:, b, c], "-", lw=1.0, color=colors[b], label=name if c == 0 else None)
            ax.plot(t[~noisy[:, b]], Y[~noisy[:, b], b, c], ".", ms=2.5, color=colors[b])
            ax.plot(t[noisy[:, b]], Y[noisy[:, b], b, c], "o", ms=3.5, mfc="none", color=colors[b])
        ax.set_ylabel(f"{'xy'[c]} (px)")
        ax.grid(True, alpha=0.3)
        ax.spines[["top", "right"]].set_visible(False)
    axes[0].legend(frameon=False, fontsize=8, ncol=min(B, 6))
    axes[1].set_xlabel("time (s)" if fps else "frame")
    axes[0].set_title(
        title or "tracked (dots; hollow: large noise) and estimated (lines) keypoints"
    )
    return finish(fig, path)


def gibbs_plot_jobs(results) -> list:
    """The report's plot jobs of a Gibbs fit: ``log_joint`` and, for the keypoint SLDS, the
    first recording's first :data:`ESTIMATE_FRAMES` frames, raw against estimated."""
    fit = results.fit or {}
    jobs = []
    if "log_joint" in fit:
        ar_iters = int(results.config.get("ar_iters", 0) or 0)
        jobs.append(("log_joint", {"log_joint": np.asarray(fit["log_joint"], float),
                                       "ar_iters": ar_iters}, "plots/log_joint.png"))  # fmt: skip
    for rec in results.recordings[:1]:
        if rec.estimated_keypoints is None or rec.keypoints is None:
            continue
        n = min(rec.num_frames, ESTIMATE_FRAMES)
        nv = None if rec.noise_variance is None else rec.noise_variance[:n]
        kw = {
            "raw": rec.keypoints[:n],
            "estimated": rec.estimated_keypoints[:n],
            "noise_variance": nv,
            "bodyparts": rec.bodyparts,
            "fps": rec.fps,
            "title": f"{rec.name}: tracked (dots; hollow: large noise) and estimated keypoints",
        }
        jobs.append(("keypoint_estimates", kw, "plots/keypoint_estimates.png"))
    return jobs
