"""The job: recordings in, syllables out.

This room joins the application's parts into the two things a lab does with ethogram:
:func:`fit_recordings` prepares recordings (:class:`ethogram.prep.Preparation`), fits one
sticky autoregressive HMM jointly on all of them by EM (masked frames stay masked), labels
every frame by Viterbi and renumbers the syllables by frequency *in the model itself*
(:meth:`ethogram.HMM.permute`), so that syllable 0 is the most used in the model, the labels
and every later output; :func:`apply_model` labels new recordings with a saved model and its
preparation, unchanged, without refitting. Both return :class:`ethogram.results.Results`,
which :func:`ethogram.results.write_results` saves.

Defaults (see ``docs/usage.md``, "Choosing K and kappa"): ``num_states=DEFAULT_NUM_STATES``
(20) syllables and, when no ``kappa`` is given, the smallest stickiness whose fit gives a
median syllable of at least ``TARGET_DURATION_S`` (MoSeq's timescale, about 400 ms), kappa 0
when the data's own syllables are already that long (:mod:`ethogram.stickiness`).
"""

from __future__ import annotations

import dataclasses
import functools
import time
from pathlib import Path

import numpy as np

from .errors import ArgumentError
from .fitting.settings import (
    CheckpointSettings,
    EMSettings,
    ExecutionSettings,
    settings_from_options,
)
from .io.rates import (
    common_frame_rate,
    fill_model_rate,
    frame_rate,  # noqa: F401 (importable from here, as before)
    require_frame_rate,
    warn_other_frame_rate,
)
from .results import (
    RecordingResult,
    Results,
    library_versions,
    load_results,
    model_frame_rate,
    now_iso,
)
from .stickiness import TARGET_DURATION_S

__all__ = [
    "DEFAULT_NUM_ITERS",
    "FIT_EM",
    "FitQualityWarning",  # noqa: F822 (provided lazily by the module __getattr__)
    "DEFAULT_NUM_STATES",
    "SYLLABLE_PRIOR",
    "TARGET_DURATION_S",
    "apply_model",
    "fit_recordings",
    "kappa_checkpoints",
    "resumable_checkpoints",
]


def __getattr__(name: str):
    """``FitQualityWarning`` (:mod:`ethogram.analysis.diagnostics`), imported when asked for, so
    that importing the pipeline does not import the analysis (and SciPy)."""
    if name == "FitQualityWarning":
        from .analysis.diagnostics import FitQualityWarning

        return FitQualityWarning
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


#: default number of syllables (states) of a fit
DEFAULT_NUM_STATES = 20
#: default maximum number of EM iterations per restart
DEFAULT_NUM_ITERS = 100
#: the AR prior of syllable models, on the standardized model inputs (so relative to each
#: input's variance): a ridge of 1 pseudo-frame on the dynamics and bias, and a noise prior of 1
#: pseudo-frame at 0.1 of the variance. The library's default (1e-4 of the variance, nearly
#: maximum likelihood) over-fits syllable data: on held-out frames (bench/study_ar_prior.py,
#: bench/results/ar_prior.md) this setting scored better than it on the open-field mouse
#: (+0.08 nats per frame), the flies (-19 against -1201), moseq2 depth PCs (-51 against -346)
#: and lost 0.28 on JABS (within about one standard error), with fewer 1-frame syllables and
#: kappa acting on the durations. keypoint-moseq and moseq2 use a ridge of 0.1 (K_0_scale 10)
#: and a noise scale of 0.01 on whitened inputs, shrinking towards a random walk.
SYLLABLE_PRIOR = {"prior_ridge": 1.0, "prior_scale": 0.1}


def _check_recordings(recordings) -> list:
    from .io import Recording

    if isinstance(recordings, Recording):
        recordings = [recordings]
    recordings = list(recordings)
    if not recordings:
        raise ValueError("recordings is empty: give at least one recording")
    for r in recordings:
        if not isinstance(r, Recording):
            raise TypeError(
                f"recordings must be ethogram.io.Recording objects, got {type(r).__name__}"
            )
    names = [r.name for r in recordings]
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise ValueError(f"recording names must be unique; repeated: {dup}")
    require_frame_rate(recordings)
    return recordings


