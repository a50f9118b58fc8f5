"""The fit: recordings in, a sticky AR-HMM fitted by EM and every frame labelled.

This room is :func:`fit_recordings` and its defaults (:data:`DEFAULT_NUM_STATES`,
:data:`DEFAULT_NUM_ITERS`, :data:`FIT_EM`, :data:`SYLLABLE_PRIOR`): it checks the model's
arguments, fits the preparation, builds the syllable model, finds the default kappa
(:mod:`ethogram.pipeline.kappa_search`) or fits at the kappa given, labels and renumbers by
frequency (:mod:`ethogram.pipeline.labels`), and records the configuration and EM's history in
the :class:`ethogram.results.Results` it returns; ``method="gibbs-arhmm"`` and
``"keypoint-slds"`` go to :mod:`ethogram.pipeline_gibbs`.
"""

from __future__ import annotations

import functools
import time

import numpy as np

from ..errors import ArgumentError
from ..fitting.settings import (
    EMSettings,
    ExecutionSettings,
    settings_from_options,
)
from ..io.rates import (
    common_frame_rate,
)
from ..results import (
    Results,
    library_versions,
    now_iso,
)
from .kappa_search import fit_at_kappa, kappa_target, search_kappa, search_settings
from .labels import (
    check_recordings,
    label_by_frequency,
    long_inputs,
    recording_results,
    usable_frames,
)
from .methods import check_method_arguments

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


def _check_model_arguments(num_states, num_lags, kappa, target_duration) -> None:
    if isinstance(num_states, bool) or int(num_states) != num_states or num_states < 1:
        raise ValueError(f"num_states must be a positive integer, got {num_states!r}")
    if isinstance(num_lags, bool) or int(num_lags) != num_lags or num_lags < 1:
        raise ValueError(f"num_lags must be a positive integer, got {num_lags!r}")
    if kappa is not None:
        try:
            ok = np.isfinite(float(kappa)) and float(kappa) >= 0
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise ValueError(
                f"kappa must be a non-negative number, or 'auto' (None) for the search; "
                f"got {kappa!r}"
            )
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


def _syllable_model(num_states: int, data_dim: int, num_lags: int, ar_prior: dict, kappa):
    """An unfitted sticky AR-HMM of the pipeline at stickiness ``kappa``."""
    from ..models import HMM

    obs = dict(data_dim=data_dim, num_lags=num_lags, **ar_prior)
    return HMM(num_states, "autoregressive", obs, kappa=kappa)


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


def _fit_model(
    make, sequences, masks, kappa, target_duration, fps, num_states, em, run, checkpoint, timings
):
    """The fitted model at ``kappa``, or at the default kappa found first by a search
    (:mod:`ethogram.pipeline.kappa_search`): ``(model, fit, search, target seconds)``, the last
    two None without a search. ``run`` holds the fits' other arguments (execution, progress,
    posterior, seed); a search resolves its seed there, so that its chosen fit is the fit."""
    from ..fitting.checkpoint import resolve_seed

    search = target_s = None
    if kappa is None:
        run["seed"] = resolve_seed(run["seed"])  # every fit of the search starts alike
        target_s, target_frames = kappa_target(target_duration, fps)
        fit_kw = dict(em=search_settings(em), **run)
        search = search_kappa(
            make, sequences, masks, fit_kw, target_frames, num_states, checkpoint, timings
        )
    kappa_used = float(kappa) if search is None else search.kappa
    fit_kw = dict(em=em, **run)
    model, fit = fit_at_kappa(
        make, sequences, masks, kappa_used, search, fit_kw, checkpoint, timings
    )
    return model, fit, search, target_s


def _default_variance() -> float:
    """``Preparation``'s default ``variance`` (read from its signature, not repeated here)."""
    import inspect

    from ..prep import Preparation

    return inspect.signature(Preparation).parameters["variance"].default


