"""jax-moseq 0.3.7's sticky HDP-ARHMM, run from outside ethogram: the fixture of ethogram's test.

Run in the reference environment (it imports only jax-moseq, jax and numpy, one thread,
float64), ``fixture PATH`` runs jax-moseq's ``arhmm.init_model`` and a few ``resample_model``
sweeps on a small synthetic problem and writes the states, the parameters and jax-moseq's log
joint, marginal log-likelihood and AR log-likelihoods on them, which tests/test_gibbs_arhmm.py
compares with ethogram's. The problem and the command: bench/README.md.
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault(
    "XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
)
import jax

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
