"""Summarise the compile logs of sitecustomize.py.

Per process, per kernel (exclusive CPU of cache misses, signatures, processes), and
kernel+signature pairs compiled more than once. Usage: python analyze.py DST [all] (DST holds
_meas/).
"""

import collections
import glob
import json
import os
import sys

from _logs import exclusive_cpu

d = sys.argv[1]
files = sorted(glob.glob(os.path.join(d, "_meas", "*.json")))
tot_cpu_top = 0
tot_miss_excl = 0
per_kernel = collections.defaultdict(
    lambda: dict(cpu=0.0, n=0, sigs=set(), procs=set(), hitcpu=0.0, hits=0)
)
per_proc = []
dup = collections.Counter()
for f in files:
    j = json.load(open(f))
    recs = j["records"]
    excl = exclusive_cpu(recs)
    top = sum(r["cpu"] for r in recs if r["depth"] == 0)
    misses = sum(e for r, e in zip(recs, excl) if r["miss"])
    hits = sum(e for r, e in zip(recs, excl) if r["hit"])
    name = j["worker"] + ":" + " ".join(os.path.basename(a) for a in j["argv"][:3])
    per_proc.append(
        (
            name,
            top,
            misses,
            hits,
            sum(1 for r in recs if r["miss"]),
            sum(1 for r in recs if r["hit"]),
            j["cpu"],
        )
    )
    tot_cpu_top += top
    for r, e in zip(recs, excl):
        if r["miss"] or r["hit"]:
            k = per_kernel[r["f"]]
            if r["miss"]:
                k["cpu"] += e
                k["n"] += 1
                k["sigs"].add(r["sig"])
                k["procs"].add(f)
                dup[(r["f"], r["sig"])] += 1
            else:
                k["hitcpu"] += e
                k["hits"] += 1
print(
    f"processes with numba compiles: {len(files)}; top-level compile CPU total {tot_cpu_top:.1f}s"
)
print(f"{'process':60s} {'top':>6s} {'miss':>6s} {'hit':>6s} nmiss nhit proc_cpu")
for p in sorted(per_proc, key=lambda p: -p[1]):
    print(f"{p[0][:60]:60s} {p[1]:6.1f} {p[2]:6.1f} {p[3]:6.1f} {p[4]:5d} {p[5]:4d} {p[6]:6.1f}")
print()
print(f"{'kernel':70s} {'missCPU':>7s} nmiss nsig nproc hitCPU nhit")
for f, k in sorted(per_kernel.items(), key=lambda kv: -kv[1]["cpu"]):
    print(
        f"{f[:70]:70s} {k['cpu']:7.2f} {k['n']:5d} {len(k['sigs']):4d} {len(k['procs']):5d} "
        f"{k['hitcpu']:6.2f} {k['hits']:4d}"
    )
print(
    "\nsame kernel+signature compiled >1 times:",
    sum(1 for v in dup.values() if v > 1),
    "pairs,",
    sum(v - 1 for v in dup.values()),
    "extra compiles",
)
if len(sys.argv) > 2:
    for f, k in sorted(per_kernel.items(), key=lambda kv: -kv[1]["cpu"]):
        print(f)
        [print("    ", s) for s in sorted(k["sigs"])]
