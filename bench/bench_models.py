"""Benchmark of one EM iteration (E-step + M-step) against dynamax 1.0.3 and hmmlearn 0.3.3.

Gaussian HMM with full covariances (T = 50000, D = 10, K = 25) and autoregressive HMM
(T = 50000, D = 10, K = 25, L = 3), one thread, float64, data sampled from a random model of
the same family. dynamax's per-iteration time is the difference between ``fit_em`` runs of
11 and 1 iterations divided by 10 (so its one-off jit compile is excluded); hmmlearn's
likewise with ``fit``. The end-to-end row runs 50 EM iterations in a fresh process, import,
compilation and initialisation included, with the default two k-means starts and with one
(the setting of the first run, 2026-11-24). Run: ``python bench/bench_models.py``.
"""

from __future__ import annotations

import _util  # noqa: F401  (pins threads before numpy is imported)

# isort: split

import subprocess
import sys
import time

import numpy as np

from _util import fmt_ms, median_time
from ethogram import HMM
from ethogram.fitting import e_step, m_step

T, D, K, L = 50000, 10, 25, 3


def gaussian_data(seed=0):
    rng = np.random.default_rng(seed)
    truth = HMM(K, "gaussian", dict(data_dim=D))
    truth.observations.emission_means = rng.normal(size=(K, D)) * 2
    B = rng.normal(size=(K, D, D)) * 0.3
    truth.observations.emission_covs = np.einsum("kij,klj->kil", B, B) + 0.5 * np.eye(D)
    return truth.sample(T, seed=seed)[1]


def ar_data(seed=0):
    rng = np.random.default_rng(seed)
    truth = HMM(K, "autoregressive", dict(data_dim=D, num_lags=L))
    dyn = np.zeros((K, D, L * D))
    for k in range(K):
        Q, _ = np.linalg.qr(rng.normal(size=(D, D)))
        dyn[k, :, :D] = 0.8 * Q
        dyn[k, :, D : 2 * D] = 0.1 * np.eye(D)
    truth.observations.emission_dynamics = dyn
    truth.observations.emission_bias = rng.normal(size=(K, D))
    truth.observations.emission_covs = np.tile(0.1 * np.eye(D), (K, 1, 1))
    return truth.sample(T, seed=seed)[1]


def ethogram_iteration(model, data):
    sequences, masks, _ = model._prepare(data)

    def step():
        stats = e_step(model, sequences, masks, num_threads=1)
        m_step(model, stats)

    return median_time(step, repeats=5)


def dynamax_iteration(kind, data):
    try:
        import jax
        import jax.numpy as jnp
        from dynamax.hidden_markov_model import GaussianHMM, LinearAutoregressiveHMM
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)
    y = jnp.asarray(data)
    if kind == "gaussian":
        model = GaussianHMM(K, D)
        params, props = model.initialize(jax.random.PRNGKey(0), method="kmeans", emissions=y)
        inputs = None
    else:
        model = LinearAutoregressiveHMM(K, D, num_lags=L)
        params, props = model.initialize(jax.random.PRNGKey(0), method="prior")
        inputs = model.compute_inputs(y)

    def run(n):
        t0 = time.perf_counter()
        _, lps = model.fit_em(params, props, y, inputs=inputs, num_iters=n, verbose=False)
        jax.block_until_ready(lps)
        return time.perf_counter() - t0

    diffs = [(run(11) - run(1)) / 10 for _ in range(2)]
    return float(np.median(diffs))


def hmmlearn_iteration(data):
    from hmmlearn.hmm import GaussianHMM

    ref = GaussianHMM(
        K,
        covariance_type="full",
        init_params="stmc",
        n_iter=1,
        tol=-np.inf,
        random_state=0,
        implementation="scaling",
    )
    ref.fit(data)
    start = dict(
        startprob_=ref.startprob_.copy(),
        transmat_=ref.transmat_.copy(),
        means_=ref.means_.copy(),
        covars_=ref.covars_.copy(),
    )

    def run(n):
        m = GaussianHMM(
            K,
            covariance_type="full",
            init_params="",
            n_iter=n,
            tol=-np.inf,
            implementation="scaling",
        )
        for k, v in start.items():
            setattr(m, k, v)
        t0 = time.perf_counter()
        m.fit(data)
        return time.perf_counter() - t0

    return float(np.median([(run(4) - run(1)) / 3 for _ in range(2)]))