def _recording_results(recordings, prepared, labels, posts, keep_keypoints: bool) -> list:
    out = []
    for i, (rec, p, z) in enumerate(zip(recordings, prepared, labels)):
        keypoints = rec.data if (keep_keypoints and rec.kind == "keypoints") else None
        centroid = p.centroid if p.centroid is not None else rec.centroid
        heading = p.heading if p.heading is not None else rec.heading
        out.append(
            RecordingResult(
                name=rec.name,
                syllables=z,
                mask=p.mask,
                inputs=p.inputs,
                fps=rec.fps if rec.fps is not None else p.fps,
                centroid=centroid,
                heading=heading,
                timestamps=rec.timestamps,
                expected_states=None
                if posts is None
                else posts[i].expected_states.astype(np.float32),
                keypoints=keypoints,
                bodyparts=rec.bodyparts if rec.kind == "keypoints" else None,
                source=rec.source,
                format=rec.format,
                video_path=rec.video_path,
                px_per_mm=rec.px_per_mm,
            )
        )
    return out


def _long_enough(model, prepared, recordings, consequence: str) -> np.ndarray:
    """Which prepared recordings the model can score a frame of; one warning names the others."""
    from .models.short_sequences import long_enough, warn_short

    lengths = [p.inputs.shape[0] for p in prepared]
    keep = long_enough(model.observations, lengths)
    names = [r.name for r in recordings]
    warn_short(model.observations, lengths, ~keep, consequence, names=names, stacklevel=4)
    return keep


def _label(model, prepared, expected_states: bool, num_threads=None, keep=None):
    """Syllables (-1 where a frame is masked, and in every frame of a recording not in
    ``keep``: too short to score) and, optionally, posteriors (NaN for those recordings)."""
    from .models.short_sequences import expand, no_posterior, subset

    keep = np.ones(len(prepared), dtype=bool) if keep is None else keep
    kept = subset(prepared, keep)
    datas = [p.inputs for p in kept]
    masks = [np.asarray(p.mask, dtype=bool) for p in kept]
    labels, posts = _label_arrays(model, datas, masks, expected_states, num_threads)
    frames = [p.inputs.shape[0] for p in prepared]
    labels = expand(labels, keep, lambda i: np.full(frames[i], -1, dtype=np.int64))
    if posts is not None:
        posts = expand(posts, keep, lambda i: no_posterior(frames[i], model.num_states))
    return labels, posts


def _label_arrays(model, datas, masks, expected_states: bool, num_threads=None):
    """Viterbi labels (-1 at masked frames) and, when asked, posteriors of model inputs."""
    labels = []
    for i in range(
        0, len(datas), 8
    ):  # 8 recordings at a time: their log-likelihoods, not all, in memory
        labels += model.predict(datas[i : i + 8], mask=masks[i : i + 8], num_threads=num_threads)
    labels = [np.where(m, np.asarray(z, dtype=np.int64), -1) for z, m in zip(labels, masks)]
    posts = None
    if expected_states:
        posts = model.posterior(datas, mask=masks, num_threads=num_threads) if datas else []
    return labels, posts


def kappa_checkpoints(checkpoint) -> list:
    """The checkpoints of the default kappa's search beside ``checkpoint``: ``<stem>.kappa-<i>.h5``
    for its i-th fit (``ethogram fit`` removes them with the fit's own once the results are
    written)."""
    checkpoint = Path(checkpoint)
    return sorted(checkpoint.parent.glob(f"{checkpoint.stem}.kappa-*{checkpoint.suffix}"))


def resumable_checkpoints(checkpoint) -> list:
    """What a resumed fit continues from: the fit's own checkpoint when it exists, else those
    of its kappa search (:func:`kappa_checkpoints`); empty when there is none."""
    checkpoint = Path(checkpoint)
    return [checkpoint] if checkpoint.is_file() else kappa_checkpoints(checkpoint)


