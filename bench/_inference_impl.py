"""What ``bench_inference.py`` compares: each implementation's E-step and Viterbi, and the checks.

ethogram's public calls, hmmlearn 0.3.3's compiled scaling and log-space paths (as its
``fit`` runs them on one sequence), jitted dynamax entry points and a plain NumPy loop;
every result is checked against ethogram's before a time is reported.
"""

from __future__ import annotations

import numpy as np

import ethogram as eg

TOL_LL, TOL_POST, TOL_XI = 1e-9, 1e-8, 1e-8


def ethogram_estep(pi, A, ll):
    post = eg.forward_backward(pi, A, ll)
    return post.marginal_ll, post.expected_states, post.expected_transitions


def hmmlearn_estep(pi, A, ll):
    """hmmlearn 0.3.3's compiled scaling path, as its ``fit`` runs it on one sequence."""
    from hmmlearn import _hmmc

    frame = np.exp(ll)
    log_prob, fwd, scaling = _hmmc.forward_scaling(pi, A, frame)
    bwd = _hmmc.backward_scaling(pi, A, frame, scaling)
    post = fwd * bwd
    post /= post.sum(axis=1, keepdims=True)
    xi_sum = _hmmc.compute_scaling_xi_sum(fwd, A, bwd, frame)
    return log_prob, post, xi_sum


def hmmlearn_estep_log(pi, A, ll):
    """hmmlearn 0.3.3's compiled log-space path (``implementation="log"``) on one sequence."""
    from hmmlearn import _hmmc

    with np.errstate(divide="ignore"):
        log_pi, log_A = np.log(pi), np.log(A)
    log_prob, fwd = _hmmc.forward_log(log_pi, log_A, ll)
    bwd = _hmmc.backward_log(log_pi, log_A, ll)
    post = fwd + bwd
    post = np.exp(post - post.max(axis=1, keepdims=True))
    post /= post.sum(axis=1, keepdims=True)
    xi_sum = np.exp(_hmmc.compute_log_xi_sum(fwd, log_A, bwd, ll))
    return log_prob, post, xi_sum


def hmmlearn_viterbi(pi, A, ll):
    from hmmlearn import _hmmc

    return _hmmc.viterbi(pi, A, ll)[1]


def numpy_estep(pi, A, ll):
    """Plain NumPy scaled forward-backward, one Python iteration per frame."""
    T, K = ll.shape
    m = ll.max(axis=1)
    lik = np.exp(ll - m[:, None])
    alphas = np.empty((T, K))
    c = np.empty(T)
    a = pi * lik[0]
    c[0] = a.sum()
    alphas[0] = a / c[0]
    for t in range(1, T):
        a = (alphas[t - 1] @ A) * lik[t]
        c[t] = a.sum()
        alphas[t] = a / c[t]
    betas = np.empty((T, K))
    betas[-1] = 1.0
    xi = np.zeros((K, K))
    for t in range(T - 2, -1, -1):
        v = lik[t + 1] * betas[t + 1] / c[t + 1]
        xi += np.outer(alphas[t], v)
        betas[t] = A @ v
    xi *= A
    gamma = alphas * betas
    gamma /= gamma.sum(axis=1, keepdims=True)
    return float(np.log(c).sum() + m.sum()), gamma, xi


class Dynamax:
    """Jitted dynamax 1.0.3 entry points; inputs are converted to JAX arrays once, untimed."""

    def __init__(self):
        import jax
        import jax.numpy as jnp
        from dynamax.hidden_markov_model import inference as inf

        self.jax, self.jnp = jax, jnp
        self.smoother = jax.jit(inf.hmm_smoother)
        self.two_filter = jax.jit(inf.hmm_two_filter_smoother)
        self.mode = jax.jit(inf.hmm_posterior_mode)

    def device(self, pi, A, ll):
        args = tuple(self.jnp.asarray(x) for x in (pi, A, ll))
        assert all(a.dtype == self.jnp.float64 for a in args), "jax is not in float64"
        return args

    def estep(self, fn, args):
        post = self.jax.block_until_ready(fn(*args))
        return post.marginal_loglik, post.smoothed_probs, post.trans_probs

    def viterbi(self, args):
        return self.jax.block_until_ready(self.mode(*args))


# ----------------------------------------------------------------------------- correctness


def estep_check(ref, other) -> tuple[bool, str]:
    """Compare (marginal_ll, posteriors, transition sums) with ethogram's."""
    ll0, p0, x0 = ref
    ll1, p1, x1 = (float(other[0]), np.asarray(other[1]), np.asarray(other[2]))
    d_ll = abs(ll1 - ll0) / abs(ll0)
    d_p = float(np.max(np.abs(p1 - p0)))
    d_x = float(np.max(np.abs(x1 - x0)) / np.max(np.abs(x0)))
    ok = d_ll <= TOL_LL and d_p <= TOL_POST and d_x <= TOL_XI
    return ok, f"LL {d_ll:.0e}, post {d_p:.0e}, xi {d_x:.0e}"


def path_score(pi, A, ll, z) -> float:
    z = np.asarray(z)
    with np.errstate(divide="ignore"):
        return float(
            np.log(pi[z[0]]) + np.log(A[z[:-1], z[1:]]).sum() + ll[np.arange(len(z)), z].sum()
        )


def viterbi_check(pi, A, ll, ref, other) -> tuple[bool, str]:
    other = np.asarray(other)
    diff = int(np.sum(other != ref))
    if diff == 0:
        return True, "same path"
    s0, s1 = path_score(pi, A, ll, ref), path_score(pi, A, ll, other)
    tie = abs(s1 - s0) <= 1e-9 * abs(s0)
    return tie, f"{diff} frames differ, score {'equal (tie)' if tie else f'{s1 - s0:+.3g}'}"


def yes(ok: bool) -> str:
    return "yes" if ok else "**NO**"


def problem(T: int, K: int, seed: int = 0):
    """bench_inference.py's problem: uniform start, Dirichlet(1) rows, ``N(0, 1) * 5`` log-likes."""
    rng = np.random.default_rng(seed)
    pi = np.full(K, 1.0 / K)
    A = rng.dirichlet(np.ones(K), size=K)
    ll = rng.standard_normal((T, K)) * 5.0
    return pi, A, ll


def sparse_problem(T: int, K: int, seed: int = 0):
    """A learned-looking sparse matrix (0.9 self, 3 exits per state: 2350 of 2500 zeros at
    K = 50) and sharp log-likelihoods whose best state jumps anywhere, as a recording the
    model was not fitted on gives: the scaled messages lose needed states to underflow."""
    rng = np.random.default_rng(seed)
    A = np.eye(K) * 0.9
    for i in range(K):
        A[i, rng.choice(np.delete(np.arange(K), i), 3, replace=False)] += 0.1 / 3
    z = rng.integers(0, K, T)
    ll = -20.0 * (np.arange(K)[None, :] != z[:, None]) * rng.uniform(20, 60, (T, K))
    return np.full(K, 1.0 / K), A, ll
