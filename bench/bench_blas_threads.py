"""The demo's fit with BLAS and OpenMP on one thread (ethogram's rule) against their own counts.

Runs `ethogram fit` on the shipped open-field mouse (2330 frames, 30 fps, the default kappa
search) in fresh processes whose BLAS and OpenMP start with a thread per core (a user's default),
alternating two variants of the same code: as shipped (fits run under
``ethogram.inference.one_blas_thread``, scikit-learn's k-means under ``one_openmp_thread``) and
with both guards replaced by no-ops (each pool keeps its own thread count, as before them).
Prints process CPU (user + system, children included) and wall time per run, their medians,
and the BLAS kernel that ran.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_CHILD = r"""
import contextlib, sys
if sys.argv[1] == "native-own-count":
    import threadpoolctl
    threadpoolctl.threadpool_limits = lambda *args, **kwargs: contextlib.nullcontext()
    import ethogram.inference as i, ethogram.inference._threads as t
    t.one_blas_thread = i.one_blas_thread = contextlib.nullcontext
    t.one_openmp_thread = i.one_openmp_thread = contextlib.nullcontext
    import ethogram.fitting.gibbs as g, ethogram.fitting.restarts as r
    g.one_blas_thread = r.one_blas_thread = contextlib.nullcontext
from ethogram.cli import main
sys.exit(main(sys.argv[2:]))
"""


def _run(variant: str, source: Path, out: Path, env: dict) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    args = ["fit", str(source), "-o", str(out), "--fps", "30", "--overwrite", "--quiet"]
    subprocess.run(
        [sys.executable, "-c", _CHILD, variant, *args],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="pairs of runs (default 3)")
    args = parser.parse_args()
    from threadpoolctl import threadpool_info

    import ethogram

    source = Path(ethogram.__file__).parent / "data" / "openfield"
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    blas = [(i["internal_api"], i.get("architecture"), i["num_threads"]) for i in threadpool_info()]
    print(f"BLAS at start (no *_NUM_THREADS set): {blas}; load {os.getloadavg()}")
    times: dict[str, list[tuple[float, float]]] = {"one-blas-thread": [], "native-own-count": []}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            for variant in times:
                cpu, wall = _run(variant, source, Path(tmp) / variant, env)
                times[variant].append((cpu, wall))
                print(f"round {r}: {variant}: CPU {cpu:.1f} s, wall {wall:.1f} s", flush=True)
    for variant, runs in times.items():
        cpu = statistics.median(c for c, _ in runs)
        wall = statistics.median(w for _, w in runs)
        print(f"{variant}: median CPU {cpu:.1f} s, median wall {wall:.1f} s")
    print(f"load at the end {os.getloadavg()}")


if __name__ == "__main__":
    main()