def _search_kappa(
    make,
    datas,
    masks,
    fit_kw: dict,
    target_frames: float,
    num_states: int,
    checkpoint: CheckpointSettings,
    timings: dict,
):
    """The default kappa (:func:`ethogram.stickiness.smallest_kappa`), fitting in this process.

    Each fit is ``make(kappa).fit(datas, mask=masks, **fit_kw)``, checkpointed when
    ``checkpoint`` has a path (the i-th fit in ``<stem>.kappa-<i>.h5`` beside it, so that a
    resumed search finds each fit where it stopped); the chosen one's model,
    :class:`~ethogram.FitResult` and checkpoint are in ``search.chosen``. ``timings["fit"]``
    gets the chosen fit's seconds and ``timings["kappa_search"]`` the others'.
    """
    from .stickiness import median_run_length, reference_kappa, smallest_kappa

    done = []
    path = checkpoint.path
    num_threads = fit_kw["execution"].num_threads

    def evaluate(k):
        t0 = time.perf_counter()
        model = make(k)
        ck = None if path is None else path.with_name(f"{path.stem}.kappa-{len(done)}{path.suffix}")
        done.append(ck)
        fit = model.fit(
            datas, mask=masks, checkpoint=dataclasses.replace(checkpoint, path=ck), **fit_kw
        )
        labels, _ = _label_arrays(model, datas, masks, False, num_threads)
        return {
            "median_duration": median_run_length(labels),
            "objective": float(fit.objectives[-1]),
            "num_iters": int(fit.num_iters),
            "seconds": time.perf_counter() - t0,
            "model": model,
            "fit": fit,
            "checkpoint": ck,
        }

    usable = int(sum(m.sum() for m in masks))
    reference = reference_kappa(usable, num_states, target_frames)
    search = smallest_kappa(evaluate, target_frames, reference)
    timings["fit"] = float(search.chosen["seconds"])
    timings["kappa_search"] = float(sum(row["seconds"] for row in search.curve)) - timings["fit"]
    return search


def _fit_at(make, datas, masks, kappa: float, search, fit_kw: dict, checkpoint, timings: dict):
    """The fit at ``kappa``: the search's chosen fit when it is the same fit (its EM settings,
    ``fit_kw["em"]``, are the search's; its checkpoint becomes the fit's), else a fit made here."""
    if search is not None and fit_kw["em"] == _search_settings(fit_kw["em"]):
        if checkpoint.path is not None:
            import shutil

            shutil.copyfile(search.chosen["checkpoint"], checkpoint.path)
        return search.chosen["model"], search.chosen["fit"]
    t0 = time.perf_counter()
    model = make(kappa)
    fit = model.fit(datas, mask=masks, checkpoint=checkpoint, **fit_kw)
    if search is not None:  # the search's chosen fit was not kept: all its fits were the search's
        timings["kappa_search"] += timings["fit"]
    timings["fit"] = time.perf_counter() - t0
    return model, fit


def _search_settings(em: EMSettings) -> EMSettings:
    """The EM settings of the kappa search's fits: one restart, no re-seeding."""
    return dataclasses.replace(em, num_restarts=1, reseed_dead=False)


def _check_model_arguments(num_states, num_lags, kappa, target_duration) -> None:
    if isinstance(num_states, bool) or int(num_states) != num_states or num_states < 1:
        raise ValueError(f"num_states must be a positive integer, got {num_states!r}")
    if isinstance(num_lags, bool) or int(num_lags) != num_lags or num_lags < 1:
        raise ValueError(f"num_lags must be a positive integer, got {num_lags!r}")
    if kappa is not None and not (np.isfinite(kappa) and kappa >= 0):
        raise ValueError(f"kappa must be a non-negative number or None, got {kappa!r}")
    if kappa is not None and target_duration is not None:
        raise ValueError("give either kappa or target_duration, not both")
    if target_duration is not None and not (np.isfinite(target_duration) and target_duration > 0):
        raise ValueError(
            f"target_duration must be a positive number of seconds, e.g. 0.4, "
            f"got {target_duration!r}"
        )


