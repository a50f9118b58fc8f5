"""Gibbs sweeps of the keypoint SLDS against the number of frames, 10k to 1M (issue 17).

Issue 17 asks for a time per iteration linear in frames up to 1M frames and memory O(T x latent
dimension) per recording in flight, never T x K x K; this script measures both (CPU and wall time
per sweep of each stage, peak memory, the arrays held between sweeps) on synthetic keypoints, each
size in a fresh subprocess. The data and the measurements: BENCHMARKS.md; how to run: ``--help``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

from _gibbs_scaling_report import write_report

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

RESULTS = ROOT / "bench" / "results"
CONFIGS = {  # label -> recording lengths
    "10k": [10_000],
    "30k": [30_000],
    "100k": [100_000],
    "300k": [300_000],
    "1M": [1_000_000],
    "10x100k": [100_000] * 10,
}
SMOKE = {"smoke": [3_000, 2_000]}  # a quick check of the script, not in the default run
THREAD_ENV = {
    k: "1"
    for k in ("ETHOGRAM_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
}
NUM_STATES, NUM_LAGS, LATENT_DIM, BODYPARTS, TRUE_STATES = 100, 3, 5, 8, 10
#: stop timing a stage after this many seconds (at least MIN_SWEEPS sweeps)
BUDGET_S, MAX_SWEEPS, MIN_SWEEPS = 60.0, 5, 2


# ----------------------------------------------------------------------------- data
def _ar_path(z, A, b, chol, e):
    import numba

    @numba.njit(cache=False)
    def run(z, A, b, chol, e):
        T, M = e.shape
        x = np.zeros((T, M))
        for t in range(1, T):
            k = z[t]
            for i in range(M):
                s = b[k, i]
                for j in range(M):
                    s += A[k, i, j] * x[t - 1, j] + chol[k, i, j] * e[t, j]
                x[t, i] = s
        return x

    return run(z, A, b, chol, e)


def synthetic_recording(T: int, seed: int):
    """Keypoints (T, 8, 2) and confidences (T, 8) of one synthetic recording (module doc)."""
    from ethogram.models.gibbs.keypoints import centering_matrix, estimate_keypoints

    geo = np.random.default_rng(12345)  # the same body and syllables for every recording
    K, D, M, S = BODYPARTS, 2, LATENT_DIM, TRUE_STATES
    A = np.empty((S, M, M))
    for k in range(S):
        Q = np.linalg.qr(geo.normal(size=(M, M)))[0]
        A[k] = Q @ np.diag(geo.uniform(0.8, 0.97, M)) @ Q.T
    b = geo.normal(scale=0.3, size=(S, M))
    chol = np.broadcast_to(0.3 * np.eye(M), (S, M, M)).copy()
    offset = geo.normal(size=(K, D)) * 6.0
    offset[0], offset[1] = (12.0, 0.0), (-12.0, 0.0)
    basis = geo.normal(size=(K, D, M)) * 2.0
    basis[:2] = 0.0
    G = centering_matrix(K)
    C = np.einsum("kj,kdm->jdm", G, basis).reshape((K - 1) * D, M)
    d = (G.T @ offset).reshape(-1)

    rng = np.random.default_rng(seed)
    runs = rng.geometric(0.1, size=T // 5 + 10)
    z = np.repeat(rng.integers(S, size=runs.size), runs)[:T].astype(np.int64)
    x = _ar_path(z, A, b, chol, rng.standard_normal((T, M)))
    h = np.cumsum(rng.normal(scale=0.05, size=T))
    v = np.cumsum(rng.normal(scale=0.7, size=(T, D)), axis=0) + 100.0
    conf = rng.uniform(0.4, 1.0, size=(T, K))
    s0 = 10 ** (2 * (-0.5 * np.log10(conf + 1e-3) + 0.25))
    s = 5 * s0 / rng.chisquare(5, size=(T, K))
    Y = estimate_keypoints(x, v, h, C, d)
    Y += np.sqrt(s)[..., None] * rng.standard_normal((T, K, D))
    return Y, conf


# ----------------------------------------------------------------------------- memory
def _status(field: str) -> float:
    """A field of /proc/self/status in MB (VmRSS, VmHWM)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def _reset_peak_rss() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _held(sequences, run) -> dict:
    """The arrays kept between sweeps: shapes and MB, per kind."""
    from ethogram.inference import _scratch

    def arr(a):
        return {"shape": list(a.shape), "dtype": str(a.dtype), "MB": round(a.nbytes / 2**20, 2)}

    first = run.local_states[0]
    buffers = getattr(_scratch._local, "buffers", {})
    return {
        "data_per_recording": arr(sequences[0]),
        "data_total_MB": round(sum(d.nbytes for d in sequences) / 2**20, 2),
        "local_state_per_recording": {k: arr(np.asarray(v)) for k, v in first.items()},
        "local_states_total_MB": round(
            sum(np.asarray(v).nbytes for s in run.local_states for v in s.values()) / 2**20, 2
        ),
        "scratch_buffers": {k: round(v.nbytes / 2**20, 2) for k, v in buffers.items()},
        "stats_total_MB": round(sum(np.asarray(v).nbytes for v in run.stats.values()) / 2**20, 3),
    }


