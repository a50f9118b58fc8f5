"""Scale: EM over many recordings on threads, a Dask cluster and disk, and float32 log-likelihoods.

One EM iteration over 1M synthetic frames on 1 and 2 threads and on a Dask ``LocalCluster`` of
1 and 2 workers, 50 hours of recordings fitted from disk, and the accuracy a float32
log-likelihood path would cost, each in a fresh process so that its peak memory is its own;
``--write`` replaces the section ``## Scale`` of BENCHMARKS.md. The measurements and how to run
them: ``--help``.
"""

from __future__ import annotations

import os

for _k, _v in {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}.items():
    os.environ.setdefault(_k, _v)

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from _scale_cases import child  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SECTION = "## Scale"


# ---------------------------------------------------------------------- the parent
def cpu_name() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    except OSError:
        out = ""
    names = [ln.split(":", 1)[1].strip() for ln in out.splitlines() if ln.startswith("Model name")]
    return names[0] if names else (platform.processor() or platform.machine())


def run_child(*args) -> dict:
    cmd = [sys.executable, __file__, "--child", *map(str, args)]
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stderr[-3000:]}")
    line = [ln for ln in done.stdout.splitlines() if ln.startswith("RESULT ")][-1]
    out = json.loads(line[len("RESULT ") :])
    out["wall_s"] = time.perf_counter() - t0
    print(f"  {' '.join(map(str, args))}: {json.dumps(out)}", file=sys.stderr, flush=True)
    return out


# ---------------------------------------------------------------------- the report
_HELP = """\
Usage (from the project root; the machine's OpenBLAS core-type override unset, as on a
user's machine; the BLAS kernel that ran is recorded with threadpoolctl)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=1 \\
        .venv/bin/python bench/bench_scale.py [--small] [--skip-disk] [--write]

Every measurement runs in a fresh process (so its peak RSS, `ru_maxrss`, is its own):

- `em`: 20 recordings x 50000 frames, D = 10, K = 50, L = 1 (synthetic AR data, 1M
  frames), parameters from k-means on two recordings; one EM iteration (E-step over all
  recordings + M-step) timed as the median of 3 after a warm-up, on 1 and 2 threads
  (ethogram's thread pool, BLAS held to one thread per job), and `HMM.fit(num_iters=1,
  init="params")`, which also computes the returned posteriors of every recording;
- `dask`: the same data and iteration on a `LocalCluster` of 1 and of 2 worker processes
  (one thread each): the first iteration (sends the recordings) and the median of 3 more;
  the parameters are checked equal to the 2-thread local iteration's;
- `disk`: 100 recordings x 54000 frames (50 hours at 30 fps), D = 10, K = 50, L = 3, written
  to an HDF5 file by one process and fitted by another from
  `ethogram.fitting.ondisk.OnDiskSequences` on 2 threads (initialised on two
  recordings): one EM iteration's time and the fitting process's peak RSS;
- `float32`: log-likelihoods of the fitted 20 x 50000 model computed in float32 (data and
  parameters rounded to float32, the AR residual and Mahalanobis terms in float32) against
  float64, then the same float64 forward-backward and Viterbi: differences of the objective
  and of the labels (what a float32 path would cost in accuracy; ethogram computes float64).

`--write` replaces (or appends) the section `## Scale` of BENCHMARKS.md and nothing else.
"""


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2:])
        return 0
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--small", action="store_true", help="tiny sizes (a check that the script runs)")
    p.add_argument(
        "--skip-disk", action="store_true", help="leave out the 100 x 54000 on-disk case"
    )
    p.add_argument("--write", action="store_true", help="write the section into BENCHMARKS.md")
    a = p.parse_args()
    n, T, K = (4, 3000, 8) if a.small else (20, 50000, 50)
    dn, dT = (6, 3000) if a.small else (100, 54000)
    t_start = time.perf_counter()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        ref = Path(tmp) / "local2.npz"
        size = ("--n", n, "--T", T, "--K", K)
        runs = {"cpu": run_child("cpu")}
        runs["em1"] = run_child("em", *size, "--threads", 1)
        runs["em2"] = run_child("em", *size, "--threads", 2, "--params-out", ref)
        runs["fit2"] = run_child("em", *size, "--threads", 2, "--fit")
        runs["dk1"] = run_child("dask", *size, "--workers", 1, "--params-in", ref)
        runs["dk2"] = run_child("dask", *size, "--workers", 2, "--params-in", ref)
        runs["f32"] = run_child("float32", *size)
        runs["disk"] = None
        if not a.skip_disk:
            path = Path(tmp) / "recordings.h5"
            disk = run_child("disk_write", "--n", dn, "--T", dT, "--K", K, "--file", path)
            disk.update(run_child("disk", "--K", K, "--threads", 2, "--file", path))
            runs["disk"] = disk
    total = time.perf_counter() - t_start
    text = report(n, T, K, dn, dT, runs, total, (load_before, os.getloadavg()[0]))
    print(text)
    if a.write and not a.small:
        write_section(text)
    return 0