def _ar_prior(prior_ridge) -> dict:
    """:data:`SYLLABLE_PRIOR` with ``prior_ridge`` when given (checked)."""
    ar_prior = dict(SYLLABLE_PRIOR)
    if prior_ridge is not None:
        if isinstance(prior_ridge, bool) or not (np.isfinite(prior_ridge) and prior_ridge >= 0):
            raise ArgumentError(
                f"{{prior_ridge}} must be a non-negative number of pseudo-frames, "
                f"e.g. 1 or 10, got {prior_ridge!r}",
                "prior_ridge",
            )
        ar_prior["prior_ridge"] = float(prior_ridge)
    return ar_prior


def _long_inputs(prepared, recordings, num_lags: int):
    """The model inputs of the recordings an AR model of ``num_lags`` lags can score (one
    warning names the others): ``(keep, datas, masks)``."""
    from .models import HMM
    from .models.short_sequences import require_long, subset, warn_short

    names = [r.name for r in recordings]
    lengths = [p.inputs.shape[0] for p in prepared]
    # an AR model of these lags says which recordings are long enough, and words the warning
    probe = HMM(1, "autoregressive", dict(data_dim=prepared[0].inputs.shape[1], num_lags=num_lags))
    keep = require_long(probe.observations, lengths, names)
    warn_short(
        probe.observations,
        lengths,
        ~keep,
        "left out of the fit (its frames get the syllable -1)",
        names=names,
        stacklevel=4,
    )
    datas = [p.inputs for p in subset(prepared, keep)]
    masks = [np.asarray(p.mask, dtype=bool) for p in subset(prepared, keep)]
    return keep, datas, masks


def _usable_frames(masks, num_lags: int) -> int:
    usable = int(sum(m.sum() for m in masks))
    if usable <= num_lags:
        raise ValueError(
            f"only {usable} usable frames in the recordings after preparation; check the "
            "confidence threshold and body parts"
        )
    return usable


def _syllable_model(num_states: int, data_dim: int, num_lags: int, ar_prior: dict, kappa):
    """An unfitted sticky AR-HMM of the pipeline at stickiness ``kappa``."""
    from .models import HMM

    obs = dict(data_dim=data_dim, num_lags=num_lags, **ar_prior)
    return HMM(num_states, "autoregressive", obs, kappa=kappa)


def _target_frames(target_duration, fps: float) -> tuple[float, float]:
    """The default kappa's target: ``(seconds, frames)``; refused when it lasts one frame."""
    target_s = TARGET_DURATION_S if target_duration is None else float(target_duration)
    if target_s * fps <= 1:
        raise ValueError(
            f"target_duration ({target_s:g} s) must last more than one frame "
            f"({1 / fps:.3g} s at {fps:g} fps)"
        )
    return target_s, target_s * fps


def _label_by_frequency(model, recordings, prepared, expected_states, num_threads, keep):
    """Label, renumber the model's states by frequency, label again with the renumbered model
    (exactly what :func:`apply_model` computes): ``(labels, posteriors, order)``."""
    from .analysis import relabel_by_frequency

    labels, _ = _label(model, prepared, False, num_threads, keep)
    order = relabel_by_frequency({r.name: z for r, z in zip(recordings, labels)}, model.num_states)
    model.permute(order)
    labels, posts = _label(model, prepared, expected_states, num_threads, keep)
    return labels, posts, order


