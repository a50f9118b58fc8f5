"""study_ar_prior.py's report: means over folds and seeds, the choice across data sets, markdown.

From the rows :func:`_ar_prior_fits.study` returns, :func:`summarize` and :func:`noise_summary`
average each ridge (and noise prior) over folds and seeds, :func:`recommend` compares the ridges
across the data sets not in ``NOT_COUNTED`` and :func:`markdown` writes the report's tables.
"""

from __future__ import annotations

import _one_thread  # noqa: F401  (pins threads before numpy is imported)

# isort: split

import numpy as np

from _ar_prior_fits import (
    DEFAULT_K,
    KAPPA_FACTORS,
    NOISE_PRIORS,
    NOISE_RIDGES,
    NUM_FOLDS,
    NUM_LAGS,
    RIDGES,
)

#: measured but left out of the choice across data sets: moseq2_50pcs has 151 regressors per
#: state on ~34 training frames per state, an over-fit no ridge in RIDGES repairs (its losses
#: would decide alone); openfield_4pcs is the open-field mouse again, prepared as issue 9's
#: notes (4 PCs) were, to compare with them
NOT_COUNTED = ("moseq2_50pcs", "openfield_4pcs")


def fold_means(res, key, factor=1) -> np.ndarray:
    """(NUM_FOLDS, len(RIDGES)) means over seeds of ``key`` at one kappa factor."""
    out = np.full((NUM_FOLDS, len(RIDGES)), np.nan)
    for f in range(NUM_FOLDS):
        for j, ridge in enumerate(RIDGES):
            v = [
                r[key]
                for r in res["rows"]
                if r["fold"] == f and r["ridge"] == ridge and r["kappa_factor"] == factor
            ]
            out[f, j] = np.mean(v)
    return out


def summarize(res) -> list[dict]:
    """One row per ridge: held-out LL (mean over folds and seeds; its paired difference to
    today's r = 1e-4 with the standard error over folds), training LL, durations, usage, time."""
    held = fold_means(res, "heldout_ll_per_frame")
    diff = held - held[:, [RIDGES.index(1e-4)]]
    out = []
    for j, ridge in enumerate(RIDGES):
        s = {
            "ridge": ridge,
            "heldout": float(held[:, j].mean()),
            "delta_vs_default": float(diff[:, j].mean()),
            "delta_sem": float(diff[:, j].std(ddof=1) / np.sqrt(NUM_FOLDS))
            if NUM_FOLDS > 1
            else 0.0,
        }
        for f in KAPPA_FACTORS:
            rows = [r for r in res["rows"] if r["ridge"] == ridge and r["kappa_factor"] == f]
            for key in (
                "heldout_ll_per_frame",
                "train_ll_per_frame",
                "median_duration_frames",
                "median_duration_ms",
                "one_frame_syllables",
                "used_syllables",
            ):
                s[f"{key}@{f}"] = float(np.mean([r[key] for r in rows]))
            s[f"fit_seconds@{f}"] = float(np.median([r["fit_seconds"] for r in rows]))
        out.append(s)
    return out


def noise_summary(res) -> dict:
    """{noise label: {ridge: (held-out, median duration frames, used syllables)}}, means over
    folds and seeds at kappa x1 (today's prior from the main rows)."""
    out = {}
    for label in NOISE_PRIORS:
        rows = (
            [r for r in res["rows"] if r["kappa_factor"] == 1]
            if label == next(iter(NOISE_PRIORS))
            else [r for r in res.get("noise_rows", []) if r["noise"] == label]
        )
        cells = {}
        for ridge in NOISE_RIDGES:
            rr = [r for r in rows if r["ridge"] == ridge]
            if rr:
                cells[ridge] = tuple(
                    float(np.mean([r[k] for r in rr]))
                    for k in ("heldout_ll_per_frame", "median_duration_frames", "used_syllables")
                )
        if cells:
            out[label] = cells
    return out


