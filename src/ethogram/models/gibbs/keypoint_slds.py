"""One Gibbs sweep of keypoint-MoSeq's keypoint SLDS: the global step and the per-recording step.

Sections 1.3-1.4, 3 and 5 of ../shared/models/keypoint_moseq_model.md (jax-moseq
``models/keypoint_slds/gibbs.py`` ``resample_model``, ``initialize.py``): the global step is
the sticky HDP-ARHMM's (:func:`.arhmm.arhmm_global_step`) followed, when asked, by the
per-keypoint noise multipliers ``sigmasq``; the local step of one recording draws, in
jax-moseq's order, ``z``, ``x``, ``h``, ``v`` and ``s`` (``z`` only in the AR-only stage) and
starts the recording on its first call as jax-moseq's ``init_states`` does. A recording reaches
the local step as one array (T, K, D + 2) (:func:`pack_recording`). The order of the draws, the
start and the shapes: docs/design-notes.md, "models/gibbs/keypoint_slds.py".
"""

from __future__ import annotations

import numpy as np

from ...inference import forward_backward, sample_states
from ...inference.kalman import sample_ar_lds, sample_random_walk
from ..observations import lag_windows
from . import arhmm as ar
from .keypoint_start import align_recording, unpack_recording
from .keypoints import (
    aligned_pose,
    centred,
    centroid_pseudo_observations,
    egocentric,
    heading_concentrations,
    rotate,
    sample_heading,
    sample_noise_scales,
    slds_emission,
    squared_errors,
)
from .log_joint import (
    LOG_2PI,
    log_prob_centroid,
    log_prob_noise_scales,
    log_prob_syllables,
)

__all__ = [
    "initial_pose",
    "initial_states",
    "keypoint_global_step",
    "keypoint_local_params",
    "keypoint_local_step",
    "sample_keypoint_slds",
]


# ----------------------------------------------------------------------------- the steps


def keypoint_local_params(params: dict, num_lags: int, num_keypoints: int, num_dims: int):
    """What every local step needs, computed once per iteration: the ARHMM's scoring
    (:func:`.arhmm.local_params`), the emission ``H``, ``(Gamma kron I_D) d`` and the
    parameters as they are."""
    out = ar.local_params(params, num_lags)
    H, off = slds_emission(params["loadings"], params["offset"], num_keypoints, num_dims)
    out.update(
        emission_matrix=H,
        emission_offset=off,
        loadings=params["loadings"],
        offset=params["offset"],
        ar_weights=params["ar_weights"],
        ar_covs=params["ar_covs"],
        sigmasq=params["sigmasq"],
    )
    return out


def _child(seed: np.random.SeedSequence, i: int) -> np.random.SeedSequence:
    return np.random.SeedSequence(seed.entropy, spawn_key=tuple(seed.spawn_key) + (i,))


class _Streams:
    """The generators of one local step, ``streams[i]`` seeded by child ``i`` of the job's
    seed, each made when first asked for (the AR-only stage uses one of the five)."""

    def __init__(self, seed: np.random.SeedSequence):
        self.seed, self.made = seed, {}

    def __getitem__(self, i: int) -> np.random.Generator:
        if i not in self.made:
            self.made[i] = np.random.default_rng(_child(self.seed, i))
        return self.made[i]


def initial_pose(loadings, offset, description, Y, conf):
    """jax-moseq's start of ``x``, ``v``, ``h``: ``x = pinv(C)(flat - d)`` with ``flat``, ``v``,
    ``h`` from :func:`.keypoint_start.align_recording`.

    Returns
    -------
    dict
        ``latent`` (T, M), ``centroid`` (T, D), ``heading`` (T,).
    """
    flat, v, h = align_recording(
        Y, conf, description["conf_threshold"], description["anterior"], description["posterior"]
    )
    x = np.linalg.lstsq(loadings, (flat - offset).T, rcond=None)[0].T
    return {"latent": x, "centroid": v, "heading": h}


def initial_states(params, description, Y, s0, conf, rng) -> dict:
    """jax-moseq's ``init_states`` for one recording: :func:`initial_pose`, then ``s`` drawn
    once from its conditional."""
    state = initial_pose(params["loadings"], params["offset"], description, Y, conf)
    state["scales"] = _draw_scales(rng, params, description, _errors(params, Y, state), s0)
    return state


def _noise_var(params, scales):
    return scales * np.asarray(params["sigmasq"])[None, :]


