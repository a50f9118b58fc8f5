"""``ethogram fit``: read recordings, prepare them, fit a sticky AR-HMM, write results and CSVs."""

from __future__ import annotations

import dataclasses
import shutil
import sys
import time

import numpy as np

from ._common import (
    add_input_arguments,
    add_output_arguments,
    check_output,
    held_warnings,
    missing_folders,
    names_list,
    print_summary,
    read_inputs,
    remove_if_empty,
    results_path,
    show_warnings,
    write,
)
from ._errors import counting


def add_parser(subparsers, parents) -> None:
    """Register ``fit``."""
    from ..pipeline import DEFAULT_NUM_ITERS, DEFAULT_NUM_STATES

    p = subparsers.add_parser(
        "fit",
        parents=parents,
        help="fit syllables to recordings",
        description="Fit one sticky autoregressive HMM jointly on all recordings and label every "
        "frame.",
    )
    add_input_arguments(p)
    add_output_arguments(p)
    add_model_arguments(p, DEFAULT_NUM_STATES, DEFAULT_NUM_ITERS)
    add_scale_arguments(p)
    p.set_defaults(run=run)


def add_scale_arguments(p) -> None:
    """``--scheduler``, ``--checkpoint-every``, ``--resume``: where EM runs, how it survives a
    stop."""
    g = p.add_argument_group("large runs (clusters, checkpoints)")
    g.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="run the fit's per-recording steps (EM's E-steps, the Gibbs methods' local "
        "sweeps) on the Dask cluster of this scheduler, e.g. tcp://host:8786 (pip install "
        "'ethogram[dask]'); the same result as a local fit",
    )
    g.add_argument(
        "--checkpoint-every",
        type=int,
        default=10,
        metavar="N",
        help="save the fit's state beside the results every N EM iterations or Gibbs sweeps "
        "(default 10; 0: never)",
    )
    g.add_argument(
        "--resume",
        action="store_true",
        help="continue an interrupted fit from its checkpoint (same result as an "
        "uninterrupted fit); without it a checkpoint found is refused unless "
        "--overwrite starts over",
    )


def checkpoint_path(path):
    """The checkpoint of a fit writing ``path``: ``<stem>.checkpoint.h5`` beside it."""
    return path.with_name(path.stem + ".checkpoint.h5")


def check_checkpoint(args, path) -> None:
    """Refuse to start a fit over the checkpoint of an interrupted one unless ``--resume`` (carry
    it on) or ``--overwrite`` (start over) says what to do with it: a plain re-run would
    silently replace hours of EM."""
    from ..pipeline import kappa_checkpoints

    ck = checkpoint_path(path)
    found = [p for p in (ck, *kappa_checkpoints(ck)) if p.is_file()]  # the kappa search's too
    if (
        getattr(args, "checkpoint_every", 0)
        and found
        and not getattr(args, "resume", False)
        and not getattr(args, "overwrite", False)
    ):
        raise FileExistsError(
            f"{str(found[0])!r} holds the checkpoint of an interrupted fit: pass --resume to carry "
            "it on (same inputs and options), or --overwrite to start over and replace it"
        )


def scale_options(args, path) -> dict:
    """Where EM runs and how it survives a stop, from ``--scheduler``, ``--checkpoint-every``,
    ``--resume``: ``{"execution": ExecutionSettings, "checkpoint": CheckpointSettings}``
    (``checkpoint.path`` None under ``--checkpoint-every 0``)."""
    from ..fitting import CheckpointSettings, ExecutionSettings

    every, resume, scheduler = (
        getattr(args, "checkpoint_every", 0),
        getattr(args, "resume", False),
        getattr(args, "scheduler", None),
    )
    if every < 0:
        raise ValueError(
            "--checkpoint-every must be 0 (no checkpoints) or a positive number of iterations, "
            f"got {every}"
        )
    if resume and every == 0:
        raise ValueError("--resume continues from a checkpoint: drop --checkpoint-every 0")
    check_checkpoint(args, path)
    ck = checkpoint_path(path) if every else None
    args.checkpoint_file = ck  # named by the message of an interrupted fit (ethogram.cli.main)
    if ck is not None:
        ck.parent.mkdir(parents=True, exist_ok=True)
        if resume:
            _say_resuming(ck)
    client = None
    if scheduler:
        from ..fitting.distributed import connect

        client = connect(scheduler)
    return dict(
        execution=ExecutionSettings(client=client),
        checkpoint=CheckpointSettings(ck, every=max(every, 1), resume=bool(resume)),
    )