def recommend(results) -> dict:
    """Per data set: the best ridge by held-out LL at the default kappa (mean over folds), the
    ridges within one standard error of it (paired over folds), the folds each ridge wins;
    across data sets: the ridge with the smallest worst-case loss behind each data set's best."""
    per, loss = {}, {}
    for res in results:
        if res["name"] in NOT_COUNTED:
            continue
        held = fold_means(res, "heldout_ll_per_frame")
        m = held.mean(axis=0)
        best = int(np.argmax(m))
        d = held[:, [best]] - held
        se = d.std(axis=0, ddof=1) / np.sqrt(NUM_FOLDS)
        wins = np.bincount(np.argmax(held, axis=1), minlength=len(RIDGES))
        per[res["name"]] = {
            "best_ridge": RIDGES[best],
            "best_heldout": float(m[best]),
            "within_one_se": [RIDGES[j] for j in range(len(RIDGES)) if d[:, j].mean() <= se[j]],
            "folds_won": {f"{RIDGES[j]:g}": int(wins[j]) for j in range(len(RIDGES))},
        }
        loss[res["name"]] = (m[best] - m).tolist()
    if not loss:
        return {"per_dataset": {}, "loss_vs_best": {}}
    L = np.array(list(loss.values()))
    worst, mean = L.max(axis=0), L.mean(axis=0)
    ranks = np.mean([np.argsort(np.argsort(x)) + 1 for x in L], axis=0)  # 1 = best on a data set
    used = np.min(
        [[s["used_syllables@1"] for s in summarize(res)] for res in results if res["name"] in loss],
        axis=0,
    )
    keeps = used >= DEFAULT_K / 2  # ridges that keep at least half the syllables in use everywhere
    order = np.lexsort((mean, worst))
    kept = [int(j) for j in order if keeps[j]]
    return {
        "per_dataset": per,
        "loss_vs_best": loss,
        "worst_loss": worst.tolist(),
        "mean_loss": mean.tolist(),
        "mean_rank": ranks.tolist(),
        "min_used_syllables": used.tolist(),
        "min_worst_loss_ridge": RIDGES[int(order[0])],
        "min_mean_loss_ridge": RIDGES[int(np.argmin(mean))],
        "best_mean_rank_ridge": RIDGES[int(np.argmin(ranks))],
        "min_worst_loss_ridge_keeping_syllables": RIDGES[kept[0]] if kept else None,
    }


