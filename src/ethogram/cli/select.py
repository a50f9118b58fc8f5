"""``ethogram select``: choose the number of syllables (and optionally kappa) from the data.

Reads and prepares recordings as ``ethogram fit`` does, cross-validates an ARHMM (or another
observation model) over a list of K with restarts, each K at ``ethogram fit``'s default kappa
(the smallest whose fit on the training frames gives a median syllable of at least 90% of
``--target-duration``, 0.4 s; ``cross_validate(kappa="auto")``) unless ``--kappa`` is given,
and writes under ``DIR/selection/``:
``selection.csv`` (one row per K, fold and restart: ``num_states``, ``heldout_ll_per_frame``,
``train_ll_per_frame``, ``aic``, ``bic``, ...), ``selection_summary.csv`` (per K) and
``heldout_ll.png``; with ``--target-duration`` also the kappa search at the chosen K
(``kappa_search.csv``, ``kappa_search.png``) and the syllable against model-free changepoint
durations (``durations.png``); with ``--stability N`` the agreement of N fits
(``stability.csv``, ``stability_agreement.csv``, ``stability.png``); with either, the
dendrogram of the chosen model's syllables (``dendrogram.png``). The folder is written
under a temporary name and renamed, so a failed run leaves nothing half-written.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np

DEFAULT_STATES = "5,10,15,20,30,40,60"


def _int_list(text: str) -> list:
    try:
        out = [int(v) for v in str(text).split(",") if v.strip()]
    except ValueError:
        raise ValueError(
            f"--states must be comma-separated integers like 5,10,20, got {text!r}"
        ) from None
    if not out or min(out) < 1:
        raise ValueError(f"--states must list positive integers, got {text!r}")
    return sorted(set(out))


def add_parser(subparsers, parents) -> None:
    """Register ``select``."""
    from ._arguments import add_input_arguments, add_out_argument
    from ._fit_options import add_preparation_arguments

    p = subparsers.add_parser(
        "select",
        parents=parents,
        help="choose the number of syllables (and kappa) by cross-validation",
        description=(
            "Cross-validate over the number of syllables K (held-out log-likelihood per frame, "
            "restarts, AIC/BIC), optionally search kappa for a target median duration and "
            "measure stability across seeds. Writes DIR/selection/ (-o DIR)."
        ),
    )
    add_input_arguments(p)
    add_out_argument(
        p, "where to write: a folder (gets DIR/selection/)", dest="output", required=True
    )
    p.add_argument("--overwrite", action="store_true", help="replace an existing DIR/selection/")
    g = p.add_argument_group("selection")
    g.add_argument(
        "--model",
        default="arhmm",
        choices=("arhmm", "robust_arhmm", "gaussian"),
        help="observation model (default arhmm)",
    )
    g.add_argument(
        "--states",
        default=DEFAULT_STATES,
        metavar="K,K,...",
        help=f"numbers of syllables to compare (default {DEFAULT_STATES})",
    )
    g.add_argument(
        "--restarts",
        type=int,
        default=3,
        metavar="R",
        help="fits per K and fold from different seeds (default 3)",
    )
    g.add_argument(
        "--split",
        choices=("time", "recordings"),
        default="time",
        help="hold out the end of every recording, or whole recordings (default time)",
    )
    g.add_argument(
        "--heldout",
        type=float,
        default=0.2,
        metavar="FRAC",
        help="fraction held out per fold (default 0.2)",
    )
    g.add_argument("--folds", type=int, default=1, metavar="F", help="folds (default 1)")
    g.add_argument(
        "--lags", type=int, default=3, metavar="L", help="autoregressive lags (default 3)"
    )
    g.add_argument(
        "--kappa",
        type=float,
        default=None,
        metavar="X",
        help="stickiness (default: as 'ethogram fit', per K the smallest kappa whose fit "
        "gives a median syllable of at least --target-duration)",
    )
    g.add_argument(
        "--prior-ridge",
        type=float,
        default=None,
        metavar="R",
        help="ridge on the AR weights in pseudo-frames of the standardized inputs (default 1, as "
        "'ethogram fit')",
    )
    g.add_argument(
        "--prune",
        type=float,
        default=None,
        metavar="USAGE",
        help="after each fit, drop states used for at most this fraction of frames and refit "
        "(e.g. 0.005)",
    )
    g.add_argument(
        "--target-duration",
        type=float,
        default=None,
        metavar="S",
        help="median syllable duration (seconds) of the default kappa (default 0.4); "
        "given, also search the kappa closest to it at the chosen K and plot the search",
    )
    g.add_argument(
        "--stability",
        type=int,
        default=0,
        metavar="N",
        help="also fit the chosen K N times and measure agreement",
    )
    g.add_argument(
        "--iters",
        type=int,
        default=100,
        metavar="N",
        help="maximum EM iterations per fit (default 100)",
    )
    g.add_argument("--seed", type=int, default=0, metavar="S", help="random seed (default 0)")
    g.add_argument(
        "--workers", type=int, default=None, metavar="N", help="processes (default: all CPUs)"
    )
    g.add_argument("--quiet", action="store_true", help="no progress bars")
    add_preparation_arguments(p)
    p.set_defaults(run=run)


def _check_args(args) -> list:
    if Path(args.output).suffix.lower() in (".h5", ".hdf5"):  # not a folder named like a file
        raise ValueError(
            f"-o/--out names a folder (select writes DIR/selection/), got {args.output!r}"
        )
    Ks = _int_list(args.states)
    for name, value, low in (
        ("--restarts", args.restarts, 1),
        ("--folds", args.folds, 1),
        ("--lags", args.lags, 1),
        ("--iters", args.iters, 1),
        ("--stability", args.stability, 0),
    ):
        if value < low:
            raise ValueError(f"{name} must be at least {low}, got {value}")
    if not 0 < args.heldout < 1:
        raise ValueError(f"--heldout must be between 0 and 1, got {args.heldout}")
    if args.stability == 1:
        raise ValueError("--stability needs at least 2 fits to compare")
    if args.target_duration is not None and not args.target_duration > 0:
        raise ValueError(
            f"--target-duration must be positive (seconds), got {args.target_duration}"
        )
    if args.prune is not None and not 0 <= args.prune < 1:
        raise ValueError(f"--prune must be a fraction in [0, 1), got {args.prune}")
    if args.kappa is not None and not args.kappa >= 0:
        raise ValueError(f"--kappa must be >= 0, got {args.kappa}")
    if args.prior_ridge is not None and not (
        np.isfinite(args.prior_ridge) and args.prior_ridge >= 0
    ):
        raise ValueError(
            "--prior-ridge must be a number >= 0 (pseudo-frames, e.g. 1 or 10), got "
            f"{args.prior_ridge}"
        )
    return Ks


def _kappa_line(searches: dict, target_s: float, fps: float) -> str:
    """One line: the default kappa of every K (fold 0) and where it missed the target."""
    rows = {K: s for (K, f), s in sorted(searches.items()) if f == 0}
    shown = ", ".join(f"K = {K}: {s['kappa']:.3g}" for K, s in rows.items())
    line = (
        f"kappa (per K, the smallest whose fit gives a median syllable of at least "
        f"{target_s:g} s on the training frames): {shown}"
    )
    missed = [
        f"K = {K} ({s['median_duration'] / fps:.3g} s)" for K, s in rows.items() if not s["reached"]
    ]
    if missed:
        line += (
            f"; not reached at {', '.join(missed)}: there kappa barely acts (fewer --states "
            "or a larger --prior-ridge let it act)"
        )
    return line


def run(args) -> int:
    """Run ``ethogram select``: prepare, cross-validate K, then the optional steps at the chosen K.

    The folder is built under a temporary name and renamed into place only when every step
    succeeded; the steps each write their files into it and return the lines they say.
    """
    Ks = _check_args(args)
    final = Path(args.output).expanduser() / "selection"
    if final.exists() and not args.overwrite:
        raise FileExistsError(f"{str(final)!r} exists; pass --overwrite to replace it")
    from ._common import check_writable

    check_writable(final.parent)  # before the fits: a read-only folder is found now, not after them
    inputs = _prepared_inputs(args, Ks)
    common = _fit_settings(args)
    tmp = final.parent / f"{final.name}.tmp-{__import__('os').getpid()}"
    tmp.mkdir(parents=True, exist_ok=False)
    try:
        cv, lines = _cross_validation(args, Ks, inputs, common, tmp)
        chosen = cv.one_se_num_states
        kappa = cv.kappa_searches[(chosen, 0)]["kappa"] if cv.kappa_searches else _kappa(args)
        fitted = None
        if args.target_duration is not None:
            fitted, kappa, line = _kappa_search(args, chosen, inputs, common, tmp)
            lines.append(line)
        if args.stability:
            fitted, line = _stability(args, chosen, kappa, inputs, common, tmp)
            lines.append(line)
        quality = [] if fitted is None else _chosen_model(args, fitted, chosen, kappa, inputs, tmp)
        if final.exists():
            shutil.rmtree(final)
        tmp.rename(final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    from ._next_step import next_fit

    _say(lines + [f"wrote {final}", next_fit(args, chosen)], quality)
    return 0


def _kappa(args):
    """The kappa of the cross-validation's fits: the one given, else each K's own search."""
    return args.kappa if args.kappa is not None else "auto"


def _prepared_inputs(args, Ks) -> dict:
    """Read and prepare the recordings as ``ethogram fit`` does, and refuse a model too large.

    Returns a dict with ``recordings``, ``prepared``, ``sequences`` and ``masks`` (lists, one
    per recording), ``fps`` (the one frame rate, refused when they differ) and ``usable``
    (frames the model scores).
    """
    from ..io.rates import common_frame_rate
    from ..prep import model_inputs
    from ..prep.model_size import check_model_size
    from ._common import read_inputs
    from ._fit_options import make_preparation

    recordings = read_inputs(args)
    fps = common_frame_rate(recordings)  # the fit's rule: one rate, refused when they differ
    prep = make_preparation(args)
    prepared = prep.fit_transform(recordings)
    sequences, masks, _ = model_inputs(prepared)
    usable = int(sum(m.sum() for m in masks))
    lags = args.lags if args.model != "gaussian" else 0
    check_model_size(sequences[0].shape[1], lags, max(Ks), usable, prep.kind)
    return dict(
        recordings=recordings,
        prepared=prepared,
        sequences=sequences,
        masks=masks,
        fps=fps,
        usable=usable,
    )


def _fit_settings(args) -> dict:
    """The keywords every fit of ``select`` shares: the fit's AR prior (``pipeline.SYLLABLE_PRIOR``,
    so that the K and kappa chosen here are the fit's), EM and execution settings, seed."""
    from ..fitting import EMSettings, ExecutionSettings
    from ..pipeline import SYLLABLE_PRIOR

    obs_kw = {"num_lags": args.lags, **SYLLABLE_PRIOR} if args.model != "gaussian" else {}
    if args.prior_ridge is not None and obs_kw:
        obs_kw["prior_ridge"] = args.prior_ridge
    return dict(
        model=args.model,
        observation_kwargs=obs_kw,
        em=EMSettings(num_iters=args.iters),
        execution=ExecutionSettings(num_workers=args.workers),
        seed=args.seed,
        progress=not args.quiet,
    )