def _med(xs) -> float:
    return float(np.median(xs))


def report(n, T, K, dn, dT, runs: dict, total, load=(float("nan"), float("nan"))) -> str:
    """The section: ``runs`` holds each child's result by the name main gives it."""
    import numba
    import scipy

    cpu, em1, em2, fit2 = runs["cpu"], runs["em1"], runs["em2"], runs["fit2"]
    dk1, dk2, f32, disk = runs["dk1"], runs["dk2"], runs["f32"], runs["disk"]
    t1, t2 = _med(em1["seconds"]), _med(em2["seconds"])
    lines = [
        SECTION,
        "",
        "Regenerate with `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=1 "
        ".venv/bin/python bench/bench_scale.py --write`",
        f"({total / 60:.1f} min). Each row is a fresh process; peak RSS is that process's "
        "`ru_maxrss`. Synthetic AR data,",
        "parameters from k-means on two recordings. The machine is shared by several engineers: "
        "times vary by 10-20%.",
        "",
        f"- machine: {cpu_name()}, {os.cpu_count()} cores; "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        f"- python {platform.python_version()}, numpy {np.__version__}, scipy "
        f"{scipy.__version__}, numba {numba.__version__}",
        f"- load average (1 min) at the start and end of the run: {load[0]:.2f}, {load[1]:.2f} "
        "(2 cores)",
        f"- BLAS kernel that ran (threadpoolctl, OPENBLAS_CORETYPE unset): {em1['blas']}; Dask "
        f"workers: {', '.join(dk2['worker_blas'])}",
        "",
        f"### One EM iteration, {n} recordings x {T} frames, D = 10, K = {K}, L = 1",
        "",
        "| run | time (median of 3) | speed-up | peak RSS | goal |",
        "|---|---|---|---|---|",
        f"| E-step + M-step, 1 thread | {t1:.2f} s | 1.00x | {em1['peak_rss_mb']:.0f} MB | <= 3 "
        "s, <= 1.5 GB |",
        f"| E-step + M-step, 2 threads | {t2:.2f} s | {t1 / t2:.2f}x | {em2['peak_rss_mb']:.0f} "
        "MB | <= 1.7 s |",
        "| `HMM.fit(num_iters=1, init='params')`, 2 threads (1 iteration + the returned "
        f"posteriors of all recordings) | {fit2['seconds']:.2f} s (1 run) | — | "
        f"{fit2['peak_rss_mb']:.0f} MB | — |",
        "",
        "What the second core can add on this machine: a compute-bound BLAS loop takes "
        f"{_med(cpu['alone']):.2f} s alone and",
        f"{_med(cpu['together']):.2f} s when two copies run at once (two processes), i.e. two "
        "cores give "
        f"{2 * _med(cpu['alone']) / _med(cpu['together']):.2f}x the throughput of one.",
        "",
        f"The data are {em1['data_mb']:.0f} MB. An E-step holds one recording's log-likelihoods "
        "and posteriors per thread",
        f"({T} x {K} x 8 bytes = {T * K * 8 / 2**20:.0f} MB each) and sums statistics as they "
        "come; `HMM.fit` then computes",
        "the posterior of every recording for its result (`FitResult.posterior`), which is the "
        "extra memory of the last row",
        "(it is None for `OnDiskSequences`).",
        "",
        "### Dask LocalCluster (worker processes, 1 thread each), same data and iteration",
        "",
        "| workers | first iteration (workers import ethogram, load the numba cache, receive the "
        "recordings) | next iterations (median of 3) | speed-up | same parameters as local | "
        "worker peak RSS |",
        "|---|---|---|---|---|---|",
    ]
    for w, d in ((1, dk1), (2, dk2)):
        lines.append(
            f"| {w} | {d['first']:.2f} s | {_med(d['seconds']):.2f} s | "
            f"{_med(dk1['seconds']) / _med(d['seconds']):.2f}x | "
            f"{'bit-identical' if d['same_as_local'] else 'NO'} | "
            f"{', '.join(f'{x:.0f} MB' for x in d['workers_rss_mb'])} |"
        )
    lines += [
        "",
        f"Against the local thread pool: 1 worker {_med(dk1['seconds']) / t1:.2f}x the 1-thread "
        "time, 2 workers "
        f"{_med(dk2['seconds']) / t2:.2f}x the 2-thread time (the rest is Dask's per-task "
        "overhead and sending parameters",
        "and statistics).",
        "",
    ]
    if disk is not None:
        lines += [
            f"### From disk: {dn} recordings x {dT} frames ({dn * dT / 30 / 3600:.0f} hours at "
            f"30 fps), D = 10, K = {K}, L = 3, 2 threads",
            "",
            "| step | result |",
            "|---|---|",
            f"| HDF5 file (float64), written by another process | {disk['file_mb']:.0f} MB |",
            f"| initialise (k-means) on 2 recordings read from the file | {disk['init_s']:.1f} s |",
            "| `HMM.fit(OnDiskSequences, init='params', num_iters=1)`: read + check every "
            f"recording, 2 E-steps, 1 M-step | {disk['fit_1_iter_s']:.1f} s |",
            f"| one E-step, each recording read by its job | {disk['e_step_s']:.1f} s "
            f"({disk['e_step_s'] / (dn * dT) * 1e6:.2f} s per million frames) |",
            f"| peak RSS of the fitting process | {disk['peak_rss_mb']:.0f} MB (the data alone "
            f"would be {dn * dT * 10 * 8 / 2**20:.0f} MB) |",
            "",
        ]
    else:
        lines += [
            "### From disk: 100 recordings x 54000 frames",
            "",
            "Not run in this pass (`--skip-disk`).",
            "",
        ]
    lines += [
        f"### float32 log-likelihoods (accuracy; {len(f32['objective_diff'])} recordings of {T} "
        "frames, model after 5 EM iterations)",
        "",
        "| measure | worst over recordings |",
        "|---|---|",
        f"| max abs difference of a log-likelihood | {max(f32['max_abs_ll_diff']):.2e} nats |",
        f"| difference of log p(x) | {max(map(abs, f32['objective_diff'])):.2e} nats "
        f"({max(map(abs, f32['per_frame_diff'])):.2e} per frame) |",
        f"| Viterbi labels that differ | {100 * max(f32['label_mismatch']):.3f} % of frames |",
        "",
        "EM's convergence test is 1e-5 nats per frame by default and its monotonicity check is "
        "relative 1e-8 of the",
        "objective, so a float32 E-step would need a float64 re-check near convergence; ethogram "
        "stays float64.",
    ]
    return "\n".join(lines) + "\n"


def write_section(text: str) -> None:
    """Replace (or append) our section of BENCHMARKS.md, leaving every other section as it is."""
    from _sections import replace_section

    replace_section(ROOT / "BENCHMARKS.md", SECTION, text)


if __name__ == "__main__":
    sys.exit(main())