def markdown(results, rec, meta) -> str:
    """The report: one table per data set, then the comparison across data sets."""
    L = [
        "# Ridge prior on the AR weights: held-out fit and syllable durations",
        "",
        f"Generated by `bench/study_ar_prior.py` ({meta['date']}, commit {meta['commit']}, "
        f"{meta['machine']}, "
        f"{meta['total_seconds'] / 60:.0f} min). K = {meta['K']}, {NUM_LAGS} lags, inputs "
        "standardized by `Preparation`; "
        f"{NUM_FOLDS} time folds (each quarter of every recording held out once, the other three "
        "train) x seeds "
        f"0..{meta['seeds'] - 1}, the same for every r. r = `prior_ridge` on standardized inputs "
        "(r = 1e-4 is today's "
        "default). kappa = `ethogram.stickiness.reference_kappa` of the training frames (x1; the "
        "default kappa until issue 15), and x10, x100.",
        "",
        "Columns: held-out and train = log-likelihood per scored frame (nats; held-out is the "
        "predictive "
        "log p(x_t | x_1..t-1) of the held-out block); Δ = held-out minus r = 1e-4's, paired per "
        "fold, ± its "
        "standard error over the folds; used = syllables with usage > 0.5%; s = median seconds "
        "per fit "
        "(one thread, shared machine). Durations: median Viterbi run of the training frames in "
        "frames (ms), "
        "and 1-fr = syllables whose own median run is 1 frame, at kappa x1 / x10 / x100. All "
        "means over folds "
        "and seeds.",
        "",
    ]
    for res in results:
        summ = summarize(res)
        L += [
            f"## {res['name']}",
            "",
            f"{res['description']}: {len(res['frames'])} recording(s), {sum(res['frames'])} frames "
            f"({res['usable_frames']} usable), {res['input_dim']} inputs; default kappa "
            f"{np.mean(res['kappa_default_per_fold']):.3g}.",
            "",
            "| r | held-out | Δ vs 1e-4 | train | gap | used | s | median duration x1 / x10 / "
            "x100 | 1-fr x1 / x10 / x100 | held-out x10 / x100 |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for s in summ:
            dur = " / ".join(
                f"{s[f'median_duration_frames@{f}']:.1f} ({s[f'median_duration_ms@{f}']:.0f})"
                for f in KAPPA_FACTORS
            )
            one = " / ".join(f"{s[f'one_frame_syllables@{f}']:.1f}" for f in KAPPA_FACTORS)
            hk = " / ".join(f"{s[f'heldout_ll_per_frame@{f}']:.3f}" for f in KAPPA_FACTORS[1:])
            L.append(
                f"| {s['ridge']:g} | {s['heldout']:.3f} | {s['delta_vs_default']:+.3f} ± "
                f"{s['delta_sem']:.3f} | "
                f"{s['train_ll_per_frame@1']:.3f} | {s['train_ll_per_frame@1'] - s['heldout']:.2f} "
                "| "
                f"{s['used_syllables@1']:.1f} | {s['fit_seconds@1']:.2f} | {dur} | {one} | {hk} |"
            )
        held = fold_means(res, "heldout_ll_per_frame")
        L += [
            "",
            "Held-out LL per fold (mean over seeds, kappa x1; fold f holds out quarter f of "
            "every recording):",
            "",
            "| fold | " + " | ".join(f"r={r:g}" for r in RIDGES) + " |",
            "|---|" + "---|" * len(RIDGES),
        ]
        L += [
            f"| {f} | " + " | ".join(f"{x:.3g}" for x in held[f]) + " |" for f in range(NUM_FOLDS)
        ]
        L.append("")
    if any(res.get("noise_rows") for res in results):
        L += [
            "## Side measurement: the prior on the noise covariances",
            "",
            "Same protocol at kappa x1 for four inverse-Wishart priors on Q_k (n0 = "
            "`prior_count` pseudo-frames "
            "pulling Q_k towards s0 I, s0 = `prior_scale`, absolute on standardized inputs; "
            "today: n0 = 1, "
            "s0 = 1e-4 x variance) and r in "
            + ", ".join(f"{r:g}" for r in NOISE_RIDGES)
            + ". Cells: held-out "
            "LL per frame / median duration (frames) / used syllables.",
            "",
        ]
        for res in results:
            ns = noise_summary(res)
            if len(ns) < 2:
                continue
            L += [
                f"**{res['name']}**",
                "",
                "| noise prior | " + " | ".join(f"r={r:g}" for r in NOISE_RIDGES) + " |",
                "|---|" + "---|" * len(NOISE_RIDGES),
            ]
            for label, cells in ns.items():
                L.append(
                    f"| {label} | "
                    + " | ".join(
                        (
                            f"{cells[r][0]:.3f} / {cells[r][1]:.1f} / {cells[r][2]:.1f}"
                            if abs(cells[r][0]) < 1e3
                            else f"{cells[r][0]:.3g} / {cells[r][1]:.1f} / {cells[r][2]:.1f}"
                        )
                        if r in cells
                        else ""
                        for r in NOISE_RIDGES
                    )
                    + " |"
                )
            L.append("")
    if not rec["loss_vs_best"]:
        return "\n".join(L)
    L += [
        "## Across data sets",
        "",
        f"Not counted here: {', '.join(NOT_COUNTED)}. Held-out LL per frame behind each data "
        "set's best r (nats/frame, default kappa, mean over folds "
        "and seeds; 0 = best). 'within 1 SE': r whose paired deficit to the best is at most its "
        "standard "
        "error over folds; 'folds won': folds where r has the best held-out LL (seed means).",
        "",
        "| data set | "
        + " | ".join(f"r={r:g}" for r in RIDGES)
        + " | best r | within 1 SE | folds won |",
        "|---|" + "---|" * (len(RIDGES) + 3),
    ]
    for name, loss in rec["loss_vs_best"].items():
        p = rec["per_dataset"][name]
        won = ", ".join(f"{k}: {v}" for k, v in p["folds_won"].items() if v)
        L.append(
            f"| {name} | "
            + " | ".join(f"{x:.3f}" for x in loss)
            + f" | {p['best_ridge']:g} | "
            + ", ".join(f"{r:g}" for r in p["within_one_se"])
            + f" | {won} |"
        )
    L.append("| worst | " + " | ".join(f"{x:.3f}" for x in rec["worst_loss"]) + " | | | |")
    L.append("| mean | " + " | ".join(f"{x:.3f}" for x in rec["mean_loss"]) + " | | | |")
    L.append("| mean rank | " + " | ".join(f"{x:.2f}" for x in rec["mean_rank"]) + " | | | |")
    L.append(
        "| fewest used syllables | "
        + " | ".join(f"{x:.1f}" for x in rec["min_used_syllables"])
        + " | | | |"
    )
    keep = rec["min_worst_loss_ridge_keeping_syllables"]
    L += [
        "",
        f"Smallest worst-case loss: r = {rec['min_worst_loss_ridge']:g}; smallest mean loss: "
        f"r = {rec['min_mean_loss_ridge']:g}; best mean rank: r = "
        f"{rec['best_mean_rank_ridge']:g}; smallest worst-case "
        f"loss among the r that keep at least {DEFAULT_K // 2} syllables in use on every data set: "
        + (f"r = {keep:g}." if keep is not None else "none."),
        "",
    ]
    return "\n".join(L)
