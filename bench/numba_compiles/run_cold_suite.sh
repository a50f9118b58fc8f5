#!/bin/bash
# Measurement only (bench/numba_compiles): copies the tree without __pycache__ (a cold numba
# cache), runs the not-slow suite on two xdist workers with the compile log of sitecustomize.py
# on, then: python analyze.py DST; python duplicates.py DST
# usage: run_cold_suite.sh SRC_TREE NAME [pytest args]  (copy in ${OUT:-/tmp/numba-cold}/NAME)
set -u
HOOK=$(dirname "$(readlink -f "$0")")
src=$(readlink -f "$1"); name=$2; shift 2
dst=${OUT:-/tmp/numba-cold}/$name
rm -rf $dst; mkdir -p $dst
(cd $src && git ls-files -z | xargs -0 cp -a --parents -t $dst)
find $dst -name __pycache__ -prune -exec rm -rf {} +
mkdir -p $dst/_meas
cd $dst
uptime > _meas/uptime_before
NUMBA_MEAS_DIR=$dst/_meas PYTHONPATH=$HOOK:$dst/src /usr/bin/time -v -o _meas/time.txt \
  "${PY:-$src/.venv/bin/python}" -m pytest -q -p xdist -n 2 -m "not slow" "$@" tests > _meas/pytest.out 2>&1
echo rc=$? >> _meas/time.txt
uptime > _meas/uptime_after