def _errors(params, Y, state):
    """``e_tk = ||Y_tk - R(h_t) ybar_tk - v_t||^2`` (T, K) of a state."""
    pose = aligned_pose(state["latent"], params["loadings"], params["offset"], Y.shape[1])
    return squared_errors(Y, rotate(pose, state["heading"]), state["centroid"])


def _draw_scales(rng, params, description, errors, s0):
    kp = description["keypoint_prior"]
    D = int(description["num_dims"])
    return sample_noise_scales(
        rng, errors, s0, kp["nu_s"], D, params["sigmasq"], kp.get("added_dof")
    )


def _draw_latent(rng, params, description, Y, mask, state, z):
    T, K, D = Y.shape
    obs = egocentric(Y, state["centroid"], state["heading"]).reshape(T, K * D)
    var = np.repeat(_noise_var(params, state["scales"]), D, axis=1)
    moseq = description["latent_sampler"] == "moseq"
    draw = sample_ar_lds(
        rng,
        obs,
        var,
        params["emission_matrix"],
        params["emission_offset"],
        params["ar_weights"],
        params["ar_covs"],
        z,
        mask,
        lag_noise=1e-2 if moseq else 0.0,
        jitter=1e-3 if moseq else 0.0,
        initial_var=description["latent_initial_var"],
        log_normalizer=False,  # not read: the log joint scores x under the AR model
    )
    return draw.states


def _draw_pose_and_place(rngs, params, description, Y, mask, state, z):
    """``x``, then ``h`` (with the old ``v``), then ``v`` (jax-moseq's order); returns the new
    state and its squared errors (T, K), for ``s``."""
    K = Y.shape[1]
    new = dict(state)
    new["latent"] = _draw_latent(rngs[1], params, description, Y, mask, state, z)
    pose = aligned_pose(new["latent"], params["loadings"], params["offset"], K)
    var = _noise_var(params, state["scales"])
    kc, ks = heading_concentrations(pose, centred(Y, state["centroid"]), var)
    new["heading"] = sample_heading(rngs[2], kc, ks)
    rotated = rotate(pose, new["heading"])
    mu, g = centroid_pseudo_observations(Y, rotated, var)
    kp = description["keypoint_prior"]
    new["centroid"] = sample_random_walk(
        rngs[3],
        mu,
        g,
        kp["sigmasq_loc"],
        mask,
        initial_var=kp["centroid_initial_var"],
        masked_obs_var=10.0 * float(np.max(params["sigmasq"])),
    ).states
    return new, squared_errors(Y, rotated, new["centroid"])


def keypoint_local_step(
    params, description, data, mask, local_state, seed, collect=None, *, budget=None
):
    """Redraw one recording's local variables given the parameters; the Gibbs loop's job.

    Parameters
    ----------
    params : dict
        From :func:`keypoint_local_params`.
    description : dict
        The model's description (:meth:`ethogram.models.keypoint_slds.KeypointSLDS.describe`).
    data : ndarray, shape (T, K, D + 2)
        :func:`pack_recording`.
    mask : ndarray of bool, shape (T,)
        Frames the AR model scores (all, unless the caller masks padding).
    local_state : dict or None
        The previous draw; None starts the recording (:func:`initial_states`).
    seed : numpy.random.SeedSequence
    collect : {None, "samples", "smoother"}
        Also return the syllables per frame, or their posterior probabilities (these need
        the (T - L, S) log-likelihoods: never drawn by blocks).
    budget : int or None
        Bytes above which the syllables are drawn by blocks (:func:`.arhmm.draw_syllables`;
        default :data:`ethogram.inference.ffbs.MEMORY_BUDGET`): memory against time, same bits.

    Returns
    -------
    local_state : dict
        ``syllables`` (T - L,), ``latent`` (T, M), ``centroid`` (T, D), ``heading`` (T,),
        ``scales`` (T, K), ``emission_summary`` (3 + K,): the log joint groups ``Y``, ``s``,
        ``v`` and ``sum_t e_tk / s_tk``.
    stats : dict
        The ARHMM's (:func:`.arhmm.sequence_stats`), ``noise_sq_over_scale`` (K,)
        (``sum_t e_tk / s_tk``) and ``noise_frames`` (the frames summed).
    log_joint : dict
        jax-moseq's ``model_likelihood`` groups ``z``, ``x``, ``Y``, ``s``, ``v``.
    marginals : ndarray or None
    """
    L = int(description["num_lags"])
    Y, s0, conf = unpack_recording(data, description["num_dims"])
    rngs = _Streams(seed)
    if local_state is None:
        state = initial_states(params, description, Y, s0, conf, rngs[4])
    else:
        state = {k: v for k, v in local_state.items() if k != "syllables"}
    if collect == "smoother":  # the marginals need every frame's log-likelihoods
        budget = np.inf
    z, path, ll = ar.draw_syllables(params, state["latent"], mask, L, rngs[0], budget=budget)
    if local_state is not None and not description["ar_only"]:
        # the old x's (T, S) log-likelihoods are not needed past the syllables' draw: free them
        # before the pose draw's own (T, ...) arrays (the sweep's peak memory); the new x's are
        # scored under the sampled syllables only
        ll = path = None
        state, errors = _draw_pose_and_place(rngs, params, description, Y, mask, state, z)
        state["scales"] = _draw_scales(rngs[4], params, description, errors, s0)
        state["emission_summary"] = _emission_summary(params, description, errors, s0, mask, state)
        if collect == "smoother":
            ll = ar.masked_ar_log_likes(
                state["latent"], mask, params["scoring"], params["half_logdet"], L
            )
            path = ll[np.arange(len(z)), z]
    state["syllables"] = z
    if "emission_summary" not in state:  # the start; the AR-only stage keeps x, v, h, s, sigmasq
        errors = _errors(params, Y, state)
        state["emission_summary"] = _emission_summary(params, description, errors, s0, mask, state)
    return (state, *_summaries(params, description, mask, state, path, ll, collect))


