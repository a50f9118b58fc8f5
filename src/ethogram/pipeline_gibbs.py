"""The job by Gibbs sampling: :func:`ethogram.pipeline.fit_recordings` and
:func:`~ethogram.pipeline.apply_model` hand their work here when ``method`` is ``"gibbs-arhmm"``
(MoSeq's sticky HDP-ARHMM on the preparation's whitened PCs, frames labelled by Viterbi under the
last sample's parameters) or ``"keypoint-slds"`` (keypoint-MoSeq's model on the raw keypoints and
confidences, AR-only then full sweeps, no frame dropped, estimated keypoints, noise, latent pose,
centroid and heading kept); kappa given or searched (:mod:`ethogram.gibbs_kappa`), checkpoints and
the executor as the EM path's, results whose ``config`` names the method. Every choice is in
``docs/keypoint_slds.md`` ("From the command line and the pipeline").
"""

from __future__ import annotations

import time
import warnings

import numpy as np

from .gibbs_kappa import (
    GIBBS_REMEDY,
    SEARCH_ITERS,
    SLDS_REFERENCE_KAPPA,
    final_fit,
    search_kappa,
    search_record,
)
from .prep._keypoint_path import VALID_POINTS_REMOVED
from .prep.keypoints import NO_CONFIDENCE
from .results import RecordingResult, Results, library_versions, now_iso

__all__ = [
    "GIBBS_METHODS",
    "GIBBS_REMEDY",
    "applied_results",
    "apply_gibbs",
    "fit_recordings_gibbs",
]

GIBBS_METHODS = ("gibbs-arhmm", "keypoint-slds")
DEFAULT_AR_ITERS, DEFAULT_GIBBS_ITERS, DEFAULT_APPLY_ITERS = 50, 500, 50
#: the ARHMM's kappa when neither given nor searched (keypoint-moseq's AR-only kappa)
ARHMM_DEFAULT_KAPPA = 1e6


def _confidences(rec, idx):
    """The confidences (T, K) of ``rec``'s body parts ``idx``, or None when it has none; all NaN
    is no confidence either (said in a warning): the keypoint SLDS would read NaN as
    confidence 0, every point unsure, where the tracker gave no score at all."""
    from .prep.keypoints import chosen_confidence

    return chosen_confidence(
        rec,
        idx,
        "every point as sure as the tracker's best (confidence 1, keypoint-moseq's default); "
        "give the tracker's scores in the file to let unsure points count less",
    )


def _keypoint_arrays(recordings, prep):
    """Per recording the keypoints (T, K, D) of the preparation's body parts, NaN = missing,
    and their confidences (T, K) or None (:func:`_confidences`)."""
    Ys, confs = [], []
    for rec in recordings:
        if rec.kind != "keypoints":
            raise ValueError(
                f"recording {rec.name!r} holds features: method 'keypoint-slds' needs keypoints "
                "(use method 'gibbs-arhmm' for features)"
            )
        prep.check_bodyparts(rec)  # a new recording without the model's body parts: in words
        idx = [list(rec.bodyparts).index(b) for b in prep.bodyparts_]
        Ys.append(np.asarray(rec.data[:, idx], dtype=np.float64))
        confs.append(_confidences(rec, idx))
    return Ys, confs


def _permute(model, order, states=None) -> None:
    """Renumber a Gibbs model's syllables: new ``i`` = old ``order[i]`` (and its local states)."""
    model.global_weights = model.global_weights[order]
    model.transition_matrix = model.transition_matrix[np.ix_(order, order)]
    model.ar_weights, model.ar_covs = model.ar_weights[order], model.ar_covs[order]
    inverse = np.argsort(order)
    for st in states or []:
        st["syllables"] = inverse[st["syllables"]]


def _order(labels, num_states):
    from .analysis import relabel_by_frequency

    return relabel_by_frequency(dict(enumerate(labels)), num_states)


