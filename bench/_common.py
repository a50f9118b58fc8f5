"""Shared benchmark plumbing: one-thread environment, interleaved timing, machine record.

Import this module BEFORE numpy, numba or jax: at import it pins every numerical library to
one thread (OpenMP, OpenBLAS, MKL, XLA's CPU backend) with ``os.environ.setdefault`` (so a
caller can still override a variable from the shell), and :func:`enable_jax_x64` then switches
JAX to float64 before any JAX array is made. :func:`time_interleaved` runs the implementations
of one comparison round-robin after a warm-up call each, so that load from other processes hits
all of them alike, and returns per implementation the median wall time, its spread, and the
ratio of process CPU time to wall time (about 1 for a single-threaded call).
"""

from __future__ import annotations

import os

THREAD_ENV = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
}
for _name, _value in THREAD_ENV.items():
    os.environ.setdefault(_name, _value)
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import platform  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from importlib import metadata  # noqa: E402
from typing import Callable  # noqa: E402

import numpy as np  # noqa: E402

# ----------------------------------------------------------------------------- environment


def enable_jax_x64(single_thread: bool = True) -> bool:
    """Import jax, switch it to float64 and start its CPU client; False if jax is missing.

    The XLA_FLAGS above do not make XLA single-threaded: ``intra_op_parallelism_threads`` is
    not an XLA flag (XLA ignores it) and XLA's CPU client sizes its intra-op thread pool from
    the CPU affinity of the process when the client starts; with two CPUs, dynamax's
    ``hmm_posterior_mode`` then keeps two cores busy (CPU/wall 1.9). So with
    ``single_thread`` we pin this thread to one CPU while the client starts (the pool gets
    one thread) and then give every thread of the process all CPUs back, so that the OS may
    still migrate JAX's single worker and ethogram's batch can use two threads.
    """
    try:
        import jax
    except ImportError:
        return False
    jax.config.update("jax_enable_x64", True)
    pin = single_thread and hasattr(os, "sched_setaffinity")
    if pin:
        cpus = os.sched_getaffinity(0)
        os.sched_setaffinity(0, {min(cpus)})
    try:
        import jax.numpy as jnp

        jax.devices()
        jnp.zeros(1).block_until_ready()
    finally:
        if pin:
            for tid in os.listdir("/proc/self/task"):
                try:
                    os.sched_setaffinity(int(tid), cpus)
                except OSError:  # a thread that has exited meanwhile
                    pass
    return True


def threadpools() -> list[dict]:
    """The thread pools threadpoolctl sees (BLAS and OpenMP libraries loaded so far)."""
    from threadpoolctl import threadpool_info

    return [
        {
            k: info.get(k)
            for k in ("user_api", "internal_api", "version", "num_threads", "architecture")
        }
        for info in threadpool_info()
    ]


def blas_threads() -> list[int]:
    """``num_threads`` of every loaded BLAS library (we want them all to be 1)."""
    return [p["num_threads"] for p in threadpools() if p["user_api"] == "blas"]


def version(pkg: str) -> str:
    try:
        return metadata.version(pkg)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine() -> dict:
    """CPU model and cores (lscpu), Python and library versions, thread settings, date."""
    cpu, cores = platform.processor() or "unknown", os.cpu_count()
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        fields = dict(line.split(":", 1) for line in out.splitlines() if ":" in line)
        fields = {k.strip(): v.strip() for k, v in fields.items()}
        cpu = fields.get("Model name", cpu)
        cores = int(fields.get("CPU(s)", cores))
    except (OSError, ValueError):
        pass
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        affinity = cores
    pools = threadpools()
    return {
        "cpu": cpu,
        "cores": cores,
        "cores_available": affinity,
        "python": sys.version.split()[0],
        "versions": {
            p: version(p)
            for p in (
                "ethogram",
                "numpy",
                "numba",
                "hmmlearn",
                "jax",
                "jaxlib",
                "dynamax",
                "threadpoolctl",
            )
        },
        "env": {
            k: os.environ.get(k) for k in (*THREAD_ENV, "NUMBA_NUM_THREADS", "ETHOGRAM_NUM_THREADS")
        },
        "threadpools": pools,
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "loadavg": os.getloadavg() if hasattr(os, "getloadavg") else None,
    }


# ----------------------------------------------------------------------------- timing


@dataclass
class Timing:
    """Wall times of the timed calls (after warm-up) and of the first (warm-up) call."""

    times: list[float] = field(default_factory=list)
    cpu_times: list[float] = field(default_factory=list)
    first: float = float("nan")
    skipped: str = ""

    @property
    def median(self) -> float:
        return float(np.median(self.times)) if self.times else float("nan")

    @property
    def spread(self) -> tuple[float, float]:
        return (min(self.times), max(self.times)) if self.times else (float("nan"), float("nan"))

    @property
    def cpu_ratio(self) -> float:
        """Process CPU time over wall time, medians (1.0 = one busy thread)."""
        return float(np.median(self.cpu_times) / self.median) if self.times else float("nan")

    @property
    def n(self) -> int:
        return len(self.times)


def _timed(func: Callable[[], object]) -> tuple[float, float]:
    c0, t0 = time.process_time(), time.perf_counter()
    func()
    return time.perf_counter() - t0, time.process_time() - c0


def time_interleaved(
    funcs: dict[str, Callable[[], object]], repeats: dict[str, int] | int, warmup: int = 1
) -> dict[str, Timing]:
    """Time several implementations round-robin; ``repeats`` may differ per implementation.

    Each gets ``warmup`` untimed calls first (the first one's wall time is kept as
    ``Timing.first``: for a JIT library it includes compilation), then the timed calls are
    interleaved so that background load is shared fairly.
    """
    if isinstance(repeats, int):
        repeats = {name: repeats for name in funcs}
    out = {name: Timing() for name in funcs}
    for name, func in funcs.items():
        for i in range(warmup):
            wall, _ = _timed(func)
            if i == 0:
                out[name].first = wall
    for r in range(max(repeats.values())):
        for name, func in funcs.items():
            if r < repeats[name]:
                wall, cpu = _timed(func)
                out[name].times.append(wall)
                out[name].cpu_times.append(cpu)
    return out


def time_once(func: Callable[[], object]) -> Timing:
    """A single timed call, no warm-up (for slow references)."""
    wall, cpu = _timed(func)
    return Timing(times=[wall], cpu_times=[cpu], first=wall)


def log(msg: str) -> None:
    """A progress line on stderr, stamped with the time of day."""
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- formatting


def fmt_time(seconds: float) -> str:
    if seconds != seconds:  # nan
        return "—"
    ms = seconds * 1e3
    if ms < 10:
        return f"{ms:.2f} ms"
    if ms < 1000:
        return f"{ms:.1f} ms"
    return f"{seconds:.2f} s"


def fmt_ratio(value: float) -> str:
    return "—" if value != value else f"{value:.2f}x"


def md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return lines