def _emission_summary(params, description, errors, s0, mask, state) -> np.ndarray:
    """``[log joint Y, s, v, sum_t e_tk / s_tk for each k]``: what depends on the emission
    (``Y`` as :func:`.log_joint.log_prob_keypoints`, from the squared errors)."""
    e, w = errors, mask.astype(np.float64)
    kp = description["keypoint_prior"]
    var = _noise_var(params, state["scales"])
    D = int(description["num_dims"])
    per = -0.5 * D * (LOG_2PI + np.log(var)) - 0.5 * e / var
    groups = [
        float(np.sum(w[:, None] * per)),
        log_prob_noise_scales(state["scales"], s0, kp["nu_s"], mask),
        log_prob_centroid(state["centroid"], kp["sigmasq_loc"], mask),
    ]
    return np.concatenate([groups, np.sum(w[:, None] * e / state["scales"], axis=0)])


def _path_log_like(params, x, z, mask, num_lags: int) -> float:
    """``sum_t mask_t log N(x_t; Ab_{z_t} u_t, Q_{z_t})`` under the given syllables only (what
    :func:`.arhmm.masked_ar_log_likes` gives for every syllable, at 1/S of its cost)."""
    T, D = x.shape
    K = params["half_logdet"].shape[0]
    rows = np.concatenate([lag_windows(x, num_lags), np.ones((T - num_lags, 1))], axis=1)
    W = params["scoring"].reshape(rows.shape[1], D, K)  # column d K + k: row d of state k
    white = np.einsum("tr,rdt->td", rows, W[:, :, z])
    per = -0.5 * np.sum(white * white, axis=1) - params["half_logdet"][z] - 0.5 * D * LOG_2PI
    return float(np.sum(per[mask[num_lags:]]))


def _summaries(params, description, mask, state, path, ll, collect):
    S, L = int(description["num_states"]), int(description["num_lags"])
    z, emission = state["syllables"], state["emission_summary"]
    stats = ar.sequence_stats(state["latent"], z, mask, S, L)
    stats["noise_sq_over_scale"] = emission[3:].copy()
    stats["noise_frames"] = np.array(float(mask.sum()))
    log_joint = {
        "z": log_prob_syllables(z, params["transition_matrix"], L, mask),
        "x": _path_log_like(params, state["latent"], z, mask, L)
        if path is None
        else float(path.sum()),
        "Y": float(emission[0]),
        "s": float(emission[1]),
        "v": float(emission[2]),
    }
    marginals = None
    if collect == "samples":
        marginals = ar.frame_syllables(z, L)
    elif collect == "smoother":
        probs = forward_backward(np.full(S, 1.0 / S), params["transition_matrix"], ll)
        marginals = np.concatenate(
            [np.repeat(probs.expected_states[:1], L, 0), probs.expected_states]
        )
    return stats, log_joint, marginals


