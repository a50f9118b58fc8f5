"""EM on a Dask cluster: the executor seam's ``map`` for a ``dask.distributed`` client.

The EM loop hands its executor one job per sequence, ``(fn, params, description, data,
mask)`` (:func:`ethogram.fitting.executors.run_job`), and adds the results in input order.
:class:`DaskExecutor` runs these jobs on the workers of a ``distributed.Client`` while
moving as little as possible: every array of a job (the sequence and its mask) is sent to
one worker the first time it is seen and kept there (``client.scatter`` with
``broadcast=False``, the sequences spread over the workers by size) for as long as the
executor lives, so later iterations send only the parameters and the model description
(once per iteration, to every worker) and receive one :class:`SufficientStats` per
sequence; the statistics are gathered in input order and added on the client by the EM
loop, so a fit on any cluster gives the same bits as a local one. The arrays are
recognised by identity: do not modify them in place while the executor is in use
(:meth:`ethogram.HMM.fit` makes one executor per fit). Dask itself is imported only here,
when an executor is made. Dask moves functions between machines with (cloud)pickle; ethogram
writes no pickle files, but a cluster must trust its clients, as Dask's documentation says.
"""

from __future__ import annotations

from typing import Callable, Iterable

import numpy as np

__all__ = ["DaskExecutor", "connect"]


def _apply(fn: Callable, *parts):
    """Run ``fn(parts)`` on a worker (the job arrives as separate, already-resolved parts)."""
    return fn(tuple(parts))


def _apply_one(fn: Callable, item):
    return fn(item)


def _import_distributed():
    try:
        import distributed
    except ImportError as err:  # pragma: no cover - distributed is a dev dependency
        raise ImportError(
            "running EM on a Dask cluster needs dask.distributed: pip install 'ethogram[dask]' "
            "(or pip install distributed)"
        ) from err
    return distributed


def connect(scheduler):
    """A ``distributed.Client`` for a scheduler address, or the client given.

    Parameters
    ----------
    scheduler : str or distributed.Client
        ``"tcp://host:8786"`` (a running scheduler, e.g. ``dask scheduler`` or a
        dask-jobqueue cluster's ``cluster.scheduler_address``), or a client.

    Returns
    -------
    distributed.Client

    Raises
    ------
    TypeError
        If ``scheduler`` is neither.
    ImportError
        If ``distributed`` is not installed.
    """
    distributed = _import_distributed()
    if isinstance(scheduler, distributed.Client):
        return scheduler
    if not isinstance(scheduler, str) or not scheduler:
        raise TypeError(
            "scheduler must be an address such as 'tcp://host:8786' or a distributed.Client, "
            f"got {scheduler!r}"
        )
    return distributed.Client(scheduler)