def _recording(rec, syllables, mask, inputs, fps, keep_keypoints, **extra) -> RecordingResult:
    return RecordingResult(
        name=rec.name,
        syllables=syllables,
        mask=mask,
        inputs=inputs,
        fps=rec.fps if rec.fps is not None else fps,
        timestamps=rec.timestamps,
        keypoints=rec.data if (keep_keypoints and rec.kind == "keypoints") else None,
        bodyparts=rec.bodyparts if rec.kind == "keypoints" else None,
        source=rec.source,
        format=rec.format,
        video_path=rec.video_path,
        px_per_mm=rec.px_per_mm,
        **extra,
    )


def _slds_recordings(model, fit, recordings, keep_keypoints, fps, expected_states, unseen):
    """The recording results of a keypoint-SLDS fit or apply; ``unseen`` (per recording, bool
    (T,), :func:`_unseen`): the frames left without a syllable (-1) and out of the mask, whose
    latent pose, centroid, heading and estimated keypoints are NaN too (the sampler's values
    there are the prior's guess: a CSV user summing distances would read invented positions)."""
    out = []
    for i, rec in enumerate(recordings):
        u = unseen[i]

        def blank(a, u=u):
            a = np.array(a, dtype=float)  # a copy: the fit's own arrays stay whole
            a[u] = np.nan
            return a

        probs = None
        if expected_states and fit.marginals is not None:
            probs = fit.marginals[i].astype(np.float32)
        syllables = np.where(u, -1, fit.syllables[i])
        out.append(
            _recording(
                rec, syllables, ~u, blank(fit.latent[i]), fps,
                keep_keypoints, centroid=blank(fit.centroid[i][:, :2]),
                heading=blank(fit.heading[i]), estimated_keypoints=blank(fit.keypoints[i]),
                noise_variance=fit.noise_variance[i], expected_states=probs,
            )
        )  # fmt: skip
    return out


def _unseen(recordings, Ys, confs, fps, target_duration):
    """Per recording, the frames in stretches with no body part seen that last longer than the
    fit's target syllable duration (:func:`ethogram.prep.keypoints.unseen_stretches`)."""
    from .prep.keypoints import unseen_stretches
    from .stickiness import TARGET_DURATION_S

    target = TARGET_DURATION_S if target_duration is None else float(target_duration)
    out = []
    for rec, Y, c in zip(recordings, Ys, confs):
        rate = rec.fps if rec.fps is not None else fps
        longer = int(np.ceil(target * rate)) if rate else 0
        out.append(unseen_stretches(Y, c, longer))
    return out


def _slds_model(prep, kw, kappa_ar):
    """The keypoint SLDS of a fit: the preparation's body parts, heading ends and confidence
    threshold (below it a point is interpolated for the alignment that starts the fit)."""
    from .models import KeypointSLDS
    from .models.gibbs.keypoint_start import KeypointPrior
    from .models.moseq_arhmm import MoseqPrior

    names = list(prep.bodyparts_)
    th = prep.confidence_threshold
    return KeypointSLDS(
        num_states=kw["num_states"], num_lags=kw["num_lags"], prior=MoseqPrior(kappa=kappa_ar),
        keypoint_prior=KeypointPrior(conf_threshold=0.0 if th is None else float(th)),
        anterior=[names.index(b) for b in prep.anterior_],
        posterior=[names.index(b) for b in prep.posterior_], fps=kw["fps"],
    )  # fmt: skip


def _executor(kw) -> dict:
    """``executor`` and ``num_threads`` of the Gibbs loop from ``kw["execution"]``."""
    ex = kw["execution"]
    return {"executor": ex.job_executor(), "num_threads": ex.num_threads}