def keypoint_global_step(
    rng, stats: dict, params: dict, hyper: dict, prior: dict, kp: dict, D: int
):
    """The ARHMM's global step, then ``sigmasq`` when ``kp["resample_sigmasq"]``.

    ``sigmasq_k ~ InvGamma((nu_sigma + D n)/2, (nu_sigma sigmasq_0 + sum_t e_tk/s_tk)/2)``
    over the n scored frames (section 3.4 with the exact D, where jax-moseq hard-codes 3).

    Returns
    -------
    dict
        New ``global_weights``, ``transition_matrix``, ``ar_weights``, ``ar_covs`` and
        ``sigmasq`` (unchanged unless resampled).
    """
    new = ar.arhmm_global_step(rng, stats, params, hyper, prior)
    sigmasq = np.array(params["sigmasq"], dtype=np.float64)
    if kp["resample_sigmasq"]:
        shape = 0.5 * (kp["nu_sigma"] + D * float(stats["noise_frames"]))
        rate = 0.5 * (kp["nu_sigma"] * kp["sigmasq_0"] + stats["noise_sq_over_scale"])
        sigmasq = rate / rng.standard_gamma(shape, size=rate.shape)
    new["sigmasq"] = sigmasq
    return new


# ----------------------------------------------------------------------------- the model's law


def sample_keypoint_slds(rng, params: dict, description: dict, noise_prior, syllables=None):
    """Draw one recording from the keypoint SLDS given its parameters (for tests and checks).

    ``z`` at frame L uniform, then ``pi``; ``x_0..x_{L-1} ~ N(0, latent_initial_var I)``, then
    the AR(L) of each frame's syllable; ``v_0 ~ N(0, centroid_initial_var I)``, then the
    random walk of step variance ``sigmasq_loc``; ``h_t`` uniform on (-pi, pi]; ``s_tk`` from
    Scaled-Inv-chi2(nu_s, s0_tk); ``Y_tk ~ N(R(h_t) ybar_tk + v_t, s_tk sigmasq_k I_D)``.

    Parameters
    ----------
    rng : numpy.random.Generator
    params : dict
        ``transition_matrix``, ``ar_weights``, ``ar_covs``, ``loadings``, ``offset``, ``sigmasq``.
    description : dict
    noise_prior : array_like, shape (T, K)
        ``s0``.
    syllables : array_like of int, shape (T - L,), optional
        Given syllables instead of drawn ones.

    Returns
    -------
    keypoints : ndarray (T, K, D)
    state : dict
        ``syllables``, ``latent``, ``centroid``, ``heading``, ``scales``.
    """
    s0 = np.asarray(noise_prior, dtype=np.float64)
    T, K = s0.shape
    L, D, S = description["num_lags"], description["num_dims"], description["num_states"]
    kp = description["keypoint_prior"]
    Ab, Q = np.asarray(params["ar_weights"]), np.asarray(params["ar_covs"])
    M = Ab.shape[1]
    if syllables is None:
        syllables = sample_states(np.full(S, 1.0 / S), params["transition_matrix"], T - L, seed=rng)
    z = np.asarray(syllables, dtype=np.intp)
    x = np.empty((T, M))
    x[:L] = np.sqrt(description["latent_initial_var"]) * rng.standard_normal((L, M))
    noise = np.einsum("tij,tj->ti", np.linalg.cholesky(Q)[z], rng.standard_normal((T - L, M)))
    for t in range(L, T):
        x[t] = Ab[z[t - L]] @ np.concatenate([x[t - L : t].ravel(), [1.0]]) + noise[t - L]
    steps = rng.standard_normal((T, D))
    steps[0] *= np.sqrt(kp["centroid_initial_var"])
    steps[1:] *= np.sqrt(kp["sigmasq_loc"])
    v = np.cumsum(steps, axis=0)
    h = rng.uniform(-np.pi, np.pi, T)
    s = kp["nu_s"] * s0 / rng.chisquare(kp["nu_s"], size=(T, K))
    var = s * np.asarray(params["sigmasq"])[None, :]
    pose = rotate(aligned_pose(x, params["loadings"], params["offset"], K), h)
    Y = pose + v[:, None, :] + np.sqrt(var)[..., None] * rng.standard_normal((T, K, D))
    return Y, {"syllables": z, "latent": x, "centroid": v, "heading": h, "scales": s}
