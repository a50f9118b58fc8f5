"""bench_inference.py's measurements in fresh processes: numba's compile time and peak memory.

:func:`compile_times` starts Python processes on an empty numba cache (``NUMBA_CACHE_DIR`` a new
temporary directory) and then on that cache, timing ``import ethogram`` and the first and second
calls; :func:`memory` takes tracemalloc's peak of ``forward_backward`` and ``viterbi`` beyond
their outputs and cross-checks it by the resident-set peak of a fresh process per call. Each
returns its markdown lines and stores its raw numbers in ``res``.
"""

from __future__ import annotations

import _common  # noqa: F401  (pins threads before numpy is imported)

# isort: split

import json
import os
import subprocess
import sys
import tempfile
import tracemalloc

import numpy as np

import ethogram as eg
from _common import fmt_time, log, md_table
from _inference_impl import problem

_FIRST_CALL = r"""
import json, sys, time
t0 = time.perf_counter()
import numpy as np
import ethogram as eg
t1 = time.perf_counter()
rng = np.random.default_rng(0)
pi, A, ll = np.full(4, 0.25), rng.dirichlet(np.ones(4), 4), rng.standard_normal((200, 4))
out = {"import": t1 - t0}
if sys.argv[1] == "preinit":  # load one unrelated cached kernel first: numba's one-time start-up
    from ethogram.inference import _kernels
    s = time.perf_counter()
    _kernels.propagate_kernel(pi, A, 2, np.empty((3, 4)))
    out["preinit"] = time.perf_counter() - s
for name, f in (
    ("forward_backward", lambda: eg.forward_backward(pi, A, ll)),
    ("viterbi", lambda: eg.viterbi(pi, A, ll)),
):
    s = time.perf_counter(); f(); out[name + "_first"] = time.perf_counter() - s
    s = time.perf_counter(); f(); out[name + "_second"] = time.perf_counter() - s
if sys.argv[1] == "cold":  # untimed: put the kernel the "preinit" run starts with in the cache too
    from ethogram.inference import _kernels
    _kernels.propagate_kernel(pi, A, 2, np.empty((3, 4)))
print(json.dumps(out))
"""


def _cache_files(path: str) -> int:
    return sum(
        len([f for f in files if f.endswith((".nbi", ".nbc"))]) for _, _, files in os.walk(path)
    )


def compile_times(res: dict, pairs: int = 3) -> list[str]:
    log(f"compile: {pairs} x fresh processes (empty numba cache, then cache hit)")
    runs = {"cold": [], "warm": [], "preinit": []}
    written, added = [], []
    for _ in range(pairs):
        with tempfile.TemporaryDirectory(prefix="numba-cache-") as cache:
            env = dict(os.environ, NUMBA_CACHE_DIR=cache)
            for kind in ("cold", "warm", "preinit"):
                before = _cache_files(cache)
                proc = subprocess.run(
                    [sys.executable, "-c", _FIRST_CALL, kind],
                    env=env,
                    capture_output=True,
                    text=True,
                    check=True,
                )
                runs[kind].append(json.loads(proc.stdout.strip().splitlines()[-1]))
                (written if kind == "cold" else added).append(_cache_files(cache) - before)
    med = lambda kind, key: float(np.median([r[key] for r in runs[kind]]))  # noqa: E731
    res["compile"] = runs | {
        "cache_files_written": written,
        "cache_files_added_by_later_runs": added,
    }
    labels = {
        "cold": "empty (compiles)",
        "warm": "reused (cache hit)",
        "preinit": "reused, numba already started by another cached kernel",
    }
    rows = []
    for kind, label in labels.items():
        rows.append(
            [
                label,
                fmt_time(med(kind, "import")),
                fmt_time(med(kind, "forward_backward_first")),
                fmt_time(med(kind, "viterbi_first")),
                fmt_time(med(kind, "forward_backward_second")),
                fmt_time(med(kind, "viterbi_second")),
            ]
        )
    ratio = med("cold", "forward_backward_first") / med("warm", "forward_backward_first")
    lines = [
        "",
        f"### First call in a fresh process (T = 200, K = 4; medians over {pairs} fresh cache "
        "directories)",
        "",
    ]
    lines += md_table(
        [
            "numba cache",
            "import ethogram",
            "first `forward_backward`",
            "first `viterbi` (after it)",
            "second `forward_backward`",
            "second `viterbi`",
        ],
        rows,
    )
    lines += [
        "",
        f"An empty cache makes the first `forward_backward` {ratio:.0f}x slower than a cache "
        "hit. In the third row one "
        "unrelated cached kernel (`propagate_kernel`) ran first and took "
        f"{fmt_time(med('preinit', 'preinit'))}: that is "
        "numba's one-time start-up, paid by whichever kernel comes first; loading the cached "
        "kernels themselves is the rest. "
        f"Cache files written by the first process: {written}; added by the later ones (should "
        f"be 0): {added}.",
    ]
    return lines