def _slds_fitter(Ys, confs, prep, kw, unseen):
    """``fit_at(kappa, (ar_iters, full_iters), checkpoint, previous=None, last=0)``: the keypoint
    SLDS as :meth:`ethogram.models.KeypointSLDS.fit` makes it (AR-only sweeps at 100 x kappa,
    then full sweeps at kappa), both stages in one checkpoint (:mod:`ethogram.fitting
    .gibbs_stages`); ``previous``, an earlier ``fit_at``'s output with the same AR-only
    sweeps, is continued instead of starting afresh. Its labels leave out the ``unseen`` frames
    (:func:`_unseen`), so the kappa search measures the syllables the results will hold."""
    from .fitting.gibbs import GibbsSettings
    from .fitting.gibbs_stages import Stage, run_stages
    from .models.gibbs.arhmm import frame_syllables
    from .models.gibbs.keypoint_start import unpack_recording
    from .models.keypoint_slds import estimate_sigmasq_loc

    def fit_at(kappa, sweeps, checkpoint, previous=None, last=0):
        ar_iters, full_iters = sweeps
        if previous is None:
            model = _slds_model(prep, kw, 100.0 * kappa)
            sequences, masks = model.prepare(Ys, confs)
            model.fit_pca(sequences)  # as KeypointSLDS.fit: PCA and noise scale, then the stages
            if model.sigmasq_loc is None:
                Y = [unpack_recording(d, model.num_dims)[0] for d in sequences]
                model.sigmasq_loc = estimate_sigmasq_loc(Y, round(model.fps))
        else:
            model, sequences, masks = previous["model"], previous["sequences"], previous["masks"]
        kappa_ar = 100.0 * kappa

        def ar_stage():
            model.ar_only, model.kappa = True, kappa_ar

        def full_stage():
            model.ar_only, model.kappa = False, kappa

        at = f" (kappa {kappa:.3g})"
        stages = [Stage(GibbsSettings(num_iters=ar_iters), ar_stage, "AR-only" + at)]
        if full_iters > 0:
            full = GibbsSettings(num_iters=ar_iters + full_iters, marginals_from_last=last)
            stages.append(Stage(full, full_stage, "keypoint SLDS" + at))
        run = run_stages(
            model, sequences, masks, stages, seed=kw["seed"],
            initialize=lambda rng: model.initialize(rng, sequences, "prior"),
            checkpoint=checkpoint, progress=kw["progress"],
            start=None if previous is None else previous["run"],
            fingerprint_extra={"init": "prior"}, **_executor(kw),
        )  # fmt: skip
        full_stage()  # as KeypointSLDS.fit leaves the model
        model.fit_kappas = (kappa_ar, kappa)
        # the last sample's syllables only: the estimated keypoints are the final fit's
        labels = [
            np.where(u, -1, frame_syllables(st["syllables"], model.num_lags))
            for st, u in zip(run.local_states, unseen)
        ]
        return {"model": model, "run": run, "labels": labels, "sequences": sequences,
                "masks": masks, "sweeps": sweeps}  # fmt: skip

    return fit_at


def _fit_slds(recordings, prep, kw, timings):
    from .prep.model_size import check_states_have_frames

    Ys, confs = _keypoint_arrays(recordings, prep)
    # every frame is kept (missing points are inferred): all of them are usable
    check_states_have_frames(kw["num_states"], sum(len(y) for y in Ys))
    unseen = _unseen(recordings, Ys, confs, kw["fps"], kw.get("target_duration"))
    fit_at = _slds_fitter(Ys, confs, prep, kw, unseen)
    ar, full = kw["ar_iters"], kw["gibbs_iters"]
    last = min(full, 100) if kw["expected_states"] else 0
    search, target_s = None, None
    kappa = kw["kappa"]
    if kappa is None and kw.get("search_kappa", True):
        probe = (min(ar, SEARCH_ITERS), min(full, SEARCH_ITERS))
        search, target_s = search_kappa(fit_at, probe, SLDS_REFERENCE_KAPPA, kw, timings)
        kappa = search.kappa
    # the search's fit at the chosen kappa continues to the fit's sweeps when it is their start
    reuse = search is not None and search.chosen["probe"]["sweeps"][0] == ar
    reuse = reuse and sum(search.chosen["probe"]["sweeps"]) <= ar + full - last
    got = final_fit(fit_at, 1e4 if kappa is None else kappa, (ar, full), search, reuse,
                     kw, timings, last=last)  # fmt: skip
    model = got["model"]
    order = _order(got["labels"], model.num_states)
    _permute(model, order, got["run"].local_states)
    fit = model.result(got["run"], None)
    if fit.marginals is not None:
        fit.marginals = [m[:, order] for m in fit.marginals]
    recs = _slds_recordings(
        model, fit, recordings, kw["keep_keypoints"], kw["fps"], kw["expected_states"], unseen
    )
    info = {
        "ar_iters": int(kw["ar_iters"]),
        "sigmasq_loc": float(model.sigmasq_loc),
        "sigmasq": np.asarray(model.sigmasq),
        "kappa_ar": float(model.fit_kappas[0]),
    }
    info.update(search_record(search, target_s))
    return model, fit, recs, info, float(model.fit_kappas[1])


