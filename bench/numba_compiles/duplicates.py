"""CPU spent compiling a kernel+signature again in another process (all but the costliest copy).

Usage: python duplicates.py DST.
"""

import collections
import glob
import json
import sys

from _logs import exclusive_cpu

d = collections.defaultdict(list)
for f in glob.glob(sys.argv[1] + "/_meas/*.json"):
    recs = json.load(open(f))["records"]
    excl = exclusive_cpu(recs)
    for r, e in zip(recs, excl):
        if r["miss"]:
            d[(r["f"], r["sig"])].append(e)
w = 0
for k, v in sorted(d.items(), key=lambda kv: -sum(kv[1])):
    if len(v) > 1:
        waste = sum(v) - max(v)
        w += waste
        print(f"{k[0][-45:]:45s} n={len(v)} {['%.2f' % x for x in v]}")
print("duplicate CPU (all but the costliest copy): %.1f s" % w)
