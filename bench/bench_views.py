"""Seconds for a whole HTML report of 25 syllables, on 1 and 2 cores.

A planted fit and, when ../shared/data exists, a real one, each written with ``write_results``
and reported with ``write_report`` end to end on 1 and 2 pinned cores, the serial run also timed
per plot kind; ``--write`` replaces the subsection ``### Report`` of ``## Views`` in
BENCHMARKS.md and writes ``bench/results/views.json``. The fits and how to run it: ``--help``.
"""

from __future__ import annotations

import os

for _k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_k, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections import defaultdict  # noqa: E402
from datetime import datetime, timezone  # noqa: E402
from importlib import metadata  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
SECTION = "## Views"
SUB = "### Report"
K = 25


def planted(folder: Path) -> str:
    from ethogram.results import write_results
    from ethogram.viz._synthetic import synthetic_results

    res = synthetic_results(
        num_states=K, num_recordings=4, num_frames=9000, seed=0, expected_states=True
    )
    write_results(folder / "results.h5", res)
    return "planted: 4 recordings x 9000 frames, D = 3, state probabilities, 4 keypoints"


def openfield(folder: Path) -> str:
    from ethogram.io import read_recordings
    from ethogram.pipeline import fit_recordings
    from ethogram.results import write_results

    recs = read_recordings(DATA / "openfield" / "keypoints.csv", fps=30.0)
    res = fit_recordings(
        recs, num_states=K, num_iters=50, seed=0, progress=False, expected_states=True
    )
    write_results(folder / "results.h5", res)
    used = len({int(v) for v in res.recordings[0].syllables if v >= 0})
    return f"openfield DLC fit: 1 recording x 2330 frames, {used} of {K} syllables used"


def timed_report(folder: Path, workers: int, cores: int) -> float:
    from ethogram.viz.report import write_report

    cpus = sorted(os.sched_getaffinity(0))
    os.sched_setaffinity(0, set(cpus[:cores]))
    try:
        out = folder / f"report_{workers}"
        shutil.rmtree(out, ignore_errors=True)
        t0 = time.perf_counter()
        write_report(folder, out, num_workers=workers, progress=False)
        return time.perf_counter() - t0
    finally:
        os.sched_setaffinity(0, set(cpus))


def per_kind(folder: Path, repeats: int = 3) -> dict:
    """Seconds per plot kind (serial, median over ``repeats`` passes).

    And the number of plots of each kind.
    """
    from ethogram.results import load_results
    from ethogram.viz import report as rp
    from ethogram.viz._common import frequency_order
    from ethogram.viz.trajectories import syllable_trajectories

    res = load_results(folder / "results.h5")
    counts = np.zeros(res.num_states, dtype=int)
    for r in res.recordings:
        z = r.syllables
        starts = np.r_[True, z[1:] != z[:-1]] & (z >= 0)
        counts += np.bincount(z[starts], minlength=res.num_states)
    order = [int(k) for k in frequency_order(counts) if counts[k] > 0]
    recs = res.recordings
    t0 = time.perf_counter()
    traj, n = syllable_trajectories(
        [r.keypoints for r in recs],
        [r.centroid for r in recs],
        [r.heading for r in recs],
        [r.syllables for r in recs],
        num_states=res.num_states,
    )
    out = {"trajectory averages": [time.perf_counter() - t0, 1]}
    jobs = rp.plot_jobs(res, order, traj, n)
    passes = []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(repeats):
            acc = defaultdict(lambda: [0.0, 0])
            for job in jobs:
                t0 = time.perf_counter()
                rp._render(job, tmp)
                acc[job[0]][0] += time.perf_counter() - t0
                acc[job[0]][1] += 1
            passes.append(acc)
    for kind in passes[0]:
        out[kind] = [float(np.median([p[kind][0] for p in passes])), passes[0][kind][1]]
    return out