def _arhmm_fitter(xs, masks, kw):
    """``fit_at(kappa, sweeps, checkpoint, previous=None)``: the sticky HDP-ARHMM by Gibbs
    sampling from the fit's seed, labelled by Viterbi (the pipeline's labels); ``previous``,
    an earlier ``fit_at``'s output, is continued instead of starting afresh."""
    from .fitting.gibbs import GibbsSettings
    from .models import StickyHDPARHMM
    from .models.moseq_arhmm import MoseqPrior

    def fit_at(kappa, sweeps, checkpoint, previous=None):
        if previous is None:
            model = StickyHDPARHMM(
                xs[0].shape[1], kw["num_states"], kw["num_lags"], MoseqPrior(kappa=kappa)
            )
        else:
            model = previous["model"]
        fit = model.fit(
            xs, masks, GibbsSettings(num_iters=sweeps), seed=kw["seed"], progress=kw["progress"],
            checkpoint=checkpoint, start=None if previous is None else previous["run"],
            **_executor(kw),
        )  # fmt: skip
        labels = model.predict(xs, masks, method="viterbi")
        labels = [np.where(m, z, -1) for z, m in zip(labels, masks)]
        return {"model": model, "run": fit.run, "fit": fit, "labels": labels, "sweeps": sweeps}

    return fit_at


def _fit_arhmm(recordings, prep, kw, timings):
    from .prep import Whitening
    from .prep.model_size import check_states_have_frames
    from .stickiness import TARGET_DURATION_S, reference_kappa

    t0 = time.perf_counter()
    prepared = prep.fit_transform(recordings)
    masks = [np.asarray(p.mask, dtype=bool) for p in prepared]
    check_states_have_frames(kw["num_states"], int(sum(m.sum() for m in masks)))
    whiten = Whitening.fit([p.inputs for p in prepared], masks)
    xs = [whiten.transform(p.inputs) for p in prepared]
    timings["prepare"] = time.perf_counter() - t0
    fit_at = _arhmm_fitter(xs, masks, kw)
    search, target_s = None, None
    kappa = kw["kappa"]
    if kappa is None and kw.get("search_kappa", True):
        target = (kw.get("target_duration") or TARGET_DURATION_S) * kw["fps"]
        usable = int(sum(m.sum() for m in masks))
        reference = reference_kappa(usable, kw["num_states"], target)
        probe = min(kw["gibbs_iters"], SEARCH_ITERS)
        search, target_s = search_kappa(fit_at, probe, reference, kw, timings)
        kappa = search.kappa
    kappa = ARHMM_DEFAULT_KAPPA if kappa is None else float(kappa)
    got = final_fit(fit_at, kappa, kw["gibbs_iters"], search, search is not None, kw, timings)
    model, fit = got["model"], got["fit"]
    # by the frequency of the labels written (Viterbi's), as EM's; not the last sample's
    _permute(model, _order(got["labels"], model.num_states))
    recs = _arhmm_recordings(model, whiten, prepared, recordings, kw)
    info = {"whitening_mean": whiten.mean, "whitening_chol": whiten.chol}
    info.update(search_record(search, target_s))
    return model, fit, recs, info, kappa


