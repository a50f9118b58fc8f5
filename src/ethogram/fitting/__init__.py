"""Fitting: the EM loop (serial or threaded over sequences), restarts and convergence."""

from .em import EMDecreaseError, SufficientStats, e_step, m_step, run_em

__all__ = ["EMDecreaseError", "SufficientStats", "e_step", "m_step", "run_em"]