# ----------------------------------------------------------------------------- one size
def _time_stage(sweep, first_iteration: int) -> tuple[dict, int]:
    """Warm-up sweep, then timed sweeps, then one tracemalloc sweep; returns (record, next it)."""
    it = first_iteration
    sweep(it)  # warm-up (the first full sweep compiles the pose sampler's kernels)
    it += 1
    reset = _reset_peak_rss()
    rss_before = _status("VmRSS")
    cpu, wall = [], []
    while len(cpu) < MAX_SWEEPS and (len(cpu) < MIN_SWEEPS or sum(wall) < BUDGET_S):
        w0, c0 = time.perf_counter(), time.process_time()
        sweep(it)
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
        it += 1
    hwm = _status("VmHWM")
    tracemalloc.start()
    sweep(it)
    traced = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    it += 1
    rec = {
        "cpu_s": [round(c, 4) for c in cpu],
        "wall_s": [round(w, 4) for w in wall],
        "cpu_median_s": float(np.median(cpu)),
        "wall_median_s": float(np.median(wall)),
        "rss_before_MB": round(rss_before, 1),
        "peak_rss_MB": round(hwm, 1) if reset else None,
        "tracemalloc_peak_MB": round(traced / 2**20, 1),
    }
    return rec, it


def measure(label: str) -> dict:
    """Everything for one configuration of :data:`CONFIGS`, in this process."""
    from ethogram.fitting.executors import SerialExecutor
    from ethogram.fitting.gibbs import GibbsSettings, _start, _sweep
    from ethogram.models import KeypointSLDS
    from ethogram.models.gibbs.keypoint_start import KeypointPrior

    lengths = {**CONFIGS, **SMOKE}[label]
    t0 = time.perf_counter()
    recs = [synthetic_recording(T, seed=n) for n, T in enumerate(lengths)]
    gen_s = time.perf_counter() - t0
    model = KeypointSLDS(
        num_states=NUM_STATES, num_lags=NUM_LAGS, latent_dim=LATENT_DIM,
        keypoint_prior=KeypointPrior(sigmasq_loc=0.5), anterior=[0], posterior=[1], fps=30,
    )  # fmt: skip
    sequences, masks = model.prepare([Y for Y, _ in recs], [c for _, c in recs])
    del recs
    model.fit_pca(sequences)
    model.initialize(np.random.default_rng(0))
    model.ar_only = True
    ex = SerialExecutor()
    settings = GibbsSettings(num_iters=10**6)
    t0 = time.perf_counter()
    run = _start(model, sequences, masks, settings, 0, None, ex)
    start_s = time.perf_counter() - t0

    def sweep(it):
        _sweep(model, sequences, masks, settings, run, it, ex)

    out = {"label": label, "recordings": len(lengths), "frames": int(sum(lengths))}
    from ethogram.inference import ffbs

    longest = max(lengths) - NUM_LAGS  # the syllables' draw by blocks above the budget
    out["ffbs_budget"], out["ffbs_blocked"] = (
        ffbs.MEMORY_BUDGET,
        ffbs.use_blocks(longest, NUM_STATES),
    )
    out["generate_s"], out["start_s"] = round(gen_s, 2), round(start_s, 2)
    out["ar_only"], it = _time_stage(sweep, 1)
    out["held_ar_only"] = _held(sequences, run)
    model.ar_only, model.kappa = False, 1e4
    out["full"], it = _time_stage(sweep, it)
    out["held_full"] = _held(sequences, run)
    out["ru_maxrss_MB"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)
    out["loadavg"] = os.getloadavg()
    return out


