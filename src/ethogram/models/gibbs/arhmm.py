"""One Gibbs sweep of the sticky HDP-ARHMM: the global step and the per-sequence local step.

Section 3.1-3.3 of ../shared/models/keypoint_moseq_model.md (jax-moseq ``models/arhmm/
gibbs.py``, ``resample_model``): the global step draws ``(beta, pi)`` from the transition
counts (:mod:`.hdp`) and then ``(Ab, Q)`` from the AR statistics (:mod:`.mniw`); the local step
of one sequence draws its syllables by forward filtering, backward sampling under the masked
AR log-likelihoods with a uniform initial distribution, and returns the statistics the next
global step needs and the log joint groups ``z`` and ``x`` (:mod:`.log_joint`).
:func:`arhmm_local_step` is the top-level job function of :func:`ethogram.fitting.gibbs.
run_gibbs`; :func:`local_params` computes once per iteration what every job needs. Also the
checks and cleaning of the input sequences and draws from the model (:func:`sample_arhmm`).
"""

from __future__ import annotations

import numpy as np

from ...inference import forward_backward, sample_states, scratch, viterbi
from ...inference.ffbs import BLOCK_FRAMES, ffbs, ffbs_blocked, use_blocks
from ..observations import lag_closure, lag_windows, squared_norms_by_state
from .hdp import sample_hdp_transitions, transition_counts
from .log_joint import LOG_2PI, log_prob_syllables
from .mniw import ARStats, MNIWPosterior, ar_regression_stats, mniw_posterior, sample_ar_params

#: frames per scoring product (the (rows, D K) product stays in the L2 cache)
SCORE_ROWS = 128

__all__ = [
    "arhmm_global_step",
    "arhmm_local_step",
    "clean_sequences",
    "draw_syllables",
    "frame_syllables",
    "local_params",
    "masked_ar_log_likes",
    "prior_ar_params",
    "sample_arhmm",
    "sequence_stats",
]


