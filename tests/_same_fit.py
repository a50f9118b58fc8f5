"""One check shared by the tests that compare two fits bit for bit (executors, checkpoints,
on-disk recordings, Dask, re-seeding): same parameters, objectives, marginal
log-likelihoods, restarts, iterations, convergence and re-seeds."""

from __future__ import annotations

import numpy as np


def assert_same_fit(m1, r1, m2, r2) -> None:
    """Assert that models ``m1``, ``m2`` and their ``FitResult`` s ``r1``, ``r2`` are identical."""
    p1, p2 = m1.get_params(), m2.get_params()
    assert p1.keys() == p2.keys()
    for k in p1:
        np.testing.assert_array_equal(p1[k], p2[k], err_msg=k)
    np.testing.assert_array_equal(r1.objectives, r2.objectives)
    np.testing.assert_array_equal(r1.marginal_lls, r2.marginal_lls)
    np.testing.assert_array_equal(r1.restart_objectives, r2.restart_objectives)
    assert (r1.num_iters, r1.converged, r1.chosen_restart) == (
        r2.num_iters,
        r2.converged,
        r2.chosen_restart,
    )
    assert r1.reseeds == r2.reseeds
