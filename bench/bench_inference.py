"""Benchmark of ethogram's inference kernels against hmmlearn 0.3.3 and dynamax, side by side.

The full E-step and Viterbi at T = 36000, K = 50 and over K, a batch on 1 and 2 threads, numba's
compile time and peak memory, one thread and float64 everywhere, implementations interleaved
round-robin and every comparison checked for agreement before it is reported; writes
``bench/results/inference.md`` and ``.json`` and prints the markdown. The setup, each
measurement and how to run it: bench/README.md.
"""

from __future__ import annotations

import _common  # noqa: F401  (pins threads before numpy / jax are imported)

# isort: split

import json
import os
import pathlib
import time

import numpy as np

import ethogram as eg
from _common import (
    enable_jax_x64,
    fmt_ratio,
    fmt_time,
    log,
    machine,
    md_table,
    time_interleaved,
    time_once,
)
from _inference_fresh import compile_times, memory
from _inference_impl import (
    Dynamax,
    estep_check,
    ethogram_estep,
    hmmlearn_estep,
    hmmlearn_viterbi,
    numpy_estep,
    path_score,
    problem,
    viterbi_check,
    yes,
)

HAVE_JAX = enable_jax_x64()
RESULTS = pathlib.Path(__file__).resolve().parent / "results"
T_MAIN, K_MAIN = 36000, 50
K_GRID = (10, 50, 100, 200)
DYNAMAX_LIMIT = 30.0  # seconds per call beyond which dynamax is skipped


# ----------------------------------------------------------------------------- sections

#: the columns of the headline tables but the last (the check's detail)
_COLUMNS = ["implementation", "median", "min – max", "time / ethogram", "CPU/wall", "agrees"]


def _rows(tim: dict, names: dict, checks: dict) -> list[list[str]]:
    """A headline table's rows: each implementation's times against ethogram's, and its check."""
    base = tim["ethogram"].median
    rows = []
    for key, t in tim.items():
        ok, detail = checks.get(key, (True, "reference"))
        lo, hi = t.spread
        rows.append(
            [
                names[key],
                f"{fmt_time(t.median)} (n={t.n})",
                f"{fmt_time(lo)} – {fmt_time(hi)}",
                fmt_ratio(t.median / base),
                f"{t.cpu_ratio:.2f}",
                "—" if key == "ethogram" else yes(ok),
                detail,
            ]
        )
    return rows


def _record(tim: dict, checks: dict) -> dict:
    """A headline table's raw times, first (compiling) call and agreement, for the JSON."""
    return {
        k: {"times": t.times, "first": t.first, "agrees": checks.get(k, (True, ""))[0]}
        for k, t in tim.items()
    }


