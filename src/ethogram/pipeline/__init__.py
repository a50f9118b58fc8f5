"""The job: recordings in, syllables out.

This room joins the application's parts into the two things a lab does with ethogram:
:func:`fit_recordings` prepares recordings (:class:`ethogram.prep.Preparation`), fits one
sticky autoregressive HMM jointly on all of them by EM (masked frames stay masked), labels
every frame by Viterbi and renumbers the syllables by frequency *in the model itself*
(:meth:`ethogram.HMM.permute`), so that syllable 0 is the most used in the model, the labels
and every later output; :func:`apply_model` labels new recordings with a saved model and its
preparation, unchanged, without refitting. Both return :class:`ethogram.results.Results`,
which :func:`ethogram.results.write_results` saves. The defaults (``DEFAULT_NUM_STATES``
syllables, kappa from :mod:`ethogram.stickiness`): ``docs/usage.md``, "Choosing K and kappa".
"""

from ..io.rates import frame_rate  # noqa: F401 (importable from here, as before)
from ..stickiness import TARGET_DURATION_S
from .apply import apply_model
from .fit import (
    DEFAULT_NUM_ITERS,
    DEFAULT_NUM_STATES,
    FIT_EM,
    SYLLABLE_PRIOR,
    fit_recordings,
)
from .kappa_search import kappa_checkpoints, resumable_checkpoints

__all__ = [
    "DEFAULT_NUM_ITERS",
    "FIT_EM",
    "FitQualityWarning",  # provided lazily by the module __getattr__
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
        from ..analysis.diagnostics import FitQualityWarning

        return FitQualityWarning
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
