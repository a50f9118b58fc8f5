"""BLAS runs on one thread inside ethogram's fits, whatever the process's BLAS thread count.

ethogram's fits make many small BLAS calls and parallelise over recordings themselves; a
threaded BLAS only costs there (BENCHMARKS.md, "BLAS threads") and its thread count changed
a long fit's last bits. The fitting loops run
under :func:`ethogram.inference.one_blas_thread`; these tests run a process whose OpenBLAS
starts with two threads and look at the count inside EM, inside the Gibbs sampler, inside a
batch and (OpenMP) inside scikit-learn's k-means, and at the counts restored after each.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

threadpoolctl = pytest.importorskip("threadpoolctl")

_CHILD = r"""
import json
import numpy as np
from sklearn.cluster import KMeans
from threadpoolctl import threadpool_info

import ethogram.fitting.gibbs as gibbs
import ethogram.fitting.restarts as restarts
from ethogram import HMM
from ethogram.fitting.gibbs import GibbsSettings
from ethogram.inference import parallel_map
from ethogram.models.moseq_arhmm import StickyHDPARHMM


def blas_threads(api="blas"):
    return sorted({i["num_threads"] for i in threadpool_info() if i["user_api"] == api})


seen = {"before": blas_threads()}


def spy(name, func):
    def wrapped(*args, **kwargs):
        seen.setdefault(name, blas_threads())
        return func(*args, **kwargs)

    return wrapped


restarts.run_em = spy("em", restarts.run_em)
fit_kmeans = KMeans.fit


def kmeans_fit(self, *args, **kwargs):
    seen["kmeans_openmp"] = blas_threads("openmp")
    return fit_kmeans(self, *args, **kwargs)


KMeans.fit = kmeans_fit
gibbs._sweep = spy("gibbs", gibbs._sweep)
x = np.random.default_rng(0).standard_normal((300, 2))
HMM(2, "autoregressive", dict(data_dim=2, num_lags=1)).fit(x, num_iters=2, seed=0)
seen["after_em"] = blas_threads()
StickyHDPARHMM(2, num_states=3, num_lags=1).fit(
    x, settings=GibbsSettings(num_iters=2), seed=0, progress=False
)
seen["after_gibbs"] = blas_threads()
seen["openmp_after"] = blas_threads("openmp")
seen["batch"] = parallel_map(lambda _: blas_threads(), [0], num_threads=1)[0]
print(json.dumps(seen))
"""


def test_fits_run_blas_on_one_thread_and_restore_the_count():
    env = dict(os.environ, OPENBLAS_NUM_THREADS="2", OMP_NUM_THREADS="2", MKL_NUM_THREADS="2")
    out = subprocess.run(
        [sys.executable, "-c", _CHILD], env=env, capture_output=True, text=True, check=True
    )
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    if seen["before"] != [2]:
        pytest.skip(f"this BLAS did not start with two threads: {seen['before']}")
    assert seen["em"] == [1] and seen["gibbs"] == [1] and seen["batch"] == [1]
    # scikit-learn's k-means (the AR model's starts) on one OpenMP thread too
    assert seen["kmeans_openmp"] == [1] and seen["openmp_after"] == [2]
    assert seen["after_em"] == [2] and seen["after_gibbs"] == [2]