def headline(res: dict, dyn: Dynamax | None) -> tuple[list[str], dict, dict]:
    log(f"E-step and Viterbi at T={T_MAIN}, K={K_MAIN}")
    pi, A, ll = problem(T_MAIN, K_MAIN)
    ref = ethogram_estep(pi, A, ll)
    funcs = {
        "ethogram": lambda: eg.forward_backward(pi, A, ll),
        "hmmlearn": lambda: hmmlearn_estep(pi, A, ll),
    }
    checks = {"hmmlearn": estep_check(ref, hmmlearn_estep(pi, A, ll))}
    if dyn:
        args = dyn.device(pi, A, ll)
        funcs["dynamax smoother"] = lambda: dyn.estep(dyn.smoother, args)
        funcs["dynamax two-filter"] = lambda: dyn.estep(dyn.two_filter, args)
    reps = {"ethogram": 15, "hmmlearn": 9, "dynamax smoother": 7, "dynamax two-filter": 7}
    tim = time_interleaved(funcs, {k: reps[k] for k in funcs})
    if dyn:  # check after warm-up, on the compiled functions that were timed
        checks["dynamax smoother"] = estep_check(ref, dyn.estep(dyn.smoother, args))
        checks["dynamax two-filter"] = estep_check(ref, dyn.estep(dyn.two_filter, args))
    np_out = []
    tim["numpy loop"] = time_once(lambda: np_out.append(numpy_estep(pi, A, ll)))
    checks["numpy loop"] = estep_check(ref, np_out[0])
    names = {
        "ethogram": "ethogram `forward_backward`",
        "hmmlearn": "hmmlearn `_hmmc` scaling: exp + forward + backward + posterior + xi sum",
        "dynamax smoother": "dynamax `hmm_smoother` (jit, summed transition probs)",
        "dynamax two-filter": "dynamax `hmm_two_filter_smoother` (jit, summed transition probs)",
        "numpy loop": "plain NumPy loop over t (1 run)",
    }
    res["estep"] = _record(tim, checks)
    lines = [f"### Full E-step, T = {T_MAIN}, K = {K_MAIN} (one thread, float64)", ""]
    lines += md_table(_COLUMNS + ["max deviation from ethogram"], _rows(tim, names, checks))
    lines += [
        "",
        "Deviation: marginal LL relative, posteriors absolute, summed transitions relative to "
        "their largest entry. "
        "dynamax inputs are JAX arrays made before timing; its first (compiling) call took "
        + (
            f"{fmt_time(tim['dynamax smoother'].first)} (`hmm_smoother`) and "
            f"{fmt_time(tim['dynamax two-filter'].first)} (two-filter)."
            if dyn
            else "— (not installed)."
        ),
    ]

    # Viterbi
    z_ref = eg.viterbi(pi, A, ll)
    _, score = eg.viterbi(pi, A, ll, return_score=True)
    vfuncs = {
        "ethogram": lambda: eg.viterbi(pi, A, ll),
        "hmmlearn": lambda: hmmlearn_viterbi(pi, A, ll),
    }
    if dyn:
        vfuncs["dynamax"] = lambda: dyn.viterbi(args)
    vt = time_interleaved(vfuncs, {"ethogram": 15, "hmmlearn": 9, "dynamax": 7})
    vchecks = {"hmmlearn": viterbi_check(pi, A, ll, z_ref, hmmlearn_viterbi(pi, A, ll))}
    if dyn:
        vchecks["dynamax"] = viterbi_check(pi, A, ll, z_ref, dyn.viterbi(args))
    from hmmlearn import _hmmc

    hl_score = _hmmc.viterbi(pi, A, ll)[0]
    score_ok = abs(hl_score - score) <= 1e-9 * abs(score) and abs(
        path_score(pi, A, ll, z_ref) - score
    ) <= 1e-9 * abs(score)
    vnames = {
        "ethogram": "ethogram `viterbi`",
        "hmmlearn": "hmmlearn `_hmmc.viterbi`",
        "dynamax": "dynamax `hmm_posterior_mode` (jit)",
    }
    res["viterbi"] = _record(vt, vchecks)
    res["viterbi_score_agrees"] = bool(score_ok)
    lines += ["", f"### Viterbi, T = {T_MAIN}, K = {K_MAIN} (one thread, float64)", ""]
    lines += md_table(_COLUMNS + ["path check"], _rows(vt, vnames, vchecks))
    lines += [
        "",
        f"Best-path log-probability: ethogram {score:.6f}, hmmlearn {hl_score:.6f}, recomputed "
        "from the path "
        f"{path_score(pi, A, ll, z_ref):.6f} — agree to 1e-9: {yes(score_ok)}.",
    ]
    return lines, tim, vt


def _dynamax_k(dyn, K, prev, fn, check):
    """Run dynamax once at this K unless predicted too slow; return (func or None, agrees, why)."""
    if prev is not None:
        predicted = prev[1] * (K / prev[0]) ** 2  # the scan costs ~K^2 per frame
        if predicted > DYNAMAX_LIMIT:
            return None, True, f"skipped (predicted {predicted:.0f} s per call)"
    t0 = time.perf_counter()
    out = fn()  # compiles for this shape; also the correctness check
    first = time.perf_counter() - t0
    if first > DYNAMAX_LIMIT:
        return None, True, f"skipped (first call {first:.0f} s)"
    return fn, check(out), ""