def _say_resuming(ck) -> None:
    """Say which checkpoint a ``--resume`` continues: the fit's, else its kappa search's."""
    from ..pipeline import resumable_checkpoints

    found = resumable_checkpoints(ck)
    print(
        f"resuming from {', '.join(map(str, found))}"
        if found
        else f"no checkpoint at {ck}: starting from the beginning",
        file=sys.stderr,
    )


def add_model_arguments(p, num_states: int, num_iters: int) -> None:
    """The fit and preparation options (shared with ``demo``)."""
    g = p.add_argument_group("model")
    g.add_argument(
        "--states",
        type=counting(1),
        default=num_states,
        metavar="K",
        help=f"number of syllables (default {num_states})",
    )
    g.add_argument(
        "--lags", type=counting(1), default=3, metavar="L", help="autoregressive lags (default 3)"
    )
    g.add_argument(
        "--kappa",
        type=kappa_value,
        default=None,
        metavar="X",
        help="stickiness, or 'auto' (the default): the smallest kappa whose fit gives a median "
        "syllable of at least --target-duration; 0 when the data's own syllables are that long "
        "(gibbs-arhmm, keypoint-slds: searched with short Gibbs runs)",
    )
    g.add_argument(
        "--target-duration",
        type=float,
        default=None,
        metavar="S",
        help="median syllable duration in seconds that the default kappa reaches "
        "(default 0.4, MoSeq's)",
    )
    g.add_argument(
        "--iters",
        type=counting(0),
        default=num_iters,
        metavar="N",
        help=f"maximum EM iterations (default {num_iters})",
    )
    g.add_argument(
        "--restarts",
        type=counting(1),
        default=1,
        metavar="R",
        help="independent starts, best kept (default 1)",
    )
    g.add_argument("--seed", type=int, default=0, metavar="S", help="random seed (default 0)")
    g.add_argument(
        "--expected-states",
        action="store_true",
        help="also store the state probabilities (T x K per recording)",
    )
    g.add_argument(
        "--prior-ridge",
        type=float,
        default=None,
        metavar="R",
        help="ridge on the AR weights, in pseudo-frames of the standardized inputs (default 1); "
        "raise it (e.g. 10) when raising kappa does not lengthen the syllables",
    )
    g.add_argument(
        "--method",
        choices=("em", "gibbs-arhmm", "keypoint-slds"),
        default="em",
        help="em (default): MAP AR-HMM by EM on the prepared PCs; gibbs-arhmm: MoSeq's sticky "
        "HDP-ARHMM by Gibbs sampling on them; keypoint-slds: keypoint-MoSeq's model on the raw "
        "keypoints (noise per point from the confidences, no frame dropped); see "
        "docs/keypoint_slds.md",
    )
    g.add_argument(
        "--ar-iters",
        type=counting(0),
        default=None,
        metavar="N",
        help="keypoint-slds: AR-only Gibbs sweeps before the full model (default 50)",
    )
    g.add_argument(
        "--gibbs-iters",
        type=counting(1),
        default=None,
        metavar="N",
        help="gibbs-arhmm, keypoint-slds: Gibbs sweeps (of the full model; default 500)",
    )
    g.add_argument(
        "--reseed-dead",
        action="store_true",
        help="give states EM stops using (< 1 expected frame) the frames the model explains "
        "worst, up to 3 times each (ethogram.fitting.reseed)",
    )
    add_preparation_arguments(p).add_argument(
        "--quiet", action="store_true", help="no progress bar"
    )


def kappa_value(text: str):
    """An argparse ``type`` for ``--kappa``: a number >= 0, or ``auto`` (None: searched)."""
    import argparse

    if text.strip().lower() == "auto":
        return None
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a number >= 0 or 'auto', got {text!r}"
        ) from None
    if not (np.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"must be a number >= 0 or 'auto', got {text!r}")
    return value


kappa_value.__name__ = "kappa"