_HELP = """\
Usage (from the project root)::

    .venv/bin/python bench/bench_views.py [--repeats 3] [--write]

Two fits are reported: a planted one (`ethogram.viz._synthetic`: 4 recordings of 9000
frames at 30 fps, 25 syllables, state probabilities and keypoints stored, an AR-HMM fitted
for 3 iterations as the model) and, when ../shared/data exists, a real one (`ethogram fit`
of the openfield DeepLabCut keypoints with K = 25, 2330 frames). Each results file is written
with `write_results` and the report made with `write_report(results_folder)` end to end
(load, tables, every plot, template): on 1 core with `num_workers=1` and on 2 cores with
`num_workers=2`, the process pinned to the cores (`os.sched_setaffinity`); median of
`--repeats` runs after one warm-up. The serial run is also timed per plot kind. The
machine is shared, so these are what a user on two busy cores would see. `--write` replaces
the subsection `### Report` of `## Views` in BENCHMARKS.md (creating them if absent) and
writes `bench/results/views.json`.
"""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--repeats", type=int, default=3, help="runs per setting, median kept (default 3)"
    )
    parser.add_argument(
        "--write",
        action="store_true",
        help="write ### Report into BENCHMARKS.md and bench/results/views.json",
    )
    args = parser.parse_args(argv)
    ncpu = len(os.sched_getaffinity(0))
    load_before = os.getloadavg()[0]
    cases = [("planted", planted)] + ([("openfield", openfield)] if DATA.exists() else [])
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, make in cases:
            folder = Path(tmp) / name
            folder.mkdir()
            what = make(folder)
            timed_report(folder, 1, 1)  # warm-up: imports, font cache, file cache
            row = {"case": name, "what": what}
            for cores in (1, 2):
                if cores > ncpu:
                    row[f"s_{cores}"] = None
                    continue
                times = [timed_report(folder, cores, cores) for _ in range(args.repeats)]
                row[f"s_{cores}"] = float(np.median(times))
                print(
                    f"{name}: {cores} core(s): {row[f's_{cores}']:.2f} s "
                    f"(runs: {', '.join(f'{t:.2f}' for t in times)})",
                    flush=True,
                )
            row["plots"] = len(list((folder / "report_1" / "plots").glob("*.png")))
            row["per_kind"] = per_kind(folder, args.repeats)
            rows.append(row)
    info = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": platform.processor() or platform.machine(),
        "cores": ncpu,
        "python": platform.python_version(),
        "versions": {
            p: _version(p) for p in ("ethogram", "numpy", "matplotlib", "networkx", "Jinja2")
        },
        "repeats": args.repeats,
        "load": [load_before, os.getloadavg()[0]],
        "rows": rows,
    }
    text = render(info)
    print(text)
    if args.write:
        (ROOT / "bench" / "results").mkdir(parents=True, exist_ok=True)
        (ROOT / "bench" / "results" / "views.json").write_text(json.dumps(info, indent=1))
        write_subsection(text)
    return 0


def _version(pkg: str) -> str:
    try:
        return metadata.version(pkg)
    except metadata.PackageNotFoundError:
        return "not installed"


def render(info: dict) -> str:
    v = info["versions"]
    lines = [
        SUB,
        "",
        f"`bench/bench_views.py` ({info['date']}; {info['cores']} cores shared with other work; "
        f"python {info['python']}, "
        f"ethogram {v['ethogram']}, matplotlib {v['matplotlib']}, networkx {v['networkx']}, "
        f"Jinja2 {v['Jinja2']}). "
        f"Seconds for `write_report` on a results folder of K = {K} syllables, end to end (load, "
        "tables, every plot as "
        "PNG, template): 1 core with `num_workers=1`, 2 cores with `num_workers=2` (plots drawn "
        "in worker processes), "
        f"the process pinned to the cores; median of {info['repeats']} runs after a warm-up. "
        "Load average "
        f"{info['load'][0]:.1f} before and {info['load'][1]:.1f} after the run (other work on "
        "the machine: the "
        f"end-to-end times and the per-plot passes below were not taken at the same moments).",
        "",
        "| fit | plots | 1 core (s) | 2 cores (s) | speed-up |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in info["rows"]:
        a, b = r["s_1"], r["s_2"]
        sp = f"{a / b:.2f}x" if a and b else "-"
        lines.append(
            f"| {r['what']} | {r['plots']} | {a:.2f} | {'-' if b is None else f'{b:.2f}'} | {sp} |"
        )
    lines += [
        "",
        f"Where the serial time goes (seconds, all plots of a kind, median of {info['repeats']} "
        "passes):",
        "",
        "| plot | " + " | ".join(r["case"] for r in info["rows"]) + " |",
        "|---|" + "---:|" * len(info["rows"]),
    ]
    kinds = []
    for r in info["rows"]:
        kinds += [k for k in r["per_kind"] if k not in kinds]
    for k in kinds:
        cells = []
        for r in info["rows"]:
            s, n = r["per_kind"].get(k, (None, 0))
            cells.append("-" if s is None else f"{s:.2f}" + (f" ({n})" if n > 1 else ""))
        lines.append(f"| {k} | " + " | ".join(cells) + " |")
    top = sorted(
        ((sum(r["per_kind"].get(k, (0.0, 0))[0] for r in info["rows"]), k) for k in kinds),
        reverse=True,
    )[:3]
    lines += [
        "",
        "Each plot is its own matplotlib figure drawn by Agg and written as PNG; the most time "
        "goes to "
        + ", ".join(k.replace("_", " ") for _, k in top)
        + ". The rest of a report (reading the results, "
        "the tables, copying, the template) is well under a second. On 2 cores the plots are "
        "drawn by two "
        "worker processes (forked when no other thread runs, so they inherit the imports), the big "
        "multi-panel figures first.",
        "",
    ]
    return "\n".join(lines)


def write_subsection(text: str) -> None:
    """Replace (or add) our ``### `` subsection inside ``## Views`` of BENCHMARKS.md.

    Nothing else changes.
    """
    from _sections import replace_subsection

    replace_subsection(ROOT / "BENCHMARKS.md", SECTION, SUB, text)


if __name__ == "__main__":
    sys.exit(main())