def k_table(res: dict, dyn: Dynamax | None, main_estep, main_vit) -> list[str]:
    rows = []
    res["k_table"] = {}
    prev = {"estep": None, "viterbi": None}
    for K in K_GRID:
        why = {"estep": "" if dyn else "not installed", "viterbi": "" if dyn else "not installed"}
        if K == K_MAIN:  # the headline problem and timings, not re-run
            est = {"ethogram": main_estep["ethogram"], "hmmlearn": main_estep["hmmlearn"]}
            vit = {"ethogram": main_vit["ethogram"], "hmmlearn": main_vit["hmmlearn"]}
            if "dynamax smoother" in main_estep:
                est["dynamax"] = main_estep["dynamax smoother"]
                vit["dynamax"] = main_vit["dynamax"]
            ok_e = all(
                res["estep"][k]["agrees"]
                for k in ("hmmlearn", "dynamax smoother")
                if k in res["estep"]
            )
            ok_v = all(
                res["viterbi"][k]["agrees"] for k in ("hmmlearn", "dynamax") if k in res["viterbi"]
            )
        else:
            log(f"K table: K={K}")
            pi, A, ll = problem(T_MAIN, K, seed=K)
            ref = ethogram_estep(pi, A, ll)
            z_ref = eg.viterbi(pi, A, ll)
            efuncs = {
                "ethogram": lambda: eg.forward_backward(pi, A, ll),
                "hmmlearn": lambda: hmmlearn_estep(pi, A, ll),
            }
            vfuncs = {
                "ethogram": lambda: eg.viterbi(pi, A, ll),
                "hmmlearn": lambda: hmmlearn_viterbi(pi, A, ll),
            }
            ok_e = estep_check(ref, hmmlearn_estep(pi, A, ll))[0]
            ok_v = viterbi_check(pi, A, ll, z_ref, hmmlearn_viterbi(pi, A, ll))[0]
            if dyn:
                args = dyn.device(pi, A, ll)
                f, ok, why["estep"] = _dynamax_k(
                    dyn,
                    K,
                    prev["estep"],
                    lambda: dyn.estep(dyn.smoother, args),
                    lambda out: estep_check(ref, out)[0],
                )
                if f:
                    efuncs["dynamax"], ok_e = f, ok_e and ok
                f, ok, why["viterbi"] = _dynamax_k(
                    dyn,
                    K,
                    prev["viterbi"],
                    lambda: dyn.viterbi(args),
                    lambda out: viterbi_check(pi, A, ll, z_ref, out)[0],
                )
                if f:
                    vfuncs["dynamax"], ok_v = f, ok_v and ok
            slow = K >= 200
            reps = {"ethogram": 7, "hmmlearn": 5 if slow else 7, "dynamax": 5 if slow else 7}
            est = time_interleaved(efuncs, {k: reps[k] for k in efuncs})
            vit = time_interleaved(vfuncs, {k: reps[k] for k in vfuncs})
        for kind, d in (("estep", est), ("viterbi", vit)):
            if "dynamax" in d:
                prev[kind] = (K, d["dynamax"].median)

        def cells(d, kind):
            base = d["ethogram"].median
            hl = d["hmmlearn"].median
            out = [fmt_time(base), fmt_time(hl), fmt_ratio(hl / base)]
            if "dynamax" in d:
                out += [fmt_time(d["dynamax"].median), fmt_ratio(d["dynamax"].median / base)]
            else:
                out += [why[kind] or "skipped", "—"]
            return out

        rows.append(
            [str(K)] + cells(est, "estep") + [yes(ok_e)] + cells(vit, "viterbi") + [yes(ok_v)]
        )
        res["k_table"][K] = {
            "estep": {k: v.times for k, v in est.items()},
            "viterbi": {k: v.times for k, v in vit.items()},
            "estep_agrees": bool(ok_e),
            "viterbi_agrees": bool(ok_v),
            "skipped": {k: v for k, v in why.items() if v},
        }
    lines = ["", f"### Over K (T = {T_MAIN}, one thread; medians, ratio = time / ethogram)", ""]
    lines += md_table(
        [
            "K",
            "E-step ethogram",
            "hmmlearn",
            "ratio",
            "dynamax",
            "ratio",
            "agrees",
            "Viterbi ethogram",
            "hmmlearn",
            "ratio",
            "dynamax",
            "ratio",
            "same path",
        ],
        rows,
    )
    lines += [
        "",
        f"n = 7 repeats (5 for hmmlearn and dynamax at K = 200); the K = {K_MAIN} row reuses the "
        "headline timings "
        "(dynamax E-step there is `hmm_smoother`, as in the other rows). dynamax is skipped "
        "where one call is predicted "
        "(from the previous K, scaling as K^2) or observed to take more than "
        f"{DYNAMAX_LIMIT:.0f} s.",
    ]
    return lines


def batch(res: dict) -> list[str]:
    log("batch: 20 x 50000 at K=50, 1 vs 2 threads")
    rng = np.random.default_rng(1)
    K = 50
    pi, A = np.full(K, 1.0 / K), rng.dirichlet(np.ones(K), size=K)
    lls = [rng.standard_normal((50000, K)) * 5.0 for _ in range(20)]
    tim = time_interleaved(
        {
            1: lambda: eg.forward_backward(pi, A, lls, num_threads=1),
            2: lambda: eg.forward_backward(pi, A, lls, num_threads=2),
        },
        5,
    )
    a = eg.forward_backward(pi, A, lls, num_threads=1)
    b = eg.forward_backward(pi, A, lls, num_threads=2)
    same = all(
        np.array_equal(x.expected_states, y.expected_states)
        and x.marginal_ll == y.marginal_ll
        and np.array_equal(x.expected_transitions, y.expected_transitions)
        for x, y in zip(a, b)
    )
    del a, b
    single = time_interleaved({"one": lambda: eg.forward_backward(pi, A, lls[0])}, 7)["one"].median
    res["batch"] = {str(k): t.times for k, t in tim.items()} | {
        "identical": bool(same),
        "single_sequence": single,
    }
    t1, t2 = tim[1].median, tim[2].median
    rows = [
        ["1", fmt_time(t1), "1.00x", f"{tim[1].cpu_ratio:.2f}", "—"],
        ["2", fmt_time(t2), fmt_ratio(t1 / t2), f"{tim[2].cpu_ratio:.2f}", yes(same)],
    ]
    lines = ["", "### Batch: 20 sequences x 50000 frames, K = 50, `forward_backward(list)`", ""]
    lines += md_table(
        ["num_threads", "median (n=5)", "speed-up", "CPU/wall", "bitwise identical to 1 thread"],
        rows,
    )
    lines += [
        "",
        f"One 50000-frame sequence alone: {fmt_time(single)} (x 20 = {fmt_time(20 * single)}). "
        f"The machine has {os.cpu_count()} cores and is shared, so 2.00x is the ceiling"
        + (
            f"; CPU/wall {tim[2].cpu_ratio:.2f} on 2 threads means the second core was partly "
            "busy with other processes during this run."
            if tim[2].cpu_ratio < 1.7
            else "."
        ),
    ]
    return lines


