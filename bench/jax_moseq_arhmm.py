"""jax-moseq 0.3.7's sticky HDP-ARHMM, run from outside ethogram: the fixture of ethogram's test.

Run with a Python that has jax-moseq 0.3.7 installed (the reference environment of
``bench/make_reference_env.sh``), from the project root; it imports only jax-moseq, jax and
numpy (not ethogram), one thread, float64:

``<venv>/bin/python bench/jax_moseq_arhmm.py fixture tests/data/arhmm_jax_moseq.npz``
    jax-moseq's ``arhmm.init_model`` (parameters from the prior, syllables by one FFBS draw)
    and 3 ``resample_model`` sweeps on a small synthetic problem (2 segments of 120 frames,
    the last 9 of the second padding as keypoint-moseq pads, latent_dim 3, nlags 3,
    12 states, kappa 50), then writes ``x``, ``mask``, ``z``, ``Ab``, ``Q``, ``pi``,
    ``betas`` and jax-moseq's numbers on them: ``model_likelihood`` (groups ``z`` and ``x``),
    ``marginal_log_likelihood`` and the AR log-likelihoods of every syllable. ethogram's
    tests compare its own values with these (tests/test_gibbs_arhmm.py).
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault(
    "XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
)
import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
import jax.random as jr  # noqa: E402
import numpy as np  # noqa: E402
from jax_moseq.models import arhmm  # noqa: E402
from jax_moseq.utils.autoregression import ar_log_likelihood  # noqa: E402


def hypparams(num_states, latent_dim, nlags=3, kappa=1e6):
    trans = dict(num_states=num_states, gamma=1e3, alpha=5.7, kappa=kappa)
    ar = dict(latent_dim=latent_dim, nlags=nlags, S_0_scale=0.01, K_0_scale=10.0)
    return trans, ar


def synthetic(seed=0, N=2, T=120, D=3, pad=9):
    rng = np.random.default_rng(seed)
    x = np.zeros((N, T, D))
    for n in range(N):
        for t in range(1, T):
            phase = (t // 30) % 3
            x[n, t] = 0.8 * x[n, t - 1] + 0.5 * (phase - 1) + 0.3 * rng.normal(size=D)
    mask = np.ones((N, T))
    mask[-1, T - pad :] = 0.0
    x[-1, T - pad :] = x[-1, T - pad - 1]  # padding repeats the last frame
    return x, mask


def fixture(path):
    x, mask = synthetic()
    trans, ar = hypparams(12, x.shape[2], kappa=50.0)
    data = dict(x=jnp.asarray(x), mask=jnp.asarray(mask))
    model = arhmm.init_model(data, trans_hypparams=trans, ar_hypparams=ar, seed=jr.PRNGKey(3))
    for _ in range(3):
        model = arhmm.resample_model(data, **model)
    st, pr = model["states"], model["params"]
    lj = arhmm.model_likelihood(data, st, pr)
    mll = arhmm.marginal_log_likelihood(data["mask"], data["x"], pr["Ab"], pr["Q"], pr["pi"])
    ll = np.stack(
        [
            np.asarray(jax.vmap(lambda xn, A=A, Q=Q: ar_log_likelihood(xn, (A, Q)))(data["x"]))
            for A, Q in zip(pr["Ab"], pr["Q"])
        ],
        axis=-1,
    )
    np.savez(
        path,
        x=x,
        mask=mask,
        z=np.asarray(st["z"]),
        Ab=np.asarray(pr["Ab"]),
        Q=np.asarray(pr["Q"]),
        pi=np.asarray(pr["pi"]),
        betas=np.asarray(pr["betas"]),
        log_joint_z=float(lj["z"]),
        log_joint_x=float(lj["x"]),
        marginal_ll=float(mll),
        ar_log_likes=ll,
        jax_moseq_version=_version(),
    )
    print(f"wrote {path}: z {float(lj['z']):.6f}, x {float(lj['x']):.6f}, mll {float(mll):.6f}")


def _version():
    from importlib import metadata

    return metadata.version("jax-moseq")


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "fixture":
        raise SystemExit("usage: jax_moseq_arhmm.py fixture OUT.npz")
    fixture(sys.argv[2])
