"""The options of ``ethogram fit``, declared and read: the model's (states, iterations, kappa,
method and its sweeps), the preparation's (shared with ``select`` and ``demo``) and those of large
runs (scheduler, checkpoints, resume). Each ``add_*`` function adds one argument group to a
parser; :func:`make_preparation` and :func:`check_method_options` read what was given.
"""

from __future__ import annotations

import numpy as np

from ._common import names_list
from ._errors import counting


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


def add_model_arguments(p, num_states: int, num_iters: int) -> None:
    """The fit and preparation options (shared with ``demo``)."""
    from ..gibbs_kappa import SEARCH_ITERS
    from ..pipeline.methods import METHODS

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
        f"(gibbs-arhmm, keypoint-slds: searched with short Gibbs runs of at most {SEARCH_ITERS} "
        f"sweeps per stage, fewer when --gibbs-iters or --ar-iters is fewer)",
    )
    g.add_argument(
        "--target-duration",
        type=float,
        default=None,
        metavar="S",
        help="median syllable duration in seconds that the default kappa reaches "
        "(default 0.4, MoSeq's)",
    )
    # EM's options default to None, so that one given with a Gibbs method is told from its
    # default and refused (check_method_options)
    g.add_argument(
        "--iters",
        type=counting(0),
        default=None,
        metavar="N",
        help=f"maximum EM iterations (default {num_iters})",
    )
    g.add_argument(
        "--restarts",
        type=counting(1),
        default=None,
        metavar="R",
        help="EM's independent starts, best kept (default 1)",
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
        help="EM's ridge on the AR weights, in pseudo-frames of the standardized inputs "
        "(default 1); raise it (e.g. 10) when raising kappa does not lengthen the syllables",
    )
    g.add_argument(
        "--method",
        choices=METHODS,
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


#: the options of one method only (as ``args`` attributes), by their library argument's name;
#: each is None (store_true: False) unless typed
_METHOD_OPTIONS = {
    "num_iters": "iters",
    "num_restarts": "restarts",
    "prior_ridge": "prior_ridge",
    "reseed_dead": "reseed_dead",
    "ar_iters": "ar_iters",
    "gibbs_iters": "gibbs_iters",
    "num_pcs": "pcs",
    "variance": "variance",
}


def method_options_given(args) -> list:
    """The library names of the options of one method only that were typed (defaults left
    out): what :func:`ethogram.pipeline.methods.check_method_arguments` checks."""
    values = {name: getattr(args, attr, None) for name, attr in _METHOD_OPTIONS.items()}
    return [name for name, v in values.items() if v is not None and v is not False]


def check_method_options(args) -> None:
    """Refuse an option typed with a ``--method`` that does not use it (EM's iterations,
    restarts, ridge and re-seeding with a Gibbs method, the Gibbs sweeps with EM, ``--pcs`` and
    ``--variance`` with the keypoint SLDS): one line naming it and what to use instead
    (:func:`ethogram.pipeline.methods.check_method_arguments`)."""
    from ..pipeline.methods import check_method_arguments

    check_method_arguments(getattr(args, "method", "em"), method_options_given(args))


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
