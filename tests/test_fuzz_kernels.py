"""Fuzzing the message-passing kernels: thousands of random small problems, extremes included.

Every problem is drawn from a fixed seed (rerun one with ``ETHOGRAM_FUZZ_SEED=<n>``) and goes
through every public kernel, batched and one sequence at a time, with models and data from the
ordinary to the extreme (sparse, permutation and near-deterministic transition matrices, K = 1,
T = 1, log-likelihoods spread over +-1e300, ``-inf`` entries, ties, masked frames). The answers
are checked against an independent log-space reference computed here (forward-backward and
max-product in NumPy, each frame's maximum removed first), whether a problem is possible at all
is decided exactly by boolean reachability (impossible ones must raise a ``ValueError`` saying
so), and invalid inputs must be refused with a ``ValueError`` naming the argument.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

import ethogram as eg
from _log_reference import _lse, _normalize, _path_log_joint

#: seed 0 in `make test`; seed 1 (another 5000 random problems of the same kinds) under `slow`
SEEDS = (
    [int(os.environ["ETHOGRAM_FUZZ_SEED"])]
    if "ETHOGRAM_FUZZ_SEED" in os.environ
    else [0, pytest.param(1, marks=pytest.mark.slow)]
)
NUM_MODELS = 250  # per K and seed
SEQS_PER_MODEL = 4
KS = (1, 2, 3, 4, 6)
MAX_T = 7
# 2 seeds x 5 K x 250 models x 4 sequences = 10,000 problems (plus the invalid ones)

ATOL_P = 1e-9  # probabilities (expected states, messages): a float64 log-space reference
RTOL_LL = 1e-10  # log-likelihoods, relative to the size of what was summed


def _recentre(L, add, extra):
    """``L + add - r`` per row (N, K) without rounding: both parts are taken relative to the
    row's best state (by ``L + add + extra``; ``extra`` says how a state can be reached), so
    O(1) log-probabilities survive next to log-likelihoods of 1e300."""
    with np.errstate(invalid="ignore"):
        d = L + add + extra
    b = np.argmax(np.where(np.isnan(d), -np.inf, d), axis=1)[:, None]
    dead = ~np.isfinite(np.take_along_axis(d, b, axis=1))
    lref = np.where(dead, 0.0, np.take_along_axis(L, b, axis=1))
    aref = np.where(dead, 0.0, np.take_along_axis(add, b, axis=1))
    with np.errstate(invalid="ignore"):
        out = (L - lref) + (add - aref)
    return np.where(dead | np.isnan(out), -np.inf, out)


def _log(x):
    with np.errstate(divide="ignore"):
        return np.log(x)


# ----------------------------------------------------------------------------- generation


def _random_models(rng, M, K):
    """M initial distributions (M, K) and transition matrices (M, K, K) of mixed kinds."""
    kind = rng.integers(0, 6, size=M)
    pi = rng.dirichlet(np.ones(K), size=M)
    A = rng.dirichlet(np.ones(K) * 0.7, size=(M, K))
    eye = np.broadcast_to(np.eye(K), (M, K, K))
    perm = np.stack([np.eye(K)[rng.permutation(K)] for _ in range(M)])
    eps = 10.0 ** -rng.uniform(12, 300, size=(M, 1, 1))
    tiny = 10.0 ** -rng.uniform(100, 300, size=(M, K, K))
    sparse = rng.random((M, K, K)) < 0.5
    # 0 dense; 1 sparse (exact zeros, possibly whole columns); 2 near-deterministic sticky;
    # 3 dense with tiny entries; 4 permutation (deterministic); 5 sparse + tiny + sticky
    A = np.where((kind == 1)[:, None, None] & sparse, 0.0, A)
    A = np.where((kind == 2)[:, None, None], (1 - eps) * eye + eps * A, A)
    A = np.where((kind == 3)[:, None, None] & sparse, tiny, A)
    A = np.where((kind == 4)[:, None, None], perm, A)
    A = np.where((kind == 5)[:, None, None], np.where(sparse, 0.0, tiny) + eye, A)
    dead = A.sum(axis=2) == 0  # sparse rows left empty get their diagonal
    A[dead, :] = 0.0
    idx = np.nonzero(dead)
    A[idx[0], idx[1], idx[1]] = 1.0
    A /= A.sum(axis=2, keepdims=True)
    pz = rng.random((M, K)) < 0.3
    pz[np.arange(M), rng.integers(0, K, size=M)] = False
    pi = np.where((rng.random(M) < 0.5)[:, None] & pz, 0.0, pi)
    pi = np.where(
        (rng.random(M) < 0.15)[:, None] & pz, 10.0 ** -rng.uniform(50, 300, size=(M, K)), pi
    )
    pi /= pi.sum(axis=1, keepdims=True)
    return pi, A


def _random_log_likes(rng, N, K):
    """N padded sequences (N, MAX_T, K), their lengths (N,), masks (N, MAX_T) and whether
    each is used (N,), and whether each is well-conditioned (N,).

    One kind is not: a single state 1e300 away from the others, whose O(1) log-likelihoods
    then decide between paths that visit it equally often. ``1e300 + 237`` rounds to
    ``1e300``, so neither the kernels nor any float64 reference can resolve that (the
    kernels pick one answer, the reference another); such problems are checked for finite,
    normalised outputs with the right support and the right marginal likelihood, not for
    agreement of every posterior probability.
    """
    kind = rng.integers(0, 7, size=N)
    scale = np.choose(rng.integers(0, 4, size=N), [1.0, 30.0, 1e3, 1e5])[:, None, None]
    L = rng.normal(size=(N, MAX_T, K)) * scale
    huge = rng.normal(size=(N, MAX_T, K)) * 1e300
    offsets = rng.uniform(-1e300, 1e300, size=(N, MAX_T, 1))
    one_state = rng.integers(0, K, size=(N, 1, 1)) == np.arange(K)
    # 0 ordinary; 1 spread over +-1e300; 2 per-frame offsets of 1e300; 3 one state +-1e300
    # away; 4 exact ties (small integers); 5 gaps of 690-800 nats (subnormal or zero likelihoods)
    L = np.where((kind == 1)[:, None, None], huge, L)
    L = np.where((kind == 2)[:, None, None], L + offsets, L)
    L = np.where(
        (kind == 3)[:, None, None] & one_state, L + np.sign(rng.normal(size=(N, 1, 1))) * 1e300, L
    )
    L = np.where((kind == 4)[:, None, None], np.round(L / scale), L)
    gap = rng.uniform(690.0, 800.0, size=(N, 1, 1))  # exp(-gap) subnormal or zero
    L = np.where((kind == 5)[:, None, None], np.round(rng.normal(size=L.shape)) * gap, L)
    neginf = (rng.random((N, 1, 1)) < 0.4) & (rng.random((N, MAX_T, K)) < 0.3)
    L[neginf] = -np.inf
    lengths = np.where(rng.random(N) < 0.2, 1, rng.integers(1, MAX_T + 1, size=N))
    masks = rng.random((N, MAX_T)) >= 0.25
    has_mask = rng.random(N) < 0.5
    return L, lengths, masks, has_mask, kind != 3


# ----------------------------------------------------------------------------- reference


def _possible(pi, A, L, lengths):
    """Exact: does a state path with positive probability exist? (booleans, no arithmetic)

    Returns that (N,) and the support (N, T, K): the states with positive probability given
    the frames so far (the zeros of ``pi`` and ``A`` and the -inf entries of ``L``).
    """
    N, T, K = L.shape
    support = np.zeros((N, T, K), dtype=bool)
    reach = (pi > 0) & (L[:, 0] > -np.inf)
    support[:, 0] = reach
    ok = reach.any(axis=1)
    edges = A > 0
    for t in range(1, T):
        nxt = np.einsum("ni,nij->nj", reach.astype(np.int64), edges.astype(np.int64)) > 0
        nxt &= L[:, t] > -np.inf
        live = t < lengths
        ok &= ~live | nxt.any(axis=1)
        reach = np.where(live[:, None], nxt, reach)
        support[:, t] = reach
    return ok, support


def _reference(pi, A, L, lengths):
    """Log-space forward-backward and max-product for padded, row-max-free log_likes.

    ``L`` has each frame's maximum removed and masked frames set to 0; frames past a
    sequence's length are 0 too, which leaves every quantity of the real frames unchanged
    (the chain's continuation sums to one). Returns per-frame log normalisers (N, T),
    filtered (N, T, K), normalised backward (N, T, K) and smoothed (N, T, K) probabilities,
    summed two-slice marginals (N, K, K) and the Viterbi score of each sequence (N,).
    """
    N, T, K = L.shape
    log_pi, log_A = _log(pi), _log(A)
    la = np.empty((N, T, K))
    c = np.empty((N, T))
    for t in range(T):
        x = (log_pi if t == 0 else _lse(la[:, t - 1, :, None] + log_A, axis=1)) + L[:, t]
        la[:, t], c[:, t] = _normalize(x, axis=1)
    lb = np.zeros((N, T, K))
    best_in = log_A.max(axis=1)  # the most likely way into each state
    for t in range(T - 2, -1, -1):
        b = _lse(log_A + _recentre(L[:, t + 1], lb[:, t + 1], best_in)[:, None, :], axis=2)
        lb[:, t] = _normalize(b, axis=1)[0]
    # the last real frame's backward message is uniform whatever follows in the padding
    last = np.arange(T)[None, :] >= (lengths - 1)[:, None]
    lb = np.where(last[:, :, None], -np.log(K), lb)
    g = _normalize(la + lb, axis=2)[0]
    xi = np.zeros((N, K, K))
    for t in range(T - 1):
        pred = _lse(la[:, t, :, None] + log_A, axis=1)
        lx = la[:, t, :, None] + log_A + _recentre(L[:, t + 1], lb[:, t + 1], pred)[:, None, :]
        w = np.exp(_normalize(lx.reshape(N, -1), axis=1)[0]).reshape(N, K, K)
        xi += np.where((t < lengths - 1)[:, None, None], w, 0.0)
    delta = log_pi + L[:, 0]
    score = delta.max(axis=1)
    for t in range(1, T):
        delta = np.max(delta[:, :, None] + log_A, axis=1) + L[:, t]
        score = np.where(t < lengths, delta.max(axis=1), score)
    return dict(
        c=c,
        alphas=np.exp(la),
        betas=np.exp(_normalize(lb, axis=2)[0]),
        expected_states=np.exp(g),
        xi=xi,
        score=score,
    )


def _references(pi, A, Lm, lengths):
    """Possibility, per-frame offsets, offset-free log_likes and the reference answers."""
    possible, support = _possible(pi, A, Lm, lengths)
    # each frame's offset is the best log-likelihood among the states that can occur there
    # (removing a larger one, of a state that cannot occur, would round away the others)
    rowmax = np.max(np.where(support, Lm, -np.inf), axis=2)
    rowmax = np.where(np.isfinite(rowmax), rowmax, 0.0)  # impossible problems: not used
    L0 = Lm - rowmax[:, :, None]
    # states that cannot occur at a frame are irrelevant to every posterior quantity: giving
    # them -inf keeps them out of the normalised backward messages, whose precision for the
    # states that matter would otherwise be lost next to a state 1e300 nats more likely
    pad = np.arange(Lm.shape[1])[None, :] >= lengths[:, None]
    relevant = np.where((support | pad[:, :, None]), L0, -np.inf)
    with np.errstate(invalid="ignore"):
        ref = _reference(pi, A, np.where(possible[:, None, None], relevant, 0.0), lengths)
        # backward messages concern every state, possible or not
        ref["betas"] = _reference(pi, A, np.where(possible[:, None, None], Lm, 0.0), lengths)[
            "betas"
        ]
    return possible, rowmax, L0, ref, support


# ----------------------------------------------------------------------------- the fuzz


class Failures(list):
    def check(self, ok, what):
        if not ok:
            self.append(what)


def _close(a, b, atol, rtol=0.0):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return bool(np.all(np.isfinite(a))) and bool(np.all(np.abs(a - b) <= atol + rtol * np.abs(b)))


def _normalised(P, support):
    """Finite, non-negative rows summing to one, zero outside ``support`` when given."""
    ok = bool(np.all(np.isfinite(P))) and bool(np.all(P >= 0)) and _close(P.sum(axis=1), 1.0, 1e-12)
    return ok and (support is None or bool(np.all(P[~support] == 0)))


def _fuzz_one_k(seed, K, fails, counts):
    rng = np.random.default_rng([seed, K])
    M, S = NUM_MODELS, SEQS_PER_MODEL
    pi, A = _random_models(rng, M, K)
    L, lengths, masks, has_mask, conditioned = _random_log_likes(rng, M * S, K)
    pi_n, A_n = np.repeat(pi, S, axis=0), np.repeat(A, S, axis=0)
    pad = np.arange(MAX_T)[None, :] >= lengths[:, None]
    observed = np.where(has_mask[:, None], masks, True) & ~pad
    Lm = np.where(observed[:, :, None], L, 0.0)  # masked and padding frames score 0
    possible, rowmax, L0, ref, support = _references(pi_n, A_n, Lm, lengths)
    big = np.abs(rowmax).sum(axis=1)  # what the marginal sums, for a relative tolerance
    for m in range(M):
        ids = [m * S + s for s in range(S)]
        seqs = [L[n, : lengths[n]] for n in ids]
        msk = [masks[n, : lengths[n]] if has_mask[n] else None for n in ids]
        for n, x, mk in zip(ids, seqs, msk):  # impossible problems: a clear error, singly
            if not possible[n]:
                counts["impossible"] += 1
                for fn in (
                    lambda: eg.forward_pass(pi[m], A[m], x, mask=mk),
                    lambda: eg.forward_backward(pi[m], A[m], x, mask=mk),
                    lambda: eg.viterbi(pi[m], A[m], x, mask=mk),
                    lambda: eg.sample_posterior(pi[m], A[m], x, mask=mk, seed=0),
                ):
                    try:
                        fn()
                        fails.append(
                            f"seed {seed} K {K} model {m} seq {n}: impossible but no error"
                        )
                    except ValueError as exc:
                        fails.check(
                            "impossible" in str(exc),
                            f"seed {seed} K {K} seq {n}: unclear error {exc}",
                        )
        good = [i for i, n in enumerate(ids) if possible[n]]
        if not good:
            continue
        bl = [seqs[i] for i in good]
        bm = [msk[i] for i in good]
        counts["possible"] += len(good)
        threads = 2 if m % 25 == 0 else 1
        try:
            posts = eg.forward_backward(pi[m], A[m], bl, mask=bm, num_threads=threads)
            fwds = eg.forward_pass(pi[m], A[m], bl, mask=bm, num_threads=threads)
            bwds = eg.backward_pass(A[m], bl, mask=bm, num_threads=threads)
            preds = eg.predictive_log_likes(pi[m], A[m], bl, mask=bm, num_threads=threads)
            vits = eg.viterbi(pi[m], A[m], bl, mask=bm, return_score=True, num_threads=threads)
            samples = eg.sample_posterior(
                pi[m], A[m], bl, mask=bm, num_samples=3, seed=m, num_threads=threads
            )
        except ValueError as exc:
            fails.append(f"seed {seed} K {K} model {m}: possible problem refused: {exc}")
            continue
        # one sequence alone gives bit-identical results to the same sequence in the batch
        i0 = good[0]
        single = eg.forward_backward(pi[m], A[m], seqs[i0], mask=msk[i0])
        fails.check(
            np.array_equal(single.expected_states, posts[0].expected_states)
            and single.marginal_ll == posts[0].marginal_ll,
            f"seed {seed} K {K} model {m}: single and batched forward_backward differ",
        )
        s_states, s_score = eg.viterbi(pi[m], A[m], seqs[i0], mask=msk[i0], return_score=True)
        fails.check(
            np.array_equal(s_states, vits[0][0]) and s_score == vits[0][1],
            f"seed {seed} K {K} model {m}: single viterbi differs",
        )
        s_alpha, s_ll = eg.forward_pass(pi[m], A[m], seqs[i0], mask=msk[i0])
        fails.check(
            np.array_equal(s_alpha, fwds[0][0]) and s_ll == fwds[0][1],
            f"seed {seed} K {K} model {m}: single forward differs",
        )
        fails.check(
            np.array_equal(eg.backward_pass(A[m], seqs[i0], mask=msk[i0]), bwds[0]),
            f"seed {seed} K {K} model {m}: single backward differs",
        )
        fails.check(
            np.array_equal(eg.predictive_log_likes(pi[m], A[m], seqs[i0], mask=msk[i0]), preds[0]),
            f"seed {seed} K {K} model {m}: single predictive differs",
        )
        for j, i in enumerate(good):
            n = ids[i]
            T = int(lengths[n])
            where = f"seed {seed} K {K} model {m} seq {n} (T={T})"
            tol_ll = 1e-9 + RTOL_LL * big[n]
            marginal = ref["c"][n, :T].sum() + rowmax[n, :T].sum()
            post = posts[j]
            fails.check(
                _close(post.marginal_ll, marginal, tol_ll),
                f"{where}: marginal_ll {post.marginal_ll} vs {marginal}",
            )
            fails.check(
                _normalised(post.expected_states, support[n, :T]),
                f"{where}: expected_states not normalised",
            )
            fails.check(_normalised(fwds[j][0], support[n, :T]), f"{where}: alphas not normalised")
            xi = post.expected_transitions
            fails.check(
                _close(xi.sum(), T - 1, 1e-9 * T)
                and np.all(xi >= 0)
                and np.all(xi[A[m] == 0] == 0),
                f"{where}: expected_transitions not a count of {T - 1} possible transitions",
            )
            if conditioned[n]:
                fails.check(
                    _close(post.expected_states, ref["expected_states"][n, :T], ATOL_P),
                    f"{where}: expected_states",
                )
                fails.check(_close(xi, ref["xi"][n], ATOL_P * T), f"{where}: expected_transitions")
                fails.check(_close(fwds[j][0], ref["alphas"][n, :T], ATOL_P), f"{where}: alphas")
            fails.check(_close(fwds[j][1], marginal, tol_ll), f"{where}: forward marginal_ll")
            fails.check(_normalised(bwds[j], None), f"{where}: betas not normalised")
            fails.check(
                _close(preds[j].sum(), marginal, tol_ll),
                f"{where}: predictive_log_likes do not sum",
            )
            if conditioned[n]:
                fails.check(_close(bwds[j], ref["betas"][n, :T], ATOL_P), f"{where}: betas")
                fails.check(
                    _close(
                        preds[j],
                        ref["c"][n, :T] + rowmax[n, :T],
                        1e-9 + RTOL_LL * np.abs(rowmax[n, :T]),
                    ),
                    f"{where}: predictive_log_likes",
                )
            states, score = vits[j]
            best = ref["score"][n] + rowmax[n, :T].sum()
            fails.check(
                _close(score, best, tol_ll, 1e-12), f"{where}: viterbi score {score} vs {best}"
            )
            fails.check(
                states.shape == (T,)
                and _close(
                    _path_log_joint(pi[m], A[m], L0[n, :T], states), ref["score"][n], 1e-9, 1e-12
                ),
                f"{where}: viterbi path is not a best path",
            )
            z = samples[j]
            fails.check(
                z.shape == (3, T)
                and all(np.isfinite(_path_log_joint(pi[m], A[m], L0[n, :T], p)) for p in z),
                f"{where}: sample_posterior drew an impossible path",
            )


@pytest.mark.parametrize("seed", SEEDS)
def test_random_problems_match_the_reference_or_are_refused(seed):
    fails, counts = Failures(), dict(possible=0, impossible=0)
    for K in KS:
        _fuzz_one_k(seed, K, fails, counts)
    total = counts["possible"] + counts["impossible"]
    assert total == len(KS) * NUM_MODELS * SEQS_PER_MODEL
    # the generator must produce both kinds in earnest
    assert counts["impossible"] > 0.05 * total and counts["possible"] > 0.5 * total, counts
    assert not fails, f"{len(fails)} failures of {total} problems; first: " + "\n".join(fails[:15])


def _corrupt(rng, pi, A, L, how):
    pi, A, L = pi.copy(), A.copy(), L.copy()
    T, K = L.shape
    t, k = rng.integers(0, T), rng.integers(0, K)
    if how == "nan":
        L[t, k] = np.nan
    elif how == "posinf":
        L[t, k] = np.inf
    elif how == "zero row":
        A[k] = 0.0
    elif how == "negative":
        A[k, k] = -abs(A[k, k]) - 0.1
    elif how == "not stochastic":
        A[k] *= 1.5
    elif how == "pi sum":
        pi = pi * 0.5
    elif how == "pi length":
        pi = np.append(pi, 0.0)
    elif how == "columns":
        L = np.hstack([L, L[:, :1]])
    elif how == "all -inf frame":
        L[t] = -np.inf
    return pi, A, L


INVALID = {
    "nan": "log_likes",
    "posinf": "log_likes",
    "zero row": "transition_matrix",
    "negative": "transition_matrix",
    "not stochastic": "transition_matrix",
    "pi sum": "initial_probs",
    "pi length": "initial_probs",
    "columns": "log_likes",
    "all -inf frame": "log_likes",
}


@pytest.mark.parametrize("seed", SEEDS)
def test_invalid_problems_are_refused_naming_the_argument(seed):
    """1,000 random problems, each spoilt one way, through every kernel, single and batched."""
    rng = np.random.default_rng([seed, 99])
    hows = list(INVALID)
    wrong = []
    for n in range(500):
        K, T = int(rng.integers(1, 5)), int(rng.integers(1, 6))
        pi = rng.dirichlet(np.ones(K))
        A = rng.dirichlet(np.ones(K), size=K)
        L = rng.normal(size=(T, K)) * 10.0 ** rng.uniform(0, 300)
        how = hows[n % len(hows)]
        bpi, bA, bL = _corrupt(rng, pi, A, L, how)
        calls = {
            "forward_pass": lambda x: eg.forward_pass(bpi, bA, x),
            "forward_backward": lambda x: eg.forward_backward(bpi, bA, x),
            "viterbi": lambda x: eg.viterbi(bpi, bA, x),
            "sample_posterior": lambda x: eg.sample_posterior(bpi, bA, x, seed=0),
            "predictive_log_likes": lambda x: eg.predictive_log_likes(bpi, bA, x),
            "backward_pass": lambda x: eg.backward_pass(bA, x),
        }
        for name, call in calls.items():
            if name == "backward_pass" and INVALID[how] == "initial_probs":
                continue
            for arg in (bL, [L, bL]):  # single, and batched behind a good sequence
                try:
                    call(arg)
                    wrong.append(f"{how} {name}: accepted")
                except ValueError as exc:
                    if INVALID[how] not in str(exc):
                        wrong.append(f"{how} {name}: {exc}")
    assert not wrong, "\n".join(wrong[:10])