# ----------------------------------------------------------------------------- who allocates
#: (module, function) pairs whose allocations :func:`breakdown` attributes
TRACED = (
    ("ethogram.fitting.gibbs", "_sweep"),
    ("ethogram.models.gibbs.arhmm", "masked_ar_log_likes"),
    ("ethogram.models.gibbs.arhmm", "sequence_stats"),
    ("ethogram.models.gibbs.arhmm", "ffbs"),
    ("ethogram.models.gibbs.arhmm", "ffbs_blocked"),
    ("ethogram.models.gibbs.keypoint_slds", "_draw_latent"),
    ("ethogram.models.gibbs.keypoint_slds", "_draw_pose_and_place"),
    ("ethogram.models.gibbs.keypoint_slds", "_path_log_like"),
    ("ethogram.models.gibbs.keypoint_slds", "_emission_summary"),
    ("ethogram.inference.kalman", "_ar_problem"),
    ("ethogram.inference.kalman", "_run"),
)


def _traced_calls(record: dict, seconds: dict):
    """Wrap :data:`TRACED`: each call's tracemalloc peak above what was traced at its entry
    (nested calls keep their callers' peaks), the largest over calls, in ``record``; its
    process CPU seconds (inclusive), summed over calls, in ``seconds``."""
    import importlib

    stack = []

    def lift():
        peak = tracemalloc.get_traced_memory()[1]
        for frame in stack:
            frame[1] = max(frame[1], peak)

    def wrap(name, f):
        def g(*args, **kwargs):
            lift()
            tracemalloc.reset_peak()
            stack.append([tracemalloc.get_traced_memory()[0], 0])
            c0 = time.process_time()
            try:
                return f(*args, **kwargs)
            finally:
                seconds[name] = seconds.get(name, 0.0) + time.process_time() - c0
                lift()
                base, peak = stack.pop()
                record[name] = max(record.get(name, 0), peak - base)

        return g

    for mod_name, name in TRACED:
        mod = importlib.import_module(mod_name)
        setattr(mod, name, wrap(name, getattr(mod, name)))


def breakdown(label: str) -> dict:
    """Per-function working memory (tracemalloc, one sweep) and process CPU seconds (another
    sweep, untraced; user and system time of the whole sweep) of the AR-only and the full
    sweep of configuration ``label``."""
    from ethogram.fitting import gibbs
    from ethogram.fitting.executors import SerialExecutor
    from ethogram.fitting.gibbs import GibbsSettings, _start
    from ethogram.models import KeypointSLDS
    from ethogram.models.gibbs.keypoint_start import KeypointPrior

    lengths = {**CONFIGS, **SMOKE}[label]
    recs = [synthetic_recording(T, seed=n) for n, T in enumerate(lengths)]
    model = KeypointSLDS(
        num_states=NUM_STATES, num_lags=NUM_LAGS, latent_dim=LATENT_DIM,
        keypoint_prior=KeypointPrior(sigmasq_loc=0.5), anterior=[0], posterior=[1], fps=30,
    )  # fmt: skip
    sequences, masks = model.prepare([Y for Y, _ in recs], [c for _, c in recs])
    del recs
    model.fit_pca(sequences)
    model.initialize(np.random.default_rng(0))
    model.ar_only = True
    ex, settings = SerialExecutor(), GibbsSettings(num_iters=10**6)
    run = _start(model, sequences, masks, settings, 0, None, ex)
    frames, record, seconds = max(lengths), {}, {}
    _traced_calls(record, seconds)
    out = {"label": label, "frames_per_recording": frames, "memory": {}, "cpu_s": {}}
    it = 1

    def sweep(i):  # through the module, so the wrapped _sweep (the whole sweep) is counted
        gibbs._sweep(model, sequences, masks, settings, run, i, ex)

    for stage in ("ar_only", "full"):
        model.ar_only = stage == "ar_only"
        sweep(it)  # warm-up
        seconds.clear()
        t0 = os.times()
        sweep(it + 1)
        t1 = os.times()
        seconds["_sweep user"] = t1.user - t0.user
        seconds["_sweep system"] = t1.system - t0.system
        out["cpu_s"][stage] = {k: round(v, 3) for k, v in seconds.items()}
        record.clear()
        tracemalloc.start()
        sweep(it + 2)
        tracemalloc.stop()
        out["memory"][stage] = {
            k: {"MB": round(v / 2**20, 1), "bytes_per_frame": round(v / frames)}
            for k, v in record.items()
        }
        it += 3
    return out