class DaskExecutor:
    """Run EM jobs on a Dask cluster, keeping each sequence on one worker across iterations.

    Parameters
    ----------
    client : distributed.Client
        A connected client (``distributed.Client(address)``, ``Client(LocalCluster(...))``,
        or a dask-jobqueue cluster's client).

    Notes
    -----
    ``map(fn, jobs)`` keeps input order. A job that is a tuple has each of its NumPy arrays
    sent once and kept on a worker (reused by identity in later calls) and each other
    non-trivial part (dicts: the parameters and the description) sent once per call to every
    worker; callables, strings, numbers and None travel inside the task, which asks to run on
    the worker holding its largest array (another only if that one is gone). Any other job is
    sent as it is, each call. If a worker holding a sequence is lost, the sequences are sent
    again and the call retried once.

    Raises
    ------
    TypeError
        If ``client`` is not a ``distributed.Client``.
    """

    def __init__(self, client):
        distributed = _import_distributed()
        if not isinstance(client, distributed.Client):
            raise TypeError(
                "client must be a distributed.Client (e.g. "
                f"distributed.Client('tcp://host:8786')), got {type(client).__name__}"
            )
        self.client = client
        self._kept: dict[int, tuple] = {}  # id(array) -> (array, future)
        self._where: dict[str, tuple] = {}  # future key -> worker holding it
        self._sizes: dict[str, int] = {}  # future key -> bytes

    # ------------------------------------------------------------------ data kept on workers
    def _workers(self) -> list:
        workers = sorted(self.client.scheduler_info().get("workers", {}))
        if not workers:
            raise RuntimeError(
                "the Dask cluster has no workers; start some (or wait for them) and retry"
            )
        return workers

    def _keep(self, arrays: list) -> None:
        """Send arrays not yet on the cluster, each to one worker, balancing bytes per worker."""
        new = [a for a in {id(a): a for a in arrays}.values() if id(a) not in self._kept]
        if not new:
            return
        workers = self._workers()
        load = {w: 0 for w in workers}
        for key, (w,) in self._where.items():  # what is already kept counts towards the load
            if w in load:
                load[w] += self._sizes[key]
        groups: dict[str, list] = {w: [] for w in workers}
        for a in sorted(new, key=lambda a: -a.nbytes):  # largest first onto the least loaded
            w = min(workers, key=lambda w: (load[w], workers.index(w)))
            groups[w].append(a)
            load[w] += a.nbytes
        for w, group in groups.items():
            if not group:
                continue
            futures = self.client.scatter(group, workers=[w], broadcast=False, hash=False)
            for a, f in zip(group, futures):
                self._kept[id(a)] = (a, f)
                self._where[f.key] = (w,)
                self._sizes[f.key] = a.nbytes

    def _reset_if_lost(self) -> bool:
        """Forget kept arrays whose futures were lost (a worker died); True if any were."""
        lost = [k for k, (_, f) in self._kept.items() if f.status != "finished"]
        for k in lost:
            _, f = self._kept.pop(k)
            self._where.pop(f.key, None)
            self._sizes.pop(f.key, None)
        return bool(lost)

    # ------------------------------------------------------------------ the seam
    def map(self, fn: Callable, iterable: Iterable) -> list:
        """Apply ``fn`` to every job on the cluster; results in input order.

        Parameters
        ----------
        fn : callable
            A top-level function (sent by reference), e.g.
            :func:`~ethogram.fitting.executors.run_job`.
        iterable : iterable
            Jobs; tuples have their parts handled as in the class notes.

        Returns
        -------
        list
            ``[fn(job) for job in iterable]``, computed on the workers.
        """
        jobs = list(iterable)
        if not jobs:
            return []
        try:
            return self._run(fn, jobs)
        except Exception:
            if not self._reset_if_lost():
                raise
            return self._run(fn, jobs)

    def _run(self, fn: Callable, jobs: list) -> list:
        client = self.client
        tuples = all(isinstance(j, tuple) for j in jobs)
        if not tuples:
            items = client.scatter(jobs, hash=False)
            futures = [client.submit(_apply_one, fn, it, pure=False) for it in items]
            return client.gather(futures)
        self._keep([p for j in jobs for p in j if isinstance(p, np.ndarray)])
        shared, shared_objs = {}, []
        for j in jobs:
            for p in j:
                if isinstance(p, (dict, list)) and id(p) not in shared:
                    shared[id(p)] = None
                    shared_objs.append(p)
        if shared_objs:
            futs = client.scatter(shared_objs, broadcast=True, hash=False)
            shared = {id(p): f for p, f in zip(shared_objs, futs)}

        def remote(p):
            if isinstance(p, np.ndarray):
                return self._kept[id(p)][1]
            return shared.get(id(p), p) if isinstance(p, (dict, list)) else p

        def home(j):  # the worker holding the job's largest array: the task runs where its data is
            arrays = [p for p in j if isinstance(p, np.ndarray)]
            return (
                list(self._where[self._kept[id(max(arrays, key=lambda a: a.nbytes))][1].key])
                if arrays
                else None
            )

        futures = [
            client.submit(
                _apply,
                fn,
                *[remote(p) for p in j],
                workers=home(j),
                allow_other_workers=True,
                pure=False,
            )
            for j in jobs
        ]
        return client.gather(futures)

    def close(self) -> None:
        """Release the sequences kept on the workers (the client stays open)."""
        futures = [f for _, f in self._kept.values()]
        self._kept.clear()
        self._where.clear()
        self._sizes.clear()
        if futures:
            self.client.cancel(futures)

    def __enter__(self) -> "DaskExecutor":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"DaskExecutor({self.client!r}, {len(self._kept)} arrays kept)"
