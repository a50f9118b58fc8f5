"""Model selection on the open-field keypoints: a K selection and a kappa search on 1 and 2 cores.

Times ``cross_validate`` over 7 values of K and ``find_kappa`` serially and with 2 worker
processes (results checked identical across worker counts), and measures what lies behind
``ethogram.selection.kappa``'s account of why syllable durations seemed not to follow kappa (the
search's curve, warm against cold starts, held-out likelihood with a ridge AR prior,
changepoint blocks); ``--write`` replaces the section ``## Selection`` of BENCHMARKS.md. The
data and how to run it: ``--help``.
"""

from __future__ import annotations

import _one_thread  # noqa: F401  (pins threads before numpy is imported)

# isort: split

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
SECTION = "## Selection"
KS = [2, 4, 6, 10, 15, 20, 30]
REPEATS = 3


def load():
    from ethogram.io import read_recordings
    from ethogram.prep import Preparation

    recs = read_recordings(DATA / "openfield" / "keypoints.csv", fps=30)
    p = Preparation(num_pcs=4).fit_transform(recs)[0]
    x = np.array(p.inputs, dtype=np.float64)
    x[~np.asarray(p.mask, bool)] = np.nan
    half = x.shape[0] // 2
    return [x[:half], x[half:]], float(p.fps)


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def warm_vs_cold(sequences, K, kappas, seeds=(0, 1, 2)):
    """A chain of fits, each started from the previous (smaller) kappa's fit, against cold
    k-means fits from several seeds at the same kappa."""
    from ethogram.selection import run_lengths
    from ethogram.selection._common import check_datas, fit_model, model_spec, viterbi_labels

    sequences, masks = check_datas(sequences)
    rows, params = [], None
    for kappa in kappas:
        spec = model_spec(K, "autoregressive", {"num_lags": 3}, sequences[0].shape[1], kappa)
        m, obj, _ = fit_model(
            spec, sequences, masks, 100, None, rng=0 if params is None else None, params=params
        )
        params = m.get_params()
        warm = float(np.median(run_lengths(viterbi_labels(m, sequences, masks))))
        cold_obj, cold_med = [], []
        for s in seeds:
            c, o, _ = fit_model(spec, sequences, masks, 100, None, rng=s)
            cold_obj.append(o)
            cold_med.append(float(np.median(run_lengths(viterbi_labels(c, sequences, masks)))))
        rows.append((kappa, warm, obj, cold_med, cold_obj))
    return rows


def evidence(sequences, K, kappas, seed=0):
    """Per kappa (cold fit from ``seed``): the median switching cost log(p_kk / p_kj) over
    nonzero off-diagonal entries, the fraction of exactly-zero off-diagonal entries, and the
    median over Viterbi runs of the run's log-likelihood under its state minus the best
    other single state over the same frames."""
    from ethogram.selection import run_lengths
    from ethogram.selection._common import (
        check_datas,
        fit_model,
        model_spec,
        scored_mask,
        viterbi_labels,
    )

    sequences, masks = check_datas(sequences)
    rows = []
    for kappa in kappas:
        spec = model_spec(K, "autoregressive", {"num_lags": 3}, sequences[0].shape[1], kappa)
        m, _, _ = fit_model(spec, sequences, masks, 100, None, rng=seed)
        labels = viterbi_labels(m, sequences, masks)
        P = m.transition_matrix
        off = P[~np.eye(K, dtype=bool)]
        cost = np.log(np.diag(P))[:, None] - np.log(np.where(P > 0, P, np.nan))
        cost = cost[~np.eye(K, dtype=bool)]
        seg = []
        for d, mk, z in zip(sequences, masks, labels):
            ll = m.observations.log_likelihoods(d, m.observations.effective_mask(d, mk))
            ok = scored_mask(m, d, mk)
            b = np.r_[0, np.flatnonzero(np.diff(z)) + 1, len(z)]
            for s0, e in zip(b[:-1], b[1:]):
                k = z[s0]
                if k < 0 or not ok[s0:e].any():
                    continue
                tot = ll[s0:e][ok[s0:e]].sum(axis=0)
                seg.append(tot[k] - np.delete(tot, k).max())
        rows.append(
            (
                kappa,
                float(np.median(run_lengths(labels))),
                float(np.nanmedian(cost)),
                float(np.mean(off == 0)),
                float(np.median(seg)),
            )
        )
    return rows