# ----------------------------------------------------------------------------- driver
def _machine() -> dict:
    import platform
    from importlib import metadata

    from threadpoolctl import threadpool_info

    np.ones((64, 64)) @ np.ones((64, 64))  # load the BLAS
    keys = ("user_api", "internal_api", "version", "num_threads", "architecture")
    cpu = platform.processor()
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": sys.version.split()[0],
        "versions": {p: metadata.version(p) for p in ("numpy", "scipy", "numba", "threadpoolctl")},
        "threadpools": [{k: i.get(k) for k in keys} for i in threadpool_info()],
        "env": {k: os.environ.get(k) for k in (*THREAD_ENV, "OPENBLAS_CORETYPE")},
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def run_all(labels, output: Path) -> dict:
    env = {
        k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
    }
    env.update(THREAD_ENV)
    me = [sys.executable, str(Path(__file__).resolve())]
    machine = json.loads(subprocess.run(me + ["--machine"], env=env, capture_output=True,
                                        text=True, check=True).stdout)  # fmt: skip
    out = {"machine": machine, "runs": {}}
    if output.exists():
        out["runs"] = json.loads(output.read_text()).get("runs", {})
    for label in labels:
        proc = subprocess.run(me + ["--one", label], env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            print(label, "failed:", proc.stderr[-2000:], flush=True)
            continue
        rec = json.loads(proc.stdout.strip().splitlines()[-1])
        out["runs"][label] = rec
        ar, full = rec["ar_only"], rec["full"]
        print(f"{label}: AR-only {ar['cpu_median_s']:.3f} s CPU, full {full['cpu_median_s']:.3f}"
              f" s CPU, peak RSS {full['peak_rss_MB']} MB, load {rec['loadavg']}")  # fmt: skip
        output.write_text(json.dumps(out, indent=1))
    return out


_HELP = """\
Run from the project root (one thread; each size in a fresh subprocess, so that one size's
memory does not mask another's)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python bench/bench_gibbs_scaling.py
    .venv/bin/python bench/bench_gibbs_scaling.py --report   # md + png from the JSON
    .venv/bin/python bench/bench_gibbs_scaling.py --breakdown 1M   # who allocates, CPU split
    .venv/bin/python bench/bench_gibbs_scaling.py --one 1M --ffbs-budget inf   # one-pass FFBS

The data, the model and what is measured per size: BENCHMARKS.md, "Gibbs sweeps: scaling
to 1M frames".
"""


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--one", choices=sorted({**CONFIGS, **SMOKE}))
    p.add_argument("--machine", action="store_true")
    p.add_argument("--breakdown", choices=sorted({**CONFIGS, **SMOKE}))
    p.add_argument("--only", choices=sorted(CONFIGS), action="append")
    p.add_argument("--report", action="store_true", help="write the md and png from the JSON")
    p.add_argument("-o", "--output", type=Path, default=RESULTS / "gibbs_scaling.json")
    p.add_argument("--ffbs-budget", type=float, help="bytes: ethogram.inference.ffbs.MEMORY_BUDGET")
    args = p.parse_args(argv)
    if args.ffbs_budget is not None:  # 0: the syllables drawn by blocks; inf: in one pass
        from ethogram.inference import ffbs

        ffbs.MEMORY_BUDGET = args.ffbs_budget
    if args.machine:
        print(json.dumps(_machine()))
        return 0
    if args.breakdown:
        res = breakdown(args.breakdown)
        print(json.dumps(res), flush=True)
        path = RESULTS / "gibbs_scaling.breakdown.json"
        old = json.loads(path.read_text()) if path.exists() else {}
        path.write_text(json.dumps({**old, args.breakdown: res}, indent=1))
        return 0
    if args.one:
        print(json.dumps(measure(args.one)), flush=True)
        return 0
    if not args.report:
        run_all(args.only or list(CONFIGS), args.output)
    write_report(json.loads(args.output.read_text()), RESULTS, order=list(CONFIGS))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