_RSS_PROBE = r"""
import json, sys
import numpy as np
import ethogram as eg
def status():
    return {
        l.split(':')[0]: int(l.split()[1]) * 1024
        for l in open('/proc/self/status')
        if l.startswith(('VmHWM', 'VmRSS'))
    }
rng = np.random.default_rng(0)
T, K = int(sys.argv[1]), int(sys.argv[2])
pi, A, ll = np.full(K, 1 / K), rng.dirichlet(np.ones(K), K), rng.standard_normal((T, K)) * 5
f = getattr(eg, sys.argv[3])
f(pi, A, ll[:50])  # compile / load outside the measurement
open('/proc/self/clear_refs', 'w').write('5')  # reset the peak-RSS mark to the current RSS
before = status()['VmRSS']
r = f(pi, A, ll)
print(json.dumps(status()['VmHWM'] - before))
"""


def memory(res: dict, T: int, K: int) -> list[str]:
    log("memory")
    pi, A, ll = problem(T, K)
    unit = T * K * 8
    eg.forward_backward(pi, A, ll)
    eg.viterbi(pi, A, ll)
    peaks, outs = {}, {}
    for name, f in (
        ("forward_backward", lambda: eg.forward_backward(pi, A, ll)),
        ("viterbi", lambda: eg.viterbi(pi, A, ll)),
    ):
        tracemalloc.start()
        r = f()
        _, peaks[name] = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        outs[name] = (
            (r.expected_states.nbytes + r.expected_transitions.nbytes)
            if name == "forward_backward"
            else r.nbytes
        )
        del r
    rss = {}
    for name in peaks:  # each in its own fresh process, so no freed heap is reused
        try:
            proc = subprocess.run(
                [sys.executable, "-c", _RSS_PROBE, str(T), str(K), name],
                capture_output=True,
                text=True,
                check=True,
            )
            rss[name] = json.loads(proc.stdout.strip().splitlines()[-1])
        except (
            subprocess.CalledProcessError,
            OSError,
            ValueError,
        ) as exc:  # clear_refs is Linux-only
            log(f"RSS probe failed: {exc}")
    res["memory"] = {
        "tracemalloc_peak": peaks,
        "outputs": outs,
        "rss_peak_increase": rss,
        "TK8": unit,
    }
    rows = []
    for name in peaks:
        extra = peaks[name] - outs[name]
        r = rss.get(name)
        rows.append(
            [
                f"`{name}`",
                f"{outs[name] / 2**20:.1f} MiB ({outs[name] / unit:.2f})",
                f"{peaks[name] / 2**20:.1f} MiB ({peaks[name] / unit:.2f})",
                f"**{extra / 2**20:.1f} MiB ({extra / unit:.2f})**",
                "—"
                if r is None
                else f"{r / 2**20:.1f} MiB ({r / unit:.2f}); beyond outputs "
                f"{(r - outs[name]) / 2**20:.1f} MiB ({(r - outs[name]) / unit:.2f})",
            ]
        )
    lines = [
        "",
        f"### Memory (T = {T}, K = {K}; T K 8 bytes = {unit / 2**20:.1f} MiB; multiples of it in "
        "brackets)",
        "",
    ]
    lines += md_table(
        [
            "call",
            "outputs",
            "tracemalloc peak",
            "peak beyond outputs",
            "peak RSS increase, fresh process",
        ],
        rows,
    )
    lines += [
        "",
        "tracemalloc sees NumPy's allocations and also numba's (its runtime allocates through "
        "Python's raw "
        "allocator), e.g. Viterbi's T x K score array. The last column is a cross-check by "
        "resident set size in a fresh "
        "process per call (peak-RSS mark reset through /proc/self/clear_refs just before the "
        "call). Inputs are allocated "
        "before either measurement starts.",
    ]
    return lines