def _check_method_options(args) -> None:
    """Refuse the Gibbs sweeps' options where the method has no such sweeps."""
    method = getattr(args, "method", "em")
    if getattr(args, "ar_iters", None) is not None and method != "keypoint-slds":
        raise ValueError(
            f"--ar-iters sets the AR-only sweeps of --method keypoint-slds, not of --method "
            f"{method}: drop it, or add --method keypoint-slds"
        )
    if getattr(args, "gibbs_iters", None) is not None and method == "em":
        raise ValueError(
            "--gibbs-iters sets the Gibbs sweeps of --method gibbs-arhmm or keypoint-slds; EM's "
            "iterations are --iters"
        )


def add_preparation_arguments(p):
    """The preparation's options (``fit``, ``demo`` and ``select``; :func:`make_preparation`
    reads them); returns their argument group."""
    g = p.add_argument_group("preparation")
    v = g.add_mutually_exclusive_group()
    v.add_argument(
        "--variance",
        type=float,
        default=None,
        metavar="FRAC",
        help="keep PCs explaining this fraction of variance (default 0.9)",
    )
    v.add_argument("--pcs", type=int, default=None, metavar="N", help="keep N principal components")
    g.add_argument(
        "--bodyparts",
        action="append",
        metavar="NAMES",
        help="keep only these body parts (comma-separated)",
    )
    g.add_argument(
        "--anterior",
        action="append",
        metavar="NAMES",
        help="body parts at the front (heading), e.g. nose",
    )
    g.add_argument(
        "--posterior",
        action="append",
        metavar="NAMES",
        help="body parts at the back (heading), e.g. tailbase",
    )
    g.add_argument(
        "--confidence",
        type=float,
        default=0.5,
        metavar="P",
        help="keypoints below this confidence are missing (default 0.5)",
    )
    return g


def make_preparation(args):
    """The :class:`ethogram.prep.Preparation` the options ask for."""
    from ..prep import Preparation

    kwargs = dict(
        confidence_threshold=args.confidence,
        bodyparts=names_list(args.bodyparts),
        anterior=names_list(args.anterior),
        posterior=names_list(args.posterior),
    )
    if args.pcs is not None:
        kwargs.update(num_pcs=args.pcs)
    elif args.variance is not None:
        kwargs.update(variance=args.variance)
    return Preparation(**kwargs)


#: folders that 'ethogram movies|report|compare|stats|export' write beside a results file: derived
#: from
#: it, so they are removed when --overwrite replaces the results
DERIVED_FOLDERS = ("movies", "report", "compare", "stats", "nwb")


def fit_and_write(args, recordings, path, out, timings: dict) -> int:
    """Fit ``recordings`` with the options in ``args``, write to ``path``, print the summary."""
    prep = make_preparation(args)
    created = missing_folders(path)  # the checkpoint may create them before the fit
    try:
        with (
            held_warnings() as caught
        ):  # said after the summary (fit quality: pipeline.FitQualityWarning)
            results, opts = _fit(args, recordings, path, prep, timings)
        _say_kappa_search(results, caught, args.quiet)
    except BaseException:
        remove_if_empty(
            created
        )  # a checkpoint written for --resume stays; an empty folder does not
        raise
    results.config["argv"] = list(getattr(args, "argv", sys.argv[1:]))
    checkpoint = opts["checkpoint"].path
    _write_results(args, path, results, checkpoint, out, timings)
    if checkpoint is not None:  # the results hold the fit now
        from ..pipeline import kappa_checkpoints

        for ck in [checkpoint, *kappa_checkpoints(checkpoint)]:
            ck.unlink(missing_ok=True)
    if opts["execution"].client is not None:
        opts["execution"].client.close()
    timings = {
        k: timings[k]
        for k in ("read", "kappa_search", "prepare", "fit", "label", "write")
        if k in timings
    }
    print_summary(results, path, out, timings)
    if results.config.get("method", "em") != "em":
        print(
            f"{results.config['method']}: {results.fit['sweeps']} Gibbs sweeps, final log joint "
            f"{float(results.fit['log_joint'][-1]):.6g}",
            file=out,
        )
    _say_reseeds(results, getattr(args, "reseed_dead", False), out)
    objectives = np.asarray(results.fit.get("restart_objectives", []), dtype=float)
    if objectives.size > 1:
        kept = int(results.fit["chosen_restart"])
        print(
            f"restarts: final objectives {', '.join(f'{o:.2f}' for o in objectives)}; kept "
            f"restart {kept} (the highest)",
            file=out,
        )
    show_warnings(caught)
    return 0


