"""Measurement only: with NUMBA_MEAS_DIR set, log every numba Dispatcher.compile call.

Per call of this process: kernel, signature, nesting depth, thread CPU, cache hit or miss; written
to NUMBA_MEAS_DIR/<xdist worker>-<pid>.json at exit. Put this folder first on PYTHONPATH
(bench/numba_compiles/run_cold_suite.sh does); subprocesses inherit it.
"""

import atexit
import importlib.abc
import importlib.util
import json
import os
import sys
import threading
import time

_LOG = os.environ.get("NUMBA_MEAS_DIR")
_records = []
_depth = threading.local()


def _patch():
    from numba.core import dispatcher as d

    orig = d.Dispatcher.compile

    def compile(self, sig):
        dep = getattr(_depth, "v", 0)
        _depth.v = dep + 1
        hits0 = sum(self._cache_hits.values())
        miss0 = sum(self._cache_misses.values())
        t0, c0 = time.perf_counter(), time.thread_time()
        try:
            return orig(self, sig)
        finally:
            t1, c1 = time.perf_counter(), time.thread_time()
            _depth.v = dep
            hit = sum(self._cache_hits.values()) - hits0
            miss = sum(self._cache_misses.values()) - miss0
            _records.append(
                dict(
                    f=self.py_func.__module__ + "." + self.py_func.__qualname__,
                    sig=str(sig),
                    depth=dep,
                    wall=t1 - t0,
                    cpu=c1 - c0,
                    hit=hit,
                    miss=miss,
                    t=t0,
                )
            )

    d.Dispatcher.compile = compile


class _Finder(importlib.abc.MetaPathFinder):
    done = False

    def find_spec(self, name, path, target=None):
        if name != "numba.core.dispatcher" or self.done:
            return None
        self.done = True
        spec = importlib.util.find_spec(name)
        loader = spec.loader
        orig_exec = loader.exec_module

        def exec_module(module):
            orig_exec(module)
            _patch()

        loader.exec_module = exec_module
        return spec


if _LOG:
    sys.meta_path.insert(0, _Finder())

    def _dump():
        if not _records:
            return
        name = os.environ.get("PYTEST_XDIST_WORKER", "main")
        with open(os.path.join(_LOG, f"{name}-{os.getpid()}.json"), "w") as fh:
            json.dump(
                dict(argv=sys.argv, worker=name, cpu=time.process_time(), records=_records), fh
            )

    atexit.register(_dump)