_END_TO_END_ETHOGRAM = """
import time; t0 = time.perf_counter()
import numpy as np, sys
sys.path.insert(0, "bench")
import _util
from bench_models import ar_data
data = ar_data()
t1 = time.perf_counter()
from ethogram import HMM
m = HMM(25, "autoregressive", dict(data_dim=10, num_lags=3))
r = m.fit(data, num_iters=50, tol=0.0, seed=0, num_threads=1, num_starts=NUM_STARTS)
print(time.perf_counter() - t1, r.num_iters)
"""

_END_TO_END_DYNAMAX = """
import time, sys
sys.path.insert(0, "bench")
import _util
from bench_models import ar_data
data = ar_data()
t1 = time.perf_counter()
import jax, jax.numpy as jnp
jax.config.update("jax_enable_x64", True)
from dynamax.hidden_markov_model import LinearAutoregressiveHMM
model = LinearAutoregressiveHMM(25, 10, num_lags=3)
params, props = model.initialize(jax.random.PRNGKey(0), method="prior")
y = jnp.asarray(data)
_, lps = model.fit_em(params, props, y, inputs=model.compute_inputs(y), num_iters=50, verbose=False)
jax.block_until_ready(lps)
print(time.perf_counter() - t1, 50)
"""


def end_to_end(code):
    """(seconds, EM iterations run) of ``code`` in a fresh process, or None if it failed."""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if out.returncode != 0:
        return None
    words = out.stdout.split()
    return float(words[0]), int(words[1])


def _seconds(run):
    """``14.0 s``, naming the iterations when EM stopped before 50."""
    seconds, iters = run
    return f"{seconds:.1f} s" if iters == 50 else f"{seconds:.1f} s ({iters} iterations)"


def main() -> list[str]:
    lines = ["## Models: one EM iteration (one thread)", ""]
    lines += [
        "| model | ethogram | dynamax 1.0.3 (jit, per step) | ethogram faster by | hmmlearn "
        "0.3.3 (per iteration) | ethogram faster by |",
        "|---|---|---|---|---|---|",
    ]
    x = gaussian_data()
    g = HMM(K, "gaussian", dict(data_dim=D))
    g.initialize(x, seed=0)
    t_eg = ethogram_iteration(g, x)
    t_dy = dynamax_iteration("gaussian", x)
    t_hl = hmmlearn_iteration(x)
    dcol = f"{fmt_ms(t_dy)} | {t_dy / t_eg:.2f}x" if t_dy else "not installed | —"
    lines.append(
        f"| Gaussian HMM, full covariance, T={T}, D={D}, K={K} | {fmt_ms(t_eg)} | {dcol} | "
        f"{fmt_ms(t_hl)} | {t_hl / t_eg:.2f}x |"
    )

    y = ar_data()
    a = HMM(K, "autoregressive", dict(data_dim=D, num_lags=L))
    a.initialize(y, seed=0)
    t_eg = ethogram_iteration(a, y)
    t_dy = dynamax_iteration("ar", y)
    dcol = f"{fmt_ms(t_dy)} | {t_dy / t_eg:.2f}x" if t_dy else "not installed | —"
    lines.append(
        f"| ARHMM, T={T}, D={D}, K={K}, L={L} | {fmt_ms(t_eg)} | {dcol} | (no ARHMM) | — |"
    )

    e2e_eg = end_to_end(_END_TO_END_ETHOGRAM.replace("NUM_STARTS", "None"))
    e2e_one = end_to_end(_END_TO_END_ETHOGRAM.replace("NUM_STARTS", "1"))
    e2e_dy = end_to_end(_END_TO_END_DYNAMAX)
    lines += [
        "",
        "### ARHMM, 50 EM iterations end to end (fresh process: import, compile, initialise, fit)",
        "",
        "| library | time |",
        "|---|---|",
    ]
    for label, run in (
        ("two k-means starts, the default", e2e_eg),
        ("one k-means start, as in the first run", e2e_one),
    ):
        lines.append(
            f"| ethogram ({label}; numba cache warm) | {_seconds(run)} |"
            if run
            else f"| ethogram ({label}) | failed |"
        )
    lines.append(
        f"| dynamax 1.0.3 (prior initialisation, jit compile included) | {_seconds(e2e_dy)} |"
        if e2e_dy
        else "| dynamax | not installed or failed |"
    )
    return lines


if __name__ == "__main__":
    from _cli import no_options

    no_options(__doc__)
    print("\n".join(main()))
