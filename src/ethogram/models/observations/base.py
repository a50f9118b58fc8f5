"""The contract every observation model fulfils, and the registry that names them.

An observation model owns the per-state emission parameters of an HMM. EM talks to it only
through this interface: ``log_likelihoods`` (vectorised over frames and states),
``sufficient_stats`` for one sequence (a dict of arrays, summable across sequences, threads
and machines), ``m_step`` from summed statistics in closed form (MAP under the model's
conjugate prior), ``log_prior`` (so EM can monitor the MAP objective), ``sample``,
``initialize`` and a few bookkeeping methods. Adding a model means adding one file that
subclasses :class:`ObservationModel` and decorating it with :func:`register`. The conventions
shared by all models (data, masks, shapes, parameters validated where written):
docs/design-notes.md, "models/observations/base.py".
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

import numpy as np

from ..._deprecation import renamed_function

Stats = dict  # str -> ndarray; summable key by key

_REGISTRY: dict[str, type["ObservationModel"]] = {}


def register(name: str):
    """Class decorator adding an observation model to the registry under ``name``."""

    def deco(cls):
        cls.name = name
        _REGISTRY[name] = cls
        return cls

    return deco


#: built-in models, imported on first use so that importing ethogram stays fast
_BUILTIN = {
    "categorical": "categorical",
    "gaussian": "gaussian",
    "poisson": "poisson",
    "autoregressive": "autoregressive",
    "robust_autoregressive": "robust_autoregressive",
}


def get_observation_class(name: str) -> type["ObservationModel"]:
    """Look up a registered observation model by name (e.g. ``"gaussian"``)."""
    if name not in _REGISTRY and name in _BUILTIN:
        import importlib

        importlib.import_module(f"{__package__}.{_BUILTIN[name]}")
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(
            f"unknown observation model {name!r}; choose one of {registered_observations()}"
        ) from None


def registered_observations() -> list[str]:
    """Names of all registered (and built-in) observation models."""
    return sorted(set(_REGISTRY) | set(_BUILTIN))


def sum_observation_stats(stats_list: list[Stats]) -> Stats:
    """Sum an observation model's statistics dicts (one per sequence) key by key, in list order
    (deterministic); whole E-steps add with ``ethogram.fitting.sum_sufficient_stats``."""
    if not stats_list:
        raise ValueError("sum_observation_stats needs at least one statistics dict")
    out = {k: np.array(v, dtype=np.float64, copy=True) for k, v in stats_list[0].items()}
    for s in stats_list[1:]:
        for k in out:
            out[k] += s[k]
    return out


#: deprecated name of :func:`sum_observation_stats`
sum_stats = renamed_function(sum_observation_stats, "sum_stats")


class ObservationModel(ABC):
    """Per-state emission distributions of an HMM.

    Parameters
    ----------
    num_states : int
        Number of hidden states K.
    """

    name: ClassVar[str] = "base"
    #: dimensions of one sequence (2 for (T, D) arrays; 1 for a sequence of labels)
    sequence_ndim: ClassVar[int] = 2
    #: names of the parameter attributes, in the order used by get_params/set_params
    param_names: ClassVar[tuple[str, ...]] = ()
    #: data-derived constants (not learned, not counted as parameters; None until set)
    extra_param_names: ClassVar[tuple[str, ...]] = ()

    def __setattr__(self, name, value):
        if name in type(self).param_names or (
            name in type(self).extra_param_names and value is not None
        ):
            value = self.validate_param(name, value)
        object.__setattr__(self, name, value)

    def validate_param(self, name: str, value) -> np.ndarray:
        """Check a parameter where it is written and return it as a float64 array (a copy).

        The base check: numeric and finite. Models override this to add shapes and
        constraints (and call it for the common part).

        Parameters
        ----------
        name : str
            Attribute name (one of ``param_names`` or ``extra_param_names``).
        value : array_like

        Returns
        -------
        ndarray

        Raises
        ------
        ValueError
            Naming ``name``, when the value is not numeric or not finite.
        """
        try:
            arr = np.array(value, dtype=np.float64, copy=True)
        except (TypeError, ValueError):
            raise ValueError(
                f"{name} must be a numeric array, got {type(value).__name__}"
            ) from None
        if not np.all(np.isfinite(arr)):
            raise ValueError(
                f"{name} must be finite (no NaN or inf); got {int((~np.isfinite(arr)).sum())} "
                "non-finite entries"
            )
        return arr

    def __init__(self, num_states: int):
        if isinstance(num_states, bool) or int(num_states) != num_states or num_states < 1:
            raise ValueError(f"num_states must be a positive integer, got {num_states!r}")
        self.num_states = int(num_states)

    # -- data handling -----------------------------------------------------------------
    @abstractmethod
    def check_data(self, data) -> np.ndarray:
        """Validate one sequence and return it as an array (NaN allowed only in rows that
        the caller will mask). Raises ValueError naming ``data`` on bad shape or dtype."""

    @property
    def min_frames(self) -> int:
        """Fewest frames a sequence needs for the model to score one of them (1; an
        autoregressive model: ``num_lags + 1``). Shorter sequences are left out of a fit
        (:mod:`ethogram.models.short_sequences`)."""
        return 1

    def effective_mask(self, data: np.ndarray, mask: np.ndarray | None) -> np.ndarray | None:
        """Frames the model scores (True) given the caller's mask; default: the mask itself."""
        return mask

    # -- EM ----------------------------------------------------------------------------
    @abstractmethod
    def log_likelihoods(self, data: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        """``log p(x_t | z_t = k)`` for every frame and state.

        Parameters
        ----------
        data : ndarray, shape (T, ...)
        mask : ndarray of bool, shape (T,), optional

        Returns
        -------
        log_likes : ndarray, shape (T, K)
            Zero rows for frames not scored (see :meth:`effective_mask`).
        """

    @abstractmethod
    def sufficient_stats(
        self, data: np.ndarray, expected_states: np.ndarray, mask: np.ndarray | None = None
    ) -> Stats:
        """Expected sufficient statistics of one sequence (summable across sequences).

        Parameters
        ----------
        data : ndarray, shape (T, ...)
        expected_states : ndarray, shape (T, K)
        mask : ndarray of bool, shape (T,), optional

        Returns
        -------
        dict of str to ndarray
        """

    @abstractmethod
    def m_step(self, stats: Stats) -> None:
        """Set the parameters to the MAP estimate given summed statistics (closed form)."""

    @abstractmethod
    def log_prior(self) -> float:
        """Log density of the current parameters under the prior (up to a constant)."""

    # -- generation and initialisation ---------------------------------------------------
    @abstractmethod
    def sample(self, states: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Draw one observation sequence given a state path ``states`` (T,)."""

    @abstractmethod
    def initialize(
        self,
        sequences: list[np.ndarray],
        masks: list[np.ndarray | None],
        rng: np.random.Generator,
        method: str = "kmeans",
    ) -> None:
        """Set starting parameters from data (``method`` is ``"kmeans"`` or ``"random"``)."""

    # -- bookkeeping ---------------------------------------------------------------------
    @abstractmethod
    def num_parameters(self) -> int:
        """Number of free emission parameters (for AIC/BIC)."""

    def get_params(self) -> dict[str, np.ndarray]:
        """Parameters as a dict of arrays (copies), plus the data-derived constants once set."""
        out = {k: np.array(getattr(self, k), copy=True) for k in self.param_names}
        for k in self.extra_param_names:
            if getattr(self, k, None) is not None:
                out[k] = np.array(getattr(self, k), copy=True)
        return out

    def set_params(self, params: dict) -> None:
        """Set parameters from a dict as returned by :meth:`get_params`.

        Each value is checked by :meth:`validate_param` (ValueError naming the parameter).
        """
        for k in self.param_names + self.extra_param_names:
            if k in params:
                setattr(self, k, params[k])

    def step_coordinates(self, params: dict) -> dict:
        """The learned parameters of ``params`` in the coordinates EM's steps are measured in
        (:mod:`ethogram.fitting.squarem`); here the parameters themselves. Models whose
        parameters carry the data's units override this (an affine map to unit-free ones)."""
        return {k: np.asarray(params[k], dtype=np.float64) for k in self.param_names}

    def state_param_names(self) -> tuple[str, ...]:
        """Parameters with a leading per-state axis (K, ...); shared ones (e.g. a tied
        covariance) are left out by overriding this."""
        return self.param_names

    def permute(self, order) -> None:
        """Reorder states: new state ``i`` is old state ``order[i]``.

        Parameters
        ----------
        order : array_like of int, shape (K,)
            A permutation of ``range(K)``.
        """
        order = np.asarray(order)
        for k in self.state_param_names():
            setattr(self, k, np.array(getattr(self, k))[order])