def _cross_validation(args, Ks, inputs, common, tmp):
    """Cross-validate the Ks; write ``selection.csv``, its summary and ``heldout_ll.png``.

    Returns the :class:`~ethogram.selection.CrossValidation` and the lines to say.
    """
    from ..pipeline import TARGET_DURATION_S
    from ..selection import cross_validate
    from ..selection.plots import plot_cross_validation

    fps = inputs["fps"]
    cv = cross_validate(
        inputs["sequences"],
        Ks,
        kappa=_kappa(args),
        num_restarts=args.restarts,
        split=args.split,
        heldout_fraction=args.heldout,
        num_folds=args.folds,
        prune_usage=args.prune,
        fps=fps,
        target_duration=args.target_duration,
        **common,
    )
    cv.table.to_csv(tmp / "selection.csv", index=False)
    cv.summary.to_csv(tmp / "selection_summary.csv", index=False)
    plot_cross_validation(cv, tmp / "heldout_ll.png")
    chosen = cv.one_se_num_states
    summary = cv.summary.set_index("num_states")
    lines = [
        f"{len(inputs['recordings'])} recordings, {inputs['usable']} usable frames at {fps:g} "
        f"fps; {args.model}, {len(cv.table)} fits",
        f"best K = {cv.best_num_states} (held-out "
        f"{summary.loc[cv.best_num_states, 'mean']:.4f} nats/frame); smallest K within one "
        f"standard error: {chosen} ({summary.loc[chosen, 'states_used']:.3g} states used on "
        "average)",
    ]
    if len(Ks) > 1 and cv.best_num_states in (min(Ks), max(Ks)):  # the optimum may lie outside
        side = "largest" if cv.best_num_states == max(Ks) else "smallest"
        other = "larger" if side == "largest" else "smaller"
        lines.append(
            f"note: the best K is the {side} one tried; held-out fit may improve further: "
            f"try {other} values of --states"
        )
    if cv.kappa_searches:
        target_s = args.target_duration or TARGET_DURATION_S
        lines.append(_kappa_line(cv.kappa_searches, target_s, fps))
    return cv, lines


