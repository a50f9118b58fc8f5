"""The report of bench/bench_gibbs_scaling.py: its markdown table, plot and held-memory lines.

From the JSON the benchmark writes (one run per configuration: medians of process CPU and wall
per sweep, peak RSS and tracemalloc per stage, the machine), it writes gibbs_scaling.md and
gibbs_scaling.png under bench/results and returns the table BENCHMARKS.md quotes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _mb(x) -> str:
    return "—" if x is None else f"{x:,.0f}"


def _rows(runs: dict, order: list) -> list[dict]:
    """One row per configuration: medians, per-frame times and their ratio to the first."""
    order = [k for k in order if k in runs]
    base = runs[order[0]]
    rows = []
    for label in order:
        r = runs[label]
        row = {"label": label, "frames": r["frames"], "recordings": r["recordings"]}
        for stage in ("ar_only", "full"):
            st, b = r[stage], base[stage]
            per = st["cpu_median_s"] / r["frames"]
            row[stage] = {
                "cpu": st["cpu_median_s"], "wall": st["wall_median_s"], "n": len(st["cpu_s"]),
                "us_per_frame": 1e6 * per,
                "ratio": per / (b["cpu_median_s"] / base["frames"]),
                "wall_ratio": (st["wall_median_s"] / r["frames"])
                / (b["wall_median_s"] / base["frames"]),
                "rss": st["peak_rss_MB"], "traced": st["tracemalloc_peak_MB"],
            }  # fmt: skip
        row["maxrss"] = r["ru_maxrss_MB"]
        row["load"] = r["loadavg"]
        rows.append(row)
    return rows


def _plot(rows, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    single = [r for r in rows if r["recordings"] == 1]
    many = [r for r in rows if r["recordings"] > 1]
    fig, ax = plt.subplots(figsize=(5.0, 3.8), dpi=110)
    for stage, colour, name in (("ar_only", "C0", "AR-only"), ("full", "C3", "full model")):
        T = np.array([r["frames"] for r in single])
        y = np.array([r[stage]["cpu"] for r in single])
        ax.plot(T, y, "o-", color=colour, label=f"{name}, one recording")
        if many:
            ax.plot([r["frames"] for r in many], [r[stage]["cpu"] for r in many], "s",
                    mfc="none", color=colour, ms=9, label=f"{name}, 10 x 100k")  # fmt: skip
        ref = y[0] * T / T[0]
        ax.plot(T, ref, ":", color=colour, lw=1)
    ax.plot([], [], ":", color="grey", label="slope 1 (from 10k)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("frames")
    ax.set_ylabel("seconds per sweep (process CPU)")
    ax.set_title("keypoint SLDS Gibbs sweep, K = 100, one thread", fontsize=9)
    ax.legend(fontsize=7)
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _held_lines(run: dict) -> list[str]:
    held = run["held_full"]
    lines = [f"- data per recording: {held['data_per_recording']['shape']} float64 "
             f"({held['data_per_recording']['MB']} MB; keypoints, s0, confidence)"]  # fmt: skip
    for k, v in held["local_state_per_recording"].items():
        lines.append(f"- local state `{k}`: {v['shape']} {v['dtype']} ({v['MB']} MB)")
    for k, v in held["scratch_buffers"].items():
        lines.append(f"- per-thread scratch buffer `{k}`: {v} MB")
    lines.append(f"- summed statistics (K x K counts, AR statistics): {held['stats_total_MB']} MB")
    return lines


def write_report(data: dict, outdir: Path, order: list) -> str:
    """Write gibbs_scaling.md and gibbs_scaling.png (configurations in ``order``); return the
    markdown table text. The hand-written analysis in ``outdir/gibbs_scaling.notes.md`` (with
    the figures of the 2026-12-07 run and of ``--breakdown 100k`` / ``--breakdown 1M``) is
    appended to the generated tables."""
    rows = _rows(data["runs"], order)
    _plot(rows, outdir / "gibbs_scaling.png")
    m = data["machine"]
    blas = "; ".join(
        f"{p['internal_api']} {p['version']} ({p['architecture']}, {p['num_threads']} thread)"
        for p in m["threadpools"]
    )
    head = [
        "| frames (recordings) | AR-only s/sweep CPU (wall) | per frame, ratio to 10k | "
        "full s/sweep CPU (wall) | per frame, ratio to 10k | peak RSS MB, AR-only / full | "
        "tracemalloc peak MB, AR-only / full | load |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        a, f = r["ar_only"], r["full"]
        head.append(
            f"| {r['label']} ({r['recordings']}) | {a['cpu']:.3g} ({a['wall']:.3g}) | "
            f"{a['us_per_frame']:.2f} us, {a['ratio']:.2f}x | {f['cpu']:.3g} ({f['wall']:.3g}) | "
            f"{f['us_per_frame']:.2f} us, {f['ratio']:.2f}x | {_mb(a['rss'])} / {_mb(f['rss'])} | "
            f"{_mb(a['traced'])} / {_mb(f['traced'])} | {r['load'][0]:.1f} |"
        )
    table = "\n".join(head)
    big = data["runs"].get("1M")
    text = [
        "# Gibbs sweeps of the keypoint SLDS: scaling to 1M frames",
        "",
        f"`bench/bench_gibbs_scaling.py`, {m['date']}, {m['cpu']} ({m['cores']} cores, shared "
        f"with other sessions' test runs: loaded), Python {m['python']}, "
        + ", ".join(f"{k} {v}" for k, v in m["versions"].items())
        + f"; BLAS (threadpoolctl): {blas}; thread variables {m['env']}.",
        "",
        "Synthetic keypoints (8 body parts, 2-D; latent dimension 5; 10 true syllables) fitted "
        "with K = 100 states, 3 lags, kappa 1e6 (AR-only) and 1e4 (full), serial executor. "
        "Medians over the timed sweeps after one warm-up sweep (counts in gibbs_scaling.json); "
        "each size in a fresh process. Peak RSS: VmHWM over the timed sweeps (reset before "
        "them), so everything resident (Python, numba, data, states, buffers); tracemalloc "
        "peak: what one sweep allocates beyond what is already held.",
        "",
        table,
        "",
        "![seconds per sweep against frames](gibbs_scaling.png)",
        "",
    ]
    if big:
        text += ["Held between sweeps, 1M frames in one recording:", ""] + _held_lines(big) + [""]
    notes_file = outdir / "gibbs_scaling.notes.md"
    notes = notes_file.read_text().split("\n", 1)[1] if notes_file.exists() else ""
    (outdir / "gibbs_scaling.md").write_text("\n".join(text) + "\n" + notes)
    return table
