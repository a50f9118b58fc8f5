"""Imported first by a benchmark, pins OpenMP, OpenBLAS, MKL and ethogram's own pool to one thread.

Each variable is set with ``os.environ.setdefault`` (a value given in the shell wins) before the
importing script loads numpy, so its times are of one core; unlike ``_common`` and ``_util`` it
sets nothing for XLA or JAX, so a child process such as bench_pipeline.py's keypoint-moseq run
inherits the environment it had before this module existed.
"""

from __future__ import annotations

import os

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "ETHOGRAM_NUM_THREADS"):
    os.environ.setdefault(_name, "1")
