"""The three fitting methods on the real recordings, side by side with keypoint-moseq's own fit.

One ``ethogram fit`` run per method with its defaults and a fixed seed on each recording set
(issue 17): time, frames kept, syllables used, the largest syllable's share, the median
syllable, and the agreement (NMI, ARI, matched accuracy) with keypoint-moseq's labels and with
ethogram's EM default, written as JSON and a Markdown table. What is measured and how to run
it: ``--help``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

DATA = Path(os.environ.get("ETHOGRAM_SHARED_DATA", ROOT.parent / "shared" / "data"))
#: the files and their frame rates (the DLC CSV holds none; the flies' video runs at 25 fps)
SETS = {
    "openfield": (DATA / "openfield" / "keypoints.csv", 30),
    "flies": (DATA / "flies" / "clip.slp", 25),
    # five identity slots, about half their points padded (JABS placed none): no reference fit
    "jabs": (DATA / "jabs" / "sample_pose_est_v3.h5", 30),
}
METHODS = ("em", "gibbs-arhmm", "keypoint-slds")


def _fit(path: Path, fps: int, method: str, out: Path, seed: int) -> float:
    cmd = [
        sys.executable,
        "-m",
        "ethogram.cli",
        "fit",
        str(path),
        "-o",
        str(out),
        "--method",
        method,
    ]
    cmd += ["--fps", str(fps), "--seed", str(seed), "--quiet", "--overwrite"]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True)
    return time.perf_counter() - t0


def _summary(results, fps: float) -> dict:
    from ethogram._runs import run_lengths

    labels = {r.name: np.asarray(r.syllables) for r in results.recordings}
    total = sum(len(z) for z in labels.values())
    kept = sum(int((z >= 0).sum()) for z in labels.values())
    runs = run_lengths(list(labels.values()))  # runs of -1 (no syllable) left out
    every = np.concatenate([z[z >= 0] for z in labels.values()])
    used = len(np.unique(every))
    med = float(np.median(runs))
    return {
        "frames_kept": kept,
        "frames": total,
        "syllables_used": used,
        "top_syllable_pct": 100.0 * np.bincount(every).max() / len(every),
        "median_frames": med,
        "median_ms": 1000.0 * med / fps,
        "kappa": results.config.get("kappa_used", results.config.get("kappa")),
    }, labels


def _agreement(reference: dict, predicted: dict) -> dict:
    from ethogram.analysis.labels_compare import compare_labels, pair_labels

    ref, pred = pair_labels(reference, predicted)
    c = compare_labels(ref, pred)
    return {"nmi": c.nmi, "ari": c.ari, "accuracy": c.accuracy}


_HELP = """\
Run (one thread; keypoint-moseq's results.h5 of each file made by
`bench/bench_moseq_reference.py` in the reference environment, or skipped when absent)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=1 ETHOGRAM_NUM_THREADS=1 \\
        python bench/compare_methods_real.py --kpms-openfield RESULTS.h5 --kpms-flies RESULTS.h5 \\
        [-o bench/results/methods_real.json]

For each recording set and method: wall seconds of the whole command (reading, search, fit,
labelling, writing), frames with a syllable over frames in the file, syllables used, the
share of frames in the most used syllable (a median duration can hide one syllable covering
nearly every frame), the median syllable in frames and milliseconds, and the NMI, ARI and
Hungarian-matched accuracy with keypoint-moseq's labels and with ethogram's EM default (every
frame labelled on both sides). Written as JSON and as a Markdown table.
"""


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--kpms-openfield", type=Path)
    p.add_argument("--kpms-flies", type=Path)
    p.add_argument(
        "--sets",
        nargs="+",
        choices=sorted(SETS),
        default=["openfield", "flies"],
        help="recording sets to fit (default: openfield flies, those keypoint-moseq was run on)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("-o", "--output", type=Path, default=ROOT / "bench/results/methods_real.json")
    args = p.parse_args(argv)
    from ethogram.io.kpms import read_kpms_results
    from ethogram.results import load_results

    kpms = {"openfield": args.kpms_openfield, "flies": args.kpms_flies, "jabs": None}
    rows, durations = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.sets:
            path, rate = SETS[name]
            ref = None
            if kpms[name] is not None:
                ref = {k: v["syllable"] for k, v in read_kpms_results(kpms[name]).items()}
                durations[(name, "keypoint-moseq")] = _durations_ms(ref, rate)
            em_labels = None
            for method in METHODS:
                out = Path(tmp) / name / method
                seconds = _fit(path, rate, method, out, args.seed)
                results = load_results(out / "results.h5")
                fps = float(results.recordings[0].fps)
                row, labels = _summary(results, fps)
                durations[(name, method)] = _durations_ms(labels, fps)
                row.update(recordings=name, method=method, seconds=round(seconds, 1))
                if ref is not None:
                    row["vs_kpms"] = _agreement(ref, labels)
                if em_labels is None:
                    em_labels = labels
                else:
                    row["vs_em"] = _agreement(em_labels, labels)
                rows.append(row)
                print(json.dumps(row), flush=True)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"rows": rows, "load": os.getloadavg()}, indent=1))
    print(_markdown(rows))
    _plot_durations(durations, args.output.with_name(args.output.stem + "_durations.png"))
    return 0


def _durations_ms(labels: dict, fps: float) -> np.ndarray:
    from ethogram._runs import run_lengths

    return 1000.0 * run_lengths([np.asarray(z) for z in labels.values()]) / fps


def _plot_durations(durations: dict, path: Path) -> None:
    """Empirical distribution functions of the syllable durations, one panel per recording set
    (log time axis; the 400 ms target marked)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(dict.fromkeys(n for n, _ in durations))
    fig, axes = plt.subplots(1, len(names), figsize=(5 * len(names), 3.6), squeeze=False)
    for ax, name in zip(axes[0], names):
        for (n, method), d in durations.items():
            if n != name or len(d) == 0:
                continue
            x = np.sort(d)
            style = "k--" if method == "keypoint-moseq" else "-"
            ax.step(x, np.arange(1, len(x) + 1) / len(x), style, where="post", label=method)
        ax.axvline(400, color="grey", lw=0.8)
        ax.set_xscale("log")
        ax.set_xlabel("syllable duration (ms)")
        ax.set_ylabel("fraction of syllable instances")
        ax.set_title(name)
        ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _markdown(rows) -> str:
    head = (
        "| recordings | method | kappa | frames kept | syllables used | frames in the top syllable "
        "| median syllable | "
        "NMI / ARI / acc. vs keypoint-moseq | NMI vs EM | wall s |\n"
        "|---|---|---|---|---|---|---|---|---|---|"
    )
    lines = [head]
    for r in rows:
        k = r.get("vs_kpms")
        kp = "n/a" if k is None else f"{k['nmi']:.2f} / {k['ari']:.2f} / {k['accuracy']:.2f}"
        em = r.get("vs_em")
        kappa = r["kappa"]
        kappa = f"{float(kappa):.3g}" if isinstance(kappa, (int, float)) else str(kappa)
        lines.append(
            f"| {r['recordings']} | {r['method']} | {kappa} | {r['frames_kept']} / {r['frames']} "
            f"| {r['syllables_used']} | {r['top_syllable_pct']:.0f}% "
            f"| {r['median_frames']:g} frames ({r['median_ms']:.0f} ms) "
            f"| {kp} | {'-' if em is None else format(em['nmi'], '.2f')} | {r['seconds']} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