def _kappa_search(args, chosen, inputs, common, tmp):
    """The kappa search at the chosen K (``--target-duration``); writes ``kappa_search.csv``,
    ``kappa_search.png`` and ``durations.png`` (against model-free changepoint blocks).

    Returns the fitted model at the kappa found, that kappa and the line to say.
    """
    from ..selection import changepoint_durations, find_kappa, run_lengths
    from ..selection._common import viterbi_labels
    from ..selection.plots import plot_durations, plot_kappa_search

    sequences, fps = inputs["sequences"], inputs["fps"]
    search = find_kappa(sequences, chosen, target_duration=args.target_duration, fps=fps, **common)
    search.curve.to_csv(tmp / "kappa_search.csv", index=False)
    cps = changepoint_durations(sequences)
    plot_kappa_search(search, tmp / "kappa_search.png", changepoint_durations=cps, fps=fps)
    model = search.model()
    labels = viterbi_labels(model, sequences, inputs["masks"])
    plot_durations(run_lengths(labels), cps, tmp / "durations.png", fps=fps)
    line = (
        f"kappa search at K = {chosen}: {_in_flags(search.message)}; model-free changepoint "
        "blocks: "
        f"median {np.median(cps) / fps if len(cps) else float('nan'):.3g} s"
    )
    return model, search.kappa, line