def header(info: dict) -> list[str]:
    v = info["versions"]
    blas = "; ".join(
        f"{p['internal_api']} {p['version']} ({p['architecture']}): {p['num_threads']} thread(s)"
        for p in info["threadpools"]
        if p["user_api"] == "blas"
    )
    other = "; ".join(
        f"{p['internal_api']} ({p['user_api']}): {p['num_threads']} thread(s)"
        for p in info["threadpools"]
        if p["user_api"] != "blas"
    )
    return [
        "## Inference kernels",
        "",
        "Written by `bench/bench_inference.py` (re-run it to refresh). Medians over repeats in "
        "one process, "
        "implementations interleaved round-robin; ratios are time / ethogram's time in the same "
        "run.",
        "",
        f"- date: {info['date']}",
        f"- machine: {info['cpu']}, {info['cores']} CPUs ({info['cores_available']} available to "
        "this process); shared and noisy",
        f"- python {info['python']}; numpy {v['numpy']}, numba {v['numba']}, hmmlearn "
        f"{v['hmmlearn']}, jax {v['jax']} "
        f"(jaxlib {v['jaxlib']}), dynamax {v['dynamax']}, ethogram {v['ethogram']}, "
        f"threadpoolctl {v['threadpoolctl']}",
        "- thread settings: "
        + ", ".join(f"`{k}={val}`" for k, val in info["env"].items() if val is not None)
        + "; jax `jax_enable_x64=True`, "
        "and XLA's CPU thread pool sized to one thread by starting JAX's client with the process "
        "pinned to one CPU "
        "(the XLA_FLAGS alone leave dynamax's Viterbi on two threads; see "
        "`_common.enable_jax_x64`)",
        f"- load average (1 min) at start {info['load_start']:.2f}, at end "
        f"{info['loadavg'][0]:.2f} (other engineers' processes share the CPUs)",
        f"- threadpoolctl: BLAS {blas or 'none loaded'}"
        + (f"; other pools: {other}" if other else ""),
        "",
    ]


def main() -> str:
    t_start = time.perf_counter()
    load_start = os.getloadavg()[0]
    dyn = Dynamax() if HAVE_JAX else None
    from hmmlearn import _hmmc  # noqa: F401  (load hmmlearn / sklearn BLAS before recording thread pools)

    res: dict = {}
    lines_head, main_estep, main_vit = headline(res, dyn)
    body = lines_head
    body += k_table(res, dyn, main_estep, main_vit)
    body += batch(res)
    body += compile_times(res)
    body += memory(res, T_MAIN, K_MAIN)
    info = machine() | {"load_start": load_start}
    blas = [p["num_threads"] for p in info["threadpools"] if p["user_api"] == "blas"]
    anomalies = []
    if any(n != 1 for n in blas):
        anomalies.append(f"BLAS is not single-threaded: {blas}")
    if not all(r["agrees"] for r in res["estep"].values()) or not all(
        r["agrees"] for r in res["viterbi"].values()
    ):
        anomalies.append("some implementation disagrees at the headline size (see the tables)")
    if not all(v["estep_agrees"] and v["viterbi_agrees"] for v in res["k_table"].values()):
        anomalies.append("some implementation disagrees in the K table")
    elapsed = time.perf_counter() - t_start
    footer = [
        "",
        f"Total benchmark wall time: {elapsed:.0f} s."
        + ("" if not anomalies else " **Anomalies: " + "; ".join(anomalies) + "**"),
    ]
    text = "\n".join(header(info) + body + footer) + "\n"
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "inference.md").write_text(text)
    res["machine"] = info
    res["elapsed"] = elapsed
    (RESULTS / "inference.json").write_text(json.dumps(res, indent=1, default=str))
    return text


if __name__ == "__main__":
    from _cli import no_options

    no_options(__doc__)
    print(main())
