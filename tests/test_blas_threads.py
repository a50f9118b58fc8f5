"""BLAS and OpenMP run on one thread inside ethogram's fits, whatever the process's counts.

ethogram's fits make many small BLAS calls and small k-means fits and parallelise over
recordings themselves; threaded pools only cost there (BENCHMARKS.md, "BLAS threads") and
their thread count changed a long fit's last bits. These tests raise the process's BLAS and
OpenMP pools to two threads (threadpoolctl), then look at the counts inside EM, inside the
Gibbs sampler, inside a batch and inside scikit-learn's k-means, and at the counts restored
after each.
"""

from __future__ import annotations

import numpy as np
import pytest

threadpoolctl = pytest.importorskip("threadpoolctl")


def _threads(api: str) -> list[int]:
    return sorted(
        {i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == api}
    )


def test_fits_run_blas_and_openmp_on_one_thread_and_restore_the_counts(monkeypatch):
    from sklearn.cluster import KMeans

    import ethogram.fitting.gibbs as gibbs
    import ethogram.fitting.restarts as restarts
    from ethogram import HMM
    from ethogram.fitting.gibbs import GibbsSettings
    from ethogram.inference import parallel_map
    from ethogram.models.moseq_arhmm import StickyHDPARHMM

    seen = {}

    def spy(name, func):
        def wrapped(*args, **kwargs):
            seen.setdefault(name, (_threads("blas"), _threads("openmp")))
            return func(*args, **kwargs)

        return wrapped

    monkeypatch.setattr(restarts, "run_em", spy("em", restarts.run_em))
    monkeypatch.setattr(gibbs, "_sweep", spy("gibbs", gibbs._sweep))
    monkeypatch.setattr(KMeans, "fit", spy("kmeans", KMeans.fit))
    x = np.random.default_rng(0).standard_normal((300, 2))
    with threadpoolctl.threadpool_limits(limits=2):
        two = (_threads("blas"), _threads("openmp"))
        if two != ([2], [2]):
            pytest.skip(f"this BLAS and OpenMP could not be raised to two threads: {two}")
        HMM(2, "autoregressive", dict(data_dim=2, num_lags=1)).fit(x, num_iters=2, seed=0)
        after_em = (_threads("blas"), _threads("openmp"))
        StickyHDPARHMM(2, num_states=3, num_lags=1).fit(
            x, settings=GibbsSettings(num_iters=2), seed=0, progress=False
        )
        after_gibbs = (_threads("blas"), _threads("openmp"))
        in_batch = parallel_map(lambda _: _threads("blas"), [0], num_threads=1)[0]
    assert seen["em"][0] == [1] and seen["gibbs"][0] == [1] and in_batch == [1]
    # scikit-learn's k-means (the AR model's starts) on one OpenMP thread too
    assert seen["kmeans"][1] == [1]
    assert after_em == after_gibbs == ([2], [2])


_LATE_BLAS = r"""
import json
from threadpoolctl import threadpool_info
from ethogram.inference import one_blas_thread, parallel_map

def blas():
    return sorted({i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"})

before = len(threadpool_info())
parallel_map(abs, [-1, 2], num_threads=1)  # a batch before another BLAS is loaded
import cv2  # noqa: E402,F401  (opencv-python-headless ships its own OpenBLAS)

loaded = len(threadpool_info()) > before
with one_blas_thread():
    inside = blas()
print(json.dumps({"loaded": loaded, "start": blas(), "inside": inside, "after": blas()}))
"""


def test_a_blas_loaded_after_the_first_batch_is_limited_too():
    """The libraries are looked up when a fit starts, not once per process: a BLAS loaded
    later (OpenCV's own OpenBLAS, beside NumPy's and SciPy's) runs on one thread in the next
    fit (a worker of the test suite once saw it at two threads inside a fit)."""
    import json
    import os
    import subprocess
    import sys

    env = dict(os.environ, OPENBLAS_NUM_THREADS="2")
    out = subprocess.run(
        [sys.executable, "-c", _LATE_BLAS], env=env, capture_output=True, text=True, check=True
    )
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    if not seen["loaded"] or seen["start"] != [2]:
        pytest.skip(f"OpenCV brought no BLAS of its own at two threads here: {seen}")
    assert seen["inside"] == [1] and seen["after"] == [2]


def test_a_fitted_models_inference_runs_blas_on_one_thread(monkeypatch):
    """posterior, predict, score, log_joint, log_likelihoods and the course's e_step and m_step
    are called on a fitted model outside any fit (a user's loop over recordings): their
    observation log-likelihoods (a triangular solve per state against every frame) ran on the
    process's two BLAS threads, 5 ms a call instead of 0.1 ms in the property tests."""
    from ethogram.models.families import AutoregressiveHMM
    from ethogram.models.observations import autoregressive

    x = np.random.default_rng(1).standard_normal((200, 2))
    model = AutoregressiveHMM(num_states=2, data_dim=2, num_lags=1)
    model.fit(x, num_iters=2, seed=0, progress=False)
    seen = []
    real = autoregressive.frame_log_likes

    def spy(*args, **kwargs):
        seen.append(_threads("blas"))
        return real(*args, **kwargs)

    monkeypatch.setattr(autoregressive, "frame_log_likes", spy)
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):
        if _threads("blas") != [2]:
            pytest.skip(f"this BLAS could not be raised to two threads: {_threads('blas')}")
        model.posterior(x)
        model.predict(x)
        model.score(x)
        model.log_likelihoods(x)
        model.log_joint(model.predict(x), x)
        post = model.e_step(x)
        model.m_step(x, post)
        after = _threads("blas")
    assert len(seen) >= 7 and all(s == [1] for s in seen), seen
    assert after == [2]


def test_the_gibbs_arhmms_log_joint_runs_blas_on_one_thread(monkeypatch):
    """StickyHDPARHMM.log_joint (the diagnostic compared with jax-moseq's) computes every
    syllable's AR log-likelihoods against every frame, as the fitted HMMs' inference above: it
    ran outside any fit on the process's BLAS threads."""
    from ethogram.fitting.gibbs import GibbsSettings
    from ethogram.models import moseq_arhmm
    from ethogram.models.moseq_arhmm import StickyHDPARHMM

    x = np.random.default_rng(2).standard_normal((200, 2))
    model = StickyHDPARHMM(2, num_states=3, num_lags=1)
    model.fit(x, settings=GibbsSettings(num_iters=2), seed=0, progress=False)
    seen = []
    real = moseq_arhmm.log_joint_arhmm

    def spy(*args, **kwargs):
        seen.append(_threads("blas"))
        return real(*args, **kwargs)

    monkeypatch.setattr(moseq_arhmm, "log_joint_arhmm", spy)
    z = np.zeros(199, dtype=int)
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):
        if _threads("blas") != [2]:
            pytest.skip(f"this BLAS could not be raised to two threads: {_threads('blas')}")
        joint = model.log_joint([x, x[:150]], [z, z[:149]])
        after = _threads("blas")
    assert seen == [[1], [1]] and after == [2]
    assert np.isfinite(joint["z"]) and np.isfinite(joint["x"])