def _write_results(args, path, results, checkpoint, out, timings: dict) -> None:
    """Write the results to ``path`` (a full disk names the checkpoint that keeps the fit) and
    remove the folders made from the results it replaces."""
    t0 = time.perf_counter()
    stale = (
        [path.parent / d for d in DERIVED_FOLDERS if (path.parent / d).is_dir()]
        if path.is_file()
        else []
    )
    try:
        write(path, results, args.overwrite)
    except (
        OSError
    ) as exc:  # e.g. a full disk: the results are not written, the fit need not be lost
        if checkpoint is None or not checkpoint.is_file():
            raise
        from ._errors import CLIError, os_error_message

        raise CLIError(
            f"{os_error_message(exc)}; the fit is kept in {checkpoint}: once there is room, run "
            "the same command with --resume"
        ) from exc
    timings["write"] = time.perf_counter() - t0
    for folder in stale:  # movies, report, ... of the fit just replaced would show other syllables
        shutil.rmtree(folder, ignore_errors=True)
    if stale:
        print(
            f"removed the previous fit's {', '.join(f.name + '/' for f in stale)} (made from the "
            "replaced results)",
            file=out,
        )


def _say_reseeds(results, asked: bool, out) -> None:
    """One line on ``--reseed-dead``: the re-seeds of dead states, or that none died."""
    reseeds = results.fit.get("reseeds")
    if reseeds is not None and len(reseeds):
        its = {}
        for i, syl, _, _ in reseeds:
            its.setdefault(int(syl), []).append(str(int(i)))
        where = "; ".join(
            f"syllable {syl} at iteration{'s' if len(v) > 1 else ''} {', '.join(v)}"
            for syl, v in its.items()
        )
        print(
            f"--reseed-dead: {len(reseeds)} re-seed{'s' if len(reseeds) > 1 else ''} of dead "
            f"states (syllables numbered as in the results): {where}",
            file=out,
        )
    elif asked:
        print("--reseed-dead: no state died, nothing re-seeded", file=out)


def _fit(args, recordings, path, prep, timings):
    """The fit (the default kappa searched first unless --kappa): (results, scale options)."""
    from ..pipeline import FIT_EM, fit_recordings

    target = getattr(args, "target_duration", None)
    if target is not None and args.kappa is not None:
        raise ValueError("give either --kappa or --target-duration, not both")
    if target is not None and not target > 0:
        raise ValueError(
            f"--target-duration must be a positive number of seconds, e.g. 0.4, got {target}"
        )
    _check_method_options(args)
    opts = scale_options(args, path)
    em = dataclasses.replace(
        FIT_EM,
        num_iters=args.iters,
        num_restarts=args.restarts,
        reseed_dead=bool(getattr(args, "reseed_dead", False)),
    )
    results = fit_recordings(
        recordings,
        num_states=args.states,
        num_lags=args.lags,
        kappa=args.kappa,
        prep=prep,
        em=em,
        seed=args.seed,
        progress=False if args.quiet else None,
        expected_states=args.expected_states,
        timings=timings,
        prior_ridge=getattr(args, "prior_ridge", None),
        target_duration=target,
        **opts,
        method=getattr(args, "method", "em"),
        ar_iters=getattr(args, "ar_iters", None),
        gibbs_iters=getattr(args, "gibbs_iters", None),
    )
    return results, opts


def _say_kappa_search(results, caught, quiet: bool) -> None:
    """One line on the kappa search: on stdout when it met its target (not under --quiet), as
    a warning when it missed it, unless a fit-quality warning already says the syllables are
    too short (the same advice twice would be one line too many)."""
    message = results.config.get("kappa_search_message")
    if message is None:
        return
    reached = bool(results.config.get("kappa_search_reached", True))
    if reached:
        if not quiet:
            print(f"kappa search: {message}")
        return
    said = any(getattr(w.message, "kind", None) == "short_syllables" for w in caught)
    if not said:  # a search that missed its target is not chatter: said under --quiet too
        sys.stdout.flush()
        print(f"ethogram: warning: kappa search: {message}", file=sys.stderr)


def run(args) -> int:
    """Run ``ethogram fit``."""
    path = results_path(args.output)
    check_output(path, args.overwrite)
    check_checkpoint(args, path)  # before reading: a refused run changes nothing
    timings = {}
    recordings = read_inputs(args, timings)
    return fit_and_write(args, recordings, path, sys.stdout, timings)
