"""Two versions of ethogram side by side: the floor's rows timed in alternating fresh processes.

Usage (from the project root): ``.venv/bin/python bench/bench_versions.py REV [--rounds N]``.
Checks out ``REV`` (e.g. ``fa71f57``, the first benchmark run) in a temporary git worktree
and times, in fresh processes that alternate between that version and the working tree
(``src/``), round after round, so that load from other users of a shared machine hits both
alike: ``forward_backward`` and ``viterbi`` at T = 36000, K = 50, ``viterbi`` at K = 100 and both
at K = 200 (the inputs of ``bench_engine``), one EM iteration of the Gaussian HMM and of the
ARHMM of ``bench_models`` (one thread), and the first call of ``_FIRST_CALL`` in
``bench_engine`` with an empty numba cache (compilation) and with the cache warm. The benchmark
code is the working tree's for both versions; only the library differs. Prints a markdown table
of the medians over rounds (and every round's value), with the ratio now / then.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile

BENCH = pathlib.Path(__file__).resolve().parent
ROOT = BENCH.parent

_STEADY = r"""
import sys, json
sys.path.insert(0, BENCH)
import _util
from _util import median_time
import ethogram as eg
import bench_engine, bench_models
from ethogram import HMM
pi, A, ll = bench_engine.problem(36000, 50)
out = {
    "forward_backward, T = 36000, K = 50": median_time(
        lambda: eg.forward_backward(pi, A, ll), repeats=15
    ),
    "viterbi, T = 36000, K = 50": median_time(lambda: eg.viterbi(pi, A, ll), repeats=15),
}
pi, A, ll = bench_engine.problem(36000, 100, seed=100)
out["viterbi, T = 36000, K = 100"] = median_time(lambda: eg.viterbi(pi, A, ll), repeats=9)
pi, A, ll = bench_engine.problem(36000, 200, seed=200)
out["forward_backward, T = 36000, K = 200"] = median_time(
    lambda: eg.forward_backward(pi, A, ll), repeats=3
)
out["viterbi, T = 36000, K = 200"] = median_time(lambda: eg.viterbi(pi, A, ll), repeats=5)
x = bench_models.gaussian_data()
g = HMM(25, "gaussian", dict(data_dim=10)); g.initialize(x, seed=0)
out["EM iteration, Gaussian full cov., T = 50000, D = 10, K = 25"] = (
    bench_models.ethogram_iteration(g, x)
)
y = bench_models.ar_data()
a = HMM(25, "autoregressive", dict(data_dim=10, num_lags=3)); a.initialize(y, seed=0)
out["EM iteration, ARHMM, T = 50000, D = 10, K = 25, L = 3"] = bench_models.ethogram_iteration(a, y)
out["file"] = eg.__file__
print(json.dumps(out))
"""


def _env(src: str, **extra) -> dict:
    env = dict(os.environ, PYTHONPATH=src, **extra)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(var, "1")
    return env


def _run(code: str, env: dict) -> str:
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout


def one_round(src: str) -> dict:
    """Every row once for the library in ``src`` (fresh processes)."""
    sys.path.insert(0, str(BENCH))
    from bench_engine import _FIRST_CALL

    out = json.loads(
        _run(_STEADY.replace("BENCH", repr(str(BENCH))), _env(src)).strip().splitlines()[-1]
    )
    if not out.pop("file").startswith(src):
        raise RuntimeError(f"the fresh process did not import ethogram from {src}")
    with tempfile.TemporaryDirectory() as cache:
        env = _env(src, NUMBA_CACHE_DIR=cache)
        cold = _run(_FIRST_CALL, env).split()
        warm = _run(_FIRST_CALL, env).split()
    out["first call, empty numba cache (compiles)"] = float(cold[1])
    out["first call, numba cache warm"] = float(warm[1])
    out["import ethogram"] = float(cold[0])
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rev", help="git revision to compare the working tree with")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        tree = pathlib.Path(tmp) / "then"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(tree), args.rev],
            check=True,
        )
        try:
            srcs = {"then": str(tree / "src"), "now": str(ROOT / "src")}
            rows: dict = {}
            for _ in range(args.rounds):
                for name, src in srcs.items():
                    for key, value in one_round(src).items():
                        rows.setdefault(key, {"then": [], "now": []})[name].append(value)
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=False
            )
    print(
        f"| row | {args.rev} (median) | working tree (median) | ratio | {args.rev}, every round "
        "| working tree, every round |"
    )
    print("|---|---|---|---|---|---|")
    for key, v in rows.items():
        then, now = statistics.median(v["then"]), statistics.median(v["now"])
        each = [" ".join(f"{x * 1e3:.1f}" for x in v[n]) for n in ("then", "now")]
        print(
            f"| {key} | {then * 1e3:.1f} ms | {now * 1e3:.1f} ms | {now / then:.2f} | {each[0]} "
            f"| {each[1]} |"
        )


if __name__ == "__main__":
    main()