_HELP = """\
Usage (from the project root)::

    OMP_NUM_THREADS=1 .venv/bin/python bench/bench_selection.py [--write]

Data: `../shared/data/openfield/keypoints.csv` (DeepLabCut, 4 body parts, 2330 frames at
30 fps) prepared by `ethogram.prep.Preparation(num_pcs=4)` and cut into two recordings of
1165 frames. Timed: `cross_validate` over 7 values of K (2, 4, 6, 10, 15, 20, 30) x 3
restarts (time split, last 20% held out, kappa from the pipeline's default for each K, up to
100 EM iterations) and `find_kappa` (K = 20, target 0.4 s), each serially on one thread
(`ETHOGRAM_NUM_THREADS=1`, one BLAS thread) and with 2 worker processes of one thread each;
results are checked identical across worker counts. Measured besides: the search's curve (cold
fits), a warm-started chain against cold fits at the same kappa, training against held-out
log-likelihood with the default and a ridge AR prior, the search with that prior, and
moseq2-style changepoint blocks. `--write` replaces (or appends) the section `## Selection` of
BENCHMARKS.md.
"""


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--write", action="store_true", help="write the section into BENCHMARKS.md")
    args = parser.parse_args()
    if not DATA.exists():
        print(f"shared data not found at {DATA}", file=sys.stderr)
        return 1
    import ethogram
    from ethogram.selection import changepoint_durations, cross_validate, find_kappa
    from ethogram.stickiness import reference_kappa

    sequences, fps = load()
    usable = int(sum((~np.isnan(d).any(axis=1)).sum() for d in sequences))
    # the default kappa until issue 15
    kappa_of = lambda K: reference_kappa(usable, K, 0.4 * fps)  # noqa: E731
    find_kappa(sequences, 3, 0.4, fps=fps, num_iters=3)  # warm-up: numba cache, imports
    cv = {1: [], 2: []}
    ks = {1: [], 2: []}
    for _ in range(REPEATS):  # interleaved, so that load from other processes hits both alike
        for w in (1, 2):
            cv[w].append(
                timed(
                    lambda: cross_validate(
                        sequences,
                        KS,
                        observation_kwargs={"num_lags": 3},
                        kappa=kappa_of,
                        num_restarts=3,
                        seed=0,
                        num_workers=w,
                    )
                )
            )
            ks[w].append(
                timed(
                    lambda: find_kappa(
                        sequences,
                        20,
                        0.4,
                        fps=fps,
                        observation_kwargs={"num_lags": 3},
                        seed=0,
                        num_workers=w,
                    )
                )
            )
    loadavg = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    cv = {
        w: (v[0][0], float(np.median([t for _, t in v])), float(np.min([t for _, t in v])))
        for w, v in cv.items()
    }
    ks = {
        w: (v[0][0], float(np.median([t for _, t in v])), float(np.min([t for _, t in v])))
        for w, v in ks.items()
    }
    same_cv = cv[1][0].table["heldout_ll_per_frame"].equals(cv[2][0].table["heldout_ll_per_frame"])
    same_ks = (
        ks[1][0].curve["median_duration"].equals(ks[2][0].curve["median_duration"])
        and ks[1][0].kappa == ks[2][0].kappa
    )
    search = ks[1][0]
    chain = warm_vs_cold(sequences, 20, [1.165e2, 1.165e3, 1.165e4, 1.165e5, 1.165e6])
    ev = evidence(sequences, 20, [1e3, 1e4, 1e5, 1e6])
    gaps = {}
    for label, kw in (
        ("default", {"num_lags": 3}),
        ("prior_ridge = 10", {"num_lags": 3, "prior_ridge": 10.0}),
    ):
        g = cross_validate(
            sequences,
            [20],
            observation_kwargs=kw,
            kappa=1e3,
            num_restarts=3,
            num_folds=3,
            seed=0,
            num_workers=2,
        ).summary.iloc[0]
        gaps[label] = (g["train_ll_per_frame"], g["mean"], g["sem"])
    ridge = find_kappa(
        sequences,
        20,
        0.4,
        fps=fps,
        observation_kwargs={"num_lags": 3, "prior_ridge": 10.0},
        seed=0,
        num_workers=2,
    )
    cps = changepoint_durations(sequences)

    s = cv[1][0].summary
    L = [
        SECTION,
        "",
        f"`bench/bench_selection.py` on {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, ethogram {ethogram.__version__}, numpy {np.__version__}; "
        "one BLAS and one ethogram thread per process. "
        "Open-field DeepLabCut keypoints (2330 frames, 30 fps, 4 body parts) prepared into 4 PCs "
        "and cut into two "
        "recordings of 1165 frames; ARHMM with 3 lags, up to 100 EM iterations per fit.",
        "",
        f"Seconds, median (min) of {REPEATS} interleaved runs; load average {loadavg:.1f} at the "
        "end of the timing "
        "(other processes share the 2 cores).",
        "",
        "| task | 1 worker | 2 workers | same results |",
        "|---|---|---|---|",
        f"| K selection: 7 values of K ({', '.join(map(str, KS))}) x 3 restarts, time split | "
        f"{cv[1][1]:.1f} ({cv[1][2]:.1f}) | {cv[2][1]:.1f} ({cv[2][2]:.1f}) | "
        f"{'yes' if same_cv else 'NO'} |",
        f"| kappa search, K = 20, target 0.4 s ({len(search.curve)} fits) | {ks[1][1]:.1f} "
        f"({ks[1][2]:.1f}) | {ks[2][1]:.1f} ({ks[2][2]:.1f}) | {'yes' if same_ks else 'NO'} |",
        "",
        "Held-out log-likelihood per frame (mean over restarts): "
        + ", ".join(f"K = {int(r.num_states)}: {r.mean:.3f}" for r in s.itertuples())
        + f"; best K = {cv[1][0].best_num_states}, smallest K within one standard error = "
        f"{cv[1][0].one_se_num_states}.",
        "",
        f"Kappa search (K = 20, cold fits from seed 0): {search.message}. Curve: "
        + ", ".join(f"{r.kappa:.3g} -> {r.median_duration:g}" for r in search.curve.itertuples())
        + " (kappa -> median frames).",
        "",
        "Warm-started chain (each fit from the previous kappa's) against cold k-means fits "
        "(seeds 0, 1, 2), K = 20:",
        "",
        "| kappa | warm median (frames) | warm objective | cold medians | cold objectives |",
        "|---|---|---|---|---|",
    ]
    for kappa, wm, wo, cm, co in chain:
        L.append(
            f"| {kappa:.3g} | {wm:g} | {wo:.1f} | {', '.join(f'{v:g}' for v in cm)} | "
            f"{', '.join(f'{v:.1f}' for v in co)} |"
        )
    L += [
        "",
        "Switching cost against emission evidence (K = 20, cold fits from seed 0):",
        "",
        "| kappa | median run (frames) | median switching cost log(p_kk / p_kj) (nats) | "
        "off-diagonal entries exactly 0 | median run evidence over the best other state (nats) |",
        "|---|---|---|---|---|",
    ]
    for kappa, med, cost, zero, seg in ev:
        L.append(f"| {kappa:.0e} | {med:g} | {cost:.1f} | {zero:.0%} | {seg:.1f} |")
    L += [
        "",
        "Over-fitting of the AR states (K = 20, kappa 1e3, time split, 3 folds x 3 restarts):",
        "",
        "| AR prior | train LL per frame | held-out LL per frame |",
        "|---|---|---|",
    ]
    for label, (tr, ho, se) in gaps.items():
        L.append(f"| {label} | {tr:.3f} | {ho:.3f} +- {se:.3f} |")
    L += [
        "",
        f"Kappa search with `prior_ridge = 10`: {ridge.message}.",
        "",
        "Model-free changepoints (moseq2's method on the 4 PCs): median block "
        f"{np.median(cps):g} frames "
        f"({np.median(cps) / fps:.3f} s) over {len(cps)} blocks; the chosen fit's median "
        f"syllable: {search.median_duration:g} frames.",
        "",
    ]
    text = "\n".join(L)
    print(text)
    if args.write:
        from _sections import replace_section

        replace_section(ROOT / "BENCHMARKS.md", SECTION, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