def clean_sequences(sequences, masks, num_lags: int, data_dim: int) -> tuple[list, list]:
    """Validated float64 sequences with finite values and the frames the AR model scores.

    A frame is scored when it is observed (mask True, all values finite) and, for t >= L,
    its L lags are too (ethogram's rule; keypoint-moseq never masks a real frame, it
    interpolates). Non-finite values are replaced by 0: no scored frame reads them.

    Parameters
    ----------
    sequences : array_like (T, D) or list of such
    masks : None, array_like of bool (T,), or list of those (one per sequence)
    num_lags, data_dim : int

    Returns
    -------
    sequences : list of ndarray (T_n, D)
    masks : list of ndarray of bool (T_n,)

    Raises
    ------
    ValueError
        If a sequence is not (T, data_dim) with T > num_lags, a mask has the wrong shape, or
        no frame is scored.
    """
    if not isinstance(sequences, (list, tuple)):
        sequences, masks = [sequences], (None if masks is None else [masks])
    masks = [None] * len(sequences) if masks is None else list(masks)
    if len(masks) != len(sequences) or not sequences:
        raise ValueError(
            f"masks must be None or one per sequence ({len(sequences)}), got {len(masks)}"
        )
    out_x, out_m = [], []
    for n, (x, m) in enumerate(zip(sequences, masks)):
        x = np.array(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != data_dim or x.shape[0] <= num_lags:
            raise ValueError(
                f"sequences[{n}] must have shape (T, {data_dim}) with T > num_lags = {num_lags}, "
                f"got {x.shape}"
            )
        seen = np.isfinite(x).all(axis=1)
        if m is not None:
            m = np.asarray(m)
            if m.shape != (x.shape[0],) or m.dtype != bool:
                raise ValueError(f"masks[{n}] must be a boolean array of shape ({x.shape[0]},)")
            seen &= m
        x[~seen] = 0.0
        out_x.append(x)
        out_m.append(lag_closure(seen, num_lags))
    if not any(m[num_lags:].any() for m in out_m):
        raise ValueError("no frame is scored: every frame is masked, non-finite or lacks its lags")
    return out_x, out_m


def local_params(params: dict, num_lags: int) -> dict:
    """What every local step needs, computed once per iteration.

    Returns
    -------
    dict
        ``transition_matrix`` and its transpose ``transition_T`` (C-contiguous);
        ``scoring`` (D (L+1) + 1, D K): column ``d K + k`` holds row d of
        ``Q_k^-1/2 [-A_k, I, -b_k]`` in the window order ``[x_{t-L}, ..., x_{t-1}, x_t, 1]``,
        so one product with a frame's window gives its whitened residual under every
        syllable; ``half_logdet`` (K,), ``log|Q_k|^(1/2)``.
    """
    Q = np.asarray(params["ar_covs"], dtype=np.float64)
    Ab = np.asarray(params["ar_weights"], dtype=np.float64)
    K, D, P = Ab.shape
    chol = np.linalg.cholesky(Q)
    eye = np.broadcast_to(np.eye(D), (K, D, D))
    rows = np.concatenate([-Ab[:, :, :-1], eye, -Ab[:, :, -1:]], axis=2)
    M = np.linalg.solve(chol, rows)  # one batched LAPACK call for every syllable
    scoring = np.ascontiguousarray(M.transpose(1, 0, 2).reshape(D * K, P + D).T)
    half_logdet = np.log(np.diagonal(chol, axis1=1, axis2=2)).sum(axis=1)
    pi = np.ascontiguousarray(params["transition_matrix"], dtype=np.float64)
    return dict(
        transition_matrix=pi,
        transition_T=np.ascontiguousarray(pi.T),
        scoring=scoring,
        half_logdet=half_logdet,
    )


def masked_ar_log_likes(
    x, mask, scoring, half_logdet, num_lags: int, dtype=np.float64, out=None, rows=None
):
    """AR log-likelihoods of frames L..T-1 under every syllable, 0 on unscored frames.

    Equal to :func:`.log_joint.ar_log_likes` times the mask (jax-moseq multiplies the
    log-likelihoods by the mask, so a padded frame follows the transitions alone): blocks of
    :data:`SCORE_ROWS` frame windows times ``scoring`` (:func:`local_params`), one BLAS
    product each, squared and summed per syllable. A range of rows starting at a multiple of
    :data:`SCORE_ROWS` is made of the same products as in the whole array: the same bits.

    Parameters
    ----------
    x : ndarray (T, D)
    mask : ndarray of bool (T,)
    scoring, half_logdet : ndarray
        From :func:`local_params`.
    num_lags : int
    dtype : numpy dtype, default float64
        Precision of the product (float32: faster, not exact).
    out : ndarray (stop - start, K), optional
        Where to write.
    rows : (int, int), optional
        ``(start, stop)``: only rows ``start..stop-1`` of the (T - L, K) result (frames
        ``start + L..stop + L - 1``); default all.

    Returns
    -------
    ndarray, shape (stop - start, K)

    Raises
    ------
    ValueError
        If ``start`` is not a multiple of :data:`SCORE_ROWS` or the range is not inside
        ``0..T - L``.
    """
    T, D = x.shape
    K = half_logdet.shape[0]
    n, W = T - num_lags, (num_lags + 1) * D
    first, stop = (0, n) if rows is None else rows
    if first % SCORE_ROWS or not 0 <= first <= stop <= n:
        raise ValueError(f"rows must be a range of 0..{n} starting at a multiple of {SCORE_ROWS}")
    out = np.empty((stop - first, K)) if out is None else out
    windows = lag_windows(x, num_lags)
    block = min(SCORE_ROWS, n)
    rows = np.ones((block, W + 1), dtype=dtype)  # the last column (the bias) stays 1
    if dtype == np.float64:
        prod, MT = scratch("ar_scores", (block, D * K)), scoring
    else:
        prod, MT = np.empty((block, D * K), dtype), scoring.astype(dtype)
    for start in range(first, stop, block):
        m = min(block, stop - start)
        rows[:m, :W] = windows[start : start + m]
        i = start - first
        squared_norms_by_state(np.matmul(rows[:m], MT, out=prod[:m]), K, D, out[i : i + m])
    out *= -0.5
    out -= half_logdet + 0.5 * D * LOG_2PI
    out[~mask[num_lags + first : num_lags + stop]] = 0.0
    return out


def draw_syllables(
    params, x, mask, num_lags: int, seed, dtype=np.float64, *, reuse=False, budget=None
):
    """One draw of a sequence's syllables by FFBS under the masked AR log-likelihoods.

    In one pass (:func:`~ethogram.inference.ffbs.ffbs`) when the (T - L, K) log-likelihoods
    and forward messages, 16 (T - L) K bytes, fit in ``budget``; else by blocks of
    :data:`~ethogram.inference.ffbs.BLOCK_FRAMES` frames
    (:func:`~ethogram.inference.ffbs.ffbs_blocked`: about 48 bytes per frame plus
    (T / B + 2 B) K float64, the log-likelihoods and the forward recursion computed twice,
    about +60-100% of an AR-only sweep, BENCHMARKS.md). The same bits either way.

    Parameters
    ----------
    params : dict
        From :func:`local_params`.
    x : ndarray, shape (T, M)
    mask : ndarray of bool, shape (T,)
    num_lags : int
    seed : SeedSequence, Generator, int or None
    dtype : numpy dtype
        Of the scoring products (:func:`masked_ar_log_likes`).
    reuse : bool, default False
        The one-pass draw writes its log-likelihoods into this thread's reused buffer
        (:func:`~ethogram.inference.scratch` ``"ar_log_likes"``: valid until the thread's
        next call), not a new array.
    budget : int or None
        Bytes (default :data:`ethogram.inference.ffbs.MEMORY_BUDGET`).

    Returns
    -------
    syllables : ndarray of int, shape (T - L,)
    path_log_likes : ndarray, shape (T - L,)
        Each frame's log-likelihood under its drawn syllable (0 where unscored).
    log_likes : ndarray (T - L, K) or None
        The log-likelihoods of the one-pass draw; None when drawn by blocks.
    """
    K, n = params["half_logdet"].shape[0], x.shape[0] - num_lags
    pi, AT = params["transition_matrix"], params["transition_T"]
    init = np.full(K, 1.0 / K)
    scores = (params["scoring"], params["half_logdet"], num_lags, dtype)
    if not use_blocks(n, K, budget):
        out = scratch("ar_log_likes", (n, K)) if reuse else None
        ll = masked_ar_log_likes(x, mask, *scores, out)
        z = ffbs(init, pi, ll, seed, transition_T=AT, check=False)[0]
        return z, ll[np.arange(len(z)), z], ll

    x = np.ascontiguousarray(x)  # once, not per block (lag_windows copies a strided x)

    def rows(start, stop, buf):
        masked_ar_log_likes(x, mask, *scores, buf, (start, stop))

    z, _, path = ffbs_blocked(init, pi, rows, n, seed, block=BLOCK_FRAMES, transition_T=AT)
    return z, path, None


def frame_syllables(syllables, num_lags: int) -> np.ndarray:
    """Syllables per frame (T,): the first L frames take frame L's (keypoint-moseq's
    ``extract_results`` pads the same way)."""
    z = np.asarray(syllables)
    return np.concatenate([np.full(num_lags, z[0], dtype=z.dtype), z])


def _frame_marginals(probs, num_lags: int) -> np.ndarray:
    return np.concatenate([np.repeat(probs[:1], num_lags, axis=0), probs])


def sequence_stats(x, syllables, mask, num_states: int, num_lags: int) -> dict:
    """The statistics of one sequence that the global step needs (they add over sequences).

    Returns
    -------
    dict
        ``transition_counts`` (K, K) (each transition weighted by its destination frame's
        mask) and the AR statistics ``S_ii``, ``S_oi``, ``S_oo``, ``counts`` of the scored
        frames (:class:`.mniw.ARStats`).
    """
    stats = dict(ar_regression_stats(x, syllables, num_states, num_lags, mask)._asdict())
    stats["transition_counts"] = transition_counts(syllables, num_states, num_lags, mask)
    return stats


def arhmm_local_step(
    params, description, data, mask, local_state, seed, collect=None, *, budget=None
):
    """Redraw one sequence's syllables given the parameters (jax-moseq's
    ``resample_discrete_stateseqs``); the job function of the Gibbs loop.

    Parameters
    ----------
    params : dict
        From :func:`local_params`.
    description : dict
        The model's description (``num_states``, ``num_lags``, ``score_dtype``).
    data : ndarray, shape (T, D)
        A cleaned sequence (:func:`clean_sequences`).
    mask : ndarray of bool, shape (T,)
        Its scored frames.
    local_state : dict or None
        Unused: the syllables' conditional does not depend on their previous values.
    seed : numpy.random.SeedSequence
    collect : {None, "samples", "smoother"}
        Also return the syllables per frame, or their posterior probabilities (these need
        the (T - L, K) log-likelihoods: never drawn by blocks).
    budget : int or None
        Bytes above which the syllables are drawn by blocks (:func:`draw_syllables`; default
        :data:`ethogram.inference.ffbs.MEMORY_BUDGET`): memory against time, same bits.

    Returns
    -------
    local_state : dict
        ``{"syllables": (T - L,) int}``, ``syllables[i]`` labelling frame ``i + L``.
    stats : dict
        ``transition_counts`` (K, K) and the AR statistics ``S_ii``, ``S_oi``, ``S_oo``,
        ``counts`` (:class:`.mniw.ARStats`).
    log_joint : dict
        ``{"z": ..., "x": ...}`` (jax-moseq's ``model_likelihood``).
    marginals : ndarray or None
        (T,) syllables or (T, K) probabilities when asked for.
    """
    K, L = int(description["num_states"]), int(description["num_lags"])
    dtype = np.float32 if description.get("score_dtype") == "float32" else np.float64
    pi = params["transition_matrix"]
    if collect == "smoother":  # the marginals need every frame's log-likelihoods
        budget = np.inf
    # the log-likelihoods in this thread's reused buffer: they never leave this function
    z, path, ll = draw_syllables(params, data, mask, L, seed, dtype, reuse=True, budget=budget)
    stats = sequence_stats(data, z, mask, K, L)
    log_joint = {"z": log_prob_syllables(z, pi, L, mask), "x": float(path.sum())}
    marginals = None
    if collect == "samples":
        marginals = frame_syllables(z, L)
    elif collect == "smoother":
        init = np.full(K, 1.0 / K)
        marginals = _frame_marginals(forward_backward(init, pi, ll).expected_states, L)
    return {"syllables": z}, stats, log_joint, marginals


def decode(params, x, mask, num_states: int, num_lags: int, method: str, rng=None):
    """Syllables of one cleaned sequence under fixed parameters, without the loop.

    ``method``: ``"viterbi"`` (most probable path; jax-moseq 0.3.7's ``stateseq_mode``) or
    ``"marginals"`` (posterior probabilities per frame, (T, K); jax-moseq's
    ``stateseq_marginals``), both with the uniform initial distribution.
    """
    ll = masked_ar_log_likes(x, mask, params["scoring"], params["half_logdet"], num_lags)
    init = np.full(num_states, 1.0 / num_states)
    if method == "viterbi":
        return frame_syllables(viterbi(init, params["transition_matrix"], ll), num_lags)
    return _frame_marginals(
        forward_backward(init, params["transition_matrix"], ll).expected_states, num_lags
    )


def prior_ar_params(rng, prior: dict, num_states: int):
    """``(Ab, Q)`` drawn from the MNIW prior, one per syllable (jax-moseq ``init_params``)."""
    K = int(num_states)
    post = MNIWPosterior(
        np.broadcast_to(prior["M_0"], (K,) + prior["M_0"].shape),
        np.broadcast_to(prior["K_0"], (K,) + prior["K_0"].shape),
        np.broadcast_to(prior["S_0"], (K,) + prior["S_0"].shape),
        np.full(K, float(prior["nu_0"])),
    )
    return sample_ar_params(rng, post)


def arhmm_global_step(rng, stats: dict, params: dict, hyper: dict, prior: dict) -> dict:
    """``(beta, pi)`` then ``(Ab, Q)`` from the summed statistics (jax-moseq's order).

    Parameters
    ----------
    rng : numpy.random.Generator
    stats : dict
        Summed statistics of the local steps.
    params : dict
        Current parameters (``global_weights`` is used by the table counts).
    hyper : dict
        ``alpha``, ``kappa``, ``gamma``.
    prior : dict
        ``M_0``, ``K_0``, ``S_0``, ``nu_0``.

    Returns
    -------
    dict
        New ``global_weights``, ``transition_matrix``, ``ar_weights``, ``ar_covs``.
    """
    draw = sample_hdp_transitions(
        rng,
        stats["transition_counts"],
        params["global_weights"],
        hyper["alpha"],
        hyper["kappa"],
        hyper["gamma"],
    )
    ar = ARStats(stats["S_ii"], stats["S_oi"], stats["S_oo"], stats["counts"])
    Ab, Q = sample_ar_params(rng, mniw_posterior(ar, **prior))
    return dict(
        global_weights=draw.global_weights,
        transition_matrix=draw.transition_matrix,
        ar_weights=Ab,
        ar_covs=Q,
    )


def sample_arhmm(rng, params: dict, num_frames: int, num_lags: int, syllables=None):
    """Draw one sequence from the ARHMM given its parameters.

    The syllable of frame L is uniform (the sampler's initial distribution), later ones
    follow ``transition_matrix``; the first L frames, which the model does not score, are
    N(0, I); then ``x_t = Ab_{z_t} [x_{t-L}; ...; x_{t-1}; 1] + N(0, Q_{z_t})``.

    Parameters
    ----------
    rng : numpy.random.Generator
    params : dict
        ``transition_matrix``, ``ar_weights`` (K, D, DL + 1), ``ar_covs`` (K, D, D).
    num_frames : int
        T > L.
    num_lags : int
    syllables : array_like of int, shape (T - L,), optional
        Draw the frames given these syllables instead of drawing them.

    Returns
    -------
    x : ndarray, shape (T, D)
    syllables : ndarray of int, shape (T - L,)
    """
    Ab = np.asarray(params["ar_weights"], dtype=np.float64)
    Q = np.asarray(params["ar_covs"], dtype=np.float64)
    K, D, _ = Ab.shape
    T, L = int(num_frames), int(num_lags)
    if syllables is None:
        pi = np.asarray(params["transition_matrix"], dtype=np.float64)
        syllables = sample_states(np.full(K, 1.0 / K), pi, T - L, seed=rng)
    z = np.asarray(syllables, dtype=np.intp)
    x = np.empty((T, D))
    x[:L] = rng.standard_normal((L, D))
    noise = np.einsum("tij,tj->ti", np.linalg.cholesky(Q)[z], rng.standard_normal((T - L, D)))
    for t in range(L, T):
        u = np.concatenate([x[t - L : t].ravel(), [1.0]])
        x[t] = Ab[z[t - L]] @ u + noise[t - L]
    return x, z
