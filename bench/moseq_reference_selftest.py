"""The self-test of bench/moseq_reference.py: jax-moseq's log joint against a numpy transcription.

On a tiny synthetic problem it runs ``moseq_reference.py init``, evaluates jax-moseq's log joint
and ARHMM log-likelihood, and compares them group by group with :func:`numpy_log_joint`, a
transcription of docs/moseq_reference.md (run as ``moseq_reference.py selftest``, in the
reference environment).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from moseq_reference import cmd_init, load_model, log_joint, versions


def helmert(k: int) -> np.ndarray:
    """(k, k-1) centring basis, as docs/moseq_reference.md writes it out."""
    g = np.zeros((k, k - 1))
    for j in range(k - 1):
        g[: j + 1, j] = -1.0 / np.sqrt((j + 1) * (j + 2))
        g[j + 1, j] = np.sqrt((j + 1) / (j + 2))
    return g


def _mvn_logpdf(x, mu, cov):
    from scipy.stats import multivariate_normal

    return multivariate_normal(mu, cov).logpdf(x)


def numpy_log_joint(data: dict, model: dict) -> dict:
    """Independent transcription (numpy/scipy, loops) of the log joint and marginal."""
    from scipy.special import logsumexp

    st = {k: np.asarray(v) for k, v in model["states"].items()}
    pr = {k: np.asarray(v) for k, v in model["params"].items()}
    hyp = model["hypparams"]
    mask = np.asarray(data["mask"])
    x, z, Ab, Q, pi = st.get("x", np.asarray(data.get("x"))), st["z"], pr["Ab"], pr["Q"], pr["pi"]
    n_seg, T = mask.shape
    M = Ab.shape[1]
    L = Ab.shape[2] // M
    S = pi.shape[0]
    out = {"z": 0.0, "x": 0.0}
    mll = 0.0
    for n in range(n_seg):
        for t in range(L + 1, T):
            out["z"] += mask[n, t] * np.log(pi[z[n, t - L - 1], z[n, t - L]])
        lls = np.zeros((T - L, S))
        for t in range(L, T):
            u = np.concatenate([x[n, t - L : t].reshape(-1), [1.0]])
            for j in range(S):
                lls[t - L, j] = _mvn_logpdf(x[n, t], Ab[j] @ u, Q[j]) * mask[n, t]
            out["x"] += lls[t - L, z[n, t - L]]
        alpha = np.full(S, -np.log(S)) + lls[0]
        for i in range(1, T - L):
            alpha = logsumexp(alpha[:, None] + np.log(pi), axis=0) + lls[i]
        mll += logsumexp(alpha)
    if "Y" in data:
        Y = np.asarray(data["Y"])
        K, D = Y.shape[-2:]
        G = helmert(K)
        C, d = pr["Cd"][:, :-1], pr["Cd"][:, -1]
        s, v, h, sig = st["s"], st["v"], st["h"], pr["sigmasq"]
        s0 = np.broadcast_to(np.asarray(model["noise_prior"]), s.shape)
        nu_s = hyp["obs_hypparams"]["nu_s"]
        sl = hyp["cen_hypparams"]["sigmasq_loc"]
        out.update(Y=0.0, s=0.0, v=0.0)
        for n in range(n_seg):
            for t in range(T):
                R = np.eye(D)
                R[:2, :2] = [
                    [np.cos(h[n, t]), -np.sin(h[n, t])],
                    [np.sin(h[n, t]), np.cos(h[n, t])],
                ]
                ybar = G @ (C @ x[n, t] + d).reshape(K - 1, D)
                pred = ybar @ R.T + v[n, t]
                var = s[n, t] * sig
                err = ((Y[n, t] - pred) ** 2).sum(-1)
                out["Y"] += mask[n, t] * np.sum(
                    -0.5 * D * np.log(2 * np.pi * var) - err / (2 * var)
                )
                out["s"] += mask[n, t] * np.sum(
                    -nu_s * s0[n, t] / (2 * s[n, t]) - (1 + nu_s / 2) * np.log(s[n, t])
                )
                if t >= 1:
                    dv = ((v[n, t] - v[n, t - 1]) ** 2).sum()
                    out["v"] += mask[n, t] * (-0.5 * D * np.log(2 * np.pi * sl) - dv / (2 * sl))
    return {"log_joint": out, "marginal_loglik": float(mll)}


def synthetic_recordings(
    seed: int = 0, T: int = 90, K: int = 5, R: int = 2
) -> tuple[np.ndarray, np.ndarray]:
    """R recordings of K body parts in 2-D: a body that turns and walks, with jitter and some
    low-confidence points; small enough for the loop transcription above."""
    rng = np.random.default_rng(seed)
    shape = np.stack([np.linspace(-20, 20, K), 4 * np.sin(np.linspace(0, np.pi, K))], axis=1)
    Y = np.zeros((R, T, K, 2))
    for r in range(R):
        heading = np.cumsum(rng.normal(0, 0.05, T))
        centre = np.cumsum(rng.normal(0, 1.0, (T, 2)), axis=0) + 100
        bend = 3 * np.sin(np.arange(T) / 7.0 + r)[:, None] * np.linspace(-1, 1, K)[None]
        body = shape[None].repeat(T, 0)
        body[..., 1] += bend
        rot = np.stack(
            [
                np.stack([np.cos(heading), -np.sin(heading)], -1),
                np.stack([np.sin(heading), np.cos(heading)], -1),
            ],
            -2,
        )
        Y[r] = (
            np.einsum("tij,tkj->tki", rot, body) + centre[:, None] + rng.normal(0, 0.5, (T, K, 2))
        )
    conf = rng.uniform(0.6, 1.0, (R, T, K))
    conf[rng.random((R, T, K)) < 0.05] = 0.05
    return Y, conf


def cmd_selftest(args) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="moseq-ref-selftest-"))
    Y, conf = synthetic_recordings()
    np.savez(tmp / "rec.npz", Y=Y, conf=conf)
    ns = argparse.Namespace(
        keypoints=None,
        format=None,
        data=tmp / "rec.npz",
        fps=30.0,
        anterior=["bp4"],
        posterior=["bp0"],
        keep_sigmasq_loc=False,
        latent_dim=3,
        variance=0.9,
        num_states=6,
        kappa_ar=1e2,
        kappa_full=1e2,
        ar_iters=3,
        full_iters=3,
        output=tmp / "model.npz",
    )
    init = cmd_init(ns)
    data, model = load_model(ns.output)
    ref = log_joint(data, model)
    mine = numpy_log_joint(data, model)
    rel = {
        k: abs(ref["log_joint"][k] - mine["log_joint"][k]) / max(1.0, abs(mine["log_joint"][k]))
        for k in mine["log_joint"]
    }
    rel["marginal_loglik"] = abs(ref["marginal_loglik"] - mine["marginal_loglik"]) / abs(
        mine["marginal_loglik"]
    )
    # the same on an ARHMM-only file (x as data)
    ar_file = tmp / "arhmm.npz"
    np.savez(
        ar_file,
        **{
            "data/x": np.asarray(model["states"]["x"]),
            "data/mask": np.asarray(data["mask"]),
            "states/z": np.asarray(model["states"]["z"]),
            **{f"params/{k}": np.asarray(model["params"][k]) for k in ("Ab", "Q", "pi", "betas")},
        },
    )
    d_ar, m_ar = load_model(ar_file)
    ref_ar, mine_ar = log_joint(d_ar, m_ar), numpy_log_joint(d_ar, m_ar)
    for k in ("z", "x"):
        rel[f"arhmm_{k}"] = abs(ref_ar["log_joint"][k] - mine_ar["log_joint"][k]) / max(
            1.0, abs(mine_ar["log_joint"][k])
        )
    worst = max(rel.values())
    return {
        "versions": versions(),
        "init": init,
        "jax_moseq": ref,
        "numpy": mine,
        "arhmm_file": {"jax_moseq": ref_ar, "numpy": mine_ar},
        "relative_difference": rel,
        "max_relative_difference": worst,
        "passed": bool(worst < 1e-10),
    }