def _arhmm_recordings(model, whiten, prepared, recordings, kw):
    xs = [whiten.transform(p.inputs) for p in prepared]
    masks = [np.asarray(p.mask, dtype=bool) for p in prepared]
    labels = model.predict(xs, masks, method="viterbi")
    posts = model.predict(xs, masks, method="marginals") if kw["expected_states"] else None
    out = []
    for i, (rec, p) in enumerate(zip(recordings, prepared)):
        z = np.where(masks[i], labels[i], -1)
        out.append(
            _recording(
                rec, z, masks[i], p.inputs, kw["fps"], kw["keep_keypoints"],
                centroid=p.centroid if p.centroid is not None else rec.centroid,
                heading=p.heading if p.heading is not None else rec.heading,
                expected_states=None if posts is None else posts[i].astype(np.float32),
            )
        )  # fmt: skip
    return out


def fit_recordings_gibbs(
    recordings, method: str, prep, fps, timings: dict, *, execution=None, checkpoint=None, **kw
) -> Results:
    """Fit ``recordings`` by Gibbs sampling (called by :func:`ethogram.pipeline.fit_recordings`).

    Parameters
    ----------
    recordings : list of Recording
        Checked by the caller (names, one frame rate ``fps``).
    method : {"gibbs-arhmm", "keypoint-slds"}
    prep : ethogram.prep.Preparation
        Unfitted; fitted here (its body parts and heading ends, and for ``gibbs-arhmm`` the
        model inputs).
    fps : float
    timings : dict
        Gets ``prepare``, ``fit``, ``label`` seconds.
    execution : ethogram.fitting.ExecutionSettings, optional
        Where the local steps run (threads, an executor, a Dask client): the same bits on each.
    checkpoint : ethogram.fitting.CheckpointSettings, optional
        The fit's checkpoint file, every ``every`` sweeps, and ``resume`` (see the module
        docstring); the search's fits are checkpointed beside it.
    **kw
        ``num_states``, ``num_lags``, ``kappa``, ``seed``, ``progress``, ``num_threads``
        (without ``execution``), ``keep_keypoints``, ``expected_states``, ``ar_iters``,
        ``gibbs_iters``, ``target_duration``.

    Returns
    -------
    Results
        ``config["method"]``; ``fit["log_joint"]`` (per iteration, all groups) and
        ``fit["log_joint_<group>"]``; ``fit["seconds"]``.
    """
    if method not in GIBBS_METHODS:
        raise ValueError(f"method must be 'em' or one of {GIBBS_METHODS}, got {method!r}")
    from .fitting.settings import CheckpointSettings, ExecutionSettings

    if execution is None:
        execution = ExecutionSettings(num_threads=kw.get("num_threads"))
    kw = dict(kw, fps=fps, execution=execution)
    kw["checkpoint"] = CheckpointSettings() if checkpoint is None else checkpoint
    if kw.get("kappa") is None:  # every fit of the search from the same seed (as EM's search)
        from .fitting.checkpoint import resolve_seed

        kw["seed"] = resolve_seed(kw.get("seed"))
    kw["ar_iters"] = DEFAULT_AR_ITERS if kw.get("ar_iters") is None else int(kw["ar_iters"])
    kw["gibbs_iters"] = (
        DEFAULT_GIBBS_ITERS if kw.get("gibbs_iters") is None else int(kw["gibbs_iters"])
    )
    t0 = time.perf_counter()
    if method == "keypoint-slds":
        with warnings.catch_warnings():  # the model says all-NaN confidences in its own words
            warnings.filterwarnings("ignore", NO_CONFIDENCE, UserWarning)
            # the keypoint SLDS keeps every point with its confidence: no valid point is removed
            warnings.filterwarnings("ignore", VALID_POINTS_REMOVED, UserWarning)
            prep.fit(recordings)
    timings["prepare"] = time.perf_counter() - t0
    run = _fit_slds if method == "keypoint-slds" else _fit_arhmm
    model, fit, recs, info, kappa_used = run(recordings, prep, kw, timings)
    search = info.pop("search", None)
    timings["label"] = 0.0
    log_joint = {k: np.asarray(v, dtype=np.float64) for k, v in fit.log_joint.items()}
    info.update(
        method=method,
        log_joint=np.sum(list(log_joint.values()), axis=0),
        sweeps=int(len(next(iter(log_joint.values()))) - 1),
        seconds=timings["fit"],
        **{f"log_joint_{k}": v for k, v in log_joint.items()},
    )
    config = {
        "command": "fit",
        "method": method,
        "num_states": int(kw["num_states"]),
        "num_lags": int(kw["num_lags"]),
        "kappa": kw["kappa"],
        "kappa_used": kappa_used,
        "ar_iters": kw["ar_iters"] if method == "keypoint-slds" else 0,
        "gibbs_iters": kw["gibbs_iters"],
        "seed": kw["seed"] if isinstance(kw["seed"], (int, np.integer)) else str(kw["seed"]),
        "expected_states": bool(kw["expected_states"]),
        "fps": fps,
        "recordings": [
            {"name": r.name, "source": r.source, "format": r.format} for r in recordings
        ],
    }
    config.update(search or {})
    return Results(
        model=model, preparation=prep, recordings=recs, config=config, fit=info,
        versions=library_versions(), created=now_iso(),
    )  # fmt: skip