def _arguments_given(em, options, prior_ridge, prep, ar_iters, gibbs_iters) -> list:
    """The names of the method-specific arguments of :func:`fit_recordings` that were set
    (:func:`ethogram.pipeline.methods.check_method_arguments`): not None (``reseed_dead``: true),
    and the preparation's ``num_pcs`` and ``variance`` when not its defaults."""
    given = [n for n in ("num_iters", "num_restarts", "tol") if options.get(n) is not None]
    given += ["reseed_dead"] if options.get("reseed_dead") else []
    named = {"em": em, "prior_ridge": prior_ridge, "ar_iters": ar_iters, "gibbs_iters": gibbs_iters}
    given += [n for n, v in named.items() if v is not None]
    if prep is not None and prep.num_pcs is not None:
        given.append("num_pcs")
    if prep is not None and prep.variance != _default_variance():
        given.append("variance")
    return given


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
    kappa: float | str | None = None,
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
    kappa : float, "auto" or None
        Stickiness: extra pseudo-counts on every self-transition (a Dirichlet pseudo-count, as
        MoSeq's kappa). None (or ``"auto"``, as :func:`ethogram.selection.cross_validate` and
        the command line say it): the smallest kappa whose fit gives a median syllable (Viterbi
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
        tqdm progress bar over EM iterations (None: only on an interactive terminal;
        True: also in a log file, as a line every 30 s).
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
        ``num_lags``, ``kappa`` (None: searched as here, with short Gibbs runs), ``seed``,
        ``prep`` (body parts, heading), ``expected_states``, ``keep_keypoints``,
        ``execution``, ``checkpoint``, ``progress``, ``target_duration``.
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
    ethogram.errors.ArgumentError
        An argument of another method than ``method``: EM's (``em``, ``num_iters``,
        ``num_restarts``, ``tol``, ``reseed_dead``, ``prior_ridge``) with a Gibbs method,
        ``gibbs_iters`` with ``"em"``, ``ar_iters`` without ``"keypoint-slds"``, or a ``prep``
        with ``num_pcs`` or ``variance`` set with ``"keypoint-slds"``
        (:func:`ethogram.pipeline.methods.check_method_arguments`).

    Warns
    -----
    FitQualityWarning
        One line each when EM did not converge in ``num_iters`` iterations, when the median
        syllable is shorter than a third of the target duration, when two frequent syllables
        flicker, when one syllable holds most frames, or when the kappa search missed its
        target (:func:`ethogram.analysis.diagnostics.fit_quality_warnings` defines each); the
        message names the arguments to change, also kept as the warning's ``arguments``.
    """
    from ..prep import Preparation
    from ..prep.model_size import check_model_size

    given = _arguments_given(em, options, prior_ridge, prep, ar_iters, gibbs_iters)
    check_method_arguments(method, given)  # an argument of another method is refused
    recordings = check_recordings(recordings)
    fps = common_frame_rate(recordings)  # one rate: recordings at different rates are refused
    if isinstance(kappa, str) and kappa == "auto":  # cross_validate's and the CLI's word
        kappa = None
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
        from ..analysis.diagnostics import warn_fit_quality
        from ..pipeline_gibbs import fit_recordings_gibbs
        from ..prep import Preparation

        results = fit_recordings_gibbs(
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
            execution=execution,
            checkpoint=checkpoint,
            keep_keypoints=keep_keypoints,
            expected_states=expected_states,
            ar_iters=ar_iters,
            gibbs_iters=gibbs_iters,
            target_duration=target_duration,
        )
        warn_fit_quality(results, stacklevel=2)  # syllables too short, flicker, one syllable
        return results

    t0 = time.perf_counter()
    prep = Preparation() if prep is None else prep
    prepared = prep.fit_transform(recordings)
    timings["prepare"] = time.perf_counter() - t0
    keep, sequences, masks = long_inputs(prepared, recordings, num_lags)
    usable = usable_frames(masks, num_lags)
    D = sequences[0].shape[1]
    check_model_size(D, num_lags, num_states, usable, prep.kind)  # refuse what cannot be learned
    make = functools.partial(_syllable_model, num_states, D, num_lags, ar_prior)

    run = dict(execution=execution, progress=progress, posterior=False, seed=seed)
    model, fit, search, target_s = _fit_model(
        make,
        sequences,
        masks,
        kappa,
        target_duration,
        fps,
        num_states,
        em,
        run,
        checkpoint,
        timings,
    )
    seed = run["seed"]  # resolved when a kappa search ran
    kappa_used = float(kappa) if search is None else search.kappa

    t0 = time.perf_counter()
    labels, posts, order = label_by_frequency(
        model, recordings, prepared, expected_states, execution.num_threads, keep
    )
    timings["label"] = time.perf_counter() - t0
    results = Results(
        model=model,
        preparation=prep,
        recordings=recording_results(recordings, prepared, labels, posts, keep_keypoints),
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
    from ..analysis.diagnostics import warn_fit_quality

    warn_fit_quality(results, stacklevel=2)  # EM not converged, syllables too short, flicker pairs
    return results
