"""``ethogram fit``: read recordings, prepare them, fit a sticky AR-HMM, write results and CSVs.
Its options are declared in :mod:`._fit_options`, its checkpoints and cluster set up in
:mod:`._fit_checkpoints`.
"""

from __future__ import annotations

import shutil
import sys
import time

import numpy as np

from ._arguments import add_input_arguments, add_output_arguments
from ._common import (
    check_output,
    held_warnings,
    missing_folders,
    print_summary,
    read_inputs,
    remove_if_empty,
    results_path,
    show_warnings,
    write,
)
from ._fit_checkpoints import check_checkpoint, checkpoint_path, scale_options
from ._fit_options import (
    add_model_arguments,
    add_preparation_arguments,
    add_scale_arguments,
    check_method_options,
    make_preparation,
)

__all__ = [
    "add_model_arguments",
    "add_parser",
    "add_preparation_arguments",
    "checkpoint_path",
    "fit_and_write",
    "make_preparation",
    "run",
]


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
        _say_kappa_search(results, args.quiet)
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
    from ..pipeline.methods import sweeps_text

    sweeps = sweeps_text(results.config, results.fit)
    if sweeps is not None:
        print(
            f"{results.config['method']}: {sweeps}, final log joint "
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
    from ..pipeline import fit_recordings

    target = getattr(args, "target_duration", None)
    if target is not None and args.kappa is not None:
        raise ValueError("give either --kappa or --target-duration, not both")
    if target is not None and not target > 0:
        raise ValueError(
            f"--target-duration must be a positive number of seconds, e.g. 0.4, got {target}"
        )
    opts = scale_options(args, path)
    # EM's options as typed (None: FIT_EM's), so that a Gibbs method gets none it did not ask for
    em = dict(
        num_iters=args.iters,
        num_restarts=args.restarts,
        reseed_dead=True if getattr(args, "reseed_dead", False) else None,
    )
    results = fit_recordings(
        recordings,
        num_states=args.states,
        num_lags=args.lags,
        kappa=args.kappa,
        prep=prep,
        seed=args.seed,
        progress=not args.quiet,
        expected_states=args.expected_states,
        timings=timings,
        prior_ridge=getattr(args, "prior_ridge", None),
        target_duration=target,
        **opts,
        **em,
        method=getattr(args, "method", "em"),
        ar_iters=getattr(args, "ar_iters", None),
        gibbs_iters=getattr(args, "gibbs_iters", None),
    )
    return results, opts


def _say_kappa_search(results, quiet: bool) -> None:
    """One line on stdout on a kappa search that met its target (not under --quiet); one that
    missed it is a fit-quality warning (``kappa_target_missed``, said after the summary under
    --quiet too, and in the report), unless the one on too-short syllables already says so."""
    message = results.config.get("kappa_search_message")
    if message is None or not bool(results.config.get("kappa_search_reached", True)):
        return
    if not quiet:
        print(f"kappa search: {message}")


def run(args) -> int:
    """Run ``ethogram fit``."""
    path = results_path(args.output)
    check_output(path, args.overwrite)
    check_method_options(args)  # before reading: an option of another method is refused
    check_checkpoint(args, path)  # before reading: a refused run changes nothing
    timings = {}
    recordings = read_inputs(args, timings)
    return fit_and_write(args, recordings, path, sys.stdout, timings)
