"""A model as plain data: its description, rebuilding it, and the E-step that runs anywhere.

A *description* is a small dict of strings, numbers and booleans (no arrays, no pickle):
the HMM class, the number of states, the observation model's registered name and its
constructor arguments, and the HMM's own arguments (Dirichlet concentrations, stickiness,
which parts are learned). With the parameters (``HMM.get_params()``, a dict of arrays) it is
enough to rebuild the model in another process or machine, or to save it in an HDF5 file.
:func:`sequence_stats` is the per-sequence E-step as a top-level function of (parameters,
description, data, mask): the EM loop sends it, by reference, to whatever executor runs it.
"""

from __future__ import annotations

import inspect
import json
import threading
from functools import lru_cache

import numpy as np

from .._deprecation import current_keywords

#: version of the description layout (bump when a key changes meaning)
DESCRIPTION_FORMAT = 1

_HMM_KEYS = ("initial_alpha", "transition_alpha", "kappa", "learn_initial", "learn_transitions")


def _plain(value, where: str):
    """A description value as a plain Python scalar (str, int, float, bool or None)."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(
        f"{where} is a {type(value).__name__}; a model description holds only strings, numbers, "
        "booleans and None (give the observation model a get_config() returning such values)"
    )


@lru_cache(maxsize=None)
def _init_arguments(cls) -> tuple:
    """Names of the constructor arguments along the class hierarchy (except ``num_states``)."""
    names = []
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        for name, p in inspect.signature(init).parameters.items():
            if (
                name in ("self", "num_states")
                or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
                or name in names
            ):
                continue
            names.append(name)
    return tuple(names)


def observation_config(observations) -> dict:
    """Constructor keyword arguments that rebuild an observation model (without parameters).

    Uses the model's ``get_config()`` when it has one; otherwise reads, for every argument of
    the ``__init__`` methods along the class hierarchy (except ``num_states``), the attribute
    of the same name.

    Parameters
    ----------
    observations : ObservationModel

    Returns
    -------
    dict of str to (str, int, float, bool or None)
    """
    getter = getattr(observations, "get_config", None)
    if callable(getter):
        raw = dict(getter())
    else:
        raw = {
            name: getattr(observations, name)
            for name in _init_arguments(type(observations))
            if hasattr(observations, name)
        }
    return {k: _plain(v, f"observation setting {k!r}") for k, v in raw.items()}


def describe_model(model) -> dict:
    """The plain description of an HMM (see the module docstring).

    Parameters
    ----------
    model : HMM

    Returns
    -------
    dict
        Keys ``format``, ``model_class``, ``num_states``, ``observations``,
        ``observation_kwargs``, ``initial_alpha``, ``transition_alpha``, ``kappa``,
        ``learn_initial``, ``learn_transitions``.
    """
    return {
        "format": DESCRIPTION_FORMAT,
        "model_class": type(model).__name__,
        "num_states": int(model.num_states),
        "observations": model.observations.name,
        "observation_kwargs": observation_config(model.observations),
        "initial_alpha": float(model.initial.alpha),
        "transition_alpha": float(model.transitions.alpha),
        "kappa": float(model.transitions.kappa),
        "learn_initial": bool(model.initial.learn),
        "learn_transitions": bool(model.transitions.learn),
    }


#: the HMM classes a description may name, by class name (filled by :func:`register_model_class`)
_MODEL_CLASSES: dict = {}


def register_model_class(cls: type) -> type:
    """Let descriptions name ``cls``; a class decorator (``HMM`` and the course's classes).

    The class needs a ``_rebuilt(num_states, observations, observation_kwargs, **hmm_kwargs)``
    classmethod (``HMM``'s), so this module never imports the classes it rebuilds.
    """
    _MODEL_CLASSES[cls.__name__] = cls
    return cls


def _model_classes() -> dict:
    return dict(_MODEL_CLASSES)


def model_from_description(description: dict, params: dict | None = None):
    """Rebuild an HMM from :func:`describe_model`'s output (and optionally its parameters).

    Parameters
    ----------
    description : dict
    params : dict of str to ndarray, optional
        As returned by ``HMM.get_params()``.

    Returns
    -------
    HMM
        An instance of the described class (``HMM`` or one of the course's classes).

    Raises
    ------
    ValueError
        If the description is not one (missing keys, unknown class or format).
    """
    if not isinstance(description, dict):
        raise TypeError(
            "description must be a dict as returned by HMM.describe(), got "
            f"{type(description).__name__}"
        )
    missing = [
        k
        for k in ("model_class", "num_states", "observations", "observation_kwargs", *_HMM_KEYS)
        if k not in description
    ]
    if missing:
        raise ValueError(f"description lacks {missing}; pass the dict returned by HMM.describe()")
    if description.get("format", DESCRIPTION_FORMAT) != DESCRIPTION_FORMAT:
        raise ValueError(
            f"description has format {description['format']!r}; this version of ethogram reads "
            f"format {DESCRIPTION_FORMAT}"
        )
    classes = _model_classes()
    cls = classes.get(description["model_class"])
    if cls is None:
        raise ValueError(
            f"description names model_class {description['model_class']!r}; known: "
            f"{sorted(classes)}"
        )
    model = cls._rebuilt(
        description["num_states"],
        description["observations"],
        _current_observation_kwargs(description),
        **{k: description[k] for k in _HMM_KEYS},
    )
    if params is not None:
        model.set_params(params)
    return model


def _current_observation_kwargs(description: dict) -> dict:
    """The description's observation settings, any renamed since the description was written
    (e.g. an AR model's ``noise``, now ``covariance_type``) under the present name."""
    from .observations import get_observation_class

    kwargs = dict(description["observation_kwargs"])
    if not isinstance(description["observations"], str):
        return kwargs
    try:
        cls = get_observation_class(description["observations"])
    except ValueError:
        return kwargs  # the constructor reports the unknown name
    return current_keywords(cls, kwargs)


#: per-thread cache of the last rebuilt model (see _cached_stats)
_LOCAL = threading.local()


def _unset_constants(model) -> bool:
    """Whether the observation model still lacks a data-derived constant (set on first use)."""
    obs = model.observations
    return any(getattr(obs, k, None) is None for k in getattr(type(obs), "extra_param_names", ()))


def _cached_stats(params: dict, description: dict, data, mask):
    """:func:`sequence_stats` with a per-thread cache of the rebuilt model.

    Consecutive jobs of one EM iteration share their ``params`` and ``description`` objects
    on threads (and their values on processes), so the model last built by this thread is
    reused when the description is equal and ``params`` has the same keys: its parameters
    are set again only when ``params`` is another object. A model whose data-derived
    constants are still unset (they would be set by this sequence) is never reused, so the
    result depends only on the arguments. The cache holds references, so ids are not recycled.
    """
    entry = getattr(_LOCAL, "entry", None)
    key = None
    if entry is not None:
        key = entry[1] if entry[0] is description else json.dumps(description, sort_keys=True)
    if entry is not None and key == entry[1] and entry[3].keys() == params.keys():
        model = entry[2]
        if entry[3] is not params:
            model.set_params(params)
    else:
        model = model_from_description(description, params)
        key = key if key is not None else json.dumps(description, sort_keys=True)
    _LOCAL.entry = None if _unset_constants(model) else (description, key, model, params)
    return model.expected_stats(data, mask)


def sequence_stats(params: dict, description: dict, data: np.ndarray, mask: np.ndarray | None):
    """The E-step of one sequence, as a top-level function of plain data.

    Parameters
    ----------
    params : dict of str to ndarray
        ``HMM.get_params()``.
    description : dict
        ``HMM.describe()``.
    data : ndarray, shape (T, ...)
        One validated sequence.
    mask : ndarray of bool, shape (T,), or None
        Frames the observation model scores (the effective mask).

    Returns
    -------
    SufficientStats
        The result depends only on the four arguments (the model is rebuilt from them; a
        worker reuses its last rebuilt model when the description is the same).
    """
    return _cached_stats(params, description, data, mask)