def _fit_config(
    em: EMSettings,
    seed,
    kappa,
    kappa_used,
    ar_prior,
    search,
    target_s,
    expected_states,
    fps,
    recordings,
    num_states,
    num_lags,
) -> dict:
    """The results' ``config`` of :func:`fit_recordings`."""
    config = {
        "command": "fit",
        "num_states": num_states,
        "num_lags": num_lags,
        "kappa": kappa,
        "kappa_used": kappa_used,
        "prior_ridge": ar_prior["prior_ridge"],
        "num_iters": em.num_iters,
        "num_restarts": em.num_restarts,
        "seed": seed if seed is None or isinstance(seed, (int, np.integer)) else str(seed),
        "tol": em.tol,
        "expected_states": bool(expected_states),
        "fps": fps,
        "recordings": [
            {"name": r.name, "source": r.source, "format": r.format} for r in recordings
        ],
    }
    for name in ("init", "num_starts", "start_iters", "accelerate"):  # only when not the default
        if getattr(em, name) != getattr(FIT_EM, name):
            config[name] = getattr(em, name)
    if search is not None:
        config.update(
            target_duration=target_s,
            kappa_search=search.curve,
            kappa_search_message=search.message,
            kappa_search_reached=search.reached,
        )
    if em.reseed_dead:  # only then, so results of fits without it are unchanged
        config["reseed_dead"] = True
    return config


