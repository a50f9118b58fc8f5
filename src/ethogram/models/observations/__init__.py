"""Observation models, one file each, registered by name (see :mod:`.base` for the contract)."""

from .base import ObservationModel, get_observation_class, register, registered_observations, sum_stats

__all__ = ["ObservationModel", "get_observation_class", "register", "registered_observations", "sum_stats"]
