"""bench_em_acceleration.py's instruments: the E-step meter and the switch between before and after.

:class:`Meter` counts the E-steps of a fit and traces CPU time, E-steps and objective at every
recorded iteration by wrapping ``ethogram.fitting.em``'s loop while attached; :func:`version`
makes ``HMM.fit`` the "before" (plain EM, every restart started as restart 0) or leaves the
default; :func:`measure_fit`, :func:`measure_long` and :func:`to_accuracy` turn one fit into the
numbers of the report.
"""

from __future__ import annotations

import contextlib
import time
import warnings

#: "to accuracy": within this many nats of the best objective known
ACCURACY = 1e-3


class Meter:
    """Counts E-steps and traces (CPU time, E-steps, objective) of every recorded iteration."""

    def __init__(self):
        self.e_steps, self.trace, self.t0 = 0, [], time.process_time()

    @contextlib.contextmanager
    def attached(self):
        import ethogram.fitting.em as em

        evaluate, record = em._Loop.evaluate, em._record

        def counted(loop):
            self.e_steps += 1
            return evaluate(loop)

        def traced(loop, *args, **kwargs):
            out = record(loop, *args, **kwargs)
            self.trace.append(
                (time.process_time() - self.t0, self.e_steps, loop.run.objectives[-1])
            )
            return out

        em._Loop.evaluate, em._record = counted, traced
        try:
            yield self
        finally:
            em._Loop.evaluate, em._record = evaluate, record


@contextlib.contextmanager
def version(before: bool, **overrides):
    """``before``: plain EM and sticky restarts; ``overrides`` replace HMM.fit's arguments."""
    import ethogram.models.fit_result as fr
    from ethogram.models.hmm import HMM

    fit, starts = HMM.fit, dict(fr.RESTART_STARTS)

    def patched(self, data, *args, **kwargs):
        kwargs.update(overrides)
        if before:
            kwargs["accelerate"] = False
        return fit(self, data, *args, **kwargs)

    HMM.fit = patched
    if before:
        fr.RESTART_STARTS.update({k: v[:1] for k, v in starts.items()})
    try:
        yield
    finally:
        HMM.fit = fit
        fr.RESTART_STARTS.update(starts)


def measure_fit(run) -> dict:
    """``run()`` -> FitResult-like (objectives, num_iters), measured."""
    meter = Meter()
    with warnings.catch_warnings(), meter.attached():
        warnings.simplefilter("ignore")
        meter.t0 = time.process_time()
        res = run()
        cpu = time.process_time() - meter.t0
    return {
        "objective": float(res.objectives[-1]),
        "iters": int(res.num_iters),
        "e_steps": meter.e_steps,
        "cpu": cpu,
    }


def measure_long(run) -> list:
    """The trace of one long run (``run()`` fits with tol=0)."""
    meter = Meter()
    with warnings.catch_warnings(), meter.attached():
        warnings.simplefilter("ignore")
        meter.t0 = time.process_time()
        run()
    return meter.trace


def to_accuracy(trace: list, best: float) -> tuple:
    """(E-steps, CPU s) until within ACCURACY of ``best``, or None."""
    for cpu, e, obj in trace:
        if obj >= best - ACCURACY:
            return e, cpu
    return None