def apply_gibbs(fitted: Results, recordings, expected_states, keep_keypoints, num_threads):
    """Label ``recordings`` with a fitted Gibbs model (called by
    :func:`ethogram.pipeline.apply_model`): the recording results only.

    ``gibbs-arhmm``: Viterbi under the fitted parameters (the fit's own labels are those).
    ``keypoint-slds``: ``DEFAULT_APPLY_ITERS`` states-only sweeps (``config["apply_iters"]``
    when set) from the fit's seed, the first half tempered (:meth:`ethogram.models.KeypointSLDS
    .apply`, ``config["apply_temper"]`` when set); the last sample. The expected states count
    the sampled syllables of the last (at most 20) untempered sweeps.
    """
    method = fitted.config.get("method")
    model, prep, fps = fitted.model, fitted.preparation, fitted.config.get("fps")
    kw = {"fps": fps, "keep_keypoints": keep_keypoints, "expected_states": expected_states}
    if method == "gibbs-arhmm":
        from .prep import Whitening

        whiten = Whitening(fitted.fit["whitening_mean"], fitted.fit["whitening_chol"])
        return _arhmm_recordings(model, whiten, prep.transform(recordings), recordings, kw)
    Ys, confs = _keypoint_arrays(recordings, prep)
    from .models.gibbs.keypoint_start import APPLY_TEMPER, untempered_sweeps

    iters = int(fitted.config.get("apply_iters", DEFAULT_APPLY_ITERS))
    temper = float(fitted.config.get("apply_temper", APPLY_TEMPER))
    seed = fitted.config.get("seed")
    fit = model.apply(
        Ys, confs, num_iters=iters, seed=seed if isinstance(seed, int) else None,
        num_threads=num_threads, progress=False, temper=temper,
        marginals_from_last=min(untempered_sweeps(iters, temper), 20) if expected_states else 0,
    )  # fmt: skip
    unseen = _unseen(recordings, Ys, confs, fps, fitted.config.get("target_duration"))
    return _slds_recordings(model, fit, recordings, keep_keypoints, fps, expected_states, unseen)


def applied_results(fitted: Results, recordings, model_file, expected_states, **kw) -> Results:
    """:func:`apply_gibbs`'s recordings as the :class:`Results` of ``apply`` (the fitted
    model, preparation and fit record; ``config`` as EM's apply writes it)."""
    recs = apply_gibbs(fitted, recordings, expected_states, **kw)
    config = dict(fitted.config)
    config.update(
        command="apply",
        model_file=model_file,
        fitted_on=fitted.config.get("recordings"),
        recordings=[{"name": r.name, "source": r.source, "format": r.format} for r in recordings],
        expected_states=bool(expected_states),
    )
    return Results(
        model=fitted.model, preparation=fitted.preparation, recordings=recs, config=config,
        fit=dict(fitted.fit), versions=library_versions(), created=now_iso(),
    )  # fmt: skip