def _fit_info(
    fit, em: EMSettings, usable: int, data_dim: int, num_lags: int, seconds: float, order
) -> dict:
    """The results' ``fit``: EM's history and outcome (and its re-seeds, renumbered)."""
    D = data_dim
    fit_info = {
        "objectives": np.asarray(fit.objectives, dtype=np.float64),
        "marginal_lls": np.asarray(fit.marginal_lls, dtype=np.float64),
        "restart_objectives": np.asarray(fit.restart_objectives, dtype=np.float64),
        "converged": bool(fit.converged),
        "num_iters": int(fit.num_iters),
        "chosen_restart": int(fit.chosen_restart),
        "usable_frames": usable,
        "parameters_per_state": int(D * (D * num_lags + 1) + D * (D + 1) // 2),
        "seconds": seconds,
    }
    if em.reseed_dead:
        syllable = np.argsort(order)  # fit state s is syllable syllable[s] after the renumbering
        fit_info["reseeds"] = np.array(
            [
                [e.iteration, syllable[e.state], e.expected_frames, e.objective_before]
                for e in fit.reseeds
            ],
            dtype=np.float64,
        ).reshape(-1, 4)
    return fit_info


#: the EM settings of :func:`fit_recordings` by default: 100 iterations, tolerance 1e-6
FIT_EM = EMSettings(num_iters=DEFAULT_NUM_ITERS, tol=1e-6)
#: the keyword arguments of the settings :func:`fit_recordings` takes
_FIT_KEYWORDS = frozenset(
    {
        "num_iters",
        "num_restarts",
        "tol",
        "reseed_dead",
        "num_threads",
        "client",
        "checkpoint_every",
        "resume",
    }
)


def fit_recordings(
    recordings,
    num_states: int = DEFAULT_NUM_STATES,
    num_lags: int = 3,
    kappa: float | None = None,
    prep=None,
    *,
    em: EMSettings | None = None,
    execution: ExecutionSettings | None = None,
    checkpoint=None,
    seed=0,
    progress=None,
    expected_states: bool = False,
    keep_keypoints: bool = True,
    timings: dict | None = None,
    prior_ridge: float | None = None,
    target_duration: float | None = None,
    method: str = "em",
    ar_iters: int | None = None,
    gibbs_iters: int | None = None,
    **options,
) -> Results:
    """Fit a sticky AR-HMM jointly on recordings and label every frame.

    Parameters
    ----------
    recordings : Recording or list of Recording
        From :func:`ethogram.io.read_recordings`; names must be unique.
    num_states : int, default ``DEFAULT_NUM_STATES`` (20)
        Number of syllables K.
    num_lags : int, default 3
        Autoregressive order L (frames of the past each frame is predicted from).
    kappa : float or None
        Stickiness: extra pseudo-counts on every self-transition (a Dirichlet pseudo-count, as
        MoSeq's kappa). None: the smallest kappa whose fit gives a median syllable (Viterbi
        run) of at least 90% of ``target_duration``, kappa 0 when the fit without stickiness
        already does (:func:`ethogram.stickiness.smallest_kappa`: up to 8 fits from the same
        seed; the fit at the chosen kappa is kept, so the result is the fit with
        ``kappa=config["kappa_used"]``).
    prep : ethogram.prep.Preparation, optional
        Unfitted preparation with the settings to use (``Preparation()`` when None); it is
        fitted here on ``recordings``.
    em : ethogram.fitting.EMSettings, optional
        EM's iterations, tolerance, restarts (the one with the highest MAP objective is kept),
        starts and re-seeding (default :data:`FIT_EM`: 100 iterations, tolerance 1e-6). With
        ``reseed_dead`` (:mod:`ethogram.fitting.reseed`) ``config["reseed_dead"]`` is True
        and ``fit["reseeds"]`` holds one row per re-seed (shape (n, 4)): iteration, syllable
        (numbered as in the results, by frequency), its expected frames and the objective
        before the re-seed. Fields other than ``num_iters``, ``num_restarts`` and ``tol``
        enter ``config`` only when they differ from :data:`FIT_EM`'s.
    execution : ethogram.fitting.ExecutionSettings, optional
        Where EM's E-steps run: ``num_threads`` threads (also used to label), an
        ``executor``, or the Dask cluster of ``client`` (same result as a local fit).
    checkpoint : ethogram.fitting.CheckpointSettings, str or Path, optional
        Checkpoint file of the EM fit, written every ``every`` iterations; with ``resume``
        continue from it when it exists (same result as uninterrupted). The fits of the
        default kappa's search are checkpointed beside it (:func:`kappa_checkpoints`), so
        ``resume`` continues an interrupted search too.
    seed : int, default 0
        Same seed, same data, same settings: same labels.
    progress : bool or None
        tqdm progress bar over EM iterations (None: only on an interactive terminal).
    expected_states : bool, default False
        Also keep the posterior state probabilities (T, K) per recording.
    keep_keypoints : bool, default True
        Keep the raw keypoints (for trajectory plots and grid movies).
    timings : dict, optional
        When given, filled with seconds spent per stage (``prepare``, ``fit``, ``label``).
    prior_ridge : float, optional
        Ridge on the AR weights in pseudo-frames of the standardized inputs (default
        ``SYLLABLE_PRIOR["prior_ridge"]``, 1); raise it (e.g. to 10) when kappa does not
        lengthen the syllables: the emissions then over-fit. Stored as ``config["prior_ridge"]``.
    target_duration : float, optional
        Median syllable duration in seconds that the default kappa reaches (default
        ``TARGET_DURATION_S``, 0.4 s); only when ``kappa`` is None. The search is recorded in
        ``config["target_duration"]``, ``config["kappa_search"]`` (one dict per fit: kappa,
        median_duration in frames, objective, num_iters, seconds),
        ``config["kappa_search_message"]`` and ``config["kappa_search_reached"]``;
        ``timings["kappa_search"]`` is the time of the search's other fits.
    method : {"em", "gibbs-arhmm", "keypoint-slds"}, default "em"
        ``"em"``: this MAP AR-HMM fit. The others sample MoSeq's models by Gibbs sampling
        (:mod:`ethogram.pipeline_gibbs`: the sticky HDP-ARHMM on the preparation's inputs, or
        keypoint-MoSeq's keypoint SLDS on the raw keypoints); they use ``num_states``,
        ``num_lags``, ``kappa`` (None: keypoint-moseq's), ``seed``, ``prep`` (body parts,
        heading), ``expected_states``, ``keep_keypoints``, ``num_threads``, ``progress``.
    ar_iters, gibbs_iters : int, optional
        Gibbs methods: AR-only sweeps of the keypoint SLDS (default 50) and sweeps of the
        full model or the ARHMM (default 500), keypoint-moseq's recommendations.
    **options
        The settings' fields under the keywords ``fit_recordings`` took before the settings
        objects: ``num_iters``, ``num_restarts``, ``tol``, ``reseed_dead``, ``num_threads``,
        ``client``, ``checkpoint_every``, ``resume``; each replaces that field (the same fit,
        bit for bit).

    Returns
    -------
    Results
        Syllables numbered by frequency (0 = most used) in the model and in the labels.

    Raises
    ------
    ValueError
        Empty input, repeated names, a recording without frame rate ("give fps"), recordings
        at different frame rates (:func:`ethogram.io.rates.common_frame_rate`: fit each rate
        separately or resample first), both ``kappa`` and ``target_duration``, or a
        preparation that cannot run (e.g. unknown body parts).

    Warns
    -----
    FitQualityWarning
        One line each when EM did not converge in ``num_iters`` iterations, when the median
        syllable is shorter than a third of the target duration, or when two frequent
        syllables flicker (:func:`ethogram.analysis.diagnostics.fit_quality_warnings` defines
        each); the message names the arguments to change, also kept as the warning's
        ``arguments``.
    """
    from .fitting.checkpoint import resolve_seed
    from .prep import Preparation
    from .prep.model_size import check_model_size

    recordings = _check_recordings(recordings)
    fps = common_frame_rate(recordings)  # one rate: recordings at different rates are refused
    _check_model_arguments(num_states, num_lags, kappa, target_duration)
    ar_prior = _ar_prior(prior_ridge)
    em, execution, checkpoint = settings_from_options(
        options,
        em=FIT_EM if em is None else em,
        execution=execution,
        checkpoint=checkpoint,
        accepted=_FIT_KEYWORDS,
        function="fit_recordings",
    )
    num_states, num_lags = int(num_states), int(num_lags)
    timings = {} if timings is None else timings
    if method != "em":  # MoSeq's models by Gibbs sampling
        from .pipeline_gibbs import fit_recordings_gibbs
        from .prep import Preparation

        return fit_recordings_gibbs(
            recordings,
            method,
            Preparation() if prep is None else prep,
            fps,
            timings,
            num_states=num_states,
            num_lags=num_lags,
            kappa=kappa,
            seed=seed,
            progress=progress,
            num_threads=execution.num_threads,
            keep_keypoints=keep_keypoints,
            expected_states=expected_states,
            ar_iters=ar_iters,
            gibbs_iters=gibbs_iters,
            target_duration=target_duration,
        )

    t0 = time.perf_counter()
    prep = Preparation() if prep is None else prep
    prepared = prep.fit_transform(recordings)
    timings["prepare"] = time.perf_counter() - t0
    keep, datas, masks = _long_inputs(prepared, recordings, num_lags)
    usable = _usable_frames(masks, num_lags)
    D = datas[0].shape[1]
    check_model_size(D, num_lags, num_states, usable, prep.kind)  # refuse what cannot be learned
    make = functools.partial(_syllable_model, num_states, D, num_lags, ar_prior)

    search = target_s = None
    if kappa is None:
        seed = resolve_seed(seed)  # every fit of the search starts alike: its chosen fit is the fit
        target_s, target_frames = _target_frames(target_duration, fps)
        fit_kw = dict(
            em=_search_settings(em),
            execution=execution,
            progress=progress,
            posterior=False,
            seed=seed,
        )
        search = _search_kappa(
            make, datas, masks, fit_kw, target_frames, num_states, checkpoint, timings
        )
    kappa_used = float(kappa) if search is None else search.kappa
    fit_kw = dict(em=em, execution=execution, progress=progress, posterior=False, seed=seed)
    model, fit = _fit_at(make, datas, masks, kappa_used, search, fit_kw, checkpoint, timings)

    t0 = time.perf_counter()
    labels, posts, order = _label_by_frequency(
        model, recordings, prepared, expected_states, execution.num_threads, keep
    )
    timings["label"] = time.perf_counter() - t0
    results = Results(
        model=model,
        preparation=prep,
        recordings=_recording_results(recordings, prepared, labels, posts, keep_keypoints),
        config=_fit_config(
            em,
            seed,
            kappa,
            kappa_used,
            ar_prior,
            search,
            target_s,
            expected_states,
            fps,
            recordings,
            num_states,
            num_lags,
        ),
        fit=_fit_info(fit, em, usable, D, num_lags, timings["fit"], order),
        versions=library_versions(),
        created=now_iso(),
    )
    from .analysis.diagnostics import warn_fit_quality

    warn_fit_quality(results, stacklevel=2)  # EM not converged, syllables too short, flicker pairs
    return results


def apply_model(
    results_or_path,
    recordings,
    expected_states: bool = False,
    keep_keypoints: bool = True,
    num_threads: int | None = None,
) -> Results:
    """Label new recordings with a fitted model and its preparation, without refitting.

    Parameters
    ----------
    results_or_path : Results or str or Path
        The fit (in memory, or a results file written by :func:`ethogram.results.write_results`).
    recordings : Recording or list of Recording
    expected_states : bool, default False
        Also keep the posterior state probabilities.
    keep_keypoints : bool, default True
    num_threads : int, optional

    Returns
    -------
    Results
        The same model and preparation; ``config["command"] == "apply"`` and
        ``config["model_file"]`` names the file when one was given. Applied to the training
        recordings it reproduces the fit's labels. A recording without a frame rate (no fps,
        no timestamps) is labelled at the model's rate (the rate of its training recordings),
        said in one :class:`ethogram.io.rates.FrameRateWarning`.

    Warns
    -----
    ethogram.io.rates.FrameRateWarning
        When recordings run at another frame rate than the model's training recordings (more
        than 1% apart): the model's stickiness and dynamics are per frame; and when a
        recording takes the model's rate.

    Raises
    ------
    ValueError
        When the recordings do not match the preparation (e.g. other body parts), or lack a
        frame rate and the model knows none either.

    Warns
    -----
    FitQualityWarning
        As :func:`fit_recordings`, for these labels: syllables too short or flickering (the
        advice is then for a refit). EM's convergence was the fit's to warn about.
    FrameRateWarning
        Recordings at another frame rate than the model's, or a model's rate taken for
        recordings without one.
    """
    if isinstance(results_or_path, (str, Path)):
        fitted = load_results(results_or_path, recordings=False)
        model_file = str(results_or_path)
    elif isinstance(results_or_path, Results):
        fitted, model_file = results_or_path, results_or_path.path
    else:
        raise TypeError(
            f"results_or_path must be Results or a path, got {type(results_or_path).__name__}"
        )
    trained_at = model_frame_rate(fitted)
    recordings = fill_model_rate(recordings, trained_at, model_file or "the model")
    recordings = _check_recordings(recordings)
    warn_other_frame_rate(recordings, trained_at, model_file or "the model")
    if fitted.config.get("method", "em") != "em":  # a Gibbs model: ethogram.pipeline_gibbs
        from .pipeline_gibbs import applied_results

        return applied_results(
            fitted,
            recordings,
            model_file,
            expected_states,
            keep_keypoints=keep_keypoints,
            num_threads=num_threads,
        )
    prepared = fitted.preparation.transform(recordings)
    keep = _long_enough(fitted.model, prepared, recordings, "its frames get the syllable -1")
    labels, posts = _label(fitted.model, prepared, expected_states, num_threads, keep)
    config = dict(fitted.config)
    config.update(
        command="apply",
        model_file=model_file,
        fitted_on=fitted.config.get("recordings"),
        recordings=[{"name": r.name, "source": r.source, "format": r.format} for r in recordings],
        expected_states=bool(expected_states),
    )
    results = Results(
        model=fitted.model,
        preparation=fitted.preparation,
        recordings=_recording_results(recordings, prepared, labels, posts, keep_keypoints),
        config=config,
        fit=dict(fitted.fit),
        versions=library_versions(),
        created=now_iso(),
    )
    from .analysis.diagnostics import warn_fit_quality

    warn_fit_quality(results, stacklevel=2)  # on these labels (the training fit warned about EM)
    return results
