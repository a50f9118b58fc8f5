"""The fitting methods of :func:`ethogram.pipeline.fit_recordings` by name: what each one's model
is called (:data:`MODEL_NAMES`, said alike by ``ethogram fit``, ``ethogram info`` and the
report) and which arguments only one of them uses (:func:`check_method_arguments`): EM's
iterations, restarts, tolerance, re-seeding and AR ridge mean nothing to the Gibbs samplers, the
Gibbs sweeps nothing to EM, and the keypoint SLDS chooses its latent pose's dimension itself, so
an argument of another method is refused in one line naming it and the argument to use instead.
"""

from __future__ import annotations

import re

from ..errors import ArgumentError

__all__ = ["METHODS", "MODEL_NAMES", "check_method_arguments", "sweeps_text"]

#: the values of ``method`` (``ethogram fit --method``)
METHODS = ("em", "gibbs-arhmm", "keypoint-slds")
#: what each method's model is called: in ``ethogram info``, the report and docs/keypoint_slds.md
MODEL_NAMES = {
    "em": "sticky AR-HMM, MAP by EM",
    "gibbs-arhmm": "sticky HDP-ARHMM by Gibbs sampling (MoSeq's model)",
    "keypoint-slds": "keypoint SLDS by Gibbs sampling (keypoint-MoSeq's model)",
}

#: EM's arguments, in the order they are checked: what each sets, and the end of the message
_EM_ONLY = {
    "em": ("{em} holds EM's settings", "drop {em}; the sweeps are {gibbs_iters}"),
    "num_iters": ("{num_iters} sets EM's iterations", None),
    "num_restarts": (
        "{num_restarts} sets EM's independent starts (the best kept)",
        "drop {num_restarts} (another {seed} samples another chain)",
    ),
    "tol": (
        "{tol} sets EM's convergence tolerance",
        "drop {tol} (a Gibbs fit runs the sweeps of {gibbs_iters})",
    ),
    "prior_ridge": (
        "{prior_ridge} sets the ridge of EM's AR prior",
        "drop {prior_ridge} (the Gibbs methods use MoSeq's matrix-normal inverse-Wishart prior), "
        "or fit with {method:em}",
    ),
    "reseed_dead": (
        "{reseed_dead} re-seeds the states EM stops using",
        "drop {reseed_dead}, or fit with {method:em}",
    ),
}
#: the preparation's PCA settings, which the keypoint SLDS does not use (its own latent pose)
_PCA_ARGUMENTS = {
    "num_pcs": "{num_pcs} sets the number of principal components",
    "variance": "{variance} sets the share of variance kept by the principal components",
}


def _fields(template: str) -> list:
    """The arguments named in ``template`` (``{name}`` or ``{name:value}``), each once."""
    return list(dict.fromkeys(re.findall(r"\{(\w+)[:}]", template)))


def _gibbs_sweeps(method: str) -> str:
    if method == "keypoint-slds":
        return "use {gibbs_iters} (full-model sweeps) and {ar_iters} (AR-only sweeps)"
    return "use {gibbs_iters} (its sweeps)"


def check_method_arguments(method: str, given) -> None:
    """Refuse the arguments set for ``method`` that only another method uses.

    Parameters
    ----------
    method : {"em", "gibbs-arhmm", "keypoint-slds"}
        Another value is left to the caller's own check.
    given : collection of str
        The Python names of the arguments the caller set (defaults left out): EM's ``em``,
        ``num_iters``, ``num_restarts``, ``tol``, ``prior_ridge``, ``reseed_dead``; the Gibbs
        methods' ``gibbs_iters`` and the keypoint SLDS's ``ar_iters``; the preparation's
        ``num_pcs`` and ``variance`` (which the keypoint SLDS does not use). Other names are
        ignored.

    Raises
    ------
    ArgumentError
        For the first such argument (in the order above): one line naming it, what it sets and
        what to do instead; the arguments are its data (:mod:`ethogram.errors`), so the command
        line says them as its options.
    """
    given = set(given)
    if method == "em":
        if "gibbs_iters" in given:
            raise ArgumentError(
                "{gibbs_iters} sets the Gibbs sweeps of {method:gibbs-arhmm} or keypoint-slds; "
                "EM's iterations are {num_iters}",
                ("gibbs_iters", "method", "num_iters"),
            )
    elif method in METHODS:
        for name, (what, fix) in _EM_ONLY.items():
            if name in given:
                fix = fix or _gibbs_sweeps(method)
                template = f"{what}; with {{method:{method}}} {fix}"
                raise ArgumentError(template, _fields(template))
    if "ar_iters" in given and method in METHODS and method != "keypoint-slds":
        raise ArgumentError(
            f"{{ar_iters}} sets the AR-only sweeps of {{method:keypoint-slds}}, not of "
            f"{{method:{method}}}: drop it, or fit with {{method:keypoint-slds}}",
            ("ar_iters", "method"),
        )
    if method == "keypoint-slds":
        for name, what in _PCA_ARGUMENTS.items():
            if name in given:
                raise ArgumentError(
                    f"{what} of {{method:em}} and gibbs-arhmm; {{method:keypoint-slds}} chooses "
                    "its latent pose's dimension itself (the fewest components explaining 90% of "
                    f"the variance, at most 10): drop {{{name}}}",
                    (name, "method"),
                )


def sweeps_text(config: dict, fit: dict) -> str | None:
    """The sweeps of a Gibbs fit in words: ``"500 Gibbs sweeps"``, or for the keypoint SLDS its
    two stages, ``"50 AR-only + 500 full-model Gibbs sweeps"``; None for an EM fit.

    Parameters
    ----------
    config, fit : dict
        A results' ``config`` (``method``, ``ar_iters``) and ``fit`` (``sweeps``).

    Returns
    -------
    str or None
    """
    if config.get("method", "em") == "em" or "sweeps" not in fit:
        return None
    sweeps = int(fit["sweeps"])
    if config.get("method") != "keypoint-slds":
        return f"{sweeps} Gibbs sweeps"
    ar = int(config.get("ar_iters", 0) or 0)
    return f"{ar} AR-only + {sweeps - ar} full-model Gibbs sweeps"