def _stability(args, chosen, kappa, inputs, common, tmp):
    """``--stability N`` fits at the chosen K and kappa; writes ``stability.csv``,
    ``stability_agreement.csv`` and ``stability.png``. Returns the chosen fit and the line."""
    import pandas as pd

    from ..selection import stability
    from ..selection.plots import plot_stability

    st = stability(inputs["sequences"], chosen, kappa=kappa, num_fits=args.stability, **common)
    st.per_syllable.to_csv(tmp / "stability.csv", index=False)
    pd.DataFrame(st.agreement).to_csv(tmp / "stability_agreement.csv", index_label="fit")
    plot_stability(st, tmp / "stability.png")
    line = (
        f"stability at K = {chosen}: mean matched agreement {st.mean_agreement:.3f} over "
        f"{args.stability} fits"
    )
    return st.model(), line


def _chosen_model(args, fitted, chosen, kappa, inputs, tmp) -> list:
    """The chosen model's syllables by their dynamics (and mean egocentric pose) in
    ``dendrogram.png``; returns the warnings about its fit quality."""
    from ..selection import mean_poses, syllable_distances, syllable_linkage
    from ..selection._common import viterbi_labels
    from ..selection.plots import plot_dendrogram

    prepared = inputs["prepared"]
    labels = viterbi_labels(fitted, inputs["sequences"], inputs["masks"])
    poses = None
    if all(p.aligned is not None for p in prepared):
        poses = mean_poses(labels, [np.asarray(p.aligned) for p in prepared], chosen)
    plot_dendrogram(
        syllable_linkage(syllable_distances(fitted, mean_poses=poses)), tmp / "dendrogram.png"
    )
    return _chosen_model_warnings(labels, inputs["fps"], chosen, args.target_duration, kappa)


def _say(lines, quality) -> None:
    """The outcome on stdout, then the chosen model's warnings on stderr (under --quiet too, as
    'ethogram fit')."""
    from ._common import warning_line

    for line in lines:
        print(line, file=sys.stdout)
    sys.stdout.flush()
    for w in quality:
        print(warning_line(w), file=sys.stderr)


def _chosen_model_warnings(labels, fps: float, num_states: int, target_duration, kappa) -> list:
    """The label checks of :mod:`ethogram.analysis.diagnostics` (syllables too short, flicker
    pairs) on the model select hands back (kappa search or stability), saying which model.

    Its convergence is not checked: the search and stability fits do not keep it, and
    'ethogram fit' at the chosen K and kappa checks it."""
    from ..analysis.diagnostics import FitQualityWarning, label_warnings

    found = label_warnings(
        labels,
        [fps] * len(labels),
        num_states=num_states,
        target_duration=target_duration,
        kappa=kappa,
    )
    return [
        FitQualityWarning(
            w.kind, f"the chosen model (K = {num_states}): " + w.template, w.arguments
        )
        for w in found
    ]


def _in_flags(message: str) -> str:
    """A kappa search's message with its remedy (:data:`ethogram.stickiness.REMEDY`, in Python's
    words) said in ``ethogram select``'s options."""
    from ..errors import ArgumentWarning
    from ..stickiness import REMEDY, REMEDY_TEMPLATE
    from ._errors import command_words

    return message.replace(REMEDY, command_words(ArgumentWarning(*REMEDY_TEMPLATE), "select"))
